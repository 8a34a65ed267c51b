//! The bar on every page: brand, the signed-in user's destinations, who they are, sign out.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::app::Route;
use crate::components::badges::Avatar;
use crate::format::role_label;
use crate::state::{sign_out, use_session};

#[function_component(TopBar)]
pub fn top_bar() -> Html {
    let session = use_session();
    let route = use_route::<Route>();
    let nav_class = |target: &Route| {
        let active = match (target, route.as_ref()) {
            (Route::Tickets, Some(Route::Tickets | Route::Ticket { .. })) => true,
            (t, Some(r)) => t == r,
            _ => false,
        };
        classes!("nav-link", active.then_some("active"))
    };

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
    let list_label = if session.is_staff() {
        "Queue"
    } else {
        "My tickets"
    };

    html! {
        <header class="top-bar">
            { brand }
            <nav class="top-nav" aria-label="Main">
                <Link<Route> to={Route::Tickets} classes={nav_class(&Route::Tickets)}>
                    { list_label }
                </Link<Route>>
                <Link<Route> to={Route::NewTicket} classes={nav_class(&Route::NewTicket)}>
                    { "New ticket" }
                </Link<Route>>
            </nav>
            <div class="top-user">
                <Avatar name={user.name.clone()} staff={user.role.is_staff()} />
                <span class="top-user-text">
                    <span class="top-user-name">{ user.name.clone() }</span>
                    <span class="top-user-role">{ role_label(user.role) }</span>
                </span>
                <button type="button" class="btn btn-ghost btn-small" onclick={on_sign_out}>
                    { "Sign out" }
                </button>
            </div>
        </header>
    }
}
