//! `shopchat close ID`: close a chat through the chat rules.

use serde_json::json;

use super::term;
use crate::chat;
use crate::cli::{Cli, CloseArgs};

pub(super) fn run(cli: &Cli, args: &CloseArgs) -> anyhow::Result<()> {
    let mut conn = term::open(cli)?;
    let before = term::resolve_session(&conn, &args.id)?;
    let after = chat::close(&mut conn, &before.id).map_err(|e| term::chat_error(e, &before))?;
    if args.json {
        return term::print_json(&json!({"session": after.redacted()}));
    }
    let who = term::visitor_label(&after);
    if before.is_active() {
        term::say(format!(
            "Closed chat {} ({who}).",
            chat::short_id(&after.id)
        ))?;
    } else {
        term::say(format!(
            "Chat {} ({who}) was already {}; nothing changed.",
            chat::short_id(&after.id),
            after.status
        ))?;
    }
    Ok(())
}
