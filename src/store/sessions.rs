//! `chat_sessions`: create, read, list, status and assignment.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::{Message, Sender, Session, SessionSummary, Status};
use crate::error::Result;

const COLS: &str = "id, user_name, user_phone, status, manager_id, user_session_id, created_at,
    updated_at, user_email, auto_replied_at";

/// [`COLS`] of the table aliased `s`, for statements that join (the first
/// ten columns [`from_row`] reads).
pub(super) const COLS_OF_S: &str = "s.id, s.user_name, s.user_phone, s.status, s.manager_id,
    s.user_session_id, s.created_at, s.updated_at, s.user_email, s.auto_replied_at";

pub(super) fn from_row(row: &Row) -> rusqlite::Result<Session> {
    Ok(Session {
        id: row.get(0)?,
        user_name: row.get(1)?,
        user_phone: row.get(2)?,
        status: row.get(3)?,
        manager_id: row.get(4)?,
        user_session_id: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
        user_email: row.get(8)?,
        away_at: row.get(9)?,
    })
}

pub fn get(conn: &Connection, id: &str) -> Result<Option<Session>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLS} FROM chat_sessions WHERE id = ?1"))?;
    Ok(stmt.query_row([id], from_row).optional()?)
}

/// The visitor's active session, if any.
pub fn active_for_visitor(conn: &Connection, user_session_id: &str) -> Result<Option<Session>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM chat_sessions WHERE user_session_id = ?1 AND status = 'active'"
    ))?;
    Ok(stmt.query_row([user_session_id], from_row).optional()?)
}

/// The visitor's chats other than `except`, newest first (at most
/// `limit`): the chats of one browser, linked by the visitor's id.
/// Chats without a message are left out, as everywhere managers look.
pub fn visitor_chats(
    conn: &Connection,
    user_session_id: &str,
    except: &str,
    limit: u32,
) -> Result<Vec<SessionSummary>> {
    let ids: Vec<String> = conn
        .prepare_cached(
            "SELECT id FROM chat_sessions
             WHERE user_session_id = ?1 AND id <> ?2 AND message_count > 0
             ORDER BY created_at DESC, id LIMIT ?3",
        )?
        .query_map(params![user_session_id, except, limit], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(s) = summary(conn, &id)? {
            out.push(s);
        }
    }
    Ok(out)
}

/// The contact details the visitor gave most recently, in any of their
/// chats: (name, phone, email), each from the newest chat that has it.
pub fn visitor_contact(
    conn: &Connection,
    user_session_id: &str,
) -> Result<(Option<String>, Option<String>, Option<String>)> {
    let pick = |col: &str| -> Result<Option<String>> {
        Ok(conn
            .prepare_cached(&format!(
                "SELECT {col} FROM chat_sessions WHERE user_session_id = ?1 AND {col} IS NOT NULL
                 ORDER BY created_at DESC LIMIT 1"
            ))?
            .query_row([user_session_id], |r| r.get(0))
            .optional()?)
    };
    Ok((pick("user_name")?, pick("user_phone")?, pick("user_email")?))
}

/// Inserts a new active session.
pub fn insert(tx: &Transaction, s: &Session) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO chat_sessions (id, user_name, user_phone, name_folded, phone_digits, status,
             manager_id, user_session_id, created_at, updated_at, user_email, change_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,
             (SELECT coalesce(max(change_seq), 0) + 1 FROM chat_sessions))",
    )?;
    stmt.execute(params![
        s.id,
        s.user_name,
        s.user_phone,
        fold_name(s.user_name.as_deref()),
        digits(s.user_phone.as_deref()),
        s.status,
        s.manager_id,
        s.user_session_id,
        s.created_at,
        s.updated_at,
        s.user_email,
    ])?;
    Ok(())
}

