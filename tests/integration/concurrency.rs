//! Many writers and pollers at once: every poller sees every message exactly
//! once, in seq order, and no writer ever meets "database is locked" — also
//! while a second connection writes into the same file.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::TestServer;
use rusqlite::TransactionBehavior;
use serde_json::json;
use shopchat::store::messages::{self, NewMessage};

const SESSIONS: usize = 3;
const WRITERS: usize = 8;
const PER_WRITER: usize = 30;
const POLLERS: usize = 16;

fn run(second_connection: bool) {
    let server = Arc::new(TestServer::start_with(|shared| {
        shared.config.threads = 8;
        shared.session_limiter = shopchat::http::ratelimit::RateLimiter::new(0.0, 0.0);
        shared.message_limiter = shopchat::http::ratelimit::RateLimiter::new(0.0, 0.0);
    }));
    let chats: Arc<Vec<(String, String)>> = Arc::new(
        (0..SESSIONS)
            .map(|i| server.open_chat(&format!("v{i}")))
            .collect(),
    );
    // Acknowledged seqs per session.
    let acked: Arc<Mutex<BTreeMap<String, BTreeSet<i64>>>> = Arc::default();
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let writing = Arc::new(AtomicBool::new(true));
    // Set once every writer, HTTP and second connection, has finished.
    let finished = Arc::new(AtomicBool::new(false));

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (server, chats, acked, failures) = (
            server.clone(),
            chats.clone(),
            acked.clone(),
            failures.clone(),
        );
        writers.push(thread::spawn(move || {
            for n in 0..PER_WRITER {
                let (sid, usid) = &chats[(w + n) % SESSIONS];
                let path_pub = format!("/api/public/chat/sessions/{sid}/messages");
                let path_adm = format!("/api/chat/sessions/{sid}/messages");
                let body = json!({"messageText": format!("w{w} n{n}"), "clientMessageId": format!("w{w}-n{n}")});
                let r = if (w + n) % 2 == 0 {
                    server.public("POST", &path_pub, Some(usid), Some(body))
                } else {
                    server.admin("POST", &path_adm, Some(body))
                };
                if r.status == 201 {
                    let seq = r.body["message"]["seq"].as_i64().unwrap();
                    acked.lock().unwrap().entry(sid.clone()).or_default().insert(seq);
                } else {
                    failures.lock().unwrap().push(format!("writer {w}: {} {}", r.status, r.text));
                }
            }
        }));
    }

    // The second writer is another connection on the same file, writing
    // in its own BEGIN IMMEDIATE transactions the way another process (the
    // terminal) does: it does not share the server's in-process queue, so
    // it meets the server's writers at SQLite's lock.
    let side_writer = second_connection.then(|| {
        let (db, chats, acked, failures, writing) = (
            server.db.clone(),
            chats.clone(),
            acked.clone(),
            failures.clone(),
            writing.clone(),
        );
        thread::spawn(move || {
            let mut conn = shopchat::db::open(&db).unwrap();
            let mut n = 0;
            while writing.load(Ordering::SeqCst) || n < 20 {
                let (sid, _) = &chats[n % SESSIONS];
                let id = uuid::Uuid::new_v4().to_string();
                let now = shopchat::time::now();
                let text = format!("side {n}");
                let result = (|| -> Result<i64, rusqlite::Error> {
                    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                    let m = messages::insert(
                        &tx,
                        &NewMessage {
                            id: &id,
                            session_id: sid,
                            sender: shopchat::store::Sender::Manager,
                            text: &text,
                            manager_id: Some("alice"),
                            client_message_id: None,
                            created_at: &now,
                            auto: false,
                        },
                    )
                    .map_err(|e| match e {
                        shopchat::Error::Db(e) => e,
                        other => panic!("{other:?}"),
                    })?;
                    tx.commit()?;
                    Ok(m.seq)
                })();
                match result {
                    Ok(seq) => {
                        acked
                            .lock()
                            .unwrap()
                            .entry(sid.clone())
                            .or_default()
                            .insert(seq);
                    }
                    Err(e) => failures
                        .lock()
                        .unwrap()
                        .push(format!("second connection: {e}")),
                }
                n += 1;
                // A terminal writes now and then, not in a tight loop.
                thread::sleep(Duration::from_millis(5));
            }
            n
        })
    });

    let mut pollers = Vec::new();
    for p in 0..POLLERS {
        let (server, chats, finished) = (server.clone(), chats.clone(), finished.clone());
        pollers.push(thread::spawn(move || {
            let (sid, usid) = chats[p % SESSIONS].clone();
            let mut cursor = 0i64;
            let mut seen = Vec::new();
            let mut last_round = false;
            loop {
                let done = finished.load(Ordering::SeqCst);
                let path =
                    format!("/api/public/chat/sessions/{sid}/messages?since={cursor}&limit=7");
                let r = server.public("GET", &path, Some(&usid), None);
                assert_eq!(r.status, 200, "poller {p}: {r:?}");
                for m in r.body["messages"].as_array().unwrap() {
                    seen.push(m["seq"].as_i64().unwrap());
                }
                cursor = r.body["cursor"].as_i64().unwrap();
                if r.body["hasMore"] == true {
                    continue;
                }
                if last_round {
                    break;
                }
                last_round = done;
                thread::sleep(Duration::from_millis(5));
            }
            (sid, seen)
        }));
    }

    for w in writers {
        w.join().unwrap();
    }
    // Let the second connection overlap the HTTP writers, then stop it.
    writing.store(false, Ordering::SeqCst);
    if let Some(s) = side_writer {
        let n = s.join().unwrap();
        assert!(n >= 20, "the second connection wrote {n} messages");
    }
    finished.store(true, Ordering::SeqCst);
    let acked = acked.lock().unwrap().clone();
    assert_eq!(failures.lock().unwrap().as_slice(), &[] as &[String]);
    let total: usize = acked.values().map(BTreeSet::len).sum();
    assert!(total >= WRITERS * PER_WRITER);

    let started = Instant::now();
    for p in pollers {
        let (sid, seen) = p.join().unwrap();
        let want: Vec<i64> = acked[&sid].iter().copied().collect();
        assert_eq!(
            seen, want,
            "a poller of {sid} missed, doubled or reordered messages"
        );
    }
    assert!(started.elapsed() < Duration::from_mins(1));
}

#[test]
fn pollers_see_every_message_exactly_once_in_seq_order() {
    run(false);
}

#[test]
fn a_second_writer_on_the_same_file_causes_no_lock_errors() {
    run(true);
}
