//! The real binary: create-tables, the first start of `serve` with no
//! configuration, a clean stop on SIGTERM, managers and keys.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::prelude::*;

/// `shopchat --db DB` with a clean environment.
fn shopchat(db: &Path) -> Command {
    let mut c = crate::clikit::shopchat();
    c.arg("--db").arg(db);
    c
}

fn schema(db: &Path) -> (i64, Vec<String>) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let version = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let mut stmt = conn
        .prepare("SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY name")
        .unwrap();
    let rows = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (version, rows)
}

#[test]
fn create_tables_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let out = shopchat(&db).arg("create-tables").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("up to date"), "{text}");
    let first = schema(&db);
    assert!(first.0 >= 1);
    assert!(first.1.iter().any(|s| s.starts_with("table chat_messages")));
    shopchat(&db).arg("create-tables").assert().success();
    assert_eq!(schema(&db), first);
}

/// Starts `serve` on a free port; returns the child and the lines it
/// printed up to the admin panel line.
fn start_serve(db: &Path, envs: &[(&str, &str)]) -> (std::process::Child, Vec<String>) {
    let mut cmd = shopchat(db);
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--threads", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = Vec::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let done = line.contains("admin panel");
        lines.push(line.trim_end().to_string());
        if done {
            break;
        }
    }
    (child, lines)
}

fn last_word(lines: &[String], containing: &str) -> Option<String> {
    lines
        .iter()
        .find(|l| l.contains(containing))
        .and_then(|l| l.split_whitespace().last())
        .map(str::to_string)
}

fn sigterm(child: &std::process::Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

fn wait(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "serve did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn first_start_creates_the_database_a_manager_and_a_key_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let (mut child, lines) = start_serve(&db, &[]);
    assert!(db.exists());
    let url = lines[0]
        .strip_prefix("shopchat listening on ")
        .expect(&lines[0])
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"));
    let token = last_word(&lines, "manager 'admin'").expect("a manager token is printed");
    let key = last_word(&lines, "widget API key").expect("an API key is printed");
    assert!(
        token.starts_with("scm_") && key.starts_with("sck_"),
        "{lines:?}"
    );

    // Both work at once.
    let r = ureq::get(&format!("{url}/api/chat/me"))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(
        r.into_json::<serde_json::Value>().unwrap()["manager"]["id"],
        "admin"
    );
    let r = ureq::post(&format!("{url}/api/public/chat/sessions"))
        .set("X-API-Key", &key)
        .send_string("")
        .unwrap();
    assert_eq!(r.status(), 201);

    sigterm(&child);
    let status = wait(&mut child);
    assert!(status.success(), "serve exited with {status}");

    // The second start makes no new manager or key, and says how to.
    let (mut child, lines) = start_serve(&db, &[]);
    assert!(last_word(&lines, "manager 'admin'").is_none(), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("managers token")),
        "{lines:?}"
    );
    sigterm(&child);
    assert!(wait(&mut child).success());
}

#[test]
fn keys_from_the_environment_mean_no_key_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let (mut child, lines) = start_serve(&db, &[("CHAT_API_KEYS", "k1, k2")]);
    assert!(last_word(&lines, "widget API key").is_none(), "{lines:?}");
    let url = lines[0]
        .strip_prefix("shopchat listening on ")
        .unwrap()
        .to_string();
    let r = ureq::post(&format!("{url}/api/public/chat/sessions"))
        .set("X-API-Key", "k2")
        .send_string("")
        .unwrap();
    assert_eq!(r.status(), 201);
    sigterm(&child);
    assert!(wait(&mut child).success());
}

#[test]
fn boolean_variables_take_one_and_zero() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    for (value, on) in [("1", true), ("0", false), ("true", true), ("", false)] {
        let (mut child, lines) = start_serve(&db, &[("CHAT_TRUST_PROXY", value)]);
        let said = lines.iter().any(|l| l.contains("behind a proxy"));
        assert_eq!(said, on, "CHAT_TRUST_PROXY={value:?}: {lines:?}");
        sigterm(&child);
        assert!(wait(&mut child).success());
    }
}

