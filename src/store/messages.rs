//! `chat_messages`: insert (keeping the session's counters), and reads by
//! `seq`, the polling cursor.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::{Message, Sender, Session};
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

/// Inserts a message and bumps its session (count, change stamp, last
/// message, and the first visitor message and first reply after it, for
/// the stats). Call inside a write transaction: the seq taken here is then
/// also commit order. An auto-reply bumps the count and the change stamp
/// only: the chat's last message stays the visitor's, and it is not a
/// reply.
pub fn insert(tx: &Transaction, m: &NewMessage) -> Result<Message> {
    let seq: i64 = tx
        .prepare_cached("UPDATE message_seq SET last = last + 1 WHERE id = 1 RETURNING last")?
        .query_row([], |r| r.get(0))?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO chat_messages (seq, id, session_id, sender, message_text, manager_id,
             client_message_id, created_at, auto)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    stmt.execute(params![
        seq,
        m.id,
        m.session_id,
        m.sender,
        m.text,
        m.manager_id,
        m.client_message_id,
        m.created_at,
        m.auto
    ])?;
    if m.auto {
        tx.prepare_cached(
            "UPDATE chat_sessions
             SET message_count = message_count + 1, auto_replied_at = ?2,
                 change_seq = (SELECT coalesce(max(change_seq), 0) + 1 FROM chat_sessions)
             WHERE id = ?1",
        )?
        .execute(params![m.session_id, m.created_at])?;
    } else {
        // The first reply is the first manager message (not an auto-reply)
        // after the first visitor message, in seq order: exactly what the
        // stats defined it as when they computed it from the messages (the
        // same expression, the same value).
        tx.prepare_cached(
            "UPDATE chat_sessions
             SET updated_at = ?2, message_count = message_count + 1, last_seq = ?3,
                 last_sender = ?4,
                 change_seq = (SELECT coalesce(max(change_seq), 0) + 1 FROM chat_sessions),
                 first_user_at = CASE WHEN ?4 = 'user' THEN coalesce(first_user_at, ?2)
                                      ELSE first_user_at END,
                 first_reply_secs = CASE
                     WHEN ?4 = 'manager' AND first_user_at IS NOT NULL AND first_reply_secs IS NULL
                     THEN (julianday(?2) - julianday(first_user_at)) * 86400.0
                     ELSE first_reply_secs END
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

/// Inserts many messages at once, in the given order, and brings their
/// sessions' counters up to date as [`insert`] would have: [`bulk_begin`],
/// [`bulk_add`] for each, then [`bulk_finish`], in one transaction.
pub fn insert_many(tx: &Transaction, msgs: &[NewMessage]) -> Result<()> {
    bulk_begin(tx)?;
    for m in msgs {
        bulk_add(tx, m)?;
    }
    bulk_finish(tx)
}

/// Starts a bulk insert (`demo-data`): rows are staged in a temporary
/// table of this connection (on disk, so memory stays bounded), then
/// moved by one statement in [`bulk_finish`]. Per-row inserts would each
/// open a statement savepoint, and FTS5 flushes its pending index data at
/// every savepoint: the message index would be written one row at a time.
pub fn bulk_begin(tx: &Transaction) -> Result<()> {
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS staged_messages (
             id TEXT, session_id TEXT, sender TEXT, message_text TEXT, manager_id TEXT,
             client_message_id TEXT, created_at TEXT, auto INTEGER);
         DELETE FROM temp.staged_messages;",
    )?;
    Ok(())
}

/// Stages one message of a bulk insert (see [`bulk_begin`]).
pub fn bulk_add(tx: &Transaction, m: &NewMessage) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO temp.staged_messages (id, session_id, sender, message_text, manager_id,
             client_message_id, created_at, auto)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        m.id,
        m.session_id,
        m.sender,
        m.text,
        m.manager_id,
        m.client_message_id,
        m.created_at,
        m.auto
    ])?;
    Ok(())
}

