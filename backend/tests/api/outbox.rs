//! Email through a real SMTP conversation with a local sink, Slack through a local HTTP
//! endpoint, retries with back-off, and a worker restart mid-queue.

use crate::common::*;
use diesel::prelude::*;
use relay_desk::outbox::worker::{run_once, Sender};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A minimal SMTP server: records every accepted message (envelope recipient + data) and
/// refuses the first `fail_first` transactions with a temporary error.
#[derive(Clone)]
struct Sink {
    port: u16,
    mails: Arc<Mutex<Vec<(String, String)>>>,
    fail_first: Arc<AtomicUsize>,
}

impl Sink {
    async fn start(fail_first: usize) -> Sink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = Sink {
            port: listener.local_addr().unwrap().port(),
            mails: Default::default(),
            fail_first: Arc::new(AtomicUsize::new(fail_first)),
        };
        let s = sink.clone();
        actix_web::rt::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let s = s.clone();
                actix_web::rt::spawn(async move { s.session(sock).await });
            }
        });
        sink
    }

    async fn session(&self, sock: tokio::net::TcpStream) {
        let (r, mut w) = sock.into_split();
        let mut lines = BufReader::new(r).lines();
        let _ = w.write_all(b"220 sink ready\r\n").await;
        let mut rcpt = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            let upper = line.to_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250 sink\r\n"
            } else if upper.starts_with("MAIL FROM") {
                let refuse = self
                    .fail_first
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if refuse {
                    b"451 try again later\r\n"
                } else {
                    b"250 OK\r\n"
                }
            } else if upper.starts_with("RCPT TO") {
                rcpt = line[8..]
                    .trim()
                    .trim_matches(|c| c == '<' || c == '>' || c == ':')
                    .to_owned();
                b"250 OK\r\n"
            } else if upper.starts_with("DATA") {
                let _ = w.write_all(b"354 go ahead\r\n").await;
                let mut data = String::new();
                while let Ok(Some(l)) = lines.next_line().await {
                    if l == "." {
                        break;
                    }
                    data.push_str(&l);
                    data.push('\n');
                }
                self.mails.lock().unwrap().push((rcpt.clone(), data));
                b"250 queued\r\n"
            } else if upper.starts_with("QUIT") {
                let _ = w.write_all(b"221 bye\r\n").await;
                return;
            } else {
                b"250 OK\r\n"
            };
            if w.write_all(reply).await.is_err() {
                return;
            }
        }
    }

    fn subjects(&self) -> Vec<(String, String)> {
        self.mails
            .lock()
            .unwrap()
            .iter()
            .map(|(to, data)| {
                let subject = data
                    .lines()
                    .find_map(|l| l.strip_prefix("Subject: "))
                    .unwrap_or("")
                    .to_owned();
                (to.clone(), subject)
            })
            .collect()
    }
}

fn unsent(app: &TestApp) -> i64 {
    use relay_desk::db::schema::outbox::dsl as o;
    o::outbox
        .filter(o::sent_at.is_null())
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

/// Runs worker passes until nothing is left to send (bounded).
async fn drain(app: &TestApp, sender: &Sender) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while unsent(app) > 0 {
        assert!(Instant::now() < deadline, "outbox did not drain");
        run_once(&app.state.pool, sender, 20, 20).await.unwrap();
        actix_web::rt::time::sleep(Duration::from_millis(30)).await;
    }
}

