//! A small fake Telegram Bot API on loopback, the one fake the tests use.
//! It speaks what Telegram speaks: HTTPS (rustls, with a test CA made at
//! start; clients trust it through `Config::ca_file` or `SSL_CERT_FILE`, as
//! they would a TLS-inspecting proxy's), real status codes and delays. It
//! records sendMessage calls, serves queued updates through getUpdates,
//! and can fail on purpose (500, 429 with `retry_after`, hang).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustls::pki_types::PrivatePkcs8KeyDer;
use serde_json::{json, Value};

pub(crate) const TOKEN: &str = "123456:TEST-fake_token";
pub(crate) const BOT_ID: i64 = 123456;

/// How sendMessage (and createForumTopic) answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mode {
    Ok,
    /// Answer this HTTP status with an error body.
    Fail(u16),
    /// 429 with `parameters.retry_after`.
    TooMany(u64),
    /// Sleep this long before answering 500 (the client should time out).
    Hang(Duration),
}

/// A message the fake accepted.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub chat_id: String,
    pub text: String,
    pub parse_mode: String,
    pub message_id: i64,
    pub reply_to: Option<i64>,
    pub thread: Option<i64>,
    pub at: Instant,
}

/// Any Bot API call and how it was answered (0: hung).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: String,
    pub status: u16,
    pub at: Instant,
}

#[derive(Default)]
struct State {
    mode: Option<Mode>,
    known_chats: Vec<String>,
    sent: Vec<Sent>,
    calls: Vec<Call>,
    updates: Vec<Value>,
    next_update_id: i64,
    next_message_id: i64,
    topics: Vec<(String, i64, String)>,
}

