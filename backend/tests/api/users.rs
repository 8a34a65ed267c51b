//! Admin user management.

use crate::common::*;
use serde_json::json;

#[actix_web::test]
async fn admin_manages_users_and_roles() {
    let app = TestApp::start().await;
    let admin = app.user("admin", "Ada").await;
    let created = app
        .post(
            "/api/users",
            &admin.token,
            json!({
            "email": "New.Tech@Example.com", "name": "New Tech", "role": "technician",
            "password": "initial password"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["email"], "new.tech@example.com");
    let id = created.body["id"].as_i64().unwrap();
    assert!(created.body.get("password_hash").is_none());

    app.post("/api/users", &admin.token, json!({
        "email": "new.tech@example.com", "name": "Dup", "role": "customer", "password": "initial password"}))
        .await
        .expect_error(409, "email_taken");
    app.post(
        "/api/users",
        &admin.token,
        json!({
        "email": "x@example.com", "name": "X", "role": "overlord", "password": "initial password"}),
    )
    .await
    .expect_error(422, "validation_failed");

    let techs = app.get("/api/users?role=technician", &admin.token).await;
    assert!(techs.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["role"] == "technician"));
    let found = app.get("/api/users?q=new%20tech", &admin.token).await;
    assert_eq!(found.ok()["items"].as_array().unwrap().len(), 1);

    let staff = app.get("/api/staff", &admin.token).await;
    assert!(staff.ok().as_array().unwrap().iter().any(|u| u["id"] == id));

    let patched = app
        .patch(
            &format!("/api/users/{id}"),
            &admin.token,
            json!({"role": "supervisor", "name": "Promoted"}),
        )
        .await;
    assert_eq!(patched.ok()["role"], "supervisor");
    assert_eq!(patched.body["name"], "Promoted");
    app.patch(
        &format!("/api/users/{id}"),
        &admin.token,
        json!({"password": "short"}),
    )
    .await
    .expect_error(422, "validation_failed");
    app.get("/api/users/424242", &admin.token)
        .await
        .expect_error(404, "not_found");

    // The desk always keeps one active admin.
    app.patch(
        &format!("/api/users/{}", admin.id),
        &admin.token,
        json!({"role": "technician"}),
    )
    .await
    .expect_error(409, "last_admin");
    app.send(
        "DELETE",
        &format!("/api/users/{}", admin.id),
        Some(&admin.token),
        None,
    )
    .await
    .expect_error(409, "last_admin");
    assert_eq!(app.get("/api/me", &admin.token).await.body["role"], "admin");

    // Deactivated users drop out of the staff list and cannot sign in.
    assert_eq!(
        app.send(
            "DELETE",
            &format!("/api/users/{id}"),
            Some(&admin.token),
            None
        )
        .await
        .status,
        204
    );
    let staff = app.get("/api/staff", &admin.token).await;
    assert!(!staff.ok().as_array().unwrap().iter().any(|u| u["id"] == id));
    let login = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(&json!({"email": "new.tech@example.com", "password": "initial password"})),
        )
        .await;
    login.expect_error(401, "invalid_credentials");
    app.stop().await;
}
