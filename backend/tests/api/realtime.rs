//! The WebSocket protocol of SPEC §4 on one instance (in-process bus).

use crate::common::ws::{Event, Ws};
use crate::common::*;
use futures_util::future::join_all;
use serde_json::{json, Value};
use std::time::Duration;

#[actix_web::test]
async fn origin_and_auth_are_enforced() {
    let app = TestApp::start().await;
    let url = app.ws_url();
    for origin in [
        None,
        Some("http://evil.test"),
        Some("null"),
        Some("http://relay.test.evil.test"),
    ] {
        assert_eq!(
            Ws::open(&url, origin).await.err(),
            Some(403),
            "origin {origin:?}"
        );
    }
    // No auth within 5 s: 4401.
    let mut idle = Ws::open(&url, Some(ORIGIN)).await.unwrap();
    assert_eq!(idle.expect_close(8).await, Some(4401));
    // A bad token: error frame, then 4401.
    let mut bad = Ws::open(&url, Some(ORIGIN)).await.unwrap();
    bad.send(json!({"type": "auth", "token": "nope"})).await;
    let err = bad.expect(|f| f["type"] == "error", 5).await;
    assert_eq!(err["code"], "invalid_token");
    assert_eq!(bad.expect_close(5).await, Some(4401));
    // Anything but auth first: 4401.
    let mut early = Ws::open(&url, Some(ORIGIN)).await.unwrap();
    early.send(json!({"type": "join", "ticket_id": 1})).await;
    assert_eq!(early.expect_close(5).await, Some(4401));
    // A good token: ready, with the user.
    let c = app.user("customer", "Cora").await;
    let (_ws, ready) = Ws::connect(&url, &c.token).await;
    assert_eq!(ready["user"]["id"], c.id);
    assert!(ready["connection_id"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    app.stop().await;
}

/// The transport under the protocol: refusals with the envelope, bytes that arrive with
/// the handshake, fragmented messages, pings, and both ways of closing.
#[actix_web::test]
async fn websocket_transport_handshake_fragments_pings_and_closes() {
    use crate::common::ws::raw;
    use actix_http::ws::{Frame, Item, Message};
    let app = TestApp::start().await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let c = app.user("customer", "Cora").await;

    // Refusals are HTTP answers with SPEC's envelope, and nothing is upgraded.
    let (status, head, body, _) =
        raw::open(&addr, &raw::handshake(&addr, "/ws", "http://evil.test")).await;
    assert_eq!(status, 403, "{head}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]["code"],
        "forbidden"
    );
    assert!(
        head.to_ascii_lowercase().contains("x-request-id:"),
        "{head}"
    );
    let (status, _, body, _) =
        raw::open(&addr, &raw::handshake(&addr, "/api/tickets", ORIGIN)).await;
    assert_eq!(status, 404);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]["code"],
        "not_found"
    );
    let plain = format!("GET /ws HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let (status, head, body, _) = raw::open(&addr, plain.as_bytes()).await;
    assert_eq!(status, 426, "{head}");
    assert!(
        head.to_ascii_lowercase().contains("upgrade: websocket"),
        "{head}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]["code"],
        "bad_request"
    );

    // The auth frame in the same write as the handshake is read, not lost.
    let auth = json!({"type": "auth", "token": c.token}).to_string();
    let mut bytes = raw::handshake(&addr, "/ws", ORIGIN);
    bytes.extend(raw::frame(0x1, auth.as_bytes()));
    let (status, head, _, mut s) = raw::open(&addr, &bytes).await;
    assert_eq!(status, 101, "{head}");
    let (op, payload) = raw::read_frame(&mut s).await;
    let ready: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!((op, ready["type"].as_str()), (0x1, Some("ready")));
    assert_eq!(ready["user"]["id"], c.id);

    // Auth in three fragments is one message; a ping gets its pong.
    let mut ws = Ws::open(&app.ws_url(), Some(ORIGIN)).await.unwrap();
    let (a, rest) = auth.split_at(5);
    let (b, z) = rest.split_at(rest.len() / 2);
    ws.send_message(Message::Continuation(Item::FirstText(a.to_owned().into())))
        .await;
    ws.send_message(Message::Continuation(Item::Continue(b.to_owned().into())))
        .await;
    ws.send_message(Message::Continuation(Item::Last(z.to_owned().into())))
        .await;
    ws.expect(|f| f["type"] == "ready", 5).await;
    ws.send_message(Message::Ping("are you there".into())).await;
    let pong = loop {
        match ws.next_frame(Duration::from_secs(5)).await {
            Some(Frame::Pong(p)) => break p,
            Some(Frame::Text(_)) => {}
            other => panic!("expected a pong, got {other:?}"),
        }
    };
    assert_eq!(&pong[..], b"are you there");

    // The client closes: the server answers with a close frame.
    ws.send_message(Message::Close(None)).await;
    loop {
        match ws.next_frame(Duration::from_secs(5)).await {
            Some(Frame::Close(_)) => break,
            Some(Frame::Text(_)) => {}
            other => panic!("expected the close answer, got {other:?}"),
        }
    }

    // A joined text message that is not UTF-8 closes with 1007; a continuation with
    // nothing to continue breaks the protocol: 1002.
    let (mut ws, _) = Ws::connect(&app.ws_url(), &c.token).await;
    ws.send_message(Message::Continuation(Item::FirstText(
        vec![b'{', 0xff].into(),
    )))
    .await;
    ws.send_message(Message::Continuation(Item::Last(vec![0xfe, b'}'].into())))
        .await;
    assert_eq!(ws.expect_close(5).await, Some(1007));
    let mut bytes = raw::handshake(&addr, "/ws", ORIGIN);
    bytes.extend(raw::frame(0x1, auth.as_bytes()));
    bytes.extend(raw::frame(0x0, b"stray"));
    let (_, _, _, mut s) = raw::open(&addr, &bytes).await;
    let close = loop {
        match raw::read_frame(&mut s).await {
            (0x8, payload) => break payload,
            (0x1, _) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(u16::from_be_bytes([close[0], close[1]]), 1002);
    // The server itself is unaffected.
    let (_ws, ready) = Ws::connect(&app.ws_url(), &c.token).await;
    assert_eq!(ready["user"]["id"], c.id);
    app.stop().await;
}

#[actix_web::test]
async fn bad_frames_get_errors_and_the_socket_lives_on() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Cora").await;
    let t = app.ticket(&c, "frames").await;
    let id = t["id"].as_i64().unwrap();
    let (mut ws, _) = Ws::connect(&app.ws_url(), &c.token).await;
    let (mut bystander, _) = Ws::connect(&app.ws_url(), &c.token).await;
    bystander.join(id, 0).await;

    ws.send_text("{not json".into()).await;
    assert_eq!(
        ws.expect(|f| f["type"] == "error", 5).await["code"],
        "invalid_json"
    );
    ws.send(json!({"type": "dance"})).await;
    let e = ws.expect(|f| f["type"] == "error", 5).await;
    assert_eq!(
        (e["code"].as_str(), e["ref"].as_str()),
        (Some("unknown_type"), Some("dance"))
    );
    ws.send(json!({"type": "join", "ticket_id": "forty-two"}))
        .await;
    let e = ws.expect(|f| f["type"] == "error", 5).await;
    assert_eq!(
        (e["code"].as_str(), e["ref"].as_str()),
        (Some("bad_frame"), Some("join"))
    );
    ws.send_text(json!({"type": "send", "ticket_id": id, "client_id": uuid::Uuid::new_v4(), "body": "x".repeat(70_000)}).to_string()).await;
    assert_eq!(
        ws.expect(|f| f["type"] == "error", 5).await["code"],
        "frame_too_large"
    );
    ws.send(json!({"type": "join", "ticket_id": 999999})).await;
    let e = ws.expect(|f| f["type"] == "error", 5).await;
    assert_eq!(
        (e["code"].as_str(), e["ref"].as_str()),
        (Some("not_found"), Some("join"))
    );
    ws.send(json!({"type": "typing", "ticket_id": id, "state": "start"}))
        .await;
    assert_eq!(
        ws.expect(|f| f["type"] == "error", 5).await["code"],
        "not_joined"
    );

    // Still alive and useful.
    assert_eq!(ws.join(id, 0).await, Vec::<i64>::new());
    let cid = uuid::Uuid::new_v4();
    ws.send(json!({"type": "send", "ticket_id": id, "client_id": cid, "body": "still here"}))
        .await;
    let ack = ws.expect(|f| f["type"] == "ack", 5).await;
    assert_eq!(ack["client_id"], json!(cid));
    bystander
        .expect(
            |f| f["type"] == "message" && f["message"]["body"] == "still here",
            5,
        )
        .await;

    // A frame over the codec limit (1 MiB) closes with 1009; others are unaffected.
    ws.send_text("y".repeat(2 << 20)).await;
    assert_eq!(ws.expect_close(5).await, Some(1009));
    app.message(&c, id, "after the big one", false).await.ok();
    bystander
        .expect(|f| f["message"]["body"] == "after the big one", 5)
        .await;

    // Repeated abuse closes with 4429.
    let (mut abuser, _) = Ws::connect(&app.ws_url(), &c.token).await;
    for _ in 0..30 {
        abuser.send_text("garbage".into()).await;
    }
    assert_eq!(abuser.expect_close(5).await, Some(4429));
    app.stop().await;
}

#[actix_web::test]
async fn conversation_typing_receipts_presence_and_notes() {
    conversation(TestApp::start().await).await;
}

#[actix_web::test]
async fn conversation_typing_receipts_presence_and_notes_over_redis() {
    conversation(TestApp::start_redis().await).await;
}

async fn conversation(app: TestApp) {
    let c = app.user("customer", "Cora").await;
    let tech = app.user("technician", "Tara").await;
    let t = app.ticket(&c, "live chat").await;
    let id = t["id"].as_i64().unwrap();
    for i in 1..=3 {
        app.message(&tech, id, &format!("before {i}"), false)
            .await
            .ok();
    }
    app.message(&tech, id, "secret before", true).await.ok();

    let url = app.ws_url();
    let (mut cust, _) = Ws::connect(&url, &c.token).await;
    assert_eq!(
        cust.join(id, 1).await,
        vec![2, 3],
        "replay after since_seq, internal note skipped"
    );
    let presence = cust.seen.last().unwrap().clone();
    assert_eq!(presence["users"].as_array().unwrap().len(), 1);

    let (mut agent, _) = Ws::connect(&url, &tech.token).await;
    assert_eq!(agent.join(id, 0).await, vec![1, 2, 3, 4]);
    let joined = cust.expect(|f| f["type"] == "joined", 5).await;
    assert_eq!(joined["user"]["id"], tech.id);
    let present = agent.seen.last().unwrap()["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].clone())
        .collect::<Vec<_>>();
    assert_eq!(present.len(), 2);

    // A customer message: ack to the sender, message to everyone in the room.
    let cid = uuid::Uuid::new_v4();
    cust.send(json!({"type": "send", "ticket_id": id, "client_id": cid, "body": "hello live"}))
        .await;
    let ack = cust.expect(|f| f["type"] == "ack", 5).await;
    assert_eq!(ack["message"]["seq"], 5);
    let m = agent.expect(|f| f["type"] == "message", 5).await;
    assert_eq!(
        (m["seq"].as_i64(), m["message"]["body"].as_str()),
        (Some(5), Some("hello live"))
    );
    // A retry of the same client_id is acknowledged with the same message, not re-sent.
    cust.send(json!({"type": "send", "ticket_id": id, "client_id": cid, "body": "hello live"}))
        .await;
    let again = cust.expect(|f| f["type"] == "ack", 5).await;
    assert_eq!(again["message"]["id"], ack["message"]["id"]);

    // An internal note reaches staff only; REST posts are delivered the same way.
    app.message(&tech, id, "CANARY internal", true).await.ok();
    app.message(&tech, id, "public after note", false)
        .await
        .ok();
    agent
        .expect(|f| f["message"]["body"] == "public after note", 5)
        .await;
    cust.expect(|f| f["message"]["body"] == "public after note", 5)
        .await;
    assert!(agent
        .seen
        .iter()
        .any(|f| f["message"]["body"] == "CANARY internal"));
    assert!(!cust.seen.iter().any(|f| f.to_string().contains("CANARY")));

    // Typing: others see start and stop, the typist does not see their own.
    agent
        .send(json!({"type": "typing", "ticket_id": id, "state": "start"}))
        .await;
    let ty = cust.expect(|f| f["type"] == "typing", 5).await;
    assert_eq!(
        (ty["state"].as_str(), ty["user"]["id"].as_i64()),
        (Some("start"), Some(tech.id))
    );
    agent
        .send(json!({"type": "typing", "ticket_id": id, "state": "stop"}))
        .await;
    assert_eq!(
        cust.expect(|f| f["type"] == "typing", 5).await["state"],
        "stop"
    );

    // Read receipts: stored, broadcast, never backwards. The customer reads up to 7.
    cust.send(json!({"type": "read", "ticket_id": id, "seq": 7}))
        .await;
    let r = agent.expect(|f| f["type"] == "receipt", 5).await;
    assert_eq!(
        (r["user_id"].as_i64(), r["seq"].as_i64()),
        (Some(c.id), Some(7))
    );
    cust.send(json!({"type": "read", "ticket_id": id, "seq": 3}))
        .await;
    // Staff reads up to the internal note (6): the customer is told 5, the last seq they can see.
    agent
        .send(json!({"type": "read", "ticket_id": id, "seq": 6}))
        .await;
    let r = cust
        .expect(|f| f["type"] == "receipt" && f["user_id"] == tech.id, 5)
        .await;
    assert_eq!(r["seq"], 5);
    // A new socket gets the current receipts on join.
    let (mut late, _) = Ws::connect(&url, &tech.token).await;
    late.join(id, 7).await;
    let receipts: Vec<(i64, i64)> = late
        .seen
        .iter()
        .filter(|f| f["type"] == "receipt")
        .map(|f| (f["user_id"].as_i64().unwrap(), f["seq"].as_i64().unwrap()))
        .collect();
    assert!(
        receipts.contains(&(c.id, 7)) && receipts.contains(&(tech.id, 6)),
        "{receipts:?}"
    );
    assert!(!agent
        .seen
        .iter()
        .any(|f| f["type"] == "receipt" && f["user_id"] == c.id && f["seq"] == 3));

    // Several tabs are present once; leaving the last one says `left`.
    drop(late);
    agent.send(json!({"type": "leave", "ticket_id": id})).await;
    let left = cust.expect(|f| f["type"] == "left", 5).await;
    assert_eq!(left["user"]["id"], tech.id);
    app.stop().await;
}

#[actix_web::test]
async fn typing_without_stop_expires() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Cora").await;
    let tech = app.user("technician", "Tara").await;
    let id = app.ticket(&c, "typing").await["id"].as_i64().unwrap();
    let (mut a, _) = Ws::connect(&app.ws_url(), &c.token).await;
    let (mut b, _) = Ws::connect(&app.ws_url(), &tech.token).await;
    a.join(id, 0).await;
    b.join(id, 0).await;
    let started = std::time::Instant::now();
    b.send(json!({"type": "typing", "ticket_id": id, "state": "start"}))
        .await;
    a.expect(|f| f["type"] == "typing" && f["state"] == "start", 5)
        .await;
    a.expect(|f| f["type"] == "typing" && f["state"] == "stop", 9)
        .await;
    let after = started.elapsed();
    assert!(
        after >= Duration::from_secs(5),
        "expired after {after:?}, expected about 6 s"
    );
    app.stop().await;
}

#[actix_web::test]
async fn join_during_a_burst_gets_every_message_exactly_once_in_order() {
    burst(TestApp::start().await).await;
}

#[actix_web::test]
async fn join_during_a_burst_over_redis() {
    burst(TestApp::start_redis().await).await;
}

async fn burst(app: TestApp) {
    let c = app.user("customer", "Cora").await;
    let tech = app.user("technician", "Tara").await;
    let id = app.ticket(&c, "burst").await["id"].as_i64().unwrap();
    let total = 120;
    let bodies: Vec<String> = (0..total).map(|i| format!("burst {i}")).collect();
    let url = app.ws_url();
    let (mut watcher, _) = Ws::connect(&url, &tech.token).await;
    let posting = join_all(bodies.iter().enumerate().map(|(i, b)| {
        let who = if i % 2 == 0 { &c } else { &tech };
        app.message(who, id, b, i % 2 == 1 && i % 7 == 3)
    }));
    let joining = async {
        actix_web::rt::time::sleep(Duration::from_millis(30)).await;
        watcher.join(id, 0).await;
    };
    let (results, _) = futures_util::join!(posting, joining);
    assert!(results.iter().all(|r| r.status == 201));
    while watcher.message_seqs(id).len() < total {
        match watcher.next(Duration::from_secs(10)).await {
            Some(Event::Frame(_)) => {}
            other => panic!(
                "stream ended early: {other:?}, got {}",
                watcher.message_seqs(id).len()
            ),
        }
    }
    assert_eq!(
        watcher.message_seqs(id),
        (1..=total as i64).collect::<Vec<_>>()
    );
    // No message arrives after the last: no duplicates. (Other events may: the first
    // staff reply's `ticket_updated` is published after its message, and with posts
    // committed in batches it can trail the burst.)
    while let Some(e) = watcher.next(Duration::from_millis(300)).await {
        match e {
            Event::Frame(f) => assert_ne!(f["type"], "message", "a message after the last: {f}"),
            Event::Closed(code) => panic!("the socket closed: {code:?}"),
        }
    }
    assert_eq!(watcher.message_seqs(id).len(), total);
    app.stop().await;
}

/// A long ticket's replay (several pages, far more bytes than one write carries) reaches
/// a joining socket whole and in order, internal notes only to staff, and ends with the
/// presence frame.
#[actix_web::test]
async fn a_long_replay_arrives_whole_and_in_order() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Cora").await;
    let tech = app.user("technician", "Tara").await;
    let id = app.ticket(&c, "a long conversation").await["id"]
        .as_i64()
        .unwrap();
    let total = 1_050;
    let filler = "x".repeat(300);
    let mut internal = Vec::new();
    let mut bodies = std::collections::HashMap::new();
    let (app_, c_, tech_) = (&app, &c, &tech);
    for chunk in (0..total).collect::<Vec<_>>().chunks(50) {
        let posts = chunk.iter().map(|i| {
            let note = i % 10 == 9;
            let body = format!("long {i} {filler}");
            async move {
                let who = if note || i % 2 == 1 { tech_ } else { c_ };
                (note, app_.message(who, id, &body, note).await)
            }
        });
        for (note, r) in join_all(posts).await {
            assert_eq!(r.status, 201, "{}", r.body);
            let seq = r.body["seq"].as_i64().unwrap();
            bodies.insert(seq, r.body["body"].clone());
            if note {
                internal.push(seq);
            }
        }
    }
    let url = app.ws_url();
    let (mut staff, _) = Ws::connect(&url, &tech.token).await;
    assert_eq!(
        staff.join(id, 0).await,
        (1..=total as i64).collect::<Vec<_>>()
    );
    let (mut customer, _) = Ws::connect(&url, &c.token).await;
    let public: Vec<i64> = (1..=total as i64)
        .filter(|s| !internal.contains(s))
        .collect();
    assert_eq!(internal.len(), total / 10);
    assert_eq!(customer.join(id, 0).await, public);
    // Every frame whole: each replayed body is the one that was posted.
    for f in staff.seen.iter().filter(|f| f["type"] == "message") {
        assert_eq!(f["message"]["body"], bodies[&f["seq"].as_i64().unwrap()]);
    }
    // From the middle of the second page on.
    let (mut late, _) = Ws::connect(&url, &tech.token).await;
    assert_eq!(
        late.join(id, 700).await,
        (701..=total as i64).collect::<Vec<_>>()
    );
    app.stop().await;
}

#[actix_web::test]
async fn global_channel_is_filtered_by_role_and_ownership() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let url = app.ws_url();
    let (mut cust, _) = Ws::connect(&url, &cast.customer.token).await;
    let (mut other, _) = Ws::connect(&url, &cast.other_customer.token).await;
    let (mut tech, _) = Ws::connect(&url, &cast.tech.token).await;
    let (mut sup, _) = Ws::connect(&url, &cast.supervisor.token).await;

    let mine = app.ticket(&cast.customer, "global events").await;
    let id = mine["id"].as_i64().unwrap();
    let created = tech.expect(|f| f["type"] == "ticket_created", 5).await;
    assert_eq!(created["ticket"]["id"], id);
    // The floor updates live for supervisors.
    let floor = sup
        .expect(
            |f| f["type"] == "floor" && f["counters"]["unassigned"].as_i64() >= Some(1),
            5,
        )
        .await;
    assert!(floor["counters"]["by_status"]["open"].as_i64() >= Some(1));

    // Assigned: a push alert for the assignee; the requester sees the update.
    app.post(
        format!("/api/tickets/{id}/assign"),
        &cast.supervisor.token,
        json!({"assignee_id": cast.tech.id}),
    )
    .await
    .ok();
    let alert = tech.expect(|f| f["type"] == "assigned", 5).await;
    assert_eq!(alert["ticket"]["assignee"]["id"], cast.tech.id);
    let upd = cust.expect(|f| f["type"] == "ticket_updated", 5).await;
    assert_eq!(upd["ticket"]["status"], "in_progress");

    // Internal notes raise the staff count, never the customer's.
    cust.join(id, 0).await;
    app.message(&cast.tech, id, "CANARY internal", true)
        .await
        .ok();
    app.patch(
        format!("/api/tickets/{id}"),
        &cast.tech.token,
        json!({"status": "pending"}),
    )
    .await
    .ok();
    let upd = cust
        .expect(
            |f| f["type"] == "ticket_updated" && f["ticket"]["status"] == "pending",
            5,
        )
        .await;
    assert_eq!(upd["ticket"]["message_count"], 0);
    let fence = app.message(&cast.customer, id, "FENCE", false).await;
    assert_eq!(fence.status, 201);
    cust.expect(
        |f| f["type"] == "message" && f["message"]["body"] == "FENCE",
        5,
    )
    .await;
    // The other customer's socket never hears about it; the customer never sees
    // staff-only events or the note.
    app.message(
        &cast.other_customer,
        app.ticket(&cast.other_customer, "theirs").await["id"]
            .as_i64()
            .unwrap(),
        "x",
        false,
    )
    .await
    .ok();
    other.send(json!({"type": "join", "ticket_id": id})).await;
    let e = other.expect(|f| f["type"] == "error", 5).await;
    assert_eq!(e["code"], "not_found");
    for f in &cust.seen {
        let ty = f["type"].as_str().unwrap();
        assert!(
            !["ticket_created", "floor", "system", "assigned"].contains(&ty),
            "customer got {f}"
        );
        assert!(!f.to_string().contains("CANARY"), "customer got {f}");
    }
    assert!(!other
        .seen
        .iter()
        .any(|f| f.to_string().contains("global events")));
    app.stop().await;
}

