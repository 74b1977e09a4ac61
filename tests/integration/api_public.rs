//! The public (widget) API over real HTTP: sessions, messages, polling,
//! the visitor check, the legacy notify form, CORS.

use crate::common::TestServer;
use serde_json::json;

fn msgs_path(sid: &str) -> String {
    format!("/api/public/chat/sessions/{sid}/messages")
}

#[test]
fn a_new_visitor_gets_a_session_with_a_generated_secret() {
    let s = TestServer::start();
    let r = s.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(json!({"userName": "Олена", "userPhone": "+380 67 123-45-67"})),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let session = &r.body["session"];
    assert_eq!(session["userName"], "Олена");
    assert_eq!(session["userPhone"], "+380 67 123-45-67");
    assert_eq!(session["status"], "active");
    assert_eq!(session["managerId"], serde_json::Value::Null);
    assert!(session["userSessionId"].as_str().unwrap().len() >= 16);
    let created = session["createdAt"].as_str().unwrap();
    assert!(
        created.len() == 24 && created.ends_with('Z') && created.as_bytes()[19] == b'.',
        "RFC 3339 with milliseconds: {created}"
    );
    assert_eq!(session["updatedAt"], session["createdAt"]);
}

#[test]
fn the_same_visitor_gets_the_same_active_session_back() {
    let s = TestServer::start();
    let usid = "visitor-secret-0123456789";
    let first = s.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(json!({"userSessionId": usid})),
    );
    assert_eq!(first.status, 201);
    let again = s.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(json!({"userSessionId": usid, "userName": "Ann"})),
    );
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.body["session"]["id"], first.body["session"]["id"]);
    assert_eq!(
        again.body["session"]["userName"], "Ann",
        "a name given later is kept"
    );
    assert_eq!(again.body["session"]["userSessionId"], usid);

    // After the chat is closed, the same visitor starts a new one.
    let sid = first.body["session"]["id"].as_str().unwrap();
    assert_eq!(
        s.admin("POST", &format!("/api/chat/sessions/{sid}/close"), None)
            .status,
        200
    );
    let third = s.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(json!({"userSessionId": usid})),
    );
    assert_eq!(third.status, 201);
    assert_ne!(third.body["session"]["id"], first.body["session"]["id"]);
}

#[test]
fn an_empty_body_creates_a_session_too() {
    let s = TestServer::start();
    let r = s.call(
        "POST",
        "/api/public/chat/sessions",
        &[("X-API-Key", &s.key)],
        None,
    );
    assert_eq!(r.status, 201, "{r:?}");
}

#[test]
fn visitor_input_is_validated() {
    let s = TestServer::start();
    for (body, what) in [
        (json!({"userName": "x".repeat(101)}), "userName"),
        (
            json!({"userPhone": "+380 67 123 45 67 89 01 23 45 67 8"}),
            "userPhone",
        ),
        (json!({"userPhone": "call me maybe"}), "userPhone"),
        (json!({"userSessionId": "short"}), "userSessionId"),
        (
            json!({"userSessionId": "has spaces in it, 12345"}),
            "userSessionId",
        ),
        (json!({"userName": 42}), "invalid"),
    ] {
        let r = s.public(
            "POST",
            "/api/public/chat/sessions",
            None,
            Some(body.clone()),
        );
        assert_eq!(r.status, 400, "{body}: {r:?}");
        assert_eq!(r.error_code(), "bad_request");
        let msg = r.body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(what), "{msg} should mention {what}");
    }
    // At the limits it is fine.
    let r = s.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(json!({"userName": "я".repeat(100), "userPhone": "+(380) 67-123 45 67"})),
    );
    assert_eq!(r.status, 201, "{r:?}");
}

#[test]
fn messages_are_stored_trimmed_with_increasing_seq() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    let r = s.public(
        "POST",
        &msgs_path(&sid),
        Some(&usid),
        Some(json!({"messageText": "  Where is my order?\n"})),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let m = &r.body["message"];
    assert_eq!(m["messageText"], "Where is my order?");
    assert_eq!(m["sender"], "user");
    assert_eq!(m["sessionId"], sid.as_str());
    assert_eq!(m["managerId"], serde_json::Value::Null);
    let seq1 = m["seq"].as_i64().unwrap();
    let seq2 = s.visitor_says(&sid, &usid, "second");
    assert!(seq2 > seq1);
}

