//! What the managers' terminal commands share: opening the database, finding
//! a chat by a short id, the acting manager, colour and width, relative
//! times, the chat table and the transcript.

use std::io::{IsTerminal, Write};

use anyhow::{anyhow, bail};
use chrono::{DateTime, Local, Utc};
use comfy_table::{modifiers::UTF8_ROUND_CORNERS, presets::UTF8_FULL_CONDENSED, Cell, Color};
use rusqlite::Connection;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::chat::{self, IdMatch};
use crate::cli::Cli;
use crate::error::Error;
use crate::store::managers::{self, Manager};
use crate::store::{sessions, Message, Sender, Session, SessionSummary};

/// Width when it cannot be known (not a terminal, no COLUMNS).
const DEFAULT_WIDTH: usize = 120;

/// Asks `run` to exit with this code and no message (Ctrl-C in a prompt,
/// a closed pipe).
#[derive(Debug)]
pub struct QuietExit(pub i32);

impl std::fmt::Display for QuietExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}

impl std::error::Error for QuietExit {}

/// The exit code for errors that should end the program silently: a
/// [`QuietExit`], or stdout closed by the reader (`shopchat sessions | head`).
pub fn quiet_exit(e: &anyhow::Error) -> Option<i32> {
    for cause in e.chain() {
        if let Some(q) = cause.downcast_ref::<QuietExit>() {
            return Some(q.0);
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return Some(0);
            }
        }
        // serde_json keeps the io::Error inside (its source() skips it).
        if let Some(j) = cause.downcast_ref::<serde_json::Error>() {
            if j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe) {
                return Some(0);
            }
        }
        if let Some(dialoguer::Error::IO(io)) = cause.downcast_ref::<dialoguer::Error>() {
            if io.kind() == std::io::ErrorKind::Interrupted {
                let _ = console::Term::stderr().show_cursor();
                return Some(130);
            }
        }
    }
    None
}

/// For interactive prompts: Ctrl-C, whether it arrives as a key in a
/// prompt or as SIGINT between prompts, ends the program with code 130 and
/// the cursor visible again (the prompts hide it).
pub fn exit_on_ctrl_c() {
    if let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT]) {
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                let _ = console::Term::stderr().show_cursor();
                let _ = console::Term::stderr().write_line("");
                std::process::exit(130);
            }
        });
    }
}

/// The shop's time zone, once `open` has read it (`None`: not set, so the
/// machine's local zone, `TZ`).
static ZONE: std::sync::OnceLock<Option<chrono_tz::Tz>> = std::sync::OnceLock::new();

/// A stored time in the zone the terminal shows: the shop's when it is
/// set (`shopchat settings set timezone ...`), else the machine's.
pub fn shop_time(t: DateTime<Utc>) -> chrono::DateTime<chrono::FixedOffset> {
    match ZONE.get().copied().flatten() {
        Some(tz) => t.with_timezone(&tz).fixed_offset(),
        None => t.with_timezone(&Local).fixed_offset(),
    }
}

/// Opens the existing database named by --db / `CHAT_DB`, and learns the
/// shop's time zone from it.
pub fn open(cli: &Cli) -> anyhow::Result<Connection> {
    let conn = open_db(cli)?;
    if let Ok(shop) = crate::shop::Shop::load(&conn) {
        let _ = ZONE.set(shop.tz_set.then_some(shop.tz));
    }
    Ok(conn)
}

