//! Analytics against a small data set whose numbers are worked out by hand below.

use crate::common::*;
use diesel::prelude::*;
use serde_json::json;

fn sql(app: &TestApp, q: &str) {
    diesel::sql_query(q).execute(&mut app.conn()).unwrap();
}

#[actix_web::test]
async fn numbers_match_the_hand_computed_ones() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let cat = app
        .post(
            "/api/categories",
            &cast.admin.token,
            json!({"name": "Network"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let mut ids = Vec::new();
    for (title, priority, category) in [
        ("t1", "high", Some(cat)),
        ("t2", "low", Some(cat)),
        ("t3", "high", None),
        ("t4", "medium", None),
    ] {
        let t = app
            .post(
                "/api/tickets",
                &cast.customer.token,
                json!({"title": title, "priority": priority, "category_id": category}),
            )
            .await;
        ids.push(t.ok()["id"].as_i64().unwrap());
    }
    let (tech, tech2) = (cast.tech.id, cast.other_tech.id);
    // t1: 1 h to first response (due 2 h: met), resolved after 4 h (due 3 h: missed).
    sql(&app, &format!("UPDATE tickets SET status = 'resolved', assignee_id = {tech},
        created_at = '2026-01-01T00:00Z', first_response_at = '2026-01-01T01:00Z', first_response_due_at = '2026-01-01T02:00Z',
        resolved_at = '2026-01-01T04:00Z', resolution_due_at = '2026-01-01T03:00Z' WHERE id = {}", ids[0]));
    // t2: 3 h to first response (due 2 h: missed), resolved after 10 h (due next day: met).
    sql(&app, &format!("UPDATE tickets SET status = 'resolved', assignee_id = {tech},
        created_at = '2026-01-02T00:00Z', first_response_at = '2026-01-02T03:00Z', first_response_due_at = '2026-01-02T02:00Z',
        resolved_at = '2026-01-02T10:00Z', resolution_due_at = '2026-01-03T00:00Z' WHERE id = {}", ids[1]));
    // t3: open, unassigned, no category.
    sql(
        &app,
        &format!(
            "UPDATE tickets SET created_at = '2026-01-03T00:00Z', first_response_due_at = NULL,
        resolution_due_at = NULL WHERE id = {}",
            ids[2]
        ),
    );
    // t4: created before the range, resolved inside it after 36 h, no SLA.
    sql(&app, &format!("UPDATE tickets SET status = 'closed', assignee_id = {tech2}, created_at = '2025-12-31T00:00Z',
        resolved_at = '2026-01-01T12:00Z', first_response_due_at = NULL, resolution_due_at = NULL WHERE id = {}", ids[3]));
    sql(
        &app,
        &format!(
            "INSERT INTO ratings (ticket_id, user_id, score, created_at) VALUES
        ({}, {c}, 4, '2026-01-01T05:00Z'), ({}, {c}, 2, '2026-01-02T11:00Z')",
            ids[0],
            ids[1],
            c = cast.customer.id
        ),
    );
    sql(&app, &format!("INSERT INTO time_entries (ticket_id, user_id, started_at, ended_at, duration_seconds, manual)
        VALUES ({}, {tech}, '2026-01-02T01:00Z', '2026-01-02T01:30Z', 1800, true)", ids[1]));

    let range = "from=2026-01-01T00:00:00Z&to=2026-01-04T00:00:00Z";
    let s = app
        .get(
            format!("/api/analytics/summary?{range}"),
            &cast.supervisor.token,
        )
        .await;
    let s = s.ok();
    assert_eq!(s["created"], 3);
    assert_eq!(s["resolved"], 3);
    assert_eq!(s["by_status"], json!({"resolved": 2, "open": 1}));
    assert_eq!(s["by_priority"], json!({"high": 2, "low": 1}));
    // Resolution times 4 h, 10 h, 36 h: median 10 h; p90 = 10 h + 0.8 × 26 h.
    assert_eq!(
        s["resolution_time"],
        json!({"p50_s": 36000.0, "p90_s": 110880.0})
    );
    // First responses 1 h and 3 h: median 2 h; p90 = 1 h + 0.9 × 2 h.
    assert_eq!(
        s["first_response_time"],
        json!({"p50_s": 7200.0, "p90_s": 10080.0})
    );
    assert_eq!(s["sla_resolution_met"], 0.5);
    assert_eq!(s["sla_first_response_met"], 0.5);
    assert_eq!(
        (s["csat_average"].as_f64(), s["csat_count"].as_i64()),
        (Some(3.0), Some(2))
    );

    let a = app
        .get(
            format!("/api/analytics/agents?{range}"),
            &cast.supervisor.token,
        )
        .await;
    let rows = a.ok()["items"].as_array().unwrap().clone();
    let row = |id: i64| {
        rows.iter()
            .find(|r| r["agent"]["id"] == id)
            .unwrap()
            .clone()
    };
    let t = row(tech);
    assert_eq!(
        (
            t["open"].as_i64(),
            t["assigned"].as_i64(),
            t["resolved"].as_i64()
        ),
        (Some(0), Some(2), Some(2))
    );
    assert_eq!(t["median_resolution_s"], 25200.0);
    assert_eq!(t["csat_average"], 3.0);
    assert_eq!(t["time_logged_s"], 1800);
    let t2 = row(tech2);
    assert_eq!(
        (t2["assigned"].as_i64(), t2["resolved"].as_i64()),
        (Some(0), Some(1))
    );
    assert_eq!(t2["median_resolution_s"], 129600.0);
    // A technician sees only their own row; customers nothing.
    let own = app
        .get(format!("/api/analytics/agents?{range}"), &cast.tech.token)
        .await;
    let own = own.ok()["items"].as_array().unwrap().clone();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["agent"]["id"], tech);
    app.get(format!("/api/analytics/summary?{range}"), &cast.tech.token)
        .await
        .expect_error(403, "forbidden");
    app.get(
        format!("/api/analytics/agents?{range}"),
        &cast.customer.token,
    )
    .await
    .expect_error(403, "forbidden");

    let c = app
        .get(
            format!("/api/analytics/categories?{range}"),
            &cast.admin.token,
        )
        .await;
    let cats = c.ok()["items"].as_array().unwrap().clone();
    assert_eq!(
        cats[0],
        json!({"category_id": cat, "name": "Network", "parent_id": null, "created": 2, "open": 0})
    );
    assert_eq!(
        cats[1],
        json!({"category_id": null, "name": "Uncategorised", "parent_id": null, "created": 1, "open": 1})
    );

    let tr = app
        .get(format!("/api/analytics/trends?{range}"), &cast.admin.token)
        .await;
    assert_eq!(
        tr.ok()["items"],
        json!([
            {"day": "2026-01-01", "created": 1, "resolved": 2},
            {"day": "2026-01-02", "created": 1, "resolved": 1},
            {"day": "2026-01-03", "created": 1, "resolved": 0},
        ])
    );
    app.get(
        "/api/analytics/summary?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        &cast.admin.token,
    )
    .await
    .expect_error(422, "validation_failed");
    app.stop().await;
}
