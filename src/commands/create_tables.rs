//! `shopchat create-tables`: create or upgrade the schema, idempotently.

use crate::cli::Cli;

pub(super) fn run(cli: &Cli) -> anyhow::Result<()> {
    let conn = crate::db::init(&cli.db)?;
    let version = crate::db::schema_version(&conn)?;
    println!(
        "{}: schema is up to date (version {version})",
        cli.db.display()
    );
    Ok(())
}
