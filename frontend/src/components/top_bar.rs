//! The bar on every page: brand, the signed-in user's destinations, who they are, sign out.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::app::Route;
use crate::components::access::MainNav;
use crate::components::alerts::EnableAlerts;
use crate::components::badges::Avatar;
use crate::components::connection::ConnectionIndicator;
use crate::components::notification_bell::NotificationBell;
use crate::format::role_label;
use crate::state::{sign_out, use_session};

#[function_component(TopBar)]
pub fn top_bar() -> Html {
    let session = use_session();

    let on_sign_out = {
        let session = session.clone();
        Callback::from(move |_: MouseEvent| sign_out(&session))
    };

    let brand = html! {
        <Link<Route> to={Route::Home} classes="brand">
            <span class="brand-mark" aria-hidden="true">{ "R" }</span>
            <span class="brand-name">{ "Relay Desk" }</span>
        </Link<Route>>
    };

    let Some(user) = session.user.clone() else {
        return html! {
            <header class="top-bar">
                { brand }
            </header>
        };
    };

    html! {
        <header class="top-bar">
            { brand }
            <MainNav />
            <div class="top-user">
                <ConnectionIndicator />
                <EnableAlerts />
                <NotificationBell />
                <Link<Route> to={Route::Account} classes="top-user-link">
                    <Avatar name={user.name.clone()} staff={user.role.is_staff()} />
                    <span class="top-user-text">
                        <span class="top-user-name">{ user.name.clone() }</span>
                        <span class="top-user-role">{ role_label(user.role) }</span>
                    </span>
                </Link<Route>>
                <button type="button" class="btn btn-ghost btn-small" onclick={on_sign_out}>
                    { "Sign out" }
                </button>
            </div>
        </header>
    }
}
