//! Email follow-ups against a real SMTP server on loopback (aiosmtpd from
//! `PyPI`, started by the test: tests/smtp/server.py): delivered once, retried
//! after the server refused, not sent when the visitor saw the answer, and
//! not lost across a restart. The production default is spoken too:
//! STARTTLS with a login (and implicit TLS), checked against a test CA; an
//! untrusted certificate or a wrong password delivers nothing and loses
//! nothing.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use shopchat::cli::EmailArgs;
use shopchat::email;

use crate::common::TestServer;
use crate::telegram_fake::{eventually, stays, TestPki};

const WAIT: Duration = Duration::from_secs(15);

/// The shop's SMTP login in the TLS tests.
const USER: &str = "chat@shop.example";
const PASSWORD: &str = "correct horse battery staple";

/// How the SMTP connection is secured, the same on both ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Mode {
    /// No TLS: a relay on the same machine.
    #[default]
    Plain,
    /// A submission server (587): STARTTLS, required before anything else.
    StartTls,
    /// SMTPS (465): TLS from the first byte.
    Tls,
}

impl Mode {
    /// `server.py --mode`.
    fn server(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::StartTls => "starttls",
            Mode::Tls => "tls",
        }
    }

    /// `--smtp-tls`.
    fn client(self) -> &'static str {
        match self {
            Mode::Plain => "none",
            Mode::StartTls => "starttls",
            Mode::Tls => "tls",
        }
    }
}

/// A fresh test CA and a server certificate for 127.0.0.1, as PEM files.
struct Pki {
    /// The CA certificate: the client's `ca_file`.
    ca: PathBuf,
    /// The server's certificate chain and key.
    cert: PathBuf,
    key: PathBuf,
    _dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let pki = TestPki::new();
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, pem: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, pem).unwrap();
            p
        };
        Pki {
            ca: file("ca.pem", &pki.ca_pem),
            cert: file("chain.pem", &pki.chain_pem),
            key: file("key.pem", &pki.key_pem),
            _dir: dir,
        }
    }
}

/// What the test SMTP server is: `Opts::default()` is a plain relay.
#[derive(Default)]
struct Opts<'a> {
    /// Deliveries answered "451 try again later" first.
    refuse: u32,
    mode: Mode,
    /// The server's certificate (needed unless `Mode::Plain`).
    pki: Option<&'a Pki>,
    /// The login it requires (over TLS only), as a submission server does.
    login: Option<(&'a str, &'a str)>,
}

/// `python3 tests/smtp/server.py`, killed when dropped.
struct Smtp {
    child: Child,
    port: u16,
    lines: Arc<Mutex<Vec<Value>>>,
    stderr: Arc<Mutex<String>>,
}