#[test]
fn a_retry_with_the_same_client_message_id_is_not_a_duplicate() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    let body = json!({"messageText": "hello", "clientMessageId": "c-1"});
    let first = s.public("POST", &msgs_path(&sid), Some(&usid), Some(body.clone()));
    assert_eq!(first.status, 201);
    let retry = s.public("POST", &msgs_path(&sid), Some(&usid), Some(body));
    assert_eq!(retry.status, 200, "{retry:?}");
    assert_eq!(retry.body["message"], first.body["message"]);
    let poll = s.public("GET", &msgs_path(&sid), Some(&usid), None);
    assert_eq!(poll.body["messages"].as_array().unwrap().len(), 1);

    // The same clientMessageId in another session is another message.
    let (sid2, usid2) = s.open_chat("Bob");
    let other = s.public(
        "POST",
        &msgs_path(&sid2),
        Some(&usid2),
        Some(json!({"messageText": "hello", "clientMessageId": "c-1"})),
    );
    assert_eq!(other.status, 201);
    assert_ne!(other.body["message"]["id"], first.body["message"]["id"]);
}

#[test]
fn an_invalid_message_is_400_even_when_its_client_message_id_is_known() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    let post =
        |body: serde_json::Value| s.public("POST", &msgs_path(&sid), Some(&usid), Some(body));
    assert_eq!(
        post(json!({"messageText": "hello", "clientMessageId": "c-1"})).status,
        201
    );
    for text in ["", "  \n", &"x".repeat(4001)] {
        let r = post(json!({"messageText": text, "clientMessageId": "c-1"}));
        assert_eq!(r.status, 400, "{text:?}: {r:?}");
        assert_eq!(r.error_code(), "bad_request");
    }
}

#[test]
fn message_text_and_client_id_limits() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    let post =
        |body: serde_json::Value| s.public("POST", &msgs_path(&sid), Some(&usid), Some(body));
    assert_eq!(post(json!({"messageText": "ї".repeat(4000)})).status, 201);
    for body in [
        json!({"messageText": "ї".repeat(4001)}),
        json!({"messageText": "   \n\t"}),
        json!({"messageText": ""}),
        json!({}),
        json!({"messageText": 5}),
        json!({"messageText": "ok", "clientMessageId": "x".repeat(65)}),
        json!({"messageText": "ok", "clientMessageId": ""}),
    ] {
        let r = post(body.clone());
        assert_eq!(r.status, 400, "{body}: {r:?}");
        assert_eq!(r.error_code(), "bad_request");
    }
}

#[test]
fn polling_by_seq_never_misses_or_repeats() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    let mut sent = Vec::new();
    for i in 0..7 {
        sent.push(s.visitor_says(&sid, &usid, &format!("m{i}")));
    }
    let mut seen = Vec::new();
    let mut cursor = 0i64;
    loop {
        let r = s.public(
            "GET",
            &format!("{}?since={cursor}&limit=3", msgs_path(&sid)),
            Some(&usid),
            None,
        );
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.body["sessionStatus"], "active");
        let page = r.body["messages"].as_array().unwrap();
        assert!(page.len() <= 3);
        seen.extend(page.iter().map(|m| m["seq"].as_i64().unwrap()));
        cursor = r.body["cursor"].as_i64().unwrap();
        if !r.body["hasMore"].as_bool().unwrap() {
            break;
        }
    }
    assert_eq!(seen, sent);
    // Nothing new: the cursor stays where it was.
    let r = s.public(
        "GET",
        &format!("{}?since={cursor}", msgs_path(&sid)),
        Some(&usid),
        None,
    );
    assert_eq!(r.body["messages"], json!([]));
    assert_eq!(r.body["cursor"], cursor);
    assert_eq!(r.body["hasMore"], false);
}

#[test]
fn a_poll_by_a_time_beyond_year_9999_in_utc_gives_no_messages_and_a_cursor_that_works() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    s.visitor_says(&sid, &usid, "one");
    // 9999-12-31T23:59:59-01:00 is in year 10000 in UTC.
    let poll = |since: &str| {
        let path = format!("{}?since={}", msgs_path(&sid), since.replace('+', "%2B"));
        s.public("GET", &path, Some(&usid), None)
    };
    let r = poll("9999-12-31T23:59:59-01:00");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["messages"], json!([]), "nothing is that new");
    let cursor = r.body["cursor"].as_str().unwrap().to_string();
    assert_eq!(cursor, "9999-12-31T23:59:59.999Z");
    assert_eq!(poll(&cursor).status, 200, "the cursor is a valid since");
    let r = poll("0000-01-01T00:00:00+01:00");
    assert_eq!(r.body["messages"].as_array().unwrap().len(), 1);
}

