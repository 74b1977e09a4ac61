//! Telegram tables: the notification outbox, the `message_id` -> session map,
//! forum topics, and the getUpdates offset.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use crate::error::Result;

text_enum! {
    /// What an outbox row announces.
    pub enum Kind {
        /// A visitor opened a chat.
        NewSession = "new_session",
        /// A visitor's message.
        Message = "message",
        /// The bot's own answer to a manager (ready HTML).
        Bot = "bot",
    }
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: i64,
    pub chat_id: String,
    pub kind: Kind,
    pub session_id: Option<String>,
    pub message_seq: Option<i64>,
    pub text: String,
    pub reply_to_message_id: Option<i64>,
    pub message_thread_id: Option<i64>,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    pub failed_at: Option<String>,
    pub telegram_message_id: Option<i64>,
    pub created_at: String,
}

const COLS: &str = "id, chat_id, kind, session_id, message_seq, text, reply_to_message_id,
    message_thread_id, attempts, next_attempt_at, last_error, sent_at, failed_at,
    telegram_message_id, created_at";

fn from_row(r: &Row) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.get(0)?,
        chat_id: r.get(1)?,
        kind: r.get(2)?,
        session_id: r.get(3)?,
        message_seq: r.get(4)?,
        text: r.get(5)?,
        reply_to_message_id: r.get(6)?,
        message_thread_id: r.get(7)?,
        attempts: r.get(8)?,
        next_attempt_at: r.get(9)?,
        last_error: r.get(10)?,
        sent_at: r.get(11)?,
        failed_at: r.get(12)?,
        telegram_message_id: r.get(13)?,
        created_at: r.get(14)?,
    })
}

/// A row to enqueue.
#[derive(Debug, Clone)]
pub struct NewRow<'a> {
    pub chat_id: &'a str,
    pub kind: Kind,
    pub session_id: Option<&'a str>,
    pub message_seq: Option<i64>,
    pub text: &'a str,
    pub reply_to_message_id: Option<i64>,
    pub message_thread_id: Option<i64>,
}

/// Adds a row, due at once. Call inside the transaction of the event.
pub fn enqueue(tx: &Transaction, row: &NewRow, now: &str) -> Result<i64> {
    tx.prepare_cached(
        "INSERT INTO telegram_outbox (chat_id, kind, session_id, message_seq, text,
             reply_to_message_id, message_thread_id, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
    )?
    .execute(params![
        row.chat_id,
        row.kind,
        row.session_id,
        row.message_seq,
        row.text,
        row.reply_to_message_id,
        row.message_thread_id,
        now
    ])?;
    Ok(tx.last_insert_rowid())
}

/// The oldest pending row of each chat (a chat's rows go out in order).
pub fn pending_heads(conn: &Connection) -> Result<Vec<OutboxRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM telegram_outbox WHERE id IN (
             SELECT min(id) FROM telegram_outbox
             WHERE sent_at IS NULL AND failed_at IS NULL GROUP BY chat_id)
         ORDER BY id"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Pending notifications of one session for one chat after row `after`,
/// in order: candidates to join into one Telegram message.
pub fn pending_for_session(
    conn: &Connection,
    chat_id: &str,
    session_id: &str,
    after: i64,
    limit: u32,
) -> Result<Vec<OutboxRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM telegram_outbox
         WHERE chat_id = ?1 AND session_id = ?2 AND id > ?3
           AND kind IN ('new_session', 'message')
           AND sent_at IS NULL AND failed_at IS NULL
         ORDER BY id LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![chat_id, session_id, after, limit], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Marks rows sent as Telegram message `message_id`.
pub fn mark_sent(tx: &Transaction, ids: &[i64], message_id: i64, now: &str) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "UPDATE telegram_outbox SET sent_at = ?2, telegram_message_id = ?3, last_error = NULL
         WHERE id = ?1",
    )?;
    for id in ids {
        stmt.execute(params![id, now, message_id])?;
    }
    Ok(())
}

/// Records a failed attempt and when to try again.
pub fn mark_retry(tx: &Transaction, ids: &[i64], error: &str, next_attempt_at: &str) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "UPDATE telegram_outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
         WHERE id = ?1",
    )?;
    for id in ids {
        stmt.execute(params![id, error, next_attempt_at])?;
    }
    Ok(())
}

