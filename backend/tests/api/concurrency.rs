//! Numbering, idempotency and `seq` under real concurrency (many requests in flight on
//! a multi-worker server against one PostgreSQL).

use crate::common::*;
use futures_util::future::join_all;
use serde_json::json;
use std::collections::BTreeSet;

#[actix_web::test]
async fn fifty_concurrent_tickets_get_fifty_gap_free_numbers() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Busy").await;
    let results = join_all((0..50).map(|i| {
        app.post(
            "/api/tickets",
            &c.token,
            json!({"title": format!("ticket {i}")}),
        )
    }))
    .await;
    let year = chrono::Utc::now().format("%Y").to_string();
    let numbers: BTreeSet<String> = results
        .iter()
        .map(|r| {
            assert_eq!(r.status, 201, "{}", r.body);
            r.body["number"].as_str().unwrap().to_owned()
        })
        .collect();
    let expected: BTreeSet<String> = (1..=50).map(|n| format!("TICK-{year}-{n:04}")).collect();
    assert_eq!(numbers, expected);
    app.stop().await;
}

#[actix_web::test]
async fn ten_retries_of_one_client_id_store_one_message() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Retry").await;
    let t = app.ticket(&c, "retries").await;
    let path = format!("/api/tickets/{}/messages", t["id"]);
    let client_id = uuid::Uuid::new_v4();
    let body = json!({"body": "sent once, retried often", "client_id": client_id});
    let results = join_all((0..10).map(|_| app.post(&path, &c.token, body.clone()))).await;
    let ids: BTreeSet<i64> = results
        .iter()
        .map(|r| r.ok()["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "every retry returns the same message");
    let created = results.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1, "exactly one request created it");
    let list = app.get(&path, &c.token).await;
    assert_eq!(list.ok()["items"].as_array().unwrap().len(), 1);
    assert_eq!(results[0].body["client_id"], json!(client_id));
    assert_eq!(results[0].body["seq"], 1);

    // The same client_id on another ticket is a conflict, not a silent duplicate.
    let t2 = app.ticket(&c, "other").await;
    app.post(
        &format!("/api/tickets/{}/messages", t2["id"]),
        &c.token,
        body,
    )
    .await
    .expect_error(409, "client_id_conflict");
    app.stop().await;
}

#[actix_web::test]
async fn seq_is_strictly_increasing_and_gap_free_under_concurrent_posts() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Chatty").await;
    let tech = app.user("technician", "Fast").await;
    let t = app.ticket(&c, "busy conversation").await;
    let id = t["id"].as_i64().unwrap();
    let bodies: Vec<String> = (0..40).map(|i| format!("message {i}")).collect();
    let posts = bodies.iter().enumerate().map(|(i, body)| {
        let who = if i % 2 == 0 { &c } else { &tech };
        let internal = i % 4 == 1;
        app.message(who, id, body, internal)
    });
    let results = join_all(posts).await;
    let seqs: BTreeSet<i64> = results
        .iter()
        .map(|r| r.ok()["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=40).collect::<BTreeSet<i64>>());

    let list = app
        .get(
            &format!("/api/tickets/{id}/messages?limit=500"),
            &tech.token,
        )
        .await;
    let listed: Vec<i64> = list.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        listed,
        (1..=40).collect::<Vec<i64>>(),
        "listed in seq order"
    );
    // Paging with after_seq walks the same sequence.
    let page = app
        .get(
            &format!("/api/tickets/{id}/messages?after_seq=35&limit=3"),
            &tech.token,
        )
        .await;
    let s: Vec<i64> = page.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(s, vec![36, 37, 38]);
    assert_eq!(page.body["has_more"], true);
    let back = app
        .get(
            &format!("/api/tickets/{id}/messages?before_seq=4"),
            &tech.token,
        )
        .await;
    let s: Vec<i64> = back.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(s, vec![1, 2, 3]);
    app.stop().await;
}
