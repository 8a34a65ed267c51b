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

/// Retries `attempt` the way a client would (same request, same client_id) until it
/// succeeds (201, or 200 for a message whose earlier attempt was stored); every failure
/// on the way must be a clean 503 in the envelope.
async fn until_created<F, Fut>(what: &str, mut attempt: F) -> (Response, Vec<u16>)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let mut failures = Vec::new();
    for _ in 0..200 {
        let r = attempt().await;
        // 200 after a 503: the connection died while its commit went through, so the
        // first answer was lost, and the retry got the stored message back (client_id).
        if r.status == 201 || (r.status == 200 && !failures.is_empty()) {
            return (r, failures);
        }
        assert_eq!(r.status, 503, "{what}: {:?}", r.body);
        assert_eq!(r.body["error"]["code"], "unavailable", "{what}");
        assert!(r.headers.get("retry-after").is_some());
        failures.push(r.status.as_u16());
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what} never succeeded");
}

/// Terminates every backend of `conn`'s database but its own, waiting up to `wait_ms`
/// for each to exit (0: signal only); returns how many were terminated.
fn terminate_other_backends(
    conn: &mut diesel::PgConnection,
    wait_ms: i64,
) -> diesel::QueryResult<i64> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Killed {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, $1)) AS n \
         FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .bind::<diesel::sql_types::BigInt, _>(wait_ms)
    .get_result::<Killed>(conn)
    .map(|k| k.n)
}

