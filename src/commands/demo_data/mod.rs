//! `shopchat demo-data`: fills the database with realistic fake chats
//! (Ukrainian, English, a little Polish and German; replies, closed and
//! open chats, spread over weeks). The same seed gives the same chats, ids
//! and texts; times are laid out backwards from now so the data looks
//! fresh. Rows go in through `store`, many per transaction, so 10,000
//! chats take seconds: not through `chat.rs`, whose rules are for live
//! chats (now, fresh ids, notifications); ARCHITECTURE.md says why.

mod texts;

use std::time::Instant;

use anyhow::bail;
use chrono::{DateTime, Duration, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::term;
use crate::cli::{Cli, DemoDataArgs};
use crate::store::messages::NewMessage;
use crate::store::{self, managers, messages, sessions, Sender, Session, Status};
use texts::Lang;

/// Rows per write transaction: big enough to be fast, small enough that
/// a running server waits at most a few milliseconds for the lock.
const BATCH: usize = 2000;

struct DemoMessage {
    id: String,
    session: usize,
    sender: Sender,
    text: String,
    manager: Option<String>,
    at: DateTime<Utc>,
}

struct DemoChat {
    session: Session,
    /// When it was closed, for closed and archived chats.
    closed_at: Option<DateTime<Utc>>,
}

pub fn run(cli: &Cli, args: &DemoDataArgs) -> anyhow::Result<()> {
    let mut conn = term::open(cli)?;
    let started = Instant::now();
    let mut team: Vec<String> = managers::list_active(&conn)?
        .into_iter()
        .map(|m| m.id)
        .collect();
    if team.is_empty() {
        // The token is not shown: `managers token demo` makes one when needed.
        crate::accounts::add_manager(&mut conn, "demo", Some("Demo Manager"), None)?;
        eprintln!("Made manager 'demo' for the demo replies (token not shown; `shopchat managers token demo` makes one).");
        team.push("demo".into());
    }
    let now = Utc::now();
    let (chats, mut msgs) = generate(args, &team, now);
    if chats.is_empty() {
        bail!("nothing to make; give --sessions 1 or more");
    }
    // Inserted in time order, so seq order is time order too.
    msgs.sort_by(|a, b| a.at.cmp(&b.at).then(a.session.cmp(&b.session)));

    let total = (chats.len() * 2 + msgs.len()) as u64;
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if chats.len() < 500 {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>9} [{bar:32}] {percent:>3}% {pos}/{len} rows, {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message("chats");
    for chunk in chats.chunks(BATCH) {
        store::write(&mut conn, |tx| {
            for c in chunk {
                sessions::insert(tx, &c.session)?;
            }
            Ok(())
        })?;
        bar.inc(chunk.len() as u64);
    }
    bar.set_message("messages");
    for chunk in msgs.chunks(BATCH) {
        store::write(&mut conn, |tx| {
            for m in chunk {
                let at = crate::time::format(m.at);
                messages::insert(
                    tx,
                    &NewMessage {
                        id: &m.id,
                        session_id: &chats[m.session].session.id,
                        sender: m.sender,
                        text: &m.text,
                        manager_id: m.manager.as_deref(),
                        client_message_id: None,
                        created_at: &at,
                        auto: false,
                    },
                )?;
            }
            Ok(())
        })?;
        bar.inc(chunk.len() as u64);
    }
    bar.set_message("statuses");
    for chunk in chats.chunks(BATCH) {
        store::write(&mut conn, |tx| {
            for c in chunk {
                if let Some(at) = c.closed_at {
                    sessions::set_status(
                        tx,
                        &c.session.id,
                        c.session.status,
                        &crate::time::format(at),
                    )?;
                }
            }
            Ok(())
        })?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();

    let count = |s: Status| chats.iter().filter(|c| c.session.status == s).count();
    term::say(format!(
        "Added {} chats ({} active, {} closed, {} archived) with {} messages in {:.1} s (seed {}).",
        chats.len(),
        count(Status::Active),
        count(Status::Closed),
        count(Status::Archived),
        msgs.len(),
        started.elapsed().as_secs_f64(),
        args.seed
    ))
}

fn pick<'a>(rng: &mut fastrand::Rng, items: &'a [&'a str]) -> &'a str {
    items[rng.usize(..items.len())]
}

/// Fills `{n}` with a number, so order and parcel numbers differ.
fn fill(rng: &mut fastrand::Rng, text: &str) -> String {
    if text.contains("{n}") {
        text.replace("{n}", &rng.u32(10_000..99_999).to_string())
    } else {
        text.to_string()
    }
}

fn uuid(rng: &mut fastrand::Rng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn phone(rng: &mut fastrand::Rng, lang: &str) -> String {
    let d = |rng: &mut fastrand::Rng, n: usize| -> String {
        (0..n).map(|_| char::from(b'0' + rng.u8(0..10))).collect()
    };
    match lang {
        "uk" => {
            let op = [
                "50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99",
            ];
            format!(
                "+380 {} {} {} {}",
                op[rng.usize(..op.len())],
                d(rng, 3),
                d(rng, 2),
                d(rng, 2)
            )
        }
        "en" => format!("+44 7700 900{}", d(rng, 3)),
        "pl" => format!("+48 5{} {} {}", d(rng, 2), d(rng, 3), d(rng, 3)),
        _ => format!("+49 15{} {}", d(rng, 1), d(rng, 8)),
    }
}

/// Every chat and message, decided by the seed alone; `now` only anchors
/// the times.
fn generate(
    args: &DemoDataArgs,
    team: &[String],
    now: DateTime<Utc>,
) -> (Vec<DemoChat>, Vec<DemoMessage>) {
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let span_secs = i64::from(args.days) * 86_400;
    let mut chats = Vec::with_capacity(args.sessions as usize);
    let mut msgs = Vec::new();
    for i in 0..args.sessions as usize {
        let lang: &Lang = match rng.u32(0..100) {
            0..=54 => &texts::UK,
            55..=79 => &texts::EN,
            80..=89 => &texts::PL,
            _ => &texts::DE,
        };
        let name = (rng.u32(0..10) > 0).then(|| {
            if rng.u32(0..4) == 0 {
                pick(&mut rng, lang.first).to_string()
            } else {
                format!(
                    "{} {}",
                    pick(&mut rng, lang.first),
                    pick(&mut rng, lang.last)
                )
            }
        });
        let phone = (rng.u32(0..10) < 7).then(|| phone(&mut rng, lang.code));
        let manager = team[rng.usize(..team.len())].clone();
        let len = rng.u32(1..=args.messages * 2 - 1) as usize;

        // Turns alternate visitor, manager, ...; the gaps are a person's.
        let mut offsets = Vec::with_capacity(len);
        let mut t = 0i64;
        for k in 0..len {
            if k > 0 {
                t += if k % 2 == 1 {
                    rng.i64(30..1200)
                } else {
                    rng.i64(20..600)
                };
            }
            offsets.push(t);
        }
        let chat_secs = t;
        let age = rng.i64(120..span_secs.max(121));
        let start = now - Duration::seconds(age.max(chat_secs + 60));
        let last_at = start + Duration::seconds(chat_secs);
        let idle = now - last_at;
        // Recent chats are mostly still open; a few old ones were never closed.
        let still_open = if idle < Duration::days(2) {
            rng.u32(0..10) < 8
        } else {
            rng.u32(0..10) == 0
        };
        let (status, closed_at) = if still_open {
            (Status::Active, None)
        } else {
            let closed =
                last_at + Duration::seconds(rng.i64(60..3600)).min(idle - Duration::seconds(1));
            if now - closed > Duration::days(21) && rng.u32(0..10) < 4 {
                (Status::Archived, Some(closed))
            } else {
                (Status::Closed, Some(closed))
            }
        };
        let finished = status != Status::Active;
        let assigned = len > 1 && rng.u32(0..4) > 0;
        let mut usid = String::with_capacity(32);
        for _ in 0..32 {
            usid.push(rng.alphanumeric());
        }
        let session = Session {
            id: uuid(&mut rng),
            user_name: name,
            user_phone: phone,
            status,
            manager_id: assigned.then(|| manager.clone()),
            user_session_id: Some(usid),
            created_at: crate::time::format(start - Duration::seconds(rng.i64(2..40))),
            updated_at: crate::time::format(start),
            user_email: None,
            away_at: None,
        };
        // Questions in a random order, each answered by its own answer.
        let mut qa: Vec<usize> = (0..lang.qa.len()).collect();
        rng.shuffle(&mut qa);
        for (k, off) in offsets.iter().enumerate() {
            let visitor = k % 2 == 0;
            let text = match k {
                0 => pick(&mut rng, lang.openers),
                1 => pick(&mut rng, lang.greetings),
                k if finished && len >= 4 && k + 2 >= len && visitor => pick(&mut rng, lang.thanks),
                k if finished && len >= 4 && k + 2 >= len => pick(&mut rng, lang.byes),
                k if visitor => lang.qa[qa[(k / 2 - 1) % qa.len()]].0,
                k => lang.qa[qa[(k / 2 - 1) % qa.len()]].1,
            };
            msgs.push(DemoMessage {
                id: uuid(&mut rng),
                session: i,
                sender: if visitor {
                    Sender::User
                } else {
                    Sender::Manager
                },
                text: fill(&mut rng, text),
                manager: (!visitor).then(|| manager.clone()),
                at: start + Duration::seconds(*off),
            });
        }
        chats.push(DemoChat { session, closed_at });
    }
    (chats, msgs)
}
