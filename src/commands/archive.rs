//! `shopchat archive --older-than DAYS`: closed chats with no activity for
//! that long become archived (hidden from the usual lists, kept in full).

use serde_json::json;

use super::term;
use crate::cli::{ArchiveArgs, Cli};
use crate::store::{self, sessions};

pub(super) fn run(cli: &Cli, args: &ArchiveArgs) -> anyhow::Result<()> {
    let mut conn = term::open(cli)?;
    let now = chrono::Utc::now();
    let cutoff = crate::time::format(now - chrono::Duration::days(i64::from(args.older_than)));
    let n = store::write(&mut conn, |tx| sessions::archive_closed_before(tx, &cutoff))?;
    if args.json {
        return term::print_json(&json!({"archived": n, "olderThanDays": args.older_than}));
    }
    term::say(format!(
        "Archived {n} closed chat{} with no activity in the last {} day{}.",
        if n == 1 { "" } else { "s" },
        args.older_than,
        if args.older_than == 1 { "" } else { "s" }
    ))
}