fn open_db(cli: &Cli) -> anyhow::Result<Connection> {
    match crate::db::open_existing(&cli.db) {
        Ok(c) => Ok(c),
        Err(e @ Error::NoDatabase(_)) => Err(e.into()),
        Err(Error::Busy) => bail!(
            "the database {} is busy (locked by another program); try again",
            cli.db.display()
        ),
        Err(e) => Err(anyhow!(
            "{} is not a usable shopchat database ({}); check --db or CHAT_DB",
            cli.db.display(),
            root_cause(&e)
        )),
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// How the terminal output looks: colour and width.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    pub color: bool,
    pub width: usize,
}

impl Ui {
    /// Colour only when stdout is a terminal and `NO_COLOR` is unset or
    /// empty; width from COLUMNS, else the terminal, else 120.
    pub fn detect() -> Ui {
        let tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = tty && !no_color;
        console::set_colors_enabled(color);
        console::set_colors_enabled_stderr(std::io::stderr().is_terminal() && !no_color);
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|w| *w >= 20)
            .or_else(|| {
                console::Term::stdout()
                    .size_checked()
                    .map(|(_, cols)| usize::from(cols))
                    .filter(|w| *w >= 20)
            })
            .unwrap_or(DEFAULT_WIDTH);
        Ui {
            color,
            width: width.min(1000),
        }
    }

    /// A new table in the house style, coloured only when allowed.
    pub fn table(&self) -> comfy_table::Table {
        let mut t = comfy_table::Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .apply_modifier(UTF8_ROUND_CORNERS);
        if self.color {
            t.enforce_styling();
        } else {
            t.force_no_tty();
        }
        t
    }
}

/// Who the visitor is, for humans: name, else phone, else "visitor".
pub fn visitor_label(s: &Session) -> String {
    s.user_name
        .clone()
        .or_else(|| s.user_phone.clone())
        .unwrap_or_else(|| "visitor".to_string())
}

/// Text on one line: runs of whitespace (newlines too) become one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts `s` to at most `max` columns, ending with "…" when cut. Control
/// characters are dropped so a message cannot move the cursor.
pub fn cut(s: &str, max: usize) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).collect();
    if s.width() <= max {
        return s;
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw > max - 1 {
            break;
        }
        w += cw;
        out.push(c);
    }
    out.push('…');
    out
}

/// "just now", "3 min ago", "5 h ago", "yesterday", "4 days ago", then the
/// date (local time).
pub fn relative(t: &str, now: DateTime<Utc>) -> String {
    let Some(then) = crate::time::parse(t) else {
        return t.to_string();
    };
    let secs = (now - then).num_seconds();
    match secs {
        s if s < 45 => "just now".to_string(),
        s if s < 3600 => format!("{} min ago", ((s + 30) / 60).max(1)),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s if s < 2 * 86_400 => "yesterday".to_string(),
        s if s < 7 * 86_400 => format!("{} days ago", s / 86_400),
        _ => shop_time(then).format("%Y-%m-%d").to_string(),
    }
}

/// A stored time as local "2025-03-14 09:05".
pub fn local_time(t: &str) -> String {
    match crate::time::parse(t) {
        Some(t) => shop_time(t).format("%Y-%m-%d %H:%M").to_string(),
        None => t.to_string(),
    }
}

/// Finds a session by its full id or a unique prefix of 4+ characters.
pub fn resolve_session(conn: &Connection, input: &str) -> anyhow::Result<Session> {
    let typed = input.trim();
    match chat::find_by_prefix(conn, typed, 11)? {
        IdMatch::TooShort => bail!(
            "'{typed}' is too short for a chat id; give at least {} characters (see `shopchat sessions`)",
            chat::MIN_ID_PREFIX
        ),
        IdMatch::Malformed | IdMatch::None => {
            bail!("no chat has an id starting with '{typed}'; `shopchat sessions` lists them")
        }
        IdMatch::One(id) => sessions::get(conn, &id)?
            .ok_or_else(|| anyhow!("chat {} was just deleted", chat::short_id(&id))),
        IdMatch::Many(ids) => {
            let mut listed = Vec::new();
            for id in ids.iter().take(10) {
                let who = sessions::get(conn, id)?
                    .map(|s| visitor_label(&s))
                    .unwrap_or_default();
                let long = id.get(..typed.len() + 4).unwrap_or(id);
                listed.push(format!("{long} ({who})"));
            }
            let more = if ids.len() > 10 { ", and more" } else { "" };
            bail!(
                "'{typed}' matches several chats: {}{more}; give more characters",
                listed.join(", ")
            )
        }
    }
}

