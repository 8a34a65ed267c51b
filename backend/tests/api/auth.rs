//! Sign-up, sign-in, refresh rotation and reuse detection, token refusal, sessions.

use crate::common::ws::Ws;
use crate::common::*;
use base64::Engine;
use serde_json::{json, Value};

#[actix_web::test]
async fn register_then_me_and_login() {
    let app = TestApp::start().await;
    let res = app
        .send("POST", "/api/auth/register", None, Some(&json!({
            "email": "  New.Person@Example.COM ", "name": "New Person", "password": "long enough pw"
        })))
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["user"]["email"], "new.person@example.com");
    assert_eq!(res.body["user"]["role"], "customer");
    assert!(res.body["expires_in"].as_i64().unwrap() <= 900);
    let token = res.body["access_token"].as_str().unwrap().to_owned();
    let me = app.get("/api/me", &token).await;
    assert_eq!(me.ok()["name"], "New Person");

    let dup = app
        .send(
            "POST",
            "/api/auth/register",
            None,
            Some(&json!({
                "email": "new.person@example.com", "name": "Again", "password": "long enough pw"
            })),
        )
        .await;
    dup.expect_error(409, "email_taken");

    let login = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(&json!({
            "email": "NEW.person@example.com", "password": "long enough pw"})),
        )
        .await;
    assert_eq!(login.ok()["user"]["name"], "New Person");
    app.stop().await;
}

#[actix_web::test]
async fn register_validates_every_field_at_once() {
    let app = TestApp::start().await;
    let before = app.counts();
    let res = app
        .send(
            "POST",
            "/api/auth/register",
            None,
            Some(&json!({
            "email": "not-an-email", "name": "  ", "password": "short"})),
        )
        .await;
    res.expect_error(422, "validation_failed");
    let fields = res.body["error"]["fields"].as_object().unwrap();
    assert!(
        fields.contains_key("email")
            && fields.contains_key("name")
            && fields.contains_key("password")
    );
    // bcrypt only reads 72 bytes: longer passwords are refused, not silently truncated.
    let long = app
        .send(
            "POST",
            "/api/auth/register",
            None,
            Some(&json!({
            "email": "long@example.com", "name": "Long", "password": "é".repeat(40)})),
        )
        .await;
    long.expect_error(422, "validation_failed");
    assert_eq!(app.counts(), before);
    app.stop().await;
}

#[actix_web::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = TestApp::start().await;
    let u = app.user("customer", "Known").await;
    let wrong = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(&json!({"email": u.email, "password": "wrong password"})),
        )
        .await;
    let unknown = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(&json!({"email": "nobody@example.com", "password": "wrong password"})),
        )
        .await;
    wrong.expect_error(401, "invalid_credentials");
    unknown.expect_error(401, "invalid_credentials");
    assert_eq!(wrong.body, unknown.body);
    app.stop().await;
}

