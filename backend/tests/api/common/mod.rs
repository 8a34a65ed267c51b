//! Test harness: a real PostgreSQL (from `TEST_DATABASE_URL`, started by scripts/test),
//! migrations run once into a template, a fresh database per test, and the real app
//! (built by `relay_desk::server`, like production) on a real port.

use actix_web::http::StatusCode;
use diesel::prelude::*;
use relay_desk::config::Config;
use relay_desk::users::model::NewUser;
use relay_desk::{db, AppState};
use serde_json::{json, Value};
use std::sync::OnceLock;

pub const PASSWORD: &str = "correct horse battery";
/// The one Origin the test servers allow for WebSockets.
pub const ORIGIN: &str = "http://relay.test";

pub mod browser;
pub mod ws;

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!("TEST_DATABASE_URL is not set: run the tests through scripts/test, which starts PostgreSQL")
    })
}

fn with_db(url: &str, db: &str) -> String {
    let (base, _) = url
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL must end in /<database>");
    format!("{base}/{db}")
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The migrated template database, created once per test process.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let admin = admin_url();
        let name = unique("rd_tpl");
        let mut conn = PgConnection::establish(&admin).expect("connect to TEST_DATABASE_URL");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .unwrap();
        let mut tpl = PgConnection::establish(&with_db(&admin, &name)).unwrap();
        db::run_migrations(&mut tpl).expect("migrations apply to an empty database");
        name
    })
}

/// A fresh database cloned from the template; dropped with the value.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn new() -> TestDb {
        let tpl = template();
        let admin = admin_url();
        let name = unique("rd_t");
        let mut conn = PgConnection::establish(&admin).unwrap();
        // CREATE DATABASE … TEMPLATE needs the template to have no other sessions;
        // retry briefly in case a sibling test is cloning it at this very moment.
        let mut tries = 0;
        loop {
            match diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {tpl}"))
                .execute(&mut conn)
            {
                Ok(_) => break,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => panic!("create test database: {e}"),
            }
        }
        TestDb {
            url: with_db(&admin, &name),
            name,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&admin_url()) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

pub fn test_config(database_url: &str) -> Config {
    let url = database_url.to_owned();
    let upload_dir = std::env::temp_dir()
        .join(format!("relay-uploads-{}", uuid::Uuid::new_v4().simple()))
        .display()
        .to_string();
    Config::from_lookup(move |k| match k {
        "DATABASE_URL" => Some(url.clone()),
        "JWT_SECRET" => Some("test-secret-test-secret-test-secret-42".into()),
        "BCRYPT_COST" => Some("4".into()),
        "DB_POOL_SIZE" => Some("12".into()),
        "INSTANCE_ID" => Some("test".into()),
        "UPLOAD_DIR" => Some(upload_dir.clone()),
        // Tests create far more than a person would; the rate-limit test sets 1.
        "RATE_LIMIT_SCALE" => Some("1000".into()),
        _ => None,
    })
    .unwrap()
}

pub struct Response {
    pub status: StatusCode,
    pub body: Value,
    pub headers: actix_web::http::header::HeaderMap,
}

impl Response {
    /// Asserts the status and that an error body is the SPEC envelope with `code`.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["error"]["code"], code, "body: {}", self.body);
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}",
            self.body
        );
    }

    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!(
            self.status.is_success(),
            "status {} body {}",
            self.status,
            self.body
        );
        &self.body
    }
}

#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: i64,
    pub email: String,
    pub token: String,
    pub refresh: String,
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub client: awc::Client,
    server: actix_web::dev::ServerHandle,
    /// Dropped (and the database with it) after the server is gone.
    _db: Option<TestDb>,
}

impl TestApp {
    pub async fn start() -> TestApp {
        TestApp::start_with(|_| {}).await
    }

