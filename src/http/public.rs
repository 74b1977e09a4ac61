//! The public API: what the widget calls, with `X-API-Key` and the
//! visitor's `userSessionId`.

use serde::Deserialize;
use serde_json::json;

use super::live::Role;
use super::routes::require_api_key;
use super::{Ctx, Reply, Request};
use crate::chat::{self, Author, Contact, FirstMessage};
use crate::error::{Error, Result};
use crate::secret;
use crate::shop::Shop;
use crate::store::{self, messages, sessions, Session};

/// GET /healthz: 200 when the database answers and takes writes; 503 while
/// the disk is full (reads keep working meanwhile).
pub(super) fn healthz(ctx: &mut Ctx) -> Result<Reply> {
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
    user_email: Option<String>,
    /// The chat's first message: the widget opens a chat only with it.
    message_text: Option<String>,
    client_message_id: Option<String>,
}

/// POST /api/public/chat/sessions: the visitor's chat, opened with its
/// first message (`messageText`), or made empty for older clients (no
/// manager sees a chat until its first message).
pub(super) fn create_session(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    require_api_key(req, ctx)?;
    let body: OpenSession = req.json(true)?;
    let usid = body
        .user_session_id
        .or_else(|| req.header("x-user-session-id").map(str::to_string))
        .filter(|s| !s.trim().is_empty());
    let contact = Contact::with_email(
        body.user_name.as_deref(),
        body.user_phone.as_deref(),
        body.user_email.as_deref(),
    )?;
    let first = body.message_text.as_deref().map(|text| FirstMessage {
        text,
        client_message_id: body.client_message_id.as_deref(),
    });
    if first.is_none() && body.client_message_id.is_some() {
        return Err(Error::bad_request("clientMessageId needs messageText"));
    }
    let opened = open_for_visitor(req, ctx, usid.as_deref(), &contact, first)?;
    let mut answer = json!({"session": opened.session});
    if let Some((m, _)) = &opened.message {
        answer["message"] = json!(m);
    }
    let created = opened.created || opened.message.as_ref().is_some_and(|(_, new)| *new);
    Ok(Reply::created(created, &answer))
}

