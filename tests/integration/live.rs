//! The real `shopchat serve` process for tests that attack or stop it: its
//! address, pid, memory and threads (from /proc), raw-socket helpers, and a
//! lock so the heavy tests do not run at the same time as each other.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::clikit::BIN;

/// Heavy tests (floods, kills, load) run one at a time: they measure
/// latency and would measure each other.
pub(crate) fn heavy() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A database with manager `alice` and a widget key, ready for `serve`.
pub(crate) struct Prepared {
    /// Held so the directory lives as long as the database in it.
    #[allow(dead_code)]
    dir: Option<tempfile::TempDir>,
    pub db: PathBuf,
    pub key: String,
}

impl Prepared {
    pub(crate) fn new() -> Prepared {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = Prepared::at(&dir.path().join("chat.db"));
        p.dir = Some(dir);
        p
    }

    /// At `db` (its directory must exist).
    pub(crate) fn at(db: &Path) -> Prepared {
        let db = db.to_path_buf();
        let mut conn = shopchat::db::init(&db).expect("init db");
        shopchat::accounts::add_manager(&mut conn, "alice", Some("Alice"), None).expect("manager");
        let key = shopchat::accounts::add_key(&mut conn, "test").expect("key");
        Prepared { dir: None, db, key }
    }
}

/// How to start the server.
#[derive(Default, Clone)]
pub(crate) struct Opts {
    pub args: Vec<String>,
    /// `ulimit -n` (soft and hard) for the process.
    pub nofile: Option<u32>,
    pub env: Vec<(String, String)>,
}

impl Opts {
    pub(crate) fn args(args: &[&str]) -> Opts {
        Opts {
            args: args.iter().map(std::string::ToString::to_string).collect(),
            ..Opts::default()
        }
    }

    pub(crate) fn env(mut self, k: &str, v: &str) -> Opts {
        self.env.push((k.into(), v.into()));
        self
    }

    pub(crate) fn nofile(mut self, n: u32) -> Opts {
        self.nofile = Some(n);
        self
    }
}

/// A running `shopchat serve`. Killed when dropped.
pub(crate) struct Live {
    pub addr: SocketAddr,
    pub url: String,
    pub key: String,
    pub db: PathBuf,
    pub child: Child,
    pub stdout: Vec<String>,
    stderr: Arc<Mutex<String>>,
    /// Held so the database lives as long as the server on it.
    #[allow(dead_code)]
    prepared: Option<Prepared>,
}

impl Live {
    /// A fresh database and `serve` with `opts`.
    pub(crate) fn start(opts: Opts) -> Live {
        let p = Prepared::new();
        let mut live = Live::on(&p.db, &p.key, opts);
        live.prepared = Some(p);
        live
    }

