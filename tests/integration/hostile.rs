//! The open internet, as an attacker sees it: one test per hostile client
//! (and per mishap), each against the real binary on 127.0.0.1. Each shows
//! the server still answers /healthz within 100 ms during and after, that
//! memory stays bounded and that no thread is leaked.

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::live::{self, heavy, raw, read_all, read_one, Lat, Live, Opts};

/// Sends `head` and keeps writing `per_write` bytes every `every` for
/// `for_`, ignoring errors (the server may close first).
fn trickle(
    addr: std::net::SocketAddr,
    head: Vec<u8>,
    every: Duration,
    for_: Duration,
) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connects");
    let _ = s.write_all(&head);
    let w = s.try_clone().unwrap();
    thread::spawn(move || {
        let mut w = w;
        let end = Instant::now() + for_;
        while Instant::now() < end {
            if w.write_all(b"a").is_err() {
                return;
            }
            thread::sleep(every);
        }
    });
    s
}

#[test]
fn a_huge_content_length_is_refused_unread_and_the_server_lives() {
    let _g = heavy();
    let s = Live::start(Opts::default());
    let idle = s.settled_threads();
    for path in ["/api/public/chat/sessions", "/healthz", "/no/such/path"] {
        let a = raw(
            s.addr,
            format!("POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000000\r\n\r\nabc")
                .as_bytes(),
            Duration::from_secs(5),
        );
        assert_eq!(a.status, 413, "{path}: {a:?}");
        assert!(a.head.contains("Connection: close"), "{}", a.head);
        let body: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(body["error"]["code"], "payload_too_large");
        assert!(a.closed, "the connection is closed after a 413");
        s.assert_healthy_within(100);
    }
    assert!(s.peak_rss_mib() < 64.0, "peak RSS {} MiB", s.peak_rss_mib());
    s.threads_back_to(idle, Duration::from_secs(5));
}

