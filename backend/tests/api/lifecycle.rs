//! SPEC §2's lifecycle rules through the API, with the history rows they must leave.

use crate::common::*;
use serde_json::{json, Value};

async fn history(app: &TestApp, id: i64, token: &str) -> Vec<(String, Value, Value, Value)> {
    let res = app.get(&format!("/api/tickets/{id}/history"), token).await;
    res.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["field"].as_str().unwrap().to_owned(),
                h["old_value"].clone(),
                h["new_value"].clone(),
                h["actor"]["id"].clone(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn new_ticket_is_open_numbered_and_recorded() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Cora").await;
    let t = app.ticket(&c, "Printer on fire").await;
    assert_eq!(t["status"], "open");
    assert_eq!(t["priority"], "medium");
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(t["number"], format!("TICK-{year}-0001"));
    assert!(t["assignee"].is_null());
    assert!(
        t["first_response_due_at"].is_string(),
        "SLA due times are set on create"
    );
    let h = history(&app, t["id"].as_i64().unwrap(), &c.token).await;
    assert_eq!(
        h,
        vec![(
            "created".into(),
            Value::Null,
            json!(t["number"]),
            json!(c.id)
        )]
    );
    // The number works wherever the id does.
    let by_number = app
        .get(
            &format!(
                "/api/tickets/{}",
                t["number"].as_str().unwrap().to_lowercase()
            ),
            &c.token,
        )
        .await;
    assert_eq!(by_number.ok()["id"], t["id"]);
    app.stop().await;
}

#[actix_web::test]
async fn assignment_moves_status_and_is_recorded() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Cora").await;
    let tech = app.user("technician", "Tara").await;
    let t = app.ticket(&c, "VPN down").await;
    let id = t["id"].as_i64().unwrap();
    let path = format!("/api/tickets/{id}/assign");

    let taken = app
        .post(&path, &tech.token, json!({"assignee_id": tech.id}))
        .await;
    assert_eq!(taken.ok()["status"], "in_progress");
    assert_eq!(taken.body["assignee"]["id"], tech.id);
    let released = app
        .post(&path, &tech.token, json!({"assignee_id": null}))
        .await;
    assert_eq!(released.ok()["status"], "open");
    assert!(released.body["assignee"].is_null());

    let h = history(&app, id, &tech.token).await;
    let tid = json!(tech.id.to_string());
    assert_eq!(
        &h[1..],
        &[
            (
                "status".into(),
                json!("open"),
                json!("in_progress"),
                json!(tech.id)
            ),
            (
                "assignee_id".into(),
                Value::Null,
                tid.clone(),
                json!(tech.id)
            ),
            (
                "status".into(),
                json!("in_progress"),
                json!("open"),
                json!(tech.id)
            ),
            ("assignee_id".into(), tid, Value::Null, json!(tech.id)),
        ]
    );

    // Assigning to a customer or a missing user is refused and changes nothing.
    let bad = app
        .post(&path, &tech.token, json!({"assignee_id": c.id}))
        .await;
    assert_eq!(bad.status, 403, "a technician may only take for themselves");
    let admin = app.user("admin", "Ada").await;
    app.post(&path, &admin.token, json!({"assignee_id": c.id}))
        .await
        .expect_error(422, "validation_failed");
    app.post(&path, &admin.token, json!({"assignee_id": 999999}))
        .await
        .expect_error(422, "validation_failed");
    app.post(&path, &admin.token, json!({}))
        .await
        .expect_error(422, "validation_failed");
    assert_eq!(history(&app, id, &tech.token).await.len(), 5);

    // Unassigning a pending ticket leaves it pending.
    app.post(&path, &admin.token, json!({"assignee_id": tech.id}))
        .await
        .ok();
    app.patch(
        &format!("/api/tickets/{id}"),
        &tech.token,
        json!({"status": "pending"}),
    )
    .await
    .ok();
    let r = app
        .post(&path, &admin.token, json!({"assignee_id": null}))
        .await;
    assert_eq!(r.ok()["status"], "pending");
    app.stop().await;
}

#[actix_web::test]
async fn resolve_close_and_reopen_set_and_clear_times() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Cora").await;
    let tech = app.user("technician", "Tara").await;
    let t = app.ticket(&c, "Mail bounced").await;
    let id = t["id"].as_i64().unwrap();
    let path = format!("/api/tickets/{id}");
    app.post(
        &format!("{path}/assign"),
        &tech.token,
        json!({"assignee_id": tech.id}),
    )
    .await
    .ok();

    let resolved = app
        .patch(&path, &tech.token, json!({"status": "resolved"}))
        .await;
    assert_eq!(resolved.ok()["status"], "resolved");
    assert!(resolved.body["resolved_at"].is_string());
    assert!(resolved.body["closed_at"].is_null());

    let closed = app
        .patch(&path, &c.token, json!({"status": "closed"}))
        .await;
    assert!(closed.ok()["closed_at"].is_string());
    assert!(closed.body["resolved_at"].is_string());

    // The customer reopens: both times cleared, back to in_progress since it is assigned.
    let reopened = app.patch(&path, &c.token, json!({"status": "open"})).await;
    assert_eq!(reopened.ok()["status"], "in_progress");
    assert!(reopened.body["resolved_at"].is_null() && reopened.body["closed_at"].is_null());

    // A customer may not resolve or block.
    app.patch(&path, &c.token, json!({"status": "resolved"}))
        .await
        .expect_error(403, "forbidden");
    app.patch(&path, &c.token, json!({"status": "blocked"}))
        .await
        .expect_error(403, "forbidden");

    let fields: Vec<String> = history(&app, id, &c.token)
        .await
        .into_iter()
        .map(|h| h.0)
        .collect();
    assert_eq!(
        fields,
        [
            "created",
            "status",
            "assignee_id",
            "status",
            "status",
            "status"
        ]
    );
    app.stop().await;
}

