//! shopchat patch 3 (see PATCHED.md): a strict, bounded HTTP/1.1 request
//! reader.
//!
//! A request is read whole -- request line, headers and body -- on the
//! connection's own thread, under one deadline for the whole request, before
//! any worker sees it. Every buffer a client can fill has a limit checked
//! while reading. Framing follows RFC 9112 section 6: anything ambiguous is a
//! 400 and the connection is closed, so no byte after an error is ever
//! parsed as a request.

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::str::FromStr;
use std::time::Instant;

use ascii::AsciiString;

use crate::common::{HTTPVersion, Header, HeaderField, Method};

/// What a client may make us read and hold for one request.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest request line (method, target, version); longer is 414.
    pub max_request_line: usize,
    /// Longest single header line; longer is 431.
    pub max_header_line: usize,
    /// Most header lines; more is 431.
    pub max_headers: usize,
    /// Most bytes of all header lines together; more is 431.
    pub max_header_bytes: usize,
    /// Largest body, declared or chunked; larger is 413.
    pub max_body: usize,
    /// Longest chunk-size line (with extensions); longer is 400.
    pub max_chunk_line: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_line: 8 * 1024,
            max_header_line: 8 * 1024,
            max_headers: 100,
            max_header_bytes: 32 * 1024,
            max_body: 64 * 1024,
            max_chunk_line: 256,
        }
    }
}

/// Why a request was refused before it reached a worker. The connection is
/// always closed after the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    /// A stable machine-readable code, e.g. `payload_too_large`.
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> Refusal {
        Refusal::new(400, "bad_request", message)
    }
}

/// How reading a request ended, when it did not produce one.
#[derive(Debug)]
pub enum ReadError {
    /// The client closed, or stayed silent past the idle deadline, before
    /// the first byte of a request: close quietly.
    Idle,
    /// The client went away mid-request (EOF, reset): close quietly.
    Gone,
    /// The whole-request deadline passed: answer 408 and close.
    Timeout,
    /// Malformed, too large or unsupported: answer and close.
    Refused(Refusal),
}

/// A complete request: head and body.
#[derive(Debug)]
pub struct Parsed {
    pub method: Method,
    pub target: String,
    pub version: HTTPVersion,
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
    /// Whether the client allows another request on this connection.
    pub keep_alive: bool,
}

/// The read side of a connection: a small buffer over the socket that
/// applies a deadline to every read. The buffer is released while the
/// connection is idle, so an idle keep-alive connection costs no heap.
pub struct Wire<'a> {
    stream: &'a TcpStream,
    buf: Vec<u8>,
    start: usize,
}

const READ_CHUNK: usize = 4096;

