//! `shopchat inbox`: an interactive loop over the open chats. Pick one
//! (awaiting a reply first, then the newest), read it, reply, close, assign,
//! go back. The list updates by itself when anything is committed (by the
//! server, Telegram or another terminal); the chat is read again each time
//! it is shown.

use std::io::IsTerminal;

use anyhow::bail;
use console::{style, Term};
use dialoguer::{theme::ColorfulTheme, Confirm, Select};
use rusqlite::Connection;
use unicode_width::UnicodeWidthStr;

use super::picker;
use super::reply;
use super::term::{self, Ui};
use crate::chat;
use crate::cli::Cli;
use crate::store::managers::{self, Manager};
use crate::store::{sessions, Sender, SessionSummary, Status};

/// How many chats of each kind (awaiting, others) the list offers.
const LIST_LIMIT: u32 = 50;
const REFRESH: &str = "refresh";
const QUIT: &str = "quit";

pub(super) fn run(cli: &Cli) -> anyhow::Result<()> {
    let mut conn = term::open(cli)?;
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        bail!("inbox is interactive and needs a terminal; in scripts use `shopchat sessions`, `show` and `reply`");
    }
    let me = term::acting_manager(&conn, cli)?;
    term::exit_on_ctrl_c();
    let term_err = Term::stderr();
    let theme = ColorfulTheme::default();
    let mut notice: Option<String> = None;
    loop {
        // The list follows the database by itself: a commit by anyone (the
        // server, Telegram, another terminal) redraws it.
        let version = std::cell::Cell::new(crate::db::data_version(&conn)?);
        let shown_notice = notice.take();
        let picked = picker::pick(
            || {
                let ui = ui_for_stderr();
                let chats = open_chats(&conn)?;
                let waiting = chats.iter().filter(|c| c.awaiting_reply).count();
                let mut header = vec![format!(
                    "{} — {} as {}: {} open chat{}, {} awaiting a reply",
                    style("shopchat inbox").bold(),
                    cli.db.display(),
                    style(&me.id).green(),
                    chats.len(),
                    if chats.len() == 1 { "" } else { "s" },
                    style(waiting).yellow().bold(),
                )];
                header.extend(shown_notice.clone());
                let now = chrono::Utc::now();
                let mut items: Vec<String> =
                    chats.iter().map(|c| list_label(c, now, ui.width)).collect();
                let mut keys: Vec<String> = chats.iter().map(|c| c.session.id.clone()).collect();
                items.push("↻ refresh".into());
                keys.push(REFRESH.into());
                items.push("quit".into());
                keys.push(QUIT.into());
                Ok(picker::Screen {
                    header,
                    prompt: "Pick a chat (↑↓, Enter; Esc quits; the list updates by itself)".into(),
                    items,
                    keys,
                })
            },
            || match crate::db::data_version(&conn) {
                Ok(v) if v != version.get() => {
                    version.set(v);
                    true
                }
                _ => false,
            },
        )?;
        let Some((i, screen)) = picked else { break };
        match screen.keys[i].as_str() {
            QUIT => break,
            REFRESH => {}
            id => {
                term_err.clear_screen()?;
                notice = chat_loop(&mut conn, &me, id, &term_err, &theme)?;
            }
        }
    }
    term_err.write_line("Bye.")?;
    Ok(())
}

/// Terminal width for what goes to stderr (the prompts).
fn ui_for_stderr() -> Ui {
    let mut ui = Ui::detect();
    if std::env::var("COLUMNS").is_err() {
        if let Some((_, cols)) = Term::stderr().size_checked() {
            ui.width = usize::from(cols).max(20);
        }
    }
    ui
}

/// Active chats: awaiting a reply first, then the others, newest first.
fn open_chats(conn: &Connection) -> anyhow::Result<Vec<SessionSummary>> {
    let mut out = Vec::new();
    for awaiting in [true, false] {
        let f = sessions::Filter {
            status: Some(Status::Active),
            awaiting_reply: Some(awaiting),
            limit: LIST_LIMIT,
            ..Default::default()
        };
        out.extend(sessions::list(conn, &f)?.0);
    }
    Ok(out)
}

