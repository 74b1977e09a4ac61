//! The admin API: what managers call, with `Authorization: Bearer`.

use serde_json::{json, Value};

use super::live::{self, Park, Role};
use super::public::PostMessage;
use super::routes::require_manager;
use super::{Ctx, Reply, Request};
use crate::chat::{self, Author};
use crate::error::{Error, Result};
use crate::shop::Shop;
use crate::store::{managers, messages, sessions, stats, Session, SessionSummary, Status};

pub(super) const DEFAULT_LIST_LIMIT: u32 = 50;
pub(super) const MAX_LIST_LIMIT: u32 = 200;
const MAX_SEARCH_CHARS: usize = 100;

fn session(ctx: &Ctx, id: &str) -> Result<Session> {
    if !chat::is_session_id(id) {
        return Err(Error::session_not_found());
    }
    sessions::get(ctx.conn, id)?.ok_or_else(Error::session_not_found)
}

/// GET /api/chat/sessions
pub(super) fn list(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    require_manager(req, ctx)?;
    let status = match req.query("status").map(str::trim) {
        None | Some("" | "all") => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            Error::bad_request(format!(
                "status must be active, closed, archived or all, not '{s}'"
            ))
        })?),
    };
    let search = req.query("search").map(str::trim).filter(|s| !s.is_empty());
    if search.is_some_and(|s| s.chars().count() > MAX_SEARCH_CHARS) {
        return Err(Error::bad_request(format!(
            "search is longer than {MAX_SEARCH_CHARS} characters"
        )));
    }
    let manager = match req.query("managerId").map(str::trim) {
        None | Some("") => None,
        Some("none") => Some(None),
        Some(id) => Some(Some(id.to_string())),
    };
    let awaiting_reply = match req.query("awaitingReply").map(str::trim) {
        None | Some("") => None,
        Some("true" | "1") => Some(true),
        Some("false" | "0") => Some(false),
        Some(other) => {
            return Err(Error::bad_request(format!(
                "awaitingReply must be true or false, not '{other}'"
            )))
        }
    };
    let limit = chat::parse_limit(req.query("limit"), DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT)?;
    let offset = match req.query("offset").map(str::trim) {
        None | Some("") => 0,
        Some(s) => s
            .parse::<u32>()
            .map_err(|_| Error::bad_request("offset must be a whole number >= 0"))?,
    };
    let filter = sessions::Filter {
        status,
        search: search.map(str::to_string),
        manager,
        awaiting_reply,
        limit,
        offset,
    };
    let (items, total) = sessions::list(ctx.conn, &filter)?;
    let items = items
        .into_iter()
        .map(|item| item_json(ctx.conn, item))
        .collect::<Result<Vec<Value>>>()?;
    Ok(Reply::ok(&json!({"sessions": items, "total": total})))
}

/// A listing item as managers see it: no visitor secret, and how many of
/// the visitor's messages no manager has seen yet.
fn item_json(conn: &rusqlite::Connection, mut item: SessionSummary) -> Result<Value> {
    item.session.user_session_id = None;
    let unread = sessions::unread_count(conn, &item.session.id)?;
    let mut v = serde_json::to_value(&item).map_err(|e| Error::Internal(e.to_string()))?;
    v["unreadCount"] = json!(unread);
    Ok(v)
}

/// One chat as a listing item (the feed), if it exists and has a message
/// (a chat without one is never shown to managers).
pub(super) fn summary_json(conn: &rusqlite::Connection, id: &str) -> Result<Option<Value>> {
    match sessions::summary(conn, id)? {
        Some(item) if item.message_count > 0 => Ok(Some(item_json(conn, item)?)),
        _ => Ok(None),
    }
}

/// How many of a visitor's other chats a chat's page lists.
pub(super) const VISITOR_CHATS: u32 = 20;

/// GET /api/chat/sessions/:id: the chat, its messages, and the visitor's
/// other chats (same browser), newest first.
pub(super) fn get(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_manager(req, ctx)?;
    let s = session(ctx, id)?;
    let msgs = messages::all(ctx.conn, &s.id)?;
    let others = match &s.user_session_id {
        Some(u) => sessions::visitor_chats(ctx.conn, u, &s.id, VISITOR_CHATS)?,
        None => Vec::new(),
    };
    let others = others
        .into_iter()
        .map(|item| item_json(ctx.conn, item))
        .collect::<Result<Vec<Value>>>()?;
    Ok(Reply::ok(
        &json!({"session": s.redacted(), "messages": msgs, "visitorChats": others}),
    ))
}

