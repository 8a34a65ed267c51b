//! The analytics queries. Durations are in seconds; percentiles are PostgreSQL's
//! continuous percentiles.

use crate::error::AppResult;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Double, Nullable, Text, Timestamptz};
use relay_protocol::analytics::{AgentStats, CategoryStats, Percentiles, Summary, TrendPoint};
use relay_protocol::users::{Role, UserSummary};
use relay_protocol::{CategoryId, UserId};
use std::collections::BTreeMap;

#[derive(QueryableByName)]
struct SummaryRow {
    #[diesel(sql_type = BigInt)]
    created: i64,
    #[diesel(sql_type = BigInt)]
    resolved: i64,
    #[diesel(sql_type = Nullable<Double>)]
    res_p50: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    res_p90: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    fr_p50: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    fr_p90: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    sla_res: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    sla_fr: Option<f64>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Csat {
    #[diesel(sql_type = Nullable<Double>)]
    avg: Option<f64>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

pub fn summary(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Summary> {
    let row: SummaryRow = diesel::sql_query(
        "SELECT
           count(*) FILTER (WHERE created_at >= $1 AND created_at < $2) AS created,
           count(*) FILTER (WHERE resolved_at >= $1 AND resolved_at < $2) AS resolved,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at)::float8)
             FILTER (WHERE resolved_at >= $1 AND resolved_at < $2) AS res_p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at)::float8)
             FILTER (WHERE resolved_at >= $1 AND resolved_at < $2) AS res_p90,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_response_at - created_at)::float8)
             FILTER (WHERE first_response_at >= $1 AND first_response_at < $2) AS fr_p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM first_response_at - created_at)::float8)
             FILTER (WHERE first_response_at >= $1 AND first_response_at < $2) AS fr_p90,
           avg(CASE WHEN resolved_at <= resolution_due_at THEN 1.0 ELSE 0.0 END)
             FILTER (WHERE resolved_at >= $1 AND resolved_at < $2 AND resolution_due_at IS NOT NULL)::float8 AS sla_res,
           avg(CASE WHEN first_response_at <= first_response_due_at THEN 1.0 ELSE 0.0 END)
             FILTER (WHERE first_response_at >= $1 AND first_response_at < $2 AND first_response_due_at IS NOT NULL)::float8 AS sla_fr
         FROM tickets",
    )
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .get_result(conn)?;
    let counts = |conn: &mut PgConnection, column: &str| -> AppResult<BTreeMap<String, i64>> {
        let rows: Vec<Count> = diesel::sql_query(format!(
            "SELECT {column} AS key, count(*) AS n FROM tickets \
             WHERE created_at >= $1 AND created_at < $2 GROUP BY {column}"
        ))
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .load(conn)?;
        Ok(rows.into_iter().map(|r| (r.key, r.n)).collect())
    };
    let by_status = counts(conn, "status")?;
    let by_priority = counts(conn, "priority")?;
    let csat: Csat = diesel::sql_query(
        "SELECT avg(score)::float8 AS avg, count(*) AS n FROM ratings WHERE created_at >= $1 AND created_at < $2",
    )
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .get_result(conn)?;
    Ok(Summary {
        from,
        to,
        created: row.created,
        resolved: row.resolved,
        by_status,
        by_priority,
        resolution_time: Percentiles {
            p50_s: row.res_p50,
            p90_s: row.res_p90,
        },
        first_response_time: Percentiles {
            p50_s: row.fr_p50,
            p90_s: row.fr_p90,
        },
        sla_resolution_met: row.sla_res,
        sla_first_response_met: row.sla_fr,
        csat_average: csat.avg,
        csat_count: csat.n,
    })
}

#[derive(QueryableByName)]
struct AgentRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = BigInt)]
    open: i64,
    #[diesel(sql_type = BigInt)]
    assigned: i64,
    #[diesel(sql_type = BigInt)]
    resolved: i64,
    #[diesel(sql_type = Nullable<Double>)]
    median_resolution: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    csat: Option<f64>,
    #[diesel(sql_type = BigInt)]
    logged: i64,
}

