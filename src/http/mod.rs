//! The HTTP server: the only code that touches `tiny_http`. A pool of worker
//! threads, each with its own `SQLite` connection, takes requests from one
//! listener; handlers are plain functions (see [`routes`]) wrapped in
//! `catch_unwind`, so a panic answers 500 and the worker lives on.

mod admin;
mod assets;
pub mod live;
mod public;
pub mod ratelimit;
pub mod reply;
pub mod request;
pub mod routes;
mod telegram;
mod watchdog;

use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::chat::{NoNotify, Notify};
use crate::config::ServeConfig;
use crate::error::{Error, Result};
use crate::secret;
use ratelimit::RateLimiter;
pub use reply::Reply;
pub use request::Request;

/// State shared by every worker.
pub struct Shared {
    pub config: ServeConfig,
    /// Hashes of the keys in `CHAT_API_KEYS` and of the demo page's key.
    pub static_key_hashes: Vec<String>,
    /// A key valid while this process runs, shown on the demo page; `None`
    /// with `--no-demo`.
    pub demo_key: Option<String>,
    pub session_limiter: RateLimiter,
    pub message_limiter: RateLimiter,
    pub notify: Arc<dyn Notify>,
    /// Telegram, when configured (the webhook needs it).
    pub telegram: Option<Arc<crate::telegram::Config>>,
    /// The waiting room for long-polls and typing (set by `Server::start`).
    pub live: Option<Arc<live::Live>>,
    /// Typing events per chat (each side).
    pub typing_limiter: RateLimiter,
}

impl Shared {
    pub fn new(config: ServeConfig) -> Shared {
        let demo_key = config.demo.then(secret::new_api_key);
        let mut static_key_hashes: Vec<String> = config
            .env_api_keys
            .iter()
            .map(|k| secret::hash(k))
            .collect();
        if let Some(k) = &demo_key {
            static_key_hashes.push(secret::hash(k));
        }
        let session_limiter = RateLimiter::new(
            f64::from(config.session_rate) / 60.0,
            f64::from(config.session_rate),
        );
        let message_limiter = RateLimiter::new(
            f64::from(config.message_rate),
            f64::from(config.message_rate) * 2.0,
        );
        Shared {
            config,
            static_key_hashes,
            demo_key,
            session_limiter,
            message_limiter,
            notify: Arc::new(NoNotify),
            telegram: None,
            live: None,
            typing_limiter: RateLimiter::new(5.0, 20.0),
        }
    }
}

/// What a handler gets: the shared state and this worker's connection.
pub struct Ctx<'a> {
    pub shared: &'a Shared,
    pub conn: &'a mut Connection,
}

/// Stack of a connection thread: it parses and copies bytes, nothing more.
/// Only the pages a thread touches are resident: 64 KiB gave the same RSS
/// with 1,000 polling widgets as 128 KiB (bench/), so the margin stays.
const CONNECTION_STACK: usize = 128 * 1024;

/// File descriptors kept free of connections: the database and its WAL
/// files per worker, the listener, logs, Telegram, the watchdog.
fn reserved_fds(threads: usize) -> u64 {
    64 + 4 * threads as u64
}

