//! The admin API over real HTTP: listing, search, transcripts, replies,
//! close, assign, managers, stats, and authentication.

use crate::common::TestServer;
use serde_json::{json, Value};

fn sessions(s: &TestServer, query: &str) -> (Vec<Value>, i64) {
    let r = s.admin("GET", &format!("/api/chat/sessions{query}"), None);
    assert_eq!(r.status, 200, "{query}: {r:?}");
    (
        r.body["sessions"].as_array().unwrap().clone(),
        r.body["total"].as_i64().unwrap(),
    )
}

fn names(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|s| s["userName"].as_str().unwrap_or("").to_string())
        .collect()
}

fn open_with_phone(s: &TestServer, name: &str, phone: &str) -> (String, String) {
    let r = s.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(json!({"userName": name, "userPhone": phone, "messageText": "hi"})),
    );
    assert_eq!(r.status, 201);
    (
        r.body["session"]["id"].as_str().unwrap().into(),
        r.body["session"]["userSessionId"].as_str().unwrap().into(),
    )
}

#[test]
fn the_list_shows_newest_activity_first_with_last_message_and_counts() {
    let s = TestServer::start_unlimited();
    let (a, ua) = s.open_chat("Ann");
    let (b, ub) = s.open_chat("Bob");
    let (_c, _) = s.open_chat("Cid");
    s.visitor_says(&b, &ub, "hi from Bob");
    s.visitor_says(&a, &ua, "first from Ann");
    s.visitor_says(&a, &ua, "second from Ann");

    let (list, total) = sessions(&s, "");
    // Cid never wrote: a chat without a message is never listed.
    assert_eq!(total, 2);
    assert_eq!(names(&list), ["Ann", "Bob"]);
    let ann = &list[0];
    assert_eq!(ann["messageCount"], 2);
    assert_eq!(ann["awaitingReply"], true);
    assert_eq!(ann["lastMessage"]["messageText"], "second from Ann");
    assert_eq!(
        ann["userSessionId"],
        Value::Null,
        "managers never see the visitor's secret"
    );

    // A manager reply clears the awaiting mark and moves the chat up.
    let r = s.admin(
        "POST",
        &format!("/api/chat/sessions/{b}/messages"),
        Some(json!({"messageText": "Hello Bob"})),
    );
    assert_eq!(r.status, 201);
    let (list, _) = sessions(&s, "");
    assert_eq!(names(&list)[0], "Bob");
    assert_eq!(list[0]["awaitingReply"], false);
    let (awaiting, n) = sessions(&s, "?awaitingReply=true");
    assert_eq!((names(&awaiting), n), (vec!["Ann".to_string()], 1));
    let (not_awaiting, _) = sessions(&s, "?awaitingReply=false");
    assert_eq!(names(&not_awaiting), ["Bob"]);
}

#[test]
fn search_matches_names_case_insensitively_and_phones_by_digits() {
    let s = TestServer::start_unlimited();
    open_with_phone(&s, "Олена Коваль", "+380 (67) 123-45-67");
    open_with_phone(&s, "Anna Nowak", "+48 600 700 800");
    open_with_phone(&s, "Bob", "");
    let cases = [
        ("олена", vec!["Олена Коваль"]),
        ("ОЛЕНА", vec!["Олена Коваль"]),
        ("anna", vec!["Anna Nowak"]),
        ("NOWAK", vec!["Anna Nowak"]),
        ("%2B380%2067", vec!["Олена Коваль"]),
        ("38067", vec!["Олена Коваль"]),
        ("600-700", vec!["Anna Nowak"]),
        ("nobody", vec![]),
        ("%25", vec![]),
        ("_", vec![]),
    ];
    for (q, want) in cases {
        let (list, total) = sessions(&s, &format!("?search={q}"));
        assert_eq!(names(&list), want, "search={q}");
        assert_eq!(total as usize, want.len());
    }
}