/// Per-agent performance; `only` limits it to one agent (a technician's own stats).
pub fn agents(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    only: Option<i64>,
) -> AppResult<Vec<AgentStats>> {
    let rows: Vec<AgentRow> = diesel::sql_query(
        "SELECT u.id, u.name, u.role,
           count(t.id) FILTER (WHERE t.status NOT IN ('resolved', 'closed')) AS open,
           count(t.id) FILTER (WHERE t.created_at >= $1 AND t.created_at < $2) AS assigned,
           count(t.id) FILTER (WHERE t.resolved_at >= $1 AND t.resolved_at < $2) AS resolved,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.resolved_at - t.created_at)::float8)
             FILTER (WHERE t.resolved_at >= $1 AND t.resolved_at < $2) AS median_resolution,
           avg(r.score) FILTER (WHERE r.created_at >= $1 AND r.created_at < $2)::float8 AS csat,
           coalesce((SELECT sum(te.duration_seconds) FROM time_entries te
                     WHERE te.user_id = u.id AND te.started_at >= $1 AND te.started_at < $2), 0)::int8 AS logged
         FROM users u
         LEFT JOIN tickets t ON t.assignee_id = u.id
         LEFT JOIN ratings r ON r.ticket_id = t.id
         WHERE u.role <> 'customer' AND u.active AND ($3::int8 IS NULL OR u.id = $3)
         GROUP BY u.id
         ORDER BY u.name",
    )
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .bind::<Nullable<BigInt>, _>(only)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| AgentStats {
            agent: UserSummary {
                id: UserId(r.id),
                name: r.name,
                role: Role::parse(&r.role).unwrap_or(Role::Technician),
            },
            open: r.open,
            assigned: r.assigned,
            resolved: r.resolved,
            median_resolution_s: r.median_resolution,
            csat_average: r.csat,
            time_logged_s: r.logged,
        })
        .collect())
}

#[derive(QueryableByName)]
struct CategoryRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    parent_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    created: i64,
    #[diesel(sql_type = BigInt)]
    open: i64,
}

pub fn categories(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<CategoryStats>> {
    let rows: Vec<CategoryRow> = diesel::sql_query(
        "SELECT c.id, c.name, c.parent_id,
           count(t.id) AS created,
           count(t.id) FILTER (WHERE t.status NOT IN ('resolved', 'closed')) AS open
         FROM tickets t LEFT JOIN categories c ON c.id = t.category_id
         WHERE t.created_at >= $1 AND t.created_at < $2
         GROUP BY c.id, c.name, c.parent_id
         ORDER BY count(t.id) DESC, c.name",
    )
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| CategoryStats {
            category_id: r.id.map(CategoryId),
            name: r.name.unwrap_or_else(|| "Uncategorised".into()),
            parent_id: r.parent_id.map(CategoryId),
            created: r.created,
            open: r.open,
        })
        .collect())
}

#[derive(QueryableByName)]
struct TrendRow {
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    created: i64,
    #[diesel(sql_type = BigInt)]
    resolved: i64,
}

/// One point per UTC day in the range, zeros included.
pub fn trends(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<TrendPoint>> {
    let rows: Vec<TrendRow> = diesel::sql_query(
        "SELECT d::date AS day,
           (SELECT count(*) FROM tickets WHERE created_at >= d AND created_at < d + interval '1 day'
              AND created_at >= $1 AND created_at < $2) AS created,
           (SELECT count(*) FROM tickets WHERE resolved_at >= d AND resolved_at < d + interval '1 day'
              AND resolved_at >= $1 AND resolved_at < $2) AS resolved
         FROM generate_series(date_trunc('day', $1 AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                              $2 - interval '1 microsecond', interval '1 day') AS d
         ORDER BY d",
    )
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| TrendPoint {
            day: r.day,
            created: r.created,
            resolved: r.resolved,
        })
        .collect())
}
