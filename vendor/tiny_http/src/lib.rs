// shopchat: vendored and patched (see PATCHED.md); not linted as our code.
#![allow(warnings, clippy::all)]
//! tiny_http 0.12, shopchat's hardened copy.
//!
//! A [`Server`] accepts TCP connections on one thread and gives each
//! connection a thread of its own, which reads whole requests (bounded, under
//! one deadline per request: see [`http1`]) and writes their answers. Workers
//! call [`Server::recv`] and get only complete requests; answering one
//! ([`Request::respond`]) renders it in memory and hands it back to its
//! connection's thread. A slow or hostile client therefore holds only its own
//! connection thread, and the number of connections is capped.
//!
//! ```no_run
//! let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
//! loop {
//!     let request = match server.recv() {
//!         Ok(rq) => rq,
//!         Err(_) => break,
//!     };
//!     let _ = request.respond(tiny_http::Response::from_string("hello"));
//! }
//! ```
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

use std::collections::BTreeMap;
use std::error::Error;
use std::fs::File;
use std::io::Error as IoError;
use std::io::ErrorKind as IoErrorKind;
use std::io::Result as IoResult;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use util::MessagesQueue;

pub use common::{HTTPVersion, Header, HeaderField, Method, StatusCode};
pub use http1::{Limits, Refusal};
pub use request::Request;
pub use response::{Response, ResponseBox};

mod common;
pub mod http1;
mod request;
mod response;
mod util;

/// Renders the body of an answer the server gives by itself (400, 408, 413,
/// 414, 431, 503, 505): content type and bytes.
pub type RefusalBody = Arc<dyn Fn(&Refusal) -> (String, Vec<u8>) + Send + Sync>;

/// shopchat patch 5: how the server treats connections.
#[derive(Clone)]
pub struct Options {
    /// Bounds on what one request may make us read and hold.
    pub limits: Limits,
    /// Deadline for receiving one whole request, from its first byte to the
    /// end of its body. Past it: 408 and close.
    pub request_timeout: Duration,
    /// How long a connection may wait for its next request (keep-alive),
    /// and a new connection for its first byte. Past it: closed quietly.
    pub idle_timeout: Duration,
    /// Deadline for writing one answer.
    pub write_timeout: Duration,
    /// Most connections open at once. Past it, room is made by closing the
    /// oldest idle keep-alive connection, else the oldest connection that
    /// has been sending its request for longer than `slow_request`; when
    /// there is neither, the new connection gets 503 and is closed.
    pub max_connections: usize,
    /// At the connection cap, a request still arriving after this long is
    /// from a slow (or hostile) client, and its connection may be closed to
    /// make room for a new one.
    pub slow_request: Duration,
    /// Stack size of connection threads (they only parse and copy bytes).
    pub stack_size: usize,
    /// The listen backlog (std's `bind` uses 128): connections the kernel
    /// completes while the accept loop is busy. When it overflows, a
    /// client's handshake is dropped and retried only after a second.
    pub backlog: i32,
    /// The body of the server's own refusals; plain text when `None`.
    pub refusal_body: Option<RefusalBody>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
            max_connections: 1024,
            slow_request: Duration::from_millis(500),
            stack_size: 128 * 1024,
            backlog: 1024,
            refusal_body: None,
        }
    }
}

/// Counters, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections open now.
    pub open: usize,
    /// Connections accepted since start.
    pub accepted: u64,
    /// Connections refused with 503 because `max_connections` were open.
    pub refused_busy: u64,
    /// Idle keep-alive connections closed to make room for new ones.
    pub evicted_idle: u64,
    /// Slow requests (still arriving after `slow_request`) cut to make room.
    pub evicted_slow: u64,
    /// accept() failures for lack of file descriptors or memory.
    pub accept_errors: u64,
    /// Requests refused by the server itself (4xx/5xx before a worker).
    pub refused_requests: u64,
}

/// The main class of this library.
///
/// Dropping it stops accepting and closes every connection.
pub struct Server {
    inner: Arc<Inner>,
    listening_addr: SocketAddr,
    accept_thread: Mutex<Option<thread::JoinHandle<()>>>,
}

const IDLE: u8 = 0;
const READING: u8 = 1;
const WAITING: u8 = 2;
const WRITING: u8 = 3;
/// Chosen to be closed to make room (was IDLE).
const EVICTED: u8 = 4;

struct Conn {
    stream: Arc<TcpStream>,
    state: Arc<ConnState>,
}

