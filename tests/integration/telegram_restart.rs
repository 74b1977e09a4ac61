//! The real binary: a `serve` killed with notifications still in the outbox
//! delivers them after a restart, and `shopchat telegram test` says what
//! is wrong.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::telegram_fake::{eventually, FakeTelegram, Mode, TOKEN};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_shopchat");

fn shopchat(db: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--db").arg(db);
    for v in [
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_CHAT_ID",
        "TELEGRAM_API_BASE",
        "TELEGRAM_WEBHOOK_SECRET",
        "TELEGRAM_TOPICS",
        "CHAT_API_KEYS",
        "CHAT_PUBLIC_URL",
        "CHAT_BIND",
    ] {
        c.env_remove(v);
    }
    c
}

/// Runs a command that prints one value on stdout.
fn output_line(mut c: Command) -> String {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Starts `serve` against the fake; returns the child and its URL.
fn serve(db: &Path, fake: &FakeTelegram, log: &Path) -> (Child, String) {
    let mut c = shopchat(db);
    c.args(["serve", "--bind", "127.0.0.1:0", "--threads", "2"])
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_CHAT_ID", "-1001")
        .env("TELEGRAM_API_BASE", &fake.url)
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
    fake.set_mode(Mode::Hang(Duration::from_secs(60)));
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
    assert!(pending(&db) >= 4, "outbox: {}", pending(&db));
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    assert!(fake.sent().is_empty());
    assert!(pending(&db) >= 4);

    fake.set_mode(Mode::Ok);
    let (mut second, _) = serve(&db, &fake, &log);
    let delivered = fake.wait_for(Duration::from_secs(20), |sent| {
        texts
            .iter()
            .all(|t| sent.iter().any(|m| m.text.contains(t.as_str())))
    });
    let _ = std::fs::read_to_string(&log).map(|l| eprintln!("{l}"));
    assert!(delivered, "{:#?}", fake.sent());
    std::thread::sleep(Duration::from_millis(1500));
    let sent = fake.sent();
    for t in &texts {
        assert_eq!(
            sent.iter().filter(|m| m.text.contains(t.as_str())).count(),
            1
        );
    }
    assert_eq!(
        sent.iter().filter(|m| m.text.contains("New chat")).count(),
        1
    );
    assert_eq!(pending(&db), 0);
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

#[test]
fn telegram_test_sends_to_each_chat_and_says_what_is_wrong() {
    let fake = FakeTelegram::start(&["-1001", "-1002"]);
    let (ok, out, err) = telegram_test(&[
        ("TELEGRAM_BOT_TOKEN", TOKEN),
        ("TELEGRAM_CHAT_ID", "-1001,-1002"),
        ("TELEGRAM_API_BASE", &fake.url),
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
    ]);
    assert!(!ok);
    assert!(err.contains("401") && err.contains("BotFather"), "{err}");
    assert!(!err.contains("wrong-token"), "{err}");

    // No network.
    let (ok, _, err) = telegram_test(&[
        ("TELEGRAM_BOT_TOKEN", TOKEN),
        ("TELEGRAM_CHAT_ID", "-1001"),
        ("TELEGRAM_API_BASE", "http://127.0.0.1:1"),
    ]);
    assert!(!ok);
    assert!(err.contains("could not reach http://127.0.0.1:1"), "{err}");

    // Not configured.
    let (ok, _, err) = telegram_test(&[]);
    assert!(!ok);
    assert!(
        err.contains("TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID"),
        "{err}"
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
    fake.push_update(crate::telegram_fake::message(
        -100777, 4242, 1, "/start", None,
    ));
    let dir = tempfile::tempdir().unwrap();
    let mut c = shopchat(&dir.path().join("chat.db"));
    c.args(["telegram", "chats"])
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_API_BASE", &fake.url);
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
