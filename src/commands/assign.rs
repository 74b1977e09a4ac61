//! `shopchat assign ID MANAGER|none`: give a chat to a manager, or take it
//! back, through the chat rules.

use serde_json::json;

use super::term;
use crate::chat;
use crate::cli::{AssignArgs, Cli};

pub(super) fn run(cli: &Cli, args: &AssignArgs) -> anyhow::Result<()> {
    let mut conn = term::open(cli)?;
    let session = term::resolve_session(&conn, &args.id)?;
    let manager = match args.manager.trim() {
        "none" => None,
        m => Some(m),
    };
    let after =
        chat::assign(&mut conn, &session.id, manager).map_err(|e| term::chat_error(e, &session))?;
    if args.json {
        return term::print_json(&json!({"session": after.redacted()}));
    }
    let who = term::visitor_label(&after);
    match &after.manager_id {
        Some(m) => term::say(format!(
            "Chat {} ({who}) is assigned to {m}.",
            chat::short_id(&after.id)
        ))?,
        None => term::say(format!(
            "Chat {} ({who}) is unassigned.",
            chat::short_id(&after.id)
        ))?,
    }
    Ok(())
}
