//! Test support for the terminal commands: the one way tests run the real
//! `shopchat` binary ([`shopchat`], a clean environment), a database with
//! fixed chats (fixed ids and times, so tables render the same on every
//! run), and a builder that runs the binary against it.

use std::path::{Path, PathBuf};
use std::process::Output;

use shopchat::store::messages::NewMessage;
use shopchat::store::{self, messages, sessions, Sender, Session, Status};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_shopchat");

/// Olena: active, alice, awaiting a reply (newest).
pub(crate) const OLENA: &str = "3f2a8c1e-0d5b-4c7a-9e6f-1a2b3c4d5e6f";
/// Emma: active, unassigned, awaiting a reply; shares the prefix "3f2a".
pub(crate) const EMMA: &str = "3f2a9d00-1111-4222-8333-444455556666";
/// Anna: closed by bob on 2025-03-10.
pub(crate) const ANNA: &str = "7b1c0e2d-2222-4333-8444-555566667777";
/// No name, a German phone: active, alice, answered.
pub(crate) const NONAME: &str = "c0ffee00-3333-4444-9555-666677778888";
/// Lukas: archived in February.
pub(crate) const LUKAS: &str = "deadbeef-4444-4555-a666-777788889999";
/// Taras: active, no messages yet (so never listed).
pub(crate) const TARAS: &str = "e5e5e5e5-5555-4666-b777-88889999aaaa";

/// id, name, phone, manager, created, messages (author, text, time).
type FixtureChat<'a> = (
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    &'a [(&'a str, &'a str, &'a str)],
);

/// A temporary database.
pub(crate) struct Db {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Db {
    /// The schema and nothing else.
    pub(crate) fn empty() -> Db {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("chat.db");
        shopchat::db::init(&path).expect("init");
        Db { dir, path }
    }

    /// The schema and managers with these ids.
    pub(crate) fn with_managers(ids: &[&str]) -> Db {
        let db = Db::empty();
        let mut conn = db.conn();
        for id in ids {
            shopchat::accounts::add_manager(&mut conn, id, None, None).expect("manager");
        }
        db
    }

    /// Managers alice and bob and six chats with fixed ids and times.
    pub(crate) fn fixture() -> Db {
        let db = Db::empty();
        let mut conn = db.conn();
        shopchat::accounts::add_manager(&mut conn, "alice", Some("Alice"), None).unwrap();
        shopchat::accounts::add_manager(&mut conn, "bob", Some("Bob"), None).unwrap();
        let chats: &[FixtureChat] = &[
            (
                OLENA,
                Some("Олена Коваль"),
                Some("+380 67 123 45 67"),
                Some("alice"),
                "2025-03-14T09:04:30.000Z",
                &[
                    (
                        "user",
                        "Добрий день! Чи є кросівки Nike Air Max 42 розміру?",
                        "2025-03-14T09:05:00.000Z",
                    ),
                    (
                        "alice",
                        "Так, є в наявності. Відправити сьогодні?",
                        "2025-03-14T09:07:00.000Z",
                    ),
                    (
                        "user",
                        "Так, будь ласка, на відділення №12 у Львові",
                        "2025-03-14T09:10:00.000Z",
                    ),
                ],
            ),
            (
                EMMA,
                Some("Emma Wilson"),
                Some("+44 7700 900123"),
                None,
                "2025-03-13T17:59:00.000Z",
                &[(
                    "user",
                    "Hi! Do you ship to the UK?",
                    "2025-03-13T18:00:00.000Z",
                )],
            ),
            (
                ANNA,
                Some("Anna Nowak"),
                None,
                Some("bob"),
                "2025-03-09T11:00:00.000Z",
                &[
                    (
                        "user",
                        "Dzień dobry, czy wysyłacie do Polski?",
                        "2025-03-09T11:00:10.000Z",
                    ),
                    (
                        "bob",
                        "Dzień dobry! Tak, wysyłka kosztuje 25 zł.",
                        "2025-03-09T11:04:10.000Z",
                    ),
                    ("user", "Dziękuję bardzo!", "2025-03-09T11:05:00.000Z"),
                ],
            ),
            (
                NONAME,
                None,
                Some("+49 151 23456789"),
                Some("alice"),
                "2025-03-12T08:00:00.000Z",
                &[
                    (
                        "user",
                        "Hallo, wo bleibt meine Bestellung 4711?\nIch warte seit einer Woche.",
                        "2025-03-12T08:00:05.000Z",
                    ),
                    (
                        "alice",
                        "Die Sendungsnummer ist DE123456. Sie kommt morgen an.",
                        "2025-03-12T08:30:05.000Z",
                    ),
                ],
            ),
            (
                LUKAS,
                Some("Lukas Müller"),
                None,
                None,
                "2025-02-01T10:00:00.000Z",
                &[
                    (
                        "user",
                        "Guten Tag, liefern Sie auch nach Deutschland?",
                        "2025-02-01T10:00:01.000Z",
                    ),
                    (
                        "bob",
                        "Ja, der Versand kostet 12 €.",
                        "2025-02-01T10:10:01.000Z",
                    ),
                ],
            ),
            (
                TARAS,
                Some("Тарас"),
                None,
                None,
                "2025-03-11T10:00:00.000Z",
                &[],
            ),
        ];
        store::write(&mut conn, |tx| {
            for (i, (id, name, phone, manager, created, msgs)) in chats.iter().enumerate() {
                sessions::insert(
                    tx,
                    &Session {
                        id: id.to_string(),
                        user_name: name.map(str::to_string),
                        user_phone: phone.map(str::to_string),
                        status: Status::Active,
                        manager_id: manager.map(str::to_string),
                        user_session_id: Some(format!("visitor-secret-number-{i:04}")),
                        created_at: created.to_string(),
                        updated_at: created.to_string(),
                        user_email: None,
                        away_at: None,
                    },
                )?;
                for (j, (who, text, at)) in msgs.iter().enumerate() {
                    let mid = format!("00000000-0000-4000-8000-{i:06}{j:06}");
                    let (sender, manager_id) = if *who == "user" {
                        (Sender::User, None)
                    } else {
                        (Sender::Manager, Some(*who))
                    };
                    messages::insert(
                        tx,
                        &NewMessage {
                            id: &mid,
                            session_id: id,
                            sender,
                            text,
                            manager_id,
                            client_message_id: None,
                            created_at: at,
                            auto: false,
                        },
                    )?;
                }
            }
            sessions::set_status(tx, ANNA, Status::Closed, "2025-03-10T12:00:00.000Z")?;
            sessions::set_status(tx, LUKAS, Status::Archived, "2025-02-20T12:00:00.000Z")?;
            Ok(())
        })
        .expect("fixture");
        db
    }

