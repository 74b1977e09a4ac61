//! Bench only (bench/big.sh): the stack's ceiling for a widget poll. The
//! vendored `tiny_http` with the options `serve` uses, and per request one
//! indexed `SQLite` read of a chat's messages after a seq, answered as the
//! same JSON shape; no key check, no visitor check, no log. What a poll of
//! shopchat costs above this is our own work.
//!
//! `cargo run --release --example ceiling -- DB [THREADS]` prints
//! `listening on http://ADDR` and serves until killed.

use std::sync::Arc;
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags};

fn main() {
    let mut args = std::env::args().skip(1);
    let db = args.next().expect("usage: ceiling DB [THREADS]");
    let threads: usize = args.next().map_or(8, |t| t.parse().expect("threads"));
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let options = tiny_http::Options {
        request_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_mins(1),
        write_timeout: Duration::from_secs(10),
        max_connections: 4096,
        stack_size: 128 * 1024,
        ..tiny_http::Options::default()
    };
    let server = Arc::new(tiny_http::Server::with_options(tcp, options).expect("listen"));
    println!("listening on http://{}", server.server_addr());
    let mut handles = Vec::new();
    for _ in 0..threads {
        let server = server.clone();
        let conn = Connection::open_with_flags(
            &db,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .expect("open db");
        handles.push(std::thread::spawn(move || loop {
            let Ok(rq) = server.recv() else { return };
            let body = answer(&conn, rq.url());
            let resp = tiny_http::Response::from_data(body).with_header(
                tiny_http::Header::from_bytes("Content-Type", "application/json").expect("header"),
            );
            let _ = rq.respond(resp);
        }));
    }
    for h in handles {
        let _ = h.join();
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Msg {
    id: String,
    seq: i64,
    session_id: String,
    sender: String,
    message_text: String,
    manager_id: Option<String>,
    created_at: String,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    messages: Vec<Msg>,
    cursor: i64,
    has_more: bool,
    session_status: &'static str,
}

/// `/api/public/chat/sessions/ID/messages?since=N`: up to 100 messages of
/// chat ID after seq N (the same limit and query as a real poll).
fn answer(conn: &Connection, url: &str) -> Vec<u8> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let id = path.split('/').nth(5).unwrap_or("");
    let since: i64 = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("since="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, seq, session_id, sender, message_text, manager_id, created_at
             FROM chat_messages WHERE session_id = ?1 AND seq > ?2 ORDER BY seq LIMIT 101",
        )
        .expect("prepare");
    let mut messages: Vec<Msg> = stmt
        .query_map(params![id, since], |r| {
            Ok(Msg {
                id: r.get(0)?,
                seq: r.get(1)?,
                session_id: r.get(2)?,
                sender: r.get(3)?,
                message_text: r.get(4)?,
                manager_id: r.get(5)?,
                created_at: r.get(6)?,
            })
        })
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    let has_more = messages.len() > 100;
    messages.truncate(100);
    let cursor = messages.last().map_or(since, |m| m.seq);
    serde_json::to_vec(&Page {
        messages,
        cursor,
        has_more,
        session_status: "active",
    })
    .expect("json")
}
