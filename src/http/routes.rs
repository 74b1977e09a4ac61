//! The route table, authentication, and CORS for the public API.

use super::{admin, assets, public, telegram, Ctx, Reply, Request};
use crate::config::Origins;
use crate::error::{Error, Result};
use crate::secret;
use crate::store::managers::{self, Manager};

/// Every route: method and path pattern (`:id`, `:name`: one path segment).
/// Pages (the last five) answer HEAD as well as GET. Keep it in step with
/// [`route`] and [`allowed_methods`]: tests check that each entry is
/// served, that other methods on its path answer 405 naming it in `Allow`,
/// and that docs/API.md documents it.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("POST", "/api/public/chat/sessions"),
    ("POST", "/api/public/chat/sessions/:id/messages"),
    ("GET", "/api/public/chat/sessions/:id/messages"),
    ("POST", "/api/public/chat/sessions/:id/typing"),
    ("POST", "/api/public/chat/sessions/:id/seen"),
    ("POST", "/api/public/chat/sessions/:id/contact"),
    ("GET", "/api/public/chat/status"),
    ("POST", "/api/public/chat/notify"),
    ("GET", "/api/chat/sessions"),
    ("GET", "/api/chat/sessions/:id"),
    ("GET", "/api/chat/sessions/:id/messages"),
    ("POST", "/api/chat/sessions/:id/messages"),
    ("POST", "/api/chat/sessions/:id/close"),
    ("POST", "/api/chat/sessions/:id/reopen"),
    ("POST", "/api/chat/sessions/:id/assign"),
    ("POST", "/api/chat/sessions/:id/typing"),
    ("POST", "/api/chat/sessions/:id/seen"),
    ("GET", "/api/chat/feed"),
    ("GET", "/api/chat/managers"),
    ("GET", "/api/chat/me"),
    ("GET", "/api/chat/stats"),
    ("POST", "/api/telegram/webhook"),
    ("GET", "/api/openapi.json"),
    ("GET", "/"),
    ("GET", "/widget.js"),
    ("GET", "/chat"),
    ("GET", "/chat/:id"),
    ("GET", "/assets/:name"),
];

/// Public API paths get CORS headers; admin ones never do.
pub fn is_public(path: &str) -> bool {
    path.starts_with("/api/public/")
}