impl<'a> Wire<'a> {
    pub fn new(stream: &'a TcpStream) -> Wire<'a> {
        Wire {
            stream,
            buf: Vec::new(),
            start: 0,
        }
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Bytes already received and not yet parsed (a pipelined request).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Releases the buffer when everything in it has been parsed.
    pub fn shrink_if_empty(&mut self) {
        if self.buffered() == 0 {
            self.buf = Vec::new();
            self.start = 0;
        }
    }

    /// Reads more bytes, waiting at most until `deadline`. `Ok(false)` on EOF.
    fn fill(&mut self, deadline: Instant) -> io::Result<bool> {
        let now = Instant::now();
        if now >= deadline {
            return Err(io::Error::new(ErrorKind::TimedOut, "deadline passed"));
        }
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > READ_CHUNK {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.stream.set_read_timeout(Some(deadline - now))?;
        let mut chunk = [0u8; READ_CHUNK];
        loop {
            match (&*self.stream).read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    // SO_RCVTIMEO expiry shows as EAGAIN on Linux.
                    return Err(io::Error::new(ErrorKind::TimedOut, "deadline passed"));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits until at least one byte is buffered. Errors: `Idle` on EOF or
    /// when `deadline` passes first.
    pub fn wait_for_request(&mut self, deadline: Instant) -> Result<(), ReadError> {
        while self.buffered() == 0 {
            match self.fill(deadline) {
                Ok(true) => {}
                Ok(false) => return Err(ReadError::Idle),
                Err(_) => return Err(ReadError::Idle),
            }
        }
        Ok(())
    }

    /// One line without its CRLF (or bare LF), at most `max` bytes;
    /// `too_long` is the refusal when it is longer.
    fn line(
        &mut self,
        max: usize,
        deadline: Instant,
        too_long: impl Fn() -> Refusal,
    ) -> Result<Vec<u8>, ReadError> {
        let mut searched = 0;
        loop {
            if let Some(i) = self.pending()[searched..].iter().position(|&b| b == b'\n') {
                let end = searched + i;
                if end > max {
                    return Err(ReadError::Refused(too_long()));
                }
                let mut line = self.pending()[..end].to_vec();
                self.start += end + 1;
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            searched = self.buffered();
            if searched > max {
                return Err(ReadError::Refused(too_long()));
            }
            self.more(deadline)?;
        }
    }

    /// Exactly `n` more bytes.
    fn take(&mut self, n: usize, deadline: Instant) -> Result<Vec<u8>, ReadError> {
        while self.buffered() < n {
            self.more(deadline)?;
        }
        let out = self.pending()[..n].to_vec();
        self.start += n;
        Ok(out)
    }

    fn more(&mut self, deadline: Instant) -> Result<(), ReadError> {
        match self.fill(deadline) {
            Ok(true) => Ok(()),
            Ok(false) => Err(ReadError::Gone),
            Err(e) if e.kind() == ErrorKind::TimedOut => Err(ReadError::Timeout),
            Err(_) => Err(ReadError::Gone),
        }
    }
}

/// Reads one whole request. `send_continue` is called when the client
/// asked for `100 Continue` and its body is acceptable.
pub fn read_request(
    wire: &mut Wire<'_>,
    limits: &Limits,
    deadline: Instant,
    send_continue: impl FnOnce() -> io::Result<()>,
) -> Result<Parsed, ReadError> {
    let too_long_line = || {
        Refusal::new(
            414,
            "uri_too_long",
            format!(
                "the request line is longer than {} bytes",
                limits.max_request_line
            ),
        )
    };
    // RFC 9112 2.2: ignore a few empty lines before the request line.
    let mut line = wire.line(limits.max_request_line, deadline, too_long_line)?;
    for _ in 0..4 {
        if !line.is_empty() {
            break;
        }
        line = wire.line(limits.max_request_line, deadline, too_long_line)?;
    }
    let (method, target, version) = request_line(&line).map_err(ReadError::Refused)?;

    let mut headers = Vec::new();
    let mut header_bytes = 0usize;
    loop {
        let line = wire.line(limits.max_header_line, deadline, || {
            Refusal::new(
                431,
                "header_too_large",
                format!(
                    "a header line is longer than {} bytes",
                    limits.max_header_line
                ),
            )
        })?;
        if line.is_empty() {
            break;
        }
        header_bytes += line.len() + 2;
        if header_bytes > limits.max_header_bytes {
            return Err(ReadError::Refused(Refusal::new(
                431,
                "header_too_large",
                format!(
                    "the headers are larger than {} bytes",
                    limits.max_header_bytes
                ),
            )));
        }
        if headers.len() >= limits.max_headers {
            return Err(ReadError::Refused(Refusal::new(
                431,
                "header_too_large",
                format!("more than {} header lines", limits.max_headers),
            )));
        }
        headers.push(header_line(&line).map_err(ReadError::Refused)?);
    }

    let framing = framing(&headers, &version, limits).map_err(ReadError::Refused)?;
    if version >= HTTPVersion(1, 1) {
        let hosts = headers.iter().filter(|h| h.field.equiv("Host")).count();
        if hosts != 1 {
            return Err(ReadError::Refused(Refusal::bad(
                "an HTTP/1.1 request needs exactly one Host header",
            )));
        }
    }
    let expects_continue = match header(&headers, "Expect") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("100-continue") => true,
        Some(_) => {
            return Err(ReadError::Refused(Refusal::new(
                417,
                "expectation_failed",
                "the only expectation understood is 100-continue",
            )))
        }
    };
    if expects_continue && version >= HTTPVersion(1, 1) && framing != Framing::Empty {
        let needed = match framing {
            Framing::Length(n) => n,
            _ => 1,
        };
        if wire.buffered() < needed && send_continue().is_err() {
            return Err(ReadError::Gone);
        }
    }
    let body = match framing {
        Framing::Empty => Vec::new(),
        Framing::Length(n) => wire.take(n, deadline)?,
        Framing::Chunked => chunked_body(wire, limits, deadline)?,
    };
    let keep_alive = keep_alive(&headers, &version);
    Ok(Parsed {
        method,
        target,
        version,
        headers,
        body,
        keep_alive,
    })
}

fn request_line(line: &[u8]) -> Result<(Method, String, HTTPVersion), Refusal> {
    let text = std::str::from_utf8(line)
        .ok()
        .filter(|t| t.bytes().all(|b| (0x20..0x7f).contains(&b)))
        .ok_or_else(|| Refusal::bad("the request line must be printable ASCII"))?;
    let mut parts = text.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::bad(
            "the request line must be METHOD TARGET HTTP/1.1, single spaces",
        ));
    };
    let version = match version {
        "HTTP/1.1" => HTTPVersion(1, 1),
        "HTTP/1.0" => HTTPVersion(1, 0),
        v if v.starts_with("HTTP/") && v.len() >= 6 && v.as_bytes()[5].is_ascii_digit() => {
            // HTTP/2.0 by mistake, the h2 preface ("PRI * HTTP/2.0"), 0.9, 3.
            return Err(Refusal::new(
                505,
                "http_version_not_supported",
                "this server speaks HTTP/1.1 and HTTP/1.0 only",
            ));
        }
        _ => return Err(Refusal::bad("unknown HTTP version")),
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(Refusal::bad("the method is not a valid token"));
    }
    if target.is_empty() {
        return Err(Refusal::bad("the request target is empty"));
    }
    let method = Method::from_str(method).map_err(|_| Refusal::bad("unknown method"))?;
    Ok((method, target.to_string(), version))
}

fn header_line(line: &[u8]) -> Result<Header, Refusal> {
    if line[0] == b' ' || line[0] == b'\t' {
        return Err(Refusal::bad(
            "obsolete header line folding is not accepted",
        ));
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or_else(|| Refusal::bad("a header line has no colon"))?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if name.is_empty() || !name.iter().copied().all(is_tchar) {
        // Includes whitespace before the colon (RFC 9112 5.1).
        return Err(Refusal::bad("a header name is not a valid token"));
    }
    let value = trim_ows(value);
    if !value
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        return Err(Refusal::bad(
            "header values must be printable ASCII",
        ));
    }
    let field = HeaderField::from_bytes(name.to_vec())
        .map_err(|_| Refusal::bad("a header name is not ASCII"))?;
    let value = AsciiString::from_ascii(value.to_vec())
        .map_err(|_| Refusal::bad("a header value is not ASCII"))?;
    Ok(Header { field, value })
}

fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// RFC 9110 5.6.2 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn header<'h>(headers: &'h [Header], name: &'static str) -> Option<&'h str> {
    headers
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.as_str())
}

/// How the body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(usize),
    Chunked,
}