    /// Starts the app on the Redis bus (its own namespace) instead of the in-process one.
    pub async fn start_redis() -> TestApp {
        let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| {
            panic!(
                "TEST_REDIS_URL is not set: run the tests through scripts/test, which starts Redis"
            )
        });
        TestApp::start_with(move |c| {
            c.redis_url = Some(url);
            c.redis_namespace = format!("t{}", uuid::Uuid::new_v4().simple());
        })
        .await
    }

    /// Starts the app with a tweaked configuration.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let db = TestDb::new();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut config = test_config(&db.url);
        // The test client's Origin, and the app's own (for the SPA in a real browser).
        config.allowed_origins = vec![ORIGIN.to_owned(), format!("http://127.0.0.1:{port}")];
        tweak(&mut config);
        TestApp::serve(Some(db), config, listener).await
    }

    /// Stops this server and starts a fresh one (new state, new hub) on the same database:
    /// what a deploy or a crash-and-restart looks like to the data.
    pub async fn restart(self) -> TestApp {
        let config = (*self.state.config).clone();
        self.server.stop(true).await;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        TestApp::serve(self._db, config, listener).await
    }

    /// Like `restart`, on the same port: what a browser sees when its server goes away
    /// and comes back.
    pub async fn restart_same_port(self, down_for: std::time::Duration) -> TestApp {
        let config = (*self.state.config).clone();
        let port: u16 = self.base.rsplit(':').next().unwrap().parse().unwrap();
        self.server.stop(false).await;
        actix_web::rt::time::sleep(down_for).await;
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        TestApp::serve(self._db, config, listener).await
    }

    /// A server on an existing database (not owned, not dropped) and upload directory.
    pub async fn on_database(url: &str, upload_dir: std::path::PathBuf) -> TestApp {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut config = test_config(url);
        config.upload_dir = upload_dir;
        config.allowed_origins = vec![ORIGIN.to_owned()];
        TestApp::serve(None, config, listener).await
    }

    async fn serve(db: Option<TestDb>, config: Config, listener: std::net::TcpListener) -> TestApp {
        let port = listener.local_addr().unwrap().port();
        let pool = db::build_pool(&config.database_url, config.db_pool_size).unwrap();
        let state = AppState::start(config, pool).await.unwrap();
        let s = state.clone();
        let server = relay_desk::server::start(
            s,
            relay_desk::server::Listen::Listener(listener),
            relay_desk::server::Options {
                workers: Some(2),
                shutdown_timeout: 1,
            },
        )
        .unwrap();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let client = awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .finish();
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            state,
            client,
            server: handle,
            _db: db,
        }
    }

    /// The same claims as `token` with other `iat` and `exp` (Unix seconds), signed with
    /// the server's key.
    pub fn token_with_times(&self, token: &str, iat: i64, exp: i64) -> String {
        use base64::Engine;
        let payload = token.split('.').nth(1).unwrap();
        let mut claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        claims["exp"] = json!(exp);
        claims["iat"] = json!(iat);
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(&self.state.config.jwt_secret),
        )
        .unwrap()
    }

    pub fn ws_url(&self) -> String {
        self.base.replace("http://", "ws://") + "/ws"
    }

    pub fn conn(&self) -> db::PgConn {
        self.state.pool.get().unwrap()
    }

    pub async fn stop(self) {
        self.server.stop(false).await;
    }

    pub async fn send(
        &self,
        method: &str,
        path: impl AsRef<str>,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path.as_ref()));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let mut res = match body {
            Some(b) => req.send_json(b).await.unwrap(),
            None => req.send().await.unwrap(),
        };
        let bytes = res.body().limit(16 << 20).await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Response {
            status: res.status(),
            body,
            headers: res.headers().clone(),
        }
    }

    /// Sends raw bytes with a content type (for malformed-input tests).
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Response {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .insert_header(("Content-Type", content_type));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let mut res = req.send_body(body).await.unwrap();
        let bytes = res.body().limit(16 << 20).await.unwrap();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Response {
            status: res.status(),
            body,
            headers: res.headers().clone(),
        }
    }

    pub async fn get(&self, path: impl AsRef<str>, token: &str) -> Response {
        self.send("GET", path, Some(token), None).await
    }
    pub async fn post(&self, path: impl AsRef<str>, token: &str, body: Value) -> Response {
        self.send("POST", path, Some(token), Some(&body)).await
    }
    pub async fn patch(&self, path: impl AsRef<str>, token: &str, body: Value) -> Response {
        self.send("PATCH", path, Some(token), Some(&body)).await
    }

    /// Creates a user of `role` straight in the database, then signs in through the API.
    pub async fn user(&self, role: &str, name: &str) -> TestUser {
        let email = format!(
            "{}-{}@test.relaydesk",
            name.to_lowercase().replace(' ', "."),
            uuid::Uuid::new_v4().simple()
        );
        let hash = bcrypt::hash(PASSWORD, 4).unwrap();
        let mut conn = self.conn();
        let u = relay_desk::users::queries::insert(
            &mut conn,
            &NewUser {
                email: &email,
                name,
                role,
                password_hash: &hash,
            },
        )
        .unwrap();
        drop(conn);
        let res = self
            .send(
                "POST",
                "/api/auth/login",
                None,
                Some(&json!({"email": email, "password": PASSWORD})),
            )
            .await;
        let body = res.ok();
        TestUser {
            id: u.id,
            email,
            token: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn ticket(&self, who: &TestUser, title: &str) -> Value {
        let res = self
            .post(
                "/api/tickets",
                &who.token,
                json!({"title": title, "description": "details"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        res.body
    }

    pub async fn message(
        &self,
        who: &TestUser,
        ticket_id: i64,
        body: &str,
        internal: bool,
    ) -> Response {
        self.post(
            &format!("/api/tickets/{ticket_id}/messages"),
            &who.token,
            json!({"body": body, "internal": internal, "client_id": uuid::Uuid::new_v4()}),
        )
        .await
    }

    /// Posts a multipart upload: `file` with a name and bytes, optional `message_id`.
    pub async fn upload(
        &self,
        ticket: i64,
        token: &str,
        name: &str,
        bytes: &[u8],
        message_id: Option<i64>,
    ) -> Response {
        let boundary = format!("rd{}", uuid::Uuid::new_v4().simple());
        let mut body = Vec::new();
        if let Some(m) = message_id {
            body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"message_id\"\r\n\r\n{m}\r\n").as_bytes());
        }
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.send_raw(
            "POST",
            &format!("/api/tickets/{ticket}/attachments"),
            Some(token),
            &format!("multipart/form-data; boundary={boundary}"),
            body,
        )
        .await
    }

    /// Row counts of the tables a failed request must not touch.
    pub fn counts(&self) -> [i64; 5] {
        let mut conn = self.conn();
        let q = "SELECT (SELECT count(*) FROM users) AS a, (SELECT count(*) FROM tickets) AS b, \
                 (SELECT count(*) FROM messages) AS c, (SELECT count(*) FROM ticket_history) AS d, \
                 (SELECT count(*) FROM categories) AS e";
        #[derive(QueryableByName)]
        struct Counts {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            a: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            b: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            c: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            d: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            e: i64,
        }
        let c: Counts = diesel::sql_query(q).get_result(&mut conn).unwrap();
        [c.a, c.b, c.c, c.d, c.e]
    }
}

/// The four signed-in roles plus a second customer, the cast of most tests.
pub struct Cast {
    pub customer: TestUser,
    pub other_customer: TestUser,
    pub tech: TestUser,
    pub other_tech: TestUser,
    pub supervisor: TestUser,
    pub admin: TestUser,
}

impl Cast {
    pub async fn new(app: &TestApp) -> Cast {
        Cast {
            customer: app.user("customer", "Cora Customer").await,
            other_customer: app.user("customer", "Carl Customer").await,
            tech: app.user("technician", "Tara Tech").await,
            other_tech: app.user("technician", "Theo Tech").await,
            supervisor: app.user("supervisor", "Sam Super").await,
            admin: app.user("admin", "Ada Admin").await,
        }
    }
}
