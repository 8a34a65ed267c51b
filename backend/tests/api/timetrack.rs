//! Timers and manual entries.

use crate::common::*;
use diesel::prelude::*;
use futures_util::future::join_all;
use serde_json::json;

#[actix_web::test]
async fn one_running_timer_per_user_and_totals() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let t1 = app.ticket(&cast.customer, "first").await["id"]
        .as_i64()
        .unwrap();
    let t2 = app.ticket(&cast.customer, "second").await["id"]
        .as_i64()
        .unwrap();
    let tok = &cast.tech.token;

    // Five starts at once give one running timer.
    let starts = join_all(
        (0..5).map(|_| app.post(format!("/api/tickets/{t1}/timer/start"), tok, json!({}))),
    )
    .await;
    let ids: std::collections::BTreeSet<i64> = starts
        .iter()
        .map(|r| r.ok()["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "{starts:?}",
        starts = starts.iter().map(|r| r.body.clone()).collect::<Vec<_>>()
    );
    let running: i64 =
        diesel::sql_query("SELECT count(*) AS n FROM time_entries WHERE ended_at IS NULL")
            .get_result::<Count>(&mut app.conn())
            .unwrap()
            .n;
    assert_eq!(running, 1);
    assert_eq!(
        app.get("/api/me/timer", tok).await.ok()["running"]["ticket_id"],
        t1
    );

    // Starting on another ticket switches: the first stops, the second runs.
    let second = app
        .post(format!("/api/tickets/{t2}/timer/start"), tok, json!({}))
        .await;
    assert!(second.ok()["ended_at"].is_null());
    let list = app
        .get(format!("/api/tickets/{t1}/time-entries"), tok)
        .await;
    assert!(list.ok()["items"][0]["ended_at"].is_string());
    app.post(format!("/api/tickets/{t1}/timer/stop"), tok, json!({}))
        .await
        .expect_error(404, "not_found");

    // Manual entries and totals per agent.
    app.post(
        format!("/api/tickets/{t1}/time-entries"),
        tok,
        json!({"minutes": 0}),
    )
    .await
    .expect_error(422, "validation_failed");
    app.post(
        format!("/api/tickets/{t1}/time-entries"),
        tok,
        json!({"minutes": 30, "note": "call"}),
    )
    .await;
    app.post(
        format!("/api/tickets/{t1}/time-entries"),
        &cast.other_tech.token,
        json!({"minutes": 15}),
    )
    .await;
    let list = app
        .get(
            format!("/api/tickets/{t1}/time-entries"),
            &cast.supervisor.token,
        )
        .await;
    let total = list.ok()["total_seconds"].as_i64().unwrap();
    assert!(total >= 45 * 60, "{}", list.body);
    let by_agent = list.body["by_agent"].as_array().unwrap();
    assert!(by_agent
        .iter()
        .any(|a| a["user"]["id"] == cast.other_tech.id && a["seconds"] == 900));

    // Customers do not track time.
    app.post(
        format!("/api/tickets/{t1}/timer/start"),
        &cast.customer.token,
        json!({}),
    )
    .await
    .expect_error(403, "forbidden");
    app.get(
        format!("/api/tickets/{t1}/time-entries"),
        &cast.customer.token,
    )
    .await
    .expect_error(403, "forbidden");
    app.stop().await;
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[actix_web::test]
async fn a_timer_survives_a_server_restart() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Cora").await;
    let tech = app.user("technician", "Tara").await;
    let t = app.ticket(&c, "long job").await["id"].as_i64().unwrap();
    app.post(
        format!("/api/tickets/{t}/timer/start"),
        &tech.token,
        json!({}),
    )
    .await
    .ok();
    // Pretend the timer started 90 s ago, then restart the server.
    diesel::sql_query("UPDATE time_entries SET started_at = now() - interval '90 seconds'")
        .execute(&mut app.conn())
        .unwrap();
    let app = app.restart().await;
    assert_eq!(
        app.get("/api/me/timer", &tech.token).await.ok()["running"]["ticket_id"],
        t
    );
    let stopped = app
        .post(
            format!("/api/tickets/{t}/timer/stop"),
            &tech.token,
            json!({}),
        )
        .await;
    let secs = stopped.ok()["duration_seconds"].as_i64().unwrap();
    assert!((90..100).contains(&secs), "recorded {secs} s");
    assert!(app.get("/api/me/timer", &tech.token).await.ok()["running"].is_null());
    app.stop().await;
}
