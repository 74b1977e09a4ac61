//! Live chat over plain HTTP: long-polls that answer the moment something
//! happens, typing, seen, and the admin feed.

use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{wait_until, Resp, TestServer};

fn poll_path(sid: &str, query: &str) -> String {
    format!("/api/public/chat/sessions/{sid}/messages?{query}")
}

/// Starts a visitor's long-poll in the background; returns how long it
/// took and its answer.
fn long_poll(
    s: &TestServer,
    sid: &str,
    usid: &str,
    query: &str,
) -> thread::JoinHandle<(Duration, Resp)> {
    let url = format!("{}{}", s.url, poll_path(sid, query));
    let (key, usid) = (s.key.clone(), usid.to_string());
    thread::spawn(move || {
        let started = Instant::now();
        let r = crate::common::call(
            &url,
            "GET",
            &[("X-API-Key", &key), ("X-User-Session-Id", &usid)],
            None,
        );
        (started.elapsed(), r)
    })
}

/// Waits until the server holds `n` parked polls.
fn until_parked(s: &TestServer, n: usize) {
    wait_until(&format!("{n} parked polls"), Duration::from_secs(5), || {
        s.parked() >= n
    });
}

#[test]
fn a_long_poll_answers_within_100_ms_of_a_managers_reply() {
    // Timed: not beside the floods of hostile.rs.
    let _g = crate::live::heavy();
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Olena");
    let seq = s.visitor_says(&sid, &usid, "Де моє замовлення?");
    let poll = long_poll(&s, &sid, &usid, &format!("since={seq}&wait=20"));
    until_parked(&s, 1);
    let sent = Instant::now();
    let r = s.admin(
        "POST",
        &format!("/api/chat/sessions/{sid}/messages"),
        Some(json!({"messageText": "Вже в дорозі!"})),
    );
    assert_eq!(r.status, 201);
    let (_, answer) = poll.join().unwrap();
    let delivered = sent.elapsed();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["messages"][0]["messageText"], "Вже в дорозі!");
    assert_eq!(answer.body["cursor"], seq + 1);
    assert!(
        delivered < Duration::from_millis(100),
        "delivered after {delivered:?}"
    );
}

#[test]
fn a_long_poll_answers_within_300_ms_of_shopchat_reply_from_another_process() {
    // Timed: not beside the floods of hostile.rs.
    let _g = crate::live::heavy();
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Emma");
    let seq = s.visitor_says(&sid, &usid, "Do you ship to the UK?");
    let poll = long_poll(&s, &sid, &usid, &format!("since={seq}&wait=20"));
    until_parked(&s, 1);
    let mut c = crate::clikit::cmd_for(&s.db);
    c.args(["--as", "alice", "reply", &sid, "Yes, in 3 days."]);
    let out = crate::clikit::run(c);
    // Timed from the moment the command's commit is done (its exit).
    let committed = Instant::now();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let (_, answer) = poll.join().unwrap();
    let delivered = committed.elapsed();
    assert_eq!(answer.body["messages"][0]["messageText"], "Yes, in 3 days.");
    assert!(
        delivered < Duration::from_millis(300),
        "delivered {delivered:?} after the command exited"
    );
}

#[test]
fn with_nothing_new_a_long_poll_answers_after_its_wait_with_the_usual_shape() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    let seq = s.visitor_says(&sid, &usid, "hello");
    let (took, r) = long_poll(&s, &sid, &usid, &format!("since={seq}&wait=1"))
        .join()
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_millis(1500),
        "{took:?}"
    );
    assert_eq!(r.body["messages"], json!([]));
    assert_eq!(r.body["cursor"], seq);
    assert_eq!(r.body["hasMore"], false);
    assert_eq!(r.body["sessionStatus"], "active");
    assert_eq!(r.body["managerTyping"], false);
    assert_eq!(r.body["managerSeenSeq"], 0);
    // wait=0 or absent: today's immediate answer.
    let (took, r) = long_poll(&s, &sid, &usid, &format!("since={seq}"))
        .join()
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(took < Duration::from_millis(500));
    // Something newer than `since`: at once, however long the wait.
    let (took, r) = long_poll(&s, &sid, &usid, "since=0&wait=30")
        .join()
        .unwrap();
    assert!(took < Duration::from_millis(500));
    assert_eq!(r.body["messages"][0]["messageText"], "hello");
}

