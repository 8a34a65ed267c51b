//! SLA policies and settings: admins write, staff read policies, nobody else.

use crate::common::*;
use serde_json::json;

#[actix_web::test]
async fn sla_policies_drive_due_times_and_only_admins_change_them() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let list = app.get("/api/sla-policies", &cast.tech.token).await;
    let items = list.ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 4);
    assert_eq!(items[3]["priority"], "urgent");
    app.get("/api/sla-policies", &cast.customer.token)
        .await
        .expect_error(403, "forbidden");

    let body = json!({"items": [{"priority": "urgent", "first_response_minutes": 5, "resolution_minutes": 60}]});
    app.send(
        "PUT",
        "/api/sla-policies",
        Some(&cast.supervisor.token),
        Some(&body),
    )
    .await
    .expect_error(403, "forbidden");
    let bad = json!({"items": [{"priority": "urgent", "first_response_minutes": 90, "resolution_minutes": 60}]});
    app.send(
        "PUT",
        "/api/sla-policies",
        Some(&cast.admin.token),
        Some(&bad),
    )
    .await
    .expect_error(422, "validation_failed");
    let res = app
        .send(
            "PUT",
            "/api/sla-policies",
            Some(&cast.admin.token),
            Some(&body),
        )
        .await;
    assert_eq!(res.ok()["items"][3]["first_response_minutes"], 5);

    let t = app
        .post(
            "/api/tickets",
            &cast.customer.token,
            json!({"title": "fast", "priority": "urgent"}),
        )
        .await;
    let created =
        chrono::DateTime::parse_from_rfc3339(t.ok()["created_at"].as_str().unwrap()).unwrap();
    let due =
        chrono::DateTime::parse_from_rfc3339(t.body["first_response_due_at"].as_str().unwrap())
            .unwrap();
    assert_eq!((due - created).num_minutes(), 5);
    app.stop().await;
}

#[actix_web::test]
async fn settings_are_admin_only() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let s = app.get("/api/settings", &cast.admin.token).await;
    assert_eq!(s.ok()["auto_assign"]["enabled"], false);
    for who in [&cast.customer, &cast.tech, &cast.supervisor] {
        app.get("/api/settings", &who.token)
            .await
            .expect_error(403, "forbidden");
    }
    let body = json!({"auto_assign": {"enabled": true, "max_open_per_agent": 5}});
    let s = app.patch("/api/settings", &cast.admin.token, body).await;
    assert_eq!(
        s.ok()["auto_assign"],
        json!({"enabled": true, "max_open_per_agent": 5})
    );
    assert_eq!(s.body["require_totp_for_staff"], false);
    app.patch(
        "/api/settings",
        &cast.admin.token,
        json!({"auto_assign": {"enabled": true, "max_open_per_agent": 0}}),
    )
    .await
    .expect_error(422, "validation_failed");
    assert_eq!(
        app.get("/api/settings", &cast.admin.token).await.body["auto_assign"]["max_open_per_agent"],
        5
    );
    app.stop().await;
}

#[actix_web::test]
async fn admin_actions_are_audited_without_secrets() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let created = app
        .post("/api/users", &cast.admin.token, json!({
            "email": "audited@example.com", "name": "Audited", "role": "technician", "password": "a secret password"}))
        .await;
    let id = created.ok()["id"].as_i64().unwrap();
    app.patch(
        format!("/api/users/{id}"),
        &cast.admin.token,
        json!({"role": "supervisor", "password": "another secret pw"}),
    )
    .await
    .ok();
    app.send(
        "DELETE",
        format!("/api/users/{id}"),
        Some(&cast.admin.token),
        None,
    )
    .await;
    app.patch(
        "/api/settings",
        &cast.admin.token,
        json!({"require_totp_for_staff": true}),
    )
    .await
    .ok();
    // A refused change leaves no entry.
    app.patch(
        format!("/api/users/{}", cast.admin.id),
        &cast.admin.token,
        json!({"role": "customer"}),
    )
    .await
    .expect_error(409, "last_admin");

    let log = app.get("/api/audit", &cast.admin.token).await;
    let items = log.ok()["items"].as_array().unwrap().clone();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "settings.update",
            "user.deactivate",
            "user.update",
            "user.create"
        ]
    );
    assert!(items.iter().all(|e| e["actor"]["id"] == cast.admin.id));
    assert_eq!(items[2]["details"]["role"], "supervisor");
    assert_eq!(items[2]["details"]["password_changed"], true);
    assert!(
        !log.body.to_string().contains("secret"),
        "no password in the audit log"
    );
    app.get("/api/audit", &cast.supervisor.token)
        .await
        .expect_error(403, "forbidden");
    app.stop().await;
}
