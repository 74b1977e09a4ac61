//! Email follow-ups against a real SMTP server on loopback (aiosmtpd from
//! `PyPI`, started by the test: tests/smtp/server.py): delivered once, retried
//! after the server refused, not sent when the visitor saw the answer, and
//! not lost across a restart.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use shopchat::cli::EmailArgs;
use shopchat::email;

use crate::common::TestServer;
use crate::telegram_fake::{eventually, stays};

const WAIT: Duration = Duration::from_secs(15);

/// `python3 tests/smtp/server.py`, killed when dropped.
struct Smtp {
    child: Child,
    port: u16,
    lines: Arc<Mutex<Vec<Value>>>,
}

impl Smtp {
    fn start(refuse: u32) -> Smtp {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--refuse", &refuse.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let Some(port) = first.trim().strip_prefix("listening ") else {
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err);
            panic!(
                "the test SMTP server did not start (it needs aiosmtpd: pip install aiosmtpd; ./test.sh installs it):\n{first}{err}"
            );
        };
        let port = port.parse().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for l in out.lines().map_while(Result::ok) {
                    if let Ok(v) = serde_json::from_str(&l) {
                        lines.lock().unwrap().push(v);
                    }
                }
            });
        }
        Smtp { child, port, lines }
    }

    /// The messages it accepted.
    fn delivered(&self) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|v| v.get("data").is_some())
            .cloned()
            .collect()
    }

    fn refused(&self) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|v| v.get("refused").is_some())
            .count()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(port: u16) -> Arc<email::Config> {
    let args = EmailArgs {
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: Some(port),
        smtp_tls: "none".into(),
        smtp_user: None,
        smtp_password: None,
        email_from: Some("Clay & Linen <chat@shop.example>".into()),
        email_after: 1,
        shop_name: None,
        shop_url: Some("https://shop.example/".into()),
    };
    let mut c = email::Config::from_args(&args, None, None)
        .unwrap()
        .unwrap();
    c.after = Duration::from_millis(300);
    c.tuning = email::Tuning {
        tick: Duration::from_millis(50),
        min_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_millis(800),
        timeout: Duration::from_secs(3),
        max_refused_attempts: 3,
    };
    Arc::new(c)
}

fn start(s: &TestServer, port: u16) -> shopchat::followup::Service {
    shopchat::followup::Service::start(s.db.clone(), Some(config(port)), Duration::from_millis(100))
        .unwrap()
}

/// A chat whose visitor left an email, and a manager's answer in it.
fn answered_chat(s: &TestServer, answer: &str) -> (String, String, i64) {
    let r = s.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(json!({"userName": "Olena", "userEmail": "olena@example.com", "messageText": "Is the mug dishwasher safe?"})),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let sid = r.body["session"]["id"].as_str().unwrap().to_string();
    let usid = r.body["session"]["userSessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let m = s.admin(
        "POST",
        &format!("/api/chat/sessions/{sid}/messages"),
        Some(json!({"messageText": answer})),
    );
    assert_eq!(m.status, 201);
    (sid, usid, m.body["message"]["seq"].as_i64().unwrap())
}

fn outbox(s: &TestServer) -> Vec<shopchat::store::email::OutboxRow> {
    let conn = shopchat::db::open(&s.db).unwrap();
    shopchat::store::email::all(&conn).unwrap()
}

/// The text of a quoted-printable body (lettre's choice for long lines).
fn quoted_printable(s: &str) -> String {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Long enough for a duplicate to show: the delay, a retry, a few ticks.
fn quiet() -> Duration {
    Duration::from_millis(300 + 800 + 500)
}

#[test]
fn an_unseen_answer_is_emailed_once_with_a_link_back_to_the_chat() {
    let smtp = Smtp::start(0);
    let s = TestServer::start();
    let _svc = start(&s, smtp.port);
    let (sid, usid, _) = answered_chat(&s, "Yes, it is. Ships tomorrow!");
    assert!(
        eventually(WAIT, || !smtp.delivered().is_empty()),
        "nothing delivered: {:?}",
        outbox(&s)
    );
    assert!(
        stays(quiet(), || smtp.delivered().len() == 1),
        "{:#?}",
        smtp.delivered()
    );
    let mail = &smtp.delivered()[0];
    assert_eq!(mail["to"], json!(["olena@example.com"]));
    assert_eq!(mail["from"], "chat@shop.example");
    let data = &quoted_printable(mail["data"].as_str().unwrap());
    assert!(
        data.contains("Subject: Clay & Linen answered your question"),
        "{data}"
    );
    assert!(data.contains("Yes, it is. Ships tomorrow!"), "{data}");
    assert!(
        data.contains(&format!("https://shop.example/#shopchat={sid}.{usid}")),
        "{data}"
    );
    let rows = outbox(&s);
    assert_eq!(rows.len(), 1);
    assert!(rows[0].sent_at.is_some());
}

#[test]
fn a_refused_delivery_is_retried_and_arrives_once() {
    let smtp = Smtp::start(1);
    let s = TestServer::start();
    let _svc = start(&s, smtp.port);
    answered_chat(&s, "We have it in blue too.");
    assert!(
        eventually(WAIT, || smtp.delivered().len() == 1),
        "{:?}",
        outbox(&s)
    );
    assert_eq!(smtp.refused(), 1);
    assert!(stays(quiet(), || smtp.delivered().len() == 1));
    let rows = outbox(&s);
    assert_eq!(rows[0].attempts, 2, "{rows:?}");
    assert!(rows[0].sent_at.is_some());
}

#[test]
fn an_answer_the_visitor_saw_is_not_emailed() {
    let smtp = Smtp::start(0);
    let s = TestServer::start();
    // The visitor sees the answer before the delay is over.
    let (sid, usid, seq) = answered_chat(&s, "Seen in the widget");
    let r = s.public(
        "POST",
        &format!("/api/public/chat/sessions/{sid}/seen"),
        Some(&usid),
        Some(json!({"seq": seq})),
    );
    assert_eq!(r.status, 204, "{r:?}");
    let _svc = start(&s, smtp.port);
    // A second chat, unseen, shows the worker is working.
    let r = s.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(json!({"userEmail": "taras@example.com", "messageText": "hi"})),
    );
    let other = r.body["session"]["id"].as_str().unwrap().to_string();
    s.admin(
        "POST",
        &format!("/api/chat/sessions/{other}/messages"),
        Some(json!({"messageText": "Hello Taras"})),
    );
    assert!(eventually(WAIT, || !smtp.delivered().is_empty()));
    assert!(stays(quiet(), || smtp.delivered().len() == 1));
    assert_eq!(smtp.delivered()[0]["to"], json!(["taras@example.com"]));
}

#[test]
fn an_email_waiting_for_a_dead_server_is_sent_after_a_restart() {
    let s = TestServer::start();
    // No SMTP server on this port yet: attempts fail and are rescheduled.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let svc = start(&s, port);
    answered_chat(&s, "Kept in the outbox");
    assert!(eventually(WAIT, || outbox(&s)
        .first()
        .is_some_and(|r| r.attempts >= 1)));
    svc.stop();
    let row = outbox(&s).remove(0);
    assert!(row.sent_at.is_none() && row.last_error.is_some(), "{row:?}");

    let smtp = Smtp::start(0);
    let _svc = start(&s, smtp.port);
    assert!(
        eventually(WAIT, || smtp.delivered().len() == 1),
        "{:?}",
        outbox(&s)
    );
    assert!(stays(quiet(), || smtp.delivered().len() == 1));
    assert_eq!(outbox(&s).len(), 1, "the same email, not a second one");
}
