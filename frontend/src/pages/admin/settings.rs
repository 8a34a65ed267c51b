//! Desk settings: automatic assignment (on/off and a per-agent cap) and whether staff must
//! use two-factor sign-in.

use relay_protocol::admin::{AutoAssign, Settings, UpdateSettings};
use yew::platform::spawn_local;
use yew::prelude::*;

use super::explain;
use crate::api::{self, ApiError};
use crate::components::flash::{flash, use_flashes, FlashStack, Tone};
use crate::components::notice::{ErrorNotice, Loading};

pub const MAX_CAP: i32 = 1000;

/// The cap as typed, if it is one the server accepts.
pub fn parse_cap(text: &str) -> Option<i32> {
    text.trim()
        .parse::<i32>()
        .ok()
        .filter(|n| (1..=MAX_CAP).contains(n))
}

#[function_component(SettingsTab)]
pub fn settings_tab() -> Html {
    let saved = use_state(|| None::<Settings>);
    let enabled = use_state(|| false);
    let cap = use_state(String::new);
    let totp = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let reload = use_state(|| 0u32);
    let flashes = use_flashes();

    let load_into = {
        let (saved, enabled, cap, totp) =
            (saved.clone(), enabled.clone(), cap.clone(), totp.clone());
        move |s: Settings| {
            enabled.set(s.auto_assign.enabled);
            cap.set(s.auto_assign.max_open_per_agent.to_string());
            totp.set(s.require_totp_for_staff);
            saved.set(Some(s));
        }
    };
    {
        let (error, load_into) = (error.clone(), load_into.clone());
        use_effect_with(*reload, move |_| {
            spawn_local(async move {
                match api::desk::settings().await {
                    Ok(s) => {
                        error.set(None);
                        load_into(s);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }

    let Some(current) = (*saved).clone() else {
        return match (*error).clone() {
            Some(e) => {
                let reload = reload.clone();
                html! { <ErrorNotice error={e} on_retry={Callback::from(move |_| reload.set(*reload + 1))} /> }
            }
            None => html! { <Loading label="Loading settings…" /> },
        };
    };
    let cap_value = parse_cap(&cap);
    let wanted = cap_value.map(|max_open_per_agent| Settings {
        auto_assign: AutoAssign {
            enabled: *enabled,
            max_open_per_agent,
        },
        require_totp_for_staff: *totp,
    });
    let dirty = wanted.as_ref() != Some(&current);

    let onsubmit = {
        let (busy, flashes, load_into) = (busy.clone(), flashes.dispatcher(), load_into.clone());
        let wanted = wanted.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(w) = wanted.clone() else {
                return;
            };
            let body = UpdateSettings {
                auto_assign: Some(w.auto_assign),
                require_totp_for_staff: Some(w.require_totp_for_staff),
            };
            busy.set(true);
            let (busy, flashes, load_into) = (busy.clone(), flashes.clone(), load_into.clone());
            spawn_local(async move {
                match api::desk::update_settings(&body).await {
                    Ok(s) => {
                        load_into(s);
                        flash(&flashes, Tone::Success, "Settings saved.");
                    }
                    Err(e) => flash(&flashes, Tone::Error, format!("Not saved: {}", explain(&e))),
                }
                busy.set(false);
            });
        })
    };
    let toggle = |h: &UseStateHandle<bool>| {
        let h = h.clone();
        Callback::from(move |_: Event| h.set(!*h))
    };
    let cap_error = cap_value
        .is_none()
        .then(|| format!("A number from 1 to {MAX_CAP}"));

    html! {
        <form class="stack settings-form" {onsubmit}>
            <fieldset class="card setting">
                <legend class="card-title">{ "Automatic assignment" }</legend>
                <label class="switch">
                    <input id="setting-auto-assign" type="checkbox" role="switch" checked={*enabled}
                        onchange={toggle(&enabled)} />
                    <span class="switch-track" aria-hidden="true"></span>
                    <span>{ "Assign new tickets automatically" }</span>
                </label>
                <p class="muted setting-help">
                    { "New tickets go to a technician on their own, never to one who already \
                       holds as many open tickets as the cap below." }
                </p>
                <div class={classes!("field", "field-narrow", cap_error.is_some().then_some("field-invalid"))}>
                    <label for="setting-cap">{ "Most open tickets per technician" }</label>
                    <input id="setting-cap" type="number" min="1" max={MAX_CAP.to_string()} inputmode="numeric"
                        value={(*cap).clone()} disabled={!*enabled}
                        aria-invalid={cap_error.is_some().then_some("true")}
                        aria-describedby={cap_error.is_some().then_some("setting-cap-error")}
                        oninput={{ let cap = cap.clone(); move |e: InputEvent| if let Some(i) = e.target_dyn_into::<web_sys::HtmlInputElement>() { cap.set(i.value()) } }} />
                    if let Some(msg) = cap_error {
                        <p class="field-error" id="setting-cap-error">{ msg }</p>
                    }
                </div>
            </fieldset>
            <fieldset class="card setting">
                <legend class="card-title">{ "Sign-in security" }</legend>
                <label class="switch">
                    <input id="setting-totp" type="checkbox" role="switch" checked={*totp}
                        onchange={toggle(&totp)} />
                    <span class="switch-track" aria-hidden="true"></span>
                    <span>{ "Require two-factor sign-in for staff" }</span>
                </label>
                <p class="muted setting-help">
                    { "Technicians, supervisors and admins must enter a code from their authenticator \
                       app. Customers are not affected." }
                </p>
            </fieldset>
            <div class="form-actions">
                <button type="submit" class="btn btn-primary" disabled={!dirty || wanted.is_none() || *busy}>
                    { if *busy { "Saving…" } else { "Save settings" } }
                </button>
            </div>
            <FlashStack flashes={flashes.clone()} />
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_the_server_accepts() {
        assert_eq!(parse_cap(" 12 "), Some(12));
        assert_eq!(parse_cap("0"), None);
        assert_eq!(parse_cap("1001"), None);
        assert_eq!(parse_cap("ten"), None);
    }
}
