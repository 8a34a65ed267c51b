//! Any path the route table does not know.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::app::Route;

#[function_component(NotFoundPage)]
pub fn not_found_page() -> Html {
    html! {
        <section class="page page-narrow center">
            <h1>{ "Page not found" }</h1>
            <p class="muted">{ "The link may be old, or the page has moved." }</p>
            <Link<Route> to={Route::Home} classes="btn btn-primary">{ "Go to my tickets" }</Link<Route>>
        </section>
    }
}
