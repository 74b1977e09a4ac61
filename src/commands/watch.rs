//! `shopchat watch`: prints every new message as it is committed, by `seq`
//! (so nothing is missed or printed twice), until Ctrl-C.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::term::{self, Ui};
use crate::chat;
use crate::cli::{Cli, WatchArgs};
use crate::store::{messages, sessions, Message, Sender};

/// How often `PRAGMA data_version` is asked whether anything was committed.
const LOOK: Duration = Duration::from_millis(20);
/// Messages read per query; more are read at once when there are more.
const BATCH: u32 = 500;

pub(super) fn run(cli: &Cli, args: &WatchArgs) -> anyhow::Result<()> {
    let conn = term::open(cli)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).context("could not handle Ctrl-C")?;
    }
    let mut cursor = match (args.from_start, args.since) {
        (true, _) => 0,
        (false, Some(seq)) => i64::try_from(seq).unwrap_or(i64::MAX),
        (false, None) => messages::max_seq(&conn)?,
    };
    Ui::detect();
    // On stderr, with --json too: it tells a person or a script that the
    // starting point is fixed and every later message will be printed.
    eprintln!(
        "Watching {} for new messages after #{cursor} (Ctrl-C stops).",
        cli.db.display()
    );
    let mut names: HashMap<String, String> = HashMap::new();
    while !stop.load(Ordering::SeqCst) {
        // Asked before the read: a commit between the read and the wait
        // below then moves it, and is read on the next turn (asked after
        // the read, such a commit was already counted and waited past).
        let version = crate::db::data_version(&conn)?;
        let batch = messages::after(&conn, cursor, BATCH)?;
        let full = batch.len() as u32 == BATCH;
        {
            let mut out = std::io::stdout().lock();
            for m in &batch {
                if args.json {
                    serde_json::to_writer(&mut out, m)?;
                    writeln!(out)?;
                } else {
                    let name = if let Some(n) = names.get(&m.session_id) {
                        n.clone()
                    } else {
                        let n = sessions::get(&conn, &m.session_id)?
                            .map_or_else(|| "visitor".into(), |s| term::visitor_label(&s));
                        names.insert(m.session_id.clone(), n.clone());
                        n
                    };
                    write!(out, "{}", line(m, &name))?;
                }
                cursor = m.seq;
            }
            out.flush()?;
        }
        if full {
            continue;
        }
        // Wait for the next commit by anyone: PRAGMA data_version moves
        // when another connection commits (a read of shared memory, no
        // query), so a message prints within LOOK of its commit.
        while !stop.load(Ordering::SeqCst) && crate::db::data_version(&conn)? == version {
            std::thread::sleep(LOOK);
        }
    }
    Ok(())
}

/// One message per line: "14:03:22  3f2a8c1e  Олена: text" from a
/// visitor, "14:04:01  3f2a8c1e  alice → Олена: text" from a manager; the
/// author's own line breaks continue on indented lines.
fn line(m: &Message, name: &str) -> String {
    let time = crate::time::parse(&m.created_at)
        .map(|t| term::shop_time(t).format("%H:%M:%S").to_string())
        .unwrap_or_default();
    let name = term::cut(name, 24);
    let who = if m.sender == Sender::Manager {
        format!(
            "{} → {name}",
            console::style(m.manager_id.as_deref().unwrap_or("manager")).green()
        )
    } else {
        console::style(name).yellow().bold().to_string()
    };
    let mut out = format!(
        "{}  {}  {who}:",
        console::style(time).dim(),
        console::style(chat::short_id(&m.session_id)).cyan()
    );
    let mut first = true;
    for l in m
        .message_text
        .lines()
        .map(|l| term::cut(l.trim_end(), 4000))
    {
        if first {
            out.push(' ');
            first = false;
        } else {
            out.push_str("\n    ");
        }
        out.push_str(&l);
    }
    out.push('\n');
    out
}
