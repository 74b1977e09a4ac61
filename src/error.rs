//! The service's one error type, with its HTTP status and stable code.

use std::path::PathBuf;

/// Every error the service can answer with. The HTTP layer turns it into
/// `{"error": {"code", "message"}}` in one place (`http::reply`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    MethodNotAllowed {
        message: String,
        /// The methods the path answers to, for the `Allow` header.
        allow: &'static str,
    },
    #[error("this chat is closed")]
    SessionClosed,
    /// The request conflicts with the state of things (e.g. reopening a
    /// chat while its visitor has another open one).
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests; try again in {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    #[error("the database is busy; try again")]
    Busy,
    /// The disk holding the database is full: nothing can be stored until
    /// there is space again (reads still work).
    #[error("the server's disk is full, so nothing can be stored right now; try again later")]
    StorageFull,
    #[error("database error")]
    Db(#[source] rusqlite::Error),
    #[error("database migration failed")]
    Migration(#[from] rusqlite_migration::Error),
    /// The database file is not there: only `serve` and `create-tables`
    /// create one.
    #[error("no database at {}; run `shopchat create-tables` or `shopchat serve` first, or pass --db", .0.display())]
    NoDatabase(PathBuf),
    #[error("{0}")]
    Internal(String),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Error::Busy
            }
            Some(rusqlite::ErrorCode::DiskFull) => Error::StorageFull,
            _ => Error::Db(e),
        }
    }
}

impl Error {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            Error::BadRequest(_) => 400,
            Error::Unauthorized(_) => 401,
            Error::NotFound(_) => 404,
            Error::MethodNotAllowed { .. } => 405,
            Error::SessionClosed | Error::Conflict(_) => 409,
            Error::PayloadTooLarge(_) => 413,
            Error::UnsupportedMediaType(_) => 415,
            Error::TooManyRequests { .. } => 429,
            Error::Busy => 503,
            Error::StorageFull => 507,
            Error::Db(_) | Error::Migration(_) | Error::NoDatabase(_) | Error::Internal(_) => 500,
        }
    }

    /// The stable machine-readable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadRequest(_) => "bad_request",
            Error::Unauthorized(_) => "unauthorized",
            Error::NotFound(_) => "not_found",
            Error::MethodNotAllowed { .. } => "method_not_allowed",
            Error::SessionClosed => "session_closed",
            Error::Conflict(_) => "conflict",
            Error::PayloadTooLarge(_) => "payload_too_large",
            Error::UnsupportedMediaType(_) => "unsupported_media_type",
            Error::TooManyRequests { .. } => "too_many_requests",
            Error::Busy => "busy",
            Error::StorageFull => "storage_full",
            Error::Db(_) | Error::Migration(_) | Error::NoDatabase(_) | Error::Internal(_) => {
                "internal"
            }
        }
    }

    /// The message shown to a client: internal details stay in the log.
    pub fn public_message(&self) -> String {
        if self.status() >= 500 && !matches!(self, Error::Busy | Error::StorageFull) {
            "internal error".to_string()
        } else {
            self.to_string()
        }
    }

    pub fn bad_request(msg: impl Into<String>) -> Self {
        Error::BadRequest(msg.into())
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        Error::NotFound(msg.into())
    }

    /// The one answer for an unknown session, a malformed id and a wrong
    /// visitor secret alike, so none of them reveals anything.
    pub fn session_not_found() -> Self {
        Error::NotFound("chat session not found".into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
