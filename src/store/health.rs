//! `health_probe`: one row `/healthz` rewrites while the disk is full, to
//! learn when writes work again.

use rusqlite::Transaction;

use crate::error::Result;

/// Rewrites the probe row (inside a write transaction).
pub fn touch(tx: &Transaction, now: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO health_probe (id, at) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET at = excluded.at",
    )?
    .execute([now])?;
    Ok(())
}
