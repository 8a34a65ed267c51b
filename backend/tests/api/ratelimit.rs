//! Rate limits: 429 with Retry-After and the envelope, shared by instances through Redis.

use crate::common::*;
use serde_json::json;

#[actix_web::test]
async fn login_attempts_per_account_are_limited_across_instances() {
    let ns = format!("t{}", uuid::Uuid::new_v4().simple());
    let url = std::env::var("TEST_REDIS_URL").expect("TEST_REDIS_URL (scripts/test starts Redis)");
    let setup = |ns: String, url: String| {
        move |c: &mut relay_desk::config::Config| {
            c.redis_url = Some(url);
            c.redis_namespace = ns;
            c.rate_limit_scale = 1;
        }
    };
    let a = TestApp::start_with(setup(ns.clone(), url.clone())).await;
    let b = TestApp::start_with(setup(ns, url)).await;
    let email = format!("victim-{}@example.com", uuid::Uuid::new_v4().simple());
    let body = json!({"email": email, "password": "wrong password"});
    for i in 0..10 {
        let app = if i % 2 == 0 { &a } else { &b };
        let r = app.send("POST", "/api/auth/login", None, Some(&body)).await;
        r.expect_error(401, "invalid_credentials");
    }
    let over = b.send("POST", "/api/auth/login", None, Some(&body)).await;
    over.expect_error(429, "rate_limited");
    let retry: u64 = over
        .headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry), "Retry-After {retry}");
    // Another account is not affected.
    let other = json!({"email": "someone-else@example.com", "password": "wrong password"});
    a.send("POST", "/api/auth/login", None, Some(&other))
        .await
        .expect_error(401, "invalid_credentials");
    a.stop().await;
    b.stop().await;
}

#[actix_web::test]
async fn ticket_creation_is_limited_per_user() {
    let app = TestApp::start_with(|c| c.rate_limit_scale = 1).await;
    let c = app.user("customer", "Eager").await;
    for i in 0..30 {
        let r = app
            .post("/api/tickets", &c.token, json!({"title": format!("t{i}")}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let before = app.counts();
    app.post("/api/tickets", &c.token, json!({"title": "one too many"}))
        .await
        .expect_error(429, "rate_limited");
    assert_eq!(app.counts(), before, "nothing stored");
    let other = app.user("customer", "Calm").await;
    assert_eq!(
        app.post("/api/tickets", &other.token, json!({"title": "mine"}))
            .await
            .status,
        201
    );
    app.stop().await;
}
