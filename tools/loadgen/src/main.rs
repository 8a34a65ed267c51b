//! `relay-loadgen floor`: T tickets × M members on real sockets spread over the given
//! instances; one sender per ticket (its customer) at a fixed rate; every other member
//! records what arrives. Prints one JSON line with throughput, latency percentiles, loss,
//! duplicates, ordering and the servers' CPU and RSS.

use awc::ws;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use relay_loadgen::accounting::Accounting;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Parser, Clone)]
struct Args {
    /// REST base URL (any instance or the proxy).
    #[arg(long)]
    base: String,
    /// WebSocket URLs, comma-separated; sockets are spread round-robin.
    #[arg(long)]
    ws: String,
    #[arg(long, default_value = "http://bench.local")]
    origin: String,
    #[arg(long)]
    admin_email: String,
    #[arg(long)]
    admin_password: String,
    #[arg(long, default_value_t = 200)]
    tickets: usize,
    #[arg(long, default_value_t = 5)]
    members: usize,
    /// Messages per second per sender.
    #[arg(long, default_value_t = 2.0)]
    rate: f64,
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Server PIDs to sample from /proc, comma-separated.
    #[arg(long, default_value = "")]
    pids: String,
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

fn proc_sample(pid: &str) -> (f64, u64) {
    let cpu = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1;
            let f: Vec<&str> = after.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(0.0);
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0);
    (cpu, rss)
}