#[test]
fn wait_is_checked_and_a_wrong_secret_is_404_before_anything_waits() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    for bad in ["31", "-1", "soon"] {
        let (_, r) = long_poll(&s, &sid, &usid, &format!("since=0&wait={bad}"))
            .join()
            .unwrap();
        assert_eq!(r.status, 400, "wait={bad}: {r:?}");
    }
    let (took, r) = long_poll(&s, &sid, "not-the-secret-of-this-chat", "since=0&wait=30")
        .join()
        .unwrap();
    assert_eq!(r.status, 404);
    assert!(took < Duration::from_millis(500), "{took:?}");
    assert_eq!(s.parked(), 0);
}

#[test]
fn closing_the_chat_wakes_its_long_poll() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    let seq = s.visitor_says(&sid, &usid, "thanks, bye");
    let poll = long_poll(&s, &sid, &usid, &format!("since={seq}&wait=20"));
    until_parked(&s, 1);
    let r = s.admin("POST", &format!("/api/chat/sessions/{sid}/close"), None);
    assert_eq!(r.status, 200);
    let (took, answer) = poll.join().unwrap();
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(answer.body["sessionStatus"], "closed");
    assert_eq!(answer.body["messages"], json!([]));
}

fn typing(s: &TestServer, sid: &str, usid: Option<&str>, on: bool) -> Resp {
    match usid {
        Some(u) => s.public(
            "POST",
            &format!("/api/public/chat/sessions/{sid}/typing"),
            Some(u),
            Some(json!({ "typing": on })),
        ),
        None => s.admin(
            "POST",
            &format!("/api/chat/sessions/{sid}/typing"),
            Some(json!({ "typing": on })),
        ),
    }
}

#[test]
fn typing_wakes_the_other_side_and_runs_out_by_itself() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    let seq = s.visitor_says(&sid, &usid, "hi");
    let poll = long_poll(&s, &sid, &usid, &format!("since={seq}&wait=20"));
    until_parked(&s, 1);
    assert_eq!(typing(&s, &sid, None, true).status, 204);
    let (took, answer) = poll.join().unwrap();
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(answer.body["managerTyping"], true);
    let state = answer.body["state"].as_str().unwrap().to_string();
    // Passing the state back: parked until it changes, which the typing
    // running out (no "stop" sent) does by itself after a few seconds.
    let started = Instant::now();
    let (_, answer) = long_poll(
        &s,
        &sid,
        &usid,
        &format!("since={seq}&wait=20&state={state}"),
    )
    .join()
    .unwrap();
    let took = started.elapsed();
    assert_eq!(answer.body["managerTyping"], false);
    assert!(
        took > Duration::from_secs(3) && took < Duration::from_secs(10),
        "typing ran out after {took:?}"
    );
    // The manager sees the visitor type in their poll.
    assert_eq!(typing(&s, &sid, Some(&usid), true).status, 204);
    let r = s.admin(
        "GET",
        &format!("/api/chat/sessions/{sid}/messages?since={seq}"),
        None,
    );
    assert_eq!(r.body["visitorTyping"], true);
    assert_eq!(typing(&s, &sid, Some(&usid), false).status, 204);
    let r = s.admin(
        "GET",
        &format!("/api/chat/sessions/{sid}/messages?since={seq}"),
        None,
    );
    assert_eq!(r.body["visitorTyping"], false);
    // A stale state token is answered at once.
    let (took, _) = long_poll(
        &s,
        &sid,
        &usid,
        &format!("since={seq}&wait=20&state=active.1.0"),
    )
    .join()
    .unwrap();
    assert!(took < Duration::from_millis(500));
}