    /// `serve` on an existing database.
    pub(crate) fn on(db: &Path, key: &str, opts: Opts) -> Live {
        let mut cmd = match opts.nofile {
            None => crate::clikit::shopchat(),
            Some(n) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(BIN);
                c
            }
        };
        cmd.arg("--db")
            .arg(db)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(&opts.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        crate::clikit::clean_env(&mut cmd);
        cmd.envs(opts.env.iter().map(|(k, v)| (k, v)));
        let mut child = cmd.spawn().expect("serve starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        {
            let err = child.stderr.take().unwrap();
            let sink = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    let mut s = sink.lock().unwrap();
                    // Keep the log bounded: the request lines of a flood
                    // are not interesting, the last ones are.
                    if s.len() > 4 << 20 {
                        let cut = s.len() - (2 << 20);
                        s.drain(..cut);
                    }
                    s.push_str(&line);
                    s.push('\n');
                }
            });
        }
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut stdout = Vec::new();
        loop {
            let mut line = String::new();
            let n = out.read_line(&mut line).unwrap_or(0);
            if n == 0 {
                let _ = child.wait();
                panic!(
                    "serve exited before it was ready:\n{}\n{}",
                    stdout.join("\n"),
                    stderr.lock().unwrap()
                );
            }
            let done = line.contains("admin panel");
            stdout.push(line.trim_end().to_string());
            if done {
                break;
            }
        }
        // Keep reading stdout so the process never blocks on it.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        });
        let url = stdout[0]
            .strip_prefix("shopchat listening on ")
            .expect("first line names the URL")
            .to_string();
        let addr: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
        Live {
            addr,
            url,
            key: key.to_string(),
            db: db.to_path_buf(),
            child,
            stdout,
            stderr,
            prepared: None,
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// A field of /proc/PID/status, in its unit (kB for memory).
    fn status_field(&self, name: &str) -> u64 {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .unwrap_or_else(|e| panic!("serve is gone ({e}):\n{}", self.stderr()));
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim_start_matches(':').split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc status"))
    }

    pub(crate) fn threads(&self) -> u64 {
        self.status_field("Threads")
    }

    /// The highest resident memory so far, in MiB.
    pub(crate) fn peak_rss_mib(&self) -> f64 {
        self.status_field("VmHWM") as f64 / 1024.0
    }

    /// Open file descriptors.
    pub(crate) fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map_or(0, std::iter::Iterator::count)
    }

    pub(crate) fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The thread count once the server is idle (taken after start).
    pub(crate) fn settled_threads(&self) -> u64 {
        let mut last = self.threads();
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let now = self.threads();
            if now == last || Instant::now() > deadline {
                return now;
            }
            last = now;
        }
    }

    /// Waits until the thread count is back to `idle`.
    pub(crate) fn threads_back_to(&self, idle: u64, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let now = self.threads();
            if now <= idle {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "threads did not come back to {idle} within {within:?}: {now}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// GET /healthz on a new connection: (status, how long).
    pub(crate) fn health(&self) -> (u16, Duration) {
        let started = Instant::now();
        let r = raw(
            self.addr,
            b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
            Duration::from_secs(5),
        );
        (r.status, started.elapsed())
    }

    /// Asserts /healthz answers 200 within `ms`. Every try must be a 200;
    /// of up to three tries one must be within the limit, so a moment when
    /// the shared machine did not schedule us does not fail the test, while
    /// a server that is slow every time does.
    pub(crate) fn assert_healthy_within(&self, ms: u64) {
        let limit = Duration::from_millis(ms);
        let mut tries = Vec::new();
        for _ in 0..3 {
            let (status, took) = self.health();
            assert_eq!(
                status,
                200,
                "/healthz answered {status} after {took:?}\n{}",
                tail(&self.stderr(), 2000)
            );
            if took <= limit {
                return;
            }
            tries.push(took);
        }
        panic!(
            "/healthz took {tries:?} (limit {limit:?})\n{}",
            tail(&self.stderr(), 2000)
        );
    }

    pub(crate) fn sigterm(&self) {
        self.signal("TERM");
    }

    /// Sends a signal (`TERM`, `KILL`, ...) to the process.
    pub(crate) fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -{name} failed");
    }

    /// Waits for the process to exit; its status code.
    pub(crate) fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "serve did not exit within {within:?}\n{}",
                tail(&self.stderr(), 2000)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A visitor's chat: (session id, visitor secret).
    pub(crate) fn open_chat(&self) -> (String, String) {
        let r = crate::common::call(
            &format!("{}/api/public/chat/sessions", self.url),
            "POST",
            &[
                ("X-API-Key", self.key.as_str()),
                ("Content-Type", "application/json"),
            ],
            Some("{}"),
        );
        assert_eq!(r.status, 201, "{r:?}");
        (
            r.body["session"]["id"].as_str().unwrap().to_string(),
            r.body["session"]["userSessionId"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    }

    /// The raw bytes of a visitor's poll request.
    pub(crate) fn poll_request(&self, sid: &str, usid: &str) -> Vec<u8> {
        format!(
            "GET /api/public/chat/sessions/{sid}/messages?since=0 HTTP/1.1\r\nHost: t\r\n\
             X-API-Key: {}\r\nX-User-Session-Id: {usid}\r\n\r\n",
            self.key
        )
        .into_bytes()
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last `n` bytes of a log.
pub(crate) fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// An answer read off a raw socket.
#[derive(Debug, Default)]
pub(crate) struct RawAnswer {
    /// 0 when nothing (or not HTTP) came back.
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
    /// Every byte received until EOF or the deadline.
    pub all: Vec<u8>,
    /// The server closed the connection.
    pub closed: bool,
}

impl RawAnswer {
    /// How many status lines arrived (answers on this connection).
    pub(crate) fn answers(&self) -> usize {
        let text = String::from_utf8_lossy(&self.all);
        text.matches("HTTP/1.1 ").count() + text.matches("HTTP/1.0 ").count()
    }
}

/// Sends `bytes` on a new connection and reads until the server closes it
/// or `wait` passes.
pub(crate) fn raw(addr: SocketAddr, bytes: &[u8], wait: Duration) -> RawAnswer {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, wait) else {
        return RawAnswer::default();
    };
    let _ = s.set_write_timeout(Some(wait));
    let _ = s.write_all(bytes);
    read_all(&mut s, wait)
}

/// Reads from `s` until EOF or `wait` passes.
pub(crate) fn read_all(s: &mut TcpStream, wait: Duration) -> RawAnswer {
    let deadline = Instant::now() + wait;
    let mut all = Vec::new();
    let mut buf = [0u8; 8192];
    let mut closed = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let _ = s.set_read_timeout(Some(left));
        match s.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break
            }
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    parse_answer(all, closed)
}

/// Reads exactly one answer (head and Content-Length body) from `s`.
pub(crate) fn read_one(s: &mut TcpStream, wait: Duration) -> RawAnswer {
    let deadline = Instant::now() + wait;
    let mut all = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = find(&all, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&all[..end]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())
                        .flatten()
                })
                .unwrap_or(0);
            if all.len() >= end + 4 + len {
                all.truncate(end + 4 + len);
                return parse_answer(all, false);
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return parse_answer(all, false);
        }
        let _ = s.set_read_timeout(Some(left));
        match s.read(&mut buf) {
            Ok(0) => return parse_answer(all, true),
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(_) => return parse_answer(all, false),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Splits what a connection received into status, head and body.
pub(crate) fn parse_answer(all: Vec<u8>, closed: bool) -> RawAnswer {
    let (head, body) = match find(&all, b"\r\n\r\n") {
        Some(end) => (
            String::from_utf8_lossy(&all[..end]).to_string(),
            all[end + 4..].to_vec(),
        ),
        None => (String::from_utf8_lossy(&all).to_string(), Vec::new()),
    };
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| head.strip_prefix("HTTP/1.0 "))
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    RawAnswer {
        status,
        head,
        body,
        all,
        closed,
    }
}

/// Latencies, summarised.
pub(crate) struct Lat(pub Vec<Duration>);

impl Lat {
    pub(crate) fn p(&self, q: f64) -> Duration {
        let mut v = self.0.clone();
        v.sort();
        if v.is_empty() {
            return Duration::ZERO;
        }
        let i = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
        v[i]
    }
}

/// The end of a calm load of visitors posting: every request sent got its
/// answer (`lat` holds one latency per answer), the slowest within a
/// second, and the database holds exactly the `acked` messages.
pub(crate) fn assert_every_post_answered_and_stored(
    lat: Vec<Duration>,
    sent: usize,
    acked: usize,
    db: &Path,
) {
    let lat = Lat(lat);
    assert_eq!(lat.0.len(), sent, "every request got its answer");
    assert!(
        lat.p(1.0) < Duration::from_secs(1),
        "slowest answer {:?}",
        lat.p(1.0)
    );
    let conn = shopchat::db::open_existing(db).unwrap();
    let stored: i64 = conn
        .query_row(
            "SELECT count(*) FROM chat_messages WHERE sender = 'user'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored as usize, acked, "stored = acknowledged");
}

/// A normal client polling on its own keep-alive connection every `every`
/// until `stop`; returns each poll's latency (panics on a failed poll).
pub(crate) fn poll_loop(
    live: &Live,
    sid: &str,
    usid: &str,
    every: Duration,
    stop: &std::sync::atomic::AtomicBool,
) -> Lat {
    use std::sync::atomic::Ordering;
    let req = live.poll_request(sid, usid);
    let mut s = TcpStream::connect(live.addr).expect("poller connects");
    s.set_nodelay(true).unwrap();
    let mut lat = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        if s.write_all(&req).is_err() {
            // The idle timeout closed it between polls: reconnect, as a
            // browser does.
            s = TcpStream::connect(live.addr).expect("poller reconnects");
            s.set_nodelay(true).unwrap();
            continue;
        }
        let a = read_one(&mut s, Duration::from_secs(5));
        if a.status == 0 && a.closed {
            s = TcpStream::connect(live.addr).expect("poller reconnects");
            s.set_nodelay(true).unwrap();
            continue;
        }
        assert_eq!(a.status, 200, "poll failed: {a:?}");
        lat.push(started.elapsed());
        std::thread::sleep(every);
    }
    Lat(lat)
}