async fn call(
    client: &awc::Client,
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> Result<(u16, Value), String> {
    let m = awc::http::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let mut req = client.request(m, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let mut res = req.send_json(&body).await.map_err(|e| e.to_string())?;
    let bytes = res.body().limit(1 << 20).await.map_err(|e| e.to_string())?;
    Ok((
        res.status().as_u16(),
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// Creates (or reuses) a user and signs in; returns (id, token).
async fn account(
    client: &awc::Client,
    args: &Args,
    admin: &str,
    email: &str,
    role: &str,
) -> Result<(u64, String), String> {
    let password = "bench-password-1";
    let _ = call(client, &args.base, "POST", "/api/users", Some(admin),
        json!({"email": email, "name": email.split('@').next(), "role": role, "password": password})).await?;
    let (s, body) = call(
        client,
        &args.base,
        "POST",
        "/api/auth/login",
        None,
        json!({"email": email, "password": password}),
    )
    .await?;
    if s != 200 {
        return Err(format!("login {email}: {s} {body}"));
    }
    let id = body["user"]["id"].as_u64().ok_or("no user id")?;
    Ok((
        id,
        body["access_token"].as_str().ok_or("no token")?.to_owned(),
    ))
}

type Framed = actix_codec::Framed<awc::BoxedSocket, ws::Codec>;

async fn open(url: &str, origin: &str, token: &str, ticket: u64) -> Result<Framed, String> {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let (_, mut framed) = client
        .ws(url)
        .origin(origin)
        .max_frame_size(1 << 20)
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    framed
        .send(ws::Message::Text(
            json!({"type": "auth", "token": token}).to_string().into(),
        ))
        .await
        .map_err(|e| e.to_string())?;
    framed
        .send(ws::Message::Text(
            json!({"type": "join", "ticket_id": ticket, "since_seq": 0})
                .to_string()
                .into(),
        ))
        .await
        .map_err(|e| e.to_string())?;
    // Wait for the presence frame that ends the join.
    while let Some(Ok(f)) = framed.next().await {
        if let ws::Frame::Text(b) = f {
            let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
            if v["type"] == "presence" {
                return Ok(framed);
            }
            if v["type"] == "error" {
                return Err(v.to_string());
            }
        }
    }
    Err("socket closed during join".into())
}

async fn floor(args: Args) -> Result<Value, String> {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(60))
        .finish();
    let (s, login) = call(
        &client,
        &args.base,
        "POST",
        "/api/auth/login",
        None,
        json!({"email": args.admin_email, "password": args.admin_password}),
    )
    .await?;
    if s != 200 {
        return Err(format!("admin login: {s} {login}"));
    }
    let admin = login["access_token"]
        .as_str()
        .ok_or("no admin token")?
        .to_owned();
    let targets: Vec<String> = args.ws.split(',').map(str::to_owned).collect();

    // Accounts and tickets (accounts are reused between runs).
    let setup = Instant::now();
    let mut members: Vec<Vec<(u64, String)>> = Vec::new();
    let mut tickets = Vec::new();
    for t in 0..args.tickets {
        let mut m = vec![
            account(
                &client,
                &args,
                &admin,
                &format!("lg-c-{t}@bench.local"),
                "customer",
            )
            .await?,
        ];
        for k in 1..args.members {
            m.push(
                account(
                    &client,
                    &args,
                    &admin,
                    &format!("lg-t-{t}-{k}@bench.local"),
                    "technician",
                )
                .await?,
            );
        }
        let (s, ticket) = call(
            &client,
            &args.base,
            "POST",
            "/api/tickets",
            Some(&m[0].1),
            json!({"title": format!("bench {t}")}),
        )
        .await?;
        if s != 201 {
            return Err(format!("create ticket: {s} {ticket}"));
        }
        tickets.push(ticket["id"].as_u64().ok_or("no ticket id")?);
        members.push(m);
    }
    let setup_s = setup.elapsed().as_secs_f64();

    let pids: Vec<String> = args
        .pids
        .split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let before: Vec<(f64, u64)> = pids.iter().map(|p| proc_sample(p)).collect();

    // Sockets.
    let acc = Rc::new(RefCell::new(Accounting::default()));
    let mut connect_ms = Vec::new();
    let mut senders = Vec::new();
    let mut audience: HashMap<u64, Vec<u64>> = HashMap::new();
    let mut n_sockets = 0usize;
    for (t, ms) in members.iter().enumerate() {
        let ticket = tickets[t];
        let sender_id = ms[0].0;
        for (k, (user_id, token)) in ms.iter().enumerate() {
            let url = &targets[n_sockets % targets.len()];
            n_sockets += 1;
            let started = Instant::now();
            let framed = open(url, &args.origin, token, ticket).await?;
            connect_ms.push(started.elapsed().as_secs_f64() * 1000.0);
            let (sink, mut stream) = framed.split();
            if k == 0 {
                senders.push((sender_id, ticket, sink));
            } else {
                audience.entry(sender_id).or_default().push(*user_id);
                let acc = acc.clone();
                let receiver = *user_id;
                actix_rt::spawn(async move {
                    let _keep = sink;
                    while let Some(Ok(f)) = stream.next().await {
                        if let ws::Frame::Text(b) = f {
                            let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
                            if v["type"] != "message" {
                                continue;
                            }
                            let body: Value =
                                serde_json::from_str(v["message"]["body"].as_str().unwrap_or(""))
                                    .unwrap_or(Value::Null);
                            if let (Some(s), Some(n), Some(at)) =
                                (body["s"].as_u64(), body["n"].as_u64(), body["t"].as_u64())
                            {
                                acc.borrow_mut().record(
                                    receiver,
                                    s,
                                    n,
                                    now_us().saturating_sub(at),
                                );
                            }
                        }
                    }
                });
            }
        }
    }

    // Send for `duration` seconds, each sender at `rate`, phases spread out.
    let sent: Rc<RefCell<BTreeMap<u64, u64>>> = Rc::default();
    let run = Duration::from_secs(args.duration);
    let period = Duration::from_secs_f64(1.0 / args.rate);
    let started = Instant::now();
    let mut handles = Vec::new();
    let n_senders = senders.len().max(1);
    for (i, (sender_id, ticket, mut sink)) in senders.into_iter().enumerate() {
        let sent = sent.clone();
        let offset = period.mul_f64(i as f64 / n_senders as f64);
        handles.push(actix_rt::spawn(async move {
            actix_rt::time::sleep(offset).await;
            let mut tick = actix_rt::time::interval(period);
            let mut n = 0u64;
            while started.elapsed() < run {
                tick.tick().await;
                let body = json!({"s": sender_id, "n": n, "t": now_us()}).to_string();
                let frame = json!({"type": "send", "ticket_id": ticket, "client_id": uuid::Uuid::new_v4(), "body": body});
                if sink.send(ws::Message::Text(frame.to_string().into())).await.is_err() {
                    break;
                }
                n += 1;
                sent.borrow_mut().insert(sender_id, n);
            }
            // Keep the socket open while the last messages are delivered.
            actix_rt::time::sleep(Duration::from_secs(3)).await;
            drop(sink);
        }));
    }
    for h in handles {
        let _ = h.await;
    }
    let elapsed = started.elapsed().as_secs_f64() - 3.0;
    let after: Vec<(f64, u64)> = pids.iter().map(|p| proc_sample(p)).collect();
    let sent = sent.borrow().clone();
    let report = acc.borrow_mut().report(&sent, &audience);
    connect_ms.sort_by(|a, b| a.total_cmp(b));
    let servers: Vec<Value> = pids
        .iter()
        .zip(before.iter().zip(after.iter()))
        .map(|(pid, (b, a))| json!({"pid": pid, "cpu_s": a.0 - b.0, "rss_kb_before": b.1, "rss_kb_after": a.1}))
        .collect();
    Ok(json!({
        "scenario": "floor",
        "tickets": args.tickets, "members": args.members, "rate_per_sender": args.rate,
        "duration_s": args.duration, "sockets": n_sockets, "instances": targets.len(),
        "setup_s": setup_s,
        "sent": sent.values().sum::<u64>(),
        "deliveries_per_s": report.delivered as f64 / elapsed.max(0.001),
        "report": report,
        "connect_ms_p50": connect_ms.get(connect_ms.len() / 2).copied().unwrap_or(0.0),
        "connect_ms_max": connect_ms.last().copied().unwrap_or(0.0),
        "servers": servers,
    }))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let result = actix_rt::System::new().block_on(floor(args));
    match result {
        Ok(v) => {
            println!("{v}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadgen failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
