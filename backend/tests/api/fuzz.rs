//! Property tests of bad input: random and malformed JSON (deep nesting, huge and odd
//! strings, NULs, wrong types) into every request body and every WebSocket frame type.
//! The answer is always the error envelope or an error frame: never a 5xx, a panic or a
//! dropped socket.

use crate::common::ws::Ws;
use crate::common::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use serde_json::{json, Value};

fn odd_string() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        Just("\u{0}".to_owned()),
        Just("x".repeat(70_000)),
        Just("TICK-2026-0001".to_owned()),
        Just("../../etc/passwd".to_owned()),
        Just("<script>alert(1)</script>".to_owned()),
        Just("-1".to_owned()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        odd_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("title".to_owned()),
                    Just("body".to_owned()),
                    Just("status".to_owned()),
                    Just("priority".to_owned()),
                    Just("ticket_id".to_owned()),
                    Just("type".to_owned()),
                    Just("assignee_id".to_owned()),
                    Just("email".to_owned()),
                    Just("password".to_owned()),
                    Just("client_id".to_owned()),
                    Just("since_seq".to_owned()),
                    Just("seq".to_owned()),
                    "[a-z_]{1,12}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Frames shaped like each client frame type, with random field values.
fn frame_value() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just("auth"),
            Just("join"),
            Just("leave"),
            Just("send"),
            Just("typing"),
            Just("read"),
            Just("unknown"),
        ],
        json_value(),
        json_value(),
    )
        .prop_map(|(ty, a, b)| {
            json!({"type": ty, "ticket_id": a, "since_seq": b, "body": b,
                                       "client_id": a, "state": b, "seq": a, "token": b})
        })
}

fn samples<S: Strategy>(strategy: S, n: usize) -> Vec<S::Value> {
    let mut runner = TestRunner::new(RunnerConfig {
        cases: n as u32,
        ..RunnerConfig::default()
    });
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

#[actix_web::test]
async fn random_bodies_never_break_the_api() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let id = app.ticket(&cast.customer, "target").await["id"]
        .as_i64()
        .unwrap();
    let routes: Vec<(&str, String, &str)> = vec![
        ("POST", "/api/auth/register".into(), ""),
        ("POST", "/api/auth/login".into(), ""),
        ("POST", "/api/auth/refresh".into(), ""),
        ("POST", "/api/tickets".into(), "customer"),
        ("PATCH", format!("/api/tickets/{id}"), "tech"),
        ("POST", format!("/api/tickets/{id}/assign"), "admin"),
        ("POST", format!("/api/tickets/{id}/messages"), "customer"),
        ("POST", format!("/api/tickets/{id}/links"), "tech"),
        ("POST", format!("/api/tickets/{id}/rating"), "customer"),
        ("POST", format!("/api/tickets/{id}/time-entries"), "tech"),
        ("POST", "/api/users".into(), "admin"),
        (
            "PATCH",
            format!("/api/users/{}", cast.other_customer.id),
            "admin",
        ),
        ("POST", "/api/categories".into(), "admin"),
        ("PUT", "/api/sla-policies".into(), "admin"),
        ("PATCH", "/api/settings".into(), "admin"),
        ("PUT", "/api/me/password".into(), "customer"),
        ("POST", "/api/notifications/read".into(), "customer"),
    ];
    let token = |who: &str| match who {
        "customer" => Some(cast.customer.token.as_str()),
        "tech" => Some(cast.tech.token.as_str()),
        "admin" => Some(cast.admin.token.as_str()),
        _ => None,
    };
    let mut failures = Vec::new();
    for (i, value) in samples(json_value(), 240).into_iter().enumerate() {
        let (method, path, who) = &routes[i % routes.len()];
        let res = app.send(method, path, token(who), Some(&value)).await;
        let ok =
            res.status.is_client_error() || res.status.is_success() || res.status.as_u16() == 204;
        let enveloped = res.status.is_success() || res.body["error"]["code"].is_string();
        if !ok || !enveloped {
            failures.push(format!(
                "{method} {path} {} -> {} {}",
                value.to_string().chars().take(120).collect::<String>(),
                res.status,
                res.body
            ));
        }
    }
    // Raw bytes that are not JSON, or not UTF-8, at every body route.
    for (method, path, who) in &routes {
        for body in [
            vec![0xff, 0xfe, 0x00],
            b"{\"title\": \"\xc3\x28\"}".to_vec(),
            b"[".repeat(10_000),
        ] {
            let res = app
                .send_raw(method, path, token(who), "application/json", body)
                .await;
            if !res.status.is_client_error() || !res.body["error"]["code"].is_string() {
                failures.push(format!(
                    "{method} {path} raw -> {} {}",
                    res.status, res.body
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} bad answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Still serving.
    assert_eq!(
        app.get(format!("/api/tickets/{id}"), &cast.tech.token)
            .await
            .status,
        200
    );
    app.stop().await;
}

#[actix_web::test]
async fn random_frames_get_error_frames_and_the_socket_survives() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Fuzz").await;
    let id = app.ticket(&c, "socket target").await["id"]
        .as_i64()
        .unwrap();
    let frames = samples(frame_value(), 150);
    // Under the abuse threshold per socket: a fresh socket every 15 frames.
    for chunk in frames.chunks(15) {
        let (mut ws, _) = Ws::connect(&app.ws_url(), &c.token).await;
        for f in chunk {
            ws.send(f.clone()).await;
        }
        // The socket still answers a valid join after the noise.
        ws.send(json!({"type": "join", "ticket_id": id, "since_seq": 0}))
            .await;
        ws.expect(|f| f["type"] == "presence" && f["ticket_id"] == id, 10)
            .await;
        assert!(ws.closed.is_none());
    }
    app.stop().await;
}