#[test]
fn polling_with_a_query_secret_and_a_timestamp_works_for_old_clients() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    s.visitor_says(&sid, &usid, "one");
    let r = s.public("GET", &msgs_path(&sid), Some(&usid), None);
    let first_at = r.body["messages"][0]["createdAt"]
        .as_str()
        .unwrap()
        .to_string();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let seq2 = s.visitor_says(&sid, &usid, "two");
    let path = format!(
        "{}?userSessionId={usid}&since={}",
        msgs_path(&sid),
        first_at.replace('+', "%2B")
    );
    let r = s.call("GET", &path, &[("X-API-Key", &s.key)], None);
    assert_eq!(r.status, 200, "{r:?}");
    let msgs = r.body["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["seq"], seq2);
    assert_eq!(
        r.body["cursor"], seq2,
        "the cursor moves the client on to seq"
    );

    for bad in ["yesterday", "-5", "1.5"] {
        let r = s.public(
            "GET",
            &format!("{}?since={bad}", msgs_path(&sid)),
            Some(&usid),
            None,
        );
        assert_eq!(r.status, 400, "since={bad}");
        assert_eq!(r.error_code(), "bad_request");
    }
    for bad in ["0", "-1", "many"] {
        let r = s.public(
            "GET",
            &format!("{}?limit={bad}", msgs_path(&sid)),
            Some(&usid),
            None,
        );
        assert_eq!(r.status, 400, "limit={bad}");
    }
}

#[test]
fn a_closed_chat_refuses_new_messages_and_says_so_to_pollers() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    s.public(
        "POST",
        &msgs_path(&sid),
        Some(&usid),
        Some(json!({"messageText": "hi", "clientMessageId": "a"})),
    );
    s.admin("POST", &format!("/api/chat/sessions/{sid}/close"), None);
    let r = s.public(
        "POST",
        &msgs_path(&sid),
        Some(&usid),
        Some(json!({"messageText": "hello?"})),
    );
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.error_code(), "session_closed");
    // A retry of a message acknowledged before the close still answers.
    let r = s.public(
        "POST",
        &msgs_path(&sid),
        Some(&usid),
        Some(json!({"messageText": "hi", "clientMessageId": "a"})),
    );
    assert_eq!(r.status, 200);
    let r = s.public("GET", &msgs_path(&sid), Some(&usid), None);
    assert_eq!(r.body["sessionStatus"], "closed");
}

#[test]
fn a_session_id_without_its_visitor_secret_reveals_nothing() {
    // 20 sessions x 20 secrets: only the matching pair gets in.
    let s = TestServer::start_unlimited();
    let chats: Vec<(String, String)> = (0..20).map(|i| s.open_chat(&format!("v{i}"))).collect();
    for (i, (sid, _)) in chats.iter().enumerate() {
        for (j, (_, usid)) in chats.iter().enumerate() {
            let r = s.public("GET", &msgs_path(sid), Some(usid), None);
            let w = s.public(
                "POST",
                &msgs_path(sid),
                Some(usid),
                Some(json!({"messageText": "x"})),
            );
            if i == j {
                assert_eq!(r.status, 200);
                assert_eq!(w.status, 201);
            } else {
                assert_eq!(r.status, 404, "session {i} read with secret {j}");
                assert_eq!(r.error_code(), "not_found");
                assert_eq!(w.status, 404, "session {i} written with secret {j}");
            }
        }
    }
    // No secret at all, and an unknown id, answer exactly the same.
    let (sid, _) = &chats[0];
    let none = s.public("GET", &msgs_path(sid), None, None);
    let unknown = s.public(
        "GET",
        &msgs_path("00000000-0000-4000-8000-000000000000"),
        Some(&chats[0].1),
        None,
    );
    assert_eq!(none.status, 404);
    assert_eq!(none.text, unknown.text);
    // Each session holds only its own visitor's message.
    let r = s.public("GET", &msgs_path(&chats[3].0), Some(&chats[3].1), None);
    assert_eq!(r.body["messages"].as_array().unwrap().len(), 1);
}

