//! Test support: a real server on 127.0.0.1:0 with its own temporary
//! database, a manager and an API key, and a small HTTP client (ureq).

use std::path::PathBuf;

use serde_json::Value;
use shopchat::config::ServeConfig;
use shopchat::http::{Server, Shared};

pub(crate) struct TestServer {
    pub url: String,
    pub db: PathBuf,
    /// A widget API key made with `keys add`.
    pub key: String,
    /// The token of manager `alice`.
    pub token: String,
    server: Option<Server>,
    // Dropped last: the database lives here.
    pub dir: tempfile::TempDir,
}

/// An answer: status, headers and the body parsed as JSON (Null if not).
#[derive(Debug)]
pub(crate) struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: Vec<(String, String)>,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts the documented error shape and returns the code.
    pub(crate) fn error_code(&self) -> &str {
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "error without JSON content type: {self:?}"
        );
        let msg = self.body["error"]["message"].as_str().unwrap_or("");
        assert!(!msg.is_empty(), "error without a message: {self:?}");
        self.body["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {self:?}"))
    }
}

impl TestServer {
    pub(crate) fn start() -> TestServer {
        TestServer::start_with(|_| {})
    }

    /// A server without rate limits, for tests that make many chats.
    pub(crate) fn start_unlimited() -> TestServer {
        use shopchat::http::ratelimit::RateLimiter;
        TestServer::start_with(|shared| {
            shared.session_limiter = RateLimiter::new(0.0, 0.0);
            shared.message_limiter = RateLimiter::new(0.0, 0.0);
        })
    }

    /// Starts a server after `configure` has adjusted its shared state.
    pub(crate) fn start_with(configure: impl FnOnce(&mut Shared)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("chat.db");
        let mut conn = shopchat::db::init(&db).expect("init db");
        let token = shopchat::accounts::add_manager(&mut conn, "alice", Some("Alice"), None)
            .expect("manager");
        let key = shopchat::accounts::add_key(&mut conn, "test").expect("key");
        drop(conn);
        let mut shared = Shared::new(ServeConfig::for_tests(db.clone()));
        configure(&mut shared);
        let server = Server::start(shared).expect("server starts");
        TestServer {
            url: format!("http://{}", server.addr()),
            db,
            key,
            token,
            server: Some(server),
            dir,
        }
    }

    /// Connections the server has open now.
    pub(crate) fn open_connections(&self) -> usize {
        self.server.as_ref().map_or(0, |s| s.stats().open)
    }

    /// Long-polls waiting in the server now.
    pub(crate) fn parked(&self) -> usize {
        self.server
            .as_ref()
            .map_or(0, shopchat::http::Server::parked)
    }

    /// Stops the server (in-flight requests finish).
    pub(crate) fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop();
        }
    }

    /// Any request, with raw headers and body.
    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Resp {
        call(&format!("{}{path}", self.url), method, headers, body)
    }

    /// A public API call with the API key (and the visitor secret if given).
    pub(crate) fn public(
        &self,
        method: &str,
        path: &str,
        usid: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut h = vec![
            ("X-API-Key", self.key.as_str()),
            ("Content-Type", "application/json"),
        ];
        if let Some(u) = usid {
            h.push(("X-User-Session-Id", u));
        }
        let body = body.map(|b| b.to_string());
        self.call(method, path, &h, body.as_deref())
    }

    /// An admin API call as `alice`.
    pub(crate) fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.admin_as(&self.token.clone(), method, path, body)
    }

    pub(crate) fn admin_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Resp {
        let auth = format!("Bearer {token}");
        let h = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ];
        let body = body.map(|b| b.to_string());
        self.call(method, path, &h, body.as_deref())
    }

    /// Opens a visitor session; returns (sessionId, userSessionId).
    pub(crate) fn open_chat(&self, name: &str) -> (String, String) {
        let r = self.public(
            "POST",
            "/api/public/chat/sessions",
            None,
            Some(serde_json::json!({"userName": name})),
        );
        assert_eq!(r.status, 201, "{r:?}");
        let s = &r.body["session"];
        (
            s["id"].as_str().unwrap().to_string(),
            s["userSessionId"].as_str().unwrap().to_string(),
        )
    }

    /// Opens a chat the way the widget does, with its first message;
    /// returns (sessionId, userSessionId).
    pub(crate) fn start_chat(&self, name: &str, text: &str) -> (String, String) {
        let r = self.public(
            "POST",
            "/api/public/chat/sessions",
            None,
            Some(serde_json::json!({"userName": name, "messageText": text})),
        );
        assert_eq!(r.status, 201, "{r:?}");
        let s = &r.body["session"];
        (
            s["id"].as_str().unwrap().to_string(),
            s["userSessionId"].as_str().unwrap().to_string(),
        )
    }

    /// Sends a visitor message; returns its seq.
    pub(crate) fn visitor_says(&self, sid: &str, usid: &str, text: &str) -> i64 {
        let r = self.public(
            "POST",
            &format!("/api/public/chat/sessions/{sid}/messages"),
            Some(usid),
            Some(serde_json::json!({"messageText": text})),
        );
        assert_eq!(r.status, 201, "{r:?}");
        r.body["message"]["seq"].as_i64().unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One HTTP request with ureq, returning any status as a [`Resp`].
pub(crate) fn call(url: &str, method: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
    let agent = ureq::AgentBuilder::new()
        .timeout(std::time::Duration::from_secs(30))
        .build();
    let mut req = agent.request(method, url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = match body {
        Some(b) => req.send_string(b),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: transport error: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .map(|n| {
            let v = resp.header(&n).unwrap_or("").to_string();
            (n, v)
        })
        .collect();
    let text = resp.into_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        body,
        text,
        headers,
    }
}

/// Waits for an event rather than for the clock: checks `done` every 20 ms
/// and fails the test, naming `what`, if it still does not hold after
/// `timeout`.
pub(crate) fn wait_until(what: &str, timeout: std::time::Duration, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "gave up after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
