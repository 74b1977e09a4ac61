//! The database file format: migration 1 never changes, the migrations
//! validate, and a database made by an older binary (chat.db.example)
//! opens with this one, migrated, with every row intact.

use sha2::{Digest, Sha256};

use crate::clikit::{cmd_for, run};

/// schema.sql is migration 1. Databases in the field were made by it and
/// `rusqlite_migration` will never run it again, so an edit would make new
/// databases differ from old ones without anything noticing. Change the
/// schema by appending a migration to `db::MIGRATIONS` instead; this hash
/// is only ever updated by someone who knows no database was made with
/// the old text.
const SCHEMA_SQL_SHA256: &str = "2fab25b6b6ddabac06b4522dc2fbbe4e42b225b1d4bc0df10c1de7ff1dc2ac8b";

#[test]
fn migration_one_is_never_edited() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.sql");
    let text = std::fs::read(path).unwrap();
    let hash: String = Sha256::digest(&text)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        hash, SCHEMA_SQL_SHA256,
        "schema.sql (migration 1) changed: append a migration to db::MIGRATIONS instead"
    );
}

#[test]
fn migrations_validate() {
    shopchat::db::MIGRATIONS.validate().unwrap();
}

/// (schema version, chats, messages, highest seq, every message's id and text)
type Contents = (i64, i64, i64, i64, Vec<(String, String)>);

fn contents(db: &std::path::Path) -> Contents {
    let conn = rusqlite::Connection::open(db).unwrap();
    let one = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, message_text FROM chat_messages ORDER BY seq")
        .unwrap();
    let texts = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (
        one("PRAGMA user_version"),
        one("SELECT count(*) FROM chat_sessions"),
        one("SELECT count(*) FROM chat_messages"),
        one("SELECT coalesce(max(seq), 0) FROM chat_messages"),
        texts,
    )
}

#[test]
fn the_example_database_opens_with_this_binary_migrated_and_intact() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/chat.db.example"), &db).unwrap();
    let before = contents(&db);
    assert!(before.1 > 0 && before.2 > 0, "the example has chats");

    // A terminal command is the first to open it: it applies what is pending.
    let mut c = cmd_for(&db);
    c.args(["stats", "--json"]);
    let stats = run(c).json();
    assert_eq!(stats["sessions"]["total"], before.1);
    assert_eq!(stats["messages"]["total"], before.2);

    let latest = {
        let fresh = dir.path().join("fresh.db");
        let conn = shopchat::db::init(&fresh).unwrap();
        shopchat::db::schema_version(&conn).unwrap()
    };
    let after = contents(&db);
    assert_eq!(after.0, latest, "migrated to the newest schema");
    assert!(after.0 >= before.0);
    assert_eq!(after.1..=after.3, before.1..=before.3, "the same rows");
    assert_eq!(after.4, before.4, "every message, with its text");
    let conn = shopchat::db::open_existing(&db).unwrap();
    assert_eq!(shopchat::db::integrity_check(&conn).unwrap(), "ok");

    // And the listing, which reads the session counters, sees every chat.
    let mut c = cmd_for(&db);
    c.args(["sessions", "--json", "--limit", "10000"]);
    assert_eq!(run(c).json()["total"], before.1);
}
