//! Faults: Redis goes away while people chat. REST keeps working, messages are stored,
//! `/readyz` says degraded, and when Redis returns every joined socket is told to resync
//! and catches up without loss.

use crate::common::ws::Ws;
use crate::common::*;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn redis(port: u16) -> Child {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server (scripts/test installs it)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

#[actix_web::test]
async fn redis_down_loses_nothing_and_clients_resync() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = redis(port);
    let app =
        TestApp::start_with(move |c| c.redis_url = Some(format!("redis://127.0.0.1:{port}"))).await;
    let c = app.user("customer", "Cora").await;
    let tech = app.user("technician", "Tara").await;
    let id = app.ticket(&c, "through the outage").await["id"]
        .as_i64()
        .unwrap();
    let (mut ws, _) = Ws::connect(&app.ws_url(), &c.token).await;
    ws.join(id, 0).await;
    app.message(&tech, id, "before", false).await.ok();
    ws.expect(|f| f["type"] == "message" && f["seq"] == 1, 5)
        .await;

    server.kill().unwrap();
    server.wait().unwrap();
    for i in 2..=4 {
        let started = Instant::now();
        let r = app.message(&tech, id, &format!("during {i}"), false).await;
        assert_eq!(r.status, 201, "REST keeps working: {}", r.body);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "a dead bus does not hold requests up"
        );
    }
    let ready = app.send("GET", "/readyz", None, None).await;
    assert_eq!(
        (ready.status.as_u16(), ready.body["status"].as_str()),
        (503, Some("degraded"))
    );

    let mut server = redis(port);
    ws.expect(|f| f["type"] == "resync" && f["ticket_id"] == id, 15)
        .await;
    let replayed = ws.join(id, 1).await;
    assert_eq!(replayed, vec![2, 3, 4]);
    app.message(&tech, id, "after", false).await.ok();
    ws.expect(|f| f["type"] == "message" && f["seq"] == 5, 10)
        .await;
    let seqs = ws.message_seqs(id);
    let mut unique = seqs.clone();
    unique.dedup();
    assert_eq!(unique, vec![1, 2, 3, 4, 5], "{seqs:?}");
    assert_eq!(app.send("GET", "/readyz", None, None).await.status, 200);
    let _ = json!(null);
    app.stop().await;
    let _ = server.kill();
    let _ = server.wait();
}

/// A client that stops reading is cut off, and nobody else waits for it.
#[actix_web::test]
async fn a_client_that_stops_reading_is_cut_off_without_slowing_others() {
    let app = TestApp::start_with(|c| c.ws_queue = 16).await;
    let c = app.user("customer", "Reader").await;
    let tech = app.user("technician", "Writer").await;
    let id = app.ticket(&c, "firehose").await["id"].as_i64().unwrap();
    let (mut slow, _) = Ws::connect(&app.ws_url(), &tech.token).await;
    slow.join(id, 0).await;
    let (mut fast, _) = Ws::connect(&app.ws_url(), &c.token).await;
    fast.join(id, 0).await;

    // ~30 MB of messages: far more than the kernel buffers of a socket nobody reads.
    let total = 1500;
    let body = "x".repeat(19_990);
    let posting = async {
        for i in 0..total {
            let r = app
                .message(&tech, id, &format!("{i:05} {body}"), false)
                .await;
            assert_eq!(r.status, 201);
        }
    };
    let reading = async {
        while fast.message_seqs(id).len() < total {
            match fast.next(Duration::from_secs(30)).await {
                Some(crate::common::ws::Event::Frame(_)) => {}
                other => panic!(
                    "the reading client stalled: {other:?} after {}",
                    fast.message_seqs(id).len()
                ),
            }
        }
    };
    let started = Instant::now();
    futures_util::join!(posting, reading);
    assert_eq!(
        fast.message_seqs(id),
        (1..=total as i64).collect::<Vec<_>>()
    );
    eprintln!(
        "reading client got {total} messages in {:?} while another socket stopped reading",
        started.elapsed()
    );

    // It keeps not reading for longer than the server waits on a blocked write (10 s)...
    actix_web::rt::time::sleep(Duration::from_secs(14)).await;
    // ...so when it reads again it finds the connection closed by the server.
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut resynced = false;
    loop {
        match slow.next(Duration::from_secs(5)).await {
            Some(crate::common::ws::Event::Closed(_)) => break,
            Some(crate::common::ws::Event::Frame(f)) => resynced |= f["type"] == "resync",
            None => {}
        }
        assert!(
            Instant::now() < deadline,
            "the stalled socket was never cut off (resync seen: {resynced})"
        );
    }
    assert!(
        slow.message_seqs(id).len() < total,
        "it cannot have received everything"
    );
    app.stop().await;
}
