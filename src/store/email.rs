//! Email follow-ups: which answers are due to be emailed, and the outbox
//! the worker sends from (rows written in the transaction that decides
//! them, like `telegram_outbox`).

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::Message;
use crate::error::Result;

/// A chat with manager answers the visitor has not seen, the oldest of
/// them written before the cutoff.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub session_id: String,
    pub to: String,
    /// The answers not yet emailed or seen, oldest first.
    pub messages: Vec<Message>,
}

/// Chats whose visitor left an email and has not seen a manager's answer
/// written before `cutoff` (nor has it been emailed yet): at most `limit`.
pub fn due(conn: &Connection, cutoff: &str, limit: u32) -> Result<Vec<Due>> {
    let heads: Vec<(String, String, i64)> = conn
        .prepare_cached(
            "SELECT s.id, s.user_email, max(s.visitor_seen_seq, s.emailed_seq)
             FROM chat_sessions s
             WHERE s.user_email IS NOT NULL
               AND s.last_seq > s.visitor_seen_seq AND s.last_seq > s.emailed_seq
               AND EXISTS (SELECT 1 FROM chat_messages m
                   WHERE m.session_id = s.id AND m.sender = 'manager' AND m.auto = 0
                     AND m.seq > max(s.visitor_seen_seq, s.emailed_seq) AND m.created_at <= ?1)
             ORDER BY s.id LIMIT ?2",
        )?
        .query_map(params![cutoff, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for (session_id, to, after) in heads {
        let mut stmt = conn.prepare_cached(
            "SELECT id, seq, session_id, sender, message_text, manager_id, created_at, auto
             FROM chat_messages
             WHERE session_id = ?1 AND seq > ?2 AND sender = 'manager' AND auto = 0
             ORDER BY seq",
        )?;
        let messages = stmt
            .query_map(params![session_id, after], |r| {
                Ok(Message {
                    id: r.get(0)?,
                    seq: r.get(1)?,
                    session_id: r.get(2)?,
                    sender: r.get(3)?,
                    message_text: r.get(4)?,
                    manager_id: r.get(5)?,
                    created_at: r.get(6)?,
                    auto: r.get(7)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if !messages.is_empty() {
            out.push(Due {
                session_id,
                to,
                messages,
            });
        }
    }
    Ok(out)
}

/// Records that answers up to `seq` are dealt with (emailed, or queued).
pub fn set_emailed(conn: &Connection, session_id: &str, seq: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE chat_sessions SET emailed_seq = max(emailed_seq, ?2) WHERE id = ?1",
    )?
    .execute(params![session_id, seq])?;
    Ok(())
}

/// One email in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: i64,
    pub session_id: String,
    pub upto_seq: i64,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    pub failed_at: Option<String>,
}

const COLS: &str = "id, session_id, upto_seq, to_addr, subject, body, attempts, next_attempt_at,
    last_error, sent_at, failed_at";

fn from_row(r: &Row) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.get(0)?,
        session_id: r.get(1)?,
        upto_seq: r.get(2)?,
        to: r.get(3)?,
        subject: r.get(4)?,
        body: r.get(5)?,
        attempts: r.get(6)?,
        next_attempt_at: r.get(7)?,
        last_error: r.get(8)?,
        sent_at: r.get(9)?,
        failed_at: r.get(10)?,
    })
}

/// Queues an email, due now. A second one for the same answers is ignored
/// (UNIQUE (`session_id`, `upto_seq`)). Returns whether it was queued.
pub fn enqueue(
    conn: &Connection,
    session_id: &str,
    upto_seq: i64,
    to: &str,
    subject: &str,
    body: &str,
    now: &str,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO email_outbox (session_id, upto_seq, to_addr, subject, body,
                 next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        )?
        .execute(params![session_id, upto_seq, to, subject, body, now])?
        == 1)
}

/// The oldest pending email due at `now`.
pub fn next_due(conn: &Connection, now: &str) -> Result<Option<OutboxRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLS} FROM email_outbox
             WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?1
             ORDER BY next_attempt_at, id LIMIT 1"
        ))?
        .query_row([now], from_row)
        .optional()?)
}

pub fn mark_sent(conn: &Connection, id: i64, now: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE email_outbox SET sent_at = ?2, attempts = attempts + 1, last_error = NULL
         WHERE id = ?1",
    )?
    .execute(params![id, now])?;
    Ok(())
}

pub fn mark_retry(conn: &Connection, id: i64, error: &str, next: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE email_outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
         WHERE id = ?1",
    )?
    .execute(params![id, error, next])?;
    Ok(())
}

/// Makes every pending email due now (on start: a restart often follows a
/// fix of the SMTP settings, as for the Telegram outbox).
pub fn make_pending_due(tx: &Connection, now: &str) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE email_outbox SET next_attempt_at = ?1
         WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at > ?1",
        [now],
    )?)
}

/// Gives up on an email (refused for good, or no longer needed).
pub fn mark_failed(conn: &Connection, id: i64, error: &str, now: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE email_outbox SET attempts = attempts + 1, last_error = ?2, failed_at = ?3
         WHERE id = ?1",
    )?
    .execute(params![id, error, now])?;
    Ok(())
}

/// Every row, oldest first (diagnostics and tests).
pub fn all(conn: &Connection) -> Result<Vec<OutboxRow>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLS} FROM email_outbox ORDER BY id"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Deletes sent and given-up rows older than `before`.
pub fn prune(conn: &Connection, before: &str) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM email_outbox
         WHERE (sent_at IS NOT NULL AND sent_at < ?1) OR (failed_at IS NOT NULL AND failed_at < ?1)",
        [before],
    )?)
}