    pub(crate) fn conn(&self) -> rusqlite::Connection {
        shopchat::db::open_existing(&self.path).expect("open")
    }

    /// `shopchat --db <this db>` with a fixed, colourless, 100-column
    /// terminal in UTC and no manager from the environment.
    pub(crate) fn cmd(&self) -> assert_cmd::Command {
        cmd_for(&self.path)
    }
}

/// Variables cleared for every run of the binary: shopchat's settings
/// (and any a later feature reads), and what changes how a terminal
/// program looks. A test sets what it means to test.
const CLEARED_PREFIXES: &[&str] = &["CHAT_", "TELEGRAM_", "SMTP_", "SHOPCHAT_"];
const CLEARED: &[&str] = &[
    "NO_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "COLUMNS",
    "LINES",
    "TERM",
    "TZ",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "RUST_LOG",
];

/// The one way tests run the binary: `shopchat` with none of the
/// developer's or the CI machine's settings, in UTC. Everything that runs
/// the binary starts here (or, when it runs it through a shell, applies
/// [`clean_env`] to that).
pub(crate) fn shopchat() -> std::process::Command {
    let mut c = std::process::Command::new(BIN);
    clean_env(&mut c);
    c
}

/// Clears, on `cmd`, every variable shopchat or the terminal would read
/// from the developer's or the CI machine's environment, and sets UTC, so
/// the process sees only what the test sets.
pub(crate) fn clean_env(cmd: &mut std::process::Command) {
    for (name, _) in std::env::vars_os() {
        let clear = name.to_str().is_some_and(|n| {
            CLEARED_PREFIXES.iter().any(|p| n.starts_with(p)) || CLEARED.contains(&n)
        });
        if clear {
            cmd.env_remove(name);
        }
    }
    cmd.env("TZ", "UTC");
}

/// `shopchat --db PATH` with a clean environment and a fixed, colourless,
/// 100-column terminal; killed after two minutes.
pub(crate) fn cmd_for(db: &Path) -> assert_cmd::Command {
    let mut std = shopchat();
    std.arg("--db")
        .arg(db)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100");
    let mut c = assert_cmd::Command::from_std(std);
    c.timeout(std::time::Duration::from_mins(2));
    c
}

/// What a run printed.
pub(crate) struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub(crate) fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Asserts success and returns stdout.
    pub(crate) fn ok(self) -> String {
        assert_eq!(
            self.code,
            Some(0),
            "failed: {}\n{}",
            self.stderr,
            self.stdout
        );
        self.stdout
    }

    /// Asserts success and parses stdout as JSON.
    pub(crate) fn json(self) -> serde_json::Value {
        let out = self.ok();
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// Asserts the CLI error shape: non-zero exit, nothing on stdout, one
    /// line on stderr starting with "error: ", no panic. Returns the line.
    pub(crate) fn err(self) -> String {
        assert_ne!(self.code, Some(0), "expected failure, got: {}", self.stdout);
        assert!(self.code.is_some(), "killed by a signal: {}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "panic: {}", self.stderr);
        assert!(!self.stderr.contains("RUST_BACKTRACE"), "{}", self.stderr);
        let line = self.stderr.trim_end();
        assert!(line.starts_with("error: "), "not an error line: {line:?}");
        assert_eq!(line.lines().count(), 1, "more than one line: {line:?}");
        line.to_string()
    }
}

/// Runs a command and collects what it printed.
pub(crate) fn run(mut c: assert_cmd::Command) -> Run {
    Run::from(c.output().expect("runs"))
}

/// Runs `shopchat --db <db> ARGS...`.
pub(crate) fn sh(db: &Db, args: &[&str]) -> Run {
    let mut c = db.cmd();
    c.args(args);
    run(c)
}