pub(crate) struct FakeTelegram {
    /// `https://127.0.0.1:PORT`, as `TELEGRAM_API_BASE`.
    pub url: String,
    /// The test CA that signed the fake's certificate, a PEM file: what
    /// `Config::ca_file` or a child's `SSL_CERT_FILE` names to trust it.
    pub ca_file: PathBuf,
    addr: SocketAddr,
    state: Arc<(Mutex<State>, Condvar)>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl FakeTelegram {
    /// A fake on HTTPS that knows `chats` (others get 400 "chat not found").
    pub(crate) fn start(chats: &[&str]) -> FakeTelegram {
        let dir = tempfile::tempdir().expect("temp dir");
        let pki = TestPki::new();
        let ca_file = dir.path().join("test-ca.pem");
        std::fs::write(&ca_file, &pki.ca_pem).expect("CA file written");
        let listener = TcpListener::bind("127.0.0.1:0").expect("fake binds");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new((
            Mutex::new(State {
                mode: Some(Mode::Ok),
                known_chats: chats.iter().map(std::string::ToString::to_string).collect(),
                next_update_id: 5000,
                next_message_id: 100,
                ..State::default()
            }),
            Condvar::new(),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop, tls) = (state.clone(), stop.clone(), pki.server);
            std::thread::spawn(move || {
                for sock in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(sock) = sock else { continue };
                    let (state, tls) = (state.clone(), tls.clone());
                    std::thread::spawn(move || serve_connection(sock, tls, &state));
                }
            })
        };
        FakeTelegram {
            url: format!("https://{addr}"),
            ca_file,
            addr,
            state,
            stop,
            thread: Some(thread),
            _dir: dir,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.0.lock().unwrap()
    }

    pub(crate) fn set_mode(&self, mode: Mode) {
        self.lock().mode = Some(mode);
    }

    /// From now on, `chat` answers 400 "chat not found" (the bot left it).
    pub(crate) fn forget_chat(&self, chat: &str) {
        self.lock().known_chats.retain(|c| c != chat);
    }

    /// Every accepted sendMessage, in order.
    pub(crate) fn sent(&self) -> Vec<Sent> {
        self.lock().sent.clone()
    }

    pub(crate) fn sent_to(&self, chat: &str) -> Vec<Sent> {
        self.sent()
            .into_iter()
            .filter(|s| s.chat_id == chat)
            .collect()
    }

    pub(crate) fn calls(&self, method: &str) -> Vec<Call> {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    pub(crate) fn topics(&self) -> Vec<(String, i64, String)> {
        self.lock().topics.clone()
    }

    /// Queues an update for getUpdates; returns its `update_id`.
    pub(crate) fn push_update(&self, message: Value) -> i64 {
        let (lock, cv) = &*self.state;
        let mut st = lock.lock().unwrap();
        let id = st.next_update_id;
        st.next_update_id += 1;
        st.updates
            .push(json!({"update_id": id, "message": message}));
        cv.notify_all();
        id
    }

    /// A new message id, as Telegram would give a manager's message.
    pub(crate) fn next_message_id(&self) -> i64 {
        let mut st = self.lock();
        st.next_message_id += 1;
        st.next_message_id
    }

    /// Updates not yet acknowledged by a getUpdates offset.
    pub(crate) fn unacknowledged(&self) -> usize {
        self.lock().updates.len()
    }

    /// Waits up to `timeout` for `f` to hold on the accepted messages.
    pub(crate) fn wait_for(&self, timeout: Duration, f: impl Fn(&[Sent]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if f(&self.sent()) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees `stop`.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A test certificate authority and a server certificate it signed for
/// 127.0.0.1 and localhost, made fresh for each fake.
pub(crate) struct TestPki {
    /// The CA's certificate, PEM: the trust store a client is given.
    pub ca_pem: String,
    /// The fake's TLS setup: the server certificate (and the CA's) and key.
    pub server: Arc<rustls::ServerConfig>,
    /// The server certificate and the CA's, PEM (for a real server: nginx).
    pub chain_pem: String,
    /// The server certificate's private key, PEM.
    pub key_pem: String,
}

impl TestPki {
    pub(crate) fn new() -> TestPki {
        // A name of its own: two test CAs are two authorities, as a proxy's
        // CA and a public one are.
        static MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        let name = format!(
            "shopchat test CA {}-{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::SeqCst)
        );
        ca.distinguished_name.push(DnType::CommonName, name);
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);

        let key = KeyPair::generate().unwrap();
        let mut leaf =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        leaf.distinguished_name
            .push(DnType::CommonName, "fake Bot API");
        leaf.use_authority_key_identifier_extension = true;
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_cert = leaf.signed_by(&key, &issuer).unwrap();

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf_cert.der().clone(), ca_cert.der().clone()],
                PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
            )
            .expect("the test certificate and key match");
        TestPki {
            ca_pem: ca_cert.pem(),
            server: Arc::new(server),
            chain_pem: format!("{}{}", leaf_cert.pem(), ca_cert.pem()),
            key_pem: key.serialize_pem(),
        }
    }
}

/// A request as the fake needs it.
struct HttpRequest {
    path: String,
    body: Vec<u8>,
}

/// One TLS connection: HTTP/1.1 requests with keep-alive, as ureq sends
/// them, until the client closes (or never finishes the handshake: a
/// client that does not trust the certificate).
fn serve_connection(
    sock: TcpStream,
    tls: Arc<rustls::ServerConfig>,
    state: &(Mutex<State>, Condvar),
) {
    // An idle pooled connection is let go after a while.
    let _ = sock.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(conn) = rustls::ServerConnection::new(tls) else {
        return;
    };
    let mut stream = BufReader::new(rustls::StreamOwned::new(conn, sock));
    while let Some(rq) = read_request(&mut stream) {
        let (status, body) = handle(&rq, state);
        let body = body.to_string();
        let answer = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            reason(status),
            body.len()
        );
        let out = stream.get_mut();
        if out.write_all(answer.as_bytes()).is_err() || out.flush().is_err() {
            return;
        }
    }
}

/// The next request on the connection; `None` at its end or on anything
/// a Bot API client would not send.
fn read_request(r: &mut impl BufRead) -> Option<HttpRequest> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (_method, path) = (parts.next()?, parts.next()?.to_string());
    let mut length = 0;
    loop {
        line.clear();
        r.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().ok()?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return None;
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).ok()?;
    Some(HttpRequest { path, body })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Error",
    }
}