#[actix_web::test]
async fn a_sign_in_storm_beyond_the_queue_is_refused_at_once() {
    // One hashing thread, production-like hashes (cost 13: a few hundred ms each), and
    // at most three seconds of queued hashing.
    let wait = std::time::Duration::from_millis(3000);
    let app = TestApp::start_with(|c| {
        c.bcrypt_cost = 13;
        c.hash_queue_ms = wait.as_millis() as u64;
        c.hash_threads = Some(1);
    })
    .await;
    let retry_after = |r: &Response| -> u64 {
        r.expect_error(503, "unavailable");
        let secs: u64 = r
            .headers
            .get("retry-after")
            .expect("Retry-After")
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&secs), "Retry-After {secs}");
        assert_eq!(r.body["error"]["fields"]["retry_after"], secs.to_string());
        secs
    };
    // A request a busy queue refused works once its Retry-After has passed (the hashing
    // threads run below everything else, so a loaded test machine may need a few).
    let until_served = |path: &'static str, body: Value| {
        let app = &app;
        async move {
            for _ in 0..10 {
                let res = app.send("POST", path, None, Some(&body)).await;
                if res.status != 503 {
                    return res;
                }
                let secs = retry_after(&res).min(3);
                actix_web::rt::time::sleep(std::time::Duration::from_secs(secs)).await;
            }
            panic!("{path} refused ten times in a row");
        }
    };
    let creds = json!({"email": "storm@example.com", "password": "storm password 1"});
    let mut account = creds.clone();
    account["name"] = json!("Storm");
    // Registering hashes once, which also tells the server how long a hash takes.
    let reg = until_served("/api/auth/register", account).await;
    assert_eq!(reg.status, 201, "{}", reg.body);

    let started = std::time::Instant::now();
    let logins = (0..16).map(|_| {
        let (app, creds) = (&app, &creds);
        async move {
            let res = app.send("POST", "/api/auth/login", None, Some(creds)).await;
            (res, started.elapsed())
        }
    });
    let answers = futures_util::future::join_all(logins).await;
    let refused: Vec<_> = answers.iter().filter(|(r, _)| r.status == 503).collect();
    for (r, _) in &answers {
        assert!(
            r.status == 200 || r.status == 503,
            "{} {}",
            r.status,
            r.body
        );
    }
    assert!(!refused.is_empty(), "16 hashes cannot fit in 3 s of queue");
    for (r, _) in &refused {
        retry_after(r);
    }
    // Refused on arrival, not after waiting in the queue: a request that waited is
    // answered after the whole wait at the earliest.
    let first_refusal = refused.iter().map(|(_, t)| *t).min().unwrap();
    assert!(
        first_refusal < wait,
        "the first refusal came after {first_refusal:?}, as if it had waited"
    );
    // The refusal is temporary: after the Retry-After the same sign-in works.
    let again = until_served("/api/auth/login", creds.clone()).await;
    assert_eq!(again.status, 200, "{}", again.body);
    app.stop().await;
}

#[actix_web::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = TestApp::start().await;
    let u = app.user("customer", "Rotating").await;
    let refresh = |t: String| {
        let app = &app;
        async move {
            app.send(
                "POST",
                "/api/auth/refresh",
                None,
                Some(&json!({"refresh_token": t})),
            )
            .await
        }
    };
    let r1 = u.refresh.clone();
    let second = refresh(r1.clone()).await;
    let r2 = second.ok()["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    let new_access = second.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/me", &new_access).await.status, 200);
    let third = refresh(r2.clone()).await;
    let r3 = third.ok()["refresh_token"].as_str().unwrap().to_owned();

    // r1 was already spent: presenting it again revokes every token of the family.
    refresh(r1).await.expect_error(401, "invalid_token");
    refresh(r3).await.expect_error(401, "invalid_token");
    refresh("garbage".into())
        .await
        .expect_error(401, "invalid_token");

    // A separate sign-in is a separate family and still works.
    let other = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(&json!({"email": u.email, "password": PASSWORD})),
        )
        .await;
    let fresh = other.ok()["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(refresh(fresh).await.status, 200);
    app.stop().await;
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

#[actix_web::test]
async fn bad_tokens_are_refused() {
    let app = TestApp::start().await;
    let u = app.user("customer", "Holder").await;
    let parts: Vec<&str> = u.token.split('.').collect();
    let payload: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();

    let mut admin_payload = payload.clone();
    admin_payload["role"] = json!("admin");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(admin_payload.to_string().as_bytes()),
        parts[2]
    );
    let alg_none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);

    let sign = |claims: &serde_json::Value, secret: &[u8]| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap()
    };
    let secret = app.state.config.jwt_secret.clone();
    let mut expired = payload.clone();
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 600);
    expired["iat"] = json!(chrono::Utc::now().timestamp() - 1200);
    let mut wrong_aud = payload.clone();
    wrong_aud["aud"] = json!("someone-else");
    let mut wrong_iss = payload.clone();
    wrong_iss["iss"] = json!("evil");
    let mut wrong_typ = payload.clone();
    wrong_typ["typ"] = json!("refresh");

    let cases = [
        ("tampered", tampered),
        ("alg none", alg_none),
        ("expired", sign(&expired, &secret)),
        (
            "wrong key",
            sign(&payload, b"another-key-another-key-another-key"),
        ),
        ("wrong aud", sign(&wrong_aud, &secret)),
        ("wrong iss", sign(&wrong_iss, &secret)),
        ("wrong type", sign(&wrong_typ, &secret)),
        ("refresh token as access", u.refresh.clone()),
        ("empty", String::new()),
    ];
    for (what, token) in cases {
        let res = app.get("/api/me", &token).await;
        assert_eq!(res.status, 401, "{what}: {}", res.body);
        assert!(res.body["error"]["code"].is_string(), "{what}");
    }
    let none = app.send("GET", "/api/me", None, None).await;
    none.expect_error(401, "unauthorized");
    // The genuine token still works.
    assert_eq!(app.get("/api/me", &u.token).await.status, 200);
    app.stop().await;
}

