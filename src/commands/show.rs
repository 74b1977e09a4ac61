//! `shopchat show ID`: one chat's details and its whole transcript.

use std::io::Write;

use serde_json::json;

use super::term::{self, Ui};
use crate::chat;
use crate::cli::{Cli, ShowArgs};
use crate::store::{messages, sessions};

pub(super) fn run(cli: &Cli, args: &ShowArgs) -> anyhow::Result<()> {
    let conn = term::open(cli)?;
    let session = term::resolve_session(&conn, &args.id)?;
    let msgs = messages::all(&conn, &session.id)?;
    // The visitor's other chats from the same browser, newest first.
    let others = match &session.user_session_id {
        Some(u) => sessions::visitor_chats(&conn, u, &session.id, 20)?,
        None => Vec::new(),
    };
    if args.json {
        let others: Vec<_> = others
            .into_iter()
            .map(|mut o| {
                o.session = o.session.redacted();
                o
            })
            .collect();
        return term::print_json(
            &json!({"session": session.redacted(), "messages": msgs, "visitorChats": others}),
        );
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
    if !others.is_empty() {
        writeln!(out, "\nThis visitor's other chats:")?;
        for o in &others {
            let last = o
                .last_message
                .as_ref()
                .map(|m| {
                    term::cut(
                        &term::one_line(&m.message_text),
                        ui.width.saturating_sub(40).max(20),
                    )
                })
                .unwrap_or_default();
            writeln!(
                out,
                "  {}  {}  {:<8}  {last}",
                chat::short_id(&o.session.id),
                term::local_time(&o.session.created_at),
                o.session.status
            )?;
        }
    }
    if session.is_active() {
        writeln!(
            out,
            "\nReply: shopchat reply {} \"...\"",
            chat::short_id(&session.id)
        )?;
    } else {
        writeln!(
            out,
            "\nReopen: shopchat reopen {}",
            chat::short_id(&session.id)
        )?;
    }
    Ok(())
}
