//! chat_messages: insert (keeping the session's counters), and reads by
//! `seq`, the polling cursor.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{Message, Session};
use crate::error::Result;

const COLS: &str = "id, seq, session_id, sender, message_text, manager_id, created_at";

fn from_row(row: &Row) -> rusqlite::Result<Message> {
    Ok(Message {
        id: row.get(0)?,
        seq: row.get(1)?,
        session_id: row.get(2)?,
        sender: row.get(3)?,
        message_text: row.get(4)?,
        manager_id: row.get(5)?,
        created_at: row.get(6)?,
    })
}

/// A message to store; `seq` is assigned by the insert.
pub struct NewMessage<'a> {
    pub id: &'a str,
    pub session_id: &'a str,
    pub sender: &'a str,
    pub text: &'a str,
    pub manager_id: Option<&'a str>,
    pub client_message_id: Option<&'a str>,
    pub created_at: &'a str,
}

/// Inserts a message and bumps its session (updated_at, count, last
/// message, and the first visitor message and first reply after it, for
/// the stats). Call inside a write transaction: the seq taken here is then
/// also commit order.
pub fn insert(conn: &Connection, m: &NewMessage) -> Result<Message> {
    let seq: i64 = conn
        .prepare_cached("UPDATE message_seq SET last = last + 1 WHERE id = 1 RETURNING last")?
        .query_row([], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO chat_messages (seq, id, session_id, sender, message_text, manager_id,
             client_message_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    stmt.execute(params![
        seq,
        m.id,
        m.session_id,
        m.sender,
        m.text,
        m.manager_id,
        m.client_message_id,
        m.created_at
    ])?;
    // The first reply is the first manager message after the first visitor
    // message, in seq order: exactly what the stats defined it as when they
    // computed it from the messages (the same expression, the same value).
    conn.prepare_cached(
        "UPDATE chat_sessions
         SET updated_at = ?2, message_count = message_count + 1, last_seq = ?3, last_sender = ?4,
             first_user_at = CASE WHEN ?4 = 'user' THEN coalesce(first_user_at, ?2)
                                  ELSE first_user_at END,
             first_reply_secs = CASE
                 WHEN ?4 = 'manager' AND first_user_at IS NOT NULL AND first_reply_secs IS NULL
                 THEN (julianday(?2) - julianday(first_user_at)) * 86400.0
                 ELSE first_reply_secs END
         WHERE id = ?1",
    )?
    .execute(params![m.session_id, m.created_at, seq, m.sender])?;
    Ok(Message {
        id: m.id.to_string(),
        seq,
        session_id: m.session_id.to_string(),
        sender: m.sender.to_string(),
        message_text: m.text.to_string(),
        manager_id: m.manager_id.map(str::to_string),
        created_at: m.created_at.to_string(),
    })
}

/// Inserts many messages at once, in the given order, and brings their
/// sessions' counters up to date as [`insert`] would have: [`bulk_begin`],
/// [`bulk_add`] for each, then [`bulk_finish`], in one transaction.
pub fn insert_many(conn: &Connection, msgs: &[NewMessage]) -> Result<()> {
    bulk_begin(conn)?;
    for m in msgs {
        bulk_add(conn, m)?;
    }
    bulk_finish(conn)
}

/// Starts a bulk insert (`demo-data`): rows are staged in a temporary
/// table of this connection (on disk, so memory stays bounded), then
/// moved by one statement in [`bulk_finish`]. Per-row inserts would each
/// open a statement savepoint, and FTS5 flushes its pending index data at
/// every savepoint: the message index would be written one row at a time.
pub fn bulk_begin(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS staged_messages (
             id TEXT, session_id TEXT, sender TEXT, message_text TEXT, manager_id TEXT,
             client_message_id TEXT, created_at TEXT);
         DELETE FROM temp.staged_messages;",
    )?;
    Ok(())
}

/// Stages one message of a bulk insert (see [`bulk_begin`]).
pub fn bulk_add(conn: &Connection, m: &NewMessage) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO temp.staged_messages (id, session_id, sender, message_text, manager_id,
             client_message_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        m.id,
        m.session_id,
        m.sender,
        m.text,
        m.manager_id,
        m.client_message_id,
        m.created_at
    ])?;
    Ok(())
}

