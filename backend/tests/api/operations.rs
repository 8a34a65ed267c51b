//! Health, readiness, the OpenAPI document and serving the SPA.

use crate::common::*;

#[actix_web::test]
async fn health_readiness_and_openapi() {
    let app = TestApp::start().await;
    let h = app.send("GET", "/healthz", None, None).await;
    assert_eq!(h.ok()["status"], "ok");
    let r = app.send("GET", "/readyz", None, None).await;
    assert_eq!(r.ok()["checks"]["postgres"], "ok");
    let doc = app.send("GET", "/api/openapi.json", None, None).await;
    let paths = doc.ok()["paths"].as_object().unwrap();
    for p in [
        "/api/tickets",
        "/api/tickets/{id}/messages",
        "/api/auth/refresh",
        "/api/categories",
    ] {
        assert!(paths.contains_key(p), "openapi lacks {p}");
    }
    assert!(doc.body["components"]["schemas"]["TicketView"].is_object());
    assert!(doc.body["components"]["schemas"]["ErrorEnvelope"].is_object());
    // Prometheus metrics count what this instance did.
    let c = app.user("customer", "Metered").await;
    let t = app.ticket(&c, "counted").await;
    app.message(&c, t["id"].as_i64().unwrap(), "one", false)
        .await
        .ok();
    let m = app.send("GET", "/metrics", None, None).await;
    let text = m.body.as_str().unwrap();
    assert!(
        text.contains("relay_messages_posted_total{instance=\"test\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("relay_tickets_created_total{instance=\"test\"} 1"),
        "{text}"
    );
    assert!(text.contains("# TYPE relay_ws_connections gauge"), "{text}");
    // Security headers on every response.
    assert_eq!(h.headers.get("x-content-type-options").unwrap(), "nosniff");
    app.stop().await;
}

#[actix_web::test]
async fn serves_the_spa_with_history_fallback() {
    let dir = std::env::temp_dir().join(format!("rd-static-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>Relay Desk</title>",
    )
    .unwrap();
    std::fs::write(dir.join("app.js"), "console.log('hi')").unwrap();
    let d = dir.clone();
    let app = TestApp::start_with(move |c| c.static_dir = Some(d)).await;
    for path in ["/", "/tickets/42", "/admin/users"] {
        let res = app.send("GET", path, None, None).await;
        assert_eq!(res.status, 200, "{path}");
        assert!(
            res.body
                .as_str()
                .unwrap()
                .contains("<title>Relay Desk</title>"),
            "{path}"
        );
    }
    let csp = app
        .send("GET", "/", None, None)
        .await
        .headers
        .get("content-security-policy")
        .cloned();
    let csp = csp.expect("the SPA is served with a CSP");
    assert!(csp.to_str().unwrap().contains("frame-ancestors 'none'"));
    let js = app.send("GET", "/app.js", None, None).await;
    assert_eq!(js.body, "console.log('hi')");
    // The API keeps answering with JSON, even for unknown endpoints.
    app.send("GET", "/api/does-not-exist", None, None)
        .await
        .expect_error(404, "not_found");
    // No path escapes the static directory.
    let escape = app.send("GET", "/../../etc/passwd", None, None).await;
    assert!(!escape.body.to_string().contains("root:"));
    app.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[actix_web::test]
async fn cors_admits_only_the_configured_origins() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Cross").await;
    let preflight = |origin: &'static str| {
        app.client
            .request(
                actix_web::http::Method::OPTIONS,
                format!("{}/api/tickets", app.base),
            )
            .insert_header(("Origin", origin))
            .insert_header(("Access-Control-Request-Method", "POST"))
            .insert_header((
                "Access-Control-Request-Headers",
                "authorization, content-type",
            ))
            .send()
    };
    // An allowed origin may call the API from a browser, without cookies.
    let ok = preflight(ORIGIN).await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    let h = ok.headers();
    assert_eq!(h.get("access-control-allow-origin").unwrap(), ORIGIN);
    assert!(h.get("access-control-allow-credentials").is_none());
    let allowed = h
        .get("access-control-allow-methods")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(allowed.contains("POST"), "{allowed}");
    // Any other origin, including look-alikes and `null`, is refused in the envelope.
    for evil in [
        "https://evil.example",
        "http://127.0.0.1.evil.example",
        "null",
    ] {
        let mut res = preflight(evil).await.unwrap();
        assert_eq!(res.status(), 400, "{evil}");
        assert!(res.headers().get("access-control-allow-origin").is_none());
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_request", "{body}");
    }
    // A plain cross-origin read from elsewhere gets no Access-Control-Allow-Origin, so
    // the browser hides the answer; from an allowed origin it does.
    let mut evil = app
        .client
        .get(format!("{}/api/me", app.base))
        .insert_header(("Origin", "https://evil.example"))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    let _ = evil.body().await;
    let good = app
        .client
        .get(format!("{}/api/me", app.base))
        .insert_header(("Origin", ORIGIN))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 200);
    assert_eq!(
        good.headers().get("access-control-allow-origin").unwrap(),
        ORIGIN
    );
    // Every response names its request id, which the server's log lines carry.
    let id = good
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(id.len(), 36, "{id}");
    app.stop().await;
}
