//! Bench only (bench/big.sh): widget polls against a server, one thread
//! and one keep-alive connection per widget, and the server's cost read
//! from /proc. Every answer is checked (200 and a `messages` array), and
//! every connection must have been answered, or the run fails.
//!
//! ```text
//! loadgen pick DB N                  N chats with 10+ messages: "PATH SECRET" lines
//! loadgen poll URL KEY CHATS PID CONNS SECONDS INTERVAL_MS
//! ```
//! `poll` prints one JSON line: requests, per-connection minimum, latency
//! percentiles, and the server's CPU per request and memory (`VmRSS`) at the
//! end, while every connection is still open.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("pick") => pick(&args[1], args[2].parse().expect("N")),
        Some("poll") => poll(&args[1..]),
        _ => {
            eprintln!("usage: loadgen pick DB N | loadgen poll URL KEY CHATS PID CONNS SECONDS INTERVAL_MS");
            std::process::exit(2);
        }
    }
}

/// Random chats with at least 10 messages, each polled from the seq before
/// its last 10, so every poll answers 10 messages.
fn pick(db: &str, n: usize) {
    let conn = rusqlite::Connection::open(db).expect("open");
    let mut stmt = conn
        .prepare(
            "SELECT s.id, s.user_session_id,
                 (SELECT seq FROM chat_messages m WHERE m.session_id = s.id
                  ORDER BY seq DESC LIMIT 1 OFFSET 10)
             FROM chat_sessions s WHERE s.message_count >= 11 ORDER BY random() LIMIT ?1",
        )
        .expect("prepare");
    let rows = stmt
        .query_map([n as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .expect("query");
    for row in rows {
        let (id, secret, since) = row.expect("row");
        println!("/api/public/chat/sessions/{id}/messages?since={since} {secret}");
    }
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("server is running");
    let after = &stat[stat.rfind(')').expect("stat") + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| {
            v.trim_start_matches(':')
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

struct Conn {
    stream: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).ok();
        s.set_read_timeout(Some(Duration::from_secs(30))).ok();
        Conn {
            stream: BufReader::new(s),
        }
    }

    /// One request; Ok(status, body) or the reason it failed.
    fn get(&mut self, req: &[u8]) -> Result<(u16, Vec<u8>), String> {
        self.stream
            .get_mut()
            .write_all(req)
            .map_err(|e| e.to_string())?;
        let mut line = String::new();
        self.stream
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {line:?}"))?;
        let mut len = 0usize;
        loop {
            line.clear();
            self.stream
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().map_err(|_| "bad length".to_string())?;
                }
            }
        }
        let mut body = vec![0; len];
        self.stream
            .read_exact(&mut body)
            .map_err(|e| e.to_string())?;
        Ok((status, body))
    }
}

fn poll(a: &[String]) {
    let url = a[0]
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let key = a[1].clone();
    let chats: Vec<(String, String)> = std::fs::read_to_string(&a[2])
        .expect("chats file")
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect();
    let pid: u32 = a[3].parse().expect("pid");
    let conns: usize = a[4].parse().expect("conns");
    let secs: f64 = a[5].parse().expect("seconds");
    let interval = Duration::from_millis(a[6].parse().expect("interval"));
    assert!(!chats.is_empty(), "no chats to poll");

    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Vec::<u32>::new()));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    // Everyone connects, then the clock starts.
    let barrier = Arc::new(std::sync::Barrier::new(conns + 1));
    let done_barrier = Arc::new(std::sync::Barrier::new(conns + 1));
    let mut handles = Vec::new();
    for i in 0..conns {
        let (path, secret) = chats[i % chats.len()].clone();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {url}\r\nX-API-Key: {key}\r\nX-User-Session-Id: {secret}\r\n\r\n"
        )
        .into_bytes();
        let (url, stop, lat, errs, barrier, done) = (
            url.clone(),
            stop.clone(),
            latencies.clone(),
            errors.clone(),
            barrier.clone(),
            done_barrier.clone(),
        );
        handles.push(
            std::thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    let mut c = Conn::open(&url);
                    let mut mine = Vec::new();
                    barrier.wait();
                    // Widgets are not in step: spread the first polls.
                    if !interval.is_zero() {
                        let off = interval.as_millis() as u64 * (i as u64 % 97) / 97;
                        std::thread::sleep(Duration::from_millis(off));
                    }
                    let mut next = Instant::now();
                    while !stop.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        match c.get(&req) {
                            Ok((200, body)) if body.starts_with(b"{\"messages\":[") => {
                                mine.push(t.elapsed().as_micros() as u32);
                            }
                            Ok((status, body)) => {
                                errs.lock().unwrap().push(format!(
                                    "{status}: {}",
                                    String::from_utf8_lossy(&body[..body.len().min(120)])
                                ));
                                break;
                            }
                            Err(e) => {
                                errs.lock().unwrap().push(e);
                                break;
                            }
                        }
                        if !interval.is_zero() {
                            next += interval;
                            let now = Instant::now();
                            if next > now {
                                std::thread::sleep(next - now);
                            }
                        }
                    }
                    let n = mine.len();
                    lat.lock().unwrap().extend(mine);
                    // Keep the connection open until the server's memory
                    // has been read.
                    done.wait();
                    drop(c);
                    n
                })
                .expect("thread"),
        );
    }
    barrier.wait();
    let cpu0 = cpu_ticks(pid);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    let rss_kib = status_kib(pid, "VmRSS");
    let threads = status_kib(pid, "Threads");
    // Collect the counts; a thread ends its loop after its request in flight.
    let mut per_conn = Vec::new();
    std::thread::sleep(Duration::from_millis(200));
    let cpu1 = cpu_ticks(pid);
    let elapsed = t0.elapsed().as_secs_f64();
    done_barrier.wait();
    for h in handles {
        per_conn.push(h.join().expect("client thread"));
    }
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort_unstable();
    let total: usize = per_conn.iter().sum();
    let errs = errors.lock().unwrap().clone();
    let ticks = 100.0; // USER_HZ on Linux
    let cpu_us = (cpu1 - cpu0) as f64 / ticks * 1e6;
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    println!(
        "{{\"requests\": {total}, \"rps\": {:.0}, \"min_per_conn\": {}, \"conns\": {conns}, \"errors\": {}, \"p50_us\": {}, \"p99_us\": {}, \"cpu_us_per_req\": {:.1}, \"rss_kib\": {rss_kib}, \"threads\": {threads}}}",
        total as f64 / elapsed,
        per_conn.iter().min().copied().unwrap_or(0),
        errs.len(),
        pct(0.5),
        pct(0.99),
        cpu_us / total.max(1) as f64,
    );
    if !errs.is_empty() {
        eprintln!("loadgen: {} errors, first: {}", errs.len(), errs[0]);
    }
    if !errs.is_empty() || per_conn.contains(&0) {
        eprintln!("loadgen: not every connection was served");
        std::process::exit(1);
    }
}