/// Inserts the staged messages in the order staged, with seqs from
/// `message_seq`, and updates their sessions from their rows as [`insert`]
/// does, message by message: the count, the last message (not an
/// auto-reply), `auto_replied_at`, the first visitor message and the
/// first reply (the same definitions and the same expression), and a new
/// change stamp for every chat that got messages.
pub fn bulk_finish(tx: &Transaction) -> Result<()> {
    let (n, low): (i64, i64) = tx
        .prepare_cached("SELECT count(*), coalesce(min(rowid), 0) FROM temp.staged_messages")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if n == 0 {
        return Ok(());
    }
    let last: i64 = tx
        .prepare_cached("UPDATE message_seq SET last = last + ?1 WHERE id = 1 RETURNING last")?
        .query_row([n], |r| r.get(0))?;
    let first = last - n + 1;
    tx.prepare_cached(
        "INSERT INTO chat_messages (seq, id, session_id, sender, message_text, manager_id,
             client_message_id, created_at, auto)
         SELECT ?1 + rowid - ?2, id, session_id, sender, message_text, manager_id,
                client_message_id, created_at, auto
         FROM temp.staged_messages ORDER BY rowid",
    )?
    .execute([first, low])?;
    // Distinct change stamps above every earlier one (rowids are distinct),
    // as sessions::archive_closed_before gives them.
    let top = super::sessions::max_change(tx)?;
    tx.prepare_cached(
        "UPDATE chat_sessions AS s SET
             message_count = s.message_count + b.n,
             change_seq = ?3 + s.rowid,
             last_seq = coalesce(b.last_seq, s.last_seq),
             last_sender = coalesce((SELECT sender FROM chat_messages
                                     WHERE session_id = s.id AND seq = b.last_seq),
                                    s.last_sender),
             updated_at = coalesce((SELECT created_at FROM chat_messages
                                    WHERE session_id = s.id AND seq = b.last_seq),
                                   s.updated_at),
             auto_replied_at = coalesce((SELECT created_at FROM chat_messages
                                         WHERE session_id = s.id AND seq = b.last_auto),
                                        s.auto_replied_at),
             first_user_at = (SELECT created_at FROM chat_messages
                              WHERE session_id = s.id AND sender = 'user' ORDER BY seq LIMIT 1),
             first_reply_secs = coalesce(s.first_reply_secs, (
                 SELECT (julianday(r.created_at) - julianday(
                            (SELECT created_at FROM chat_messages
                             WHERE session_id = s.id AND sender = 'user'
                             ORDER BY seq LIMIT 1))) * 86400.0
                 FROM chat_messages r
                 WHERE r.session_id = s.id AND r.sender = 'manager' AND r.auto = 0
                   AND r.seq > (SELECT min(seq) FROM chat_messages
                                WHERE session_id = s.id AND sender = 'user')
                 ORDER BY r.seq LIMIT 1))
         FROM (SELECT session_id, count(*) AS n,
                      max(seq) FILTER (WHERE auto = 0) AS last_seq,
                      max(seq) FILTER (WHERE auto <> 0) AS last_auto
               FROM chat_messages
               WHERE seq BETWEEN ?1 AND ?2 GROUP BY session_id) AS b
         WHERE s.id = b.session_id",
    )?
    .execute([first, last, top])?;
    tx.execute("DELETE FROM temp.staged_messages", [])?;
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

/// What a poll reads of a chat: the session, how far each side has seen
/// it, its change stamp, and up to `limit` messages after a seq.
#[derive(Debug, Clone)]
pub struct SessionPage {
    pub session: Session,
    /// The highest seq the visitor has seen.
    pub visitor_seen_seq: i64,
    /// The highest seq the managers have seen.
    pub manager_seen_seq: i64,
    /// The chat's change stamp, read with the messages.
    pub change_seq: i64,
    pub messages: Vec<Message>,
    /// Whether more messages are waiting after these.
    pub has_more: bool,
}

/// A session, how far each side has seen it, its change stamp, and up to
/// `limit` of its messages after seq `after`, in seq order: a poll in one statement (one
/// read of the session's row, then its messages, which are stored
/// together). `None` when there is no such session.
pub fn session_and_since(
    conn: &Connection,
    session_id: &str,
    after: i64,
    limit: u32,
) -> Result<Option<SessionPage>> {
    // Built once: a poll runs this for every request.
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT {}, s.visitor_seen_seq, s.manager_seen_seq, s.change_seq,
                    m.id, m.seq, m.sender, m.message_text, m.manager_id, m.created_at, m.auto
             FROM chat_sessions s
             LEFT JOIN chat_messages m ON m.session_id = s.id AND m.seq > ?2
             WHERE s.id = ?1
             ORDER BY m.seq LIMIT ?3",
            super::sessions::COLS_OF_S
        )
    });
    let mut stmt = conn.prepare_cached(&SQL)?;
    let mut rows = stmt.query(params![session_id, after, i64::from(limit) + 1])?;
    let mut page: Option<SessionPage> = None;
    while let Some(r) = rows.next()? {
        let p = match &mut page {
            Some(p) => p,
            None => page.insert(SessionPage {
                session: super::sessions::from_row(r)?,
                visitor_seen_seq: r.get(10)?,
                manager_seen_seq: r.get(11)?,
                change_seq: r.get(12)?,
                messages: Vec::new(),
                has_more: false,
            }),
        };
        if let Some(id) = r.get::<_, Option<String>>(13)? {
            p.messages.push(Message {
                id,
                seq: r.get(14)?,
                session_id: session_id.to_string(),
                sender: r.get(15)?,
                message_text: r.get(16)?,
                manager_id: r.get(17)?,
                created_at: r.get(18)?,
                auto: r.get(19)?,
            });
        }
    }
    if let Some(p) = &mut page {
        p.has_more = p.messages.len() > limit as usize;
        p.messages.truncate(limit as usize);
    }
    Ok(page)
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
