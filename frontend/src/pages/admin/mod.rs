//! Admin area (admins only): one route per tab (`/admin/users`, `/admin/categories`,
//! `/admin/sla`, `/admin/settings`, `/admin/system`), so tabs survive reloads and links.

pub mod categories;
pub mod settings;
pub mod sla;
pub mod system;
pub mod users;

use std::fmt;
use std::str::FromStr;

use relay_protocol::ErrorCode;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::ApiError;
use crate::app::Route;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminTab {
    Users,
    Categories,
    Sla,
    Settings,
    System,
}

impl AdminTab {
    pub const ALL: [AdminTab; 5] = [
        AdminTab::Users,
        AdminTab::Categories,
        AdminTab::Sla,
        AdminTab::Settings,
        AdminTab::System,
    ];

    pub fn key(self) -> &'static str {
        match self {
            AdminTab::Users => "users",
            AdminTab::Categories => "categories",
            AdminTab::Sla => "sla",
            AdminTab::Settings => "settings",
            AdminTab::System => "system",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AdminTab::Users => "Users & roles",
            AdminTab::Categories => "Categories",
            AdminTab::Sla => "SLA policies",
            AdminTab::Settings => "Settings",
            AdminTab::System => "System",
        }
    }
}

impl fmt::Display for AdminTab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for AdminTab {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        AdminTab::ALL.into_iter().find(|t| t.key() == s).ok_or(())
    }
}

/// What an admin reads when the server refuses: the conflicts of this area in plain words,
/// anything else as the server put it.
pub fn explain(e: &ApiError) -> String {
    match e.code {
        ErrorCode::LastAdmin => "Relay Desk needs at least one active admin. Make someone else an \
                                 admin first."
            .into(),
        ErrorCode::EmailTaken => "Another account already uses this email address.".into(),
        ErrorCode::CategoryInUse => "This category still has tickets or subcategories. Move \
                                     them to another category first."
            .into(),
        ErrorCode::Forbidden => "Only admins can change this.".into(),
        _ => e.message.clone(),
    }
}

#[derive(Properties, PartialEq)]
pub struct AdminPageProps {
    pub tab: AdminTab,
}

#[function_component(AdminPage)]
pub fn admin_page(props: &AdminPageProps) -> Html {
    let panel = match props.tab {
        AdminTab::Users => html! { <users::UsersTab /> },
        AdminTab::Categories => html! { <categories::CategoriesTab /> },
        AdminTab::Sla => html! { <sla::SlaTab /> },
        AdminTab::Settings => html! { <settings::SettingsTab /> },
        AdminTab::System => html! { <system::SystemTab /> },
    };
    html! {
        <section class="page admin-page">
            <div class="page-head">
                <h1>{ "Admin" }</h1>
            </div>
            <nav class="tabs" aria-label="Admin sections">
                { for AdminTab::ALL.into_iter().map(|tab| html! {
                    <Link<Route> to={Route::AdminTab { tab }}
                        classes={classes!("tab", (tab == props.tab).then_some("active"))}>
                        { tab.label() }
                    </Link<Route>>
                }) }
            </nav>
            <div class="tab-panel" id={format!("admin-{}", props.tab.key())}>
                { panel }
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn tabs_round_trip_through_the_url() {
        for tab in AdminTab::ALL {
            assert_eq!(tab.to_string().parse::<AdminTab>(), Ok(tab));
            assert_eq!(
                Route::recognize(&format!("/admin/{tab}")),
                Some(Route::AdminTab { tab })
            );
        }
        assert_eq!("nope".parse::<AdminTab>(), Err(()));
        assert_eq!(Route::recognize("/admin/nope"), Some(Route::NotFound));
        assert_eq!(Route::recognize("/admin"), Some(Route::Admin));
    }

    #[test]
    fn conflicts_read_as_advice() {
        let err = |code| ApiError {
            status: Some(409),
            code,
            message: "server words".into(),
            fields: BTreeMap::new(),
        };
        assert!(explain(&err(ErrorCode::LastAdmin)).contains("at least one active admin"));
        assert!(explain(&err(ErrorCode::CategoryInUse)).contains("still has tickets"));
        assert_eq!(explain(&err(ErrorCode::Conflict)), "server words");
    }
}
