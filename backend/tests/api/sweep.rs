//! The WebSocket permission sweep: every client frame type, sent by every kind of
//! caller (owner, another customer, technician, supervisor, admin, anonymous, expired
//! token) at a ticket they may and may not reach. And a canary word, left by staff
//! through every internal path, must never reach a customer by any path: live frames,
//! replay, REST, search, attachments, history, notifications, email, counts.

use crate::common::ws::Ws;
use crate::common::*;
use serde_json::{json, Value};

const CANARY: &str = "CANARY7QX";

fn send_frame(ticket: i64, internal: bool) -> Value {
    json!({"type": "send", "ticket_id": ticket, "client_id": uuid::Uuid::new_v4(),
           "body": "let me in", "internal": internal})
}

/// Every client frame type other than `auth`, aimed at `ticket`.
fn frames_at(ticket: i64) -> Vec<Value> {
    vec![
        json!({"type": "join", "ticket_id": ticket, "since_seq": 0}),
        send_frame(ticket, false),
        send_frame(ticket, true),
        json!({"type": "typing", "ticket_id": ticket, "state": "start"}),
        json!({"type": "read", "ticket_id": ticket, "seq": 1}),
    ]
}

/// Sends `frame` and returns the error it must get.
async fn refused(ws: &mut Ws, frame: Value) -> Value {
    let ty = frame["type"].as_str().unwrap().to_owned();
    ws.send(frame).await;
    let e = ws
        .expect(|f| f["type"] == "error" || f["type"] == "ack", 5)
        .await;
    assert_eq!(e["type"], "error", "{ty} was accepted: {e}");
    assert_eq!(e["ref"], ty.as_str(), "{e}");
    e
}

fn no_canary(what: &str, seen: &[Value]) {
    for f in seen {
        assert!(!f.to_string().contains(CANARY), "{what} got {f}");
    }
}

