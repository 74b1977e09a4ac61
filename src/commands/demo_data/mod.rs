//! `shopchat demo-data`: fills the database with realistic fake chats
//! (Ukrainian, English, a little Polish and German; replies, closed and
//! open chats, spread over weeks). The same seed gives the same chats, ids
//! and texts; times are laid out backwards from now so the data looks
//! fresh. Rows go in through `store`, many per transaction: not through
//! `chat.rs`, whose rules are for live chats (now, fresh ids,
//! notifications); ARCHITECTURE.md says why.
//!
//! Memory stays bounded whatever the size: each chat is made from its own
//! seed, so only (id, seed) pairs are kept (24 bytes a chat) and a chat's
//! rows are made when they are written. Chats are written in id order, so
//! a chat's messages go to the end of the table keyed by (`session_id`, seq)
//! instead of to random pages; `seq` order is time order within a chat.

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

/// Chats per write transaction (about 250,000 rows): large, because each
/// commit rewrites every page it touched and the index of messages by
/// time is touched all over by every batch. Rows wait in a temporary table
/// on disk, so memory does not grow with it; a running server's writers
/// wait for the lock meanwhile (a few seconds; the busy timeout is 10 s).
const BATCH_CHATS: usize = 25_000;

/// A chat waiting to be made: its id, its own seed, and how long ago it
/// started (about).
struct Planned {
    id: [u8; 16],
    seed: u64,
    age_secs: i64,
}

struct DemoMessage {
    id: String,
    sender: Sender,
    text: String,
    manager: Option<String>,
    at: DateTime<Utc>,
}

struct DemoChat {
    session: Session,
    /// When it was closed, for closed and archived chats.
    closed_at: Option<DateTime<Utc>>,
    msgs: Vec<DemoMessage>,
}

pub(super) fn run(cli: &Cli, args: &DemoDataArgs) -> anyhow::Result<()> {
    let created = !cli.db.exists();
    let mut conn = if created {
        crate::db::init(&cli.db)?
    } else {
        term::open(cli)?
    };
    if created {
        eprintln!("Created {}.", cli.db.display());
    }
    crate::db::tune_for_bulk_writes(&conn)?;
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
    if args.sessions == 0 {
        bail!("nothing to make; give --sessions 1 or more");
    }
    let now = Utc::now();
    let plan = plan(args);

    let bar = ProgressBar::with_draw_target(Some(plan.len() as u64), ProgressDrawTarget::stderr());
    if plan.len() < 500 {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>9} [{bar:32}] {percent:>3}% {pos}/{len} chats, {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message("chats");
    let (mut by_status, mut messages_made) = ([0usize; 3], 0usize);
    for chunk in plan.chunks(BATCH_CHATS) {
        let (counts, made) =
            store::write(&mut conn, |tx| write_chats(tx, args, chunk, &team, now))?;
        for (total, n) in by_status.iter_mut().zip(counts) {
            *total += n;
        }
        messages_made += made;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();

    term::say(format!(
        "Added {} chats ({} active, {} closed, {} archived) with {} messages in {:.1} s (seed {}).",
        plan.len(),
        by_status[0],
        by_status[1],
        by_status[2],
        messages_made,
        started.elapsed().as_secs_f64(),
        args.seed
    ))
}

/// Every chat's id, seed and age, decided by the seed alone, oldest chat
/// first. The ids are random (v4) UUIDs, handed out in sorted order from
/// the oldest chat to the newest: written in this order, the rows go in
/// in key order both for the messages (keyed by chat id) and for their
/// index by time, so a million messages load in seconds. (In a real
/// database ids and times are unrelated; only the page layout differs.)
fn plan(args: &DemoDataArgs) -> Vec<Planned> {
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let span_secs = i64::from(args.days) * 86_400;
    let mut plan: Vec<Planned> = (0..args.sessions)
        .map(|_| Planned {
            id: [0; 16],
            seed: rng.u64(..),
            age_secs: rng.i64(120..span_secs.max(121)),
        })
        .collect();
    let mut ids: Vec<[u8; 16]> = (0..args.sessions)
        .map(|_| {
            let mut bytes = [0u8; 16];
            rng.fill(&mut bytes);
            *uuid::Builder::from_random_bytes(bytes)
                .into_uuid()
                .as_bytes()
        })
        .collect();
    ids.sort_unstable();
    plan.sort_by_key(|p| std::cmp::Reverse(p.age_secs));
    for (p, id) in plan.iter_mut().zip(ids) {
        p.id = id;
    }
    plan
}

/// A batch of chats, made one at a time: the messages are staged as they
/// are made (see [`messages::bulk_begin`]) and the sessions go in by the
/// thousand; then the messages in one statement, then the time each closed
/// chat was closed. Returns the chats' statuses and message count.
fn write_chats(
    tx: &rusqlite::Transaction,
    args: &DemoDataArgs,
    plan: &[Planned],
    team: &[String],
    now: DateTime<Utc>,
) -> crate::error::Result<([usize; 3], usize)> {
    let (mut by_status, mut made) = ([0usize; 3], 0usize);
    let mut pending = Vec::with_capacity(ROWS_PER_STATEMENT);
    let mut closed = Vec::new();
    messages::bulk_begin(tx)?;
    for (i, p) in plan.iter().enumerate() {
        let chat = make_chat(args, p, team, now);
        by_status[match chat.session.status {
            Status::Active => 0,
            Status::Closed => 1,
            Status::Archived => 2,
        }] += 1;
        made += chat.msgs.len();
        for m in &chat.msgs {
            let at = crate::time::format(m.at);
            messages::bulk_add(
                tx,
                &NewMessage {
                    id: &m.id,
                    session_id: &chat.session.id,
                    sender: m.sender,
                    text: &m.text,
                    manager_id: m.manager.as_deref(),
                    client_message_id: None,
                    created_at: &at,
                    auto: false,
                },
            )?;
        }
        if let Some(at) = chat.closed_at {
            closed.push((i, at));
        }
        pending.push(chat.session);
        if pending.len() == ROWS_PER_STATEMENT {
            sessions::insert_many(tx, &pending)?;
            pending.clear();
        }
    }
    sessions::insert_many(tx, &pending)?;
    messages::bulk_finish(tx)?;
    for part in closed.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(String, String)> = part
            .iter()
            .map(|(i, at)| {
                (
                    uuid::Uuid::from_bytes(plan[*i].id).to_string(),
                    crate::time::format(*at),
                )
            })
            .collect();
        let rows: Vec<(&str, &str)> = rows.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        sessions::set_updated_many(tx, &rows)?;
    }
    Ok((by_status, made))
}

/// Sessions per bulk statement (their JSON is about 300 KiB).
const ROWS_PER_STATEMENT: usize = 1_000;

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

/// One chat and its messages, decided by its seed alone; `now` only
/// anchors the times.
fn make_chat(args: &DemoDataArgs, p: &Planned, team: &[String], now: DateTime<Utc>) -> DemoChat {
    let mut rng = fastrand::Rng::with_seed(p.seed);
    let mut msgs = Vec::new();
    {
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
        let len = rng.u32(1..(args.messages * 2)) as usize;

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
        let age = p.age_secs;
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
            id: uuid::Uuid::from_bytes(p.id).to_string(),
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
        DemoChat {
            session,
            closed_at,
            msgs,
        }
    }
}