/// RFC 9112 6: the body's framing, refusing anything a proxy in front of us
/// could read differently.
fn framing(headers: &[Header], version: &HTTPVersion, limits: &Limits) -> Result<Framing, Refusal> {
    let te: Vec<&str> = headers
        .iter()
        .filter(|h| h.field.equiv("Transfer-Encoding"))
        .flat_map(|h| h.value.as_str().split(','))
        .map(str::trim)
        .collect();
    let cl: Vec<&str> = headers
        .iter()
        .filter(|h| h.field.equiv("Content-Length"))
        .flat_map(|h| h.value.as_str().split(','))
        .map(str::trim)
        .collect();
    if !te.is_empty() {
        if !cl.is_empty() {
            return Err(Refusal::bad(
                "Content-Length together with Transfer-Encoding is not accepted",
            ));
        }
        if *version < HTTPVersion(1, 1) {
            return Err(Refusal::bad("Transfer-Encoding needs HTTP/1.1"));
        }
        if te.len() != 1 || !te[0].eq_ignore_ascii_case("chunked") {
            return Err(Refusal::bad(
                "the only Transfer-Encoding accepted is chunked",
            ));
        }
        return Ok(Framing::Chunked);
    }
    if cl.is_empty() {
        return Ok(Framing::Empty);
    }
    let first = cl[0];
    if cl.iter().any(|v| v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit())) {
        return Err(Refusal::bad("Content-Length must be plain digits"));
    }
    if cl.iter().any(|v| v.trim_start_matches('0') != first.trim_start_matches('0')) {
        return Err(Refusal::bad("differing Content-Length values"));
    }
    // However many digits: anything over the limit is refused unread.
    match first.parse::<u64>() {
        Ok(n) if n <= limits.max_body as u64 => Ok(match n {
            0 => Framing::Empty,
            n => Framing::Length(n as usize),
        }),
        _ => Err(too_large(limits)),
    }
}

fn too_large(limits: &Limits) -> Refusal {
    Refusal::new(
        413,
        "payload_too_large",
        format!("request body is larger than {} bytes", limits.max_body),
    )
}