#[actix_web::test]
async fn logout_ends_the_session_and_logout_all_ends_every_one() {
    let app = TestApp::start().await;
    let u = app.user("customer", "Leaving").await;
    let res = app
        .send(
            "POST",
            "/api/auth/logout",
            None,
            Some(&json!({"refresh_token": u.refresh})),
        )
        .await;
    assert_eq!(res.status, 204);
    let again = app
        .send(
            "POST",
            "/api/auth/refresh",
            None,
            Some(&json!({"refresh_token": u.refresh})),
        )
        .await;
    again.expect_error(401, "invalid_token");

    let second = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(&json!({"email": u.email, "password": PASSWORD})),
        )
        .await;
    let access = second.ok()["access_token"].as_str().unwrap().to_owned();
    let refresh = second.body["refresh_token"].as_str().unwrap().to_owned();
    let all = app
        .send(
            "POST",
            "/api/auth/logout",
            Some(&access),
            Some(&json!({"all": true})),
        )
        .await;
    assert_eq!(all.status, 204);
    assert_eq!(app.get("/api/me", &access).await.status, 401);
    assert_eq!(app.get("/api/me", &u.token).await.status, 401);
    let r = app
        .send(
            "POST",
            "/api/auth/refresh",
            None,
            Some(&json!({"refresh_token": refresh})),
        )
        .await;
    r.expect_error(401, "invalid_token");
    app.stop().await;
}

#[actix_web::test]
async fn password_change_revokes_old_sessions() {
    let app = TestApp::start().await;
    let u = app.user("technician", "Changer").await;
    let wrong = app
        .send(
            "PUT",
            "/api/me/password",
            Some(&u.token),
            Some(&json!({
            "current_password": "not it at all", "new_password": "a brand new password"})),
        )
        .await;
    wrong.expect_error(422, "validation_failed");
    assert_eq!(
        app.get("/api/me", &u.token).await.status,
        200,
        "a failed change changes nothing"
    );

    let ok = app
        .send(
            "PUT",
            "/api/me/password",
            Some(&u.token),
            Some(&json!({
            "current_password": PASSWORD, "new_password": "a brand new password"})),
        )
        .await;
    let fresh = ok.ok()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/me", &u.token).await.status,
        401,
        "old access token revoked"
    );
    assert_eq!(app.get("/api/me", &fresh).await.status, 200);
    let r = app
        .send(
            "POST",
            "/api/auth/refresh",
            None,
            Some(&json!({"refresh_token": u.refresh})),
        )
        .await;
    r.expect_error(401, "invalid_token");
    let old_pw = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(&json!({"email": u.email, "password": PASSWORD})),
        )
        .await;
    old_pw.expect_error(401, "invalid_credentials");
    let new_pw = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(&json!({"email": u.email, "password": "a brand new password"})),
        )
        .await;
    assert_eq!(new_pw.status, 200);
    app.stop().await;
}