#[test]
fn filters_by_status_and_manager_and_pages_with_total() {
    let s = TestServer::start_unlimited();
    let ids: Vec<String> = (0..7)
        .map(|i| s.start_chat(&format!("v{i}"), "hello").0)
        .collect();
    s.admin(
        "POST",
        &format!("/api/chat/sessions/{}/close", ids[0]),
        None,
    );
    s.admin(
        "POST",
        &format!("/api/chat/sessions/{}/close", ids[1]),
        None,
    );
    let r = s.admin(
        "POST",
        &format!("/api/chat/sessions/{}/assign", ids[2]),
        Some(json!({"managerId": "alice"})),
    );
    assert_eq!(r.status, 200);

    assert_eq!(sessions(&s, "?status=closed").1, 2);
    assert_eq!(sessions(&s, "?status=active").1, 5);
    assert_eq!(sessions(&s, "?status=all").1, 7);
    assert_eq!(sessions(&s, "?status=archived").1, 0);
    assert_eq!(sessions(&s, "?managerId=alice").1, 1);
    assert_eq!(sessions(&s, "?managerId=none").1, 6);
    assert_eq!(sessions(&s, "?status=active&managerId=none").1, 4);

    let mut seen = Vec::new();
    for offset in (0..7).step_by(3) {
        let (page, total) = sessions(&s, &format!("?limit=3&offset={offset}"));
        assert_eq!(total, 7);
        seen.extend(page.iter().map(|p| p["id"].as_str().unwrap().to_string()));
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 7, "pages cover every chat once: {seen:?}");

    for bad in [
        "?status=open",
        "?limit=0",
        "?limit=x",
        "?offset=-1",
        "?awaitingReply=maybe",
    ] {
        let r = s.admin("GET", &format!("/api/chat/sessions{bad}"), None);
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.error_code(), "bad_request");
    }
    let long = "x".repeat(101);
    assert_eq!(
        s.admin("GET", &format!("/api/chat/sessions?search={long}"), None)
            .status,
        400
    );
    // Over the maximum is capped, not refused.
    assert_eq!(sessions(&s, "?limit=1000").0.len(), 7);
}

#[test]
fn a_manager_reads_the_transcript_and_replies_to_the_visitor() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    s.visitor_says(&sid, &usid, "Is the red one in stock?");
    let r = s.admin(
        "POST",
        &format!("/api/chat/sessions/{sid}/messages"),
        Some(json!({"messageText": "Yes, ships today", "clientMessageId": "m-1"})),
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["message"]["sender"], "manager");
    assert_eq!(r.body["message"]["managerId"], "alice");
    let detail = s.admin("GET", &format!("/api/chat/sessions/{sid}"), None);
    assert_eq!(
        detail.body["session"]["managerId"], "alice",
        "the first to answer takes the chat"
    );
    let retry = s.admin(
        "POST",
        &format!("/api/chat/sessions/{sid}/messages"),
        Some(json!({"messageText": "Yes, ships today", "clientMessageId": "m-1"})),
    );
    assert_eq!(retry.status, 200);
    assert_eq!(retry.body["message"]["id"], r.body["message"]["id"]);

    let detail = s.admin("GET", &format!("/api/chat/sessions/{sid}"), None);
    assert_eq!(detail.status, 200);
    assert_eq!(detail.body["session"]["id"], sid.as_str());
    assert_eq!(detail.body["session"]["userSessionId"], Value::Null);
    let msgs = detail.body["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2);
    assert!(msgs[0]["seq"].as_i64() < msgs[1]["seq"].as_i64());

    // The visitor sees the reply.
    let poll = s.public(
        "GET",
        &format!("/api/public/chat/sessions/{sid}/messages"),
        Some(&usid),
        None,
    );
    assert_eq!(poll.body["messages"][1]["messageText"], "Yes, ships today");

    // The admin poll works like the public one, without the secret.
    let seq1 = msgs[0]["seq"].as_i64().unwrap();
    let p = s.admin(
        "GET",
        &format!("/api/chat/sessions/{sid}/messages?since={seq1}"),
        None,
    );
    assert_eq!(p.status, 200);
    assert_eq!(p.body["messages"].as_array().unwrap().len(), 1);
    assert_eq!(p.body["sessionStatus"], "active");
}

#[test]
fn close_is_idempotent_and_stops_replies() {
    let s = TestServer::start();
    let (sid, _) = s.open_chat("Ann");
    let first = s.admin("POST", &format!("/api/chat/sessions/{sid}/close"), None);
    assert_eq!(first.status, 200);
    assert_eq!(first.body["session"]["status"], "closed");
    let again = s.admin(
        "POST",
        &format!("/api/chat/sessions/{sid}/close"),
        Some(json!({})),
    );
    assert_eq!(again.status, 200);
    assert_eq!(
        again.body["session"]["updatedAt"],
        first.body["session"]["updatedAt"]
    );
    let r = s.admin(
        "POST",
        &format!("/api/chat/sessions/{sid}/messages"),
        Some(json!({"messageText": "too late"})),
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.error_code(), "session_closed");
}

#[test]
fn assign_and_unassign_and_unknown_managers() {
    let s = TestServer::start();
    let (sid, _) = s.open_chat("Ann");
    let path = format!("/api/chat/sessions/{sid}/assign");
    let r = s.admin("POST", &path, Some(json!({"managerId": "alice"})));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["session"]["managerId"], "alice");
    assert!(r.body["session"]["updatedAt"].as_str() > r.body["session"]["createdAt"].as_str());
    let r = s.admin("POST", &path, Some(json!({"managerId": null})));
    assert_eq!(r.body["session"]["managerId"], Value::Null);
    let r = s.admin("POST", &path, Some(json!({"managerId": "mallory"})));
    assert_eq!(r.status, 400);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("alice"));
    for bad in [json!({}), json!({"managerId": 7})] {
        assert_eq!(s.admin("POST", &path, Some(bad)).status, 400);
    }
}

