//! CSAT ratings, ticket links and @mentions.

use crate::common::ws::Ws;
use crate::common::*;
use serde_json::json;

#[actix_web::test]
async fn the_requester_rates_a_resolved_ticket_once() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let id = app.ticket(&cast.customer, "rate me").await["id"]
        .as_i64()
        .unwrap();
    let rate = |who: &TestUser, score: i64| {
        let token = who.token.clone();
        let app = &app;
        async move {
            app.post(
                format!("/api/tickets/{id}/rating"),
                &token,
                json!({"score": score, "comment": "quick!"}),
            )
            .await
        }
    };
    rate(&cast.customer, 5).await.expect_error(409, "conflict");
    app.patch(
        format!("/api/tickets/{id}"),
        &cast.tech.token,
        json!({"status": "resolved"}),
    )
    .await
    .ok();
    rate(&cast.customer, 6)
        .await
        .expect_error(422, "validation_failed");
    rate(&cast.tech, 5).await.expect_error(403, "forbidden");
    rate(&cast.other_customer, 5)
        .await
        .expect_error(404, "not_found");
    let ok = rate(&cast.customer, 4).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    rate(&cast.customer, 5).await.expect_error(409, "conflict");
    let shown = app
        .get(format!("/api/tickets/{id}/rating"), &cast.tech.token)
        .await;
    assert_eq!(
        (shown.ok()["score"].as_i64(), shown.body["comment"].as_str()),
        (Some(4), Some("quick!"))
    );
    let s = app
        .get("/api/analytics/summary", &cast.supervisor.token)
        .await;
    assert_eq!(
        (
            s.ok()["csat_average"].as_f64(),
            s.body["csat_count"].as_i64()
        ),
        (Some(4.0), Some(1))
    );
    app.stop().await;
}

#[actix_web::test]
async fn staff_link_tickets_both_ways() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let a = app.ticket(&cast.customer, "outage").await;
    let b = app.ticket(&cast.other_customer, "also outage").await;
    let (a_id, b_id) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
    let path = format!("/api/tickets/{b_id}/links");
    let made = app
        .post(
            &path,
            &cast.tech.token,
            json!({"target": a["number"], "kind": "duplicates"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["items"][0]["direction"], "outgoing");
    app.post(
        &path,
        &cast.tech.token,
        json!({"target": a_id.to_string(), "kind": "duplicates"}),
    )
    .await
    .expect_error(409, "conflict");
    app.post(
        &path,
        &cast.tech.token,
        json!({"target": b_id.to_string(), "kind": "relates"}),
    )
    .await
    .expect_error(422, "validation_failed");
    app.post(
        &path,
        &cast.tech.token,
        json!({"target": "TICK-1999-0001", "kind": "relates"}),
    )
    .await
    .expect_error(422, "validation_failed");
    app.post(
        &path,
        &cast.tech.token,
        json!({"target": a_id.to_string(), "kind": "likes"}),
    )
    .await
    .expect_error(422, "validation_failed");
    app.post(
        format!("/api/tickets/{a_id}/links"),
        &cast.customer.token,
        json!({"target": b_id.to_string(), "kind": "relates"}),
    )
    .await
    .expect_error(403, "forbidden");
    let from_a = app
        .get(format!("/api/tickets/{a_id}/links"), &cast.tech.token)
        .await;
    let l = &from_a.ok()["items"][0];
    assert_eq!(
        (
            l["direction"].as_str(),
            l["ticket_id"].as_i64(),
            l["kind"].as_str()
        ),
        (Some("incoming"), Some(b_id), Some("duplicates"))
    );
    let link_id = l["id"].as_i64().unwrap();
    let h = app
        .get(format!("/api/tickets/{b_id}/history"), &cast.tech.token)
        .await;
    assert!(h.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["field"] == "link"));
    assert_eq!(
        app.send(
            "DELETE",
            format!("/api/tickets/{a_id}/links/{link_id}"),
            Some(&cast.tech.token),
            None
        )
        .await
        .status,
        204
    );
    assert!(app.get(&path, &cast.tech.token).await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    app.stop().await;
}

#[actix_web::test]
async fn mentioned_staff_are_notified() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let id = app.ticket(&cast.customer, "help").await["id"]
        .as_i64()
        .unwrap();
    let (mut theo, _) = Ws::connect(&app.ws_url(), &cast.other_tech.token).await;
    let handle = cast.other_tech.email.split('@').next().unwrap().to_owned();
    app.message(
        &cast.tech,
        id,
        &format!("@{handle} could you check the router logs?"),
        true,
    )
    .await
    .ok();
    let pushed = theo.expect(|f| f["type"] == "notification", 5).await;
    assert_eq!(pushed["notification"]["kind"], "mention");
    assert_eq!(pushed["notification"]["ticket_id"], id);
    assert!(pushed["notification"]["body"]
        .as_str()
        .unwrap()
        .contains("router logs"));
    let list = app.get("/api/notifications", &cast.other_tech.token).await;
    assert_eq!(list.ok()["unread"], 1);
    // Customers cannot summon staff; mentioning yourself does nothing.
    let tech_handle = cast.tech.email.split('@').next().unwrap().to_owned();
    app.message(&cast.customer, id, &format!("@{handle} hello?"), false)
        .await
        .ok();
    app.message(&cast.tech, id, &format!("note to @{tech_handle}"), true)
        .await
        .ok();
    assert_eq!(
        app.get("/api/notifications", &cast.other_tech.token)
            .await
            .body["unread"],
        1
    );
    assert_eq!(
        app.get("/api/notifications", &cast.tech.token).await.body["unread"],
        0
    );
    app.stop().await;
}