/// What a connection is doing, and since when (ms after the server started).
struct ConnState {
    phase: AtomicU8,
    since_ms: AtomicU64,
}

impl ConnState {
    fn set(&self, inner: &Inner, phase: u8) {
        self.since_ms.store(inner.now_ms(), Ordering::SeqCst);
        self.phase.store(phase, Ordering::SeqCst);
    }
}

struct Inner {
    options: Options,
    messages: Arc<MessagesQueue<Request>>,
    closing: Arc<AtomicBool>,
    /// Open connections by id (ids grow, so the first is the oldest).
    conns: Mutex<BTreeMap<u64, Conn>>,
    open: AtomicUsize,
    next_id: AtomicU64,
    accepted: AtomicU64,
    refused_busy: AtomicU64,
    evicted_idle: AtomicU64,
    evicted_slow: AtomicU64,
    accept_errors: AtomicU64,
    refused_requests: AtomicU64,
    epoch: Instant,
}

impl Inner {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

// Server must be shareable between worker threads.
#[doc(hidden)]
trait MustBeShareDummy: Sync + Send {}
#[doc(hidden)]
impl MustBeShareDummy for Server {}

pub struct IncomingRequests<'a> {
    server: &'a Server,
}

impl Server {
    /// Shortcut for a simple server on a specific address, default options.
    pub fn http<A>(addr: A) -> Result<Server, Box<dyn Error + Send + Sync + 'static>>
    where
        A: ToSocketAddrs,
    {
        let listener = TcpListener::bind(addr)?;
        Ok(Server::with_options(listener, Options::default())?)
    }

    /// Builds a new server using the specified TCP listener, default options.
    pub fn from_listener(
        listener: TcpListener,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        Ok(Server::with_options(listener, Options::default())?)
    }

    /// shopchat patch 5: a server on `listener` with `options`.
    pub fn with_options(listener: TcpListener, options: Options) -> IoResult<Server> {
        let listening_addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        // Listening again on a listening socket only changes its backlog.
        rustix::net::listen(&listener, options.backlog)?;
        let inner = Arc::new(Inner {
            options,
            messages: MessagesQueue::with_capacity(64),
            closing: Arc::new(AtomicBool::new(false)),
            conns: Mutex::new(BTreeMap::new()),
            open: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            accepted: AtomicU64::new(0),
            refused_busy: AtomicU64::new(0),
            evicted_idle: AtomicU64::new(0),
            evicted_slow: AtomicU64::new(0),
            accept_errors: AtomicU64::new(0),
            refused_requests: AtomicU64::new(0),
            epoch: Instant::now(),
        });
        let accept_thread = {
            let inner = inner.clone();
            thread::Builder::new()
                .name("http-accept".into())
                .spawn(move || accept_loop(listener, &inner))?
        };
        Ok(Server {
            inner,
            listening_addr,
            accept_thread: Mutex::new(Some(accept_thread)),
        })
    }

    /// Returns an iterator for all the incoming requests.
    #[inline]
    pub fn incoming_requests(&self) -> IncomingRequests<'_> {
        IncomingRequests { server: self }
    }

    /// Returns the address the server is listening to.
    #[inline]
    pub fn server_addr(&self) -> SocketAddr {
        self.listening_addr
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        let i = &self.inner;
        Stats {
            open: i.open.load(Ordering::SeqCst),
            accepted: i.accepted.load(Ordering::Relaxed),
            refused_busy: i.refused_busy.load(Ordering::Relaxed),
            evicted_idle: i.evicted_idle.load(Ordering::Relaxed),
            evicted_slow: i.evicted_slow.load(Ordering::Relaxed),
            accept_errors: i.accept_errors.load(Ordering::Relaxed),
            refused_requests: i.refused_requests.load(Ordering::Relaxed),
        }
    }

    /// Blocks until an HTTP request has been submitted and returns it.
    pub fn recv(&self) -> IoResult<Request> {
        match self.inner.messages.pop() {
            Some(rq) => Ok(rq),
            None => Err(IoError::new(IoErrorKind::Other, "thread unblocked")),
        }
    }

    /// Same as `recv()` but doesn't block longer than timeout
    pub fn recv_timeout(&self, timeout: Duration) -> IoResult<Option<Request>> {
        Ok(self.inner.messages.pop_timeout(timeout))
    }

    /// Same as `recv()` but doesn't block.
    pub fn try_recv(&self) -> IoResult<Option<Request>> {
        Ok(self.inner.messages.try_pop())
    }

    /// Unblock thread stuck in recv() or incoming_requests().
    /// If there are several such threads, only one is unblocked.
    pub fn unblock(&self) {
        self.inner.messages.unblock();
    }

    /// shopchat patch 6: begins a graceful shutdown. The listener closes
    /// (new connections are refused by the kernel), idle connections are
    /// closed, and every connection closes after its current answer.
    /// Requests already received are still delivered to `recv`.
    pub fn begin_shutdown(&self) {
        if self.inner.closing.swap(true, Ordering::SeqCst) {
            return;
        }
        let accept = self
            .accept_thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(t) = accept {
            let _ = t.join();
        }
        // Idle connections close now, unless a request is already waiting
        // in the socket: that one is still read and answered.
        let conns = self.inner.conns.lock().unwrap_or_else(|p| p.into_inner());
        for c in conns.values() {
            if c.state.phase.load(Ordering::SeqCst) == IDLE && !readable_now(&c.stream) {
                let _ = c.stream.shutdown(Shutdown::Both);
            }
        }
    }

    /// Connections still open (after `begin_shutdown`: those with a request
    /// in flight, or a partial one).
    pub fn open_connections(&self) -> usize {
        self.inner.open.load(Ordering::SeqCst)
    }

    /// Cuts every connection still open (the end of a shutdown's grace).
    pub fn force_close(&self) {
        let conns = self.inner.conns.lock().unwrap_or_else(|p| p.into_inner());
        for c in conns.values() {
            let _ = c.stream.shutdown(Shutdown::Both);
        }
    }
}