#[test]
fn every_public_endpoint_needs_a_valid_api_key() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    let endpoints = [
        ("POST", "/api/public/chat/sessions".to_string(), Some("{}")),
        ("POST", msgs_path(&sid), Some(r#"{"messageText":"hi"}"#)),
        ("GET", msgs_path(&sid), None),
        (
            "POST",
            "/api/public/chat/notify".to_string(),
            Some(r#"{"message":"hi"}"#),
        ),
    ];
    for (method, path, body) in &endpoints {
        for key in [None, Some("sck_wrong"), Some("")] {
            let mut h = vec![
                ("Content-Type", "application/json"),
                ("X-User-Session-Id", usid.as_str()),
            ];
            if let Some(k) = key {
                h.push(("X-API-Key", k));
            }
            let r = s.call(method, path, &h, *body);
            assert_eq!(r.status, 401, "{method} {path} with key {key:?}: {r:?}");
            assert_eq!(r.error_code(), "unauthorized");
        }
    }
}

#[test]
fn keys_from_the_environment_and_revoked_keys() {
    let s = TestServer::start_with(|shared| {
        shared
            .static_key_hashes
            .push(shopchat::secret::hash("env-key-1"));
    });
    let h = [
        ("X-API-Key", "env-key-1"),
        ("Content-Type", "application/json"),
    ];
    assert_eq!(
        s.call("POST", "/api/public/chat/sessions", &h, Some("{}"))
            .status,
        201
    );
    let mut conn = shopchat::db::open(&s.db).unwrap();
    assert!(shopchat::accounts::revoke_key(&mut conn, "test").unwrap());
    let r = s.public("POST", "/api/public/chat/sessions", None, Some(json!({})));
    assert_eq!(r.status, 401);
}

#[test]
fn the_legacy_notify_form_stores_a_message_in_the_visitors_chat() {
    let s = TestServer::start();
    let r = s.public(
        "POST",
        "/api/public/chat/notify",
        None,
        Some(json!({"name": "Ann", "phone": "+380671112233", "message": "Call me back"})),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["ok"], true);
    let sid = r.body["sessionId"].as_str().unwrap().to_string();
    let usid = r.body["userSessionId"].as_str().unwrap().to_string();

    // The same visitor writing again lands in the same chat.
    let r2 = s.public(
        "POST",
        "/api/public/chat/notify",
        None,
        Some(json!({"userSessionId": usid, "messageText": "Still waiting"})),
    );
    assert_eq!(r2.body["sessionId"], sid.as_str());

    // A plain HTML form post works too.
    let form = "name=Bob&phone=%2B48%20600&message=Hi%20from%20the%20form";
    let r3 = s.call(
        "POST",
        "/api/public/chat/notify",
        &[
            ("X-API-Key", &s.key),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(form),
    );
    assert_eq!(r3.status, 200, "{r3:?}");
    assert_ne!(r3.body["sessionId"], sid.as_str());

    let detail = s.admin("GET", &format!("/api/chat/sessions/{sid}"), None);
    let texts: Vec<&str> = detail.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["messageText"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Call me back", "Still waiting"]);
    assert_eq!(detail.body["session"]["userPhone"], "+380671112233");

    let r = s.public(
        "POST",
        "/api/public/chat/notify",
        None,
        Some(json!({"name": "No message"})),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn cors_preflight_and_headers_on_public_endpoints_only() {
    let s = TestServer::start();
    let r = s.call(
        "OPTIONS",
        "/api/public/chat/sessions",
        &[
            ("Origin", "https://shop.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        None,
    );
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let methods = r.header("access-control-allow-methods").unwrap();
    assert!(methods.contains("GET") && methods.contains("POST"));
    let headers = r.header("access-control-allow-headers").unwrap();
    for h in ["Content-Type", "X-API-Key", "X-User-Session-Id"] {
        assert!(headers.contains(h), "{headers}");
    }
    // Errors carry CORS too, so the widget can read a 401 or 429.
    let r = s.call("GET", "/api/public/chat/sessions/x/messages", &[], None);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("Retry-After")
    );
    // What only a preflight's answer is read for stays on the preflight.
    assert_eq!(r.header("access-control-allow-methods"), None);
    assert_eq!(r.header("access-control-max-age"), None);
    // Admin endpoints send none.
    let r = s.admin("GET", "/api/chat/me", None);
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = s.call(
        "OPTIONS",
        "/api/chat/sessions",
        &[("Origin", "https://evil.example")],
        None,
    );
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[test]
fn cors_allows_only_configured_origins() {
    let s = TestServer::start_with(|shared| {
        shared.config.allowed_origins =
            shopchat::config::Origins::List(vec!["https://shop.example".into()]);
    });
    let ok = s.call(
        "OPTIONS",
        "/api/public/chat/sessions",
        &[("Origin", "https://shop.example")],
        None,
    );
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    let no = s.call(
        "OPTIONS",
        "/api/public/chat/sessions",
        &[("Origin", "https://evil.example")],
        None,
    );
    assert_eq!(no.header("access-control-allow-origin"), None);
}

#[test]
fn new_sessions_are_rate_limited_per_client_address() {
    let s = TestServer::start();
    for _ in 0..10 {
        let r = s.public("POST", "/api/public/chat/sessions", None, Some(json!({})));
        assert_eq!(r.status, 201);
    }
    let r = s.public("POST", "/api/public/chat/sessions", None, Some(json!({})));
    assert_eq!(r.status, 429, "{r:?}");
    assert_eq!(r.error_code(), "too_many_requests");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    // Getting back an existing session is not a new one.
    let usid = "returning-visitor-00000001";
    let r = s.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(json!({"userSessionId": usid})),
    );
    assert_eq!(r.status, 429, "a new secret still needs a new session");
}

/// A new chat with `X-Forwarded-For: xff`; the status.
fn create_via(s: &TestServer, xff: &str) -> u16 {
    let h = [
        ("X-API-Key", s.key.as_str()),
        ("Content-Type", "application/json"),
        ("X-Forwarded-For", xff),
    ];
    s.call("POST", "/api/public/chat/sessions", &h, Some("{}"))
        .status
}

#[test]
fn x_forwarded_for_is_ignored_without_trust_proxy() {
    // Every request comes from 127.0.0.1: forging the header does not
    // buy a visitor a fresh limit.
    let s = TestServer::start();
    let statuses: Vec<u16> = (0..11)
        .map(|i| create_via(&s, &format!("203.0.113.{i}")))
        .collect();
    assert!(statuses[..10].iter().all(|&c| c == 201), "{statuses:?}");
    assert_eq!(statuses[10], 429, "{statuses:?}");
}

#[test]
fn behind_a_trusted_proxy_the_last_forwarded_address_is_the_client() {
    let s = TestServer::start_with(|shared| shared.config.trust_proxy = true);
    // Eleven visitors behind the proxy: each has its own limit, whatever
    // they put in front of the address the proxy appended.
    for i in 0..11 {
        assert_eq!(
            create_via(&s, &format!("198.51.100.7, 203.0.113.{i}")),
            201,
            "visitor {i}"
        );
    }
    // One visitor forging different addresses in front is still one.
    let statuses: Vec<u16> = (0..11)
        .map(|i| create_via(&s, &format!("10.9.9.{i}, 203.0.113.200")))
        .collect();
    assert!(statuses[..10].iter().all(|&c| c == 201), "{statuses:?}");
    assert_eq!(statuses[10], 429, "{statuses:?}");
}

#[test]
fn messages_are_rate_limited_per_session_with_a_burst() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    let mut statuses = Vec::new();
    for i in 0..14 {
        let r = s.public(
            "POST",
            &msgs_path(&sid),
            Some(&usid),
            Some(json!({"messageText": format!("m{i}")})),
        );
        statuses.push(r.status);
        if r.status == 429 {
            assert!(r.header("retry-after").is_some());
        }
    }
    assert!(statuses[..10].iter().all(|&c| c == 201), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    // Another session is not affected.
    let (sid2, usid2) = s.open_chat("Bob");
    assert!(s.visitor_says(&sid2, &usid2, "hi") > 0);
}

#[test]
fn a_retry_of_a_stored_message_is_200_even_over_the_rate_limit() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    let send = |cid: &str| {
        s.public(
            "POST",
            &msgs_path(&sid),
            Some(&usid),
            Some(json!({"messageText": "where is my order?", "clientMessageId": cid})),
        )
    };
    let first = send("c0");
    assert_eq!(first.status, 201);
    // Use up the burst with other messages.
    let mut limited = false;
    for i in 1..30 {
        if send(&format!("c{i}")).status == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "the burst ran out");
    // The widget retries the first one (its answer was lost): it is stored,
    // so the retry is answered 200 with the same message, not 429.
    let retry = send("c0");
    assert_eq!(retry.status, 200, "{retry:?}");
    assert_eq!(retry.body["message"]["id"], first.body["message"]["id"]);
}

#[test]
fn rate_limits_can_be_turned_off() {
    let s = TestServer::start_with(|shared| {
        *shared = shopchat::http::Shared::new(shopchat::config::ServeConfig {
            session_rate: 0,
            message_rate: 0,
            ..shared.config.clone()
        });
    });
    let (sid, usid) = s.open_chat("Ann");
    for i in 0..25 {
        s.visitor_says(&sid, &usid, &format!("m{i}"));
    }
    for _ in 0..25 {
        let r = s.public("POST", "/api/public/chat/sessions", None, Some(json!({})));
        assert_eq!(r.status, 201);
    }
}
