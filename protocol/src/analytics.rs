//! Reporting: SQL aggregates over a time range (SPEC §3 `/api/analytics/*`).

use crate::ids::CategoryId;
use crate::users::UserSummary;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `?from=&to=` (RFC 3339); default: the last 30 days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RangeQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
}

/// Median and 90th percentile of a duration, in seconds (`null` without data).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Percentiles {
    pub p50_s: Option<f64>,
    pub p90_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Tickets created in the range.
    pub created: i64,
    /// Tickets resolved in the range.
    pub resolved: i64,
    /// Of the tickets created in the range, by current status / priority.
    pub by_status: BTreeMap<String, i64>,
    pub by_priority: BTreeMap<String, i64>,
    /// From creation to resolution, for tickets resolved in the range.
    pub resolution_time: Percentiles,
    /// From creation to the first public staff reply, for first replies in the range.
    pub first_response_time: Percentiles,
    /// Share of tickets resolved in the range within their resolution due time (0..1).
    pub sla_resolution_met: Option<f64>,
    /// Share of first responses in the range within their due time (0..1).
    pub sla_first_response_met: Option<f64>,
    pub csat_average: Option<f64>,
    pub csat_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentStats {
    pub agent: UserSummary,
    /// Tickets they hold now that are not resolved or closed.
    pub open: i64,
    /// Tickets created in the range that they hold.
    pub assigned: i64,
    /// Tickets they hold that were resolved in the range.
    pub resolved: i64,
    pub median_resolution_s: Option<f64>,
    pub csat_average: Option<f64>,
    /// Seconds of time entries started in the range.
    pub time_logged_s: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentStatsList {
    pub items: Vec<AgentStats>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryStats {
    /// `null`: tickets without a category.
    pub category_id: Option<CategoryId>,
    pub name: String,
    pub parent_id: Option<CategoryId>,
    pub created: i64,
    pub open: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryStatsList {
    pub items: Vec<CategoryStats>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendPoint {
    pub day: NaiveDate,
    pub created: i64,
    pub resolved: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trends {
    pub items: Vec<TrendPoint>,
}