#[test]
fn managers_and_me_show_no_secrets() {
    let s = TestServer::start();
    let mut conn = shopchat::db::open(&s.db).unwrap();
    let bob = shopchat::accounts::add_manager(&mut conn, "bob", Some("Bob B."), Some(42)).unwrap();
    let r = s.admin("GET", "/api/chat/managers", None);
    assert_eq!(
        r.body,
        json!({"managers": [{"id": "alice", "displayName": "Alice", "active": true}, {"id": "bob", "displayName": "Bob B.", "active": true}]})
    );
    let me = s.admin_as(&bob, "GET", "/api/chat/me", None);
    assert_eq!(
        me.body,
        json!({"manager": {"id": "bob", "displayName": "Bob B.", "active": true}, "shop": {"timezone": "UTC"}})
    );
}

#[test]
fn stats_count_sessions_messages_and_first_response() {
    let s = TestServer::start_unlimited();
    let (a, ua) = s.open_chat("Ann");
    let (b, ub) = s.open_chat("Bob");
    let (c, uc) = s.open_chat("Cid");
    let _empty = s.open_chat("Dan");
    s.visitor_says(&a, &ua, "hi");
    s.visitor_says(&b, &ub, "hello");
    s.visitor_says(&c, &uc, "bye");
    s.admin(
        "POST",
        &format!("/api/chat/sessions/{a}/messages"),
        Some(json!({"messageText": "hey"})),
    );
    s.admin(
        "POST",
        &format!("/api/chat/sessions/{a}/assign"),
        Some(json!({"managerId": "alice"})),
    );
    s.admin("POST", &format!("/api/chat/sessions/{c}/close"), None);

    let r = s.admin("GET", "/api/chat/stats", None);
    assert_eq!(r.status, 200);
    let st = &r.body;
    assert_eq!(
        st["sessions"],
        json!({"total": 3, "active": 2, "closed": 1, "archived": 0, "unassigned": 1, "awaitingReply": 1})
    );
    // Dan never wrote: his empty chat is not counted.
    assert_eq!(
        st["messages"],
        json!({"total": 4, "fromUser": 3, "fromManager": 1})
    );
    assert_eq!(st["today"], json!({"sessions": 3, "messages": 4}));
    let median = st["firstResponseSeconds"]["median"].as_f64().unwrap();
    assert!((0.0..5.0).contains(&median), "{median}");
    assert_eq!(
        st["managers"],
        json!([{"managerId": "alice", "activeSessions": 1, "messagesSent": 1}])
    );
}

#[test]
fn every_admin_endpoint_needs_a_valid_manager_token() {
    let s = TestServer::start();
    let (sid, _) = s.open_chat("Ann");
    let endpoints = [
        ("GET", "/api/chat/sessions".to_string(), None),
        ("GET", format!("/api/chat/sessions/{sid}"), None),
        ("GET", format!("/api/chat/sessions/{sid}/messages"), None),
        (
            "POST",
            format!("/api/chat/sessions/{sid}/messages"),
            Some(r#"{"messageText":"x"}"#),
        ),
        ("POST", format!("/api/chat/sessions/{sid}/close"), None),
        (
            "POST",
            format!("/api/chat/sessions/{sid}/assign"),
            Some(r#"{"managerId":null}"#),
        ),
        ("GET", "/api/chat/managers".to_string(), None),
        ("GET", "/api/chat/me".to_string(), None),
        ("GET", "/api/chat/stats".to_string(), None),
    ];
    let wrong = format!("Bearer {}x", s.token);
    let basic = "Basic YWxpY2U6c2VjcmV0".to_string();
    for (method, path, body) in &endpoints {
        for auth in [
            None,
            Some(wrong.as_str()),
            Some("Bearer "),
            Some(basic.as_str()),
            Some(s.key.as_str()),
        ] {
            let mut h = vec![("Content-Type", "application/json")];
            if let Some(a) = auth {
                h.push(("Authorization", a));
            }
            let r = s.call(method, path, &h, *body);
            assert_eq!(r.status, 401, "{method} {path} with {auth:?}: {r:?}");
            assert_eq!(r.error_code(), "unauthorized");
        }
    }
    // The widget key is not a manager token, and nothing changed.
    let detail = s.admin("GET", &format!("/api/chat/sessions/{sid}"), None);
    assert_eq!(detail.body["session"]["status"], "active");
    assert_eq!(detail.body["messages"], json!([]));
}