/// A message as Telegram delivers it in an update.
pub(crate) fn message(
    chat: i64,
    from: i64,
    message_id: i64,
    text: &str,
    reply_to: Option<i64>,
) -> Value {
    let mut m = json!({
        "message_id": message_id,
        "from": {"id": from, "is_bot": false, "first_name": "Manager"},
        "chat": {"id": chat, "type": "supergroup", "title": "Shop managers"},
        "date": 1_700_000_000,
        "text": text,
    });
    if let Some(r) = reply_to {
        m["reply_to_message"] = json!({
            "message_id": r,
            "from": {"id": BOT_ID, "is_bot": true, "first_name": "Shop bot"},
            "chat": {"id": chat, "type": "supergroup"},
            "date": 1_700_000_000,
            "text": "(the notification)",
        });
    }
    m
}

fn error(code: u16, description: &str) -> Value {
    json!({"ok": false, "error_code": code, "description": description})
}

fn handle(rq: &HttpRequest, state: &(Mutex<State>, Condvar)) -> (u16, Value) {
    let body: Value = serde_json::from_slice(&rq.body).unwrap_or(json!({}));
    let Some((token, method)) = rq
        .path
        .strip_prefix("/bot")
        .and_then(|rest| rest.split_once('/'))
    else {
        return (404, error(404, "Not Found"));
    };
    let method = method.to_string();
    let log = |status: u16| {
        state.0.lock().unwrap().calls.push(Call {
            method: method.clone(),
            status,
            at: Instant::now(),
        });
    };
    if token != TOKEN {
        log(401);
        return (401, error(401, "Unauthorized"));
    }
    match method.as_str() {
        "getMe" => {
            log(200);
            (
                200,
                json!({"ok": true, "result": {"id": BOT_ID, "is_bot": true, "first_name": "Shop bot", "username": "shop_test_bot"}}),
            )
        }
        "sendMessage" | "createForumTopic" => {
            let mode = state.0.lock().unwrap().mode.clone().unwrap_or(Mode::Ok);
            match mode {
                Mode::Fail(code) => {
                    log(code);
                    (code, error(code, "Internal Server Error"))
                }
                Mode::TooMany(s) => {
                    log(429);
                    (
                        429,
                        json!({"ok": false, "error_code": 429,
                               "description": format!("Too Many Requests: retry after {s}"),
                               "parameters": {"retry_after": s}}),
                    )
                }
                Mode::Hang(d) => {
                    log(0);
                    std::thread::sleep(d);
                    (500, error(500, "too late"))
                }
                Mode::Ok => accept(state, &method, &body, log),
            }
        }
        "getUpdates" => {
            log(200);
            let offset = body["offset"].as_i64().unwrap_or(0);
            let wait = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0))
                .min(Duration::from_secs(2));
            let deadline = Instant::now() + wait;
            let (lock, cv) = state;
            let mut st = lock.lock().unwrap();
            st.updates
                .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            while st.updates.is_empty() && Instant::now() < deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                st = cv.wait_timeout(st, left).unwrap().0;
            }
            let result: Vec<Value> = st.updates.clone();
            drop(st);
            (200, json!({"ok": true, "result": result}))
        }
        "setWebhook" | "deleteWebhook" => {
            log(200);
            (200, json!({"ok": true, "result": true}))
        }
        _ => {
            log(404);
            (404, error(404, "Not Found: method not found"))
        }
    }
}

fn accept(
    state: &(Mutex<State>, Condvar),
    method: &str,
    body: &Value,
    log: impl Fn(u16),
) -> (u16, Value) {
    let chat = match &body["chat_id"] {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    };
    let mut st = state.0.lock().unwrap();
    if !st.known_chats.contains(&chat) {
        drop(st);
        log(400);
        return (400, error(400, "Bad Request: chat not found"));
    }
    st.next_message_id += 1;
    let id = st.next_message_id;
    let result = if method == "createForumTopic" {
        let name = body["name"].as_str().unwrap_or("").to_string();
        st.topics.push((chat.clone(), id, name.clone()));
        json!({"message_thread_id": id, "name": name, "icon_color": 7322096})
    } else {
        st.sent.push(Sent {
            chat_id: chat.clone(),
            text: body["text"].as_str().unwrap_or("").to_string(),
            parse_mode: body["parse_mode"].as_str().unwrap_or("").to_string(),
            message_id: id,
            reply_to: body["reply_parameters"]["message_id"].as_i64(),
            thread: body["message_thread_id"].as_i64(),
            at: Instant::now(),
        });
        json!({"message_id": id, "chat": {"id": chat.parse::<i64>().unwrap_or(0)}, "date": 1_700_000_000})
    };
    drop(st);
    log(200);
    (200, json!({"ok": true, "result": result}))
}