impl Iterator for IncomingRequests<'_> {
    type Item = Request;
    fn next(&mut self) -> Option<Request> {
        self.server.recv().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.begin_shutdown();
        self.force_close();
    }
}

/// shopchat patch 2: the accept loop. Waits for the listener with poll(2),
/// so it notices a shutdown within 100 ms; survives every accept() error;
/// enforces the connection cap.
fn accept_loop(listener: TcpListener, inner: &Arc<Inner>) {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    // A spare descriptor: when accept() fails for lack of descriptors, it is
    // given up for a moment to accept and close one waiting connection, so
    // clients get an answer (a close) instead of hanging in the backlog.
    let mut spare = File::open("/dev/null").ok();
    let mut backoff = Duration::ZERO;
    let mut log = RateLimitedLog::default();
    let tick = Timespec {
        tv_sec: 0,
        tv_nsec: 100_000_000,
    };
    while !inner.closing.load(Ordering::SeqCst) {
        let mut fds = [PollFd::new(&listener, PollFlags::IN)];
        match poll(&mut fds, Some(&tick)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(e) => {
                log.error(&format!("poll on the listener failed: {e}"));
                thread::sleep(Duration::from_millis(50));
                continue;
            }
        }
        loop {
            if inner.closing.load(Ordering::SeqCst) {
                break;
            }
            match listener.accept() {
                Ok((stream, addr)) => {
                    backoff = Duration::ZERO;
                    admit(inner, stream, addr);
                }
                Err(e) if e.kind() == IoErrorKind::WouldBlock => break,
                Err(e) if e.kind() == IoErrorKind::Interrupted => continue,
                Err(e) if out_of_resources(&e) => {
                    inner.accept_errors.fetch_add(1, Ordering::Relaxed);
                    log.error(&format!(
                        "cannot accept connections: {e}; {} open; backing off",
                        inner.open.load(Ordering::SeqCst)
                    ));
                    if let Some(f) = spare.take() {
                        drop(f);
                        if let Ok((stream, _)) = listener.accept() {
                            refuse_at_once(stream);
                        }
                        spare = File::open("/dev/null").ok();
                    }
                    backoff = (backoff * 2).clamp(Duration::from_millis(10), Duration::from_millis(500));
                    thread::sleep(backoff);
                    break;
                }
                Err(e) => {
                    // ECONNABORTED and the like: that one connection is gone.
                    log.error(&format!("accept failed: {e}"));
                    break;
                }
            }
        }
        if spare.is_none() {
            spare = File::open("/dev/null").ok();
        }
    }
    // Shutting down: connections already in the backlog may hold requests
    // sent before the signal; take them, so those are answered (each
    // connection then closes after one answer). Then the listener closes.
    while let Ok((stream, addr)) = listener.accept() {
        admit(inner, stream, addr);
    }
}

/// Whether the client has closed its side (an EOF is waiting; a pipelined
/// request waiting there is not a close).
fn peer_closed(stream: &TcpStream) -> bool {
    let mut one = [0u8; 1];
    readable_now(stream) && matches!(stream.peek(&mut one), Ok(0) | Err(_))
}

