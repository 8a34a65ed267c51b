//! Persisted notifications, pushed live on the user's channel.

use crate::common::ws::Ws;
use crate::common::*;
use serde_json::json;

#[actix_web::test]
async fn status_changes_and_assignments_notify_the_right_people() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let (mut cust_ws, _) = Ws::connect(&app.ws_url(), &cast.customer.token).await;
    let (mut tech_ws, _) = Ws::connect(&app.ws_url(), &cast.tech.token).await;
    let t = app.ticket(&cast.customer, "notify me").await;
    let id = t["id"].as_i64().unwrap();
    let number = t["number"].as_str().unwrap().to_owned();

    app.post(
        format!("/api/tickets/{id}/assign"),
        &cast.supervisor.token,
        json!({"assignee_id": cast.tech.id}),
    )
    .await
    .ok();
    let pushed = tech_ws.expect(|f| f["type"] == "notification", 5).await;
    assert_eq!(pushed["notification"]["kind"], "assigned");
    assert_eq!(pushed["notification"]["ticket_id"], id);
    let customer_note = cust_ws.expect(|f| f["type"] == "notification", 5).await;
    assert_eq!(
        customer_note["notification"]["title"],
        format!("{number} is now in progress")
    );

    app.patch(
        format!("/api/tickets/{id}"),
        &cast.tech.token,
        json!({"status": "resolved"}),
    )
    .await
    .ok();
    cust_ws
        .expect(
            |f| {
                f["type"] == "notification"
                    && f["notification"]["title"] == format!("{number} is now resolved")
            },
            5,
        )
        .await;

    let list = app.get("/api/notifications", &cast.customer.token).await;
    assert_eq!(list.ok()["unread"], 2);
    assert_eq!(list.body["items"][0]["kind"], "status_changed");
    // The customer's own change (closing) does not notify the customer.
    app.patch(
        format!("/api/tickets/{id}"),
        &cast.customer.token,
        json!({"status": "closed"}),
    )
    .await
    .ok();
    assert_eq!(
        app.get("/api/notifications", &cast.customer.token)
            .await
            .body["unread"],
        2
    );

    // Marking read: someone else's ids are ignored, own ones cleared.
    let tech_note = app.get("/api/notifications", &cast.tech.token).await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let r = app
        .post(
            "/api/notifications/read",
            &cast.customer.token,
            json!({"ids": [tech_note]}),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        app.get("/api/notifications?unread=true", &cast.tech.token)
            .await
            .body["unread"],
        1
    );
    app.post(
        "/api/notifications/read",
        &cast.customer.token,
        json!({"all": true}),
    )
    .await;
    let after = app
        .get("/api/notifications?unread=true", &cast.customer.token)
        .await;
    assert_eq!(
        (
            after.ok()["unread"].as_i64(),
            after.body["items"].as_array().unwrap().len()
        ),
        (Some(0), 0)
    );
    app.post("/api/notifications/read", &cast.customer.token, json!({}))
        .await
        .expect_error(422, "validation_failed");
    app.stop().await;
}
