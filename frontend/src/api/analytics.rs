//! `/api/analytics/*` (supervisors and admins; technicians get their own agent row).

use relay_protocol::analytics::{AgentStatsList, RangeQuery, Summary, Trends};

use super::{get, with_query, ApiError};

pub async fn summary(range: &RangeQuery) -> Result<Summary, ApiError> {
    get(&with_query("/api/analytics/summary", range)).await
}

pub async fn agents(range: &RangeQuery) -> Result<AgentStatsList, ApiError> {
    get(&with_query("/api/analytics/agents", range)).await
}

pub async fn trends(range: &RangeQuery) -> Result<Trends, ApiError> {
    get(&with_query("/api/analytics/trends", range)).await
}
