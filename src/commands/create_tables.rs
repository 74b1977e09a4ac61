//! `shopchat create-tables`: create or upgrade the schema, idempotently.

use crate::cli::Cli;

pub fn run(cli: &Cli) -> anyhow::Result<()> {
    let conn = crate::db::init(&cli.db)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    println!(
        "{}: schema is up to date (version {version})",
        cli.db.display()
    );
    Ok(())
}
