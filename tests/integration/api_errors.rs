//! Bad input of every kind gets the documented 4xx JSON error, and the
//! server keeps serving everybody else.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::TestServer;
use serde_json::json;

fn raw(s: &TestServer, request: &[u8]) -> String {
    let addr = s.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let _ = stream.write_all(request);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn malformed_json_is_400() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    for body in [
        "{",
        "not json",
        "[1,2]",
        "\"text\"",
        "{\"messageText\": \"a\"",
        "null",
    ] {
        let r = s.call(
            "POST",
            &format!("/api/public/chat/sessions/{sid}/messages"),
            &[
                ("X-API-Key", &s.key),
                ("X-User-Session-Id", &usid),
                ("Content-Type", "application/json"),
            ],
            Some(body),
        );
        assert_eq!(r.status, 400, "{body}: {r:?}");
        assert_eq!(r.error_code(), "bad_request");
    }
    let r = s.call(
        "POST",
        "/api/chat/sessions",
        &[
            ("Authorization", &format!("Bearer {}", s.token)),
            ("Content-Type", "application/json"),
        ],
        Some("{"),
    );
    assert_eq!(r.status, 405, "listing is GET only: {r:?}");
}

#[test]
fn a_body_that_is_not_json_is_415() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    for ct in [
        None,
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
    ] {
        let mut h = vec![
            ("X-API-Key", s.key.as_str()),
            ("X-User-Session-Id", usid.as_str()),
        ];
        if let Some(ct) = ct {
            h.push(("Content-Type", ct));
        }
        let r = s.call(
            "POST",
            &format!("/api/public/chat/sessions/{sid}/messages"),
            &h,
            Some(r#"{"messageText":"hi"}"#),
        );
        assert_eq!(r.status, 415, "{ct:?}: {r:?}");
        assert_eq!(r.error_code(), "unsupported_media_type");
    }
    // JSON with a charset parameter is JSON.
    let r = s.call(
        "POST",
        &format!("/api/public/chat/sessions/{sid}/messages"),
        &[
            ("X-API-Key", &s.key),
            ("X-User-Session-Id", &usid),
            ("Content-Type", "application/json; charset=utf-8"),
        ],
        Some(r#"{"messageText":"hi"}"#),
    );
    assert_eq!(r.status, 201);
}

#[test]
fn an_oversized_body_is_413_whether_declared_or_streamed() {
    let s = TestServer::start();
    let big = format!(r#"{{"messageText":"{}"}}"#, "a".repeat(70_000));
    let r = s.public(
        "POST",
        "/api/public/chat/sessions",
        None,
        Some(serde_json::from_str(&big).unwrap()),
    );
    assert_eq!(r.status, 413, "{}", r.text);
    assert_eq!(r.error_code(), "payload_too_large");

    // Chunked, with no Content-Length: refused while reading.
    let chunk = "a".repeat(16 * 1024);
    let mut req = format!(
        "POST /api/public/chat/sessions HTTP/1.1\r\nHost: x\r\nX-API-Key: {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        s.key
    );
    for _ in 0..6 {
        req.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    req.push_str("0\r\n\r\n");
    let answer = raw(&s, req.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"));

    // Just under the limit is read and judged on its content.
    let fits = format!(r#"{{"userName":"Ann","pad":"{}"}}"#, "a".repeat(60_000));
    let r = s.call(
        "POST",
        "/api/public/chat/sessions",
        &[("X-API-Key", &s.key), ("Content-Type", "application/json")],
        Some(&fits),
    );
    assert_eq!(r.status, 201, "{r:?}");
}

#[test]
fn malformed_ids_are_404_never_500() {
    let s = TestServer::start();
    let (sid, usid) = s.open_chat("Ann");
    let bad_ids = [
        "not-a-uuid".to_string(),
        sid.to_uppercase(),
        sid.replace('-', ""),
        "00000000-0000-4000-8000-000000000000".to_string(),
        "%00".to_string(),
        "..%2F..%2Fetc%2Fpasswd".to_string(),
        "x".repeat(2000),
        "' OR 1=1 --".replace(' ', "%20"),
    ];
    for id in &bad_ids {
        let public = s.public(
            "GET",
            &format!("/api/public/chat/sessions/{id}/messages"),
            Some(&usid),
            None,
        );
        assert_eq!(public.status, 404, "{id}: {public:?}");
        assert_eq!(public.error_code(), "not_found");
        for (method, path) in [
            ("GET", format!("/api/chat/sessions/{id}")),
            ("GET", format!("/api/chat/sessions/{id}/messages")),
            ("POST", format!("/api/chat/sessions/{id}/close")),
        ] {
            let r = s.admin(method, &path, None);
            assert_eq!(r.status, 404, "{method} {path}: {r:?}");
            assert_eq!(r.error_code(), "not_found");
        }
    }
}

#[test]
fn unknown_routes_are_404_and_wrong_methods_405_in_json() {
    let s = TestServer::start();
    for path in [
        "/api",
        "/api/public/chat",
        "/api/chat/sessions/x/y/z",
        "/favicon.ico",
        "/assets/nope.js",
    ] {
        let r = s.call("GET", path, &[], None);
        assert_eq!(r.status, 404, "{path}: {r:?}");
        assert_eq!(r.error_code(), "not_found");
    }
    for (method, path) in [
        ("DELETE", "/api/chat/sessions"),
        ("PUT", "/api/public/chat/sessions"),
        ("GET", "/api/public/chat/notify"),
        ("POST", "/healthz"),
    ] {
        let r = s.call(method, path, &[], None);
        assert_eq!(r.status, 405, "{method} {path}: {r:?}");
        assert_eq!(r.error_code(), "method_not_allowed");
    }
    // 405 says what is allowed (RFC 9110 15.5.6).
    for (method, path, allow) in [
        ("DELETE", "/api/chat/sessions", "GET"),
        ("PUT", "/api/public/chat/sessions", "POST, OPTIONS"),
        ("POST", "/healthz", "GET"),
        ("GET", "/api/chat/sessions/x/close", "POST"),
        ("DELETE", "/api/chat/sessions/x/messages", "GET, POST"),
        ("POST", "/widget.js", "GET, HEAD"),
    ] {
        let r = s.call(method, path, &[], None);
        assert_eq!(r.status, 405, "{method} {path}: {r:?}");
        assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
    }
}

#[test]
fn garbage_and_half_requests_do_not_stop_the_server() {
    let s = TestServer::start();
    let garbage: [&[u8]; 5] = [
        b"\x00\x01\x02\x03 garbage\r\n\r\n",
        b"GET\r\n\r\n",
        b"POST /api/public/chat/sessions HTTP/1.1\r\nContent-Length: nope\r\n\r\n{}",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: \xff\xfe\r\n\r\n",
        b"GET /api/chat/sessions?limit=%ZZ&status=%FF HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ];
    for g in garbage {
        let answer = raw(&s, g);
        assert!(!answer.contains(" 500 "), "{answer}");
    }
    // A client that declares a body and never sends it holds no worker for
    // long: everybody else is still served, quickly.
    let addr = s.url.trim_start_matches("http://").to_string();
    let mut stalled: Vec<TcpStream> = (0..12)
        .map(|_| {
            let mut c = TcpStream::connect(&addr).unwrap();
            c.write_all(b"POST /api/public/chat/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{").unwrap();
            c
        })
        .collect();
    let started = std::time::Instant::now();
    for _ in 0..5 {
        let r = s.call("GET", "/healthz", &[], None);
        assert_eq!(r.status, 200);
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "healthy clients waited {:?} behind stalled ones",
        started.elapsed()
    );
    stalled.clear();
    let (sid, usid) = s.open_chat("Ann");
    s.visitor_says(&sid, &usid, "still here");
}

#[test]
fn head_and_options_on_admin_paths_are_harmless() {
    let s = TestServer::start();
    let r = s.call("OPTIONS", "/api/chat/sessions", &[], None);
    assert_eq!(r.status, 405);
    let r = s.admin("GET", "/api/chat/me", Some(json!({"ignored": true})));
    assert_eq!(r.status, 200);
}
