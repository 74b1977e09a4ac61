use std::io::{self, Cursor, Read};

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

use crate::{HTTPVersion, Header, Method, Response};

/// Represents an HTTP request made by a client.
///
/// shopchat patch 4 (see PATCHED.md): a `Request` is complete when a worker
/// gets it -- its body is already in memory, read on the connection's own
/// thread under the request deadline -- and answering it never touches the
/// socket: the answer is rendered into memory and handed back to the
/// connection's thread, which writes it under its own deadline. So a slow
/// client can hold only its own connection, never a worker, and a `Request`
/// can be parked (a long-poll) and answered later from any thread.
///
/// # Automatic cleanup
///
/// If a `Request` object is destroyed without `respond` being called, an
/// empty response with a 500 status code is sent back to the client.
pub struct Request {
    body: Cursor<Vec<u8>>,

    // None once answered
    answer: Option<AnswerSink>,

    remote_addr: Option<SocketAddr>,

    method: Method,

    path: String,

    http_version: HTTPVersion,

    headers: Vec<Header>,

    body_length: Option<usize>,
}

/// A rendered answer on its way to the connection's thread.
pub(crate) struct Answer {
    pub(crate) bytes: Vec<u8>,
    /// Close the connection after writing it.
    pub(crate) close: bool,
}

/// Where a request's answer goes: its connection's thread.
pub(crate) struct AnswerSink {
    pub(crate) tx: SyncSender<Answer>,
    /// The client did not ask for another request on this connection.
    pub(crate) close: bool,
    /// The server is shutting down: every answer closes its connection.
    pub(crate) closing: Arc<AtomicBool>,
}

/// Builds a request read by the connection loop.
pub(crate) fn new_request(
    method: Method,
    path: String,
    version: HTTPVersion,
    headers: Vec<Header>,
    remote_addr: Option<SocketAddr>,
    body: Vec<u8>,
    answer: AnswerSink,
) -> Request {
    let body_length = if body.is_empty() {
        None
    } else {
        Some(body.len())
    };
    Request {
        body: Cursor::new(body),
        answer: Some(answer),
        remote_addr,
        method,
        path,
        http_version: version,
        headers,
        body_length,
    }
}

impl Request {
    /// Always false: this copy serves plain HTTP behind a TLS proxy.
    #[inline]
    pub fn secure(&self) -> bool {
        false
    }

    /// Returns the method requested by the client (eg. `GET`, `POST`, etc.).
    #[inline]
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// Returns the resource requested by the client.
    #[inline]
    pub fn url(&self) -> &str {
        &self.path
    }

    /// Returns a list of all headers sent by the client.
    #[inline]
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// Returns the HTTP version of the request.
    #[inline]
    pub fn http_version(&self) -> &HTTPVersion {
        &self.http_version
    }

    /// Returns the length of the body in bytes (`None` when there is none).
    #[inline]
    pub fn body_length(&self) -> Option<usize> {
        self.body_length
    }

    /// Returns the address of the client that sent this request.
    #[inline]
    pub fn remote_addr(&self) -> Option<&SocketAddr> {
        self.remote_addr.as_ref()
    }

    /// The body, already received in full.
    #[inline]
    pub fn as_reader(&mut self) -> &mut dyn Read {
        &mut self.body
    }

    /// Sends a response to this request: renders it and hands it to the
    /// connection's thread. Never blocks on the network.
    pub fn respond<R>(mut self, response: Response<R>) -> Result<(), io::Error>
    where
        R: Read,
    {
        self.respond_impl(response)
    }

    fn respond_impl<R>(&mut self, response: Response<R>) -> Result<(), io::Error>
    where
        R: Read,
    {
        let Some(sink) = self.answer.take() else {
            return Ok(());
        };
        let close = sink.close || sink.closing.load(Ordering::SeqCst);
        let connection = if close {
            Some("close")
        } else if self.http_version < HTTPVersion(1, 1) {
            Some("keep-alive")
        } else {
            None
        };
        let mut bytes = Vec::new();
        let rendered = response.raw_print(
            &mut bytes,
            self.http_version.clone(),
            &self.headers,
            self.method == Method::Head,
            connection,
        );
        let answer = match rendered {
            Ok(()) => Answer { bytes, close },
            Err(e) => {
                // The response's reader failed: the client gets a 500.
                let mut bytes = Vec::new();
                let _ = Response::empty(500).raw_print(
                    &mut bytes,
                    self.http_version.clone(),
                    &self.headers,
                    false,
                    Some("close"),
                );
                let _ = sink.tx.send(Answer { bytes, close: true });
                return Err(e);
            }
        };
        // The connection may be gone (its thread cut it at shutdown).
        let _ = sink.tx.send(answer);
        Ok(())
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> Result<(), fmt::Error> {
        write!(
            formatter,
            "Request({} {} from {:?})",
            self.method, self.path, self.remote_addr
        )
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if self.answer.is_some() {
            let _ = self.respond_impl(Response::empty(500));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Request;

    #[test]
    fn must_be_send() {
        #![allow(dead_code)]
        fn f<T: Send>(_: &T) {}
        fn bar(rq: &Request) {
            f(rq);
        }
    }
}
