//! The outbox worker: sends pending notifications in order per chat, joins
//! a visitor's quick messages into one, keeps to Telegram's rate limits,
//! and reschedules failures with exponential backoff (a 429's `retry_after`
//! wins). Delivery is at least once: a crash between Telegram's answer and
//! the commit below sends that notification again after a restart.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::client::{ApiError, Client, Outgoing};
use super::text::{self, Notice};
use super::Config;
use crate::background::sleep_unless_stopped;
use crate::chat::short_id;
use crate::error::Result;
use crate::store::telegram::{self as tg_store, Kind, OutboxRow};
use crate::store::{self, sessions};
use crate::time;

/// What one step did.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing was due (or everything due waits for a rate limit).
    Idle,
    /// A Bot API call was made.
    Worked,
}

/// The outbox sender, with its own connection.
pub struct Worker {
    conn: Connection,
    client: Client,
    config: Arc<Config>,
    /// When each chat last got a message (or an attempt).
    last_sent: HashMap<String, Instant>,
    last_any: Option<Instant>,
    /// After a 429: nothing is sent before this.
    paused_until: Option<Instant>,
    last_prune: Option<Instant>,
}

/// Sent rows are kept this long (for diagnostics), then deleted.
const KEEP_SENT: Duration = Duration::from_hours(168);

/// Why a send did not happen. Only Telegram's failures count as an attempt
/// and back off; a database error is our own trouble, so the row is left
/// as it was and the next step tries again.
enum SendError {
    Telegram(ApiError),
    Db(crate::Error),
}

impl From<ApiError> for SendError {
    fn from(e: ApiError) -> Self {
        SendError::Telegram(e)
    }
}

impl From<crate::Error> for SendError {
    fn from(e: crate::Error) -> Self {
        SendError::Db(e)
    }
}

/// The rows one Telegram message carries.
struct Batch {
    ids: Vec<i64>,
    html: String,
    reply_to: Option<i64>,
    thread: Option<i64>,
}

impl Worker {
    pub fn new(conn: Connection, client: Client, config: Arc<Config>) -> Worker {
        Worker {
            conn,
            client,
            config,
            last_sent: HashMap::new(),
            last_any: None,
            paused_until: None,
            last_prune: None,
        }
    }

    /// Sends until `stop` is set.
    pub fn run(mut self, stop: &AtomicBool) {
        if let Err(e) = self.resume() {
            eprintln!("shopchat: telegram: could not read the outbox: {e}");
        }
        while !stop.load(Ordering::SeqCst) {
            if self
                .last_prune
                .is_none_or(|t| t.elapsed() > Duration::from_hours(1))
            {
                self.last_prune = Some(Instant::now());
                let before = time::format(
                    chrono::Utc::now() - chrono::Duration::from_std(KEEP_SENT).unwrap_or_default(),
                );
                if let Err(e) = store::write(&mut self.conn, |tx| tg_store::prune(tx, &before)) {
                    eprintln!("shopchat: telegram: pruning the outbox: {e}");
                }
            }
            match self.step() {
                Ok(Step::Worked) => {}
                Ok(Step::Idle) => sleep_unless_stopped(self.config.tuning.idle_interval, stop),
                Err(e) => {
                    eprintln!("shopchat: telegram: outbox: {e}");
                    sleep_unless_stopped(self.config.tuning.idle_interval, stop);
                }
            }
        }
    }

    /// On start: what waits is due now (a restart often follows a fix), and
    /// rows for chats no longer configured are given up.
    pub fn resume(&mut self) -> Result<()> {
        let chat_ids = self.config.chat_ids.clone();
        let now = time::now();
        let (dropped, pending) = store::write(&mut self.conn, |tx| {
            let dropped = tg_store::fail_unconfigured(tx, &chat_ids, &now)?;
            tg_store::make_pending_due(tx, &now)?;
            Ok((dropped, tg_store::pending_count(tx)?))
        })?;
        if dropped > 0 {
            eprintln!(
                "shopchat: telegram: gave up {dropped} notification(s) for chats no longer in TELEGRAM_CHAT_ID"
            );
        }
        if pending > 0 {
            eprintln!(
                "shopchat: telegram: {pending} notification(s) waiting in the outbox; sending"
            );
        }
        Ok(())
    }

