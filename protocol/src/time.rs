//! Time tracking: per-ticket timers and manual entries.

use crate::ids::TicketId;
use crate::users::UserSummary;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeEntry {
    pub id: i64,
    pub ticket_id: TicketId,
    pub user: UserSummary,
    pub started_at: DateTime<Utc>,
    /// `null` while the timer runs.
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<i32>,
    pub note: String,
    pub manual: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeEntryList {
    pub items: Vec<TimeEntry>,
    /// Sum of finished entries on the ticket.
    pub total_seconds: i64,
    /// Per agent: finished seconds on this ticket.
    pub by_agent: Vec<AgentTotal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentTotal {
    pub user: UserSummary,
    pub seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ManualEntryRequest {
    /// 1..=1440 minutes.
    pub minutes: i32,
    #[serde(default)]
    pub note: String,
    /// When the work started; default: `minutes` ago.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
}

/// The caller's running timer, if any (`GET /api/me/timer`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunningTimer {
    pub running: Option<TimeEntry>,
}