/// Dispatches a request to its handler.
pub fn route(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    let segs: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let m = req.method.as_str();
    if is_public(&req.path) && m == "OPTIONS" {
        return Ok(Reply::empty(204));
    }
    match (m, segs.as_slice()) {
        ("GET", ["healthz"]) => public::healthz(ctx),

        ("POST", ["api", "public", "chat", "sessions"]) => public::create_session(req, ctx),
        ("POST", ["api", "public", "chat", "sessions", id, "messages"]) => {
            public::post_message(req, ctx, id)
        }
        ("GET", ["api", "public", "chat", "sessions", id, "messages"]) => {
            public::poll(req, ctx, id)
        }
        ("POST", ["api", "public", "chat", "sessions", id, "typing"]) => {
            public::typing(req, ctx, id)
        }
        ("POST", ["api", "public", "chat", "sessions", id, "seen"]) => public::seen(req, ctx, id),
        ("POST", ["api", "public", "chat", "sessions", id, "contact"]) => {
            public::contact(req, ctx, id)
        }
        ("GET", ["api", "public", "chat", "status"]) => public::status(req, ctx),
        ("POST", ["api", "public", "chat", "notify"]) => public::notify(req, ctx),

        ("GET", ["api", "chat", "sessions"]) => admin::list(req, ctx),
        ("GET", ["api", "chat", "sessions", id]) => admin::get(req, ctx, id),
        ("GET", ["api", "chat", "sessions", id, "messages"]) => admin::poll(req, ctx, id),
        ("POST", ["api", "chat", "sessions", id, "messages"]) => admin::post_message(req, ctx, id),
        ("POST", ["api", "chat", "sessions", id, "close"]) => admin::close(req, ctx, id),
        ("POST", ["api", "chat", "sessions", id, "reopen"]) => admin::reopen(req, ctx, id),
        ("POST", ["api", "chat", "sessions", id, "assign"]) => admin::assign(req, ctx, id),
        ("POST", ["api", "chat", "sessions", id, "typing"]) => admin::typing_manager(req, ctx, id),
        ("POST", ["api", "chat", "sessions", id, "seen"]) => admin::seen_manager(req, ctx, id),
        ("GET", ["api", "chat", "feed"]) => admin::feed(req, ctx),
        ("GET", ["api", "chat", "managers"]) => admin::managers(req, ctx),
        ("GET", ["api", "chat", "me"]) => admin::me(req, ctx),
        ("GET", ["api", "chat", "stats"]) => admin::stats(req, ctx),
        ("POST", ["api", "telegram", "webhook"]) => telegram::webhook(req, ctx),
        ("GET", ["api", "openapi.json"]) => Ok(assets::openapi(req)),

        ("GET" | "HEAD", [""]) => assets::demo_page(req, ctx),
        ("GET" | "HEAD", ["widget.js"]) => Ok(assets::widget(req)),
        ("GET" | "HEAD", ["chat"]) => Ok(assets::admin_page(req)),
        ("GET" | "HEAD", ["chat", _]) => Ok(assets::admin_page(req)),
        ("GET" | "HEAD", ["assets", name]) => assets::asset(req, name),

        (_, segs) => match allowed_methods(segs) {
            Some(allow) => Err(Error::MethodNotAllowed {
                message: format!("{m} is not allowed on {}", req.path),
                allow,
            }),
            None => Err(Error::not_found(format!(
                "no such endpoint: {m} {}",
                req.path
            ))),
        },
    }
}

/// The methods a path answers to, for 405's `Allow` (None: no such path).
fn allowed_methods(segs: &[&str]) -> Option<&'static str> {
    Some(match segs {
        ["healthz"] => "GET",
        ["api", "public", "chat", "sessions" | "notify"] => "POST, OPTIONS",
        ["api", "public", "chat", "sessions", _, "messages"] => "GET, POST, OPTIONS",
        ["api", "public", "chat", "sessions", _, "typing" | "seen" | "contact"] => "POST, OPTIONS",
        ["api", "public", "chat", "status"] => "GET, OPTIONS",
        ["api", "public", ..] => return None,
        ["api", "chat", "sessions"] | ["api", "chat", "sessions", _] => "GET",
        ["api", "chat", "sessions", _, "messages"] => "GET, POST",
        ["api", "chat", "sessions", _, "close" | "reopen" | "assign" | "typing" | "seen"] => "POST",
        ["api", "chat", "managers" | "me" | "stats" | "feed"] => "GET",
        ["api", "telegram", "webhook"] => "POST",
        ["api", "openapi.json"] => "GET",
        ["" | "widget.js" | "chat"] | ["chat" | "assets", _] => "GET, HEAD",
        _ => return None,
    })
}

/// Checks `X-API-Key` against `CHAT_API_KEYS`, the demo key and stored keys.
pub fn require_api_key(req: &Request, ctx: &Ctx) -> Result<()> {
    let Some(key) = req
        .header("x-api-key")
        .map(str::trim)
        .filter(|k| !k.is_empty())
    else {
        return Err(Error::Unauthorized("missing X-API-Key header".into()));
    };
    check_api_key(key, ctx)
}

/// Checks a widget key, wherever it came from.
pub fn check_api_key(key: &str, ctx: &Ctx) -> Result<()> {
    let hash = secret::hash(key);
    // Check every static key without stopping early.
    let static_ok = ctx
        .shared
        .static_key_hashes
        .iter()
        .fold(false, |ok, h| secret::ct_eq(h, &hash) | ok);
    if static_ok {
        return Ok(());
    }
    if stored_keys::contains(ctx.conn, &hash)? {
        Ok(())
    } else {
        Err(Error::Unauthorized("invalid API key".into()))
    }
}

