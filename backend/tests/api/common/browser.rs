//! Headless Chromium over WebDriver (chromedriver + fantoccini) for tests of the SPA as a
//! person uses it. Each `Browser` is its own chromedriver and profile; screenshots go to
//! `artifacts/screenshots/` at the workspace root.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: PathBuf,
    pub base: String,
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The built SPA the browser tests serve (scripts/test builds it first).
pub fn static_dir() -> PathBuf {
    let dir = std::env::var("TEST_STATIC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace().join("frontend/dist"));
    assert!(
        dir.join("index.html").is_file(),
        "{} has no index.html: run scripts/setup-frontend (scripts/test does)",
        dir.display()
    );
    dir
}

fn chromium() -> String {
    std::env::var("CHROME_BIN").unwrap_or_else(|_| {
        [
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/usr/bin/google-chrome",
        ]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("no Chromium found (scripts/test installs Debian's chromium)")
        .to_owned()
    })
}

impl Browser {
    pub async fn open(base: &str) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Its own process group: a test that panics (Drop) takes Chromium down with it,
        // not only chromedriver, whose killing would leave the browser running.
        let driver = Command::new("chromedriver")
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (scripts/test installs chromium-driver)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        let profile =
            std::env::temp_dir().join(format!("relay-chrome-{}", uuid::Uuid::new_v4().simple()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.display()), "--window-size=1280,900",
                ],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session");
        Browser {
            client,
            driver,
            profile,
            base: base.to_owned(),
        }
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    /// Waits for the first element matching `css` (10 s).
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(b) => b.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until the page shows `needle` (panics with a screenshot after `secs`).
    pub async fn wait_for_text(&self, needle: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if self.text().await.contains(needle) {
                return;
            }
            if Instant::now() > deadline {
                self.screenshot("failure").await;
                panic!(
                    "page never showed {needle:?}; it shows:\n{}",
                    self.text().await
                );
            }
            actix_web::rt::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Runs `script` in the page (`arguments[i]` are `args`) and returns its result.
    pub async fn execute(&self, script: &str, args: Vec<serde_json::Value>) -> serde_json::Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// HTML5 drag-and-drop of the element `from` onto `to`. WebDriver's pointer actions do
    /// not start a native drag in Chrome, so this dispatches the events a real drag fires
    /// (dragstart, dragenter, dragover, drop, dragend) with one shared DataTransfer.
    pub async fn drag_and_drop(&self, from: &str, to: &str) {
        self.find(from).await;
        self.find(to).await;
        let outcome = self
            .execute(
                r#"const [from, to] = arguments;
                const src = document.querySelector(from);
                const dst = document.querySelector(to);
                if (!src || !dst) return "missing";
                const dataTransfer = new DataTransfer();
                const fire = (el, type) => el.dispatchEvent(new DragEvent(type,
                    { bubbles: true, cancelable: true, composed: true, dataTransfer }));
                fire(src, "dragstart");
                fire(dst, "dragenter");
                fire(dst, "dragover");
                const accepted = !fire(dst, "drop");
                fire(src, "dragend");
                return accepted ? "dropped" : "refused";"#,
                vec![json!(from), json!(to)],
            )
            .await;
        assert_eq!(outcome, json!("dropped"), "drag {from} -> {to}");
    }

    /// Waits until the first element matching `css` reads `expected` (panics with a
    /// screenshot after `secs`).
    pub async fn wait_for_text_in(&self, css: &str, expected: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let now = match self.client.find(Locator::Css(css)).await {
                Ok(el) => el.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if now.trim() == expected {
                return;
            }
            if Instant::now() > deadline {
                self.screenshot("failure").await;
                panic!("{css} never read {expected:?}; it reads {now:?}");
            }
            actix_web::rt::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Waits until an element matching `css` exists (`true`) or none does (`false`).
    pub async fn wait_for_presence(&self, css: &str, present: bool, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let found = !self
                .client
                .find_all(Locator::Css(css))
                .await
                .unwrap_or_default()
                .is_empty();
            if found == present {
                return;
            }
            if Instant::now() > deadline {
                self.screenshot("failure").await;
                panic!(
                    "{css} {} after {secs} s; the page shows:\n{}",
                    if present {
                        "never appeared"
                    } else {
                        "is still there"
                    },
                    self.text().await
                );
            }
            actix_web::rt::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Resizes the window (e.g. 375 wide for a phone).
    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
    }

    pub async fn screenshot(&self, name: &str) {
        let dir = workspace().join("artifacts/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        if let Ok(png) = self.client.screenshot().await {
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
    }

    /// Signs in through the login form and waits for the ticket list.
    pub async fn sign_in(&self, email: &str, password: &str) {
        self.goto("/login").await;
        self.fill("#login-email", email).await;
        self.fill("#login-password", password).await;
        self.click("form button[type=submit]").await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.client.current_url().await.unwrap().path() == "/login" {
            if Instant::now() > deadline {
                self.screenshot("sign-in-failure").await;
                panic!("sign-in did not leave /login: {}", self.text().await);
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: chromedriver and the browser it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
