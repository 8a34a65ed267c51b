//! Several instances for real: `relay-desk serve` processes on their own ports, one
//! PostgreSQL, one Redis. Members on different instances share rooms, typing, receipts
//! and presence; an instance killed with SIGKILL loses nobody's messages.

use crate::common::ws::{Event, Ws};
use crate::common::*;
use diesel::prelude::*;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("TEST_REDIS_URL is not set: run the tests through scripts/test, which starts Redis")
    })
}

/// A stand-in SPA build for the instances (the app serves index.html with its CSP).
fn spa_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("relay-cluster-spa");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>Relay Desk</title>",
    )
    .unwrap();
    dir
}

struct Instance {
    child: Child,
    base: String,
    ws: String,
}

impl Instance {
    async fn spawn(db_url: &str, namespace: &str, id: &str) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::env::temp_dir().join(format!("relay-{namespace}-{id}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_relay-desk"))
            .arg("serve")
            .env("DATABASE_URL", db_url)
            .env("REDIS_URL", redis_url())
            .env("REDIS_NAMESPACE", namespace)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("JWT_SECRET", "test-secret-test-secret-test-secret-42")
            .env("INSTANCE_ID", id)
            .env("BCRYPT_COST", "4")
            .env("PRESENCE_TTL_SECS", "3")
            .env("ALLOWED_ORIGINS", ORIGIN)
            .env("DB_POOL_SIZE", "8")
            .env("RATE_LIMIT_SCALE", "1000")
            .env("RUST_LOG", "warn")
            .env("STATIC_DIR", spa_dir())
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let client = awc::Client::default();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
                if r.status() == 200 {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "instance {id} did not become ready; see {}",
                log.display()
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        Instance {
            child,
            ws: base.replace("http://", "ws://") + "/ws",
            base,
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL: no goodbye, no presence cleanup
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn call(
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(20))
        .finish();
    let m = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client.request(m, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let mut res = match body {
        Some(b) => req.send_json(&b).await.unwrap(),
        None => req.send().await.unwrap(),
    };
    let bytes = res.body().await.unwrap();
    (
        res.status().as_u16(),
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Creates a user in the database and signs in on `base`; returns (id, token).
async fn user(db_url: &str, base: &str, role: &str, name: &str) -> (i64, String) {
    let email = format!("{}-{}@cluster.test", role, uuid::Uuid::new_v4().simple());
    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    let mut conn = PgConnection::establish(db_url).unwrap();
    let u = relay_desk::users::queries::insert(
        &mut conn,
        &relay_desk::users::model::NewUser {
            email: &email,
            name,
            role,
            password_hash: &hash,
        },
    )
    .unwrap();
    let (status, body) = call(
        base,
        "POST",
        "/api/auth/login",
        None,
        Some(json!({"email": email, "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (u.id, body["access_token"].as_str().unwrap().to_owned())
}

/// One database, one Redis namespace, two instances.
async fn pair() -> (TestDb, Instance, Instance) {
    let db = TestDb::new();
    let ns = format!("t{}", uuid::Uuid::new_v4().simple());
    let a = Instance::spawn(&db.url, &ns, "a").await;
    let b = Instance::spawn(&db.url, &ns, "b").await;
    (db, a, b)
}

/// Opens a ticket through `base` and returns its id.
async fn open_ticket(base: &str, token: &str, title: &str) -> i64 {
    let (s, t) = call(
        base,
        "POST",
        "/api/tickets",
        Some(token),
        Some(json!({ "title": title })),
    )
    .await;
    assert_eq!(s, 201, "{t}");
    t["id"].as_i64().unwrap()
}

/// Reads until the server closes the socket (5 s of silence is a failure).
async fn wait_closed(ws: &mut Ws) {
    loop {
        match ws.next(Duration::from_secs(5)).await {
            Some(Event::Closed(_)) => return,
            Some(Event::Frame(_)) => {}
            None => panic!("the socket outlived its instance"),
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[actix_web::test]
async fn members_on_different_instances_share_the_room() {
    let (db, a, b) = pair().await;
    let (cust_id, cust_token) = user(&db.url, &a.base, "customer", "Cora").await;
    let (tech_id, tech_token) = user(&db.url, &b.base, "technician", "Tara").await;
    let (_, sup_token) = user(&db.url, &a.base, "supervisor", "Sam").await;
    let id = open_ticket(&a.base, &cust_token, "across").await;

    let (mut cust, _) = Ws::connect(&a.ws, &cust_token).await;
    let (mut tech, ready) = Ws::connect(&b.ws, &tech_token).await;
    assert!(ready["connection_id"].as_str().unwrap().starts_with("b-"));
    cust.join(id, 0).await;
    tech.join(id, 0).await;
    let joined = cust.expect(|f| f["type"] == "joined", 5).await;
    assert_eq!(joined["user"]["id"], tech_id);
    // A third member on A lists both, one per user, wherever they are.
    let (mut sup, _) = Ws::connect(&a.ws, &sup_token).await;
    sup.join(id, 0).await;
    let presence = sup.seen.last().unwrap().clone();
    let mut ids: Vec<i64> = presence["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert!(
        ids.contains(&cust_id) && ids.contains(&tech_id) && ids.len() == 3,
        "{presence}"
    );

    // Typing and receipts cross instances.
    tech.send(json!({"type": "typing", "ticket_id": id, "state": "start"}))
        .await;
    let ty = cust.expect(|f| f["type"] == "typing", 5).await;
    assert_eq!(ty["user"]["id"], tech_id);

    // Messages cross instances, in order; measure the delivery time (reported, not asserted).
    let n = 50;
    let mut sent_at = std::collections::HashMap::new();
    let mut latencies = Vec::new();
    for i in 0..n {
        let cid = uuid::Uuid::new_v4();
        sent_at.insert(cid.to_string(), Instant::now());
        cust.send(
            json!({"type": "send", "ticket_id": id, "client_id": cid, "body": format!("m{i}")}),
        )
        .await;
        let f = tech.expect(|f| f["type"] == "message", 5).await;
        let cid = f["message"]["client_id"].as_str().unwrap().to_owned();
        latencies.push(sent_at[&cid].elapsed());
    }
    assert_eq!(tech.message_seqs(id), (1..=n).collect::<Vec<i64>>());
    latencies.sort();
    eprintln!(
        "cross-instance delivery over Redis: p50 {:?}, p99 {:?}, max {:?} ({} messages)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().unwrap(),
        n
    );
    tech.send(json!({"type": "read", "ticket_id": id, "seq": n}))
        .await;
    let r = cust
        .expect(|f| f["type"] == "receipt" && f["user_id"] == tech_id, 5)
        .await;
    assert_eq!(r["seq"], n);
}

#[actix_web::test]
async fn killing_an_instance_loses_nothing_and_drops_its_presence() {
    let (db, mut a, b) = pair().await;
    let (_, cust_token) = user(&db.url, &a.base, "customer", "Cora").await;
    let (_, tech_token) = user(&db.url, &b.base, "technician", "Tara").await;
    let (sup_id, sup_token) = user(&db.url, &a.base, "supervisor", "Sam").await;
    let id = open_ticket(&a.base, &cust_token, "crash").await;
    let post = |i: i64| {
        let (base, token) = (b.base.clone(), tech_token.clone());
        async move {
            let (s, _) = call(
                &base,
                "POST",
                &format!("/api/tickets/{id}/messages"),
                Some(&token),
                Some(json!({"body": format!("m{i}"), "client_id": uuid::Uuid::new_v4()})),
            )
            .await;
            assert_eq!(s, 201);
        }
    };

    let (mut cust, _) = Ws::connect(&a.ws, &cust_token).await;
    let (mut sup, _) = Ws::connect(&a.ws, &sup_token).await;
    let (mut tech, _) = Ws::connect(&b.ws, &tech_token).await;
    cust.join(id, 0).await;
    sup.join(id, 0).await;
    tech.join(id, 0).await;
    for i in 1..=10 {
        post(i).await;
    }
    cust.expect(|f| f["type"] == "message" && f["seq"] == 10, 5)
        .await;
    let before = cust.message_seqs(id);

    a.kill();
    // The socket on A is gone.
    wait_closed(&mut cust).await;
    // The conversation goes on while the customer is away.
    for i in 11..=20 {
        post(i).await;
    }
    // Reconnect to the survivor with the last seq held: the gap is replayed.
    let last = *before.last().unwrap();
    let (mut again, _) = Ws::connect(&b.ws, &cust_token).await;
    let replayed = again.join(id, last).await;
    assert_eq!(replayed, (11..=20).collect::<Vec<i64>>());
    for i in 21..=25 {
        post(i).await;
    }
    again
        .expect(|f| f["type"] == "message" && f["seq"] == 25, 5)
        .await;
    let mut all = before;
    all.extend(again.message_seqs(id));
    assert_eq!(
        all,
        (1..=25).collect::<Vec<i64>>(),
        "every message exactly once"
    );

    // The supervisor only had a socket on A: they leave presence once A's entries expire.
    let started = Instant::now();
    let left = tech
        .expect(|f| f["type"] == "left" && f["user"]["id"] == sup_id, 30)
        .await;
    eprintln!(
        "dead instance's user left presence after {:?}",
        started.elapsed()
    );
    assert_eq!(left["ticket_id"], id);
    drop(sup);
}

/// nginx from the repository's nginx.conf (loopback copy rendered by scripts/lib.sh).
struct Nginx {
    prefix: std::path::PathBuf,
    base: String,
}

impl Nginx {
    fn start(upstreams: &[&str]) -> Nginx {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_owned();
        let prefix =
            std::env::temp_dir().join(format!("relay-nginx-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&prefix).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let static_dir = prefix.join("static");
        std::fs::create_dir_all(&static_dir).unwrap();
        std::fs::write(
            static_dir.join("index.html"),
            "<!doctype html><title>Relay Desk</title>",
        )
        .unwrap();
        let script = format!(
            "source '{root}/scripts/lib.sh' && render_nginx_conf '{p}/nginx.conf' '{p}' {port} '' '' '{s}' {ups} && start_nginx '{p}/nginx.conf' '{p}'",
            root = root.display(),
            p = prefix.display(),
            s = static_dir.display(),
            ups = upstreams.join(" "),
        );
        let status = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "nginx did not start (is it installed? scripts/test installs it)"
        );
        Nginx {
            prefix,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.prefix.join("nginx.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

#[actix_web::test]
async fn through_nginx_a_client_moves_to_the_surviving_instance() {
    let (db, mut a, mut b) = pair().await;
    let ups = [
        a.base.trim_start_matches("http://").to_owned(),
        b.base.trim_start_matches("http://").to_owned(),
    ];
    let nginx = Nginx::start(&[&ups[0], &ups[1]]);
    let ws_url = nginx.base.replace("http://", "ws://") + "/ws";

    // The SPA and the API both answer on nginx's port.
    let (s, _) = call(&nginx.base, "GET", "/healthz", None, None).await;
    assert_eq!(s, 200);
    let (s, page) = call(&nginx.base, "GET", "/tickets/42", None, None).await;
    assert_eq!(
        (s, page),
        (200, Value::Null),
        "history fallback serves index.html"
    );

    let (_, cust_token) = user(&db.url, &nginx.base, "customer", "Cora").await;
    let (_, tech_token) = user(&db.url, &nginx.base, "technician", "Tara").await;
    let id = open_ticket(&nginx.base, &cust_token, "via nginx").await;
    let (mut cust, ready) = Ws::connect(&ws_url, &cust_token).await;
    let on_a = ready["connection_id"].as_str().unwrap().starts_with("a-");
    cust.join(id, 0).await;
    let post = |i: i64| {
        let (base, token) = (nginx.base.clone(), tech_token.clone());
        async move {
            let (s, _) = call(
                &base,
                "POST",
                &format!("/api/tickets/{id}/messages"),
                Some(&token),
                Some(json!({"body": format!("m{i}"), "client_id": uuid::Uuid::new_v4()})),
            )
            .await;
            assert_eq!(s, 201);
        }
    };
    for i in 1..=5 {
        post(i).await;
    }
    cust.expect(|f| f["type"] == "message" && f["seq"] == 5, 5)
        .await;
    let before = cust.message_seqs(id);

    // Kill the instance this socket is on; nginx sends the reconnect to the survivor.
    if on_a {
        a.kill()
    } else {
        b.kill()
    }
    wait_closed(&mut cust).await;
    for i in 6..=10 {
        post(i).await;
    }
    let (mut again, ready) = Ws::connect(&ws_url, &cust_token).await;
    let survivor = if on_a { "b-" } else { "a-" };
    assert!(
        ready["connection_id"]
            .as_str()
            .unwrap()
            .starts_with(survivor),
        "{ready}"
    );
    assert_eq!(
        again.join(id, *before.last().unwrap()).await,
        (6..=10).collect::<Vec<i64>>()
    );
    post(11).await;
    again
        .expect(|f| f["type"] == "message" && f["seq"] == 11, 5)
        .await;
    let mut all = before;
    all.extend(again.message_seqs(id));
    assert_eq!(all, (1..=11).collect::<Vec<i64>>());
    drop(nginx);
}

#[actix_web::test]
async fn sigterm_tells_every_socket_to_reconnect_elsewhere() {
    let db = TestDb::new();
    let ns = format!("t{}", uuid::Uuid::new_v4().simple());
    let mut a = Instance::spawn(&db.url, &ns, "a").await;
    let (_, token) = user(&db.url, &a.base, "customer", "Cora").await;
    let (_, t) = call(
        &a.base,
        "POST",
        "/api/tickets",
        Some(&token),
        Some(json!({"title": "bye"})),
    )
    .await;
    let (mut ws, _) = Ws::connect(&a.ws, &token).await;
    ws.join(t["id"].as_i64().unwrap(), 0).await;
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(a.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        ws.expect_close(10).await,
        Some(1012),
        "close code: service restart"
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(exit) = a.child.try_wait().unwrap() {
            assert!(exit.success(), "clean exit, got {exit}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the instance did not exit after SIGTERM"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One chatter's view of a ticket across failovers: its socket, and the instance it
/// falls back to when the current one dies.
struct Chatter {
    ws: Ws,
    token: String,
    fallback: String,
    ticket: i64,
    /// Seqs of every message frame received, over every socket, in order.
    seqs: Vec<i64>,
    reconnects: usize,
}

impl Chatter {
    async fn start(url: &str, fallback: &str, token: &str, ticket: i64) -> Chatter {
        let (mut ws, _) = Ws::connect(url, token).await;
        let seqs = ws.join(ticket, 0).await;
        Chatter {
            ws,
            token: token.to_owned(),
            fallback: fallback.to_owned(),
            ticket,
            seqs,
            reconnects: 0,
        }
    }

    /// The socket died: re-authenticate on the surviving instance and re-join with the
    /// last seq held, as the SPA does.
    async fn resume(&mut self) {
        let last = self.seqs.last().copied().unwrap_or(0);
        let (ws, _) = Ws::connect(&self.fallback, &self.token).await;
        self.ws = ws;
        let replayed = self.ws.join(self.ticket, last).await;
        self.seqs.extend(replayed);
        self.reconnects += 1;
    }

    /// Reads one event; message frames are recorded, a close triggers `resume`.
    async fn pump(&mut self, wait: Duration) -> Option<Value> {
        match self.ws.next(wait).await {
            Some(Event::Frame(f)) => {
                if f["type"] == "message" && f["ticket_id"] == self.ticket {
                    self.seqs.push(f["seq"].as_i64().unwrap());
                }
                Some(f)
            }
            Some(Event::Closed(_)) => {
                self.resume().await;
                None
            }
            None => None,
        }
    }
}

/// An instance is SIGKILLed while a dozen people chat over both. Senders resend what
/// was not acknowledged (same client_id) after moving to the survivor; receivers re-join
/// with their last seq. Every acknowledged message is stored once and received once,
/// in order, by everyone.
#[actix_web::test]
async fn sigkill_under_load_loses_no_acknowledged_message() {
    use futures_util::future::join_all;
    use std::cell::RefCell;
    use std::collections::HashMap;

    let (db, mut a, b) = pair().await;
    const TICKETS: usize = 6;
    const PER_SENDER: usize = 40;
    let mut cast = Vec::new();
    for k in 0..TICKETS {
        let (_, cust) = user(&db.url, &b.base, "customer", &format!("Cust {k}")).await;
        let (_, tech) = user(&db.url, &b.base, "technician", &format!("Tech {k}")).await;
        let id = open_ticket(&b.base, &cust, &format!("load {k}")).await;
        cast.push((id, cust, tech));
    }
    // Half the senders and the other half of the receivers start on A.
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    for (k, (id, cust, tech)) in cast.iter().enumerate() {
        let (s_url, r_url) = if k % 2 == 0 {
            (&a.ws, &b.ws)
        } else {
            (&b.ws, &a.ws)
        };
        senders.push(Chatter::start(s_url, &b.ws, tech, *id).await);
        receivers.push(Chatter::start(r_url, &b.ws, cust, *id).await);
    }
    let acked: RefCell<HashMap<i64, Vec<(String, i64)>>> = RefCell::new(HashMap::new());
    let frames_sent = RefCell::new(0usize);
    let done = RefCell::new(false);

    let send_all = join_all(senders.iter_mut().map(|s| {
        let (acked, frames_sent) = (&acked, &frames_sent);
        async move {
            for i in 0..PER_SENDER {
                let cid = uuid::Uuid::new_v4().to_string();
                let frame = json!({"type": "send", "ticket_id": s.ticket, "client_id": cid,
                                   "body": format!("m{i}")});
                // Until acknowledged: resend the same client_id after any failover.
                'ack: loop {
                    s.ws.send(frame.clone()).await;
                    *frames_sent.borrow_mut() += 1;
                    let deadline = Instant::now() + Duration::from_secs(5);
                    while Instant::now() < deadline {
                        let before = s.reconnects;
                        let f = s.pump(Duration::from_millis(500)).await;
                        if s.reconnects != before {
                            continue 'ack;
                        }
                        if let Some(f) = f {
                            if f["type"] == "ack" && f["client_id"] == cid.as_str() {
                                let seq = f["message"]["seq"].as_i64().unwrap();
                                acked
                                    .borrow_mut()
                                    .entry(s.ticket)
                                    .or_default()
                                    .push((cid.clone(), seq));
                                break 'ack;
                            }
                            assert_ne!(f["type"], "error", "{f}");
                        }
                    }
                    panic!("no ack for {cid} within 5 s");
                }
                actix_web::rt::time::sleep(Duration::from_millis(15)).await;
            }
        }
    }));
    let receive_all = join_all(receivers.iter_mut().map(|r| {
        let (acked, done) = (&acked, &done);
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                r.pump(Duration::from_millis(100)).await;
                let want = acked.borrow().get(&r.ticket).map_or(0, Vec::len);
                if *done.borrow() && r.seqs.len() >= want {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "receiver of {} stalled",
                    r.ticket
                );
            }
        }
    }));
    let kill = async {
        actix_web::rt::time::sleep(Duration::from_millis(700)).await;
        a.kill();
    };
    let senders_then_done = async {
        send_all.await;
        *done.borrow_mut() = true;
    };
    futures_util::join!(senders_then_done, receive_all, kill);

    let acked = acked.into_inner();
    let mut conn = PgConnection::establish(&db.url).unwrap();
    let (mut total_acked, mut total_received) = (0, 0);
    for r in &receivers {
        let acks = &acked[&r.ticket];
        let n = acks.len() as i64;
        assert_eq!(n, PER_SENDER as i64);
        // Acknowledged once each, with the seqs 1..=n.
        let mut seqs: Vec<i64> = acks.iter().map(|(_, s)| *s).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "acks of {}", r.ticket);
        // Stored once each (the resends did not duplicate).
        let stored: i64 = relay_desk::db::schema::messages::table
            .filter(relay_desk::db::schema::messages::ticket_id.eq(r.ticket))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(stored, n, "stored in {}", r.ticket);
        // Received once each, in order, across the failover.
        assert_eq!(
            r.seqs,
            (1..=n).collect::<Vec<_>>(),
            "received in {}",
            r.ticket
        );
        total_acked += n;
        total_received += r.seqs.len();
    }
    let moved = senders
        .iter()
        .chain(&receivers)
        .filter(|c| c.reconnects > 0)
        .count();
    eprintln!(
        "SIGKILL under load: {} send frames, {total_acked} acknowledged, {total_received} received, \
         0 lost, 0 duplicated; {moved} clients moved to the survivor",
        frames_sent.into_inner()
    );
    assert_eq!(moved, TICKETS, "everyone on the killed instance moved");
}

/// A heartbeat's presence entries go to Redis and come back in pipelines: entries over
/// more keys than one pipeline holds are stored with their expiry and read back key by
/// key, in the order asked, expired entries left out.
#[actix_web::test]
async fn presence_entries_are_written_and_read_in_bulk() {
    use relay_desk::realtime::presence::now_ms;
    let app = TestApp::start_redis().await;
    let store = app.state.realtime.presence.clone();
    let now = now_ms();
    store
        .touch("bulk:0".into(), "stale".into(), now - 1)
        .await
        .unwrap();
    let entries: Vec<(String, String)> = (0..600)
        .flat_map(|k| (0..3).map(move |m| (format!("bulk:{k}"), format!("{k}-m{m}"))))
        .collect();
    store.touch_many(entries, now + 60_000).await.unwrap();

    let mut keys: Vec<String> = (0..600).rev().map(|k| format!("bulk:{k}")).collect();
    keys.push("bulk:none".into());
    let sets = store.members_many(keys, now).await.unwrap();
    assert_eq!(sets.len(), 601);
    for (set, k) in sets[..600].iter().zip((0..600).rev()) {
        let mut set = set.clone();
        set.sort();
        assert_eq!(set, [0, 1, 2].map(|m| format!("{k}-m{m}")));
    }
    assert!(sets[600].is_empty());
    // One key at a time reads the same.
    let mut first = store.members("bulk:0".into(), now).await.unwrap();
    first.sort();
    assert_eq!(first, ["0-m0", "0-m1", "0-m2"]);
}