/// Whether bytes (or an EOF) are waiting to be read on `stream` right now.
fn readable_now(stream: &TcpStream) -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let zero = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let mut fds = [PollFd::new(stream, PollFlags::IN)];
    matches!(poll(&mut fds, Some(&zero)), Ok(n) if n > 0)
}

fn out_of_resources(e: &IoError) -> bool {
    // EMFILE, ENFILE, ENOBUFS, ENOMEM
    matches!(e.raw_os_error(), Some(24 | 23 | 105 | 12))
}

/// Logs at most one line per 5 s, counting what it left out.
#[derive(Default)]
struct RateLimitedLog {
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimitedLog {
    fn error(&mut self, msg: &str) {
        let now = Instant::now();
        if self
            .last
            .map_or(true, |t| now.duration_since(t) >= Duration::from_secs(5))
        {
            if self.suppressed > 0 {
                eprintln!("shopchat: http: {msg} ({} similar left out)", self.suppressed);
            } else {
                eprintln!("shopchat: http: {msg}");
            }
            self.last = Some(now);
            self.suppressed = 0;
        } else {
            self.suppressed += 1;
        }
    }
}

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
Retry-After: 1\r\nContent-Length: 82\r\nConnection: close\r\n\r\n\
{\"error\":{\"code\":\"busy\",\"message\":\"too many connections; try again in a moment\"}}";

/// A quick 503 without reading anything: at most one write that cannot
/// block, then close.
fn refuse_at_once(stream: TcpStream) {
    use std::io::Write;
    let _ = stream.set_nonblocking(true);
    let _ = (&stream).write(BUSY);
    let _ = stream.shutdown(Shutdown::Write);
}

/// Takes a new connection: within the cap it gets its own thread.
fn admit(inner: &Arc<Inner>, stream: TcpStream, addr: SocketAddr) {
    inner.accepted.fetch_add(1, Ordering::Relaxed);
    if stream.set_nonblocking(false).is_err() {
        return;
    }
    // shopchat patch 1: answers are written whole, but small ones should
    // not wait for delayed ACKs.
    let _ = stream.set_nodelay(true);
    if inner.open.load(Ordering::SeqCst) >= inner.options.max_connections && !make_room(inner) {
        inner.refused_busy.fetch_add(1, Ordering::Relaxed);
        refuse_at_once(stream);
        return;
    }
    let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
    let stream = Arc::new(stream);
    let state = Arc::new(ConnState {
        phase: AtomicU8::new(IDLE),
        since_ms: AtomicU64::new(inner.now_ms()),
    });
    inner
        .conns
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(
            id,
            Conn {
                stream: stream.clone(),
                state: state.clone(),
            },
        );
    inner.open.fetch_add(1, Ordering::SeqCst);
    let spawned = {
        let inner = inner.clone();
        let stream = stream.clone();
        thread::Builder::new()
            .name("http-conn".into())
            .stack_size(inner.options.stack_size)
            .spawn(move || {
                serve_connection(&inner, &stream, &state, addr);
                forget(&inner, id);
            })
    };
    if let Err(e) = spawned {
        forget(inner, id);
        eprintln!("shopchat: http: cannot start a connection thread: {e}");
        if let Ok(s) = Arc::try_unwrap(stream) {
            refuse_at_once(s);
        }
    }
}

fn forget(inner: &Inner, id: u64) {
    let gone = inner
        .conns
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&id);
    if let Some(c) = gone {
        let _ = c.stream.shutdown(Shutdown::Both);
        inner.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// At the cap: closes the oldest idle keep-alive connection, else the
/// oldest request that has been arriving for longer than `slow_request`.
/// Whether room was made.
fn make_room(inner: &Inner) -> bool {
    let conns = inner.conns.lock().unwrap_or_else(|p| p.into_inner());
    let evict = |c: &Conn, from: u8| {
        let ok = c
            .state
            .phase
            .compare_exchange(from, EVICTED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if ok {
            // Its thread sees the socket shut and exits.
            let _ = c.stream.shutdown(Shutdown::Both);
        }
        ok
    };
    if conns.values().any(|c| evict(c, IDLE)) {
        inner.evicted_idle.fetch_add(1, Ordering::Relaxed);
        return true;
    }
    let slow_before = inner
        .now_ms()
        .saturating_sub(inner.options.slow_request.as_millis() as u64);
    let slow = conns.values().any(|c| {
        c.state.since_ms.load(Ordering::SeqCst) < slow_before && evict(c, READING)
    });
    if slow {
        inner.evicted_slow.fetch_add(1, Ordering::Relaxed);
    }
    slow
}

/// One connection's life: read a whole request, hand it to a worker, write
/// its answer, and again while the client keeps the connection alive.
fn serve_connection(inner: &Inner, stream: &TcpStream, state: &ConnState, peer: SocketAddr) {
    let opts = &inner.options;
    let mut wire = http1::Wire::new(stream);
    loop {
        // Only this thread moves a connection out of WRITING (or the
        // initial IDLE); eviction and shutdown act on IDLE connections by
        // shutting their socket, which ends the wait below.
        state.set(inner, IDLE);
        if inner.closing.load(Ordering::SeqCst) && wire.buffered() == 0 && !readable_now(stream)
        {
            return;
        }
        wire.shrink_if_empty();
        if wire
            .wait_for_request(Instant::now() + opts.idle_timeout)
            .is_err()
        {
            return;
        }
        state.since_ms.store(inner.now_ms(), Ordering::SeqCst);
        if state
            .phase
            .compare_exchange(IDLE, READING, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            // Evicted while the first bytes arrived.
            return;
        }
        let deadline = Instant::now() + opts.request_timeout;
        let read = http1::read_request(&mut wire, &opts.limits, deadline, || {
            http1::write_all(stream, b"HTTP/1.1 100 Continue\r\n\r\n", deadline)
        });
        let parsed = match read {
            Ok(p) => p,
            Err(http1::ReadError::Idle) | Err(http1::ReadError::Gone) => return,
            Err(http1::ReadError::Timeout) => {
                refuse(
                    inner,
                    stream,
                    &Refusal {
                        status: 408,
                        code: "request_timeout",
                        message: format!(
                            "the request did not arrive whole within {} s",
                            opts.request_timeout.as_secs()
                        ),
                    },
                );
                return;
            }
            Err(http1::ReadError::Refused(r)) => {
                refuse(inner, stream, &r);
                return;
            }
        };
        state.set(inner, WAITING);
        let (tx, rx) = mpsc::sync_channel(1);
        let rq = request::new_request(
            parsed.method,
            parsed.target,
            parsed.version,
            parsed.headers,
            Some(peer),
            parsed.body,
            request::AnswerSink {
                tx,
                close: !parsed.keep_alive,
                closing: inner.closing.clone(),
            },
        );
        inner.messages.push(rq);
        // Wait for the answer; a client that hangs up meanwhile (a tab
        // closed during a long-poll) frees its connection at once.
        let answer = loop {
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(a) => break a,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Err(mpsc::RecvTimeoutError::Timeout) if peer_closed(stream) => return,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        };
        state.set(inner, WRITING);
        if http1::write_all(stream, &answer.bytes, Instant::now() + opts.write_timeout).is_err() {
            return;
        }
        if answer.close {
            let _ = stream.shutdown(Shutdown::Write);
            linger(stream);
            return;
        }
    }
}

/// Answers a request the server refuses by itself and closes the
/// connection. Whatever the client still sends is read and dropped for a
/// moment (never parsed, never kept), so it sees the answer rather than a
/// reset.
fn refuse(inner: &Inner, stream: &TcpStream, r: &Refusal) {
    inner.refused_requests.fetch_add(1, Ordering::Relaxed);
    let (ctype, body) = match &inner.options.refusal_body {
        Some(f) => f(r),
        None => ("text/plain; charset=utf-8".to_string(), r.message.clone().into_bytes()),
    };
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        r.status,
        StatusCode(r.status).default_reason_phrase(),
        ctype,
        body.len()
    );
    if r.status == 503 {
        head.push_str("Retry-After: 1\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&body);
    let deadline = Instant::now() + Duration::from_secs(2);
    if http1::write_all(stream, &bytes, deadline).is_ok() {
        let _ = stream.shutdown(Shutdown::Write);
        linger(stream);
    }
}

/// After the last answer: drain (and drop) what the client still sends for
/// at most 1 s and 256 KiB, so closing does not reset the connection before
/// the client has read the answer.
fn linger(stream: &TcpStream) {
    use std::io::Read;
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut budget = 256 * 1024usize;
    let mut buf = [0u8; 4096];
    while budget > 0 {
        let now = Instant::now();
        if now >= deadline || stream.set_read_timeout(Some(deadline - now)).is_err() {
            return;
        }
        match (&*stream).read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => budget = budget.saturating_sub(n),
        }
    }
}
