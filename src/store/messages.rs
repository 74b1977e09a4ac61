//! chat_messages: insert (keeping the session's counters), and reads by
//! `seq`, the polling cursor.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::{Message, Sender};
use crate::error::Result;

const COLS: &str = "id, seq, session_id, sender, message_text, manager_id, created_at, auto";

fn from_row(row: &Row) -> rusqlite::Result<Message> {
    Ok(Message {
        id: row.get(0)?,
        seq: row.get(1)?,
        session_id: row.get(2)?,
        sender: row.get(3)?,
        message_text: row.get(4)?,
        manager_id: row.get(5)?,
        created_at: row.get(6)?,
        auto: row.get(7)?,
    })
}

/// A message to store; `seq` is assigned by the insert.
pub struct NewMessage<'a> {
    pub id: &'a str,
    pub session_id: &'a str,
    pub sender: Sender,
    pub text: &'a str,
    pub manager_id: Option<&'a str>,
    pub client_message_id: Option<&'a str>,
    pub created_at: &'a str,
    /// The away auto-reply: counted, but the chat's last message (and so
    /// "awaiting reply") stays the visitor's.
    pub auto: bool,
}

/// Inserts a message and bumps its session (updated_at, count, last
/// message). Call inside a write transaction: the seq assigned here is
/// then also commit order. An auto-reply bumps the count and the change
/// stamp only: the chat's last message stays the visitor's.
pub fn insert(tx: &Transaction, m: &NewMessage) -> Result<Message> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO chat_messages (id, session_id, sender, message_text, manager_id,
             client_message_id, created_at, auto)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    stmt.execute(params![
        m.id,
        m.session_id,
        m.sender,
        m.text,
        m.manager_id,
        m.client_message_id,
        m.created_at,
        m.auto
    ])?;
    let seq = tx.last_insert_rowid();
    if m.auto {
        tx.prepare_cached(
            "UPDATE chat_sessions
             SET message_count = message_count + 1, auto_replied_at = ?2,
                 change_seq = (SELECT coalesce(max(change_seq), 0) + 1 FROM chat_sessions)
             WHERE id = ?1",
        )?
        .execute(params![m.session_id, m.created_at])?;
    } else {
        tx.prepare_cached(
            "UPDATE chat_sessions
             SET updated_at = ?2, message_count = message_count + 1, last_seq = ?3, last_sender = ?4,
                 change_seq = (SELECT coalesce(max(change_seq), 0) + 1 FROM chat_sessions)
             WHERE id = ?1",
        )?
        .execute(params![m.session_id, m.created_at, seq, m.sender])?;
    }
    Ok(Message {
        id: m.id.to_string(),
        seq,
        session_id: m.session_id.to_string(),
        sender: m.sender,
        message_text: m.text.to_string(),
        manager_id: m.manager_id.map(str::to_string),
        created_at: m.created_at.to_string(),
        auto: m.auto,
    })
}

/// The message already sent with this clientMessageId in this session.
pub fn by_client_id(
    conn: &Connection,
    session_id: &str,
    client_id: &str,
) -> Result<Option<Message>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM chat_messages WHERE session_id = ?1 AND client_message_id = ?2"
    ))?;
    Ok(stmt
        .query_row([session_id, client_id], from_row)
        .optional()?)
}

pub fn get_by_seq(conn: &Connection, seq: i64) -> Result<Option<Message>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLS} FROM chat_messages WHERE seq = ?1"))?;
    Ok(stmt.query_row([seq], from_row).optional()?)
}

/// Where a poll starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Since {
    /// From the first message.
    Start,
    /// After this seq.
    Seq(i64),
    /// Created strictly after this (normalized) timestamp: lossy, for old
    /// clients only.
    Time(String),
}

/// Up to `limit` messages of a session after `since`, in seq order, and
/// whether more are waiting.
pub fn since(
    conn: &Connection,
    session_id: &str,
    since: &Since,
    limit: u32,
) -> Result<(Vec<Message>, bool)> {
    let fetch = i64::from(limit) + 1;
    let mut out: Vec<Message> = match since {
        Since::Start | Since::Seq(_) => {
            let after = match since {
                Since::Seq(s) => *s,
                _ => 0,
            };
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLS} FROM chat_messages WHERE session_id = ?1 AND seq > ?2
                 ORDER BY seq LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![session_id, after, fetch], from_row)?;
            rows.collect::<rusqlite::Result<_>>()?
        }
        Since::Time(t) => {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLS} FROM chat_messages WHERE session_id = ?1 AND created_at > ?2
                 ORDER BY seq LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![session_id, t, fetch], from_row)?;
            rows.collect::<rusqlite::Result<_>>()?
        }
    };
    let has_more = out.len() as i64 > i64::from(limit);
    out.truncate(limit as usize);
    Ok((out, has_more))
}

/// Every message of a session, in seq order.
pub fn all(conn: &Connection, session_id: &str) -> Result<Vec<Message>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM chat_messages WHERE session_id = ?1 ORDER BY seq"
    ))?;
    let rows = stmt.query_map([session_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The last `n` messages of a session, in seq order.
pub fn last(conn: &Connection, session_id: &str, n: u32) -> Result<Vec<Message>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM (SELECT {COLS} FROM chat_messages WHERE session_id = ?1
         ORDER BY seq DESC LIMIT ?2) ORDER BY seq"
    ))?;
    let rows = stmt.query_map(params![session_id, n], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Messages of every session after `seq`, in seq order (for `watch`).
pub fn after(conn: &Connection, seq: i64, limit: u32) -> Result<Vec<Message>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM chat_messages WHERE seq > ?1 ORDER BY seq LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![seq, limit], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The highest seq so far (0 when empty).
pub fn max_seq(conn: &Connection) -> Result<i64> {
    Ok(
        conn.query_row("SELECT coalesce(max(seq), 0) FROM chat_messages", [], |r| {
            r.get(0)
        })?,
    )
}
