//! The watchdog: a thread that asks the server for `/healthz` over a real
//! connection every few seconds. When no answer at all (any status) has
//! come for the configured time, it says why and exits the process with
//! status 70, so the supervisor (systemd `Restart=always`) starts a fresh
//! one. Belt and braces: nothing known should need it.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How the watchdog's requests name themselves (they are not logged).
pub(super) const USER_AGENT: &str = "shopchat-watchdog";

/// The exit status when the watchdog gives up (`EX_SOFTWARE`).
pub(super) const EXIT_DEAF: i32 = 70;

/// Runs until `stop` is set; exits the process when the server has not
/// answered for `limit`.
pub(super) fn run(addr: SocketAddr, limit: Duration, stop: &AtomicBool) {
    let target = reachable(addr);
    let every = (limit / 6).clamp(Duration::from_millis(200), Duration::from_secs(5));
    let mut last_answer = Instant::now();
    let mut last_error = String::new();
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        match probe(target, every.max(Duration::from_secs(2))) {
            Ok(()) => last_answer = Instant::now(),
            Err(e) => last_error = e,
        }
        if stop.load(Ordering::SeqCst) {
            return;
        }
        if last_answer.elapsed() >= limit {
            eprintln!(
                "shopchat: watchdog: the server has not answered its own /healthz for {} s \
                 (last try: {last_error}); exiting with status {EXIT_DEAF} so the supervisor restarts it",
                last_answer.elapsed().as_secs()
            );
            std::process::exit(EXIT_DEAF);
        }
        let rest = every.saturating_sub(started.elapsed());
        sleep_unless(rest, stop);
    }
}

/// Where to connect to reach a listener bound to `addr` (an unspecified
/// address is reached on loopback).
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

/// One request; any HTTP status line counts as an answer (a 503 at the
/// connection cap, or a full disk, is the server speaking).
fn probe(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    s.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: watchdog\r\nUser-Agent: {USER_AGENT}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(request.as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < 12 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("no answer within {} ms", timeout.as_millis()));
        }
        s.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
        match s.read(&mut buf) {
            Ok(0) => return Err("closed without an answer".into()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("no answer: {e}")),
        }
    }
    if got.starts_with(b"HTTP/1.") {
        Ok(())
    } else {
        Err("an answer that is not HTTP".into())
    }
}

fn sleep_unless(d: Duration, stop: &AtomicBool) {
    let until = Instant::now() + d;
    while !stop.load(Ordering::SeqCst) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
}
