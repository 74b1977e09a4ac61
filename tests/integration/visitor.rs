//! No visitor lost: chats start with the first message, away hours and the
//! auto-reply, returning visitors, reopen (API, terminal, Telegram), the
//! shop's time zone, and the small bugs of issue 9.

use std::time::Duration;

use chrono::{Datelike, Utc};
use serde_json::{json, Value};

use crate::clikit::{sh, Db, ANNA, OLENA};
use crate::common::TestServer;
use crate::telegram_fake::{eventually, message, quiet_period, stays, Harness};

fn settings(db: &std::path::Path, key: &str, value: &str) {
    let mut conn = shopchat::db::open(db).unwrap();
    shopchat::store::write(&mut conn, |tx| shopchat::shop::set(tx, key, value)).unwrap();
}

/// Hours that are surely closed now: one minute on a day that is not today.
fn closed_hours() -> String {
    let tomorrow = (Utc::now() + chrono::Duration::days(2)).weekday();
    format!("{} 03:00-03:01", &tomorrow.to_string()[..3].to_lowercase())
}

fn messages(s: &TestServer, sid: &str, usid: &str) -> Value {
    let r = s.public(
        "GET",
        &format!("/api/public/chat/sessions/{sid}/messages"),
        Some(usid),
        None,
    );
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

#[test]
fn the_first_message_opens_the_chat_and_nothing_exists_before_it() {
    let s = TestServer::start();
    assert_eq!(s.admin("GET", "/api/chat/sessions", None).body["total"], 0);
    let r = s.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(json!({"messageText": "  Do you ship to Lviv? ", "clientMessageId": "m1"})),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let sid = r.body["session"]["id"].as_str().unwrap().to_string();
    let usid = r.body["session"]["userSessionId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(r.body["message"]["messageText"], "Do you ship to Lviv?");
    assert_eq!(r.body["message"]["sessionId"], sid.as_str());
    // A retry (the answer was lost) makes neither a second chat nor message.
    let again = s.public(
        "POST",
        "/api/public/chat/sessions",
        Some(&usid),
        Some(json!({"userSessionId": usid, "messageText": "Do you ship to Lviv?", "clientMessageId": "m1"})),
    );
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.body["session"]["id"], sid.as_str());
    assert_eq!(
        messages(&s, &sid, &usid)["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let list = s.admin("GET", "/api/chat/sessions", None).body;
    assert_eq!(list["total"], 1);
    assert_eq!(list["sessions"][0]["awaitingReply"], true);

    // An old client's empty chat exists for the visitor but is never listed,
    // not in the list and not in the admin feed.
    let (empty, _) = s.open_chat("Nobody yet");
    assert_eq!(s.admin("GET", "/api/chat/sessions", None).body["total"], 1);
    let feed = s.admin("GET", "/api/chat/feed?since=0", None).body;
    let ids: Vec<&str> = feed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [sid.as_str()], "{feed}");
    assert!(!ids.contains(&empty.as_str()));
    assert_eq!(
        s.admin("GET", "/api/chat/stats", None).body["sessions"]["total"],
        1
    );
    // A first message that breaks the rules opens nothing.
    let r = s.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(json!({"messageText": "   "})),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        s.admin("GET", "/api/chat/sessions?status=all", None).body["total"],
        1
    );
}

#[test]
fn a_new_chat_makes_one_notification_that_carries_its_first_message() {
    let h = Harness::start(&["-1001"]);
    let r = h.server.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(json!({"userName": "Olena", "messageText": "Is the linen shirt in stock?"})),
    );
    assert_eq!(r.status, 201);
    // An old client: the empty chat is announced by nothing at all ...
    let (sid, usid) = h.server.open_chat("Taras");
    assert!(h.fake.wait_for(Duration::from_secs(10), |sent| sent
        .iter()
        .any(|m| m.text.contains("Is the linen shirt in stock?"))));
    // ... until its first message, which is its "new chat" notification.
    h.server.visitor_says(&sid, &usid, "Hello?");
    h.server.visitor_says(&sid, &usid, "Anyone?");
    assert!(h.fake.wait_for(Duration::from_secs(10), |sent| sent
        .iter()
        .any(|m| m.text.contains("Anyone?"))));
    let check = || {
        let sent = h.fake.sent();
        let new: Vec<_> = sent
            .iter()
            .filter(|m| m.text.contains("New chat"))
            .collect();
        new.len() == 2
            && new.iter().any(|m| {
                m.text.contains("Olena") && m.text.contains("Is the linen shirt in stock?")
            })
            && new
                .iter()
                .any(|m| m.text.contains("Taras") && m.text.contains("Hello?"))
            && !sent
                .iter()
                .any(|m| m.text.contains("New chat") && !m.text.contains('?'))
    };
    assert!(stays(quiet_period(), check), "{:#?}", h.fake.sent());
}