#[actix_web::test]
async fn deactivation_and_role_change_take_effect_at_once() {
    let app = TestApp::start().await;
    let admin = app.user("admin", "Boss").await;
    let c = app.user("customer", "Soon Staff").await;
    let other = app.user("customer", "Other").await;
    let t = app.ticket(&other, "someone else's ticket").await;
    let path = format!("/api/tickets/{}", t["id"]);
    assert_eq!(app.get(&path, &c.token).await.status, 404);

    let promote = app
        .patch(
            &format!("/api/users/{}", c.id),
            &admin.token,
            json!({"role": "technician"}),
        )
        .await;
    assert_eq!(promote.ok()["role"], "technician");
    // The old token carried the old role: it stops working; a refresh brings the new one.
    assert_eq!(app.get("/api/me", &c.token).await.status, 401);
    let r = app
        .send(
            "POST",
            "/api/auth/refresh",
            None,
            Some(&json!({"refresh_token": c.refresh})),
        )
        .await;
    let token = r.ok()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get(&path, &token).await.status,
        200,
        "now staff, sees every ticket"
    );

    let off = app
        .send(
            "DELETE",
            &format!("/api/users/{}", c.id),
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(off.status, 204);
    assert_eq!(app.get("/api/me", &token).await.status, 401);
    let login = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(&json!({"email": c.email, "password": PASSWORD})),
        )
        .await;
    login.expect_error(401, "invalid_credentials");
    app.stop().await;
}