#[test]
fn seen_is_stored_for_both_sides_and_never_goes_backwards() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    let first = s.visitor_says(&sid, &usid, "one");
    let second = s.visitor_says(&sid, &usid, "two");
    let seen = |usid: Option<&str>, seq: Value| match usid {
        Some(u) => s.public(
            "POST",
            &format!("/api/public/chat/sessions/{sid}/seen"),
            Some(u),
            Some(json!({ "seq": seq })),
        ),
        None => s.admin(
            "POST",
            &format!("/api/chat/sessions/{sid}/seen"),
            Some(json!({ "seq": seq })),
        ),
    };
    let unread = || {
        let r = s.admin("GET", "/api/chat/sessions", None);
        r.body["sessions"][0]["unreadCount"].as_i64().unwrap()
    };
    assert_eq!(unread(), 2);
    assert_eq!(seen(None, json!(first)).status, 204);
    assert_eq!(unread(), 1);
    assert_eq!(seen(None, json!(second)).status, 204);
    assert_eq!(
        seen(None, json!(first)).status,
        204,
        "going back is ignored"
    );
    assert_eq!(unread(), 0);
    let r = s.public("GET", &poll_path(&sid, "since=0"), Some(&usid), None);
    assert_eq!(r.body["managerSeenSeq"], second);
    // Past the last message: capped at it.
    assert_eq!(seen(Some(&usid), json!(9999)).status, 204);
    let r = s.admin("GET", &format!("/api/chat/sessions/{sid}/messages"), None);
    assert_eq!(r.body["visitorSeenSeq"], second);
    // JSON does not tell 2 from 2.0; a fraction or a value past i64 is 400.
    assert_eq!(seen(Some(&usid), json!(1.0)).status, 204);
    for bad in [
        json!(-1),
        json!("two"),
        json!(null),
        json!(1.5),
        json!(9.3e18),
        json!(u64::MAX),
    ] {
        assert_eq!(seen(Some(&usid), bad.clone()).status, 400, "{bad}");
    }
    let r = s.public(
        "POST",
        &format!("/api/public/chat/sessions/{sid}/seen"),
        Some("wrong-secret-wrong-secret"),
        Some(json!({"seq": 1})),
    );
    assert_eq!(r.status, 404);
}