fn chunked_body(wire: &mut Wire<'_>, limits: &Limits, deadline: Instant) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let line = wire.line(limits.max_chunk_line, deadline, || {
            Refusal::bad(format!(
                "a chunk-size line is longer than {} bytes",
                limits.max_chunk_line
            ))
        })?;
        let size_part = line.split(|&b| b == b';').next().unwrap_or(&[]);
        let size_part = trim_ows(size_part);
        if size_part.is_empty() || !size_part.iter().all(u8::is_ascii_hexdigit) {
            return Err(ReadError::Refused(Refusal::bad("malformed chunk size")));
        }
        let digits = std::str::from_utf8(size_part).unwrap_or("").trim_start_matches('0');
        let size = if digits.is_empty() {
            Some(0)
        } else {
            u64::from_str_radix(digits, 16).ok()
        };
        let size = match size {
            Some(n) if body.len() as u64 + n <= limits.max_body as u64 => n as usize,
            _ => return Err(ReadError::Refused(too_large(limits))),
        };
        if size == 0 {
            break;
        }
        body.extend_from_slice(&wire.take(size, deadline)?);
        let end = wire.take(1, deadline)?;
        let end = if end == b"\r" {
            wire.take(1, deadline)?
        } else {
            end
        };
        if end != b"\n" {
            return Err(ReadError::Refused(Refusal::bad(
                "a chunk is longer than its size",
            )));
        }
    }
    // Trailers: read and dropped, bounded like headers.
    let mut trailer_bytes = 0usize;
    loop {
        let line = wire.line(limits.max_header_line, deadline, || {
            Refusal::new(431, "header_too_large", "a trailer line is too long")
        })?;
        if line.is_empty() {
            break;
        }
        trailer_bytes += line.len() + 2;
        if trailer_bytes > limits.max_header_bytes {
            return Err(ReadError::Refused(Refusal::new(
                431,
                "header_too_large",
                "the trailers are too large",
            )));
        }
    }
    Ok(body)
}

fn keep_alive(headers: &[Header], version: &HTTPVersion) -> bool {
    let tokens: Vec<String> = headers
        .iter()
        .filter(|h| h.field.equiv("Connection"))
        .flat_map(|h| h.value.as_str().split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    if tokens.iter().any(|t| t == "close") {
        return false;
    }
    if *version >= HTTPVersion(1, 1) {
        true
    } else {
        tokens.iter().any(|t| t == "keep-alive")
    }
}

/// Writes all of `bytes`, giving up at `deadline`.
pub fn write_all(stream: &TcpStream, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
    while !bytes.is_empty() {
        let now = Instant::now();
        if now >= deadline {
            return Err(io::Error::new(ErrorKind::TimedOut, "write deadline passed"));
        }
        stream.set_write_timeout(Some(deadline - now))?;
        match (&*stream).write(bytes) {
            Ok(0) => return Err(io::Error::new(ErrorKind::WriteZero, "peer closed")),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                return Err(io::Error::new(ErrorKind::TimedOut, "write deadline passed"))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    /// Feeds `raw` to the reader through a real socket pair.
    fn parse(raw: &[u8]) -> Result<Parsed, ReadError> {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        c.write_all(raw).unwrap();
        c.shutdown(std::net::Shutdown::Write).unwrap();
        let mut w = Wire::new(&s);
        let limits = Limits {
            max_body: 100,
            ..Limits::default()
        };
        read_request(
            &mut w,
            &limits,
            Instant::now() + Duration::from_secs(2),
            || Ok(()),
        )
    }

    fn status(raw: &[u8]) -> u16 {
        match parse(raw) {
            Ok(_) => 200,
            Err(ReadError::Refused(r)) => r.status,
            Err(ReadError::Timeout) => 408,
            Err(ReadError::Gone) | Err(ReadError::Idle) => 0,
        }
    }

    #[test]
    fn a_plain_request_with_a_body() {
        let p = parse(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello").unwrap();
        assert_eq!(p.body, b"hello");
        assert!(p.keep_alive);
        let p = parse(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(!p.keep_alive);
    }

    #[test]
    fn chunked_bodies_are_decoded_and_bounded() {
        let p = parse(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\n\r\n").unwrap();
        assert_eq!(p.body, b"hello");
        assert_eq!(status(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n"), 413);
        assert_eq!(status(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n"), 413);
        let long = [b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1".as_slice(), &[b'0'; 300]].concat();
        assert_eq!(status(&long), 400);
    }

    #[test]
    fn ambiguous_framing_is_refused() {
        for raw in [
            &b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
            b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        ] {
            assert_eq!(status(raw), 400, "{}", String::from_utf8_lossy(raw));
        }
        assert_eq!(status(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello"), 200);
    }

    #[test]
    fn sizes_and_versions_are_bounded() {
        assert_eq!(status(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000\r\n\r\n"), 413);
        assert_eq!(status(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999999\r\n\r\n"), 413);
        assert_eq!(status(b"GET / HTTP/2.0\r\n\r\n"), 505);
        assert_eq!(status(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
        let long_target = [b"GET /".as_slice(), &[b'a'; 9000], b" HTTP/1.1\r\n\r\n"].concat();
        assert_eq!(status(&long_target), 414);
        let long_header = [b"GET / HTTP/1.1\r\nHost: a\r\nX: ".as_slice(), &[b'a'; 9000], b"\r\n\r\n"].concat();
        assert_eq!(status(&long_header), 431);
        let mut many = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
        for i in 0..101 {
            many.extend_from_slice(format!("X-{i}: 1\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(status(&many), 431);
        assert_eq!(status(b"POST / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n"), 417);
    }
}
