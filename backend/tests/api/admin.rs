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