#[actix_web::test]
async fn every_frame_by_every_role_reaches_only_what_it_may() {
    let app = TestApp::start_redis().await;
    let cast = Cast::new(&app).await;
    let (owner, stranger) = (&cast.customer, &cast.other_customer);
    let t = app.ticket(owner, "Laptop battery swelling").await["id"]
        .as_i64()
        .unwrap();
    let u = app.ticket(stranger, "Mouse double clicks").await["id"]
        .as_i64()
        .unwrap();

    // Everyone who may be in T's room is, and every frame they get is kept.
    let (mut own_ws, _) = Ws::connect(&app.ws_url(), &owner.token).await;
    own_ws.join(t, 0).await;
    let (mut str_ws, _) = Ws::connect(&app.ws_url(), &stranger.token).await;
    str_ws.join(u, 0).await;
    let mut staff_ws = Vec::new();
    for who in [&cast.tech, &cast.supervisor, &cast.admin] {
        let (mut ws, _) = Ws::connect(&app.ws_url(), &who.token).await;
        // Staff may join any ticket, and see each other's.
        ws.join(t, 0).await;
        ws.join(u, 0).await;
        staff_ws.push(ws);
    }

    // Staff leave the canary by every internal path: a REST note (mentioning the
    // customer by name), a live note, and a file on a note.
    app.message(
        &cast.tech,
        t,
        &format!("{CANARY} REST note, @Cora see this?"),
        true,
    )
    .await
    .ok();
    staff_ws[1]
        .send(
            json!({"type": "send", "ticket_id": t, "client_id": uuid::Uuid::new_v4(),
                     "body": format!("{CANARY} live note"), "internal": true}),
        )
        .await;
    staff_ws[1].expect(|f| f["type"] == "ack", 5).await;
    let note = app
        .message(&cast.admin, t, "see the attached log", true)
        .await;
    let note_id = note.ok()["id"].as_i64().unwrap();
    let file = app
        .upload(
            t,
            &cast.admin.token,
            "log.txt",
            format!("{CANARY} in a file\n").as_bytes(),
            Some(note_id),
        )
        .await;
    assert_eq!(file.status, 201, "{:?}", file.body);
    let file_id = file.body["id"].as_i64().unwrap();
    // And the public side of the conversation goes on: a reply, a status change.
    app.message(&cast.tech, t, "we are sending a new battery", false)
        .await
        .ok();
    app.patch(
        &format!("/api/tickets/{t}"),
        &cast.tech.token,
        json!({"status": "pending"}),
    )
    .await
    .ok();
    own_ws
        .expect(|f| f["type"] == "message" && f["seq"] == 4, 5)
        .await;
    for ws in &mut staff_ws {
        ws.expect(|f| f["type"] == "message" && f["seq"] == 4, 5)
            .await;
    }

    // The other customer, frame by frame, at the owner's ticket: refused, nothing stored,
    // nothing seen by the room.
    let before = app.counts();
    for frame in frames_at(t) {
        let e = refused(&mut str_ws, frame).await;
        assert!(
            ["not_found", "not_joined", "forbidden"].contains(&e["code"].as_str().unwrap()),
            "{e}"
        );
    }
    str_ws.send(json!({"type": "leave", "ticket_id": t})).await;
    // The owner may not write an internal note, nor reach the other's ticket.
    refused(&mut own_ws, send_frame(t, true)).await;
    for frame in frames_at(u) {
        refused(&mut own_ws, frame).await;
    }
    // Staff may do all of it, at either ticket (one public reply each to U).
    for (i, ws) in staff_ws.iter_mut().enumerate() {
        ws.send(json!({"type": "typing", "ticket_id": u, "state": "start"}))
            .await;
        ws.send(json!({"type": "read", "ticket_id": u, "seq": 0}))
            .await;
        let cid = uuid::Uuid::new_v4();
        ws.send(json!({"type": "send", "ticket_id": u, "client_id": cid,
                       "body": format!("staff reply {i}"), "internal": false}))
            .await;
        let ack = ws.expect(|f| f["type"] == "ack", 5).await;
        assert_eq!(ack["client_id"], json!(cid));
    }
    let after = app.counts();
    assert_eq!(
        after,
        [before[0], before[1], before[2] + 3, before[3], before[4]],
        "only staff's three replies were stored"
    );
    str_ws
        .expect(
            |f| f["type"] == "message" && f["message"]["body"] == "staff reply 2",
            5,
        )
        .await;
    // Nothing the stranger did showed up in T's room.
    for f in &own_ws.seen {
        assert_ne!(f["user"]["id"], stranger.id, "{f}");
        assert_ne!(f["user_id"], stranger.id, "{f}");
    }
    for f in &str_ws.seen {
        if f["type"] != "error" {
            assert_ne!(f["ticket_id"], t, "the stranger learned of T: {f}");
        }
    }

    // Staff saw every note live.
    for ws in &staff_ws {
        let notes = ws
            .seen
            .iter()
            .filter(|f| f["type"] == "message" && f["message"]["kind"] == "internal")
            .count();
        assert_eq!(notes, 3);
    }

    // A customer socket, live or replayed from the start, never carried the canary.
    let (mut again, _) = Ws::connect(&app.ws_url(), &owner.token).await;
    let replayed = again.join(t, 0).await;
    assert_eq!(replayed, vec![4], "replay: public messages only");
    no_canary("the owner's live socket", &own_ws.seen);
    no_canary("the owner's replay", &again.seen);
    no_canary("the other customer's socket", &str_ws.seen);

    // Nor any other path.
    for path in [
        format!("/api/tickets/{t}"),
        format!("/api/tickets/{t}/messages"),
        format!("/api/tickets/{t}/messages?after_seq=0"),
        format!("/api/tickets/{t}/history"),
        format!("/api/tickets/{t}/attachments"),
        "/api/tickets".to_owned(),
        format!("/api/tickets?q={CANARY}"),
        "/api/notifications".to_owned(),
    ] {
        let r = app.get(&path, &owner.token).await;
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        assert!(!r.body.to_string().contains(CANARY), "{path}: {}", r.body);
    }
    let view = app.get(&format!("/api/tickets/{t}"), &owner.token).await;
    assert_eq!(view.body["message_count"], 1, "counts skip notes");
    app.get(&format!("/api/attachments/{file_id}"), &owner.token)
        .await
        .expect_error(404, "not_found");
    assert!(
        app.get(&format!("/api/attachments/{file_id}"), &cast.tech.token)
            .await
            .body
            .to_string()
            .contains(CANARY),
        "staff get the file"
    );
    // Email: the owner was mailed about the reply, never about a note.
    let mails = outbox_to(&app, &owner.email);
    assert!(!mails.is_empty(), "the owner gets email about their ticket");
    for m in &mails {
        assert!(!m.contains(CANARY), "email to the customer: {m}");
    }

    // Anonymous: any frame before `auth` ends the socket with 4401.
    for frame in frames_at(t)
        .into_iter()
        .chain([json!({"type": "leave", "ticket_id": t})])
    {
        let mut anon = Ws::open(&app.ws_url(), Some(ORIGIN)).await.unwrap();
        anon.send(frame.clone()).await;
        let e = anon.expect(|f| f["type"] == "error", 5).await;
        assert_eq!(e["code"], "auth_required", "{frame}");
        assert_eq!(anon.expect_close(5).await, Some(4401));
    }
    // An expired or forged token is refused the same way.
    let now = chrono::Utc::now().timestamp();
    let expired = app.token_with_times(&owner.token, now - 1200, now - 600);
    for token in [expired.as_str(), "not-a-token", owner.refresh.as_str()] {
        let mut ws = Ws::open(&app.ws_url(), Some(ORIGIN)).await.unwrap();
        ws.send(json!({"type": "auth", "token": token})).await;
        let e = ws.expect(|f| f["type"] == "error", 5).await;
        assert_eq!(e["code"], "invalid_token");
        assert_eq!(ws.expect_close(5).await, Some(4401));
        no_canary("a refused socket", &ws.seen);
    }
    app.stop().await;
}

/// Subjects and bodies of the email queued for `recipient`.
fn outbox_to(app: &TestApp, recipient: &str) -> Vec<String> {
    use diesel::prelude::*;
    use relay_desk::db::schema::outbox;
    outbox::table
        .filter(outbox::recipient.eq(recipient))
        .select((outbox::subject, outbox::body))
        .load::<(String, String)>(&mut app.conn())
        .unwrap()
        .into_iter()
        .map(|(s, b)| format!("{s}\n{b}"))
        .collect()
}
