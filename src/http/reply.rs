//! What a handler answers, and the one place errors become JSON.

use serde::Serialize;

use crate::error::Error;

/// An HTTP answer, independent of `tiny_http`.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
    /// Not an answer yet: wait in the waiting room for this, at most this
    /// long (a long-poll with nothing new).
    pub park: Option<(super::live::Park, std::time::Duration)>,
}

pub const JSON: &str = "application/json";

impl Reply {
    pub fn json(status: u16, value: &impl Serialize) -> Reply {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Reply {
            status,
            content_type: JSON,
            body,
            headers: vec![("Cache-Control", "no-store".into())],
            park: None,
        }
    }

    /// A long-poll that found nothing new: it waits (see `http::live`).
    pub fn park(park: super::live::Park, wait: std::time::Duration) -> Reply {
        let mut r = Reply::empty(200);
        r.park = Some((park, wait));
        r
    }

    /// 201 for something new, 200 for what already was (an idempotent
    /// retry, an existing chat).
    pub fn created(created: bool, value: &impl Serialize) -> Reply {
        Reply::json(if created { 201 } else { 200 }, value)
    }

    pub fn ok(value: &impl Serialize) -> Reply {
        Reply::json(200, value)
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            content_type: "text/plain",
            body: Vec::new(),
            headers: Vec::new(),
            park: None,
        }
    }

    /// `{"error": {"code", "message"}}` with the error's status.
    pub fn error(e: &Error) -> Reply {
        let mut r = Reply::json(
            e.status(),
            &serde_json::json!({"error": {"code": e.code(), "message": e.public_message()}}),
        );
        match e {
            Error::TooManyRequests { retry_after } => {
                r.headers.push(("Retry-After", retry_after.to_string()));
            }
            Error::Busy => r.headers.push(("Retry-After", "1".into())),
            Error::StorageFull => r.headers.push(("Retry-After", "30".into())),
            Error::MethodNotAllowed { allow, .. } => r.headers.push(("Allow", (*allow).into())),
            _ => {}
        }
        r
    }

    #[must_use]
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
}
