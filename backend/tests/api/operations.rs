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