#[actix_web::test]
async fn every_template_is_sent_once_and_failures_are_retried() {
    let sink = Sink::start(2).await;
    let port = sink.port;
    let app =
        TestApp::start_with(move |c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let cast = Cast::new(&app).await;
    let t = app.ticket(&cast.customer, "Mail me").await;
    let id = t["id"].as_i64().unwrap();
    let number = t["number"].as_str().unwrap().to_owned();
    app.post(
        format!("/api/tickets/{id}/assign"),
        &cast.supervisor.token,
        json!({"assignee_id": cast.tech.id}),
    )
    .await
    .ok();
    app.message(&cast.tech, id, "Looking at it now", false)
        .await
        .ok();
    app.message(&cast.tech, id, "internal: not mailed", true)
        .await
        .ok();
    app.patch(
        format!("/api/tickets/{id}"),
        &cast.tech.token,
        json!({"status": "resolved"}),
    )
    .await
    .ok();
    // Opted-out users get nothing (they opt out themselves).
    let opt = app
        .patch(
            "/api/me",
            &cast.other_customer.token,
            json!({"email_opt_out": true}),
        )
        .await;
    assert_eq!(opt.status, 200, "{}", opt.body);
    app.ticket(&cast.other_customer, "quiet please").await;

    let sender = Sender::new(&app.state.config).unwrap();
    drain(&app, &sender).await;
    let mut got = sink.subjects();
    got.sort();
    let mut want = vec![
        (
            cast.customer.email.clone(),
            format!("[{number}] We received your request: Mail me"),
        ),
        (
            cast.tech.email.clone(),
            format!("[{number}] Assigned to you: Mail me"),
        ),
        (
            cast.customer.email.clone(),
            format!("[{number}] Now in progress: Mail me"),
        ),
        (
            cast.customer.email.clone(),
            format!("[{number}] New reply from Tara Tech: Mail me"),
        ),
        (
            cast.customer.email.clone(),
            format!("[{number}] Resolved: Mail me"),
        ),
    ];
    want.sort();
    assert_eq!(got, want);
    // The two refused attempts were retried: attempts recorded, nothing left unsent.
    let retried: i64 = {
        use relay_desk::db::schema::outbox::dsl as o;
        o::outbox
            .filter(o::attempts.gt(1))
            .count()
            .get_result(&mut app.conn())
            .unwrap()
    };
    assert_eq!(retried, 2);
    app.stop().await;
}

#[actix_web::test]
async fn a_worker_restart_mid_queue_neither_loses_nor_duplicates() {
    let sink = Sink::start(0).await;
    let port = sink.port;
    let app =
        TestApp::start_with(move |c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let c = app.user("customer", "Cora").await;
    let tech = app.user("technician", "Tara").await;
    let id = app.ticket(&c, "chatty").await["id"].as_i64().unwrap();
    for i in 0..10 {
        app.message(&tech, id, &format!("reply {i}"), false)
            .await
            .ok();
    }
    let first = Sender::new(&app.state.config).unwrap();
    let sent = run_once(&app.state.pool, &first, 20, 4).await.unwrap();
    assert_eq!(sent, 4);
    drop(first); // the worker goes away mid-queue
    let second = Sender::new(&app.state.config).unwrap();
    drain(&app, &second).await;
    let mut replies: Vec<String> = sink
        .mails
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(_, d)| {
            d.lines()
                .find(|l| l.starts_with("reply "))
                .map(str::to_owned)
        })
        .collect();
    replies.sort();
    let want: Vec<String> = (0..10).map(|i| format!("reply {i}")).collect();
    assert_eq!(replies, want, "each reply mailed exactly once");
    let total = sink.mails.lock().unwrap().len();
    assert_eq!(total, 11, "plus the ticket-created mail");
    app.stop().await;
}

#[actix_web::test]
async fn assignments_reach_slack() {
    let received: Arc<Mutex<Vec<serde_json::Value>>> = Default::default();
    let r = received.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hook = actix_web::HttpServer::new(move || {
        let r = r.clone();
        actix_web::App::new().route(
            "/hook",
            actix_web::web::post().to(move |body: actix_web::web::Json<serde_json::Value>| {
                let r = r.clone();
                async move {
                    r.lock().unwrap().push(body.into_inner());
                    actix_web::HttpResponse::Ok().body("ok")
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    let hook_handle = hook.handle();
    actix_web::rt::spawn(hook);
    let app = TestApp::start_with(move |c| {
        c.slack_webhook_url = Some(format!("http://127.0.0.1:{port}/hook"))
    })
    .await;
    let cast = Cast::new(&app).await;
    let t = app.ticket(&cast.customer, "slack me").await;
    let id = t["id"].as_i64().unwrap();
    app.post(
        format!("/api/tickets/{id}/assign"),
        &cast.supervisor.token,
        json!({"assignee_id": cast.tech.id}),
    )
    .await
    .ok();
    let sender = Sender::new(&app.state.config).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while received.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no Slack post");
        run_once(&app.state.pool, &sender, 20, 20).await.unwrap();
        actix_web::rt::time::sleep(Duration::from_millis(30)).await;
    }
    let text = received.lock().unwrap()[0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.contains(t["number"].as_str().unwrap()) && text.contains("Tara Tech"),
        "{text}"
    );
    assert_eq!(received.lock().unwrap().len(), 1);
    app.stop().await;
    hook_handle.stop(false).await;
}