#[actix_web::test]
async fn totp_second_factor() {
    let app = TestApp::start().await;
    let u = app.user("technician", "Careful").await;
    let setup = app.post("/api/me/totp/setup", &u.token, json!({})).await;
    let secret = setup.ok()["secret"].as_str().unwrap().to_owned();
    assert!(setup.body["otpauth_url"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    // Not on until confirmed with a code.
    let login = json!({"email": u.email, "password": PASSWORD});
    assert_eq!(
        app.send("POST", "/api/auth/login", None, Some(&login))
            .await
            .status,
        200
    );
    app.post("/api/me/totp/enable", &u.token, json!({"code": "123456"}))
        .await
        .expect_error(422, "validation_failed");
    let code = relay_desk::auth::totp::current_code(&secret, &u.email).unwrap();
    assert_eq!(
        app.post("/api/me/totp/enable", &u.token, json!({"code": code}))
            .await
            .status,
        204
    );
    assert_eq!(
        app.get("/api/me", &u.token).await.body["totp_enabled"],
        true
    );

    app.send("POST", "/api/auth/login", None, Some(&login))
        .await
        .expect_error(401, "totp_required");
    let wrong = json!({"email": u.email, "password": PASSWORD, "totp_code": "000000"});
    app.send("POST", "/api/auth/login", None, Some(&wrong))
        .await
        .expect_error(401, "invalid_credentials");
    let bad_pw = json!({"email": u.email, "password": "not the password", "totp_code": code});
    app.send("POST", "/api/auth/login", None, Some(&bad_pw))
        .await
        .expect_error(401, "invalid_credentials");
    let right = json!({"email": u.email, "password": PASSWORD, "totp_code": relay_desk::auth::totp::current_code(&secret, &u.email).unwrap()});
    assert_eq!(
        app.send("POST", "/api/auth/login", None, Some(&right))
            .await
            .status,
        200
    );

    let off = relay_desk::auth::totp::current_code(&secret, &u.email).unwrap();
    assert_eq!(
        app.post("/api/me/totp/disable", &u.token, json!({"code": off}))
            .await
            .status,
        204
    );
    assert_eq!(
        app.send("POST", "/api/auth/login", None, Some(&login))
            .await
            .status,
        200
    );
    app.stop().await;
}

/// Turns the second factor on for `u` (setup + confirm) and returns its secret.
async fn enable_totp(app: &TestApp, u: &TestUser) -> String {
    let setup = app.post("/api/me/totp/setup", &u.token, json!({})).await;
    let secret = setup.ok()["secret"].as_str().unwrap().to_owned();
    let code = relay_desk::auth::totp::current_code(&secret, &u.email).unwrap();
    let on = app
        .post("/api/me/totp/enable", &u.token, json!({"code": code}))
        .await;
    assert_eq!(on.status, 204, "{:?}", on.body);
    secret
}

#[actix_web::test]
async fn the_desk_can_require_a_second_factor_of_staff() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let require = json!({"require_totp_for_staff": true});
    // An admin without a second factor cannot lock the desk behind one.
    app.patch("/api/settings", &cast.admin.token, require.clone())
        .await
        .expect_error(422, "validation_failed");
    enable_totp(&app, &cast.admin).await;

    // The technician is online when the rule comes in.
    let ticket = app.ticket(&cast.customer, "Printer on fire").await;
    let id = ticket["id"].as_i64().unwrap();
    let (mut ws, _) = Ws::connect(&app.ws_url(), &cast.tech.token).await;
    ws.join(id, 0).await;
    let on = app
        .patch("/api/settings", &cast.admin.token, require.clone())
        .await;
    assert_eq!(on.ok()["require_totp_for_staff"], true);
    assert_eq!(ws.expect_close(5).await, Some(4401), "their socket closes");

    // Until they set one up, staff without a second factor reach only their account.
    for path in [
        "/api/tickets".to_owned(),
        format!("/api/tickets/{id}"),
        "/api/users".to_owned(),
    ] {
        app.get(&path, &cast.tech.token)
            .await
            .expect_error(403, "totp_setup_required");
    }
    app.message(&cast.tech, id, "sneaky", false)
        .await
        .expect_error(403, "totp_setup_required");
    let me = app.get("/api/me", &cast.tech.token).await;
    assert_eq!(me.ok()["totp_setup_required"], true);
    let login = json!({"email": cast.tech.email, "password": PASSWORD});
    let signed_in = app
        .send("POST", "/api/auth/login", None, Some(&login))
        .await;
    assert_eq!(signed_in.ok()["user"]["totp_setup_required"], true);
    let mut refused = Ws::open(&app.ws_url(), Some(ORIGIN)).await.unwrap();
    refused
        .send(json!({"type": "auth", "token": cast.tech.token}))
        .await;
    let err = refused.expect(|f| f["type"] == "error", 5).await;
    assert_eq!(err["code"], "totp_setup_required");
    assert_eq!(refused.expect_close(5).await, Some(4401));

    // Customers and staff who have a second factor carry on.
    assert_eq!(
        app.get("/api/tickets", &cast.customer.token).await.status,
        200
    );
    let cust_me = app.get("/api/me", &cast.customer.token).await;
    assert_eq!(cust_me.ok()["totp_setup_required"], false);
    assert_eq!(app.get("/api/users", &cast.admin.token).await.status, 200);

    // Setting it up unlocks the same session; switching it off again is refused.
    let secret = enable_totp(&app, &cast.tech).await;
    assert_eq!(app.get("/api/tickets", &cast.tech.token).await.status, 200);
    let me = app.get("/api/me", &cast.tech.token).await;
    assert_eq!(me.ok()["totp_setup_required"], false);
    let code = relay_desk::auth::totp::current_code(&secret, &cast.tech.email).unwrap();
    app.post(
        "/api/me/totp/disable",
        &cast.tech.token,
        json!({"code": code}),
    )
    .await
    .expect_error(403, "forbidden");
    let (mut back, _) = Ws::connect(&app.ws_url(), &cast.tech.token).await;
    back.join(id, 0).await;
    app.stop().await;
}
