//! Many writers and pollers at once: every poller sees every message exactly
//! once, in seq order, and no writer ever meets "database is locked" — also
//! while a second connection writes into the same file.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::TestServer;
use serde_json::json;
use shopchat::chat::{self, Author, NoNotify};

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
            while writing.load(Ordering::SeqCst) {
                let (sid, _) = &chats[n % SESSIONS];
                match chat::post_message(
                    &mut conn,
                    &NoNotify,
                    sid,
                    Author::Manager("alice"),
                    &format!("side {n}"),
                    None,
                ) {
                    Ok((m, _)) => {
                        acked
                            .lock()
                            .unwrap()
                            .entry(sid.clone())
                            .or_default()
                            .insert(m.seq);
                    }
                    Err(e) => failures
                        .lock()
                        .unwrap()
                        .push(format!("second connection: {e:?}")),
                }
                n += 1;
            }
            n
        })
    });

    let mut pollers = Vec::new();
    for p in 0..POLLERS {
        let (server, chats, writing) = (server.clone(), chats.clone(), writing.clone());
        pollers.push(thread::spawn(move || {
            let (sid, usid) = chats[p % SESSIONS].clone();
            let mut cursor = 0i64;
            let mut seen = Vec::new();
            let mut last_round = false;
            loop {
                let done = !writing.load(Ordering::SeqCst);
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
        assert!(n > 0, "the second connection wrote nothing");
    }
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
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn pollers_see_every_message_exactly_once_in_seq_order() {
    run(false);
}

#[test]
fn a_second_writer_on_the_same_file_causes_no_lock_errors() {
    run(true);
}