#[test]
fn slow_bodies_hold_only_their_own_connections_then_get_408() {
    let _g = heavy();
    let mut s = Live::start(Opts::args(&["--request-timeout", "3"]));
    let idle = s.settled_threads();
    let (sid, usid) = s.open_chat();
    // 8 slow bodies (as many as workers), 4 with Connection: Upgrade, and
    // 4 that keep sending after declaring too much (the 413 drain).
    let mut slow = Vec::new();
    for i in 0..8 {
        let upgrade = if i % 2 == 0 {
            "Connection: Upgrade\r\nUpgrade: websocket\r\n"
        } else {
            ""
        };
        let head = format!(
            "POST /api/public/chat/sessions/{sid}/messages HTTP/1.1\r\nHost: t\r\n{upgrade}\
             Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        );
        slow.push(trickle(
            s.addr,
            head.into_bytes(),
            Duration::from_millis(300),
            Duration::from_secs(6),
        ));
    }
    let mut drains = Vec::new();
    for _ in 0..4 {
        let head = "POST /api/public/chat/sessions HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999\r\n\r\n";
        drains.push(trickle(
            s.addr,
            head.as_bytes().to_vec(),
            Duration::from_millis(300),
            Duration::from_secs(6),
        ));
    }
    for mut d in drains {
        let a = read_all(&mut d, Duration::from_secs(3));
        assert_eq!(a.status, 413, "{a:?}");
    }
    // While they trickle, a normal client's polls and /healthz are prompt.
    let stop = AtomicBool::new(false);
    let lat = thread::scope(|sc| {
        let poller =
            sc.spawn(|| live::poll_loop(&s, &sid, &usid, Duration::from_millis(20), &stop));
        for _ in 0..10 {
            s.assert_healthy_within(100);
            thread::sleep(Duration::from_millis(150));
        }
        stop.store(true, Ordering::SeqCst);
        poller.join().unwrap()
    });
    assert!(lat.0.len() >= 20, "too few polls: {}", lat.0.len());
    assert!(
        lat.p(0.99) < Duration::from_millis(100),
        "poll p99 {:?}",
        lat.p(0.99)
    );
    // The whole-request deadline answers 408 and closes, whatever trickles.
    for mut c in slow {
        let a = read_all(&mut c, Duration::from_secs(6));
        assert_eq!(a.status, 408, "{a:?}");
        assert!(a.closed);
    }
    s.assert_healthy_within(100);
    s.threads_back_to(idle, Duration::from_secs(5));
    assert!(s.alive());
}

#[test]
fn idle_keepalive_connections_past_a_low_fd_limit_never_deafen_it() {
    let _g = heavy();
    let s = Live::start(Opts::default().nofile(1024));
    let idle = s.settled_threads();
    // 501 idle keep-alive connections (each made one request), then twice
    // the cap: the oldest idle ones make room, nothing panics.
    let mut conns = Vec::new();
    for _ in 0..501 {
        let mut c = TcpStream::connect(s.addr).unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        assert_eq!(read_one(&mut c, Duration::from_secs(5)).status, 200);
        conns.push(c);
    }
    s.assert_healthy_within(100);
    for _ in 0..1500 {
        if let Ok(c) = TcpStream::connect(s.addr) {
            conns.push(c);
        }
    }
    s.assert_healthy_within(100);
    assert!(s.fds() < 1024, "fds {}", s.fds());
    drop(conns);
    s.assert_healthy_within(100);
    s.threads_back_to(idle, Duration::from_secs(10));
}

#[test]
fn http2_lines_and_the_h2_preface_get_505_and_free_their_threads() {
    let _g = heavy();
    let s = Live::start(Opts::default());
    let idle = s.settled_threads();
    let fds = s.fds();
    let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    let h2 = b"GET / HTTP/2.0\r\nHost: t\r\n\r\n".to_vec();
    for i in 0..520 {
        let a = raw(
            s.addr,
            if i % 2 == 0 { &h2 } else { &preface },
            Duration::from_secs(5),
        );
        assert_eq!(a.status, 505, "{a:?}");
        assert!(a.closed);
    }
    s.assert_healthy_within(100);
    s.threads_back_to(idle, Duration::from_secs(5));
    assert!(s.fds() <= fds + 2, "fds before {fds}, after {}", s.fds());
}

/// Streams `total` bytes of `fill` after `head`, in the background.
fn stream_flood(
    addr: std::net::SocketAddr,
    head: &'static [u8],
    fill: u8,
    total: usize,
) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    let mut w = s.try_clone().unwrap();
    thread::spawn(move || {
        if w.write_all(head).is_err() {
            return;
        }
        let chunk = vec![fill; 64 * 1024];
        let mut sent = 0;
        while sent < total {
            if w.write_all(&chunk).is_err() {
                return;
            }
            sent += chunk.len();
        }
    });
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

#[test]
fn huge_header_and_chunk_size_lines_are_cut_short_with_bounded_memory() {
    let _g = heavy();
    let s = Live::start(Opts::default());
    let idle = s.settled_threads();
    let mut floods = Vec::new();
    for _ in 0..4 {
        floods.push((
            431,
            stream_flood(
                s.addr,
                b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ",
                b'a',
                100 << 20,
            ),
        ));
    }
    floods.push((400, stream_flood(
        s.addr,
        b"POST /api/public/chat/sessions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1",
        b'0',
        200 << 20,
    )));
    for (want, mut c) in floods {
        let a = read_all(&mut c, Duration::from_secs(5));
        assert_eq!(a.status, want, "{a:?}");
        s.assert_healthy_within(100);
    }
    assert!(s.peak_rss_mib() < 64.0, "peak RSS {} MiB", s.peak_rss_mib());
    s.threads_back_to(idle, Duration::from_secs(5));
}

#[test]
fn ambiguous_framing_is_refused_and_nothing_after_it_is_parsed() {
    let _g = heavy();
    let s = Live::start(Opts::default());
    let idle = s.settled_threads();
    let smuggled = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    let big_chunk = format!("{:x}\r\n{}\r\n0\r\n\r\n", 70 * 1024, "a".repeat(70 * 1024));
    let cases: Vec<(u16, String)> = vec![
        (400, format!("POST /api/public/chat/sessions HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n{smuggled}")),
        (400, format!("POST /api/public/chat/sessions HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: {}\r\n\r\n{{}}{smuggled}", 2 + smuggled.len())),
        (400, format!("POST /api/public/chat/sessions HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}")),
        (400, format!("POST /api/public/chat/sessions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\n\r\n{smuggled}")),
        (413, format!("POST /api/public/chat/sessions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{big_chunk}{smuggled}")),
    ];
    for (want, req) in cases {
        let a = raw(s.addr, req.as_bytes(), Duration::from_secs(5));
        assert_eq!(a.status, want, "{req:.120}: {a:?}");
        assert_eq!(
            a.answers(),
            1,
            "a second answer means the smuggled request ran: {a:?}"
        );
        assert!(a.closed);
    }
    s.assert_healthy_within(100);
    s.threads_back_to(idle, Duration::from_secs(5));
}

#[test]
fn a_burst_of_200_connections_gets_200_answers() {
    let _g = heavy();
    let s = Live::start(Opts::default());
    let idle = s.settled_threads();
    let mut conns: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(s.addr).unwrap())
        .collect();
    for c in &mut conns {
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
    }
    let mut answered = 0;
    for c in &mut conns {
        if read_one(c, Duration::from_secs(5)).status == 200 {
            answered += 1;
        }
    }
    assert_eq!(answered, 200);
    // With the 200 still open (keep-alive), a newcomer is answered at once.
    s.assert_healthy_within(100);
    drop(conns);
    s.threads_back_to(idle, Duration::from_secs(5));
    s.assert_healthy_within(100);
}