impl Smtp {
    fn start(o: &Opts) -> Smtp {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/server.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script)
            .args(["--refuse", &o.refuse.to_string()])
            .args(["--mode", o.mode.server()]);
        if let Some(pki) = o.pki {
            cmd.arg("--cert").arg(&pki.cert).arg("--key").arg(&pki.key);
        }
        if let Some((user, password)) = o.login {
            cmd.args(["--auth", &format!("{user}:{password}")]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut err_pipe = child.stderr.take().unwrap();
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let Some(port) = first.trim().strip_prefix("listening ") else {
            let mut err = String::new();
            let _ = err_pipe.read_to_string(&mut err);
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
        // Drained, so that its log (failed handshakes) never fills the pipe
        // and stalls it; shown when a test fails.
        let stderr = Arc::new(Mutex::new(String::new()));
        {
            let stderr = stderr.clone();
            std::thread::spawn(move || {
                for l in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                    let mut s = stderr.lock().unwrap();
                    s.push_str(&l);
                    s.push('\n');
                }
            });
        }
        Smtp {
            child,
            port,
            lines,
            stderr,
        }
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

    fn count(&self, key: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|v| v.get(key).is_some())
            .count()
    }

    fn refused(&self) -> usize {
        self.count("refused")
    }

    /// Logins it answered "535 credentials invalid".
    fn auth_failures(&self) -> usize {
        self.count("auth_failed")
    }

    /// What it logged, for failure messages.
    fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The follow-up settings for the test SMTP server on `port`: secured by
/// `mode`, with an optional login, trusting `ca_file` (instead of the
/// system's store) when given.
fn config(
    port: u16,
    mode: Mode,
    login: Option<(&str, &str)>,
    ca_file: Option<&Path>,
) -> Arc<email::Config> {
    let args = EmailArgs {
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: Some(port),
        smtp_tls: mode.client().into(),
        smtp_user: login.map(|l| l.0.to_string()),
        smtp_password: login.map(|l| l.1.to_string()),
        email_from: Some("Clay & Linen <chat@shop.example>".into()),
        email_after: 1,
        shop_name: None,
        shop_url: Some("https://shop.example/".into()),
    };
    let mut c = email::Config::from_args(&args, None, ca_file.map(Path::to_path_buf))
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

/// `config` for a plain relay.
fn plain(port: u16) -> Arc<email::Config> {
    config(port, Mode::Plain, None, None)
}

fn start(s: &TestServer, config: Arc<email::Config>) -> shopchat::followup::Service {
    shopchat::followup::Service::start(s.db.clone(), Some(config), Duration::from_millis(100))
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
    let smtp = Smtp::start(&Opts::default());
    let s = TestServer::start();
    let _svc = start(&s, plain(smtp.port));
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
    let smtp = Smtp::start(&Opts {
        refuse: 1,
        ..Opts::default()
    });
    let s = TestServer::start();
    let _svc = start(&s, plain(smtp.port));
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
    let smtp = Smtp::start(&Opts::default());
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
    let _svc = start(&s, plain(smtp.port));
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
    let svc = start(&s, plain(port));
    answered_chat(&s, "Kept in the outbox");
    assert!(eventually(WAIT, || outbox(&s)
        .first()
        .is_some_and(|r| r.attempts >= 1)));
    svc.stop();
    let row = outbox(&s).remove(0);
    assert!(row.sent_at.is_none() && row.last_error.is_some(), "{row:?}");

    let smtp = Smtp::start(&Opts::default());
    let _svc = start(&s, plain(smtp.port));
    assert!(
        eventually(WAIT, || smtp.delivered().len() == 1),
        "{:?}",
        outbox(&s)
    );
    assert!(stays(quiet(), || smtp.delivered().len() == 1));
    assert_eq!(outbox(&s).len(), 1, "the same email, not a second one");
}

/// The one row of the outbox, when it is waiting to be sent again: not
/// sent, not given up, with the error of its last attempt.
fn pending_after_failures(s: &TestServer) -> shopchat::store::email::OutboxRow {
    let rows = outbox(s);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let row = rows.into_iter().next().unwrap();
    assert!(
        row.sent_at.is_none() && row.failed_at.is_none() && row.last_error.is_some(),
        "the email must wait in the outbox: {row:#?}"
    );
    row
}

/// Waits for the one delivery, then long enough for a late duplicate (past
/// the retry interval); returns the message.
fn delivered_once(s: &TestServer, smtp: &Smtp) -> Value {
    assert!(
        eventually(WAIT, || !smtp.delivered().is_empty()),
        "nothing delivered: {:#?}\n{}",
        outbox(s),
        smtp.log()
    );
    assert!(
        stays(quiet(), || smtp.delivered().len() == 1),
        "{:#?}",
        smtp.delivered()
    );
    smtp.delivered().remove(0)
}

/// Waits until the email was tried `attempts` times (past the refusals that
/// give a message up, when more than 3), stops the sender, and returns the
/// error of the email still waiting; nothing was delivered.
fn still_waiting_after(
    s: &TestServer,
    smtp: &Smtp,
    svc: shopchat::followup::Service,
    attempts: i64,
) -> String {
    assert!(
        eventually(WAIT, || outbox(s)
            .first()
            .is_some_and(|r| r.failed_at.is_some() || r.attempts >= attempts)),
        "{:#?}\n{}",
        outbox(s),
        smtp.log()
    );
    svc.stop();
    assert!(smtp.delivered().is_empty(), "{:#?}", smtp.delivered());
    pending_after_failures(s).last_error.unwrap()
}

/// An SMTP server in `mode` with `pki`'s certificate, wanting the login.
fn tls_server(mode: Mode, pki: &Pki) -> Smtp {
    Smtp::start(&Opts {
        mode,
        pki: Some(pki),
        login: Some((USER, PASSWORD)),
        ..Opts::default()
    })
}

/// A client of it in `mode`, logging in with `password` and trusting `ca`.
fn tls_client(smtp: &Smtp, mode: Mode, password: &str, ca: &Path) -> Arc<email::Config> {
    config(smtp.port, mode, Some((USER, password)), Some(ca))
}

#[test]
fn over_starttls_with_a_login_an_unseen_answer_is_emailed_once_encrypted_and_authenticated() {
    let pki = Pki::new();
    let smtp = tls_server(Mode::StartTls, &pki);
    let s = TestServer::start();
    let _svc = start(&s, tls_client(&smtp, Mode::StartTls, PASSWORD, &pki.ca));
    let (sid, usid, _) = answered_chat(&s, "Yes, it is. Ships tomorrow!");
    let mail = &delivered_once(&s, &smtp);
    assert_eq!(mail["tls"], true, "{mail:#?}");
    assert_eq!(mail["login"], USER, "{mail:#?}");
    assert_eq!(smtp.auth_failures(), 0);
    assert_eq!(mail["to"], json!(["olena@example.com"]));
    assert_eq!(mail["from"], "chat@shop.example");
    let data = &quoted_printable(mail["data"].as_str().unwrap());
    assert!(data.contains("Yes, it is. Ships tomorrow!"), "{data}");
    assert!(
        data.contains(&format!("https://shop.example/#shopchat={sid}.{usid}")),
        "{data}"
    );
    let rows = outbox(&s);
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0].sent_at.is_some() && rows[0].attempts == 1,
        "{rows:#?}"
    );
}

#[test]
fn over_implicit_tls_an_unseen_answer_is_emailed_once_encrypted() {
    let pki = Pki::new();
    let smtp = tls_server(Mode::Tls, &pki);
    let s = TestServer::start();
    let _svc = start(&s, tls_client(&smtp, Mode::Tls, PASSWORD, &pki.ca));
    answered_chat(&s, "Over SMTPS");
    let mail = &delivered_once(&s, &smtp);
    assert_eq!(mail["tls"], true, "{mail:#?}");
    assert_eq!(mail["login"], USER, "{mail:#?}");
    assert!(quoted_printable(mail["data"].as_str().unwrap()).contains("Over SMTPS"));
    assert!(outbox(&s)[0].sent_at.is_some());
}

#[test]
fn a_server_whose_certificate_is_not_trusted_gets_nothing_and_the_email_waits_for_the_right_ca() {
    let pki = Pki::new();
    // Another authority: what a client trusting the wrong CA sees (a
    // TLS-inspecting proxy, a self-signed server, a stale SSL_CERT_FILE).
    let other = Pki::new();
    let smtp = tls_server(Mode::StartTls, &pki);
    let s = TestServer::start();
    let svc = start(&s, tls_client(&smtp, Mode::StartTls, PASSWORD, &other.ca));
    answered_chat(&s, "Not for an impostor");
    // Past the number of refusals that would give a message up: a
    // certificate the client does not trust is not the message's fault.
    let error = still_waiting_after(&s, &smtp, svc, 4);
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    // The login was never sent to the server it could not verify.
    assert_eq!(smtp.auth_failures(), 0);

    // Given the right CA (a restart with SSL_CERT_FILE fixed), it goes.
    let _svc = start(&s, tls_client(&smtp, Mode::StartTls, PASSWORD, &pki.ca));
    let mail = delivered_once(&s, &smtp);
    assert_eq!(mail["tls"], true);
    assert_eq!(mail["login"], USER);
    let rows = outbox(&s);
    assert_eq!(rows.len(), 1, "the same email, not a second one");
    assert!(rows[0].sent_at.is_some());
}

#[test]
fn a_wrong_smtp_password_delivers_nothing_and_the_email_waits_for_the_right_one() {
    let pki = Pki::new();
    let smtp = tls_server(Mode::StartTls, &pki);
    let s = TestServer::start();
    let wrong = "an old password";
    let svc = start(&s, tls_client(&smtp, Mode::StartTls, wrong, &pki.ca));
    answered_chat(&s, "Waiting for the right password");
    // The server answers 535 (a 5xx); past the number of 5xx refusals that
    // give a message up, the email must still wait: the shop's login is
    // wrong, not the email.
    let error = still_waiting_after(&s, &smtp, svc, 4);
    assert!(smtp.auth_failures() >= 1);
    assert!(error.contains("535"), "{error}");
    assert!(!error.contains(wrong), "never the password: {error}");

    // The password fixed (and serve restarted), it goes, once.
    let _svc = start(&s, tls_client(&smtp, Mode::StartTls, PASSWORD, &pki.ca));
    let mail = delivered_once(&s, &smtp);
    assert_eq!(mail["login"], USER);
    let rows = outbox(&s);
    assert_eq!(rows.len(), 1, "the same email, not a second one");
    assert!(rows[0].sent_at.is_some());
}

#[test]
fn starttls_against_a_server_that_does_not_offer_it_sends_nothing_in_plain_text() {
    // A plain relay (no STARTTLS in its EHLO), as a misconfigured port or a
    // downgrading middlebox shows it.
    let smtp = Smtp::start(&Opts::default());
    let pki = Pki::new();
    let s = TestServer::start();
    let svc = start(&s, tls_client(&smtp, Mode::StartTls, PASSWORD, &pki.ca));
    answered_chat(&s, "Only over TLS");
    let error = still_waiting_after(&s, &smtp, svc, 2);
    assert!(error.contains("STARTTLS"), "{error}");
}

#[test]
fn a_server_that_wants_a_login_when_none_is_set_gets_nothing_and_the_email_waits() {
    let pki = Pki::new();
    let smtp = tls_server(Mode::StartTls, &pki);
    let s = TestServer::start();
    let svc = start(&s, config(smtp.port, Mode::StartTls, None, Some(&pki.ca)));
    answered_chat(&s, "Nobody logged in");
    // "530 Authentication required" is a 5xx too: past the refusals that
    // give a message up, it still waits.
    let error = still_waiting_after(&s, &smtp, svc, 4);
    assert!(error.contains("530"), "{error}");
}

#[test]
fn after_a_restart_an_email_waiting_out_its_backoff_is_tried_at_once() {
    let pki = Pki::new();
    let smtp = tls_server(Mode::StartTls, &pki);
    let s = TestServer::start();
    // A wrong password and a backoff far longer than this test.
    let mut wrong = (*tls_client(&smtp, Mode::StartTls, "an old password", &pki.ca)).clone();
    wrong.tuning.min_backoff = Duration::from_mins(10);
    wrong.tuning.max_backoff = Duration::from_mins(10);
    let svc = start(&s, Arc::new(wrong));
    answered_chat(&s, "Waiting for a restart");
    still_waiting_after(&s, &smtp, svc, 1);
    // The password fixed and serve restarted: tried now, not in 10 minutes.
    let _svc = start(&s, tls_client(&smtp, Mode::StartTls, PASSWORD, &pki.ca));
    let mail = delivered_once(&s, &smtp);
    assert_eq!(mail["login"], USER);
}