/// Inserts many sessions at once (bulk loads: `demo-data`), in one
/// statement: per-row statements would each make FTS5 flush the search
/// index (see [`super::messages::insert_many`]). Each takes its own change
/// stamp, in the order given, as [`insert`] gives one.
pub fn insert_many(tx: &Transaction, list: &[Session]) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = list
        .iter()
        .map(|s| {
            (
                &s.id,
                &s.user_name,
                &s.user_phone,
                fold_name(s.user_name.as_deref()),
                digits(s.user_phone.as_deref()),
                s.status.as_str(),
                &s.manager_id,
                &s.user_session_id,
                &s.created_at,
                &s.updated_at,
                &s.user_email,
            )
        })
        .collect();
    let top = max_change(tx)?;
    tx.prepare_cached(
        "INSERT INTO chat_sessions (id, user_name, user_phone, name_folded, phone_digits, status,
             manager_id, user_session_id, created_at, updated_at, user_email, change_seq)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
                value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, ?2 + key + 1
         FROM json_each(?1) ORDER BY key",
    )?
    .execute(params![
        serde_json::to_string(&rows).map_err(|e| crate::Error::Internal(e.to_string()))?,
        top
    ])?;
    Ok(())
}

/// Sets the last activity of many sessions at once: (id, time). Each
/// takes a new change stamp.
pub fn set_updated_many(tx: &Transaction, list: &[(&str, &str)]) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    // Distinct stamps above every earlier one (rowids are distinct).
    let top = max_change(tx)?;
    tx.prepare_cached(
        "UPDATE chat_sessions SET updated_at = j.value ->> 1, change_seq = ?2 + chat_sessions.rowid
         FROM json_each(?1) AS j WHERE chat_sessions.id = j.value ->> 0",
    )?
    .execute(params![
        serde_json::to_string(list).map_err(|e| crate::Error::Internal(e.to_string()))?,
        top
    ])?;
    Ok(())
}

/// How many messages a chat has.
pub fn message_count(conn: &Connection, id: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT message_count FROM chat_sessions WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Fills in the visitor's name, phone and email where given.
pub fn update_contact(
    tx: &Transaction,
    id: &str,
    name: Option<&str>,
    phone: Option<&str>,
    email: Option<&str>,
    now: &str,
) -> Result<()> {
    if let Some(email) = email {
        tx.execute(
            "UPDATE chat_sessions SET user_email = ?2, updated_at = ?3, change_seq = (SELECT coalesce(max(change_seq), 0) + 1 FROM chat_sessions)
             WHERE id = ?1",
            params![id, email, now],
        )?;
    }
    if let Some(name) = name {
        tx.execute(
            "UPDATE chat_sessions SET user_name = ?2, name_folded = ?3, updated_at = ?4, change_seq = (SELECT coalesce(max(change_seq), 0) + 1 FROM chat_sessions)
             WHERE id = ?1",
            params![id, name, fold_name(Some(name)), now],
        )?;
    }
    if let Some(phone) = phone {
        tx.execute(
            "UPDATE chat_sessions SET user_phone = ?2, phone_digits = ?3, updated_at = ?4, change_seq = (SELECT coalesce(max(change_seq), 0) + 1 FROM chat_sessions)
             WHERE id = ?1",
            params![id, phone, digits(Some(phone)), now],
        )?;
    }
    Ok(())
}

pub fn set_status(tx: &Transaction, id: &str, status: Status, now: &str) -> Result<()> {
    tx.execute(
        "UPDATE chat_sessions SET status = ?2, updated_at = ?3, change_seq = (SELECT coalesce(max(change_seq), 0) + 1 FROM chat_sessions)
         WHERE id = ?1",
        params![id, status, now],
    )?;
    Ok(())
}

pub fn set_manager(tx: &Transaction, id: &str, manager_id: Option<&str>, now: &str) -> Result<()> {
    tx.execute(
        "UPDATE chat_sessions SET manager_id = ?2, updated_at = ?3, change_seq = (SELECT coalesce(max(change_seq), 0) + 1 FROM chat_sessions)
         WHERE id = ?1",
        params![id, manager_id, now],
    )?;
    Ok(())
}

/// Closed sessions whose last activity is before `cutoff` become archived.
/// Returns how many. `updated_at` stays the last activity: archiving is
/// housekeeping, and must not put last month's chats on top of every list.
pub fn archive_closed_before(tx: &Transaction, cutoff: &str) -> Result<usize> {
    // Distinct change stamps above every earlier one (rowids are distinct).
    let top = max_change(tx)?;
    Ok(tx.execute(
        "UPDATE chat_sessions SET status = 'archived', change_seq = ?2 + rowid
         WHERE status = 'closed' AND updated_at < ?1",
        params![cutoff, top],
    )?)
}

/// Active chats whose visitor has waited since before `cutoff` with no
/// answer and no auto-reply yet (the away sweep), at most `limit`.
pub fn away_due(conn: &Connection, cutoff: &str, limit: u32) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id FROM chat_sessions s
         WHERE s.status = 'active' AND s.last_sender = 'user' AND s.auto_replied_at IS NULL
           AND (SELECT min(u.created_at) FROM chat_messages u
                WHERE u.session_id = s.id AND u.sender = 'user'
                  AND u.seq > coalesce((SELECT max(a.seq) FROM chat_messages a
                      WHERE a.session_id = s.id AND a.sender = 'manager' AND a.auto = 0), 0)
               ) <= ?1
         ORDER BY s.updated_at LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![cutoff, limit], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Unassigns the active chats of a manager (who is being deactivated).
pub fn unassign_active(tx: &Transaction, manager_id: &str) -> Result<usize> {
    let top = max_change(tx)?;
    Ok(tx.execute(
        "UPDATE chat_sessions SET manager_id = NULL, change_seq = ?2 + rowid
         WHERE manager_id = ?1 AND status = 'active'",
        params![manager_id, top],
    )?)
}

/// A chat's change stamp (0 for an unknown chat).
pub fn change_of(conn: &Connection, id: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT change_seq FROM chat_sessions WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// The highest change stamp so far (0 when there are no chats).
pub fn max_change(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(change_seq), 0) FROM chat_sessions")?
        .query_row([], |r| r.get(0))?)
}