/// GET /api/chat/sessions/:id/messages?since=&limit=&wait=&state=
pub(super) fn poll(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_manager(req, ctx)?;
    let q = match PollQuery::parse(req) {
        Ok(q) => q,
        // An unknown chat is 404 whatever the query.
        Err(e) => {
            session(ctx, id)?;
            return Err(e);
        }
    };
    if !chat::is_session_id(id) {
        return Err(Error::session_not_found());
    }
    let (s, poll) =
        chat::poll_by_id(ctx.conn, id, &q.since, q.limit)?.ok_or_else(Error::session_not_found)?;
    poll_or_park(ctx, q, &s, poll, Role::Manager)
}

/// What a poll asks for: `since`, `limit`, `wait` and `state`.
pub(super) struct PollQuery {
    pub since: messages::Since,
    pub limit: u32,
    pub wait: u64,
    pub state: Option<String>,
}

impl PollQuery {
    /// The query of a poll, checked.
    pub(super) fn parse(req: &Request) -> Result<PollQuery> {
        Ok(PollQuery {
            since: chat::parse_since(req.query("since"))?,
            limit: chat::parse_limit(
                req.query("limit"),
                chat::DEFAULT_POLL_LIMIT,
                chat::MAX_POLL_LIMIT,
            )?,
            wait: live::parse_wait(req.query("wait"))?,
            state: req.query("state").map(str::to_string),
        })
    }
}

/// A chat's poll, for either side, as [`chat::poll_by_id`] read it (the
/// caller has checked who asks): answered now when there is something new
/// (or `wait` is 0), else parked in the waiting room.
pub(super) fn poll_or_park(
    ctx: &Ctx,
    q: PollQuery,
    s: &Session,
    poll: chat::Poll,
    role: Role,
) -> Result<Reply> {
    let Some(live) = ctx.shared.live.clone() else {
        return Err(Error::Internal("the waiting room is not running".into()));
    };
    let body = live::PollAnswer::new(&live, &poll, &s.id, role);
    let seq = match q.since {
        messages::Since::Start => Some(0),
        messages::Since::Seq(n) => Some(n),
        // Old clients polling by time get plain polling.
        messages::Since::Time(_) => None,
    };
    let changed = q.state.as_deref().is_some_and(|st| body.state != st);
    match seq {
        Some(since) if q.wait > 0 && poll.messages.is_empty() && !changed && live.has_room() => {
            Ok(Reply::park(
                Park::Poll {
                    session_id: s.id.clone(),
                    role,
                    since,
                    limit: q.limit,
                    state: q.state,
                    change: poll.change,
                },
                std::time::Duration::from_secs(q.wait),
            ))
        }
        _ => Ok(Reply::ok(&body)),
    }
}

#[derive(serde::Deserialize)]
struct TypingBody {
    typing: bool,
}

#[derive(serde::Deserialize)]
struct SeenBody {
    #[serde(deserialize_with = "whole_number")]
    seq: i64,
}

/// A JSON integer, also when written with a zero fraction (`5.0`): JSON
/// does not tell the two apart, and neither does the API's JSON Schema.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<i64, D::Error> {
    let n = <serde_json::Number as serde::Deserialize>::deserialize(d)?;
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    // i64::MAX as f64 rounds up to 2^63, which is out of range.
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 => Ok(f as i64),
        _ => Err(serde::de::Error::custom(format!(
            "expected a whole number from -2^63 to 2^63-1, not {n}"
        ))),
    }
}

/// POST .../typing {typing}: for either side; 204.
pub(super) fn typing(req: &Request, ctx: &mut Ctx, s: &Session, role: Role) -> Result<Reply> {
    let body: TypingBody = req.json(false)?;
    let who = match role {
        Role::Visitor => "v",
        Role::Manager => "m",
    };
    ctx.shared
        .typing_limiter
        .check(&format!("{who}:{}", s.id))?;
    if let Some(live) = &ctx.shared.live {
        live.typing(&s.id, role, body.typing && s.is_active());
    }
    Ok(Reply::empty(204))
}

/// POST .../seen {seq}: for either side; 204. Never moves backwards.
pub(super) fn seen(req: &Request, ctx: &mut Ctx, s: &Session, role: Role) -> Result<Reply> {
    let body: SeenBody = req.json(false)?;
    chat::mark_seen(ctx.conn, &s.id, live::seen_side(role), body.seq)?;
    Ok(Reply::empty(204))
}

/// POST /api/chat/sessions/:id/typing
pub(super) fn typing_manager(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_manager(req, ctx)?;
    let s = session(ctx, id)?;
    typing(req, ctx, &s, Role::Manager)
}