/// The manager acting in this command: --as / `CHAT_MANAGER`, else the only
/// (active) manager there is.
pub fn acting_manager(conn: &Connection, cli: &Cli) -> anyhow::Result<Manager> {
    let everyone = managers::list(conn)?;
    let all: Vec<Manager> = everyone.iter().filter(|m| m.is_active()).cloned().collect();
    let known = || {
        all.iter()
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match cli.as_manager.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => match everyone.iter().find(|m| m.id == id) {
            Some(m) if !m.is_active() => bail!(
                "manager '{id}' was removed; `shopchat managers add {id}` brings them back"
            ),
            Some(m) => Ok(m.clone()),
            None if all.is_empty() => bail!(
                "no manager '{id}': there are no managers yet; add one with `shopchat managers add {id}`"
            ),
            None => bail!(
                "no manager '{id}'; known managers: {} (pass one with --as or CHAT_MANAGER)",
                known()
            ),
        },
        None => match all.len() {
            0 => bail!("there are no managers yet; add one with `shopchat managers add NAME`"),
            1 => Ok(all[0].clone()),
            _ => bail!(
                "there are several managers ({}); say which you are with --as ID or CHAT_MANAGER",
                known()
            ),
        },
    }
}

/// Turns a chat-rule error into a sentence for the manager at the terminal.
pub fn chat_error(e: Error, s: &Session) -> anyhow::Error {
    match e {
        Error::SessionClosed => anyhow!(
            "chat {} ({}) is {}, so it takes no new messages; the visitor can start a new chat from the widget",
            chat::short_id(&s.id),
            visitor_label(s),
            s.status
        ),
        Error::NotFound(_) => anyhow!("chat {} no longer exists", chat::short_id(&s.id)),
        e => e.into(),
    }
}