/// Ids and change stamps of the chats changed after stamp `after`, oldest
/// change first, at most `limit`.
pub fn changed_after(conn: &Connection, after: i64, limit: u32) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, change_seq FROM chat_sessions WHERE change_seq > ?1
         ORDER BY change_seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Visitor messages after the managers' seen seq (the panel's badge).
pub fn unread_count(conn: &Connection, id: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id
             WHERE m.session_id = ?1 AND m.seq > s.manager_seen_seq AND m.sender = 'user'",
        )?
        .query_row([id], |r| r.get(0))?)
}

/// Which side marks a message seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Visitor,
    Manager,
}

/// The highest seq each side has seen: (visitor, manager).
pub fn seen(conn: &Connection, id: &str) -> Result<(i64, i64)> {
    Ok(conn
        .prepare_cached(
            "SELECT visitor_seen_seq, manager_seen_seq FROM chat_sessions WHERE id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, 0)))
}

/// Records that `side` has seen the chat up to `seq` (capped at its last
/// message). Never moves backwards; returns whether it moved.
pub fn mark_seen(tx: &Transaction, id: &str, side: Side, seq: i64) -> Result<bool> {
    let sql = match side {
        Side::Visitor => {
            "UPDATE chat_sessions SET visitor_seen_seq = min(?2, coalesce(last_seq, 0)),
                 change_seq = (SELECT coalesce(max(change_seq), 0) + 1 FROM chat_sessions)
             WHERE id = ?1 AND visitor_seen_seq < min(?2, coalesce(last_seq, 0))"
        }
        Side::Manager => {
            "UPDATE chat_sessions SET manager_seen_seq = min(?2, coalesce(last_seq, 0)),
                 change_seq = (SELECT coalesce(max(change_seq), 0) + 1 FROM chat_sessions)
             WHERE id = ?1 AND manager_seen_seq < min(?2, coalesce(last_seq, 0))"
        }
    };
    Ok(tx.prepare_cached(sql)?.execute(params![id, seq])? == 1)
}

/// Ids starting with `prefix` (at most `limit`), for the terminal's short ids.
/// A range over the primary key: ids are lower-case hex and hyphens, all
/// below '~', so every id with the prefix sorts before `prefix || '~'`.
pub fn ids_with_prefix(conn: &Connection, prefix: &str, limit: usize) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM chat_sessions WHERE id >= ?1 AND id < ?1 || '~' ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![prefix, limit as i64], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What a listing asks for.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// None means every status.
    pub status: Option<Status>,
    /// Matched against the name (case-insensitive), the phone's digits and
    /// the messages' text (case-insensitive, 3+ characters).
    pub search: Option<String>,
    /// `Some(None)`: unassigned only; `Some(Some(id))`: that manager's.
    pub manager: Option<Option<String>>,
    pub awaiting_reply: Option<bool>,
    pub limit: u32,
    pub offset: u32,
}

/// The fewest characters the trigram indexes can look up; shorter
/// searches scan names and phones (and skip message text).
const MIN_INDEXED_CHARS: usize = 3;

type Params = Vec<(&'static str, rusqlite::types::Value)>;

fn bind(params: &Params) -> Vec<(&str, &dyn rusqlite::ToSql)> {
    params
        .iter()
        .map(|(k, v)| (*k, v as &dyn rusqlite::ToSql))
        .collect()
}

/// The filters other than the search, as conditions on `s` written so
/// that each can use its index (no `:x IS NULL OR ...`). A chat with no
/// message is nobody's business yet: never listed.
fn filter_where(f: &Filter, params: &mut Params) -> String {
    let mut conds = vec!["s.message_count > 0".to_string()];
    if let Some(status) = f.status {
        conds.push("s.status = :status".into());
        params.push((":status", status.as_str().to_string().into()));
    }
    match &f.manager {
        None => {}
        Some(None) => conds.push("s.manager_id IS NULL".into()),
        Some(Some(id)) => {
            conds.push("s.manager_id = :mid".into());
            params.push((":mid", id.clone().into()));
        }
    }
    match f.awaiting_reply {
        None => {}
        Some(true) => conds.push("s.last_sender = 'user'".into()),
        Some(false) => conds.push("(s.last_sender IS NULL OR s.last_sender <> 'user')".into()),
    }
    conds.join(" AND ")
}

const SUMMARY_COLS: &str = "s.id, s.user_name, s.user_phone, s.status, s.manager_id,
    s.user_session_id, s.created_at, s.updated_at, s.user_email, s.auto_replied_at,
    s.message_count,
    m.id, m.seq, m.session_id, m.sender, m.message_text, m.manager_id, m.created_at, m.auto";
const SUMMARY_FROM: &str = "chat_sessions s
    LEFT JOIN chat_messages m ON m.session_id = s.id AND m.seq = s.last_seq";

fn summary_from_row(r: &Row) -> rusqlite::Result<SessionSummary> {
    let session = from_row(r)?;
    let message_count: i64 = r.get(10)?;
    let last_message = match r.get::<_, Option<String>>(11)? {
        None => None,
        Some(id) => Some(Message {
            id,
            seq: r.get(12)?,
            session_id: r.get(13)?,
            sender: r.get(14)?,
            message_text: r.get(15)?,
            manager_id: r.get(16)?,
            created_at: r.get(17)?,
            auto: r.get(18)?,
        }),
    };
    let awaiting_reply = last_message
        .as_ref()
        .is_some_and(|m| m.sender == Sender::User);
    Ok(SessionSummary {
        session,
        last_message,
        message_count,
        awaiting_reply,
        text_match: None,
    })
}

/// Sessions matching `f`, newest activity first, with the total count.
pub fn list(conn: &Connection, f: &Filter) -> Result<(Vec<SessionSummary>, i64)> {
    match f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => list_filtered(conn, f),
        Some(q) => list_search(conn, f, q),
    }
}

/// Without a search: one index range in `updated_at` order, and the total
/// from the counters (no scan).
fn list_filtered(conn: &Connection, f: &Filter) -> Result<(Vec<SessionSummary>, i64)> {
    let mut params = Params::new();
    let where_sql = filter_where(f, &mut params);
    let mut count_params = Params::new();
    let mut conds = vec!["has_messages = 1"];
    if let Some(status) = f.status {
        conds.push("status = :status");
        count_params.push((":status", status.as_str().to_string().into()));
    }
    match &f.manager {
        None => {}
        Some(None) => conds.push("manager_id = ''"),
        Some(Some(id)) => {
            // '' stands for "unassigned" in the counters; no manager has it.
            conds.push("manager_id = :mid AND :mid <> ''");
            count_params.push((":mid", id.clone().into()));
        }
    }
    match f.awaiting_reply {
        None => {}
        Some(true) => conds.push("awaiting = 1"),
        Some(false) => conds.push("awaiting = 0"),
    }
    let total: i64 = conn
        .prepare_cached(&format!(
            "SELECT coalesce(sum(n), 0) FROM session_counts WHERE {}",
            conds.join(" AND ")
        ))?
        .query_row(&*bind(&count_params), |r| r.get(0))?;
    params.push((":limit", i64::from(f.limit).into()));
    params.push((":offset", i64::from(f.offset).into()));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SUMMARY_COLS} FROM {SUMMARY_FROM} WHERE {where_sql}
         ORDER BY s.updated_at DESC, s.id LIMIT :limit OFFSET :offset"
    ))?;
    let rows = stmt.query_map(&*bind(&params), summary_from_row)?;
    Ok((rows.collect::<rusqlite::Result<_>>()?, total))
}

