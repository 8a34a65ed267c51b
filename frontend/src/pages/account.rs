//! The signed-in user's own account: two-factor sign-in and password. When the desk
//! requires a second factor of staff, this is the only page such a user can open until
//! they have set one up.

use relay_protocol::auth::{ChangePasswordRequest, TotpSetup};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::form::{bind, field_message, TextField};
use crate::components::notice::ErrorNotice;
use crate::state::{sign_in, use_session, user_updated, SessionHandle};

/// A base32 secret in groups of four, the way authenticator apps ask for it by hand.
pub fn group_secret(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Only the digits of what was typed or pasted ("123 456" works).
pub fn clean_code(typed: &str) -> String {
    typed.chars().filter(char::is_ascii_digit).collect()
}

/// Re-reads the user after a change to their second factor.
fn reload_user(session: SessionHandle) {
    spawn_local(async move {
        if let Ok(user) = api::auth::me().await {
            user_updated(&session, user);
        }
    });
}

#[function_component(AccountPage)]
pub fn account_page() -> Html {
    let session = use_session();
    let Some(user) = session.user.clone() else {
        return Html::default();
    };
    html! {
        <section class="page page-medium">
            <div class="page-head">
                <h1>{ "Account" }</h1>
                <p class="muted">{ format!("{} · {}", user.name, user.email) }</p>
            </div>
            if user.totp_setup_required {
                <div class="notice notice-warning" role="alert" id="totp-required">
                    { "This desk requires two-factor sign-in for support staff. Set it up below to continue to your queue." }
                </div>
            }
            <TwoFactor enabled={user.totp_enabled} />
            <PasswordChange />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct TwoFactorProps {
    enabled: bool,
}

#[function_component(TwoFactor)]
fn two_factor(props: &TwoFactorProps) -> Html {
    let session = use_session();
    let setup = use_state(|| None::<TotpSetup>);
    let code = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let done = use_state(|| None::<&'static str>);

    let start = {
        let (setup, busy, error) = (setup.clone(), busy.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            let (setup, busy, error) = (setup.clone(), busy.clone(), error.clone());
            busy.set(true);
            spawn_local(async move {
                match api::auth::totp_setup().await {
                    Ok(s) => {
                        setup.set(Some(s));
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };

    let enabled = props.enabled;
    let onsubmit = {
        let (code, busy, error, done, setup) = (
            code.clone(),
            busy.clone(),
            error.clone(),
            done.clone(),
            setup.clone(),
        );
        let session = session.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let typed = clean_code(&code);
            let (code, busy, error, done, setup) = (
                code.clone(),
                busy.clone(),
                error.clone(),
                done.clone(),
                setup.clone(),
            );
            let session = session.clone();
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                let result = if enabled {
                    api::auth::totp_disable(&typed).await
                } else {
                    api::auth::totp_enable(&typed).await
                };
                match result {
                    Ok(()) => {
                        done.set(Some(if enabled {
                            "Two-factor sign-in is off."
                        } else {
                            "Two-factor sign-in is on. You will be asked for a code when you sign in."
                        }));
                        setup.set(None);
                        code.set(String::new());
                        reload_user(session);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let on_code = {
        let code = code.clone();
        Callback::from(move |v: String| code.set(v))
    };
    let code_field = html! {
        <TextField id="totp-code" label="Code from your app" value={(*code).clone()}
            on_change={on_code} autocomplete="one-time-code" inputmode="numeric"
            maxlength="7" required=true
            error={(*error).as_ref().and_then(|e| e.field("code")).map(str::to_owned)} />
    };

    html! {
        <section class="card stack" id="two-factor">
            <h2 class="card-title">{ "Two-factor sign-in" }</h2>
            if let Some(msg) = *done {
                <p class="notice notice-success" role="status">{ msg }</p>
            }
            if let Some(err) = (*error).clone() {
                <ErrorNotice error={err} />
            }
            if enabled {
                <p>{ "On: signing in asks for a code from your authenticator app." }</p>
                <form class="stack" onsubmit={onsubmit}>
                    { code_field }
                    <button type="submit" class="btn" disabled={*busy}>
                        { "Turn off" }
                    </button>
                </form>
            } else if let Some(s) = (*setup).clone() {
                <p>
                    { "Add this key to an authenticator app (or " }
                    <a href={s.otpauth_url.clone()}>{ "open it in one" }</a>
                    { "), then enter the code it shows." }
                </p>
                <p class="secret" id="totp-secret"><code>{ group_secret(&s.secret) }</code></p>
                <form class="stack" onsubmit={onsubmit}>
                    { code_field }
                    <button type="submit" class="btn btn-primary" disabled={*busy}>
                        { "Turn on" }
                    </button>
                </form>
            } else {
                <p>{ "Off. With it on, a stolen password alone cannot open your account." }</p>
                <div>
                    <button type="button" id="totp-start" class="btn btn-primary"
                        onclick={start} disabled={*busy}>
                        { "Set up two-factor sign-in" }
                    </button>
                </div>
            }
        </section>
    }
}

#[function_component(PasswordChange)]
fn password_change() -> Html {
    let session = use_session();
    let current = use_state(String::new);
    let new = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let done = use_state(|| false);

    let onsubmit = {
        let (current, new, busy, error, done) = (
            current.clone(),
            new.clone(),
            busy.clone(),
            error.clone(),
            done.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let body = ChangePasswordRequest {
                current_password: (*current).clone(),
                new_password: (*new).clone(),
            };
            let (current, new, busy, error, done, session) = (
                current.clone(),
                new.clone(),
                busy.clone(),
                error.clone(),
                done.clone(),
                session.clone(),
            );
            busy.set(true);
            error.set(None);
            done.set(false);
            spawn_local(async move {
                match api::auth::change_password(&body).await {
                    // Every other session ended; this tab carries on with fresh tokens.
                    Ok(resp) => {
                        sign_in(&session, &resp);
                        current.set(String::new());
                        new.set(String::new());
                        done.set(true);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let field_error = |name: &str| field_message(&error, name);
    html! {
        <form class="card stack" id="password-change" {onsubmit} novalidate=true>
            <h2 class="card-title">{ "Password" }</h2>
            if *done {
                <p class="notice notice-success" role="status">
                    { "Password changed. Every other session has been signed out." }
                </p>
            }
            if let Some(err) = (*error).clone() {
                <ErrorNotice error={err} />
            }
            <TextField id="password-current" label="Current password" input_type="password"
                value={(*current).clone()} on_change={bind(&current)}
                autocomplete="current-password" required=true
                error={field_error("current_password")} />
            <TextField id="password-new" label="New password" input_type="password"
                value={(*new).clone()} on_change={bind(&new)} autocomplete="new-password"
                required=true minlength="8" hint="At least 8 characters."
                error={field_error("new_password")} />
            <div>
                <button type="submit" class="btn btn-primary" disabled={*busy}>
                    { "Change password" }
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_grouped_for_typing_by_hand() {
        assert_eq!(group_secret("JBSWY3DPEHPK3PXP"), "JBSW Y3DP EHPK 3PXP");
        assert_eq!(group_secret("ABCDEF"), "ABCD EF");
        assert_eq!(group_secret(""), "");
    }

    #[test]
    fn codes_keep_only_digits() {
        assert_eq!(clean_code(" 123 456 "), "123456");
        assert_eq!(clean_code("12-34-56"), "123456");
        assert_eq!(clean_code("abc"), "");
    }
}