#[test]
fn the_feed_wakes_on_any_change_in_any_chat() {
    let s = TestServer::start();
    let r = s.admin("GET", "/api/chat/feed", None);
    assert_eq!(r.status, 200);
    let cursor = r.body["cursor"].as_i64().unwrap();
    let feed = |cursor: i64| {
        let url = format!("{}/api/chat/feed?since={cursor}&wait=20", s.url);
        let auth = format!("Bearer {}", s.token);
        thread::spawn(move || {
            let started = Instant::now();
            let r = crate::common::call(&url, "GET", &[("Authorization", &auth)], None);
            (started.elapsed(), r)
        })
    };
    // A new chat with its first message.
    let waiting = feed(cursor);
    until_parked(&s, 1);
    // (As the widget does: a chat exists for managers from its first message.)
    let (sid, _) = s.start_chat("Taras", "Добрий день");
    let (took, r) = waiting.join().unwrap();
    assert!(took < Duration::from_secs(2), "{took:?}");
    let items = r.body["sessions"].as_array().unwrap();
    assert!(items.iter().any(|i| i["id"] == sid.as_str()), "{r:?}");
    assert!(items[0].get("userSessionId").is_none_or(Value::is_null));
    let mut cursor = r.body["cursor"].as_i64().unwrap();
    // Drain anything already there (the message after the chat).
    loop {
        let r = s.admin("GET", &format!("/api/chat/feed?since={cursor}"), None);
        if r.body["sessions"].as_array().unwrap().is_empty() {
            break;
        }
        cursor = r.body["cursor"].as_i64().unwrap();
    }
    // Assign, close: each wakes it.
    for action in ["assign", "close"] {
        let waiting = feed(cursor);
        until_parked(&s, 1);
        let body = (action == "assign").then(|| json!({"managerId": "alice"}));
        assert_eq!(
            s.admin("POST", &format!("/api/chat/sessions/{sid}/{action}"), body)
                .status,
            200
        );
        let (took, r) = waiting.join().unwrap();
        assert!(took < Duration::from_secs(2), "{action}: {took:?}");
        let item = &r.body["sessions"][0];
        assert_eq!(item["id"], sid.as_str());
        if action == "close" {
            assert_eq!(item["status"], "closed");
        } else {
            assert_eq!(item["managerId"], "alice");
        }
        cursor = r.body["cursor"].as_i64().unwrap();
    }
    // Visitor typing shows in the feed too.
    let (sid2, usid2) = s.open_chat("Olha");
    s.visitor_says(&sid2, &usid2, "?");
    let r = s.admin("GET", &format!("/api/chat/feed?since={cursor}"), None);
    let state = r.body["state"].as_str().unwrap().to_string();
    cursor = r.body["cursor"].as_i64().unwrap();
    let waiting = {
        let url = format!(
            "{}/api/chat/feed?since={cursor}&wait=20&state={state}",
            s.url
        );
        let auth = format!("Bearer {}", s.token);
        thread::spawn(move || crate::common::call(&url, "GET", &[("Authorization", &auth)], None))
    };
    until_parked(&s, 1);
    assert_eq!(typing(&s, &sid2, Some(&usid2), true).status, 204);
    let r = waiting.join().unwrap();
    assert_eq!(r.body["visitorTyping"], json!([sid2]));
}

#[test]
fn two_hundred_parked_long_polls_do_not_slow_ordinary_requests() {
    // Timed: not beside the floods of hostile.rs.
    let _g = crate::live::heavy();
    let s = TestServer::start_unlimited();
    let chats: Vec<(String, String)> = (0..200).map(|i| s.open_chat(&format!("v{i}"))).collect();
    let busy = s.open_chat("busy");
    let before = time_requests(&s, &busy);
    let polls: Vec<_> = chats
        .iter()
        .map(|(sid, usid)| long_poll(&s, sid, usid, "since=0&wait=30"))
        .collect();
    until_parked(&s, 200);
    let during = time_requests(&s, &busy);
    assert!(
        during.as_secs_f64() < before.as_secs_f64() * 3.0 + 0.05,
        "50 requests took {during:?} with 200 polls waiting, {before:?} without"
    );
    drop(s);
    // Stopping the server answers every waiting poll.
    for p in polls {
        let (took, r) = p.join().unwrap();
        assert_eq!(r.status, 200, "{r:?}");
        assert!(took < Duration::from_secs(10));
    }
}

/// 50 ordinary requests (a send and a poll, 25 times), one after another.
fn time_requests(s: &TestServer, chat: &(String, String)) -> Duration {
    let started = Instant::now();
    for i in 0..25 {
        s.visitor_says(&chat.0, &chat.1, &format!("m{i}"));
        let r = s.public("GET", &poll_path(&chat.0, "since=0"), Some(&chat.1), None);
        assert_eq!(r.status, 200);
    }
    started.elapsed()
}

#[test]
fn a_fifth_tab_answers_the_oldest_and_the_room_never_refuses() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    let seq = s.visitor_says(&sid, &usid, "hi");
    let q = format!("since={seq}&wait=20");
    let tabs: Vec<_> = (0..4).map(|_| long_poll(&s, &sid, &usid, &q)).collect();
    until_parked(&s, 4);
    let started = Instant::now();
    let fifth = long_poll(&s, &sid, &usid, &q);
    // One of the first four answers at once (empty, like a timeout).
    let mut answered = None;
    while answered.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no tab answered"
        );
        answered = tabs.iter().position(std::thread::JoinHandle::is_finished);
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(s.parked(), 4);
    s.admin(
        "POST",
        &format!("/api/chat/sessions/{sid}/messages"),
        Some(json!({"messageText": "hello all"})),
    );
    for t in tabs.into_iter().chain([fifth]) {
        let (_, r) = t.join().unwrap();
        assert_eq!(r.status, 200);
    }
}