/// A phrase for an FTS5 query: the text in double quotes, quotes doubled.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// With a search: the chats whose name or phone matches (trigram index, or
/// a scan for searches under 3 characters) and those with a message whose
/// text matches (trigram index), filtered, then sorted by activity. The
/// cost follows the number of matches, not of chats.
fn list_search(conn: &Connection, f: &Filter, search: &str) -> Result<(Vec<SessionSummary>, i64)> {
    let name_q = search.to_lowercase();
    let phone_q = digits(Some(search));
    let mut params = Params::new();
    let indexed = |s: &str| s.chars().count() >= MIN_INDEXED_CHARS;
    let contact_hits = if indexed(&name_q) && (phone_q.is_empty() || indexed(&phone_q)) {
        let mut q = format!("name_folded : {}", fts_phrase(&name_q));
        if !phone_q.is_empty() {
            q.push_str(&format!(" OR phone_digits : {}", fts_phrase(&phone_q)));
        }
        params.push((":contact_q", q.into()));
        "SELECT c.id, NULL, c.updated_at, c.status, c.manager_id, c.last_sender, c.message_count
         FROM session_search
         CROSS JOIN chat_sessions c INDEXED BY chat_sessions_search_listing
             ON c.search_rowid = session_search.rowid
         WHERE session_search MATCH :contact_q"
    } else {
        params.push((":name_q", name_q.clone().into()));
        params.push((":phone_q", phone_q.clone().into()));
        "SELECT c.id, NULL, c.updated_at, c.status, c.manager_id, c.last_sender, c.message_count
         FROM chat_sessions c
         WHERE instr(c.name_folded, :name_q) > 0
            OR (:phone_q <> '' AND instr(c.phone_digits, :phone_q) > 0)"
    };
    let text_hits = if indexed(search) {
        params.push((":text_q", fts_phrase(search).into()));
        " UNION ALL
         SELECT c.id, t.seq, c.updated_at, c.status, c.manager_id, c.last_sender, c.message_count
         FROM message_search
         CROSS JOIN chat_messages t ON t.seq = message_search.rowid
         CROSS JOIN chat_sessions c ON c.id = t.session_id
         WHERE message_search MATCH :text_q"
    } else {
        ""
    };
    let where_sql = filter_where(f, &mut params);
    // Each hit carries what the filters and the order need, so chats are
    // not read again; a chat's rows all have the same updated_at. The
    // matches come first (MATERIALIZED, CROSS JOIN fix the order): pushed
    // into the union, `status = 'active'` made the planner walk active
    // chats and test each message against the text index (1.8 s).
    let sql = |tail: &str| -> String {
        format!(
            "WITH hits (id, seq, updated_at, status, manager_id, last_sender, message_count)
                 AS MATERIALIZED ({contact_hits}{text_hits})
             {tail}"
        )
    };
    let grouped = format!("FROM hits AS s WHERE {where_sql} GROUP BY s.id");
    let mut page_params = params.clone();
    page_params.push((":limit", i64::from(f.limit).into()));
    page_params.push((":offset", i64::from(f.offset).into()));
    let mut stmt = conn.prepare_cached(&sql(&format!(
        "SELECT s.id, max(s.seq), count(*) OVER () {grouped}
         ORDER BY max(s.updated_at) DESC, s.id LIMIT :limit OFFSET :offset"
    )))?;
    let mut total = 0;
    let found: Vec<(String, Option<i64>)> = stmt
        .query_map(&*bind(&page_params), |r| {
            total = r.get(2)?;
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    if found.is_empty() && f.offset > 0 {
        // Past the end: the page is empty, the total still counts.
        total = conn
            .prepare_cached(&sql(&format!("SELECT count(*) FROM (SELECT 1 {grouped})")))?
            .query_row(&*bind(&params), |r| r.get(0))?;
    }
    let mut items = Vec::new();
    for (id, seq) in found {
        let Some(mut item) = summary(conn, &id)? else {
            continue;
        };
        if let Some(seq) = seq {
            if let Some(m) = super::messages::get_by_seq(conn, seq)? {
                item.text_match = Some(super::TextMatch {
                    seq: m.seq,
                    snippet: snippet(&m.message_text, search),
                    sender: m.sender,
                    created_at: m.created_at,
                });
            }
        }
        items.push(item);
    }
    Ok((items, total))
}

/// Characters of a snippet at most, and of context kept before the match.
const SNIPPET_CHARS: usize = 100;
const SNIPPET_BEFORE: usize = 30;

/// The line of `text` where `query` occurs (case-insensitively), cut to
/// [`SNIPPET_CHARS`] around it, with "…" where something was left out.
pub fn snippet(text: &str, query: &str) -> String {
    let q = query.to_lowercase();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let Some(n) = lines
        .iter()
        .position(|l| l.to_lowercase().contains(&q))
        .or((!lines.is_empty()).then_some(0))
    else {
        return String::new();
    };
    let chars: Vec<char> = lines[n].chars().collect();
    let lower: Vec<char> = lines[n].to_lowercase().chars().collect();
    // Where the match starts, in characters (when lower-casing kept the
    // length, as it does for nearly every script).
    let at = if lower.len() == chars.len() {
        let lower_s: String = lower.iter().collect();
        lower_s
            .find(&q)
            .map_or(0, |byte| lower_s[..byte].chars().count())
    } else {
        0
    };
    let start = if chars.len() <= SNIPPET_CHARS {
        0
    } else {
        at.saturating_sub(SNIPPET_BEFORE)
            .min(chars.len() - SNIPPET_CHARS)
    };
    let end = (start + SNIPPET_CHARS).min(chars.len());
    let mut out = String::new();
    if start > 0 || n > 0 {
        out.push('…');
    }
    out.extend(&chars[start..end]);
    if end < chars.len() || n + 1 < lines.len() {
        out.push('…');
    }
    out
}

/// One session as a listing item.
pub fn summary(conn: &Connection, id: &str) -> Result<Option<SessionSummary>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SUMMARY_COLS} FROM {SUMMARY_FROM} WHERE s.id = ?1"
    ))?;
    Ok(stmt.query_row([id], summary_from_row).optional()?)
}

/// The lower-cased name, for case-insensitive search in any alphabet.
pub fn fold_name(name: Option<&str>) -> String {
    name.map(str::to_lowercase).unwrap_or_default()
}

/// Only the digits of a phone number, so `+380 67` finds `38067...`.
pub fn digits(s: Option<&str>) -> String {
    s.unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::snippet;

    #[test]
    fn snippets_show_the_matching_line_cut_around_the_match() {
        assert_eq!(
            snippet("Де моє замовлення №74032?", "74032"),
            "Де моє замовлення №74032?"
        );
        assert_eq!(
            snippet("Добрий день\nНомер ТТН 20450123456\nДякую", "ттн"),
            "…Номер ТТН 20450123456…"
        );
        let long = format!("{} order 74032 {}", "a".repeat(200), "b".repeat(200));
        let s = snippet(&long, "74032");
        assert!(
            s.starts_with('…') && s.ends_with('…') && s.contains("order 74032"),
            "{s}"
        );
        assert_eq!(s.chars().count(), 102);
        assert_eq!(snippet("no match here", "xyz"), "no match here");
    }
}
