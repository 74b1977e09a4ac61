//! managers: the people who answer, each with a hashed bearer token.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

use crate::error::Result;

/// A manager. The token hash never leaves this module.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Manager {
    pub id: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telegram_user_id: Option<i64>,
    #[serde(skip)]
    pub created_at: String,
    /// Set when the manager was removed but wrote messages: kept for their
    /// name, unable to sign in, answer or be assigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<String>,
}

impl Manager {
    /// What the API shows of a manager: id, name, whether they still work
    /// here; no secrets.
    pub fn public(&self) -> serde_json::Value {
        serde_json::json!({"id": self.id, "displayName": self.display_name, "active": self.is_active()})
    }

    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }
}

const COLS: &str = "id, display_name, telegram_user_id, created_at, deactivated_at";

fn from_row(row: &Row) -> rusqlite::Result<Manager> {
    Ok(Manager {
        id: row.get(0)?,
        display_name: row.get(1)?,
        telegram_user_id: row.get(2)?,
        created_at: row.get(3)?,
        deactivated_at: row.get(4)?,
    })
}

pub fn insert(tx: &Transaction, m: &Manager, token_hash: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO managers (id, display_name, token_hash, telegram_user_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            m.id,
            m.display_name,
            token_hash,
            m.telegram_user_id,
            m.created_at
        ],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: &str) -> Result<Option<Manager>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLS} FROM managers WHERE id = ?1"))?;
    Ok(stmt.query_row([id], from_row).optional()?)
}

pub fn list(conn: &Connection) -> Result<Vec<Manager>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLS} FROM managers ORDER BY id"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Managers who still work here (not deactivated).
pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM managers WHERE deactivated_at IS NULL",
        [],
        |r| r.get(0),
    )?)
}

/// The active managers, by id.
pub fn list_active(conn: &Connection) -> Result<Vec<Manager>> {
    Ok(list(conn)?.into_iter().filter(Manager::is_active).collect())
}

/// The manager whose token hashes to `token_hash`, with the stored hash
/// for a constant-time check.
pub fn by_token_hash(conn: &Connection, token_hash: &str) -> Result<Option<(Manager, String)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS}, token_hash FROM managers WHERE token_hash = ?1 AND deactivated_at IS NULL"
    ))?;
    Ok(stmt
        .query_row([token_hash], |r| Ok((from_row(r)?, r.get(5)?)))
        .optional()?)
}

pub fn by_telegram_id(conn: &Connection, telegram_user_id: i64) -> Result<Option<Manager>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM managers WHERE telegram_user_id = ?1 AND deactivated_at IS NULL"
    ))?;
    Ok(stmt.query_row([telegram_user_id], from_row).optional()?)
}

pub fn set_token_hash(tx: &Transaction, id: &str, token_hash: &str) -> Result<bool> {
    Ok(tx.execute(
        "UPDATE managers SET token_hash = ?2 WHERE id = ?1 AND deactivated_at IS NULL",
        params![id, token_hash],
    )? == 1)
}

pub fn set_telegram_id(tx: &Transaction, id: &str, telegram_user_id: Option<i64>) -> Result<bool> {
    Ok(tx.execute(
        "UPDATE managers SET telegram_user_id = ?2 WHERE id = ?1 AND deactivated_at IS NULL",
        params![id, telegram_user_id],
    )? == 1)
}

/// How a manager was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// No such (active) manager.
    NotFound,
    /// They never wrote a message: gone.
    Deleted,
    /// They wrote messages: kept with their name, deactivated.
    Deactivated,
}

/// Removes a manager. One who wrote messages is deactivated instead, so
/// their name stays on what they wrote: the token stops working, the
/// Telegram link goes, their open chats become unassigned. Call inside a
/// write transaction.
pub fn remove(tx: &Transaction, id: &str, now: &str) -> Result<Removed> {
    let Some(m) = get(tx, id)? else {
        return Ok(Removed::NotFound);
    };
    if !m.is_active() {
        return Ok(Removed::NotFound);
    }
    let wrote: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM chat_messages WHERE manager_id = ?1)",
        [id],
        |r| r.get(0),
    )?;
    super::sessions::unassign_active(tx, id)?;
    if !wrote {
        tx.execute("DELETE FROM managers WHERE id = ?1", [id])?;
        return Ok(Removed::Deleted);
    }
    // token_hash is NOT NULL UNIQUE: a value no token hashes to.
    tx.execute(
        "UPDATE managers SET deactivated_at = ?2, telegram_user_id = NULL,
             token_hash = 'deactivated:' || id
         WHERE id = ?1",
        params![id, now],
    )?;
    Ok(Removed::Deactivated)
}

/// Brings a deactivated manager back with a new token.
pub fn reactivate(
    tx: &Transaction,
    id: &str,
    display_name: &str,
    token_hash: &str,
) -> Result<bool> {
    Ok(tx.execute(
        "UPDATE managers SET deactivated_at = NULL, display_name = ?2, token_hash = ?3
         WHERE id = ?1 AND deactivated_at IS NOT NULL",
        params![id, display_name, token_hash],
    )? == 1)
}