#[test]
fn outside_the_hours_the_chat_gets_one_auto_reply_and_stays_awaiting() {
    let s = TestServer::start();
    settings(&s.db, "timezone", "Europe/Kyiv");
    settings(&s.db, "hours", &closed_hours());
    settings(
        &s.db,
        "away-reply",
        "We are closed now; leave your email and we reply there.",
    );
    let st = s.public("GET", "/api/public/chat/status", None, None);
    assert_eq!(st.status, 200, "{st:?}");
    assert_eq!(st.body["open"], false);
    assert_eq!(st.body["timezone"], "Europe/Kyiv");
    assert!(st.body["opensAt"].as_str().unwrap().ends_with('Z'));

    let (sid, usid) = s.start_chat("Olena", "Hello?");
    s.visitor_says(&sid, &usid, "Still there?");
    let poll = messages(&s, &sid, &usid);
    let msgs = poll["messages"].as_array().unwrap();
    let autos: Vec<&Value> = msgs.iter().filter(|m| m["auto"] == true).collect();
    assert_eq!(autos.len(), 1, "{msgs:#?}");
    assert_eq!(autos[0]["sender"], "manager");
    assert_eq!(autos[0]["managerId"], Value::Null);
    assert_eq!(
        autos[0]["messageText"],
        "We are closed now; leave your email and we reply there."
    );
    assert_eq!(poll["away"], true);
    // Not an answer: the chat still waits for a person.
    let list = s
        .admin("GET", "/api/chat/sessions?awaitingReply=true", None)
        .body;
    assert_eq!(list["total"], 1);
    assert_eq!(
        list["sessions"][0]["lastMessage"]["messageText"],
        "Still there?"
    );
    // The visitor leaves an email.
    let r = s.public(
        "POST",
        &format!("/api/public/chat/sessions/{sid}/contact"),
        Some(&usid),
        Some(json!({"userEmail": "olena@example.com"})),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["session"]["userEmail"], "olena@example.com");
    let bad = s.public(
        "POST",
        &format!("/api/public/chat/sessions/{sid}/contact"),
        Some(&usid),
        Some(json!({"userEmail": "olena at example"})),
    );
    assert_eq!(bad.status, 400);
}