#[actix_web::test]
async fn revoked_sessions_are_closed_within_seconds() {
    let app = TestApp::start().await;
    let admin = app.user("admin", "Ada").await;
    let c = app.user("customer", "Cora").await;
    let t = app.user("technician", "Tara").await;
    let (mut cust, _) = Ws::connect(&app.ws_url(), &c.token).await;
    let (mut tech, _) = Ws::connect(&app.ws_url(), &t.token).await;
    app.send(
        "DELETE",
        format!("/api/users/{}", c.id),
        Some(&admin.token),
        None,
    )
    .await;
    assert_eq!(cust.expect_close(5).await, Some(4401));
    app.patch(
        format!("/api/users/{}", t.id),
        &admin.token,
        json!({"role": "supervisor"}),
    )
    .await
    .ok();
    assert_eq!(tech.expect_close(5).await, Some(4401));
    let _ = Value::Null;
    app.stop().await;
}

/// A customer's socket, joined to their ticket and listening on the global channel,
/// through a seeded random sequence of everything that happens around it, then a fence.
#[actix_web::test]
async fn customer_socket_never_receives_what_it_must_not() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let mine = app.ticket(&cast.customer, "mine").await["id"]
        .as_i64()
        .unwrap();
    let theirs = app.ticket(&cast.other_customer, "theirs").await["id"]
        .as_i64()
        .unwrap();
    let (mut cust, _) = Ws::connect(&app.ws_url(), &cast.customer.token).await;
    cust.join(mine, 0).await;
    let (mut other_tab, _) = Ws::connect(&app.ws_url(), &cast.other_customer.token).await;
    other_tab.join(theirs, 0).await;
    let (mut tech_ws, _) = Ws::connect(&app.ws_url(), &cast.tech.token).await;
    tech_ws.join(theirs, 0).await;

    let mut seed: u64 = 0x5eed_1234;
    let mut rand = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut other_tickets = vec![theirs];
    for step in 0..60 {
        match rand(8) {
            0 => {
                app.message(&cast.tech, mine, &format!("CANARY note {step}"), true)
                    .await
                    .ok();
            }
            1 => {
                app.message(&cast.tech, mine, &format!("public {step}"), false)
                    .await
                    .ok();
            }
            2 => {
                let t = other_tickets[rand(other_tickets.len() as u64) as usize];
                app.message(
                    &cast.tech,
                    t,
                    &format!("CANARY elsewhere {step}"),
                    rand(2) == 0,
                )
                .await
                .ok();
            }
            3 => {
                let t = app
                    .ticket(&cast.other_customer, &format!("CANARY ticket {step}"))
                    .await;
                other_tickets.push(t["id"].as_i64().unwrap());
            }
            4 => {
                let t = other_tickets[rand(other_tickets.len() as u64) as usize];
                let p = ["low", "high", "urgent"][rand(3) as usize];
                app.patch(
                    format!("/api/tickets/{t}"),
                    &cast.supervisor.token,
                    json!({"priority": p}),
                )
                .await
                .ok();
            }
            5 => {
                tech_ws
                    .send(json!({"type": "typing", "ticket_id": theirs, "state": "start"}))
                    .await;
            }
            6 => {
                let t = other_tickets[rand(other_tickets.len() as u64) as usize];
                app.post(
                    format!("/api/tickets/{t}/assign"),
                    &cast.supervisor.token,
                    json!({"assignee_id": cast.tech.id}),
                )
                .await
                .ok();
            }
            _ => {
                other_tab.send(json!({"type": "send", "ticket_id": theirs, "client_id": uuid::Uuid::new_v4(), "body": format!("CANARY from B {step}")})).await;
            }
        }
    }
    app.message(&cast.tech, mine, "FENCE", false).await.ok();
    cust.expect(
        |f| f["type"] == "message" && f["message"]["body"] == "FENCE",
        10,
    )
    .await;

    let allowed = [
        "ready",
        "message",
        "presence",
        "joined",
        "left",
        "receipt",
        "typing",
        "ticket_updated",
    ];
    for f in &cust.seen {
        let ty = f["type"].as_str().unwrap();
        assert!(allowed.contains(&ty), "customer got a {ty} frame: {f}");
        assert!(!f.to_string().contains("CANARY"), "leak: {f}");
        if let Some(t) = f.get("ticket_id") {
            assert_eq!(t, mine, "frame about another ticket: {f}");
        }
        if ty == "message" {
            assert_ne!(f["message"]["kind"], "internal", "{f}");
        }
    }
    // And the staff socket did get the other ticket's traffic (the test can fail).
    while let Some(Event::Frame(_)) = tech_ws.next(Duration::from_millis(500)).await {}
    assert!(tech_ws
        .seen
        .iter()
        .any(|f| f.to_string().contains("CANARY")));
    let _: Value = Value::Null;
    app.stop().await;
}

/// A socket is closed with 4401 when its access token runs out, unless the client sent
/// a fresh token (`auth` on the open socket), which extends it.
#[actix_web::test]
async fn a_socket_lives_as_long_as_its_token() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Brief").await;
    let now = chrono::Utc::now().timestamp();
    let short = app.token_with_times(&c.token, now, now + 3);
    let (mut lapsing, _) = Ws::connect(&app.ws_url(), &short).await;
    let (mut renewed, _) = Ws::connect(&app.ws_url(), &short).await;
    renewed
        .send(json!({"type": "auth", "token": c.token}))
        .await;
    assert_eq!(lapsing.expect_close(10).await, Some(4401));
    // Past the short token's end, the renewed socket still answers.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    renewed
        .send(json!({"type": "join", "ticket_id": "not-a-number"}))
        .await;
    let e = renewed.expect(|f| f["type"] == "error", 5).await;
    assert_eq!(e["code"], "bad_frame", "{e}");
    app.stop().await;
}