/// An in-process server wired to the fake: notifications through the
/// outbox, the outbox worker and the updates reader running.
pub(crate) struct Harness {
    // Dropped first: the Telegram threads stop before the server and fake.
    _service: Option<shopchat::telegram::Service>,
    pub server: crate::common::TestServer,
    pub fake: FakeTelegram,
}

/// Timings that make fault tests take seconds, not minutes.
pub(crate) fn fast_tuning() -> shopchat::telegram::Tuning {
    shopchat::telegram::Tuning {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(1500),
        poll_timeout: Duration::from_secs(1),
        min_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(800),
        per_chat_interval: Duration::from_millis(50),
        global_interval: Duration::from_millis(5),
        idle_interval: Duration::from_millis(20),
        max_rejected_attempts: 3,
    }
}

impl Harness {
    pub(crate) fn start(chats: &[&str]) -> Harness {
        Harness::start_with(chats, |_| {})
    }

    pub(crate) fn start_with(
        chats: &[&str],
        tune: impl FnOnce(&mut shopchat::telegram::Config),
    ) -> Harness {
        let fake = FakeTelegram::start(chats);
        let mut config = shopchat::telegram::Config::for_tests(&fake.url, TOKEN, chats);
        config.ca_file = Some(fake.ca_file.clone());
        config.tuning = fast_tuning();
        tune(&mut config);
        let config = Arc::new(config);
        let server = crate::common::TestServer::start_with(|shared| {
            shared.notify = Arc::new(shopchat::telegram::OutboxNotify::new(&config));
            shared.telegram = Some(config.clone());
        });
        let service = shopchat::telegram::Service::start(config.clone(), server.db.clone())
            .expect("telegram service starts");
        Harness {
            _service: Some(service),
            server,
            fake,
        }
    }

    /// Links manager `alice` to Telegram user `telegram_id`.
    pub(crate) fn link_alice(&self, telegram_id: i64) {
        let mut conn = shopchat::db::open(&self.server.db).unwrap();
        assert!(shopchat::accounts::link_telegram(&mut conn, "alice", Some(telegram_id)).unwrap());
    }

    /// The visitor's view of a session: (messages, sessionStatus).
    pub(crate) fn visitor_poll(&self, sid: &str, usid: &str) -> (Vec<Value>, String) {
        let r = self.server.public(
            "GET",
            &format!("/api/public/chat/sessions/{sid}/messages"),
            Some(usid),
            None,
        );
        assert_eq!(r.status, 200, "{r:?}");
        (
            r.body["messages"].as_array().unwrap().clone(),
            r.body["sessionStatus"].as_str().unwrap().to_string(),
        )
    }

    pub(crate) fn outbox(&self) -> Vec<shopchat::store::telegram::OutboxRow> {
        let conn = shopchat::db::open(&self.server.db).unwrap();
        shopchat::store::telegram::all(&conn).unwrap()
    }
}

/// How long "exactly once" checks watch for a late duplicate in the fast
/// tuning: a whole Bot API timeout and the longest retry delay, with room
/// to spare. A message sent again after a timeout or a failure shows up
/// within it.
pub(crate) fn quiet_period() -> Duration {
    let t = fast_tuning();
    t.request_timeout + t.max_backoff + Duration::from_millis(200)
}

/// Checks `f` every 20 ms for the whole of `period`; false as soon as it
/// fails. For "nothing more happens": a duplicate fails it when it shows.
pub(crate) fn stays(period: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + period;
    loop {
        if !f() {
            return false;
        }
        if Instant::now() > deadline {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `f` every 20 ms until it holds or `timeout` passes.
pub(crate) fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