/// POST /api/chat/sessions/:id/seen
pub(super) fn seen_manager(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_manager(req, ctx)?;
    let s = session(ctx, id)?;
    seen(req, ctx, &s, Role::Manager)
}

/// GET /api/chat/feed?since=&wait=&state=: every chat that changed after
/// the cursor `since` (new chat, message, close, assign, reopen, seen), as
/// listing items, and which visitors are typing. Without `since`: the
/// current cursor, at once.
pub(super) fn feed(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    require_manager(req, ctx)?;
    let Some(live) = ctx.shared.live.clone() else {
        return Err(Error::Internal("the waiting room is not running".into()));
    };
    let top = sessions::max_change(ctx.conn)?;
    let since =
        match req.query("since").map(str::trim) {
            None | Some("") => None,
            Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                Error::bad_request("since must be a cursor (a whole number >= 0)")
            })?),
        };
    let wait = live::parse_wait(req.query("wait"))?;
    let state = req.query("state").map(str::to_string);
    // A cursor from another database (or the future) starts over from now.
    let since = since.map_or(top, |n| n.min(top));
    let body = live::feed_json(ctx.conn, &live, since)?;
    let nothing = body["sessions"].as_array().is_some_and(Vec::is_empty);
    let changed = state.as_deref().is_some_and(|st| body["state"] != st);
    if req.query("since").is_some() && wait > 0 && nothing && !changed && live.has_room() {
        return Ok(Reply::park(
            Park::Feed { since, state },
            std::time::Duration::from_secs(wait),
        ));
    }
    Ok(Reply::ok(&body))
}

/// POST /api/chat/sessions/:id/messages
pub(super) fn post_message(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    let me = require_manager(req, ctx)?;
    let s = session(ctx, id)?;
    let body: PostMessage = req.json(false)?;
    let (message, created) = chat::post_message(
        ctx.conn,
        ctx.shared.notify.as_ref(),
        &s.id,
        Author::Manager(&me.id),
        &body.message_text,
        body.client_message_id.as_deref(),
    )?;
    Ok(Reply::created(created, &json!({"message": message})))
}

/// POST /api/chat/sessions/:id/close
pub(super) fn close(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_manager(req, ctx)?;
    let s = session(ctx, id)?;
    // The body, if any, must still be well-formed.
    let _: Value = req.json(true)?;
    let s = chat::close(ctx.conn, &s.id)?;
    Ok(Reply::ok(&json!({"session": s.redacted()})))
}

/// POST /api/chat/sessions/:id/reopen: a closed or archived chat becomes
/// active again (409 `conflict` when its visitor has another open chat).
pub(super) fn reopen(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_manager(req, ctx)?;
    let s = session(ctx, id)?;
    let _: Value = req.json(true)?;
    let s = chat::reopen(ctx.conn, &s.id)?;
    Ok(Reply::ok(&json!({"session": s.redacted()})))
}

/// POST /api/chat/sessions/:id/assign {managerId}
pub(super) fn assign(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_manager(req, ctx)?;
    let s = session(ctx, id)?;
    let body: Value = req.json(false)?;
    let manager_id = match body.get("managerId") {
        None => {
            return Err(Error::bad_request(
                "managerId is required (a manager's id, or null to unassign)",
            ))
        }
        Some(Value::Null) => None,
        Some(Value::String(m)) => Some(m.trim()),
        Some(_) => return Err(Error::bad_request("managerId must be a string or null")),
    };
    let s = chat::assign(ctx.conn, &s.id, manager_id)?;
    Ok(Reply::ok(&json!({"session": s.redacted()})))
}

/// GET /api/chat/managers
pub(super) fn managers(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    require_manager(req, ctx)?;
    let list: Vec<Value> = managers::list(ctx.conn)?
        .iter()
        .map(super::super::store::managers::Manager::public)
        .collect();
    Ok(Reply::ok(&json!({"managers": list})))
}

/// GET /api/chat/me: who the token belongs to, and the shop's time zone
/// (the panel shows days and times in it).
pub(super) fn me(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    let me = require_manager(req, ctx)?;
    let shop = Shop::load(ctx.conn)?;
    Ok(Reply::ok(&json!({
        "manager": me.public(),
        "shop": {"timezone": shop.tz.name()},
    })))
}

/// GET /api/chat/stats ("today" is the shop's day)
pub(super) fn stats(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    require_manager(req, ctx)?;
    Ok(Reply::ok(&stats::compute(
        ctx.conn,
        &crate::shop::today_start(ctx.conn)?,
    )?))
}