#[test]
fn nobody_answering_within_the_away_minutes_posts_the_auto_reply_once() {
    let s = TestServer::start();
    settings(&s.db, "away-after", "10");
    let (sid, usid) = s.start_chat("Olena", "Hello?");
    let (answered, ausid) = s.start_chat("Taras", "Hi");
    s.admin(
        "POST",
        &format!("/api/chat/sessions/{answered}/messages"),
        Some(json!({"messageText": "Hello Taras!"})),
    );
    let mut conn = shopchat::db::open(&s.db).unwrap();
    let now = Utc::now();
    assert_eq!(
        shopchat::chat::away_sweep(&mut conn, now).unwrap(),
        0,
        "not yet"
    );
    let later = now + chrono::Duration::minutes(11);
    assert_eq!(shopchat::chat::away_sweep(&mut conn, later).unwrap(), 1);
    assert_eq!(
        shopchat::chat::away_sweep(&mut conn, later).unwrap(),
        0,
        "once"
    );
    s.visitor_says(&sid, &usid, "Hello??");
    let much_later = now + chrono::Duration::minutes(30);
    assert_eq!(
        shopchat::chat::away_sweep(&mut conn, much_later).unwrap(),
        0,
        "once per chat"
    );
    let poll = messages(&s, &sid, &usid);
    let autos = poll["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["auto"] == true)
        .count();
    assert_eq!((autos, poll["away"].clone()), (1, json!(true)));
    assert_eq!(messages(&s, &answered, &ausid)["away"], false);
}

#[test]
fn a_returning_visitor_keeps_their_details_and_their_chats_are_linked() {
    let s = TestServer::start();
    let r = s.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(json!({"userName": "Olena", "userPhone": "+380 67 123", "userEmail": "o@example.com", "messageText": "First question"})),
    );
    let first = r.body["session"]["id"].as_str().unwrap().to_string();
    let usid = r.body["session"]["userSessionId"]
        .as_str()
        .unwrap()
        .to_string();
    s.admin("POST", &format!("/api/chat/sessions/{first}/close"), None);
    // Days later, from the same browser (the same visitor id).
    let r = s.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(json!({"userSessionId": usid, "messageText": "Another question"})),
    );
    assert_eq!(r.status, 201);
    let second = r.body["session"]["id"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    assert_eq!(r.body["session"]["userName"], "Olena");
    assert_eq!(r.body["session"]["userPhone"], "+380 67 123");
    assert_eq!(r.body["session"]["userEmail"], "o@example.com");
    let page = s
        .admin("GET", &format!("/api/chat/sessions/{second}"), None)
        .body;
    let earlier = page["visitorChats"].as_array().unwrap();
    assert_eq!(earlier.len(), 1, "{page}");
    assert_eq!(earlier[0]["id"], first.as_str());
    assert_eq!(earlier[0]["lastMessage"]["messageText"], "First question");
    assert_eq!(earlier[0]["userSessionId"], Value::Null);
    let back = s
        .admin("GET", &format!("/api/chat/sessions/{first}"), None)
        .body;
    assert_eq!(back["visitorChats"][0]["id"], second.as_str());
}

#[test]
fn reopen_over_the_api_and_not_while_the_visitor_has_another_open_chat() {
    let s = TestServer::start_unlimited();
    let (sid, usid) = s.start_chat("Olena", "Hi");
    let path = format!("/api/chat/sessions/{sid}/reopen");
    let r = s.admin("POST", &path, None);
    assert_eq!(
        (r.status, r.body["session"]["status"].clone()),
        (200, json!("active"))
    );
    s.admin("POST", &format!("/api/chat/sessions/{sid}/close"), None);
    let r = s.admin("POST", &path, None);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["session"]["status"], "active");
    assert_eq!(messages(&s, &sid, &usid)["sessionStatus"], "active");
    s.visitor_says(&sid, &usid, "Thanks for reopening");
    // The visitor moved on to a new chat: the old one cannot be reopened.
    s.admin("POST", &format!("/api/chat/sessions/{sid}/close"), None);
    let r = s.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(json!({"userSessionId": usid, "messageText": "New question"})),
    );
    assert_eq!(r.status, 201);
    let r = s.admin("POST", &path, None);
    assert_eq!((r.status, r.error_code()), (409, "conflict"));
    let bad = s.admin(
        "POST",
        "/api/chat/sessions/00000000-0000-4000-8000-000000000000/reopen",
        None,
    );
    assert_eq!(bad.status, 404);
    assert_eq!(
        s.call("POST", &path, &[], None).status,
        401,
        "managers only"
    );
}

#[test]
fn reopen_from_the_terminal() {
    let db = Db::fixture();
    let out = sh(&db, &["reopen", "7b1c"]).ok();
    assert_eq!(
        out.trim(),
        "Reopened chat 7b1c0e2d (Anna Nowak); the visitor can write in it again."
    );
    assert_eq!(
        sh(&db, &["show", ANNA, "--json"]).json()["session"]["status"],
        "active"
    );
    let out = sh(&db, &["reopen", "7b1c"]).ok();
    assert!(out.contains("already open"), "{out}");
    let v = sh(&db, &["reopen", "3f2a8c", "--json"]).json();
    assert_eq!(v["session"]["id"], OLENA);
}

