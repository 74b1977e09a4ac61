//! The request as handlers see it: read once, body bounded, no `tiny_http`.

use std::io::Read;
use std::net::IpAddr;

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Largest request body accepted; enforced while reading.
pub const MAX_BODY: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The client's address (from X-Forwarded-For only with --trust-proxy).
    pub client: String,
}

impl Request {
    /// Reads a `tiny_http` request, refusing bodies over [`MAX_BODY`] without
    /// buffering them.
    pub fn read(rq: &mut tiny_http::Request, trust_proxy: bool) -> Result<Request> {
        let url = rq.url().to_string();
        let (path, query) = match url.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (url.clone(), String::new()),
        };
        let query = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let headers: Vec<(String, String)> = rq
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_ascii_lowercase(),
                    h.value.as_str().to_string(),
                )
            })
            .collect();
        let peer = rq
            .remote_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default();
        let client = if trust_proxy {
            forwarded_client(&headers).unwrap_or(peer)
        } else {
            peer
        };
        let mut req = Request {
            method: rq.method().as_str().to_ascii_uppercase(),
            path,
            query,
            headers,
            body: Vec::new(),
            client,
        };
        if let Some(len) = rq.body_length() {
            if len > MAX_BODY {
                return Err(Error::PayloadTooLarge(MAX_BODY));
            }
        }
        let mut body = Vec::new();
        rq.as_reader()
            .take(MAX_BODY as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| Error::bad_request(format!("could not read the request body: {e}")))?;
        if body.len() > MAX_BODY {
            return Err(Error::PayloadTooLarge(MAX_BODY));
        }
        req.body = body;
        Ok(req)
    }

    /// A request built by hand (tests of handlers, the webhook).
    pub fn new(method: &str, path: &str) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
            client: "127.0.0.1".into(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn is_json(&self) -> bool {
        self.header("content-type").is_some_and(|ct| {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        })
    }

    pub fn is_form(&self) -> bool {
        self.header("content-type").is_some_and(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    }

    /// The body as JSON of type `T`. An empty body is `{}` when
    /// `allow_empty`; a body that is not declared JSON is 415.
    pub fn json<T: DeserializeOwned>(&self, allow_empty: bool) -> Result<T> {
        let empty = self.body.iter().all(u8::is_ascii_whitespace);
        if empty {
            if allow_empty {
                return serde_json::from_str("{}").map_err(|e| Error::bad_request(e.to_string()));
            }
            return Err(Error::bad_request("the request body must be a JSON object"));
        }
        if !self.is_json() {
            return Err(Error::UnsupportedMediaType(
                "the request body must be JSON, with Content-Type: application/json".into(),
            ));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::bad_request(format!("invalid JSON body: {e}")))
    }
}

/// The client as the nearest proxy saw it: the last X-Forwarded-For entry.
fn forwarded_client(headers: &[(String, String)]) -> Option<String> {
    let v = headers.iter().rev().find(|(k, _)| k == "x-forwarded-for")?;
    let last = v.1.rsplit(',').next()?.trim();
    last.parse::<IpAddr>().ok().map(|ip| ip.to_string())
}