/// The hashes of the active keys in the database, kept in memory by each
/// worker and read again when the database changed: `PRAGMA
/// data_version` moves whenever another connection (another worker, or
/// `shopchat keys revoke` in another process) commits. It is asked at most
/// every [`RECHECK`]: asking is a read transaction of its own (2.3 µs, 4%
/// of a poll), so a revoked key stops working within that time.
mod stored_keys {
    use std::cell::RefCell;
    use std::time::{Duration, Instant};

    use rusqlite::Connection;

    use crate::error::Result;
    use crate::secret;
    use crate::store::keys;

    /// How stale the keys may be: how long a revoked key may still work.
    pub(super) const RECHECK: Duration = Duration::from_millis(50);

    struct Cached {
        /// Which database this worker's connection is (tests run several
        /// servers in one process).
        db: String,
        data_version: i64,
        checked: Instant,
        hashes: Vec<String>,
    }

    thread_local! {
        static CACHE: RefCell<Option<Cached>> = const { RefCell::new(None) };
    }

    /// Whether `hash` is the hash of an active stored key (compared in
    /// constant time with each).
    pub(super) fn contains(conn: &Connection, hash: &str) -> Result<bool> {
        let db = conn.path().unwrap_or("");
        CACHE.with(|cell| {
            let mut cache = cell.borrow_mut();
            let now = Instant::now();
            let mine = cache.as_mut().filter(|c| c.db == db);
            match mine {
                Some(c) if now.duration_since(c.checked) < RECHECK => {}
                Some(c) if c.data_version == crate::db::data_version(conn)? => c.checked = now,
                _ => {
                    let data_version = crate::db::data_version(conn)?;
                    *cache = Some(Cached {
                        db: db.to_string(),
                        data_version,
                        checked: now,
                        hashes: keys::active_hashes(conn)?,
                    });
                }
            }
            let hashes = cache.as_ref().map_or(&[][..], |c| &c.hashes[..]);
            Ok(hashes
                .iter()
                .fold(false, |ok, h| secret::ct_eq(h, hash) | ok))
        })
    }
}

/// The manager whose `Authorization: Bearer` token this is.
pub fn require_manager(req: &Request, ctx: &Ctx) -> Result<Manager> {
    let token = req
        .header("authorization")
        .and_then(|h| {
            let (scheme, token) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Error::Unauthorized("missing Authorization: Bearer <manager token> header".into())
        })?;
    let hash = secret::hash(token);
    match managers::by_token_hash(ctx.conn, &hash)? {
        Some((m, stored)) if secret::ct_eq(&stored, &hash) => Ok(m),
        _ => Err(Error::Unauthorized("invalid manager token".into())),
    }
}

/// Adds CORS headers to a public API answer. The methods, headers and
/// max-age are read by browsers from a preflight's answer only, so only a
/// preflight (`OPTIONS`) carries them; every answer carries the origin.
pub fn with_cors(
    mut reply: Reply,
    origin: Option<&str>,
    allowed: &Origins,
    preflight: bool,
) -> Reply {
    let allow = match allowed {
        Origins::Any => Some("*".to_string()),
        Origins::List(list) => origin
            .filter(|o| list.iter().any(|a| a.eq_ignore_ascii_case(o)))
            .map(str::to_string),
    };
    if let Origins::List(_) = allowed {
        reply.headers.push(("Vary", "Origin".into()));
    }
    if let Some(allow) = allow {
        reply.headers.push(("Access-Control-Allow-Origin", allow));
        reply
            .headers
            .push(("Access-Control-Expose-Headers", "Retry-After".into()));
        if preflight {
            reply
                .headers
                .push(("Access-Control-Allow-Methods", "GET, POST, OPTIONS".into()));
            reply.headers.push((
                "Access-Control-Allow-Headers",
                "Content-Type, X-API-Key, X-User-Session-Id".into(),
            ));
            reply.headers.push(("Access-Control-Max-Age", "600".into()));
        }
    }
    reply
}
