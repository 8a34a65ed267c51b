//! SLA policy and settings queries.

use crate::db::schema::{settings, sla_policies};
use crate::error::{AppError, AppResult};
use chrono::Utc;
use diesel::prelude::*;
use relay_protocol::admin::{AutoAssign, Settings, SlaPolicy, UpdateSettings};
use relay_protocol::tickets::Priority;

pub fn sla_policies(conn: &mut PgConnection) -> AppResult<Vec<SlaPolicy>> {
    let rows: Vec<(String, i32, i32)> = sla_policies::table
        .select((
            sla_policies::priority,
            sla_policies::first_response_minutes,
            sla_policies::resolution_minutes,
        ))
        .load(conn)?;
    let mut items: Vec<SlaPolicy> = rows
        .into_iter()
        .filter_map(|(p, fr, res)| {
            Priority::parse(&p).map(|priority| SlaPolicy {
                priority,
                first_response_minutes: fr,
                resolution_minutes: res,
            })
        })
        .collect();
    items.sort_by_key(|p| p.priority.rank());
    Ok(items)
}

/// Replaces the policies given (one per priority at most), all or nothing.
pub fn set_sla_policies(conn: &mut PgConnection, items: &[SlaPolicy]) -> AppResult<Vec<SlaPolicy>> {
    for (i, p) in items.iter().enumerate() {
        let limit = 60 * 24 * 365;
        if !(1..=limit).contains(&p.first_response_minutes)
            || !(1..=limit).contains(&p.resolution_minutes)
        {
            return Err(AppError::invalid(
                &format!("items[{i}]"),
                "minutes must be between 1 and 525600",
            ));
        }
        if p.first_response_minutes > p.resolution_minutes {
            return Err(AppError::invalid(
                &format!("items[{i}]"),
                "first response cannot be due after resolution",
            ));
        }
        if items[..i].iter().any(|q| q.priority == p.priority) {
            return Err(AppError::invalid(
                &format!("items[{i}]"),
                "one policy per priority",
            ));
        }
    }
    conn.transaction(|conn| {
        for p in items {
            diesel::insert_into(sla_policies::table)
                .values((
                    sla_policies::priority.eq(p.priority.as_str()),
                    sla_policies::first_response_minutes.eq(p.first_response_minutes),
                    sla_policies::resolution_minutes.eq(p.resolution_minutes),
                ))
                .on_conflict(sla_policies::priority)
                .do_update()
                .set((
                    sla_policies::first_response_minutes.eq(p.first_response_minutes),
                    sla_policies::resolution_minutes.eq(p.resolution_minutes),
                    sla_policies::updated_at.eq(Utc::now()),
                ))
                .execute(conn)?;
        }
        sla_policies(conn)
    })
}

fn value(conn: &mut PgConnection, key: &str) -> AppResult<Option<serde_json::Value>> {
    Ok(settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
        .optional()?)
}

/// Whether staff must use a second factor (read on every staff request without one).
pub fn require_totp_for_staff(conn: &mut PgConnection) -> AppResult<bool> {
    Ok(value(conn, "require_totp_for_staff")?
        .and_then(|v| v.as_bool())
        .unwrap_or(false))
}

pub fn settings(conn: &mut PgConnection) -> AppResult<Settings> {
    let auto_assign = value(conn, "auto_assign")?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or(AutoAssign {
            enabled: false,
            max_open_per_agent: 10,
        });
    let require_totp_for_staff = require_totp_for_staff(conn)?;
    Ok(Settings {
        auto_assign,
        require_totp_for_staff,
    })
}

fn put(conn: &mut PgConnection, key: &str, v: serde_json::Value) -> AppResult<()> {
    diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(&v)))
        .on_conflict(settings::key)
        .do_update()
        .set((settings::value.eq(&v), settings::updated_at.eq(Utc::now())))
        .execute(conn)?;
    Ok(())
}

pub fn update_settings(conn: &mut PgConnection, u: &UpdateSettings) -> AppResult<Settings> {
    if let Some(a) = &u.auto_assign {
        if !(1..=1000).contains(&a.max_open_per_agent) {
            return Err(AppError::invalid(
                "auto_assign.max_open_per_agent",
                "must be between 1 and 1000",
            ));
        }
    }
    conn.transaction(|conn| {
        if let Some(a) = &u.auto_assign {
            put(conn, "auto_assign", serde_json::json!(a))?;
        }
        if let Some(t) = u.require_totp_for_staff {
            put(conn, "require_totp_for_staff", serde_json::json!(t))?;
        }
        settings(conn)
    })
}