/// Gives up on rows (Telegram refused them for good).
pub fn mark_failed(tx: &Transaction, ids: &[i64], error: &str, now: &str) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "UPDATE telegram_outbox SET attempts = attempts + 1, last_error = ?2, failed_at = ?3
         WHERE id = ?1",
    )?;
    for id in ids {
        stmt.execute(params![id, error, now])?;
    }
    Ok(())
}

/// Makes every pending row due now (on start: a restart often follows a fix).
pub fn make_pending_due(tx: &Transaction, now: &str) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE telegram_outbox SET next_attempt_at = ?1
         WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at > ?1",
        [now],
    )?)
}

/// Gives up on pending rows for chats no longer configured. Returns how many.
pub fn fail_unconfigured(tx: &Transaction, chat_ids: &[String], now: &str) -> Result<usize> {
    let pending: Vec<(i64, String)> = tx
        .prepare_cached(
            "SELECT id, chat_id FROM telegram_outbox WHERE sent_at IS NULL AND failed_at IS NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let gone: Vec<i64> = pending
        .into_iter()
        .filter(|(_, c)| !chat_ids.contains(c))
        .map(|(id, _)| id)
        .collect();
    let mut stmt = tx.prepare_cached(
        "UPDATE telegram_outbox SET failed_at = ?2,
             last_error = 'chat no longer in TELEGRAM_CHAT_ID'
         WHERE id = ?1",
    )?;
    for id in &gone {
        stmt.execute(params![id, now])?;
    }
    Ok(gone.len())
}

/// How many rows wait to be sent.
pub fn pending_count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM telegram_outbox WHERE sent_at IS NULL AND failed_at IS NULL",
        [],
        |r| r.get(0),
    )?)
}

/// Every row, oldest first (for diagnostics and tests).
pub fn all(conn: &Connection) -> Result<Vec<OutboxRow>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLS} FROM telegram_outbox ORDER BY id"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Remembers that Telegram message `message_id` in `chat_id` is about a session.
pub fn map_message(
    tx: &Transaction,
    chat_id: &str,
    message_id: i64,
    session_id: &str,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO telegram_message_map (chat_id, message_id, session_id)
         VALUES (?1, ?2, ?3)",
    )?
    .execute(params![chat_id, message_id, session_id])?;
    Ok(())
}

/// The session a Telegram message is about.
pub fn session_for_message(
    conn: &Connection,
    chat_id: &str,
    message_id: i64,
) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT session_id FROM telegram_message_map WHERE chat_id = ?1 AND message_id = ?2",
        )?
        .query_row(params![chat_id, message_id], |r| r.get(0))
        .optional()?)
}

/// The forum topic of a session in a chat.
pub fn topic_for_session(
    conn: &Connection,
    chat_id: &str,
    session_id: &str,
) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT thread_id FROM telegram_topics WHERE chat_id = ?1 AND session_id = ?2",
        )?
        .query_row(params![chat_id, session_id], |r| r.get(0))
        .optional()?)
}

/// The session of a forum topic.
pub fn session_for_topic(
    conn: &Connection,
    chat_id: &str,
    thread_id: i64,
) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT session_id FROM telegram_topics WHERE chat_id = ?1 AND thread_id = ?2",
        )?
        .query_row(params![chat_id, thread_id], |r| r.get(0))
        .optional()?)
}

pub fn set_topic(tx: &Transaction, chat_id: &str, session_id: &str, thread_id: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO telegram_topics (chat_id, session_id, thread_id) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![chat_id, session_id, thread_id])?;
    Ok(())
}

pub fn forget_topic(tx: &Transaction, chat_id: &str, session_id: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM telegram_topics WHERE chat_id = ?1 AND session_id = ?2",
        params![chat_id, session_id],
    )?;
    Ok(())
}

/// The next getUpdates offset (0 before the first update).
pub fn update_offset(conn: &Connection) -> Result<i64> {
    let v: Option<String> = conn
        .prepare_cached("SELECT value FROM telegram_state WHERE key = 'update_offset'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

pub fn set_update_offset(tx: &Transaction, offset: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO telegram_state (key, value) VALUES ('update_offset', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([offset.to_string()])?;
    Ok(())
}

/// Deletes sent and given-up rows older than `before`. The message map is
/// kept: managers may reply to an old notification.
pub fn prune(tx: &Transaction, before: &str) -> Result<usize> {
    Ok(tx.execute(
        "DELETE FROM telegram_outbox
         WHERE (sent_at IS NOT NULL AND sent_at < ?1) OR (failed_at IS NOT NULL AND failed_at < ?1)",
        [before],
    )?)
}
