//! `shopchat reopen ID`: open a closed or archived chat again, through the
//! chat rules.

use serde_json::json;

use super::term;
use crate::chat;
use crate::cli::{Cli, CloseArgs};
use crate::error::Error;

pub(super) fn run(cli: &Cli, args: &CloseArgs) -> anyhow::Result<()> {
    let mut conn = term::open(cli)?;
    let before = term::resolve_session(&conn, &args.id)?;
    let after = match chat::reopen(&mut conn, &before.id) {
        Ok(s) => s,
        Err(Error::Conflict(why)) => anyhow::bail!(
            "chat {} ({}) cannot be reopened: {why}",
            chat::short_id(&before.id),
            term::visitor_label(&before)
        ),
        Err(e) => return Err(term::chat_error(e, &before)),
    };
    if args.json {
        return term::print_json(&json!({"session": after.redacted()}));
    }
    let who = term::visitor_label(&after);
    if before.is_active() {
        term::say(format!(
            "Chat {} ({who}) is already open; nothing changed.",
            chat::short_id(&after.id)
        ))
    } else {
        term::say(format!(
            "Reopened chat {} ({who}); the visitor can write in it again.",
            chat::short_id(&after.id)
        ))
    }
}
