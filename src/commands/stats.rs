//! `shopchat stats`: the numbers of GET /api/chat/stats, as a short report
//! or as the same JSON.

use std::io::Write;

use comfy_table::{Cell, CellAlignment};

use super::term::{self, Ui};
use crate::cli::{Cli, StatsArgs};
use crate::store::stats;

pub(super) fn run(cli: &Cli, args: &StatsArgs) -> anyhow::Result<()> {
    let conn = term::open(cli)?;
    let shop = crate::shop::Shop::load(&conn)?;
    let s = stats::compute(&conn, &crate::shop::today_start(&conn)?)?;
    let since = format!("since 00:00 {}", shop.tz.name());
    if args.json {
        return term::print_json(&s);
    }
    let ui = Ui::detect();
    let right = |v: i64| Cell::new(v).set_alignment(CellAlignment::Right);
    let rows: Vec<(&str, i64, String)> = vec![
        ("chats", s.sessions.total, String::new()),
        (
            "  active",
            s.sessions.active,
            format!(
                "{} awaiting reply, {} unassigned",
                s.sessions.awaiting_reply, s.sessions.unassigned
            ),
        ),
        ("  closed", s.sessions.closed, String::new()),
        ("  archived", s.sessions.archived, String::new()),
        ("messages", s.messages.total, String::new()),
        ("  from visitors", s.messages.from_user, String::new()),
        ("  from managers", s.messages.from_manager, String::new()),
        ("new chats today", s.today.sessions, since.clone()),
        ("messages today", s.today.messages, since.clone()),
    ];
    let mut t2 = ui.table();
    t2.set_header(
        ["", "count", ""].map(|h| Cell::new(h).add_attribute(comfy_table::Attribute::Bold)),
    );
    for (label, n, note) in rows {
        t2.add_row(vec![Cell::new(label), right(n), Cell::new(note)]);
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{t2}")?;
    writeln!(
        out,
        "First reply to a visitor: median {}, 90% within {}.",
        duration(s.first_response_seconds.median),
        duration(s.first_response_seconds.p90)
    )?;
    if !s.managers.is_empty() {
        let mut m = ui.table();
        m.set_header(
            ["manager", "active chats", "messages sent"]
                .map(|h| Cell::new(h).add_attribute(comfy_table::Attribute::Bold)),
        );
        for ms in &s.managers {
            m.add_row(vec![
                Cell::new(&ms.manager_id),
                right(ms.active_sessions),
                right(ms.messages_sent),
            ]);
        }
        writeln!(out, "{m}")?;
    }
    Ok(())
}

/// Seconds as "45 s", "3 min 20 s", "2 h 5 min", or "—" when unknown.
fn duration(secs: Option<f64>) -> String {
    let Some(secs) = secs else {
        return "— (no replies yet)".to_string();
    };
    let s = secs.round().max(0.0) as u64;
    match s {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 && s % 60 == 0 => format!("{} min", s / 60),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s if s < 86_400 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        s => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_are_short_and_human() {
        assert_eq!(duration(Some(42.4)), "42 s");
        assert_eq!(duration(Some(200.0)), "3 min 20 s");
        assert_eq!(duration(Some(240.0)), "4 min");
        assert_eq!(duration(Some(7500.0)), "2 h 5 min");
        assert_eq!(duration(Some(90_000.0)), "1 d 1 h");
        assert!(duration(None).starts_with('—'));
    }
}
