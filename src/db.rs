//! Opening the database: pragmas and migrations. The only place that sets
//! PRAGMAs.

use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{Migrations, M};

use crate::error::{Error, Result};

/// The schema history: schema.sql, then migrations/ in order. Only ever
/// appended to.
pub static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(include_str!("../schema.sql")),
        M::up(include_str!("../migrations/0002_health_probe.sql")),
        M::up(include_str!("../migrations/0003_live.sql")),
        M::up(include_str!("../migrations/0004_visitor.sql")),
        M::up(include_str!("../migrations/0005_messages_by_chat.sql")),
        M::up(include_str!("../migrations/0006_stats_counters.sql")),
        M::up(include_str!("../migrations/0007_search_index.sql")),
        M::up(include_str!("../migrations/0008_messages_today.sql")),
    ])
});

/// How long a writer waits for another (the server, the CLI) before
/// answering "busy".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens (creating if needed) the database, switches it to WAL and applies
/// pending migrations. `serve` and `create-tables` start here.
pub fn init(path: &Path) -> Result<Connection> {
    let mut conn = open_with(path, true)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    MIGRATIONS.to_latest(&mut conn)?;
    Ok(conn)
}

/// Opens an existing database for a worker thread or a command, applying
/// pending migrations. Errors when the file does not exist.
pub fn open_existing(path: &Path) -> Result<Connection> {
    if !path.exists() {
        return Err(Error::NoDatabase(path.to_path_buf()));
    }
    let mut conn = open_with(path, false)?;
    MIGRATIONS.to_latest(&mut conn)?;
    Ok(conn)
}

/// Opens a connection with the per-connection settings.
pub fn open(path: &Path) -> Result<Connection> {
    open_with(path, false)
}

/// Settings for a connection that writes many rows in few large
/// transactions (`demo-data`): a page cache big enough for the pages one
/// transaction touches, and commits without fsync (WAL with
/// synchronous=NORMAL cannot corrupt the file; a power cut may lose the
/// last commits, which a generator simply runs again).
pub fn tune_for_bulk_writes(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "cache_size", -BULK_CACHE_KIB)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

/// The page cache of each connection (every server worker has one), in
/// KiB. `SQLite`'s default is 2 MiB; 8 workers polled over 1,000 chats
/// filled theirs, 16 MiB mostly holding copies of the same pages (RSS 44
/// MiB with 1,000 widgets; 32 MiB at 512 KiB; bench/). A poll reads 3-4
/// pages of a chat stored together, the interior ones stay cached, and a
/// miss is a read from the OS's page cache, a few microseconds (a poll
/// costs ~4 µs more than with 2 MiB, and 1,000 widgets 14 MiB less:
/// bench/RESULTS.md).
const CACHE_KIB: i64 = 512;

/// The page cache of a bulk-writing connection, in KiB.
const BULK_CACHE_KIB: i64 = 16 * 1024;

/// The schema version (`rusqlite_migration`'s `user_version`).
pub fn schema_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// `SQLite`'s `data_version`: it changes when another connection (of this
/// process or another) has committed since this one last looked, so what
/// this connection keeps in memory (the API keys) can be read again only
/// when it may be stale, and the waiting room learns of other processes'
/// writes.
pub fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("PRAGMA data_version")?
        .query_row([], |r| r.get(0))?)
}

/// Whether the database answers (for `/healthz`): a read of the schema,
/// which needs the file and a read lock (`SELECT 1` needs neither).
pub fn ping(conn: &Connection) -> Result<()> {
    Ok(conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?)
}

/// Bytes free for unprivileged users on the file system holding `path`
/// (`None` when it cannot be told).
pub fn free_space(path: &Path) -> Option<u64> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

fn open_with(path: &Path, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Copies the database at `src` into a new file at `dest` with `SQLite`'s
/// online backup, in one step: the copy is the snapshot of a single read
/// transaction, so it holds every commit made before it started, and in WAL
/// mode the server keeps writing meanwhile. The copy uses a rollback
/// journal, so it is one self-contained file.
pub fn backup_to(src: &Connection, dest: &Path) -> Result<()> {
    use rusqlite::backup::{Backup, StepResult};
    let mut out = Connection::open_with_flags(
        dest,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    )?;
    out.busy_timeout(BUSY_TIMEOUT)?;
    {
        let backup = Backup::new(src, &mut out)?;
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked => {
                    if std::time::Instant::now() > deadline {
                        return Err(Error::Busy);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => {}
            }
        }
    }
    out.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(())
}

/// `PRAGMA integrity_check`: "ok", or what is wrong.
pub fn integrity_check(conn: &Connection) -> Result<String> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_validate() {
        MIGRATIONS.validate().unwrap();
    }
}