/// "● 3f2a8c1e  Олена Коваль     5 min ago   Чи є розмір M?" cut to width.
fn list_label(c: &SessionSummary, now: chrono::DateTime<chrono::Utc>, width: usize) -> String {
    let mark = if c.awaiting_reply {
        style("●").yellow().to_string()
    } else {
        " ".to_string()
    };
    let name = term::cut(&term::visitor_label(&c.session), 18);
    let name = format!("{name}{}", " ".repeat(18 - name.width()));
    let when = term::relative(&c.session.updated_at, now);
    let when = format!("{when}{}", " ".repeat(11usize.saturating_sub(when.width())));
    let last = c
        .last_message
        .as_ref()
        .map(|m| {
            let t = term::one_line(&m.message_text);
            if m.sender == Sender::Manager {
                format!("{}: {t}", m.manager_id.as_deref().unwrap_or("manager"))
            } else {
                t
            }
        })
        .unwrap_or_default();
    // "> " of the prompt, mark, spaces, id, name, time.
    let used = 2 + 1 + 1 + chat::SHORT_ID_LEN + 2 + 18 + 2 + 11 + 2;
    let last = term::cut(&last, width.saturating_sub(used + 1).max(10));
    format!(
        "{mark} {}  {name}  {}  {last}",
        style(chat::short_id(&c.session.id)).cyan(),
        style(when).dim()
    )
}

/// One chat: the transcript, then reply / close / assign / refresh / back.
/// Returns a notice for the list (e.g. "Closed chat ...").
fn chat_loop(
    conn: &mut Connection,
    me: &Manager,
    id: &str,
    t: &Term,
    theme: &ColorfulTheme,
) -> anyhow::Result<Option<String>> {
    let mut notice: Option<String> = None;
    loop {
        let Some(session) = sessions::get(conn, id)? else {
            return Ok(Some(format!(
                "Chat {} no longer exists.",
                chat::short_id(id)
            )));
        };
        let ui = ui_for_stderr();
        t.clear_screen()?;
        t.write_str(&reply::context(conn, &session, &ui)?)?;
        if let Some(n) = notice.take() {
            t.write_line(&n)?;
        }
        let mut actions = Vec::new();
        if session.is_active() {
            actions.extend(["reply", "close"]);
        } else {
            actions.push("reopen");
        }
        actions.extend(["assign", "↻ refresh", "back"]);
        let pick = Select::with_theme(theme)
            .with_prompt(format!(
                "Chat with {} (Esc: back)",
                term::visitor_label(&session)
            ))
            .items(&actions)
            .default(0)
            .report(false)
            .interact_opt()?;
        let Some(i) = pick else {
            return Ok(None);
        };
        match actions[i] {
            "reply" => {
                if let Some(text) = reply::ask(&session, me)? {
                    match reply::send(conn, &session, me, &text) {
                        Ok(m) => notice = Some(format!("{} (#{})", style("Sent.").green(), m.seq)),
                        Err(e) => notice = Some(format!("{} {e:#}", style("Not sent:").red())),
                    }
                } else {
                    notice = Some("Nothing sent.".into());
                }
            }
            "close" => {
                // A slip of Down+Enter must not end a conversation.
                let sure = Confirm::with_theme(theme)
                    .with_prompt(format!(
                        "Close the chat with {}? They will see it closed",
                        term::visitor_label(&session)
                    ))
                    .default(false)
                    .report(false)
                    .interact_opt()?
                    .unwrap_or(false);
                if !sure {
                    notice = Some("Not closed.".into());
                    continue;
                }
                chat::close(conn, &session.id).map_err(|e| term::chat_error(e, &session))?;
                return Ok(Some(format!(
                    "Closed chat {} ({}).",
                    chat::short_id(&session.id),
                    term::visitor_label(&session)
                )));
            }
            "reopen" => {
                notice = Some(match chat::reopen(conn, &session.id) {
                    Ok(_) => format!("{}", style("Reopened.").green()),
                    Err(e) => format!("{} {e}", style("Not reopened:").red()),
                });
            }
            "assign" => notice = Some(assign(conn, &session, t, theme)?),
            "back" => return Ok(None),
            _ => {}
        }
    }
}

fn assign(
    conn: &mut Connection,
    session: &crate::store::Session,
    _t: &Term,
    theme: &ColorfulTheme,
) -> anyhow::Result<String> {
    let all = managers::list_active(conn)?;
    let mut items: Vec<String> = all
        .iter()
        .map(|m| format!("{} ({})", m.id, m.display_name))
        .collect();
    items.push("none (unassign)".into());
    let current = session
        .manager_id
        .as_ref()
        .and_then(|id| all.iter().position(|m| &m.id == id))
        .unwrap_or(all.len());
    let Some(i) = Select::with_theme(theme)
        .with_prompt("Assign to")
        .items(&items)
        .default(current)
        .report(false)
        .interact_opt()?
    else {
        return Ok("Assignment unchanged.".into());
    };
    let target = all.get(i).map(|m| m.id.as_str());
    let after =
        chat::assign(conn, &session.id, target).map_err(|e| term::chat_error(e, session))?;
    Ok(match after.manager_id {
        Some(m) => format!("Assigned to {m}."),
        None => "Unassigned.".into(),
    })
}
