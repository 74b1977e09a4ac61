//! The real binary against the fake Bot API over HTTPS, trusting its test
//! CA through `SSL_CERT_FILE` as a real install trusts a TLS-inspecting
//! proxy: notifications and replies, a `serve` killed with notifications
//! still in the outbox delivers them after a restart, and `shopchat
//! telegram test` says what is wrong, an untrusted certificate included.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::telegram_fake::{eventually, message, stays, FakeTelegram, Mode, TestPki, TOKEN};
use serde_json::json;

/// `shopchat --db DB` with a clean environment (no `SSL_CERT_FILE` either).
fn shopchat(db: &Path) -> Command {
    let mut c = crate::clikit::shopchat();
    c.arg("--db").arg(db);
    c
}

/// Runs a command that prints one value on stdout.
fn output_line(mut c: Command) -> String {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// How long the binary's "exactly once" checks watch for a late duplicate:
/// past its first retry (1 s backoff) after its 1 s per-chat interval.
const QUIET: Duration = Duration::from_millis(2500);

/// Starts `serve` against the fake, trusting the fake's CA through
/// `SSL_CERT_FILE`; returns the child and its URL.
fn serve(db: &Path, fake: &FakeTelegram, log: &Path) -> (Child, String) {
    serve_trusting(db, fake, &fake.ca_file, log)
}

/// Starts `serve` against the fake with `SSL_CERT_FILE` set to `ca_file`.
fn serve_trusting(db: &Path, fake: &FakeTelegram, ca_file: &Path, log: &Path) -> (Child, String) {
    let mut c = shopchat(db);
    c.args(["serve", "--bind", "127.0.0.1:0", "--threads", "2"])
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_CHAT_ID", "-1001")
        .env("TELEGRAM_API_BASE", &fake.url)
        .env("SSL_CERT_FILE", ca_file)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap());
    let mut child = c.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("shopchat listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    // Keep reading so serve never blocks on a full pipe.
    std::thread::spawn(move || for _ in out.lines() {});
    (child, url)
}

fn pending(db: &Path) -> i64 {
    let conn = shopchat::db::open(db).unwrap();
    shopchat::store::telegram::pending_count(&conn).unwrap()
}

#[test]
fn a_killed_serve_delivers_its_outbox_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let log = dir.path().join("serve.log");
    shopchat(&db).arg("create-tables").output().unwrap();
    let mut c = shopchat(&db);
    c.args(["managers", "add", "alice"]);
    output_line(c);
    let mut c = shopchat(&db);
    c.args(["keys", "add", "test"]);
    let key = output_line(c);

    let fake = FakeTelegram::start(&["-1001"]);
    fake.set_mode(Mode::Hang(Duration::from_mins(1)));
    let (mut first, url) = serve(&db, &fake, &log);

    let h = [
        ("X-API-Key", key.as_str()),
        ("Content-Type", "application/json"),
    ];
    let r = crate::common::call(
        &format!("{url}/api/public/chat/sessions"),
        "POST",
        &h,
        Some(&json!({"userName": "Olena"}).to_string()),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let sid = r.body["session"]["id"].as_str().unwrap().to_string();
    let usid = r.body["session"]["userSessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let texts: Vec<String> = (0..3).map(|i| format!("[before the crash #{i}]")).collect();
    for t in &texts {
        let mut hd = h.to_vec();
        hd.push(("X-User-Session-Id", usid.as_str()));
        let r = crate::common::call(
            &format!("{url}/api/public/chat/sessions/{sid}/messages"),
            "POST",
            &hd,
            Some(&json!({"messageText": t}).to_string()),
        );
        assert_eq!(r.status, 201, "{r:?}");
    }
    // The worker is stuck in a call Telegram never answers.
    assert!(eventually(Duration::from_secs(10), || fake
        .calls("sendMessage")
        .iter()
        .any(|c| c.status == 0)));
    assert!(pending(&db) >= 3, "outbox: {}", pending(&db));
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    assert!(fake.sent().is_empty());
    assert!(pending(&db) >= 3);

    fake.set_mode(Mode::Ok);
    let (mut second, _) = serve(&db, &fake, &log);
    let delivered = fake.wait_for(Duration::from_secs(20), |sent| {
        texts
            .iter()
            .all(|t| sent.iter().any(|m| m.text.contains(t.as_str())))
    });
    let _ = std::fs::read_to_string(&log).map(|l| eprintln!("{l}"));
    assert!(delivered, "{:#?}", fake.sent());
    let once = |needle: &str| {
        fake.sent()
            .iter()
            .filter(|m| m.text.contains(needle))
            .count()
            == 1
    };
    assert!(
        stays(QUIET, || texts.iter().all(|t| once(t)) && once("New chat")),
        "{:#?}",
        fake.sent()
    );
    assert!(eventually(Duration::from_secs(5), || pending(&db) == 0));
    second.kill().unwrap();
    second.wait().unwrap();
}

/// Runs `shopchat telegram test` with the given environment.
fn telegram_test(env: &[(&str, &str)]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = shopchat(&dir.path().join("chat.db"));
    c.args(["telegram", "test"]);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    assert!(!stdout.contains("TEST-fake") && !stderr.contains("TEST-fake"));
    (out.status.success(), stdout, stderr)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn telegram_test_sends_to_each_chat_and_says_what_is_wrong() {
    let fake = FakeTelegram::start(&["-1001", "-1002"]);
    let ca = path(&fake.ca_file);
    let (ok, out, err) = telegram_test(&[
        ("TELEGRAM_BOT_TOKEN", TOKEN),
        ("TELEGRAM_CHAT_ID", "-1001,-1002"),
        ("TELEGRAM_API_BASE", &fake.url),
        ("SSL_CERT_FILE", ca),
    ]);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("@shop_test_bot"), "{out}");
    assert_eq!(fake.sent_to("-1001").len(), 1);
    assert_eq!(fake.sent_to("-1002").len(), 1);

    // The bot is not in one of the chats.
    fake.forget_chat("-1002");
    let (ok, out, err) = telegram_test(&[
        ("TELEGRAM_BOT_TOKEN", TOKEN),
        ("TELEGRAM_CHAT_ID", "-1001,-1002"),
        ("TELEGRAM_API_BASE", &fake.url),
        ("SSL_CERT_FILE", ca),
    ]);
    assert!(!ok);
    assert!(out.contains("✓ chat -1001"), "{out}");
    assert!(
        out.contains("✗ chat -1002") && out.contains("chat not found"),
        "{out}"
    );
    assert!(out.contains("add the bot to the group"), "{out}");
    assert!(err.contains("1 of 2 chat(s)"), "{err}");

    // A wrong token.
    let (ok, _, err) = telegram_test(&[
        ("TELEGRAM_BOT_TOKEN", "999:wrong-token"),
        ("TELEGRAM_CHAT_ID", "-1001"),
        ("TELEGRAM_API_BASE", &fake.url),
        ("SSL_CERT_FILE", ca),
    ]);
    assert!(!ok);
    assert!(err.contains("401") && err.contains("BotFather"), "{err}");
    assert!(!err.contains("wrong-token"), "{err}");

    // No network.
    let (ok, _, err) = telegram_test(&[
        ("TELEGRAM_BOT_TOKEN", TOKEN),
        ("TELEGRAM_CHAT_ID", "-1001"),
        ("TELEGRAM_API_BASE", "https://127.0.0.1:1"),
        ("SSL_CERT_FILE", ca),
    ]);
    assert!(!ok);
    assert!(err.contains("could not reach https://127.0.0.1:1"), "{err}");

    // Not configured.
    let (ok, _, err) = telegram_test(&[]);
    assert!(!ok);
    assert!(
        err.contains("TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID"),
        "{err}"
    );
}

#[test]
fn telegram_test_refuses_an_untrusted_certificate_in_plain_words() {
    let fake = FakeTelegram::start(&["-1001"]);
    let base = [
        ("TELEGRAM_BOT_TOKEN", TOKEN),
        ("TELEGRAM_CHAT_ID", "-1001"),
        ("TELEGRAM_API_BASE", fake.url.as_str()),
    ];

    // The system's store (no SSL_CERT_FILE) does not know the test CA, as
    // it would not know a TLS-inspecting proxy's.
    let (ok, out, err) = telegram_test(&base);
    assert!(!ok, "{out}\n{err}");
    assert!(
        err.contains("could not connect securely to https://127.0.0.1:")
            && err.contains("is not signed by an authority in this system's CA certificates")
            && err.contains("set SSL_CERT_FILE to a PEM file"),
        "{err}"
    );

    // SSL_CERT_FILE names a bundle without the CA that signed it.
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other-ca.pem");
    std::fs::write(&other, TestPki::new().ca_pem).unwrap();
    let mut env = base.to_vec();
    env.push(("SSL_CERT_FILE", path(&other)));
    let (ok, _, err) = telegram_test(&env);
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "not signed by an authority in the CA certificates in SSL_CERT_FILE ({})",
            other.display()
        )) && err.contains("TLS-inspecting proxy"),
        "{err}"
    );

    // SSL_CERT_FILE names nothing, or something that is not PEM.
    let missing = dir.path().join("missing.pem");
    let mut env = base.to_vec();
    env.push(("SSL_CERT_FILE", path(&missing)));
    let (ok, _, err) = telegram_test(&env);
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "SSL_CERT_FILE is {}, which could not be read",
            missing.display()
        )),
        "{err}"
    );
    let mut env = base.to_vec();
    env.push(("SSL_CERT_FILE", "/dev/null"));
    let (ok, _, err) = telegram_test(&env);
    assert!(!ok);
    assert!(err.contains("which holds no CA certificate"), "{err}");
    assert!(fake.calls("getMe").is_empty(), "no request got through");
}