/// Prints one line on stdout; a closed pipe ends the program quietly
/// instead of panicking like `println!`.
pub fn say(line: impl std::fmt::Display) -> anyhow::Result<()> {
    writeln!(std::io::stdout().lock(), "{line}")?;
    Ok(())
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

fn status_cell(item: &SessionSummary) -> Cell {
    let s = &item.session;
    if s.is_active() && item.awaiting_reply {
        Cell::new("● waiting").fg(Color::Yellow)
    } else if s.is_active() {
        Cell::new("active").fg(Color::Green)
    } else {
        Cell::new(s.status).fg(Color::DarkGrey)
    }
}

/// The last message as the table shows it: a manager's reply starts with
/// their id.
fn last_text(item: &SessionSummary) -> String {
    match &item.last_message {
        None => String::new(),
        Some(m) if m.sender == Sender::Manager => format!(
            "{}: {}",
            m.manager_id.as_deref().unwrap_or("manager"),
            one_line(&m.message_text)
        ),
        Some(m) => one_line(&m.message_text),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Col {
    Id,
    Name,
    Phone,
    Status,
    Manager,
    Count,
    Last,
    Updated,
}

/// The chats as a table that fits `ui.width`: the last message is cut to
/// the room left; on narrow terminals the count, phone, manager and time
/// columns go, in that order.
pub fn sessions_table(items: &[SessionSummary], ui: &Ui, now: DateTime<Utc>) -> String {
    let mut cols = vec![
        Col::Id,
        Col::Name,
        Col::Phone,
        Col::Status,
        Col::Manager,
        Col::Count,
        Col::Last,
        Col::Updated,
    ];
    let droppable = [Col::Count, Col::Phone, Col::Manager, Col::Updated];
    let mut budget = ui.width;
    let mut rendered = String::new();
    for _ in 0..12 {
        rendered = render_sessions(items, ui, now, &cols, budget);
        let w = rendered
            .lines()
            .map(UnicodeWidthStr::width)
            .max()
            .unwrap_or(0);
        if w <= ui.width {
            break;
        }
        let over = w - ui.width;
        if budget > over && budget - over >= 16 {
            budget -= over;
        } else if let Some(d) = droppable.iter().find(|d| cols.contains(d)) {
            cols.retain(|c| c != d);
            budget = ui.width;
        } else {
            budget = budget.saturating_sub(over).max(8);
            rendered = render_sessions(items, ui, now, &cols, budget);
            break;
        }
    }
    rendered
}

fn render_sessions(
    items: &[SessionSummary],
    ui: &Ui,
    now: DateTime<Utc>,
    cols: &[Col],
    last_budget: usize,
) -> String {
    let name_w = if ui.width >= 80 { 18 } else { 12 };
    let matches = items.iter().any(|i| i.text_match.is_some());
    let mut t = ui.table();
    t.set_header(cols.iter().map(|c| {
        let h = match c {
            Col::Id => "id",
            Col::Name => "name",
            Col::Phone => "phone",
            Col::Status => "status",
            Col::Manager => "manager",
            Col::Count => "msgs",
            Col::Last if matches => "last message, or the match",
            Col::Last => "last message",
            Col::Updated => "updated",
        };
        Cell::new(h).add_attribute(comfy_table::Attribute::Bold)
    }));
    for item in items {
        let s = &item.session;
        t.add_row(cols.iter().map(|c| match c {
            Col::Id => Cell::new(chat::short_id(&s.id)).fg(Color::Cyan),
            Col::Name => Cell::new(cut(s.user_name.as_deref().unwrap_or("—"), name_w)),
            Col::Phone => Cell::new(cut(s.user_phone.as_deref().unwrap_or(""), 18)),
            Col::Status => status_cell(item),
            Col::Manager => Cell::new(cut(s.manager_id.as_deref().unwrap_or(""), 12)),
            Col::Count => {
                Cell::new(item.message_count).set_alignment(comfy_table::CellAlignment::Right)
            }
            Col::Last => match &item.text_match {
                Some(m) => {
                    Cell::new(cut(&format!("match: {}", m.snippet), last_budget)).fg(Color::Yellow)
                }
                None => Cell::new(cut(&last_text(item), last_budget)),
            },
            Col::Updated => Cell::new(relative(&s.updated_at, now)),
        }));
    }
    t.to_string()
}

/// The header of a chat: who, contact, status, manager, times.
pub fn session_header(s: &Session, count: usize, now: DateTime<Utc>) -> String {
    let mut parts = vec![visitor_label(s)];
    if s.user_name.is_some() {
        if let Some(p) = &s.user_phone {
            parts.push(p.clone());
        }
    }
    let status = if s.is_active() {
        console::style(s.status.as_str()).green().to_string()
    } else {
        console::style(s.status.as_str()).dim().to_string()
    };
    parts.push(status);
    parts.push(match &s.manager_id {
        Some(m) => format!("manager {m}"),
        None => "unassigned".to_string(),
    });
    format!(
        "{} {}\n{}\n{} message{}, started {}, last activity {}",
        console::style("Chat").bold(),
        console::style(&s.id).cyan(),
        parts.join(" · "),
        count,
        if count == 1 { "" } else { "s" },
        local_time(&s.created_at),
        relative(&s.updated_at, now),
    )
}

/// Messages as a transcript: a date line when the day changes, then
/// "HH:MM  who  text", long text wrapped under itself.
pub fn transcript(s: &Session, msgs: &[Message], ui: &Ui) -> String {
    let visitor = visitor_label(s);
    let who_of = |m: &Message| -> String {
        if m.auto {
            "auto-reply".into()
        } else if m.sender == Sender::Manager {
            m.manager_id.clone().unwrap_or_else(|| "manager".into())
        } else {
            visitor.clone()
        }
    };
    let who_w = msgs
        .iter()
        .map(|m| cut(&who_of(m), 20).width())
        .max()
        .unwrap_or(0);
    let indent = 2 + 5 + 2 + who_w + 2;
    let text_w = ui.width.saturating_sub(indent).max(20);
    let mut out = String::new();
    let mut day = String::new();
    for m in msgs {
        let local = crate::time::parse(&m.created_at).map(shop_time);
        let (d, hm) = match local {
            Some(t) => (
                t.format("%Y-%m-%d, %A").to_string(),
                t.format("%H:%M").to_string(),
            ),
            None => (String::new(), "??:??".into()),
        };
        if d != day {
            out.push_str(&format!("{}\n", console::style(format!("── {d} ──")).dim()));
            day = d;
        }
        let who = cut(&who_of(m), 20);
        let pad = " ".repeat(who_w - who.width());
        let who = if m.sender == Sender::Manager {
            console::style(who).green().to_string()
        } else {
            console::style(who).yellow().bold().to_string()
        };
        let lines = wrap(&m.message_text, text_w);
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                out.push_str(&format!(
                    "  {}  {who}{pad}  {line}\n",
                    console::style(&hm).dim()
                ));
            } else {
                out.push_str(&format!("{}{line}\n", " ".repeat(indent)));
            }
        }
    }
    out
}

/// Wraps text to `width` columns, keeping the author's line breaks and
/// dropping other control characters.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        let mut w = 0;
        for word in para.split_whitespace() {
            let word: String = word.chars().filter(|c| !c.is_control()).collect();
            let ww = word.width();
            if w > 0 && w + 1 + ww > width {
                out.push(std::mem::take(&mut line));
                w = 0;
            }
            if ww > width {
                // A word longer than a line (a link): split it.
                for c in word.chars() {
                    let cw = c.width().unwrap_or(0);
                    if w + cw > width {
                        out.push(std::mem::take(&mut line));
                        w = 0;
                    }
                    line.push(c);
                    w += cw;
                }
                continue;
            }
            if w > 0 {
                line.push(' ');
                w += 1;
            }
            line.push_str(&word);
            w += ww;
        }
        out.push(line);
    }
    while out.len() > 1 && out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        crate::time::parse(s).unwrap()
    }

    #[test]
    fn relative_times_read_like_a_person_says_them() {
        let now = at("2026-11-24T12:00:00.000Z");
        assert_eq!(relative("2026-11-24T11:59:30.000Z", now), "just now");
        assert_eq!(relative("2026-11-24T11:57:00.000Z", now), "3 min ago");
        assert_eq!(relative("2026-11-24T07:00:00.000Z", now), "5 h ago");
        assert_eq!(relative("2026-11-23T10:00:00.000Z", now), "yesterday");
        assert_eq!(relative("2026-11-20T12:00:00.000Z", now), "4 days ago");
        assert!(relative("2026-10-01T12:00:00.000Z", now).starts_with("2026-10-0"));
        assert_eq!(relative("garbage", now), "garbage");
    }

    #[test]
    fn cut_respects_display_width() {
        assert_eq!(cut("Добрий день", 20), "Добрий день");
        assert_eq!(cut("Добрий день", 7), "Добрий…");
        assert_eq!(cut("日本語のテキスト", 7), "日本語…");
        assert_eq!(cut("a\u{1b}[2Jb", 10), "a[2Jb");
        assert_eq!(cut("abc", 0), "");
    }

    #[test]
    fn wrap_keeps_lines_and_splits_long_words() {
        assert_eq!(wrap("one two three", 7), vec!["one two", "three"]);
        assert_eq!(wrap("a\nb", 10), vec!["a", "b"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    }

    #[test]
    fn one_line_collapses_whitespace() {
        assert_eq!(one_line(" a\n\n b\tc "), "a b c");
    }
}
