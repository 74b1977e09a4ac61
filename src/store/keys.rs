//! `api_keys`: widget API keys made with `shopchat keys add`, stored hashed.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use crate::error::Result;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: String,
    /// The first characters of the key, to recognise it.
    pub hint: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

pub fn insert(tx: &Transaction, id: &str, key_hash: &str, hint: &str, now: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO api_keys (id, key_hash, key_hint, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, key_hash, hint, now],
    )?;
    Ok(())
}

pub fn list(conn: &Connection) -> Result<Vec<ApiKey>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, key_hint, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(ApiKey {
            id: r.get(0)?,
            hint: r.get(1)?,
            created_at: r.get(2)?,
            revoked_at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn exists(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM api_keys WHERE id = ?1", [id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Marks a key revoked. Returns false when there is no such active key.
pub fn revoke(tx: &Transaction, id: &str, now: &str) -> Result<bool> {
    Ok(tx.execute(
        "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, now],
    )? == 1)
}

pub fn active_count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL",
        [],
        |r| r.get(0),
    )?)
}

/// The hashes of every active key.
pub fn active_hashes(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT key_hash FROM api_keys WHERE revoked_at IS NULL ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
