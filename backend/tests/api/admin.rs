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
        json!({"require_totp_for_staff": false}),
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

#[actix_web::test]
async fn auto_assignment_balances_online_technicians_within_the_cap() {
    use crate::common::ws::Ws;
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let offline = app.user("technician", "Otto Offline").await;
    let created = |title: &'static str| {
        let app = &app;
        let token = cast.customer.token.clone();
        async move {
            app.post("/api/tickets", &token, json!({"title": title}))
                .await
                .body
        }
    };
    // Off by default.
    assert!(created("before").await["assignee"].is_null());

    app.patch(
        "/api/settings",
        &cast.admin.token,
        json!({"auto_assign": {"enabled": true, "max_open_per_agent": 1}}),
    )
    .await
    .ok();
    let (mut tara, _) = Ws::connect(&app.ws_url(), &cast.tech.token).await;
    let (_theo, _) = Ws::connect(&app.ws_url(), &cast.other_tech.token).await;
    let first = created("first").await;
    let second = created("second").await;
    let third = created("third").await;
    let a = first["assignee"]["id"].as_i64().unwrap();
    let b = second["assignee"]["id"].as_i64().unwrap();
    assert_eq!(first["status"], "in_progress");
    let mut got = vec![a, b];
    got.sort();
    let mut want = vec![cast.tech.id, cast.other_tech.id];
    want.sort();
    assert_eq!(got, want, "one each: fewest open tickets first");
    assert!(
        third["assignee"].is_null(),
        "both are at the cap of 1; the offline one is never picked"
    );
    assert_ne!(a, offline.id);
    // The pick is announced like any assignment.
    let first_id = first["id"].clone();
    let second_id = second["id"].clone();
    let mine = if a == cast.tech.id {
        first_id
    } else {
        second_id
    };
    let alert = tara.expect(|f| f["type"] == "assigned", 5).await;
    assert_eq!(alert["ticket"]["id"], mine);
    let h = app
        .get(
            format!("/api/tickets/{}/history", first["id"]),
            &cast.supervisor.token,
        )
        .await;
    assert!(h.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["field"] == "assignee_id" && e["actor"].is_null()));
    app.stop().await;
}
