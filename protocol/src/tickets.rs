//! Tickets: the view, create/patch/assign bodies, list query and history.

use crate::ids::{CategoryId, TicketId, UserId};
use crate::users::UserSummary;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(
    /// Ticket lifecycle states (SPEC §2).
    TicketStatus {
        Open => "open",
        InProgress => "in_progress",
        Pending => "pending",
        Blocked => "blocked",
        Resolved => "resolved",
        Closed => "closed",
    }
);

str_enum!(
    /// Ticket priorities, lowest first.
    Priority {
        Low => "low",
        Medium => "medium",
        High => "high",
        Urgent => "urgent",
    }
);

str_enum!(
    /// Kinds of links between tickets.
    LinkKind {
        Blocks => "blocks",
        Relates => "relates",
        Duplicates => "duplicates",
    }
);

impl TicketStatus {
    /// Resolved and closed tickets are "done"; leaving them is a reopen.
    pub fn is_done(self) -> bool {
        matches!(self, TicketStatus::Resolved | TicketStatus::Closed)
    }
}

impl Priority {
    pub fn rank(self) -> i16 {
        match self {
            Priority::Low => 0,
            Priority::Medium => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryRef {
    pub id: CategoryId,
    pub name: String,
    pub parent_id: Option<CategoryId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketView {
    pub id: TicketId,
    /// `TICK-YYYY-NNNN`.
    pub number: String,
    pub title: String,
    pub description: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub category: Option<CategoryRef>,
    pub requester: UserSummary,
    pub assignee: Option<UserSummary>,
    pub tags: Vec<String>,
    /// Messages the viewer may see (internal notes count for staff only).
    pub message_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub first_response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTicketRequest {
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<CategoryId>,
    /// Staff only: the customer this ticket is for (defaults to the caller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// Changes to a ticket; absent fields are left alone, all or nothing is applied.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateTicketRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TicketStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// `null` clears the category.
    #[serde(
        default,
        deserialize_with = "crate::patch::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<CategoryId>))]
    pub category_id: Option<Option<CategoryId>>,
    /// Replaces the whole tag set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// `POST /api/tickets/{id}/assign`: `assignee_id` must be present; `null` unassigns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignRequest {
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<UserId>))]
    pub assignee_id: Option<Option<UserId>>,
}

/// Query of `GET /api/tickets`. Lists (`status`, `priority`) are comma-separated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct TicketListQuery {
    /// Full-text search over title, description and public messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// e.g. `open,in_progress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// e.g. `high,urgent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Includes the subcategories of a top-level category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unassigned: Option<bool>,
    /// Exact ticket number, `TICK-YYYY-NNNN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_to: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_to: Option<DateTime<Utc>>,
    /// `created_at`, `-created_at` (default), `updated_at`, `-updated_at`, `priority`, `-priority`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// Opaque cursor from the previous page's `next_cursor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// 1..=100, default 25.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketPage {
    pub items: Vec<TicketView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// A full-text search that could not be answered within the search budget stops
    /// early: `items` holds every match among the tickets searched so far (maybe fewer
    /// than `limit`, maybe none) and `next_cursor` continues the search after them.
    /// `false` on every other page.
    #[serde(default)]
    pub partial: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub id: i64,
    pub actor: Option<UserSummary>,
    /// `created`, `status`, `priority`, `category_id`, `assignee_id`, `title`, `description`, `tags`.
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryList {
    pub items: Vec<HistoryEntry>,
}

/// CSAT: the requester rates a resolved ticket once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RatingRequest {
    /// 1..=5.
    pub score: i16,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RatingView {
    pub score: i16,
    pub comment: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkRequest {
    /// The other ticket: numeric id or `TICK-YYYY-NNNN`.
    pub target: String,
    pub kind: LinkKind,
}

/// The other end of a link, as seen from this ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkView {
    pub id: i64,
    pub kind: LinkKind,
    /// `outgoing`: this ticket blocks/relates to/duplicates the other; `incoming`: the reverse.
    pub direction: String,
    pub ticket_id: TicketId,
    pub number: String,
    pub title: String,
    pub status: TicketStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkList {
    pub items: Vec<LinkView>,
}
