//! Sign in with email and password, plus the TOTP code when the account asks for one.

use relay_protocol::auth::LoginRequest;
use relay_protocol::ErrorCode;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::app::Route;
use crate::components::form::{bind, field_message, TextField};
use crate::components::notice::ErrorNotice;
use crate::state::{sign_in, use_session};

#[function_component(LoginPage)]
pub fn login_page() -> Html {
    let session = use_session();
    let email = use_state(String::new);
    let password = use_state(String::new);
    let totp = use_state(String::new);
    let needs_totp = use_state(|| false);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);

    let onsubmit = {
        let (email, password, totp) = (email.clone(), password.clone(), totp.clone());
        let (needs_totp, busy, error, session) = (
            needs_totp.clone(),
            busy.clone(),
            error.clone(),
            session.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let body = LoginRequest {
                email: email.trim().to_owned(),
                password: (*password).clone(),
                totp_code: needs_totp.then(|| totp.trim().to_owned()),
            };
            let (busy, error, needs_totp, session) = (
                busy.clone(),
                error.clone(),
                needs_totp.clone(),
                session.clone(),
            );
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                match api::auth::login(&body).await {
                    // GuestOnly redirects to the tickets once the session is set.
                    Ok(resp) => sign_in(&session, &resp),
                    Err(err) => {
                        if err.code == ErrorCode::TotpRequired {
                            needs_totp.set(true);
                        }
                        error.set(Some(err));
                        busy.set(false);
                    }
                }
            });
        })
    };

    let field_error = |name: &str| field_message(&error, name);

    html! {
        <section class="page page-narrow">
            <div class="card auth-card">
                <h1>{ "Sign in" }</h1>
                <p class="muted">{ "Welcome back to Relay Desk." }</p>
                if let Some(err) = (*error).clone() {
                    <ErrorNotice error={err} />
                }
                <form {onsubmit} novalidate=true>
                    <TextField id="login-email" label="Email" input_type="email"
                        value={(*email).clone()} on_change={bind(&email)}
                        autocomplete="username" required=true error={field_error("email")} />
                    <TextField id="login-password" label="Password" input_type="password"
                        value={(*password).clone()} on_change={bind(&password)}
                        autocomplete="current-password" required=true
                        error={field_error("password")} />
                    if *needs_totp {
                        <TextField id="login-totp" label="Authentication code"
                            value={(*totp).clone()} on_change={bind(&totp)}
                            autocomplete="one-time-code" inputmode="numeric" maxlength="6"
                            hint="The six digits from your authenticator app."
                            error={field_error("totp_code")} />
                    }
                    <button type="submit" class="btn btn-primary btn-block" disabled={*busy}>
                        { if *busy { "Signing in…" } else { "Sign in" } }
                    </button>
                </form>
                <p class="auth-switch">
                    { "New here? " }
                    <Link<Route> to={Route::Register}>{ "Create an account" }</Link<Route>>
                </p>
            </div>
        </section>
    }
}
