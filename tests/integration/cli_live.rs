//! The terminal and the server on one database file at the same time:
//! CLI writes while widgets post and poll over HTTP, `watch` following the
//! stream, and `backup` taken under load.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::clikit::{cmd_for, run, BIN};
use crate::common::TestServer;
use serde_json::{json, Value};
use shopchat::http::ratelimit::RateLimiter;

/// A server without the public rate limits, so the load is real.
fn server() -> TestServer {
    TestServer::start_with(|s| {
        s.message_limiter = RateLimiter::new(0.0, 0.0);
        s.session_limiter = RateLimiter::new(0.0, 0.0);
    })
}

/// Runs the CLI on the server's database; asserts success and that no
/// writer ever saw the database locked.
fn cli(s: &TestServer, args: &[&str]) -> String {
    let mut c = cmd_for(&s.db);
    c.args(args);
    let r = run(c);
    assert!(
        !r.stderr.contains("locked") && !r.stderr.contains("busy"),
        "{args:?}: {}",
        r.stderr
    );
    r.ok()
}

fn poll(s: &TestServer, sid: &str, usid: &str, since: i64) -> Value {
    let r = s.public(
        "GET",
        &format!("/api/public/chat/sessions/{sid}/messages?since={since}"),
        Some(usid),
        None,
    );
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

#[test]
fn cli_writes_while_the_server_runs_and_widgets_see_them() {
    let s = Arc::new(server());
    let chats: Vec<(String, String)> = (0..4)
        .map(|i| {
            let (sid, usid) = s.open_chat(&format!("Покупець {i}"));
            s.visitor_says(&sid, &usid, "Добрий день!");
            (sid, usid)
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));

    // Visitors keep writing over HTTP the whole time.
    let mut writers = Vec::new();
    for (sid, usid) in chats.clone() {
        let (s, stop, failures) = (s.clone(), stop.clone(), failures.clone());
        writers.push(thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let r = s.public(
                    "POST",
                    &format!("/api/public/chat/sessions/{sid}/messages"),
                    Some(&usid),
                    Some(json!({"messageText": format!("питання {n}")})),
                );
                match r.status {
                    201 => {}
                    // The CLI closed this chat: the widget is told so.
                    409 if r.error_code() == "session_closed" => break,
                    _ => failures
                        .lock()
                        .unwrap()
                        .push(format!("{sid}: {} {}", r.status, r.text)),
                }
                thread::sleep(Duration::from_millis(5));
            }
            n
        }));
    }

    // Widgets poll by cursor until they see the manager's reply (and, for
    // the chats the CLI closes, the closed status).
    let mut pollers = Vec::new();
    for (i, (sid, usid)) in chats.clone().into_iter().enumerate() {
        let s = s.clone();
        pollers.push(thread::spawn(move || {
            let want = format!("Відповідь менеджера {i}");
            let mut cursor = 0;
            let mut seen: Option<Value> = None;
            let mut closed = false;
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline && (seen.is_none() || (i < 2 && !closed)) {
                let body = poll(&s, &sid, &usid, cursor);
                for m in body["messages"].as_array().unwrap() {
                    let seq = m["seq"].as_i64().unwrap();
                    assert!(
                        seq > cursor,
                        "a poll repeated or went back: {seq} after {cursor}"
                    );
                    cursor = seq;
                    if m["messageText"] == want.as_str() {
                        seen = Some(m.clone());
                    }
                }
                closed = body["sessionStatus"] == "closed";
                thread::sleep(Duration::from_millis(50));
            }
            (seen, closed)
        }));
    }

    // Managers at terminals, in parallel: reply, assign, close.
    let mut managers = Vec::new();
    for (i, (sid, _)) in chats.clone().into_iter().enumerate() {
        let s = s.clone();
        managers.push(thread::spawn(move || {
            thread::sleep(Duration::from_millis(100));
            let prefix = &sid[..8];
            let text = format!("Відповідь менеджера {i}");
            let v: Value =
                serde_json::from_str(&cli(&s, &["reply", prefix, &text, "--json"])).unwrap();
            assert_eq!(v["message"]["managerId"], "alice");
            cli(&s, &["assign", prefix, "alice"]);
            for k in 0..3 {
                cli(&s, &["reply", prefix, &format!("ще {k}")]);
            }
            if i < 2 {
                cli(&s, &["close", prefix]);
            }
        }));
    }
    for m in managers {
        m.join().expect("a CLI run failed");
    }
    let results: Vec<(Option<Value>, bool)> =
        pollers.into_iter().map(|p| p.join().unwrap()).collect();
    stop.store(true, Ordering::SeqCst);
    let sent: Vec<i32> = writers.into_iter().map(|w| w.join().unwrap()).collect();

    assert!(
        failures.lock().unwrap().is_empty(),
        "{:?}",
        failures.lock().unwrap()
    );
    assert!(
        sent.iter().all(|n| *n > 3),
        "visitors barely wrote: {sent:?}"
    );
    for (i, (seen, closed)) in results.iter().enumerate() {
        let m = seen
            .as_ref()
            .unwrap_or_else(|| panic!("widget {i} never saw the reply"));
        assert_eq!(m["sender"], "manager");
        assert_eq!(m["managerId"], "alice");
        assert_eq!(*closed, i < 2, "widget {i} closed status");
    }
    // The admin API sees what the terminal did.
    for (i, (sid, _)) in chats.iter().enumerate() {
        let r = s.admin("GET", &format!("/api/chat/sessions/{sid}"), None);
        assert_eq!(r.status, 200);
        assert_eq!(r.body["session"]["managerId"], "alice");
        assert_eq!(
            r.body["session"]["status"],
            if i < 2 { "closed" } else { "active" }
        );
        let replies = r.body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["sender"] == "manager")
            .count();
        assert_eq!(replies, 4);
    }
}

