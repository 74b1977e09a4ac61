//! `shopchat sessions`: the chats, newest activity first, as a table that
//! fits the terminal or as the admin API's JSON.

use std::io::Write;

use anyhow::bail;
use serde_json::json;

use super::term::{self, Ui};
use crate::cli::{Cli, SessionsArgs, StatusFilter};
use crate::store::{managers, sessions, Status};

const MAX_SEARCH_CHARS: usize = 100;

pub(super) fn run(cli: &Cli, args: &SessionsArgs) -> anyhow::Result<()> {
    let conn = term::open(cli)?;
    let wanted = args.status.unwrap_or(if args.awaiting {
        StatusFilter::Active
    } else {
        StatusFilter::All
    });
    let status = match wanted {
        StatusFilter::All => None,
        StatusFilter::Active => Some(Status::Active),
        StatusFilter::Closed => Some(Status::Closed),
        StatusFilter::Archived => Some(Status::Archived),
    };
    let search = args
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if search.is_some_and(|s| s.chars().count() > MAX_SEARCH_CHARS) {
        bail!("--search is longer than {MAX_SEARCH_CHARS} characters; search by a name, a phone number or a few words of a message");
    }
    let manager = match args.manager.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("none") => Some(None),
        Some(id) => {
            if managers::get(&conn, id)?.is_none() {
                let known: Vec<String> = managers::list(&conn)?.into_iter().map(|m| m.id).collect();
                bail!(
                    "no manager '{id}'; known managers: {} (or `none` for unassigned chats)",
                    if known.is_empty() {
                        "none yet".to_string()
                    } else {
                        known.join(", ")
                    }
                );
            }
            Some(Some(id.to_string()))
        }
    };
    let filter = sessions::Filter {
        status,
        search: search.map(str::to_string),
        manager,
        awaiting_reply: args.awaiting.then_some(true),
        limit: args.limit,
        offset: 0,
    };
    let (items, total) = sessions::list(&conn, &filter)?;
    let items: Vec<_> = items
        .into_iter()
        .map(|mut i| {
            i.session = i.session.redacted();
            i
        })
        .collect();
    if args.json {
        return term::print_json(&json!({"sessions": items, "total": total}));
    }
    let ui = Ui::detect();
    let mut out = std::io::stdout().lock();
    if items.is_empty() {
        if total == 0
            && filter.search.is_none()
            && filter.manager.is_none()
            && !args.awaiting
            && status.is_none()
        {
            writeln!(
                out,
                "No chats yet. They appear here when visitors write from the widget."
            )?;
        } else {
            writeln!(out, "No chats match.")?;
        }
        return Ok(());
    }
    writeln!(
        out,
        "{}",
        term::sessions_table(&items, &ui, chrono::Utc::now())
    )?;
    let shown = items.len() as i64;
    if shown < total {
        writeln!(
            out,
            "{shown} of {total} chats; --limit {} shows more, `shopchat show ID` opens one.",
            total.min(10000)
        )?;
    } else {
        writeln!(
            out,
            "{total} chat{}; `shopchat show ID` opens one (ID: the first 4+ characters).",
            if total == 1 { "" } else { "s" }
        )?;
    }
    Ok(())
}
