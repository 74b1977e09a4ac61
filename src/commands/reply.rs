//! `shopchat reply ID [TEXT]`: answer a chat as the acting manager, through
//! `chat::post_message`. Without TEXT it shows the last messages and asks;
//! `-` reads the text from standard input.

use std::io::{IsTerminal, Read};

use anyhow::{bail, Context};
use dialoguer::{theme::ColorfulTheme, Input};
use rusqlite::Connection;
use serde_json::json;

use super::term::{self, Ui};
use crate::chat::{self, Author, NoNotify};
use crate::cli::{Cli, ReplyArgs};
use crate::store::managers::Manager;
use crate::store::{messages, Message, Session};

/// How many earlier messages the prompt shows.
const CONTEXT_MESSAGES: u32 = 10;

pub(super) fn run(cli: &Cli, args: &ReplyArgs) -> anyhow::Result<()> {
    let mut conn = term::open(cli)?;
    let session = term::resolve_session(&conn, &args.id)?;
    let me = term::acting_manager(&conn, cli)?;
    let text = match args.text.as_slice() {
        [] => {
            if !session.is_active() {
                return Err(term::chat_error(crate::Error::SessionClosed, &session));
            }
            if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
                bail!("no reply text given and this is not a terminal to ask in; pass TEXT, or `-` to read it from standard input");
            }
            term::exit_on_ctrl_c();
            let ui = Ui::detect();
            eprint!("{}", context(&conn, &session, &ui)?);
            if let Some(t) = ask(&session, &me)? {
                t
            } else {
                eprintln!("Nothing sent.");
                return Ok(());
            }
        }
        [dash] if dash == "-" => {
            let mut buf = Vec::new();
            std::io::stdin()
                .take(1 << 20)
                .read_to_end(&mut buf)
                .context("could not read the reply from standard input")?;
            String::from_utf8(buf).map_err(|_| {
                anyhow::anyhow!("standard input is not UTF-8 text; send the reply as UTF-8")
            })?
        }
        words => words.join(" "),
    };
    let message = send(&mut conn, &session, &me, &text)?;
    if args.json {
        return term::print_json(&json!({ "message": message }));
    }
    term::say(format!(
        "Sent to {} ({}) as {}.",
        term::visitor_label(&session),
        chat::short_id(&session.id),
        me.id
    ))
}

/// The last messages and who the chat is with, shown before asking.
pub(super) fn context(conn: &Connection, session: &Session, ui: &Ui) -> anyhow::Result<String> {
    let count = session_count(conn, session)?;
    let msgs = messages::last(conn, &session.id, CONTEXT_MESSAGES)?;
    let mut out = term::session_header(session, count, chrono::Utc::now());
    out.push_str("\n\n");
    if msgs.is_empty() {
        out.push_str("  (no messages yet)\n");
    } else {
        if count > msgs.len() {
            out.push_str(&format!(
                "  … {} earlier message{} (`shopchat show {}`)\n",
                count - msgs.len(),
                if count - msgs.len() == 1 { "" } else { "s" },
                chat::short_id(&session.id)
            ));
        }
        out.push_str(&term::transcript(session, &msgs, ui));
    }
    out.push('\n');
    Ok(out)
}

fn session_count(conn: &Connection, session: &Session) -> anyhow::Result<usize> {
    Ok(crate::store::sessions::summary(conn, &session.id)?.map_or(0, |s| s.message_count as usize))
}

/// Asks for the reply on the terminal; `None` when the manager leaves it
/// empty.
pub(super) fn ask(session: &Session, me: &Manager) -> anyhow::Result<Option<String>> {
    let text: String = Input::with_theme(&ColorfulTheme::default())
        .with_prompt(format!(
            "Reply to {} as {} (empty: cancel)",
            term::visitor_label(session),
            me.id
        ))
        .allow_empty(true)
        .interact_text()?;
    Ok(Some(text).filter(|t| !t.trim().is_empty()))
}

/// Sends `text` as `me` through the chat rules.
pub(super) fn send(
    conn: &mut Connection,
    session: &Session,
    me: &Manager,
    text: &str,
) -> anyhow::Result<Message> {
    if let Err(e) = chat::validate_text(text) {
        if text.trim().is_empty() {
            bail!("the reply is empty; write some text (or `-` to read it from standard input)");
        }
        bail!(
            "the reply is {} characters long; a message holds at most {} ({e})",
            text.trim().chars().count(),
            chat::MAX_TEXT_CHARS
        );
    }
    let (message, _) = chat::post_message(
        conn,
        &NoNotify,
        &session.id,
        Author::Manager(&me.id),
        text,
        None,
    )
    .map_err(|e| term::chat_error(e, session))?;
    Ok(message)
}