/// PostgreSQL drops every connection of the app, again and again, while people post
/// messages, open tickets and upload files. The pool recovers; every message is stored
/// exactly once (retries reuse their client_id); nothing is half-written.
#[actix_web::test]
async fn killed_database_connections_lose_nothing_and_leave_nothing_half_written() {
    use diesel::prelude::*;
    use futures_util::future::join_all;
    use relay_desk::db::schema::{attachments, messages, ticket_history, tickets};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    let app = TestApp::start().await;
    let c = app.user("customer", "Cora").await;
    let tech = app.user("technician", "Tara").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            app.ticket(&c, &format!("ticket {i}")).await["id"]
                .as_i64()
                .unwrap(),
        );
    }

    // Someone keeps terminating every backend of this database but its own.
    let stop = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(AtomicUsize::new(0));
    let rounds = Arc::new(AtomicUsize::new(0));
    let killer = {
        let (stop, kills, rounds) = (stop.clone(), kills.clone(), rounds.clone());
        let url = app.state.config.database_url.clone();
        std::thread::spawn(move || {
            let mut conn = PgConnection::establish(&url).unwrap();
            while !stop.load(Ordering::Relaxed) {
                let Ok(n) = terminate_other_backends(&mut conn, 0) else {
                    break; // the test is over and its database is being dropped
                };
                kills.fetch_add(n as usize, Ordering::Relaxed);
                if n > 0 {
                    rounds.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };

    // Each ticket's conversation goes on until the connections were cut five times.
    const ROUNDS: usize = 5;
    let chat = ids.iter().map(|&id| {
        let (app, tech, rounds) = (&app, &tech, rounds.clone());
        async move {
            let (mut retried, mut i) = (0, 0);
            while i < 20 || rounds.load(Ordering::Relaxed) < ROUNDS {
                let cid = uuid::Uuid::new_v4();
                let body = json!({"body": format!("m{i}"), "client_id": cid});
                let path = format!("/api/tickets/{id}/messages");
                let (_, failed) = until_created("message", || {
                    app.send("POST", &path, Some(&tech.token), Some(&body))
                })
                .await;
                retried += failed.len();
                i += 1;
            }
            (i, retried)
        }
    });
    let uploads = async {
        let mut retried = 0;
        for i in 0..8 {
            let content = format!("file {i}\n");
            let name = format!("f{i}.txt");
            let (_, failed) = until_created("upload", || {
                app.upload(ids[0], &c.token, &name, content.as_bytes(), None)
            })
            .await;
            retried += failed.len();
        }
        retried
    };
    let opened = async {
        let mut retried = 0;
        for i in 0..8 {
            let body = json!({"title": format!("new {i}"), "description": "during the storm"});
            let (_, failed) = until_created("ticket", || {
                app.send("POST", "/api/tickets", Some(&c.token), Some(&body))
            })
            .await;
            retried += failed.len();
        }
        retried
    };
    let (chat_retries, upload_retries, ticket_retries) =
        futures_util::join!(join_all(chat), uploads, opened);
    stop.store(true, Ordering::Relaxed);
    killer.join().unwrap();
    let retries: usize =
        chat_retries.iter().map(|(_, r)| r).sum::<usize>() + upload_retries + ticket_retries;
    eprintln!(
        "{} backends terminated in {} rounds; {} messages; {retries} requests answered 503 and retried",
        kills.load(Ordering::Relaxed),
        rounds.load(Ordering::Relaxed),
        chat_retries.iter().map(|(n, _)| n).sum::<usize>(),
    );
    assert!(rounds.load(Ordering::Relaxed) >= ROUNDS);

    // The pool is healthy again.
    assert_eq!(app.send("GET", "/readyz", None, None).await.status, 200);
    let mut conn = app.conn();
    // Every message exactly once, gap-free seq, in the order sent.
    for (&id, &(sent, _)) in ids.iter().zip(&chat_retries) {
        let rows: Vec<(i64, String)> = messages::table
            .filter(messages::ticket_id.eq(id))
            .order(messages::seq)
            .select((messages::seq, messages::body))
            .load(&mut conn)
            .unwrap();
        let want: Vec<(i64, String)> = (0..sent).map(|i| (i as i64 + 1, format!("m{i}"))).collect();
        assert_eq!(rows, want, "ticket {id}");
        // A connection killed while idle in the pool fails one request (503 +
        // Retry-After) before it is replaced: read the way a client would.
        let mut view = app.get(&format!("/api/tickets/{id}"), &tech.token).await;
        for _ in 0..12 {
            if view.status != 503 {
                break;
            }
            view = app.get(&format!("/api/tickets/{id}"), &tech.token).await;
        }
        assert_eq!(view.ok()["message_count"], sent);
    }
    // Every ticket whole: a number and its creation in the history.
    let all: Vec<i64> = tickets::table.select(tickets::id).load(&mut conn).unwrap();
    assert!(all.len() >= 3 + 8, "{}", all.len());
    for id in &all {
        let created: i64 = ticket_history::table
            .filter(ticket_history::ticket_id.eq(id))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert!(created >= 1, "ticket {id} has no history");
    }
    // Every attachment row has its file, and every file its row.
    let keys: Vec<String> = attachments::table
        .select(attachments::storage_key)
        .load(&mut conn)
        .unwrap();
    assert!(keys.len() >= 8);
    let root = &app.state.config.upload_dir;
    for k in &keys {
        assert!(root.join(&k[..2]).join(k).is_file(), "{k} has no file");
    }
    let files = std::fs::read_dir(root)
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .count();
    assert_eq!(files, keys.len(), "no orphan files");
    app.stop().await;
}

/// The database drops every connection of the app at once (a restart, an operator's
/// `pg_terminate_backend`) while the pool holds several idle ones. The first request
/// may meet a dead connection and answer 503; after that the pool checks connections
/// before handing them out, so the requests behind it go through instead of each
/// meeting the next dead one.
#[actix_web::test]
async fn after_every_connection_is_dropped_at_most_one_request_fails() {
    use diesel::prelude::*;
    use futures_util::future::join_all;

    let app = TestApp::start().await;
    let c = app.user("customer", "Cora").await;
    let id = app.ticket(&c, "printer").await["id"].as_i64().unwrap();
    // Several connections busy at once, then idle in the pool.
    join_all((0..4).map(|_| {
        app.state.db(|conn| {
            diesel::sql_query("SELECT pg_sleep(0.2)").execute(conn)?;
            Ok(())
        })
    }))
    .await
    .into_iter()
    .for_each(|r| r.unwrap());
    let idle = app.state.pool.state().idle_connections;
    assert!(idle >= 4, "only {idle} idle connections");

    let mut killer = PgConnection::establish(&app.state.config.database_url).unwrap();
    let killed = terminate_other_backends(&mut killer, 5000).unwrap();
    assert!(killed as u32 >= idle, "{killed} of {idle} terminated");

    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(app.get(format!("/api/tickets/{id}"), &c.token).await.status);
    }
    let failed = statuses.iter().filter(|&&s| s == 503).count();
    assert!(failed <= 1, "{failed} requests failed: {statuses:?}");
    assert!(
        statuses.iter().all(|&s| s == 200 || s == 503),
        "{statuses:?}"
    );
    assert_eq!(*statuses.last().unwrap(), 200);
    app.stop().await;
}
