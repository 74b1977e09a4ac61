//! chat_sessions: create, read, list, status and assignment.

use rusqlite::{named_params, params, Connection, OptionalExtension, Row, Transaction};

use super::{Message, Sender, Session, SessionSummary, Status};
use crate::error::Result;

const COLS: &str = "id, user_name, user_phone, status, manager_id, user_session_id, created_at,
    updated_at, user_email, auto_replied_at";

fn from_row(row: &Row) -> rusqlite::Result<Session> {
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
pub fn unassign_active(conn: &Connection, manager_id: &str) -> Result<usize> {
    let top = max_change(conn)?;
    Ok(conn.execute(
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
    /// Matched against the name (case-insensitive) and the phone's digits.
    pub search: Option<String>,
    /// `Some(None)`: unassigned only; `Some(Some(id))`: that manager's.
    pub manager: Option<Option<String>>,
    pub awaiting_reply: Option<bool>,
    pub limit: u32,
    pub offset: u32,
}

/// Sessions matching `f`, newest activity first, with the total count.
pub fn list(conn: &Connection, f: &Filter) -> Result<(Vec<SessionSummary>, i64)> {
    let search = f.search.as_deref().map(str::trim).unwrap_or("");
    let name_q = search.to_lowercase();
    let phone_q = digits(Some(search));
    let (manager_filter, manager_id) = match &f.manager {
        None => (0, None),
        Some(None) => (1, None),
        Some(Some(id)) => (2, Some(id.as_str())),
    };
    let awaiting = f.awaiting_reply.map(|a| if a { 1 } else { 0 });
    // A chat with no message is nobody's business yet: never listed.
    let where_sql = "
        s.message_count > 0
        AND (:status IS NULL OR s.status = :status)
        AND (:name_q = '' OR instr(s.name_folded, :name_q) > 0
             OR (:phone_q <> '' AND instr(s.phone_digits, :phone_q) > 0))
        AND (:mf = 0 OR (:mf = 1 AND s.manager_id IS NULL) OR (:mf = 2 AND s.manager_id = :mid))
        AND (:awaiting IS NULL
             OR (:awaiting = 1 AND s.last_sender = 'user')
             OR (:awaiting = 0 AND (s.last_sender IS NULL OR s.last_sender <> 'user')))";
    let total: i64 = conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM chat_sessions s WHERE {where_sql}"
        ))?
        .query_row(
            named_params! {":status": f.status, ":name_q": name_q, ":phone_q": phone_q,
            ":mf": manager_filter, ":mid": manager_id, ":awaiting": awaiting},
            |r| r.get(0),
        )?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT s.id, s.user_name, s.user_phone, s.status, s.manager_id, s.user_session_id,
                s.created_at, s.updated_at, s.user_email, s.auto_replied_at, s.message_count,
                m.id, m.seq, m.session_id, m.sender, m.message_text, m.manager_id, m.created_at,
                m.auto
         FROM chat_sessions s LEFT JOIN chat_messages m ON m.seq = s.last_seq
         WHERE {where_sql}
         ORDER BY s.updated_at DESC, s.id
         LIMIT :limit OFFSET :offset"
    ))?;
    let rows = stmt.query_map(
        named_params! {":status": f.status, ":name_q": name_q, ":phone_q": phone_q,
        ":mf": manager_filter, ":mid": manager_id, ":awaiting": awaiting,
        ":limit": f.limit, ":offset": f.offset},
        |r| {
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
            })
        },
    )?;
    Ok((rows.collect::<rusqlite::Result<_>>()?, total))
}

/// One session as a listing item.
pub fn summary(conn: &Connection, id: &str) -> Result<Option<SessionSummary>> {
    let Some(session) = get(conn, id)? else {
        return Ok(None);
    };
    let (count, last_seq): (i64, Option<i64>) = conn
        .prepare_cached("SELECT message_count, last_seq FROM chat_sessions WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let last_message = match last_seq {
        Some(seq) => super::messages::get_by_seq(conn, seq)?,
        None => None,
    };
    let awaiting_reply = last_message
        .as_ref()
        .is_some_and(|m| m.sender == Sender::User);
    Ok(Some(SessionSummary {
        session,
        last_message,
        message_count: count,
        awaiting_reply,
    }))
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
