//! The terminal and the server on one database file at the same time:
//! CLI writes while widgets post and poll over HTTP, `watch` following the
//! stream, and `backup` taken under load.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::clikit::{cmd_for, run};
use crate::common::{wait_until, TestServer};
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
    let written = Arc::new(AtomicUsize::new(0));

    // Visitors keep writing over HTTP the whole time.
    let mut writers = Vec::new();
    for (sid, usid) in chats.clone() {
        let (s, stop, failures, written) =
            (s.clone(), stop.clone(), failures.clone(), written.clone());
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
                    201 => {
                        written.fetch_add(1, Ordering::SeqCst);
                    }
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
            let deadline = Instant::now() + Duration::from_mins(1);
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
        let (s, written) = (s.clone(), written.clone());
        managers.push(thread::spawn(move || {
            // The terminal writes while the visitors already are.
            wait_until(
                "the visitors to be writing",
                Duration::from_secs(20),
                || written.load(Ordering::SeqCst) >= 8,
            );
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
/// line into a channel, and everything it said on stderr kept for the
/// failure message.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Watch {
    /// Starts `watch` and returns once it has said, on stderr, where it
    /// starts: from then on every committed message will be printed.
    fn start(s: &TestServer, args: &[&str]) -> Watch {
        let mut child = crate::clikit::shopchat()
            .arg("--db")
            .arg(&s.db)
            .arg("watch")
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
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
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let kept = stderr.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n @ 1..) = err.read(&mut buf) {
                kept.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let w = Watch {
            child,
            lines,
            stderr,
        };
        wait_until(
            "watch to say where it starts",
            Duration::from_secs(20),
            || w.stderr.lock().unwrap().contains("Watching "),
        );
        w
    }

    fn next(&self) -> Option<String> {
        let line = self.lines.recv_timeout(Duration::from_secs(20)).ok();
        if line.is_none() {
            eprintln!("watch's stderr: {}", self.stderr.lock().unwrap());
        }
        line
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
    // Nothing more arrives unasked: the next line is the next message,
    // written now. A late duplicate would have to come before it.
    let (sid, usid) = s.open_chat("Останній");
    let last = s.visitor_says(&sid, &usid, "останнє");
    let line = w.next().expect("the last message");
    let m: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(m["seq"], last, "something came before it: {line}");
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
    let counts: Arc<[AtomicUsize; 3]> = Arc::default();
    let mut writers = Vec::new();
    for v in 0..3 {
        let (s, stop, acked, counts) = (s.clone(), stop.clone(), acked.clone(), counts.clone());
        writers.push(thread::spawn(move || {
            let (sid, usid) = s.open_chat(&format!("Навантаження {v}"));
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let text = format!("load {v}-{n}");
                let seq = s.visitor_says(&sid, &usid, &text);
                acked.lock().unwrap().insert(seq, text);
                counts[v].fetch_add(1, Ordering::SeqCst);
            }
            n
        }));
    }
    // Each writer is writing when the backup starts, and keeps writing
    // after it ends.
    let each_wrote = |n: usize| counts.iter().all(|c| c.load(Ordering::SeqCst) >= n);
    wait_until(
        "every writer to be writing",
        Duration::from_secs(20),
        || each_wrote(3),
    );
    let before: HashMap<i64, String> = acked.lock().unwrap().clone();
    let dest = s.dir.path().join("backup.db");
    let out = cli(&s, &["backup", dest.to_str().unwrap()]);
    let during: Vec<usize> = counts.iter().map(|c| c.load(Ordering::SeqCst)).collect();
    wait_until("writes after the backup", Duration::from_secs(20), || {
        counts
            .iter()
            .zip(&during)
            .all(|(c, d)| c.load(Ordering::SeqCst) >= d + 3)
    });
    stop.store(true, Ordering::SeqCst);
    let written: Vec<i32> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    assert!(out.contains("integrity check ok"), "{out}");
    assert!(
        !before.is_empty() && written.iter().all(|n| *n >= 6),
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