#[test]
fn fifty_visitors_posting_back_to_back_all_get_their_answers_within_a_second() {
    let _g = heavy();
    // The 50 visitors share one address here: no limit on new chats.
    let s = Live::start(Opts::args(&["--threads", "8"]).env("CHAT_SESSION_RATE", "0"));
    let idle = s.settled_threads();
    let chats: Vec<(String, String)> = (0..50).map(|_| s.open_chat()).collect();
    let acked = AtomicUsize::new(0);
    let sent = AtomicUsize::new(0);
    let end = Instant::now() + Duration::from_secs(4);
    let all: Vec<Duration> = thread::scope(|sc| {
        let handles: Vec<_> = chats
            .iter()
            .enumerate()
            .map(|(v, (sid, usid))| {
                let (s, acked, sent) = (&s, &acked, &sent);
                sc.spawn(move || {
                    let mut c = TcpStream::connect(s.addr).unwrap();
                    c.set_nodelay(true).unwrap();
                    let mut lat = Vec::new();
                    let mut n = 0;
                    while Instant::now() < end {
                        n += 1;
                        let body = format!("{{\"messageText\":\"m{n}\",\"clientMessageId\":\"v{v}-{n}\"}}");
                        let req = format!(
                            "POST /api/public/chat/sessions/{sid}/messages HTTP/1.1\r\nHost: t\r\n\
                             X-API-Key: {}\r\nX-User-Session-Id: {usid}\r\nContent-Type: application/json\r\n\
                             Content-Length: {}\r\n\r\n{body}",
                            s.key,
                            body.len()
                        );
                        let started = Instant::now();
                        sent.fetch_add(1, Ordering::SeqCst);
                        c.write_all(req.as_bytes()).unwrap();
                        let a = read_one(&mut c, Duration::from_secs(30));
                        assert!(
                            a.status == 201 || a.status == 429,
                            "visitor {v} message {n}: no answer: {a:?}"
                        );
                        if a.status == 201 {
                            acked.fetch_add(1, Ordering::SeqCst);
                        } else {
                            // As the widget does: wait as told, then go on.
                            thread::sleep(Duration::from_millis(200));
                        }
                        lat.push(started.elapsed());
                    }
                    lat
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    crate::live::assert_every_post_answered_and_stored(
        all,
        sent.load(Ordering::SeqCst),
        acked.load(Ordering::SeqCst),
        &s.db,
    );
    s.assert_healthy_within(100);
    s.threads_back_to(idle, Duration::from_secs(5));
    assert!(s.peak_rss_mib() < 64.0, "peak RSS {} MiB", s.peak_rss_mib());
}

#[test]
fn sigterm_answers_every_request_received_and_exits_within_the_grace() {
    let _g = heavy();
    let mut s = Live::start(Opts::args(&["--shutdown-grace", "3"]));
    let (sid, usid) = s.open_chat();
    let _trickler = trickle(
        s.addr,
        format!("POST /api/public/chat/sessions/{sid}/messages HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n")
            .into_bytes(),
        Duration::from_millis(200),
        Duration::from_secs(30),
    );
    let mut clients: Vec<TcpStream> = (0..50)
        .map(|i| {
            let mut c = TcpStream::connect(s.addr).unwrap();
            let body = format!("{{\"messageText\":\"before the signal {i}\",\"clientMessageId\":\"c{i}\"}}");
            let req = format!(
                "POST /api/public/chat/sessions/{sid}/messages HTTP/1.1\r\nHost: t\r\nX-API-Key: {}\r\n\
                 X-User-Session-Id: {usid}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                s.key,
                body.len()
            );
            c.write_all(req.as_bytes()).unwrap();
            c
        })
        .collect();
    let signalled = Instant::now();
    s.sigterm();
    let mut ok = 0;
    for c in &mut clients {
        let a = read_one(c, Duration::from_secs(5));
        if a.status == 201 || a.status == 429 {
            ok += 1;
        }
    }
    assert_eq!(ok, 50, "every complete request is answered");
    let code = s.wait_exit(Duration::from_secs(5));
    assert_eq!(code, Some(0), "{}", live::tail(&s.stderr(), 2000));
    assert!(
        signalled.elapsed() < Duration::from_millis(3500),
        "exited after {:?}",
        signalled.elapsed()
    );
}

#[test]
fn a_thousand_connections_at_once_with_256_fds_and_it_answers_again_right_after() {
    let _g = heavy();
    let mut s = Live::start(Opts::default().nofile(256));
    let idle = s.settled_threads();
    let stop = Arc::new(AtomicBool::new(false));
    // Watch it the whole time: it must answer (200, or a quick 503 when
    // full) and never go deaf.
    let watcher = {
        let (addr, stop) = (s.addr, stop.clone());
        thread::spawn(move || {
            let mut worst = Duration::ZERO;
            while !stop.load(Ordering::SeqCst) {
                let t = Instant::now();
                let a = raw(
                    addr,
                    b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                    Duration::from_secs(3),
                );
                assert!(a.status == 200 || a.status == 503, "deaf: {a:?}");
                worst = worst.max(t.elapsed());
                thread::sleep(Duration::from_millis(20));
            }
            worst
        })
    };
    let conns: Vec<TcpStream> = (0..1000)
        .filter_map(|_| TcpStream::connect(s.addr).ok())
        .collect();
    thread::sleep(Duration::from_millis(300));
    assert!(s.alive());
    drop(conns);
    let closed = Instant::now();
    loop {
        let (status, _) = s.health();
        if status == 200 {
            break;
        }
        assert!(
            closed.elapsed() < Duration::from_secs(1),
            "not answering 1 s after the flood closed"
        );
    }
    assert!(closed.elapsed() < Duration::from_secs(1));
    stop.store(true, Ordering::SeqCst);
    let worst = watcher.join().expect("the server never went deaf");
    assert!(
        worst < Duration::from_secs(1),
        "a health check took {worst:?}"
    );
    s.assert_healthy_within(100);
    s.threads_back_to(idle, Duration::from_secs(10));
}

/// Many slow clients at once, one thread writing a byte to each in turn.
struct Trickler {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Trickler {
    fn start(mut conns: Vec<TcpStream>, every: Duration) -> Trickler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::spawn(move || {
            for c in &conns {
                let _ = c.set_write_timeout(Some(Duration::from_millis(50)));
            }
            while !flag.load(Ordering::SeqCst) {
                for c in &mut conns {
                    let _ = c.write_all(b"a");
                }
                thread::sleep(every);
            }
        });
        Trickler {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Trickler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Opens `n` connections and sends each `head` (the rest is trickled).
fn slow_conns(live: &Live, n: usize, head: &str) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut c = TcpStream::connect(live.addr).expect("connects");
            c.write_all(head.as_bytes()).unwrap();
            c
        })
        .collect()
}

/// Polls on a keep-alive connection for `for_` and returns the latencies.
fn polls_during(live: &Live, sid: &str, usid: &str, for_: Duration) -> Lat {
    let stop = AtomicBool::new(false);
    thread::scope(|sc| {
        let h = sc.spawn(|| live::poll_loop(live, sid, usid, Duration::from_millis(10), &stop));
        thread::sleep(for_);
        stop.store(true, Ordering::SeqCst);
        h.join().unwrap()
    })
}

#[test]
fn five_hundred_slow_bodies_and_five_hundred_slow_headers_do_not_delay_a_poll() {
    let _g = heavy();
    let s = Live::start(Opts::default());
    let idle = s.settled_threads();
    let (sid, usid) = s.open_chat();
    let body_head = format!(
        "POST /api/public/chat/sessions/{sid}/messages HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n"
    );
    let mut conns = slow_conns(&s, 8, &body_head);
    let eight = Trickler::start(std::mem::take(&mut conns), Duration::from_millis(100));
    let lat8 = polls_during(&s, &sid, &usid, Duration::from_secs(2));
    s.assert_healthy_within(100);
    let mut conns = slow_conns(&s, 500, &body_head);
    conns.extend(slow_conns(
        &s,
        500,
        "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ",
    ));
    let thousand = Trickler::start(conns, Duration::from_millis(100));
    let lat1000 = polls_during(&s, &sid, &usid, Duration::from_secs(3));
    s.assert_healthy_within(100);
    for (what, lat) in [("8 slow", &lat8), ("1,008 slow", &lat1000)] {
        assert!(lat.0.len() >= 50, "{what}: only {} polls", lat.0.len());
        assert!(
            lat.p(0.99) < Duration::from_millis(100),
            "{what}: poll p99 {:?} (p50 {:?})",
            lat.p(0.99),
            lat.p(0.5)
        );
    }
    drop(eight);
    drop(thousand);
    s.threads_back_to(idle, Duration::from_secs(15));
}

#[test]
fn at_the_connection_cap_slow_headers_make_room_for_newcomers() {
    let _g = heavy();
    let s = Live::start(Opts::args(&["--max-connections", "300"]));
    let idle = s.settled_threads();
    let conns = slow_conns(&s, 1000, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ");
    let slow = Trickler::start(conns, Duration::from_millis(100));
    // A slow request may be cut for a newcomer once it is 0.5 s old.
    thread::sleep(Duration::from_millis(600));
    for _ in 0..10 {
        s.assert_healthy_within(100);
    }
    assert!(s.fds() < 400, "{} fds", s.fds());
    drop(slow);
    s.threads_back_to(idle, Duration::from_secs(15));
}

#[test]
fn the_watchdog_exits_non_zero_when_the_server_stops_answering_itself() {
    let _g = heavy();
    // A misconfiguration that makes it deaf: a connection cap far above the
    // open-file limit, and idle connections kept for a minute. Once the
    // descriptors are gone nothing can be accepted (nor can the watchdog
    // connect).
    let mut s = Live::start(
        Opts::args(&[
            "--watchdog",
            "2",
            "--max-connections",
            "1000",
            "--idle-timeout",
            "60",
        ])
        .nofile(128),
    );
    s.assert_healthy_within(100);
    let started = Instant::now();
    let _conns: Vec<TcpStream> = (0..200)
        .filter_map(|_| TcpStream::connect(s.addr).ok())
        .collect();
    let code = s.wait_exit(Duration::from_secs(15));
    assert_eq!(code, Some(70), "{}", live::tail(&s.stderr(), 1000));
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let log = s.stderr();
    assert!(log.contains("watchdog"), "{}", live::tail(&log, 1000));
    assert!(
        log.contains("cannot accept connections"),
        "the cause is logged: {}",
        live::tail(&log, 1000)
    );
}

/// A small tmpfs, unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.0.path())
            .status();
    }
}

#[test]
fn a_full_disk_answers_507_and_unhealthy_reads_go_on_and_writes_come_back() {
    let _g = heavy();
    let Some(fs) = Tmpfs::mount("8m") else {
        // Mounting needs root, which CI has; a developer without it is told.
        assert_ne!(
            rustix::process::geteuid().as_raw(),
            0,
            "root could not mount a tmpfs"
        );
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let p = live::Prepared::at(&fs.0.path().join("chat.db"));
    let s = Live::on(&p.db, &p.key, Opts::default().env("CHAT_MESSAGE_RATE", "0"));
    let (sid, usid) = s.open_chat();
    // Fill the disk with a file, to the last byte.
    let filler = fs.0.path().join("filler");
    {
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let mut small = [0u8; 512];
        while f.write_all(&small[..]).is_ok() {
            small[0] = 0;
        }
    }
    let post = |n: usize| {
        crate::common::call(
            &format!("{}/api/public/chat/sessions/{sid}/messages", s.url),
            "POST",
            &[
                ("X-API-Key", s.key.as_str()),
                ("X-User-Session-Id", usid.as_str()),
                ("Content-Type", "application/json"),
            ],
            Some(
                &serde_json::json!({"messageText": format!("{n} {}", "я".repeat(3000))})
                    .to_string(),
            ),
        )
    };
    // Writes may still fit in the WAL for a while; soon one does not.
    let full = (0..2000)
        .map(post)
        .find(|r| r.status != 201)
        .expect("the disk fills up");
    assert_eq!(full.status, 507, "{full:?}");
    assert_eq!(full.error_code(), "storage_full");
    assert!(full.text.contains("disk is full"), "{}", full.text);
    let h = crate::common::call(&format!("{}/healthz", s.url), "GET", &[], None);
    assert_eq!(h.status, 503, "{h:?}");
    assert!(h.text.contains("not writable"), "{}", h.text);
    // Reads keep working.
    let poll = crate::common::call(
        &format!(
            "{}/api/public/chat/sessions/{sid}/messages?since=0&limit=1",
            s.url
        ),
        "GET",
        &[
            ("X-API-Key", s.key.as_str()),
            ("X-User-Session-Id", usid.as_str()),
        ],
        None,
    );
    assert_eq!(poll.status, 200);
    // Space again: healthy, and writes work.
    std::fs::remove_file(&filler).unwrap();
    let h = crate::common::call(&format!("{}/healthz", s.url), "GET", &[], None);
    assert_eq!(h.status, 200, "{h:?}");
    assert_eq!(post(9999).status, 201);
    drop(s);
}

#[test]
fn thirty_kill_9_cycles_under_load_lose_and_duplicate_nothing_acknowledged() {
    let _g = heavy();
    let p = live::Prepared::new();
    let opts = Opts::default()
        .env("CHAT_MESSAGE_RATE", "0")
        .env("CHAT_SESSION_RATE", "0");
    let chats: Vec<(String, String)> = {
        let s = Live::on(&p.db, &p.key, opts.clone());
        (0..4).map(|_| s.open_chat()).collect()
    };
    let mut acked: Vec<String> = Vec::new();
    let mut replied: Vec<String> = Vec::new();
    for cycle in 0..30 {
        let mut s = Live::on(&p.db, &p.key, opts.clone());
        let stop = AtomicBool::new(false);
        let (mut a, r) = thread::scope(|sc| {
            let writers: Vec<_> = chats
                .iter()
                .enumerate()
                .map(|(w, (sid, usid))| {
                    let (s, stop) = (&s, &stop);
                    sc.spawn(move || {
                        let mut ok = Vec::new();
                        let mut n = 0;
                        while !stop.load(Ordering::SeqCst) {
                            n += 1;
                            let cid = format!("c{cycle}-w{w}-{n}");
                            let body = format!("{{\"messageText\":\"{cid}\",\"clientMessageId\":\"{cid}\"}}");
                            let req = format!(
                                "POST /api/public/chat/sessions/{sid}/messages HTTP/1.1\r\nHost: t\r\nX-API-Key: {}\r\n\
                                 X-User-Session-Id: {usid}\r\nContent-Type: application/json\r\nConnection: close\r\n\
                                 Content-Length: {}\r\n\r\n{body}",
                                s.key,
                                body.len()
                            );
                            let a = raw(s.addr, req.as_bytes(), Duration::from_secs(5));
                            if (200..300).contains(&a.status) {
                                ok.push(cid);
                            } else if a.status == 0 {
                                break; // killed
                            }
                        }
                        ok
                    })
                })
                .collect();
            let replier = {
                let (db, stop, sid) = (&p.db, &stop, &chats[0].0);
                sc.spawn(move || {
                    let mut ok = Vec::new();
                    let mut n = 0;
                    while !stop.load(Ordering::SeqCst) {
                        n += 1;
                        let text = format!("r{cycle}-{n}");
                        let mut c = crate::clikit::cmd_for(db);
                        c.args(["reply", sid, &text]);
                        if crate::clikit::run(c).code == Some(0) {
                            ok.push(text);
                        }
                    }
                    ok
                })
            };
            thread::sleep(Duration::from_millis(150 + fastrand::u64(0..250)));
            s.signal("KILL");
            stop.store(true, Ordering::SeqCst);
            let a: Vec<String> = writers
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect();
            (a, replier.join().unwrap())
        });
        let _ = s.child.wait();
        acked.append(&mut a);
        replied.extend(r);
    }
    assert!(acked.len() > 100, "too little load: {}", acked.len());
    let conn = shopchat::db::open_existing(&p.db).unwrap();
    assert_eq!(shopchat::db::integrity_check(&conn).unwrap(), "ok");
    let count = |text: &str| -> i64 {
        conn.query_row(
            "SELECT count(*) FROM chat_messages WHERE message_text = ?1",
            [text],
            |r| r.get(0),
        )
        .unwrap()
    };
    for cid in &acked {
        assert_eq!(count(cid), 1, "acknowledged message {cid}");
    }
    for text in &replied {
        assert_eq!(count(text), 1, "reply {text}");
    }
}
