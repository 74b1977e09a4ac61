//! The admin API: what managers call, with `Authorization: Bearer`.

use serde_json::{json, Value};

use super::public::PostMessage;
use super::routes::require_manager;
use super::{Ctx, Reply, Request};
use crate::chat::{self, Author};
use crate::error::{Error, Result};
use crate::store::{managers, messages, sessions, stats, Session, Status};
use crate::time;

pub const DEFAULT_LIST_LIMIT: u32 = 50;
pub const MAX_LIST_LIMIT: u32 = 200;
const MAX_SEARCH_CHARS: usize = 100;

fn session(ctx: &Ctx, id: &str) -> Result<Session> {
    if !chat::is_session_id(id) {
        return Err(Error::session_not_found());
    }
    sessions::get(ctx.conn, id)?.ok_or_else(Error::session_not_found)
}

/// GET /api/chat/sessions
pub fn list(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    require_manager(req, ctx)?;
    let status = match req.query("status").map(str::trim) {
        None | Some("") | Some("all") => None,
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
    let (mut items, total) = sessions::list(ctx.conn, &filter)?;
    for item in &mut items {
        item.session.user_session_id = None;
    }
    Ok(Reply::ok(&json!({"sessions": items, "total": total})))
}

/// GET /api/chat/sessions/:id
pub fn get(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_manager(req, ctx)?;
    let s = session(ctx, id)?;
    let msgs = messages::all(ctx.conn, &s.id)?;
    Ok(Reply::ok(
        &json!({"session": s.redacted(), "messages": msgs}),
    ))
}

/// GET /api/chat/sessions/:id/messages
pub fn poll(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_manager(req, ctx)?;
    let s = session(ctx, id)?;
    let since = chat::parse_since(req.query("since"))?;
    let limit = chat::parse_limit(
        req.query("limit"),
        chat::DEFAULT_POLL_LIMIT,
        chat::MAX_POLL_LIMIT,
    )?;
    Ok(Reply::ok(&chat::poll(ctx.conn, &s, &since, limit)?))
}

/// POST /api/chat/sessions/:id/messages
pub fn post_message(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
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
pub fn close(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
    require_manager(req, ctx)?;
    let s = session(ctx, id)?;
    // The body, if any, must still be well-formed.
    let _: Value = req.json(true)?;
    let s = chat::close(ctx.conn, &s.id)?;
    Ok(Reply::ok(&json!({"session": s.redacted()})))
}

/// POST /api/chat/sessions/:id/assign {managerId}
pub fn assign(req: &Request, ctx: &mut Ctx, id: &str) -> Result<Reply> {
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
pub fn managers(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    require_manager(req, ctx)?;
    let list: Vec<Value> = managers::list(ctx.conn)?
        .iter()
        .map(|m| m.public())
        .collect();
    Ok(Reply::ok(&json!({"managers": list})))
}

/// GET /api/chat/me
pub fn me(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    let me = require_manager(req, ctx)?;
    Ok(Reply::ok(&json!({"manager": me.public()})))
}

/// GET /api/chat/stats
pub fn stats(req: &Request, ctx: &mut Ctx) -> Result<Reply> {
    require_manager(req, ctx)?;
    Ok(Reply::ok(&stats::compute(ctx.conn, &time::today_start())?))
}
