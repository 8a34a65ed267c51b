//! Admin-managed desk configuration: SLA policies and settings.

use crate::tickets::Priority;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaPolicy {
    pub priority: Priority,
    /// Minutes from creation to the first public staff reply.
    pub first_response_minutes: i32,
    /// Minutes from creation to resolution.
    pub resolution_minutes: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaPolicyList {
    pub items: Vec<SlaPolicy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AutoAssign {
    pub enabled: bool,
    /// An agent at this many open tickets gets no more automatically.
    pub max_open_per_agent: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settings {
    pub auto_assign: AutoAssign,
    pub require_totp_for_staff: bool,
}

/// Changes to settings; absent fields are left alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_assign: Option<AutoAssign>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_totp_for_staff: Option<bool>,
}

/// One admin action (`GET /api/audit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub actor: Option<crate::users::UserSummary>,
    /// e.g. `user.update`, `category.delete`, `sla.update`, `settings.update`.
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub details: serde_json::Value,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditList {
    pub items: Vec<AuditEntry>,
}
