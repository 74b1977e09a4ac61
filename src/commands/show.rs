//! `shopchat show ID`: one chat's details and its whole transcript.

use std::io::Write;

use serde_json::json;

use super::term::{self, Ui};
use crate::chat;
use crate::cli::{Cli, ShowArgs};
use crate::store::messages;

pub fn run(cli: &Cli, args: &ShowArgs) -> anyhow::Result<()> {
    let conn = term::open(cli)?;
    let session = term::resolve_session(&conn, &args.id)?;
    let msgs = messages::all(&conn, &session.id)?;
    if args.json {
        return term::print_json(&json!({"session": session.redacted(), "messages": msgs}));
    }
    let ui = Ui::detect();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}\n",
        term::session_header(&session, msgs.len(), chrono::Utc::now())
    )?;
    if msgs.is_empty() {
        writeln!(out, "  (no messages yet)")?;
    } else {
        write!(out, "{}", term::transcript(&session, &msgs, &ui))?;
    }
    if session.is_active() {
        writeln!(
            out,
            "\nReply: shopchat reply {} \"...\"",
            chat::short_id(&session.id)
        )?;
    }
    Ok(())
}
