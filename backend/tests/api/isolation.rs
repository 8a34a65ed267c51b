//! Customers never see another customer's ticket, nor any internal note: by id, by
//! number, in lists, in search, in message lists, in counts, in history.

use crate::common::*;
use serde_json::json;

#[actix_web::test]
async fn customers_see_only_their_own_and_never_internal_notes() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let (a, b, tech) = (&cast.customer, &cast.other_customer, &cast.tech);

    let mine = app.ticket(a, "Keyboard missing keys").await;
    let id = mine["id"].as_i64().unwrap();
    let number = mine["number"].as_str().unwrap().to_owned();
    app.message(a, id, "the zebra key fell off", false)
        .await
        .ok();
    app.message(tech, id, "CANARYNOTE customer broke it, bill them", true)
        .await
        .ok();
    app.message(tech, id, "we will send a replacement", false)
        .await
        .ok();
    let theirs = app.ticket(b, "Monitor flickers").await;

    // Another customer: 404 by id and number, for the ticket and everything under it.
    for path in [
        format!("/api/tickets/{id}"),
        format!("/api/tickets/{number}"),
        format!("/api/tickets/{id}/messages"),
        format!("/api/tickets/{id}/history"),
    ] {
        app.get(&path, &b.token)
            .await
            .expect_error(404, "not_found");
    }
    app.message(b, id, "let me in", false)
        .await
        .expect_error(404, "not_found");
    app.patch(
        &format!("/api/tickets/{id}"),
        &b.token,
        json!({"status": "closed"}),
    )
    .await
    .expect_error(404, "not_found");

    // Lists and search, whatever the filters say.
    for q in [
        "/api/tickets".to_owned(),
        format!("/api/tickets?requester_id={}", a.id),
        "/api/tickets?q=keyboard".to_owned(),
        format!("/api/tickets?number={number}"),
    ] {
        let items = app.get(&q, &b.token).await.ok()["items"]
            .as_array()
            .unwrap()
            .clone();
        assert!(
            items.iter().all(|t| t["requester"]["id"] == b.id),
            "{q}: {items:?}"
        );
        assert!(items.iter().all(|t| t["id"] != id), "{q}");
    }
    let own = app.get("/api/tickets", &b.token).await;
    assert_eq!(own.ok()["items"].as_array().unwrap().len(), 1);
    assert_eq!(own.body["items"][0]["id"], theirs["id"]);

    // The owner sees the conversation without the internal note, and counts agree.
    let msgs = app
        .get(&format!("/api/tickets/{id}/messages"), &a.token)
        .await;
    let bodies: Vec<String> = msgs.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        bodies,
        ["the zebra key fell off", "we will send a replacement"]
    );
    assert!(!msgs.body.to_string().contains("CANARY"));
    let view = app.get(&format!("/api/tickets/{id}"), &a.token).await;
    assert_eq!(view.ok()["message_count"], 2);
    let listed = app.get("/api/tickets", &a.token).await;
    assert_eq!(listed.ok()["items"][0]["message_count"], 2);
    assert!(!app
        .get(&format!("/api/tickets/{id}/history"), &a.token)
        .await
        .body
        .to_string()
        .contains("CANARY"));
    // after_seq replay skips the internal note too.
    let replay = app
        .get(&format!("/api/tickets/{id}/messages?after_seq=1"), &a.token)
        .await;
    let seqs: Vec<i64> = replay.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![3]);

    // Staff see all three.
    assert_eq!(
        app.get(&format!("/api/tickets/{id}"), &tech.token)
            .await
            .body["message_count"],
        3
    );

    // Internal text is not searchable by anyone; public text is, by those who may see it.
    for who in [a, tech] {
        let hits = app.get("/api/tickets?q=CANARYNOTE", &who.token).await;
        assert_eq!(hits.ok()["items"].as_array().unwrap().len(), 0);
    }
    let zebra = app.get("/api/tickets?q=zebra", &a.token).await;
    assert_eq!(zebra.ok()["items"].as_array().unwrap().len(), 1);
    let zebra_b = app.get("/api/tickets?q=zebra", &b.token).await;
    assert_eq!(zebra_b.ok()["items"].as_array().unwrap().len(), 0);
    app.stop().await;
}