#[test]
fn bad_configuration_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    for (args, env, want) in [
        (vec!["serve", "--bind", "localhost"], None, "--bind"),
        (vec!["serve", "--threads", "0"], None, "--threads"),
        (
            vec!["serve"],
            Some(("CHAT_SESSION_RATE", "lots")),
            "CHAT_SESSION_RATE",
        ),
        (
            vec!["serve"],
            Some(("CHAT_PUBLIC_URL", "chat.example")),
            "CHAT_PUBLIC_URL",
        ),
        (
            vec!["serve"],
            Some(("CHAT_TRUST_PROXY", "lots")),
            "CHAT_TRUST_PROXY",
        ),
        (
            vec!["serve"],
            Some(("CHAT_REQUEST_TIMEOUT", "0")),
            "CHAT_REQUEST_TIMEOUT",
        ),
        (
            vec!["serve"],
            Some(("TELEGRAM_BOT_TOKEN", "123:abc")),
            "TELEGRAM_CHAT_ID is not",
        ),
        (
            vec!["serve", "--telegram-topics=maybe"],
            None,
            "TELEGRAM_TOPICS",
        ),
        (
            vec!["serve"],
            Some(("CHAT_SMTP_HOST", "smtp.example")),
            "CHAT_EMAIL_FROM is not",
        ),
        (
            vec![
                "serve",
                "--smtp-host=smtp.example",
                "--email-from=not an address",
            ],
            None,
            "CHAT_EMAIL_FROM must be an address",
        ),
        (
            vec![
                "serve",
                "--smtp-host=smtp.example",
                "--email-from=shop@example.com",
            ],
            Some(("CHAT_SMTP_USER", "shop")),
            "CHAT_SMTP_PASSWORD",
        ),
        (
            vec![
                "serve",
                "--smtp-host=smtp.example",
                "--email-from=shop@example.com",
            ],
            Some(("CHAT_SHOP_URL", "shop.example")),
            "CHAT_SHOP_URL must be a URL",
        ),
    ] {
        let mut cmd = shopchat(&db);
        cmd.args(&args);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        // A setting wrongly accepted would start a server: stop it soon.
        let out = assert_cmd::Command::from_std(cmd)
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("error: ") && err.contains(want),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!db.exists(), "{args:?}: checked before any work");
    }
    // A port in use is a clear error too.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let out = shopchat(&db)
        .args(["serve", "--bind", &addr])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not listen"));
}

#[test]
fn managers_and_keys_from_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    // Commands never create a database by accident: a mistyped --db is an error.
    for args in [
        ["managers", "add", "alice"],
        ["keys", "add", "shop.example"],
    ] {
        let out = shopchat(&db).args(args).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no database at"), "{err}");
        assert!(!db.exists(), "{args:?} created the database");
    }
    shopchat(&db).arg("create-tables").assert().success();
    let out = shopchat(&db)
        .args(["managers", "add", "alice", "--name", "Alice K."])
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap();
    assert!(
        token.trim().starts_with("scm_") && token.lines().count() == 1,
        "{token}"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let stored: String = conn
        .query_row(
            "SELECT token_hash FROM managers WHERE id = 'alice'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        stored,
        shopchat::secret::hash(token.trim()),
        "only the hash is stored"
    );

    let dup = shopchat(&db)
        .args(["managers", "add", "alice"])
        .output()
        .unwrap();
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    let bad = shopchat(&db)
        .args(["managers", "add", "no spaces"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("manager id"));

    let list = shopchat(&db)
        .args(["managers", "list", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v[0]["id"], "alice");
    assert_eq!(v[0]["displayName"], "Alice K.");
    assert!(!String::from_utf8_lossy(&list.stdout).contains("scm_"));

    let key = shopchat(&db)
        .args(["keys", "add", "shop.example"])
        .output()
        .unwrap();
    let key = String::from_utf8(key.stdout).unwrap();
    assert!(key.trim().starts_with("sck_"));
    let listed = shopchat(&db).args(["keys", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        listed.contains("shop.example") && listed.contains("active"),
        "{listed}"
    );
    assert!(
        !listed.contains(key.trim()),
        "the whole key is never shown again"
    );
    shopchat(&db)
        .args(["keys", "revoke", "shop.example"])
        .assert()
        .success();
    let again = shopchat(&db)
        .args(["keys", "revoke", "shop.example"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("no active key"));
}

/// Keys are checked from memory; a key revoked by another process (the
/// terminal) must still stop working at once, within the recheck time.
#[test]
fn a_key_revoked_from_the_terminal_stops_working_within_a_moment() {
    let live = crate::live::Live::start(crate::live::Opts::default());
    let (sid, usid) = live.open_chat();
    let poll = |key: &str| -> u16 {
        crate::common::call(
            &format!("{}/api/public/chat/sessions/{sid}/messages", live.url),
            "GET",
            &[("X-API-Key", key), ("X-User-Session-Id", usid.as_str())],
            None,
        )
        .status
    };
    // Every worker has the key in memory now.
    for _ in 0..40 {
        assert_eq!(poll(&live.key), 200);
    }
    let revoked = crate::clikit::run({
        let mut c = crate::clikit::cmd_for(&live.db);
        c.args(["keys", "revoke", "test"]);
        c
    });
    assert_eq!(revoked.code, Some(0), "{}", revoked.stderr);
    // The revocation is committed by now. A worker may still answer from
    // the keys it read before it for up to the recheck time (50 ms); no
    // worker may take the key after that, and then it stays revoked on
    // every worker (40 polls in a row).
    let revoked_at = Instant::now();
    let mut in_a_row = 0;
    while in_a_row < 40 {
        let asked = Instant::now();
        match poll(&live.key) {
            401 => in_a_row += 1,
            code => {
                assert_eq!(code, 200);
                let after = asked.duration_since(revoked_at);
                assert!(
                    after < Duration::from_millis(100),
                    "the revoked key still worked {after:?} after it was revoked"
                );
                in_a_row = 0;
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}