/// The most connections the file-descriptor limit `nofile` allows, with
/// room for everything else; at most 4,096 (each is a thread).
pub fn default_max_connections(nofile: u64, threads: usize) -> usize {
    nofile.saturating_sub(reserved_fds(threads)).clamp(16, 4096) as usize
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (a systemd default is a
/// soft 1,024) and returns the soft limit now in force.
pub fn raise_fd_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut lim = getrlimit(Resource::Nofile);
    if let Some(hard) = lim.maximum {
        if lim.current.is_some_and(|soft| soft < hard) {
            lim.current = Some(hard);
            if let Err(e) = setrlimit(Resource::Nofile, lim) {
                eprintln!("shopchat: could not raise the open-file limit to {hard}: {e}");
            }
        }
    }
    getrlimit(Resource::Nofile).current.unwrap_or(1 << 20)
}

/// A running server. Dropping it stops it.
pub struct Server {
    addr: SocketAddr,
    listener: Arc<tiny_http::Server>,
    live: Arc<live::Live>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
    grace: Duration,
    max_connections: usize,
}

impl Server {
    /// Binds, opens one connection per worker, and starts serving. The
    /// database must be initialised (`db::init`) first.
    pub fn start(shared: Shared) -> Result<Server> {
        let bind = shared.config.bind;
        let tcp = std::net::TcpListener::bind(bind)
            .map_err(|e| Error::Internal(format!("could not listen on {bind}: {e}")))?;
        let max_connections = shared.config.max_connections.unwrap_or_else(|| {
            let nofile = rustix::process::getrlimit(rustix::process::Resource::Nofile)
                .current
                .unwrap_or(1024);
            default_max_connections(nofile, shared.config.threads)
        });
        let options = tiny_http::Options {
            limits: tiny_http::Limits {
                max_body: request::MAX_BODY,
                ..tiny_http::Limits::default()
            },
            request_timeout: shared.config.request_timeout,
            idle_timeout: shared.config.idle_timeout,
            write_timeout: shared.config.request_timeout,
            max_connections,
            stack_size: CONNECTION_STACK,
            refusal_body: Some(Arc::new(|r: &tiny_http::Refusal| {
                let body = serde_json::json!({"error": {"code": r.code, "message": r.message}});
                (
                    "application/json; charset=utf-8".to_string(),
                    body.to_string().into_bytes(),
                )
            })),
            ..tiny_http::Options::default()
        };
        let listener = tiny_http::Server::with_options(tcp, options)
            .map_err(|e| Error::Internal(format!("could not listen on {bind}: {e}")))?;
        let addr = listener.server_addr();
        let listener = Arc::new(listener);
        let stop = Arc::new(AtomicBool::new(false));
        let grace = shared.config.shutdown_grace;
        let watchdog = shared.config.watchdog;
        let mut shared = shared;
        let live = live::Live::start(crate::db::open(&shared.config.db)?, max_connections / 2)?;
        shared.live = Some(live.clone());
        let shared = Arc::new(shared);
        let mut workers = Vec::new();
        for n in 0..shared.config.threads {
            let conn = crate::db::open(&shared.config.db)?;
            let (listener, shared, stop) = (listener.clone(), shared.clone(), stop.clone());
            let handle = std::thread::Builder::new()
                .name(format!("http-{n}"))
                .spawn(move || worker(&listener, &shared, conn, &stop))
                .map_err(|e| Error::Internal(format!("could not start a worker: {e}")))?;
            workers.push(handle);
        }
        if let Some(limit) = watchdog {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("watchdog".into())
                .spawn(move || watchdog::run(addr, limit, &stop))
                .map_err(|e| Error::Internal(format!("could not start the watchdog: {e}")))?;
        }
        Ok(Server {
            addr,
            listener,
            live,
            stop,
            workers,
            grace,
            max_connections,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The cap on open connections in force.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// The HTTP layer's counters.
    pub fn stats(&self) -> tiny_http::Stats {
        self.listener.stats()
    }

    /// Long-polls waiting now.
    pub fn parked(&self) -> usize {
        self.live.parked()
    }

    /// Stops: no new connections, idle ones closed, every request already
    /// received answered; after the grace period whatever is left is cut.
    /// Returns within the grace period (plus a moment), whatever clients do.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.workers.is_empty() {
            return;
        }
        let deadline = Instant::now() + self.grace;
        self.listener.begin_shutdown();
        // Waiting polls answer now with what there is.
        self.live.stop();
        while self.listener.open_connections() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let left = self.listener.open_connections();
        if left > 0 {
            eprintln!(
                "shopchat: grace period over; closing {left} connection(s) still sending or waiting"
            );
            self.listener.force_close();
        }
        self.stop.store(true, Ordering::SeqCst);
        // A worker finishes the request in hand; one stuck in the database
        // is left behind rather than holding up the exit.
        let join_by = Instant::now() + Duration::from_millis(500);
        for w in self.workers.drain(..) {
            while !w.is_finished() && Instant::now() < join_by {
                std::thread::sleep(Duration::from_millis(5));
            }
            if w.is_finished() {
                let _ = w.join();
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn worker(listener: &tiny_http::Server, shared: &Shared, mut conn: Connection, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        if let Ok(Some(rq)) = listener.recv_timeout(Duration::from_millis(100)) {
            handle(rq, shared, &mut conn);
        }
    }
}

fn handle(mut rq: tiny_http::Request, shared: &Shared, conn: &mut Connection) {
    let started = Instant::now();
    let method = rq.method().as_str().to_string();
    let path = rq.url().split('?').next().unwrap_or("").to_string();
    let public = routes::is_public(&path);
    // The watchdog's own checks, every few seconds, would bury the log.
    let quiet = path == "/healthz"
        && rq
            .headers()
            .iter()
            .any(|h| h.field.equiv("User-Agent") && h.value.as_str() == watchdog::USER_AGENT);
    let mut origin = None;
    let mut reply = match Request::read(&mut rq, shared.config.trust_proxy) {
        Err(e) => Reply::error(&e),
        Ok(req) => {
            origin = req.header("origin").map(str::to_string);
            let mut ctx = Ctx { shared, conn };
            run_handler(&method, &path, || routes::route(&req, &mut ctx))
        }
    };
    let live = shared.live.as_ref();
    if method != "GET" && method != "HEAD" && (200..300).contains(&reply.status) {
        // A write may have changed a chat: the waiting room looks now.
        if let Some(live) = live {
            live.poke();
        }
    }
    let allowed = shared.config.allowed_origins.clone();
    let preflight = method == "OPTIONS";
    let finish = move |reply: Reply| {
        let reply = if public {
            routes::with_cors(reply, origin.as_deref(), &allowed, preflight)
        } else {
            reply
        };
        let status = reply.status;
        let _ = rq.respond(to_tiny(reply));
        if !quiet || status != 200 {
            // One write per line: eprintln! on unbuffered stderr writes each
            // piece of the format on its own (eight syscalls a request, 4%
            // of a poll).
            let line = format!(
                "{method} {path} {status} {}ms\n",
                started.elapsed().as_millis()
            );
            let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
        }
    };
    match (reply.park.take(), live) {
        (Some((park, wait)), Some(live)) => live.park(live::Parked {
            park,
            until: Instant::now() + wait,
            respond: Box::new(finish),
        }),
        _ => finish(reply),
    }
}

/// Runs a handler, turning its error into the JSON answer and a panic into
/// a logged 500, so one bad request never takes a worker down.
fn run_handler(method: &str, path: &str, handler: impl FnOnce() -> Result<Reply>) -> Reply {
    match catch_unwind(AssertUnwindSafe(handler)) {
        Ok(Ok(reply)) => reply,
        Ok(Err(e)) => {
            if e.status() == 500 {
                log_error(method, path, &e);
            }
            Reply::error(&e)
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(std::string::ToString::to_string)
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            eprintln!("shopchat: handler panicked on {method} {path}: {what}");
            Reply::error(&Error::Internal("handler panicked".into()))
        }
    }
}

fn log_error(method: &str, path: &str, e: &Error) {
    let mut msg = format!("shopchat: {method} {path}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    eprintln!("{msg}");
}

fn to_tiny(reply: Reply) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut resp = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    let mut add = |name: &str, value: &str| {
        if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            resp.add_header(h);
        }
    };
    if reply.status != 204 && reply.status != 304 {
        let ct = match reply.content_type {
            reply::JSON => "application/json; charset=utf-8",
            other => other,
        };
        add("Content-Type", ct);
    }
    add("X-Content-Type-Options", "nosniff");
    for (name, value) in &reply.headers {
        add(name, value);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_handler_answers_500_json_and_the_next_one_runs() {
        let r = run_handler("GET", "/boom", || panic!("boom"));
        assert_eq!(r.status, 500);
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["error"]["code"], "internal");
        assert_eq!(
            body["error"]["message"], "internal error",
            "no details leak"
        );
        let ok = run_handler("GET", "/fine", || {
            Ok(Reply::ok(&serde_json::json!({"ok": true})))
        });
        assert_eq!(ok.status, 200);
    }

    #[test]
    fn an_internal_error_tells_the_client_nothing_more() {
        let r = run_handler("GET", "/db", || {
            Err(Error::Internal("disk on fire at /var/x".into()))
        });
        assert_eq!(r.status, 500);
        assert!(!String::from_utf8_lossy(&r.body).contains("disk"));
        let busy = run_handler("GET", "/db", || Err(Error::Busy));
        assert_eq!(busy.status, 503);
        assert!(busy
            .headers
            .iter()
            .any(|(k, v)| *k == "Retry-After" && v == "1"));
    }
}