#[actix_web::test]
async fn customer_reply_reopens_resolved_and_pending_but_not_closed() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Cora").await;
    let tech = app.user("technician", "Tara").await;
    for (before, after) in [
        ("resolved", "open"),
        ("pending", "open"),
        ("blocked", "blocked"),
    ] {
        let t = app.ticket(&c, before).await;
        let id = t["id"].as_i64().unwrap();
        app.patch(
            &format!("/api/tickets/{id}"),
            &tech.token,
            json!({"status": before}),
        )
        .await
        .ok();
        app.message(&c, id, "any news?", false).await.ok();
        let now = app.get(&format!("/api/tickets/{id}"), &c.token).await;
        assert_eq!(now.ok()["status"], after, "reply on {before}");
        assert!(now.body["resolved_at"].is_null());
    }
    // Staff replies never reopen.
    let t = app.ticket(&c, "staff reply").await;
    let id = t["id"].as_i64().unwrap();
    app.patch(
        &format!("/api/tickets/{id}"),
        &tech.token,
        json!({"status": "pending"}),
    )
    .await
    .ok();
    app.message(&tech, id, "waiting for you", false).await.ok();
    assert_eq!(
        app.get(&format!("/api/tickets/{id}"), &c.token).await.body["status"],
        "pending"
    );

    // Closed: the customer must reopen first; nothing is stored.
    let t = app.ticket(&c, "closed").await;
    let id = t["id"].as_i64().unwrap();
    app.patch(
        &format!("/api/tickets/{id}"),
        &c.token,
        json!({"status": "closed"}),
    )
    .await
    .ok();
    let before = app.counts();
    app.message(&c, id, "hello?", false)
        .await
        .expect_error(409, "ticket_closed");
    assert_eq!(app.counts(), before);
    app.stop().await;
}

#[actix_web::test]
async fn first_public_staff_reply_sets_first_response() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Cora").await;
    let tech = app.user("technician", "Tara").await;
    let t = app.ticket(&c, "slow laptop").await;
    let id = t["id"].as_i64().unwrap();
    let get = || app.get(format!("/api/tickets/{id}"), &tech.token);
    app.message(&c, id, "it is really slow", false).await.ok();
    assert!(
        get().await.body["first_response_at"].is_null(),
        "customer messages do not count"
    );
    app.message(&tech, id, "internal: check RAM", true)
        .await
        .ok();
    assert!(
        get().await.body["first_response_at"].is_null(),
        "internal notes do not count"
    );
    app.message(&tech, id, "Looking into it", false).await.ok();
    let first = get().await.body["first_response_at"].clone();
    assert!(first.is_string());
    app.message(&tech, id, "Still looking", false).await.ok();
    assert_eq!(get().await.body["first_response_at"], first, "set once");
    app.stop().await;
}

#[actix_web::test]
async fn patch_is_all_or_nothing() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Cora").await;
    let tech = app.user("technician", "Tara").await;
    let t = app.ticket(&c, "atomic").await;
    let path = format!("/api/tickets/{}", t["id"]);
    let before = app.get(&path, &tech.token).await.body;
    let counts = app.counts();
    // One valid and one invalid field: nothing is applied.
    app.patch(&path, &tech.token, json!({"priority": "high", "title": ""}))
        .await
        .expect_error(422, "validation_failed");
    app.patch(
        &path,
        &tech.token,
        json!({"priority": "high", "category_id": 424242}),
    )
    .await
    .expect_error(422, "validation_failed");
    app.patch(
        &path,
        &tech.token,
        json!({"status": "resolved", "tags": ["bad tag!"]}),
    )
    .await
    .expect_error(422, "validation_failed");
    // One allowed and one forbidden field for a customer: nothing is applied.
    app.patch(
        &path,
        &c.token,
        json!({"status": "closed", "priority": "urgent"}),
    )
    .await
    .expect_error(403, "forbidden");
    assert_eq!(app.get(&path, &tech.token).await.body, before);
    assert_eq!(app.counts(), counts);

    // A valid multi-field change lands whole, with one history row per field.
    let ok = app
        .patch(
            &path,
            &tech.token,
            json!({"priority": "high", "title": "Atomic!", "tags": ["VIP", "vip", "billing"]}),
        )
        .await;
    assert_eq!(ok.ok()["priority"], "high");
    assert_eq!(ok.body["tags"], json!(["billing", "vip"]));
    assert_ne!(
        ok.body["first_response_due_at"], before["first_response_due_at"],
        "SLA follows priority"
    );
    let fields: Vec<String> = history(&app, t["id"].as_i64().unwrap(), &tech.token)
        .await
        .into_iter()
        .map(|h| h.0)
        .collect();
    assert_eq!(fields, ["created", "title", "priority", "tags"]);
    app.stop().await;
}
