//! Desk configuration (admins): SLA policies and settings.

use gloo::net::http::Method;
use relay_protocol::admin::{Settings, SlaPolicyList, UpdateSettings};

use super::{get, request, ApiError, Auth};

/// Readable by all staff (the ticket view shows due times).
pub async fn sla_policies() -> Result<SlaPolicyList, ApiError> {
    get("/api/sla-policies").await
}

pub async fn save_sla_policies(body: &SlaPolicyList) -> Result<SlaPolicyList, ApiError> {
    request(Method::PUT, "/api/sla-policies", Some(body), Auth::Session).await
}

pub async fn settings() -> Result<Settings, ApiError> {
    get("/api/settings").await
}

pub async fn update_settings(body: &UpdateSettings) -> Result<Settings, ApiError> {
    request(Method::PATCH, "/api/settings", Some(body), Auth::Session).await
}