/// `shopchat watch ARGS` on the server's database, its stdout read line by
/// line into a channel.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Watch {
    fn start(s: &TestServer, args: &[&str]) -> Watch {
        let mut child = std::process::Command::new(BIN)
            .arg("--db")
            .arg(&s.db)
            .arg("watch")
            .args(args)
            .env("NO_COLOR", "1")
            .env("TZ", "UTC")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watch { child, lines }
    }

    fn next(&self) -> Option<String> {
        self.lines.recv_timeout(Duration::from_secs(20)).ok()
    }

    /// Ctrl-C: it stops cleanly with exit code 0.
    fn interrupt(mut self) {
        let pid = self.child.id().to_string();
        let st = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(st.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert_eq!(status.code(), Some(0), "watch did not stop cleanly");
                return;
            }
            assert!(Instant::now() < deadline, "watch ignored Ctrl-C");
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn watch_prints_every_new_message_once_in_seq_order() {
    let s = Arc::new(server());
    let (old_sid, old_usid) = s.open_chat("Давній");
    let old_seq = s.visitor_says(&old_sid, &old_usid, "до запуску watch");
    let w = Watch::start(&s, &["--json"]);
    // Give it time to read the starting point (the current max seq).
    thread::sleep(Duration::from_millis(800));

    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let mut writers = Vec::new();
    for v in 0..3 {
        let (s, acked) = (s.clone(), acked.clone());
        writers.push(thread::spawn(move || {
            let (sid, usid) = s.open_chat(&format!("Відвідувач {v}"));
            for n in 0..15 {
                let seq = s.visitor_says(&sid, &usid, &format!("повідомлення {v}-{n}"));
                acked.lock().unwrap().insert(seq);
            }
            sid
        }));
    }
    let sids: Vec<String> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let v: Value =
        serde_json::from_str(&cli(&s, &["reply", &sids[0][..8], "відповідь", "--json"])).unwrap();
    acked
        .lock()
        .unwrap()
        .insert(v["message"]["seq"].as_i64().unwrap());
    let expected = acked.lock().unwrap().clone();

    let mut printed = Vec::new();
    while printed.len() < expected.len() {
        let line = w
            .next()
            .unwrap_or_else(|| panic!("watch stopped after {printed:?}"));
        let m: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for key in [
            "id",
            "seq",
            "sessionId",
            "sender",
            "messageText",
            "managerId",
            "createdAt",
        ] {
            assert!(m.get(key).is_some(), "missing {key}: {line}");
        }
        printed.push(m["seq"].as_i64().unwrap());
    }
    assert!(
        printed.windows(2).all(|p| p[0] < p[1]),
        "out of order or doubled: {printed:?}"
    );
    assert_eq!(printed.iter().copied().collect::<BTreeSet<_>>(), expected);
    assert!(
        !printed.contains(&old_seq),
        "printed a message from before it started"
    );
    // Nothing more arrives unasked.
    assert!(w.lines.recv_timeout(Duration::from_millis(1200)).is_err());
    w.interrupt();
}

#[test]
fn watch_can_start_from_the_beginning_or_a_seq_and_reads_like_a_log() {
    let s = server();
    let (sid, usid) = s.open_chat("Олена");
    let first = s.visitor_says(&sid, &usid, "перше");
    s.visitor_says(&sid, &usid, "друге\nз двома рядками");
    cli(&s, &["reply", &sid[..6], "Вітаю!"]);

    let w = Watch::start(&s, &["--from-start"]);
    let short = &sid[..8];
    let l1 = w.next().unwrap();
    assert!(l1.ends_with(&format!("  {short}  Олена: перше")), "{l1}");
    assert_eq!(l1.as_bytes()[2], b':', "starts with the time: {l1}");
    assert!(w
        .next()
        .unwrap()
        .ends_with(&format!("  {short}  Олена: друге")));
    assert_eq!(w.next().unwrap(), "    з двома рядками");
    let l4 = w.next().unwrap();
    assert!(
        l4.ends_with(&format!("  {short}  alice → Олена: Вітаю!")),
        "{l4}"
    );
    w.interrupt();

    let w = Watch::start(&s, &["--json", "--since", &first.to_string()]);
    let m: Value = serde_json::from_str(&w.next().unwrap()).unwrap();
    assert_eq!(m["seq"], first + 1);
    w.interrupt();
}

#[test]
fn backup_under_load_is_consistent_and_holds_every_acknowledged_message() {
    let s = Arc::new(server());
    // Enough data that the copy takes a moment.
    cli(&s, &["demo-data", "--sessions", "1500", "--messages", "6"]);
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<HashMap<i64, String>>> = Arc::default();
    let mut writers = Vec::new();
    for v in 0..3 {
        let (s, stop, acked) = (s.clone(), stop.clone(), acked.clone());
        writers.push(thread::spawn(move || {
            let (sid, usid) = s.open_chat(&format!("Навантаження {v}"));
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let text = format!("load {v}-{n}");
                let seq = s.visitor_says(&sid, &usid, &text);
                acked.lock().unwrap().insert(seq, text);
            }
            n
        }));
    }
    thread::sleep(Duration::from_millis(500));
    let before: HashMap<i64, String> = acked.lock().unwrap().clone();
    let dest = s.dir.path().join("backup.db");
    let out = cli(&s, &["backup", dest.to_str().unwrap()]);
    thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    let written: Vec<i32> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    assert!(out.contains("integrity check ok"), "{out}");
    assert!(
        !before.is_empty() && written.iter().all(|n| *n > 5),
        "{written:?}"
    );

    let copy = rusqlite::Connection::open(&dest).unwrap();
    let check: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let mut missing = Vec::new();
    for (seq, text) in &before {
        let got: Option<String> = copy
            .query_row(
                "SELECT message_text FROM chat_messages WHERE seq = ?1",
                [seq],
                |r| r.get(0),
            )
            .ok();
        if got.as_deref() != Some(text.as_str()) {
            missing.push(*seq);
        }
    }
    assert!(
        missing.is_empty(),
        "acknowledged before the backup but missing: {missing:?}"
    );
    // The copy is a single file, not a WAL database that needs its -wal.
    let mode: String = copy
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    // The server kept answering throughout.
    assert_eq!(s.call("GET", "/healthz", &[], None).status, 200);
}
