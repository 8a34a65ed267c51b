//! Self sign-up: every new account is a customer (SPEC §1).

use relay_protocol::auth::RegisterRequest;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::app::Route;
use crate::components::form::{bind, field_message, TextField};
use crate::components::notice::ErrorNotice;
use crate::state::{sign_in, use_session};

#[function_component(RegisterPage)]
pub fn register_page() -> Html {
    let session = use_session();
    let name = use_state(String::new);
    let email = use_state(String::new);
    let password = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);

    let onsubmit = {
        let (name, email, password) = (name.clone(), email.clone(), password.clone());
        let (busy, error, session) = (busy.clone(), error.clone(), session.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let body = RegisterRequest {
                name: name.trim().to_owned(),
                email: email.trim().to_owned(),
                password: (*password).clone(),
            };
            let (busy, error, session) = (busy.clone(), error.clone(), session.clone());
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                match api::auth::register(&body).await {
                    Ok(resp) => sign_in(&session, &resp),
                    Err(err) => {
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
                <h1>{ "Create your account" }</h1>
                <p class="muted">{ "Open tickets and chat with our support team." }</p>
                if let Some(err) = (*error).clone() {
                    <ErrorNotice error={err} />
                }
                <form {onsubmit} novalidate=true>
                    <TextField id="register-name" label="Name" value={(*name).clone()}
                        on_change={bind(&name)} autocomplete="name" required=true
                        error={field_error("name")} />
                    <TextField id="register-email" label="Email" input_type="email"
                        value={(*email).clone()} on_change={bind(&email)}
                        autocomplete="email" required=true error={field_error("email")} />
                    <TextField id="register-password" label="Password" input_type="password"
                        value={(*password).clone()} on_change={bind(&password)}
                        autocomplete="new-password" required=true minlength="8"
                        hint="At least 8 characters." error={field_error("password")} />
                    <button type="submit" class="btn btn-primary btn-block" disabled={*busy}>
                        { if *busy { "Creating account…" } else { "Create account" } }
                    </button>
                </form>
                <p class="auth-switch">
                    { "Already have an account? " }
                    <Link<Route> to={Route::Login}>{ "Sign in" }</Link<Route>>
                </p>
            </div>
        </section>
    }
}
