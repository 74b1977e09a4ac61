//! The public API: what the widget calls, with `X-API-Key` and the
//! visitor's `userSessionId`.

use serde::Deserialize;
use serde_json::json;

use super::routes::require_api_key;
use super::{Ctx, Reply, Request};
use crate::chat::{self, Author, Contact};
use crate::error::{Error, Result};
use crate::secret;
use crate::store::{self, messages, sessions, Session};

/// GET /healthz: 200 when the database answers and takes writes; 503 while
/// the disk is full (reads keep working meanwhile).
pub fn healthz(ctx: &mut Ctx) -> Result<Reply> {
    crate::db::ping(ctx.conn)?;
    if store::storage_full() && !writable_again(ctx) {
        return Ok(Reply::json(
            503,
            &json!({"ok": false, "database": "not writable: the disk is full"}),
        )
        .with_header("Retry-After", "5"));
    }
    Ok(Reply::ok(&json!({"ok": true})))
}

/// After a write failed for lack of space: whether there is room again,
/// proven by a small write.
fn writable_again(ctx: &mut Ctx) -> bool {
    const ROOM: u64 = 1024 * 1024;
    let room = crate::db::free_space(&ctx.shared.config.db).is_none_or(|free| free >= ROOM);
    room && store::write(ctx.conn, |tx| store::health::touch(tx, &crate::time::now())).is_ok()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OpenSession {
    user_session_id: Option<String>,
    user_name: Option<String>,
    user_phone: Option<String>,
}

/// POST /api/public/chat/sessions
pub fn create_session(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    require_api_key(req, ctx)?;
    let body: OpenSession = req.json(true)?;
    let usid = body
        .user_session_id
        .or_else(|| req.header("x-user-session-id").map(str::to_string))
        .filter(|s| !s.trim().is_empty());
    let contact = Contact::new(body.user_name.as_deref(), body.user_phone.as_deref())?;
    let (session, created) = open_for_visitor(req, ctx, usid.as_deref(), &contact)?;
    Ok(Reply::created(created, &json!({"session": session})))
}

/// The visitor's active chat or a new one, a new one counting against the
/// client address's limit.
fn open_for_visitor(
    req: &Request,
    ctx: &mut Ctx,
    user_session_id: Option<&str>,
    contact: &Contact,
) -> Result<(Session, bool)> {
    let limiter = &ctx.shared.session_limiter;
    chat::open_session(
        ctx.conn,
        ctx.shared.notify.as_ref(),
        user_session_id.map(str::trim),
        contact,
        || limiter.check(&req.client),
    )
}

/// The session `id`, if the request carries its visitor's secret; 404
/// otherwise, the same as for an unknown id.
fn visitor_session(req: &Request, ctx: &Ctx, id: &str) -> Result<Session> {
    if !chat::is_session_id(id) {
        return Err(Error::session_not_found());
    }
    let session = sessions::get(ctx.conn, id)?.ok_or_else(Error::session_not_found)?;
    visitor_owns(req, session)
}

/// `session`, if the request carries its visitor's secret; 404 otherwise.
fn visitor_owns(req: &Request, session: Session) -> Result<Session> {
    let given = req
        .header("x-user-session-id")
        .or_else(|| {
            (req.method == "GET")
                .then(|| req.query("userSessionId"))
                .flatten()
        })
        .unwrap_or("");
    match session.user_session_id.as_deref() {
        Some(secret_id) if !given.is_empty() && secret::ct_eq(secret_id, given.trim()) => {
            Ok(session)
        }
        _ => Err(Error::session_not_found()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostMessage {
    pub message_text: String,
    pub client_message_id: Option<String>,
}

/// POST /api/public/chat/sessions/:id/messages
pub fn post_message(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_api_key(req, ctx)?;
    let session = visitor_session(req, ctx, id)?;
    let body: PostMessage = req.json(false)?;
    // A retry of a message already stored is answered as such, even when
    // the sender is over the rate limit: it stores nothing.
    if let Some(cid) = body.client_message_id.as_deref() {
        if let Some(m) = messages::by_client_id(ctx.conn, &session.id, cid)? {
            return Ok(Reply::created(false, &json!({"message": m})));
        }
    }
    ctx.shared.message_limiter.check(&session.id)?;
    let (message, created) = chat::post_message(
        ctx.conn,
        ctx.shared.notify.as_ref(),
        &session.id,
        Author::Visitor,
        &body.message_text,
        body.client_message_id.as_deref(),
    )?;
    Ok(Reply::created(created, &json!({"message": message})))
}

/// GET /api/public/chat/sessions/:id/messages?since=&limit=
/// The session and its messages are read by one statement; the visitor's
/// secret is checked before anything is answered.
pub fn poll(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_api_key(req, ctx)?;
    let since = chat::parse_since(req.query("since"));
    let limit = chat::parse_limit(
        req.query("limit"),
        chat::DEFAULT_POLL_LIMIT,
        chat::MAX_POLL_LIMIT,
    );
    let (since, limit) = match (since, limit) {
        (Ok(since), Ok(limit)) => (since, limit),
        // A bad query is told only to the chat's own visitor.
        (since, limit) => {
            visitor_session(req, ctx, id)?;
            return Err(since
                .err()
                .or(limit.err())
                .unwrap_or_else(|| Error::bad_request("bad query")));
        }
    };
    if !chat::is_session_id(id) {
        return Err(Error::session_not_found());
    }
    let (session, page) =
        chat::poll_by_id(ctx.conn, id, &since, limit)?.ok_or_else(Error::session_not_found)?;
    visitor_owns(req, session)?;
    Ok(Reply::ok(&page))
}

/// The legacy form's fields, under either name.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct LegacyNotify {
    name: Option<String>,
    phone: Option<String>,
    message: Option<String>,
    user_name: Option<String>,
    user_phone: Option<String>,
    message_text: Option<String>,
    user_session_id: Option<String>,
}

/// POST /api/public/chat/notify: the old contact form. Accepts JSON or a
/// urlencoded form.
pub fn notify(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    require_api_key(req, ctx)?;
    let body: LegacyNotify = if req.is_form() {
        let mut b = LegacyNotify::default();
        for (k, v) in form_urlencoded::parse(&req.body) {
            let v = Some(v.into_owned());
            match k.as_ref() {
                "name" => b.name = v,
                "phone" => b.phone = v,
                "message" => b.message = v,
                "userName" => b.user_name = v,
                "userPhone" => b.user_phone = v,
                "messageText" => b.message_text = v,
                "userSessionId" => b.user_session_id = v,
                _ => {}
            }
        }
        b
    } else {
        req.json(false)?
    };
    let text = body
        .message_text
        .or(body.message)
        .ok_or_else(|| Error::bad_request("message (or messageText) is required"))?;
    chat::validate_text(&text)?;
    let contact = Contact::new(
        body.user_name.as_deref().or(body.name.as_deref()),
        body.user_phone.as_deref().or(body.phone.as_deref()),
    )?;
    let usid = body.user_session_id.filter(|s| !s.trim().is_empty());
    let (session, _) = open_for_visitor(req, ctx, usid.as_deref(), &contact)?;
    ctx.shared.message_limiter.check(&session.id)?;
    chat::post_message(
        ctx.conn,
        ctx.shared.notify.as_ref(),
        &session.id,
        Author::Visitor,
        &text,
        None,
    )?;
    Ok(Reply::ok(&json!({
        "ok": true,
        "sessionId": session.id,
        "userSessionId": session.user_session_id,
    })))
}
