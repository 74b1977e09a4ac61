//! Every SQL statement lives here. Functions take a `&Connection` (a
//! `Transaction` derefs to one) and return rows as plain structs that
//! serialize to the API's JSON.

pub mod health;
pub mod keys;
pub mod managers;
pub mod messages;
pub mod sessions;
pub mod stats;
pub mod telegram;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use rusqlite::{Connection, TransactionBehavior};
use serde::Serialize;

use crate::error::Result;

/// A chat between one visitor and the shop.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub user_name: Option<String>,
    pub user_phone: Option<String>,
    pub status: String,
    pub manager_id: Option<String>,
    /// The visitor's secret: only ever shown to the visitor.
    pub user_session_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Session {
    /// The session as managers see it: without the visitor's secret.
    pub fn redacted(mut self) -> Self {
        self.user_session_id = None;
        self
    }

    pub fn is_active(&self) -> bool {
        self.status == STATUS_ACTIVE
    }
}

/// One message. `seq` is the polling cursor.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    pub seq: i64,
    pub session_id: String,
    pub sender: String,
    pub message_text: String,
    pub manager_id: Option<String>,
    pub created_at: String,
}

/// A session in a listing.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    #[serde(flatten)]
    pub session: Session,
    pub last_message: Option<Message>,
    pub message_count: i64,
    pub awaiting_reply: bool,
    /// With a search that matched a message's text: that message (the
    /// newest one that matched), cut to the matching line.
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    pub text_match: Option<TextMatch>,
}

/// The message a search found in a chat, as a snippet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TextMatch {
    pub seq: i64,
    pub sender: String,
    pub created_at: String,
    /// The line of the message that matched, cut around the match (with
    /// "…" where cut).
    pub snippet: String,
}

pub const STATUS_ACTIVE: &str = "active";
pub const STATUS_CLOSED: &str = "closed";
pub const STATUS_ARCHIVED: &str = "archived";
pub const SENDER_USER: &str = "user";
pub const SENDER_MANAGER: &str = "manager";

/// Runs `f` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up
/// front, so a read-then-write never fails with SQLITE_BUSY half-way
/// (the busy timeout covers the wait instead).
///
/// Writers of this process also queue on one mutex first: SQLite's own
/// busy handler sleeps and retries (up to 100 ms a try), which under load
/// let some writers wait a second while others went ahead. Other processes
/// (the terminal) still meet the busy timeout, and wait their turn.
pub fn write<T>(
    conn: &mut Connection,
    f: impl FnOnce(&rusqlite::Transaction) -> Result<T>,
) -> Result<T> {
    static WRITERS: Mutex<()> = Mutex::new(());
    let _turn = WRITERS.lock().unwrap_or_else(|p| p.into_inner());
    let result = (|| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    })();
    match &result {
        Ok(_) => STORAGE_FULL.store(false, Ordering::Relaxed),
        Err(crate::Error::StorageFull) => STORAGE_FULL.store(true, Ordering::Relaxed),
        Err(_) => {}
    }
    result
}

/// Set when a write of this process failed because the disk is full;
/// cleared by the next write that succeeds.
static STORAGE_FULL: AtomicBool = AtomicBool::new(false);

/// Whether the last write of this process failed for lack of disk space.
pub fn storage_full() -> bool {
    STORAGE_FULL.load(Ordering::Relaxed)
}