/// Inserts the staged messages in the order staged, with seqs from
/// `message_seq`, and updates their sessions' counters from their rows:
/// the same definitions (and the same expression for the first reply) as
/// the per-message [`insert`].
pub fn bulk_finish(conn: &Connection) -> Result<()> {
    let (n, low): (i64, i64) = conn
        .prepare_cached("SELECT count(*), coalesce(min(rowid), 0) FROM temp.staged_messages")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if n == 0 {
        return Ok(());
    }
    let last: i64 = conn
        .prepare_cached("UPDATE message_seq SET last = last + ?1 WHERE id = 1 RETURNING last")?
        .query_row([n], |r| r.get(0))?;
    let first = last - n + 1;
    conn.prepare_cached(
        "INSERT INTO chat_messages (seq, id, session_id, sender, message_text, manager_id,
             client_message_id, created_at)
         SELECT ?1 + rowid - ?2, id, session_id, sender, message_text, manager_id,
                client_message_id, created_at
         FROM temp.staged_messages ORDER BY rowid",
    )?
    .execute([first, low])?;
    conn.prepare_cached(
        "UPDATE chat_sessions AS s SET
             message_count = s.message_count + b.n,
             last_seq = b.last_seq,
             last_sender = (SELECT sender FROM chat_messages
                            WHERE session_id = s.id AND seq = b.last_seq),
             updated_at = (SELECT created_at FROM chat_messages
                           WHERE session_id = s.id AND seq = b.last_seq),
             first_user_at = (SELECT created_at FROM chat_messages
                              WHERE session_id = s.id AND sender = 'user' ORDER BY seq LIMIT 1),
             first_reply_secs = coalesce(s.first_reply_secs, (
                 SELECT (julianday(r.created_at) - julianday(
                            (SELECT created_at FROM chat_messages
                             WHERE session_id = s.id AND sender = 'user'
                             ORDER BY seq LIMIT 1))) * 86400.0
                 FROM chat_messages r
                 WHERE r.session_id = s.id AND r.sender = 'manager'
                   AND r.seq > (SELECT min(seq) FROM chat_messages
                                WHERE session_id = s.id AND sender = 'user')
                 ORDER BY r.seq LIMIT 1))
         FROM (SELECT session_id, count(*) AS n, max(seq) AS last_seq FROM chat_messages
               WHERE seq BETWEEN ?1 AND ?2 GROUP BY session_id) AS b
         WHERE s.id = b.session_id",
    )?
    .execute([first, last])?;
    conn.execute("DELETE FROM temp.staged_messages", [])?;
    Ok(())
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

/// A session and up to `limit` of its messages after seq `after`, in seq
/// order, and whether more are waiting: a poll in one statement (one read
/// of the session's row, then its messages, which are stored together).
/// `None` when there is no such session.
pub fn session_and_since(
    conn: &Connection,
    session_id: &str,
    after: i64,
    limit: u32,
) -> Result<Option<(Session, Vec<Message>, bool)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.user_name, s.user_phone, s.status, s.manager_id, s.user_session_id,
                s.created_at, s.updated_at,
                m.id, m.seq, m.sender, m.message_text, m.manager_id, m.created_at
         FROM chat_sessions s
         LEFT JOIN chat_messages m ON m.session_id = s.id AND m.seq > ?2
         WHERE s.id = ?1
         ORDER BY m.seq LIMIT ?3",
    )?;
    let mut rows = stmt.query(params![session_id, after, i64::from(limit) + 1])?;
    let mut session = None;
    let mut msgs = Vec::new();
    while let Some(r) = rows.next()? {
        if session.is_none() {
            session = Some(Session {
                id: r.get(0)?,
                user_name: r.get(1)?,
                user_phone: r.get(2)?,
                status: r.get(3)?,
                manager_id: r.get(4)?,
                user_session_id: r.get(5)?,
                created_at: r.get(6)?,
                updated_at: r.get(7)?,
            });
        }
        if let Some(id) = r.get::<_, Option<String>>(8)? {
            msgs.push(Message {
                id,
                seq: r.get(9)?,
                session_id: session_id.to_string(),
                sender: r.get(10)?,
                message_text: r.get(11)?,
                manager_id: r.get(12)?,
                created_at: r.get(13)?,
            });
        }
    }
    let has_more = msgs.len() > limit as usize;
    msgs.truncate(limit as usize);
    Ok(session.map(|s| (s, msgs, has_more)))
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