#[test]
fn serve_over_https_notifies_and_takes_replies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let log = dir.path().join("serve.log");
    shopchat(&db).arg("create-tables").output().unwrap();
    let mut c = shopchat(&db);
    c.args(["managers", "add", "alice", "--telegram-id", "777"]);
    output_line(c);
    let mut c = shopchat(&db);
    c.args(["keys", "add", "test"]);
    let key = output_line(c);

    let fake = FakeTelegram::start(&["-1001"]);
    let (mut child, url) = serve(&db, &fake, &log);
    let h = [
        ("X-API-Key", key.as_str()),
        ("Content-Type", "application/json"),
    ];
    let r = crate::common::call(
        &format!("{url}/api/public/chat/sessions"),
        "POST",
        &h,
        Some(&json!({"userName": "Olena"}).to_string()),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let sid = r.body["session"]["id"].as_str().unwrap().to_string();
    let usid = r.body["session"]["userSessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let mut hd = h.to_vec();
    hd.push(("X-User-Session-Id", usid.as_str()));
    let messages = format!("{url}/api/public/chat/sessions/{sid}/messages");
    let r = crate::common::call(
        &messages,
        "POST",
        &hd,
        Some(&json!({"messageText": "Do you ship to Lviv?"}).to_string()),
    );
    assert_eq!(r.status, 201, "{r:?}");

    // The notification, over HTTPS.
    assert!(
        fake.wait_for(Duration::from_secs(10), |s| s
            .iter()
            .any(|m| m.text.contains("Do you ship to Lviv?"))),
        "{:#?}\n{}",
        fake.sent(),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let note = fake
        .sent()
        .into_iter()
        .find(|m| m.text.contains("Do you ship to Lviv?"))
        .unwrap()
        .message_id;
    // Recorded as sent, so a reply to it can be matched.
    assert!(eventually(Duration::from_secs(10), || pending(&db) == 0));

    // The manager's reply, through getUpdates over HTTPS.
    let reply = fake.next_message_id();
    fake.push_update(message(-1001, 777, reply, "Yes, tomorrow.", Some(note)));
    let answered = eventually(Duration::from_secs(10), || {
        let r = crate::common::call(&messages, "GET", &hd, None);
        r.status == 200
            && r.body["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["messageText"] == "Yes, tomorrow."))
    });
    assert!(
        answered,
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert!(fake.wait_for(Duration::from_secs(10), |s| s
        .iter()
        .any(|m| m.reply_to == Some(reply) && m.text.contains("Sent to"))));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn serve_says_in_its_log_when_it_does_not_trust_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let log = dir.path().join("serve.log");
    let other = dir.path().join("other-ca.pem");
    std::fs::write(&other, TestPki::new().ca_pem).unwrap();
    let fake = FakeTelegram::start(&["-1001"]);
    let (mut child, _) = serve_trusting(&db, &fake, &other, &log);
    // The update reader calls getUpdates at once, and is refused.
    let said = eventually(Duration::from_secs(10), || {
        std::fs::read_to_string(&log).is_ok_and(|l| {
            l.contains("getUpdates failed")
                && l.contains("not signed by an authority in the CA certificates in SSL_CERT_FILE")
        })
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(said, "{text}");
    assert!(
        !text.contains(TOKEN) && !text.contains("TEST-fake"),
        "{text}"
    );
    assert!(fake.calls("getUpdates").is_empty());

    // A trust store that cannot be read stops serve before it does anything.
    let db = dir.path().join("never.db");
    let mut c = shopchat(&db);
    c.args(["serve", "--bind", "127.0.0.1:0"])
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_CHAT_ID", "-1001")
        .env("TELEGRAM_API_BASE", &fake.url)
        .env("SSL_CERT_FILE", dir.path().join("missing.pem"));
    let out = c.output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success());
    assert!(
        err.contains("SSL_CERT_FILE is") && err.contains("could not be read"),
        "{err}"
    );
    assert!(!err.contains(TOKEN));
    assert!(
        !db.exists(),
        "serve made a database before checking its configuration"
    );
}

#[test]
fn serve_refuses_half_a_telegram_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = shopchat(&dir.path().join("chat.db"));
    c.args(["serve", "--bind", "127.0.0.1:0"])
        .env("TELEGRAM_BOT_TOKEN", TOKEN);
    let out = c.output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("TELEGRAM_CHAT_ID is not"), "{err}");
    assert!(!err.contains(TOKEN));
}

#[test]
fn telegram_chats_lists_chat_and_user_ids_without_acknowledging() {
    let fake = FakeTelegram::start(&["-1001"]);
    fake.push_update(message(-100777, 4242, 1, "/start", None));
    let dir = tempfile::tempdir().unwrap();
    let mut c = shopchat(&dir.path().join("chat.db"));
    c.args(["telegram", "chats"])
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_API_BASE", &fake.url)
        .env("SSL_CERT_FILE", &fake.ca_file);
    let out = c.output().unwrap();
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(out.status.success(), "{stdout} {out:?}");
    assert!(
        stdout.contains("-100777") && stdout.contains("Shop managers"),
        "{stdout}"
    );
    assert!(stdout.contains("4242"), "{stdout}");
    assert_eq!(fake.unacknowledged(), 1, "serve must still get the update");
}
