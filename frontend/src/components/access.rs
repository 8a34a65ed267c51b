//! Who may open which area of the app (SPEC §1), in one place: the route gates and the top
//! bar's links both ask `Area::admits`, so a link is never shown to a page that refuses.

use relay_protocol::users::Role;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::app::Route;
use crate::state::use_session;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// Technicians, supervisors, admins: queue and board.
    Staff,
    /// Supervisors and admins: the live floor.
    Supervision,
    /// Admins: users, categories, SLA, settings, system.
    Admin,
}

impl Area {
    pub fn admits(self, role: Role) -> bool {
        match self {
            Area::Staff => role.is_staff(),
            Area::Supervision => matches!(role, Role::Supervisor | Role::Admin),
            Area::Admin => role == Role::Admin,
        }
    }

    fn who(self) -> &'static str {
        match self {
            Area::Staff => "support staff",
            Area::Supervision => "supervisors and admins",
            Area::Admin => "admins",
        }
    }
}

/// The main navigation of a role, in order.
pub fn nav_items(role: Role) -> Vec<(Route, &'static str)> {
    if !Area::Staff.admits(role) {
        return vec![
            (Route::Tickets, "My tickets"),
            (Route::NewTicket, "New ticket"),
        ];
    }
    let mut items = vec![(Route::Tickets, "Queue"), (Route::Board, "Board")];
    if Area::Supervision.admits(role) {
        items.push((Route::Floor, "Floor"));
    }
    if Area::Admin.admits(role) {
        items.push((Route::Admin, "Admin"));
    }
    items
}

/// Whether the link to `target` is the current section (a ticket belongs to the list, an
/// admin tab to Admin).
pub fn is_current(target: &Route, current: Option<&Route>) -> bool {
    match (target, current) {
        (Route::Tickets, Some(Route::Tickets | Route::Ticket { .. })) => true,
        (Route::Admin, Some(Route::Admin | Route::AdminTab { .. })) => true,
        (t, Some(r)) => t == r,
        _ => false,
    }
}

/// The top bar's links for the signed-in user.
#[function_component(MainNav)]
pub fn main_nav() -> Html {
    let session = use_session();
    let route = use_route::<Route>();
    let Some(user) = session.user.as_ref() else {
        return html! {};
    };
    html! {
        <nav class="top-nav" aria-label="Main">
            { for nav_items(user.role).into_iter().map(|(target, label)| {
                let current = is_current(&target, route.as_ref());
                html! {
                    <Link<Route> to={target} classes={classes!("nav-link", current.then_some("active"))}>
                        { label }
                    </Link<Route>>
                }
            }) }
        </nav>
    }
}

#[derive(Properties, PartialEq)]
pub struct RequireAreaProps {
    pub area: Area,
    pub children: Html,
}

/// Signed out: to the sign-in page. Signed in without the role: a plain "no access" page
/// (the server refuses the data anyway; this only saves a screen of errors).
#[function_component(RequireArea)]
pub fn require_area(props: &RequireAreaProps) -> Html {
    let session = use_session();
    match session.user.as_ref() {
        None => html! { <Redirect<Route> to={Route::Login} /> },
        Some(u) if props.area.admits(u.role) => props.children.clone(),
        Some(_) => html! {
            <section class="page page-narrow">
                <div class="card center no-access">
                    <h1>{ "No access" }</h1>
                    <p class="muted">{ format!("This page is for {}.", props.area.who()) }</p>
                    <Link<Route> to={Route::Tickets} classes="btn btn-primary">
                        { "Back to tickets" }
                    </Link<Route>>
                </div>
            </section>
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(role: Role) -> Vec<&'static str> {
        nav_items(role).into_iter().map(|(_, l)| l).collect()
    }

    #[test]
    fn each_role_sees_its_links() {
        assert_eq!(labels(Role::Customer), ["My tickets", "New ticket"]);
        assert_eq!(labels(Role::Technician), ["Queue", "Board"]);
        assert_eq!(labels(Role::Supervisor), ["Queue", "Board", "Floor"]);
        assert_eq!(labels(Role::Admin), ["Queue", "Board", "Floor", "Admin"]);
    }

    #[test]
    fn links_and_gates_agree() {
        for role in Role::ALL {
            for (route, _) in nav_items(role) {
                let area = match route {
                    Route::Board => Some(Area::Staff),
                    Route::Floor => Some(Area::Supervision),
                    Route::Admin => Some(Area::Admin),
                    _ => None,
                };
                assert!(area.is_none_or(|a| a.admits(role)), "{role:?} {route:?}");
            }
        }
        assert!(!Area::Staff.admits(Role::Customer));
        assert!(!Area::Supervision.admits(Role::Technician));
        assert!(!Area::Admin.admits(Role::Supervisor));
    }

    #[test]
    fn sections_stay_current_on_their_sub_pages() {
        use relay_protocol::TicketId;
        let ticket = Route::Ticket { id: TicketId(3) };
        assert!(is_current(&Route::Tickets, Some(&ticket)));
        assert!(!is_current(&Route::Board, Some(&ticket)));
        assert!(is_current(&Route::Board, Some(&Route::Board)));
        let tab = Route::AdminTab {
            tab: crate::pages::admin::AdminTab::Categories,
        };
        assert!(is_current(&Route::Admin, Some(&tab)));
        assert!(!is_current(&Route::Floor, None));
    }
}