#[test]
fn reopen_from_telegram() {
    let h = Harness::start(&["-1001"]);
    h.link_alice(777);
    let (sid, usid) = h.server.start_chat("Olena", "Do you ship to Lviv?");
    assert!(h.fake.wait_for(Duration::from_secs(10), |s| s
        .iter()
        .any(|m| m.text.contains("Do you ship to Lviv?"))));
    let note = h.fake.sent()[0].message_id;
    assert!(eventually(Duration::from_secs(10), || h
        .outbox()
        .iter()
        .any(|r| r.telegram_message_id == Some(note))));
    h.server
        .admin("POST", &format!("/api/chat/sessions/{sid}/close"), None);
    let id = h.fake.next_message_id();
    h.fake
        .push_update(message(-1001, 777, id, "/reopen", Some(note)));
    assert!(eventually(Duration::from_secs(10), || h
        .visitor_poll(&sid, &usid)
        .1
        == "active"));
    assert!(h.fake.wait_for(Duration::from_secs(10), |s| s
        .iter()
        .any(|m| m.reply_to == Some(id) && m.text.contains("is open again"))));
    // And by id, as /reopen ID.
    h.server
        .admin("POST", &format!("/api/chat/sessions/{sid}/close"), None);
    let id2 = h.fake.next_message_id();
    h.fake.push_update(message(
        -1001,
        777,
        id2,
        &format!("/reopen {}", &sid[..8]),
        None,
    ));
    assert!(eventually(Duration::from_secs(10), || h
        .visitor_poll(&sid, &usid)
        .1
        == "active"));
}

#[test]
fn stats_count_the_day_in_the_shops_time_zone() {
    let s = TestServer::start();
    settings(&s.db, "timezone", "Europe/Kyiv");
    let (sid, _) = s.start_chat("Olena", "today in Kyiv");
    // Put two messages on either side of Kyiv's midnight.
    let shop = {
        let conn = shopchat::db::open(&s.db).unwrap();
        shopchat::shop::Shop::load(&conn).unwrap()
    };
    let midnight = shop.day_start(Utc::now());
    let conn = shopchat::db::open(&s.db).unwrap();
    for (n, at) in [
        (1, midnight + chrono::Duration::seconds(1)),
        (2, midnight - chrono::Duration::seconds(1)),
    ] {
        conn.execute(
            "INSERT INTO chat_messages (seq, id, session_id, sender, message_text, created_at)
             VALUES ((SELECT last + 1 FROM message_seq), ?1, ?2, 'user', 'x', ?3)",
            rusqlite::params![
                format!("00000000-0000-4000-8000-00000000000{n}"),
                sid,
                shopchat::time::format(at)
            ],
        )
        .unwrap();
        conn.execute("UPDATE message_seq SET last = last + 1", [])
            .unwrap();
    }
    let st = s.admin("GET", "/api/chat/stats", None).body;
    // The chat's first message and the one just after Kyiv's midnight.
    assert_eq!(st["today"]["messages"], 2, "{st}");
    let mut c = crate::clikit::cmd_for(&s.db);
    c.arg("stats");
    let out = crate::clikit::run(c).ok();
    assert!(out.contains("since 00:00 Europe/Kyiv"), "{out}");
}