#[test]
fn watch_prints_a_message_moments_after_its_commit() {
    use std::io::BufRead;
    // Timed: not beside the floods of hostile.rs.
    let _g = crate::live::heavy();
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    let mut cmd = crate::clikit::shopchat();
    cmd.arg("--db")
        .arg(&s.db)
        .args(["watch"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // It says when it is watching (on stderr), then prints lines.
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.starts_with("Watching"), "{first}");
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send((Instant::now(), line));
        }
    });
    let mut worst = Duration::ZERO;
    for i in 0..5 {
        let text = format!("message {i}");
        s.visitor_says(&sid, &usid, &text);
        let committed = Instant::now();
        let (at, line) = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("watch printed it");
        assert!(line.contains(&text), "{line}");
        worst = worst.max(at.saturating_duration_since(committed));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(worst < Duration::from_millis(200), "slowest line {worst:?}");
}

#[test]
fn a_client_that_hangs_up_during_a_long_poll_frees_its_connection() {
    use std::io::Write;
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Gone");
    let seq = s.visitor_says(&sid, &usid, "bye, closing the tab");
    // The helper's own connections close as its clients are dropped.
    wait_until(
        "the helper's connections to close",
        Duration::from_secs(5),
        || s.open_connections() == 0,
    );
    let before = 0;
    let addr = s.url.trim_start_matches("http://").to_string();
    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        c,
        "GET {} HTTP/1.1\r\nHost: t\r\nX-API-Key: {}\r\nX-User-Session-Id: {usid}\r\n\r\n",
        poll_path(&sid, &format!("since={seq}&wait=30")),
        s.key
    )
    .unwrap();
    until_parked(&s, 1);
    assert_eq!(s.open_connections(), before + 1);
    drop(c);
    wait_until(
        "the hung-up connection to close",
        Duration::from_secs(5),
        || s.open_connections() <= before,
    );
}

#[test]
fn past_the_rooms_cap_a_long_poll_is_answered_at_once_never_refused() {
    // 24 connections: the waiting room holds at most half of them.
    let s = TestServer::start_with(|shared| {
        shared.config.max_connections = Some(24);
        shared.session_limiter = shopchat::http::ratelimit::RateLimiter::new(0.0, 0.0);
    });
    let chats: Vec<_> = (0..13).map(|i| s.open_chat(&format!("V{i}"))).collect();
    let parked: Vec<_> = chats[..12]
        .iter()
        .map(|(sid, usid)| long_poll(&s, sid, usid, "since=0&wait=20"))
        .collect();
    until_parked(&s, 12);
    let (sid, usid) = &chats[12];
    let (took, r) = long_poll(&s, sid, usid, "since=0&wait=20").join().unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.body["messages"],
        json!([]),
        "the usual shape, nothing new"
    );
    assert!(
        took < Duration::from_secs(2),
        "the room is full: answered at once, took {took:?}"
    );
    assert_eq!(s.parked(), 12, "the waiting ones keep waiting");
    // They still get their news when it comes.
    let (sid0, _) = &chats[0];
    s.admin(
        "POST",
        &format!("/api/chat/sessions/{sid0}/messages"),
        Some(json!({"messageText": "hello"})),
    );
    let mut parked = parked.into_iter();
    let (took, r) = parked.next().unwrap().join().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body["messages"][0]["messageText"], "hello");
    assert!(took < Duration::from_secs(10), "{took:?}");
    drop(s);
    for p in parked {
        let _ = p.join();
    }
}