    /// Sends at most one Telegram message: the oldest due one of a chat
    /// that its rate limit allows.
    pub fn step(&mut self) -> Result<Step> {
        let t = self.config.tuning.clone();
        if self.paused_until.is_some_and(|p| Instant::now() < p) {
            return Ok(Step::Idle);
        }
        let now = time::now();
        let heads = tg_store::pending_heads(&self.conn)?;
        let ready = |chat: &str| {
            self.last_sent
                .get(chat)
                .is_none_or(|at| at.elapsed() >= t.per_chat_interval)
        };
        let Some(head) = heads
            .into_iter()
            .find(|h| h.next_attempt_at <= now && ready(&h.chat_id))
        else {
            return Ok(Step::Idle);
        };
        if let Some(last) = self.last_any {
            if let Some(wait) = t.global_interval.checked_sub(last.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        let Some(batch) = self.batch(&head)? else {
            return Ok(Step::Worked);
        };
        let result = self.topic(&head).and_then(|thread| {
            Ok(self.client.send_message(&Outgoing {
                chat_id: &head.chat_id,
                html: &batch.html,
                reply_to_message_id: batch.reply_to,
                message_thread_id: batch.thread.or(thread),
            })?)
        });
        let sent_at = Instant::now();
        self.last_any = Some(sent_at);
        self.last_sent.insert(head.chat_id.clone(), sent_at);
        match result {
            Ok(message_id) => {
                let now = time::now();
                store::write(&mut self.conn, |tx| {
                    tg_store::mark_sent(tx, &batch.ids, message_id, &now)?;
                    if let Some(sid) = &head.session_id {
                        tg_store::map_message(tx, &head.chat_id, message_id, sid)?;
                    }
                    Ok(())
                })?;
            }
            Err(SendError::Telegram(e)) => self.failed(&head, &batch.ids, &e)?,
            // Not an attempt: no backoff, the row stays due.
            Err(SendError::Db(e)) => return Err(e),
        }
        Ok(Step::Worked)
    }

    /// The rows to send with `head` and their text. `None` when there is
    /// nothing left to send (the session is gone).
    fn batch(&mut self, head: &OutboxRow) -> Result<Option<Batch>> {
        if head.kind == Kind::Bot {
            return Ok(Some(Batch {
                ids: vec![head.id],
                html: head.text.clone(),
                reply_to: head.reply_to_message_id,
                thread: head.message_thread_id,
            }));
        }
        let session = match &head.session_id {
            Some(sid) => sessions::get(&self.conn, sid)?,
            None => None,
        };
        let Some(session) = session else {
            let now = time::now();
            store::write(&mut self.conn, |tx| {
                tg_store::mark_failed(tx, &[head.id], "the chat session no longer exists", &now)
            })?;
            return Ok(None);
        };
        let mut rows = vec![head.clone()];
        rows.extend(tg_store::pending_for_session(
            &self.conn,
            &head.chat_id,
            &session.id,
            head.id,
            50,
        )?);
        let new_chat = rows.iter().any(|r| r.kind == Kind::NewSession);
        // A new-chat row carries the chat's first message; one queued by an
        // older version (before chats began with their first message) has
        // no text and only announces the chat.
        let has_text = |r: &OutboxRow| r.kind != Kind::NewSession || r.message_seq.is_some();
        let texts: Vec<&str> = rows
            .iter()
            .filter(|r| has_text(r))
            .map(|r| r.text.as_str())
            .collect();
        let (html, used) = text::notification(&Notice {
            session: &session,
            new_chat,
            messages: &texts,
            public_url: self.config.public_url.as_deref(),
            topics: self.config.topics,
        });
        // The rows whose text is in: every new-chat row and the first `used` messages.
        let mut ids = Vec::new();
        let mut messages = 0;
        for r in &rows {
            if has_text(r) {
                if messages == used {
                    break;
                }
                messages += 1;
            }
            ids.push(r.id);
        }
        Ok(Some(Batch {
            ids,
            html,
            reply_to: None,
            thread: None,
        }))
    }

    /// In forum-topic mode, the topic of the head's session (made on first use).
    fn topic(&mut self, head: &OutboxRow) -> std::result::Result<Option<i64>, SendError> {
        if !self.config.topics || head.kind == Kind::Bot {
            return Ok(None);
        }
        let Some(sid) = &head.session_id else {
            return Ok(None);
        };
        if let Some(t) = tg_store::topic_for_session(&self.conn, &head.chat_id, sid)? {
            return Ok(Some(t));
        }
        let session = sessions::get(&self.conn, sid)?;
        let name = match &session {
            Some(s) => format!("{} · {}", text::cut(&text::who(s), 100), short_id(&s.id)),
            None => short_id(sid).to_string(),
        };
        let thread = self.client.create_forum_topic(&head.chat_id, &name)?;
        let chat = head.chat_id.clone();
        store::write(&mut self.conn, |tx| {
            tg_store::set_topic(tx, &chat, sid, thread)?;
            // The topic's first message is what managers may reply to.
            tg_store::map_message(tx, &chat, thread, sid)
        })?;
        Ok(Some(thread))
    }

    /// Reschedules (or, for a message Telegram keeps rejecting, gives up).
    fn failed(&mut self, head: &OutboxRow, ids: &[i64], e: &ApiError) -> Result<()> {
        let t = &self.config.tuning;
        let attempt = head.attempts + 1;
        let error = e.to_string();
        let now = time::now();
        let mut delay = backoff(t.min_backoff, t.max_backoff, attempt);
        match e {
            ApiError::Api {
                code: 429,
                retry_after,
                ..
            } => {
                if let Some(s) = retry_after {
                    delay = Duration::from_secs(*s);
                }
                // Flood control is about the bot, not one chat: pause all.
                self.paused_until = Some(Instant::now() + delay);
            }
            ApiError::Api {
                code: 400,
                description,
                ..
            } => {
                if self.config.topics && description.contains("thread not found") {
                    if let Some(sid) = &head.session_id {
                        let chat = &head.chat_id;
                        store::write(&mut self.conn, |tx| tg_store::forget_topic(tx, chat, sid))?;
                    }
                    delay = Duration::ZERO;
                } else if attempt >= t.max_rejected_attempts {
                    eprintln!(
                        "shopchat: telegram: chat {}: giving up on a notification after {attempt} attempts: {error}",
                        head.chat_id
                    );
                    store::write(&mut self.conn, |tx| {
                        tg_store::mark_failed(tx, ids, &error, &now)
                    })?;
                    return Ok(());
                }
            }
            _ => {}
        }
        let next = time::format(
            chrono::Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default(),
        );
        eprintln!(
            "shopchat: telegram: chat {}: sending failed (attempt {attempt}): {error}; next try in {:.1} s",
            head.chat_id,
            delay.as_secs_f64()
        );
        store::write(&mut self.conn, |tx| {
            tg_store::mark_retry(tx, ids, &error, &next)
        })
    }
}

/// `min * 2^(attempt-1)`, at most `max`.
pub fn backoff(min: Duration, max: Duration, attempt: i64) -> Duration {
    let exp = attempt.clamp(1, 32) - 1;
    min.saturating_mul(1u32 << exp.min(31)).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let (a, b) = (Duration::from_secs(1), Duration::from_mins(5));
        assert_eq!(backoff(a, b, 1), Duration::from_secs(1));
        assert_eq!(backoff(a, b, 2), Duration::from_secs(2));
        assert_eq!(backoff(a, b, 5), Duration::from_secs(16));
        assert_eq!(backoff(a, b, 40), Duration::from_mins(5));
    }
}