#[test]
fn a_removed_manager_keeps_their_name_on_their_messages() {
    let db = Db::fixture();
    // bob answered Anna; carol never wrote.
    sh(&db, &["managers", "add", "carol"]).ok();
    let out = sh(&db, &["managers", "remove", "bob"]).ok();
    assert!(out.contains("deactivated"), "{out}");
    let out = sh(&db, &["managers", "remove", "carol"]).ok();
    assert!(out.contains("removed"), "{out}");
    let show = sh(&db, &["show", ANNA, "--json"]).json();
    let by_bob: Vec<&Value> = show["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["sender"] == "manager")
        .collect();
    assert!(
        !by_bob.is_empty() && by_bob.iter().all(|m| m["managerId"] == "bob"),
        "{show}"
    );
    let text = sh(&db, &["show", ANNA]).ok();
    assert!(text.contains("bob"), "{text}");
    let list = sh(&db, &["managers", "list", "--json"]).json();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["alice", "bob"]);
    // bob can no longer act, nor be assigned.
    let e = sh(&db, &["--as", "bob", "reply", OLENA, "hi"]).err();
    assert!(e.contains("was removed"), "{e}");
    let e = sh(&db, &["assign", OLENA, "bob"]).err();
    assert!(e.contains("unknown manager 'bob'"), "{e}");
    let again = sh(&db, &["managers", "remove", "bob"]).err();
    assert!(again.contains("no manager 'bob'"), "{again}");
}

#[test]
fn sessions_json_into_a_closed_pipe_ends_quietly() {
    let db = Db::fixture();
    sh(&db, &["demo-data", "--sessions", "300"]).ok();
    let mut child = crate::clikit::shopchat()
        .args([
            "--db",
            db.path.to_str().unwrap(),
            "sessions",
            "--json",
            "--limit",
            "300",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -c 10`: read a little, then close the pipe.
    {
        use std::io::Read;
        let mut out = child.stdout.take().unwrap();
        let mut buf = [0u8; 10];
        out.read_exact(&mut buf).unwrap();
    }
    let status = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&status.stderr);
    assert!(!err.contains("Broken pipe"), "{err}");
    assert_eq!(status.status.code(), Some(0), "{err}");
}

#[test]
fn the_legacy_form_takes_the_key_as_a_form_field() {
    let s = TestServer::start();
    let body = format!(
        "apiKey={}&name=Olena&phone=%2B380671234567&message=Call+me+back",
        s.key
    );
    let r = s.call(
        "POST",
        "/api/public/chat/notify",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(&body),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["ok"], true);
    let list = s.admin("GET", "/api/chat/sessions", None).body;
    assert_eq!(
        list["sessions"][0]["lastMessage"]["messageText"],
        "Call me back"
    );
    let wrong = s.call(
        "POST",
        "/api/public/chat/notify",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some("apiKey=sck_wrong&message=hi"),
    );
    assert_eq!(wrong.status, 401);
}

#[test]
fn usage_lines_do_not_make_db_look_required() {
    let db = Db::fixture();
    let r = sh(&db, &["show", "--db", db.path.to_str().unwrap()]);
    assert_eq!(r.code, Some(2));
    let e = r.stderr;
    let usage = e
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .unwrap_or_default();
    assert_eq!(usage, "Usage: shopchat show <ID>", "{e}");
}

#[test]
fn settings_are_shown_set_checked_and_unset() {
    let db = Db::fixture();
    let out = sh(&db, &["settings", "set", "hours", "Mon-Fri", "9:00-18:00"]).ok();
    assert_eq!(
        out.trim(),
        "hours = mon 09:00-18:00, tue 09:00-18:00, wed 09:00-18:00, thu 09:00-18:00, fri 09:00-18:00"
    );
    let e = sh(&db, &["settings", "set", "timezone", "Kyiv"]).err();
    assert!(e.contains("not an IANA time zone"), "{e}");
    sh(&db, &["settings", "set", "timezone", "Europe/Kyiv"]).ok();
    let v = sh(&db, &["settings", "show", "--json"]).json();
    assert_eq!(v["timezone"]["effective"], "Europe/Kyiv");
    assert_eq!(v["away-after"]["value"], Value::Null);
    sh(&db, &["settings", "unset", "timezone"]).ok();
    let v = sh(&db, &["settings", "show", "--json"]).json();
    assert_eq!(v["timezone"]["effective"], "UTC");
    // The terminal shows times in the shop's zone: Olena wrote at 09:05 UTC.
    sh(&db, &["settings", "set", "timezone", "Asia/Tokyo"]).ok();
    let out = sh(&db, &["show", OLENA]).ok();
    assert!(out.contains("18:05"), "{out}");
}
