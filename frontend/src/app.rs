//! The route table and the app shell: session provider, router, top bar, one `switch`.
//! Pages that need a signed-in user sit behind `RequireAuth`.

use relay_protocol::TicketId;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::access::{Area, RequireArea};
use crate::components::alerts::Alerts;
use crate::components::live_feeds::LiveFeeds;
use crate::components::top_bar::TopBar;
use crate::pages::account::AccountPage;
use crate::pages::admin::{AdminPage, AdminTab};
use crate::pages::board::BoardPage;
use crate::pages::floor::FloorPage;
use crate::pages::login::LoginPage;
use crate::pages::new_ticket::NewTicketPage;
use crate::pages::not_found::NotFoundPage;
use crate::pages::register::RegisterPage;
use crate::pages::ticket::TicketPage;
use crate::pages::ticket_list::TicketListPage;
use crate::state::{use_session, SessionProvider};
use crate::ws::WsProvider;

#[derive(Debug, Clone, PartialEq, Routable)]
pub enum Route {
    #[at("/")]
    Home,
    #[at("/login")]
    Login,
    #[at("/register")]
    Register,
    #[at("/tickets")]
    Tickets,
    #[at("/tickets/new")]
    NewTicket,
    #[at("/tickets/:id")]
    Ticket { id: TicketId },
    #[at("/board")]
    Board,
    #[at("/floor")]
    Floor,
    #[at("/admin")]
    Admin,
    #[at("/admin/:tab")]
    AdminTab { tab: AdminTab },
    #[at("/account")]
    Account,
    #[not_found]
    #[at("/404")]
    NotFound,
}

pub fn switch(route: Route) -> Html {
    match route {
        Route::Home => html! { <Home /> },
        Route::Login => html! { <GuestOnly><LoginPage /></GuestOnly> },
        Route::Register => html! { <GuestOnly><RegisterPage /></GuestOnly> },
        Route::Tickets => html! { <RequireAuth><TicketListPage /></RequireAuth> },
        Route::NewTicket => html! { <RequireAuth><NewTicketPage /></RequireAuth> },
        Route::Ticket { id } => html! { <RequireAuth><TicketPage {id} /></RequireAuth> },
        Route::Board => html! { <RequireArea area={Area::Staff}><BoardPage /></RequireArea> },
        Route::Floor => html! { <RequireArea area={Area::Supervision}><FloorPage /></RequireArea> },
        Route::Admin => {
            html! { <RequireArea area={Area::Admin}><AdminPage tab={AdminTab::Users} /></RequireArea> }
        }
        Route::AdminTab { tab } => {
            html! { <RequireArea area={Area::Admin}><AdminPage {tab} /></RequireArea> }
        }
        Route::Account => html! { <RequireAuth><AccountPage /></RequireAuth> },
        Route::NotFound => html! { <NotFoundPage /> },
    }
}

#[function_component(App)]
pub fn app() -> Html {
    html! {
        <SessionProvider>
            <WsProvider>
                <BrowserRouter>
                    <a class="skip-link" href="#main">{ "Skip to content" }</a>
                    <TopBar />
                    <main id="main" class="main" tabindex="-1">
                        <TotpGate>
                            <Switch<Route> render={switch} />
                        </TotpGate>
                    </main>
                    <Alerts />
                    <LiveFeeds />
                </BrowserRouter>
            </WsProvider>
        </SessionProvider>
    }
}

#[function_component(Home)]
fn home() -> Html {
    if use_session().is_signed_in() {
        html! { <Redirect<Route> to={Route::Tickets} /> }
    } else {
        html! { <Redirect<Route> to={Route::Login} /> }
    }
}

#[derive(Properties, PartialEq)]
struct GateProps {
    children: Html,
}

/// Signed-out visitors go to the sign-in page (also when the session ends while here).
#[function_component(RequireAuth)]
fn require_auth(props: &GateProps) -> Html {
    if use_session().is_signed_in() {
        props.children.clone()
    } else {
        html! { <Redirect<Route> to={Route::Login} /> }
    }
}

/// Staff the desk requires a second factor of, who have none yet, see only their
/// account page until they set one up (the server refuses everything else anyway).
#[function_component(TotpGate)]
fn totp_gate(props: &GateProps) -> Html {
    let session = use_session();
    let route = use_route::<Route>();
    if session.needs_totp_setup() && route != Some(Route::Account) {
        html! { <Redirect<Route> to={Route::Account} /> }
    } else {
        props.children.clone()
    }
}

/// Sign-in and sign-up make no sense when signed in.
#[function_component(GuestOnly)]
fn guest_only(props: &GateProps) -> Html {
    if use_session().is_signed_in() {
        html! { <Redirect<Route> to={Route::Tickets} /> }
    } else {
        props.children.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        for (path, route) in [
            ("/", Route::Home),
            ("/login", Route::Login),
            ("/register", Route::Register),
            ("/tickets", Route::Tickets),
            ("/tickets/new", Route::NewTicket),
            ("/tickets/42", Route::Ticket { id: TicketId(42) }),
            ("/account", Route::Account),
        ] {
            assert_eq!(Route::recognize(path), Some(route.clone()), "{path}");
            assert_eq!(route.to_path(), path);
        }
    }

    #[test]
    fn unknown_paths_are_not_found() {
        assert_eq!(Route::recognize("/nope"), Some(Route::NotFound));
        assert_eq!(Route::recognize("/tickets/abc"), Some(Route::NotFound));
    }
}
