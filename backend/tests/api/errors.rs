//! Bad input of every kind gets the SPEC §3 envelope with a 4xx, and changes nothing.

use crate::common::*;

#[actix_web::test]
async fn malformed_bodies_get_the_envelope_and_change_nothing() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Fuzzy").await;
    let tech = app.user("technician", "Tess").await;
    let t = app.ticket(&c, "target").await;
    let tid = t["id"].as_i64().unwrap();
    let before = app.counts();
    let tok = Some(c.token.as_str());

    // (method, path, content type, body, status, code)
    type Case = (
        &'static str,
        String,
        &'static str,
        Vec<u8>,
        u16,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/api/tickets".into(),
            "application/json",
            b"{\"title\": ".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "POST",
            "/api/tickets".into(),
            "application/json",
            b"not json at all".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "POST",
            "/api/tickets".into(),
            "application/json",
            b"".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "POST",
            "/api/tickets".into(),
            "application/json",
            br#"{"title": 42}"#.to_vec(),
            422,
            "validation_failed",
        ),
        (
            "POST",
            "/api/tickets".into(),
            "application/json",
            br#"{"description": "no title"}"#.to_vec(),
            422,
            "validation_failed",
        ),
        (
            "POST",
            "/api/tickets".into(),
            "application/json",
            br#"{"title": "x", "priority": "mega"}"#.to_vec(),
            422,
            "validation_failed",
        ),
        (
            "POST",
            "/api/tickets".into(),
            "application/json",
            br#"{"title": "x", "category_id": "one"}"#.to_vec(),
            422,
            "validation_failed",
        ),
        (
            "POST",
            "/api/tickets".into(),
            "application/json",
            br#"["an", "array"]"#.to_vec(),
            422,
            "validation_failed",
        ),
        (
            "POST",
            "/api/tickets".into(),
            "application/json",
            br#"{"title": "   "}"#.to_vec(),
            422,
            "validation_failed",
        ),
        (
            "POST",
            "/api/tickets".into(),
            "application/json",
            format!(r#"{{"title": "{}"}}"#, "x".repeat(201)).into_bytes(),
            422,
            "validation_failed",
        ),
        (
            "POST",
            "/api/tickets".into(),
            "text/plain",
            br#"{"title": "x"}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/api/tickets".into(),
            "application/json",
            format!(
                r#"{{"title": "x", "description": "{}"}}"#,
                "y".repeat(300 * 1024)
            )
            .into_bytes(),
            413,
            "payload_too_large",
        ),
        (
            "POST",
            "/api/tickets".into(),
            "application/json",
            vec![b'{', 0xff, 0xfe, b'}'],
            400,
            "invalid_json",
        ),
        (
            "POST",
            "/api/tickets".into(),
            "application/json",
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
            400,
            "invalid_json",
        ),
        (
            "PATCH",
            format!("/api/tickets/{tid}"),
            "application/json",
            br#"{"status": "exploded"}"#.to_vec(),
            422,
            "validation_failed",
        ),
        (
            "POST",
            format!("/api/tickets/{tid}/messages"),
            "application/json",
            br#"{"body": ""}"#.to_vec(),
            422,
            "validation_failed",
        ),
        (
            "POST",
            format!("/api/tickets/{tid}/messages"),
            "application/json",
            br#"{"body": "hi", "client_id": "not-a-uuid"}"#.to_vec(),
            422,
            "validation_failed",
        ),
        (
            "POST",
            format!("/api/tickets/{tid}/messages"),
            "application/json",
            format!(r#"{{"body": "{}"}}"#, "z".repeat(20_001)).into_bytes(),
            422,
            "validation_failed",
        ),
        (
            "POST",
            "/api/auth/login".into(),
            "application/json",
            br#"{"email": ["a"], "password": 1}"#.to_vec(),
            422,
            "validation_failed",
        ),
    ];
    for (method, path, ctype, body, status, code) in cases {
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        let res = app.send_raw(method, &path, tok, ctype, body).await;
        assert_eq!(
            res.status.as_u16(),
            status,
            "{method} {path} {shown:?}: {}",
            res.body
        );
        assert_eq!(
            res.body["error"]["code"], code,
            "{method} {path} {shown:?}: {}",
            res.body
        );
        assert!(res.body["error"]["message"].is_string());
    }
    assert_eq!(app.counts(), before);
    let _ = tech;
    app.stop().await;
}

#[actix_web::test]
async fn bad_queries_paths_routes_and_methods() {
    let app = TestApp::start().await;
    let c = app.user("admin", "Query").await;
    let before = app.counts();
    let cases: Vec<(&str, &str, u16, &str)> = vec![
        ("GET", "/api/tickets?limit=abc", 400, "bad_request"),
        ("GET", "/api/tickets?limit=0", 422, "validation_failed"),
        ("GET", "/api/tickets?limit=1000", 422, "validation_failed"),
        (
            "GET",
            "/api/tickets?status=open,nonsense",
            422,
            "validation_failed",
        ),
        (
            "GET",
            "/api/tickets?priority=mega",
            422,
            "validation_failed",
        ),
        ("GET", "/api/tickets?sort=title", 422, "validation_failed"),
        (
            "GET",
            "/api/tickets?cursor=not-a-cursor",
            422,
            "validation_failed",
        ),
        (
            "GET",
            "/api/tickets?created_from=yesterday",
            400,
            "bad_request",
        ),
        ("GET", "/api/tickets?unassigned=maybe", 400, "bad_request"),
        ("GET", "/api/tickets/999999", 404, "not_found"),
        ("GET", "/api/tickets/TICK-1999-0001", 404, "not_found"),
        ("GET", "/api/tickets/%00%ff", 404, "not_found"),
        ("GET", "/api/users/abc", 404, "not_found"),
        (
            "GET",
            "/api/tickets/1/messages?limit=-5",
            422,
            "validation_failed",
        ),
        ("GET", "/api/nope", 404, "not_found"),
        ("DELETE", "/api/tickets", 405, "method_not_allowed"),
        ("PUT", "/api/auth/login", 405, "method_not_allowed"),
        ("GET", "/not-an-app-route", 404, "not_found"),
    ];
    for (method, path, status, code) in cases {
        let res = app.send(method, path, Some(&c.token), None).await;
        assert_eq!(res.status.as_u16(), status, "{method} {path}: {}", res.body);
        assert_eq!(
            res.body["error"]["code"], code,
            "{method} {path}: {}",
            res.body
        );
    }
    assert_eq!(app.counts(), before);
    app.stop().await;
}