/// The visitor's active chat or a new one, a new one counting against the
/// client address's limit.
fn open_for_visitor(
    req: &Request,
    ctx: &mut Ctx,
    user_session_id: Option<&str>,
    contact: &Contact,
    first: Option<FirstMessage>,
) -> Result<chat::Opened> {
    let limiter = &ctx.shared.session_limiter;
    let message_limiter = &ctx.shared.message_limiter;
    // A message into the visitor's open chat counts against that chat.
    if let (Some(_), Some(u)) = (first, user_session_id) {
        if let Some(s) = sessions::active_for_visitor(ctx.conn, u.trim())? {
            message_limiter.check(&s.id)?;
        }
    }
    chat::open_session(
        ctx.conn,
        ctx.shared.notify.as_ref(),
        user_session_id.map(str::trim),
        contact,
        first,
        || {
            let client = super::ratelimit::client_key(&req.client);
            limiter.check(&client)?;
            // The first message counts like any other.
            if first.is_some() {
                message_limiter.check(&format!("new:{client}"))?;
            }
            Ok(())
        },
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(clippy::struct_field_names)] // the API's names: userName, userPhone, userEmail
struct ContactBody {
    user_name: Option<String>,
    user_phone: Option<String>,
    user_email: Option<String>,
}

/// POST /api/public/chat/sessions/:id/contact {userName?, userPhone?,
/// userEmail?}: what the visitor fills in after writing (the form after
/// the first message, the away prompt). Blank fields change nothing.
pub(super) fn contact(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_api_key(req, ctx)?;
    let session = visitor_session(req, ctx, id)?;
    let body: ContactBody = req.json(false)?;
    let contact = Contact::with_email(
        body.user_name.as_deref(),
        body.user_phone.as_deref(),
        body.user_email.as_deref(),
    )?;
    let session = chat::update_contact(ctx.conn, session, &contact)?;
    Ok(Reply::ok(&json!({"session": session})))
}

/// GET /api/public/chat/status: whether the shop is there now, when it
/// opens next (in UTC, with its time zone to show it in), and what the
/// widget should ask.
pub(super) fn status(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    require_api_key(req, ctx)?;
    let shop = Shop::load(ctx.conn)?;
    let now = chrono::Utc::now();
    Ok(Reply::ok(&json!({
        "open": shop.is_open(now),
        "opensAt": shop.next_open(now).map(crate::time::format),
        "timezone": shop.tz.name(),
        "hours": shop.hours.as_ref().map(super::super::shop::WeeklyHours::describe),
        "awayAfterMinutes": shop.away_after,
        "contactFirst": shop.contact_first,
    })))
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
pub(super) struct PostMessage {
    pub message_text: String,
    pub client_message_id: Option<String>,
}

/// POST /api/public/chat/sessions/:id/messages
pub(super) fn post_message(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_api_key(req, ctx)?;
    let session = visitor_session(req, ctx, id)?;
    let body: PostMessage = req.json(false)?;
    // An invalid message is 400 also when its clientMessageId is known, as
    // for managers: the answer never depends on what was stored before.
    chat::validate_text(&body.message_text)?;
    chat::validate_client_id(body.client_message_id.as_deref())?;
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

/// GET /api/public/chat/sessions/:id/messages?since=&limit=&wait=&state=
/// The session, its seen marks and its messages are read by one statement;
/// the visitor's secret is checked before anything is answered or waits.
pub(super) fn poll(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_api_key(req, ctx)?;
    let q = match super::admin::PollQuery::parse(req) {
        Ok(q) => q,
        // A bad query is told only to the chat's own visitor.
        Err(e) => {
            visitor_session(req, ctx, id)?;
            return Err(e);
        }
    };
    if !chat::is_session_id(id) {
        return Err(Error::session_not_found());
    }
    let (session, page) =
        chat::poll_by_id(ctx.conn, id, &q.since, q.limit)?.ok_or_else(Error::session_not_found)?;
    let session = visitor_owns(req, session)?;
    super::admin::poll_or_park(ctx, q, &session, page, Role::Visitor)
}

/// POST /api/public/chat/sessions/:id/typing {typing}
pub(super) fn typing(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_api_key(req, ctx)?;
    let session = visitor_session(req, ctx, id)?;
    super::admin::typing(req, ctx, &session, Role::Visitor)
}

/// POST /api/public/chat/sessions/:id/seen {seq}
pub(super) fn seen(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_api_key(req, ctx)?;
    let session = visitor_session(req, ctx, id)?;
    super::admin::seen(req, ctx, &session, Role::Visitor)
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
/// urlencoded form; a plain HTML form cannot send headers, so there the
/// key may come as the form field `apiKey` instead of `X-API-Key`.
pub(super) fn notify(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    let mut form_key = None;
    let body: LegacyNotify = if req.is_form() {
        let mut b = LegacyNotify::default();
        for (k, v) in form_urlencoded::parse(&req.body) {
            if k == "apiKey" || k == "api_key" {
                form_key = Some(v.trim().to_string());
                continue;
            }
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
        require_api_key(req, ctx)?;
        req.json(false)?
    };
    if req.is_form() {
        match form_key.filter(|k| !k.is_empty()) {
            Some(k) if req.header("x-api-key").is_none() => super::routes::check_api_key(&k, ctx)?,
            _ => require_api_key(req, ctx)?,
        }
    }
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
    // The message opens the chat (or goes into the visitor's open one).
    let opened = open_for_visitor(
        req,
        ctx,
        usid.as_deref(),
        &contact,
        Some(FirstMessage {
            text: &text,
            client_message_id: None,
        }),
    )?;
    let session = opened.session;
    Ok(Reply::ok(&json!({
        "ok": true,
        "sessionId": session.id,
        "userSessionId": session.user_session_id,
    })))
}
