//! Stats and search answer exactly what they answered when they were
//! computed from the whole history: the counters and indexes of
//! migrations 6 and 7 against brute force (the queries of migration 4's
//! definitions: chats without a message and away auto-replies left out;
//! and the listing's predicate plus message text) on random histories,
//! also across a migration of an existing database (one at migration 4,
//! the schema before them, and one at migration 2); every change to a
//! chat takes a new change stamp, bulk writes included; and
//! chat.db.example upgrades in place with nothing lost.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rusqlite::{params, Connection, Transaction};
use serde_json::Value;

use shopchat::store::messages::NewMessage;
use shopchat::store::sessions::{self, Filter, Side};
use shopchat::store::{self, managers, messages, stats, Sender, Session, Status};

const SYLLABLES: &[&str] = &[
    "ол",
    "ен",
    "ана",
    "Ко",
    "валь",
    "Ма",
    "рія",
    "ta",
    "ras",
    "Em",
    "ma",
    "ы",
    "ЛЕН",
    "o",
    "\"",
    "шев",
    "ченко",
    " ",
    "An",
    "na",
];
const WORDS: &[&str] = &[
    "Замовлення",
    "№74032",
    "доставка",
    "Львів",
    "ТТН",
    "20450123456",
    "order",
    "Shipping",
    "PayPal",
    "розмір",
    "42",
    "Ok",
    "\"quoted\"",
    "olena",
    "ОЛЕНА",
];
const MANAGERS: &[&str] = &["alice", "bob", "cid"];

fn fmt(t: DateTime<Utc>) -> String {
    shopchat::time::format(t)
}

fn random_name(rng: &mut fastrand::Rng) -> Option<String> {
    (rng.u8(0..8) > 0).then(|| {
        (0..rng.usize(1..5))
            .map(|_| SYLLABLES[rng.usize(..SYLLABLES.len())])
            .collect::<String>()
            .trim()
            .to_string()
    })
}

fn random_phone(rng: &mut fastrand::Rng) -> Option<String> {
    let d = |rng: &mut fastrand::Rng, n: usize| -> String {
        (0..n).map(|_| char::from(b'0' + rng.u8(0..10))).collect()
    };
    match rng.u8(0..4) {
        0 => None,
        1 => Some(format!(
            "+380 {} {} {} {}",
            d(rng, 2),
            d(rng, 3),
            d(rng, 2),
            d(rng, 2)
        )),
        2 => Some(format!(
            "({}) {}-{}-{}",
            d(rng, 3),
            d(rng, 3),
            d(rng, 2),
            d(rng, 2)
        )),
        _ => Some(d(rng, 10)),
    }
}

fn random_text(rng: &mut fastrand::Rng) -> String {
    let mut words: Vec<String> = (0..rng.usize(1..7))
        .map(|_| WORDS[rng.usize(..WORDS.len())].to_string())
        .collect();
    if rng.u8(0..5) == 0 {
        words.push(format!("{}", rng.u32(10_000..99_999)));
    }
    if rng.u8(0..6) == 0 {
        words.insert(rng.usize(..words.len()), "\n".into());
    }
    words.join(" ")
}

/// Whether `id` is a manager who may write and be assigned.
fn is_active_manager(tx: &Transaction, id: &str) -> bool {
    managers::get(tx, id)
        .unwrap()
        .is_some_and(|m| m.is_active())
}

/// What a chat looks like to its clients (the panel, the widget, the
/// feed), with its change stamp: (row, `change_seq`).
fn chat_rows(conn: &Connection) -> HashMap<String, (String, i64)> {
    let mut stmt = conn
        .prepare(
            "SELECT id, user_name, user_phone, user_email, status, manager_id, message_count,
                    last_seq, updated_at, visitor_seen_seq, manager_seen_seq, auto_replied_at,
                    change_seq
             FROM chat_sessions",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            let vals: Vec<String> = (1..12)
                .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                .collect();
            Ok((r.get::<_, String>(0)?, (vals.join("|"), r.get(12)?)))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// Every chat changed by a write took a change stamp above every stamp
/// before it, and no two chats share a stamp (the feed pages by stamp).
fn assert_changes_stamped(
    before: &HashMap<String, (String, i64)>,
    after: &HashMap<String, (String, i64)>,
    what: &str,
) {
    let top = before.values().map(|(_, c)| *c).max().unwrap_or(0);
    for (id, (row, stamp)) in after {
        if before.get(id).is_none_or(|(old, _)| old != row) {
            assert!(
                *stamp > top,
                "{what}: chat {id} changed without a new change_seq"
            );
        }
    }
    let stamps: HashSet<i64> = after.values().map(|(_, c)| *c).collect();
    assert_eq!(
        stamps.len(),
        after.len(),
        "{what}: change stamps are distinct"
    );
}

/// A random history through the store (the same functions the rules use),
/// with chosen times: chats (some never get a message), messages from both
/// sides (a manager may write first; times mostly rise, sometimes tie or
/// step back by a few ms, and fall on .x5 s edges), away auto-replies,
/// contact changes, seen marks, close, archive, assign, and a manager
/// removed (deleted, or deactivated when they wrote) and added again.
/// After every write, every chat it changed has a new change stamp.
fn random_history(conn: &mut Connection, rng: &mut fastrand::Rng, base: DateTime<Utc>, ops: usize) {
    for m in MANAGERS {
        if !managers::get(conn, m)
            .unwrap()
            .is_some_and(|x| x.is_active())
        {
            shopchat::accounts::add_manager(conn, m, None, None).unwrap();
        }
    }
    let mut clock = base;
    let mut ids: Vec<String> = store::write(conn, |tx| {
        let mut stmt = tx.prepare("SELECT id FROM chat_sessions ORDER BY id")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(ids)
    })
    .unwrap();
    for step in 0..ops {
        clock += match rng.u8(0..10) {
            0 => Duration::milliseconds(-rng.i64(0..40)),
            1 => Duration::zero(),
            2 => Duration::milliseconds(50 * rng.i64(1..400)),
            _ => Duration::milliseconds(rng.i64(1..600_000)),
        };
        let now = fmt(clock);
        let before = chat_rows(conn);
        let op = rng.u8(0..100);
        store::write(conn, |tx| {
            if ids.is_empty() || op < 15 {
                let mut b = [0u8; 16];
                rng.fill(&mut b);
                let s = Session {
                    id: uuid::Builder::from_random_bytes(b).into_uuid().to_string(),
                    user_name: random_name(rng),
                    user_phone: random_phone(rng),
                    user_email: rng.bool().then(|| "v@example.com".to_string()),
                    status: Status::Active,
                    manager_id: None,
                    user_session_id: None,
                    created_at: now.clone(),
                    updated_at: now.clone(),
                    away_at: None,
                };
                if rng.u8(0..4) == 0 {
                    // The bulk path (demo-data) for sessions.
                    sessions::insert_many(tx, std::slice::from_ref(&s))?;
                } else {
                    sessions::insert(tx, &s)?;
                }
                ids.push(s.id);
                return Ok(());
            }
            let id = ids[rng.usize(..ids.len())].clone();
            match op {
                15..=24 => {
                    // The bulk path (demo-data): several messages, several
                    // chats, one statement; auto-replies among them.
                    let picks: Vec<(String, u8, String, String)> = (0..rng.usize(1..6))
                        .map(|k| {
                            let sid = ids[rng.usize(..ids.len())].clone();
                            let at = fmt(clock + Duration::milliseconds(50 * k as i64));
                            (sid, rng.u8(0..5), random_text(rng), at)
                        })
                        .collect();
                    let mids: Vec<String> = picks
                        .iter()
                        .map(|_| uuid::Uuid::new_v4().to_string())
                        .collect();
                    let live = is_active_manager(tx, "alice");
                    let batch: Vec<NewMessage> = picks
                        .iter()
                        .zip(&mids)
                        .map(|((sid, kind, text, at), mid)| {
                            let (sender, auto) = match kind {
                                0 | 1 => (Sender::User, false),
                                4 => (Sender::Manager, true),
                                _ => (Sender::Manager, false),
                            };
                            NewMessage {
                                id: mid,
                                session_id: sid,
                                sender,
                                text,
                                manager_id: (sender == Sender::Manager && !auto && live)
                                    .then_some("alice"),
                                client_message_id: None,
                                created_at: at,
                                auto,
                            }
                        })
                        .collect();
                    messages::insert_many(tx, &batch)?;
                }
                25..=69 => {
                    let manager = MANAGERS[rng.usize(..MANAGERS.len())];
                    let (sender, auto) = match rng.u8(0..10) {
                        0..=4 => (Sender::User, false),
                        5 => (Sender::Manager, true),
                        _ => (Sender::Manager, false),
                    };
                    let mid = uuid::Uuid::new_v4().to_string();
                    let live = is_active_manager(tx, manager);
                    messages::insert(
                        tx,
                        &NewMessage {
                            id: &mid,
                            session_id: &id,
                            sender,
                            text: &random_text(rng),
                            manager_id: (sender == Sender::Manager && !auto && live)
                                .then_some(manager),
                            client_message_id: None,
                            created_at: &now,
                            auto,
                        },
                    )?;
                }
                70..=72 => sessions::update_contact(
                    tx,
                    &id,
                    random_name(rng).as_deref(),
                    random_phone(rng).as_deref(),
                    rng.bool().then_some("w@example.com"),
                    &now,
                )?,
                73..=74 => {
                    let side = [Side::Visitor, Side::Manager][rng.usize(..2)];
                    sessions::mark_seen(tx, &id, side, rng.i64(0..2000))?;
                }
                75..=80 => sessions::set_status(tx, &id, Status::Closed, &now)?,
                81..=82 => sessions::set_status(tx, &id, Status::Active, &now)?,
                83..=84 => {
                    let cutoff = fmt(clock - Duration::hours(rng.i64(0..48)));
                    sessions::archive_closed_before(tx, &cutoff)?;
                }
                85..=86 => {
                    // demo-data's closing times, many at once.
                    let pick = ids[rng.usize(..ids.len())].clone();
                    sessions::set_updated_many(tx, &[(id.as_str(), &now), (pick.as_str(), &now)])?;
                }
                87..=97 => {
                    let m = MANAGERS[rng.usize(..MANAGERS.len())];
                    let who = (rng.u8(0..4) > 0 && is_active_manager(tx, m)).then_some(m);
                    sessions::set_manager(tx, &id, who, &now)?;
                }
                _ => {
                    // A manager leaves (their open chats lose them; one who
                    // wrote is kept, deactivated) and comes back later.
                    let m = MANAGERS[rng.usize(..MANAGERS.len())];
                    let hash = shopchat::secret::hash(&format!("{m}{now}"));
                    match managers::remove(tx, m, &now)? {
                        managers::Removed::NotFound => {}
                        managers::Removed::Deleted => {
                            let me = managers::Manager {
                                id: m.into(),
                                display_name: m.into(),
                                telegram_user_id: None,
                                created_at: now.clone(),
                                deactivated_at: None,
                            };
                            managers::insert(tx, &me, &hash)?;
                        }
                        managers::Removed::Deactivated => {
                            managers::reactivate(tx, m, m, &hash)?;
                        }
                    }
                }
            }
            Ok(())
        })
        .unwrap();
        // Deleting a manager who never wrote clears them from their closed
        // chats by the foreign key (ON DELETE SET NULL), outside the store.
        if op < 98 {
            assert_changes_stamped(&before, &chat_rows(conn), &format!("step {step}, op {op}"));
        }
    }
}

/// The stats by the queries of their definitions (those of migration 4,
/// run over the whole history every time).
fn brute_force_stats(conn: &Connection, today_start: &str) -> Value {
    let q = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let qt = |sql: &str| -> i64 { conn.query_row(sql, [today_start], |r| r.get(0)).unwrap() };
    let mut stmt = conn
        .prepare(
            "WITH first_user AS (
                 SELECT session_id, min(seq) AS seq FROM chat_messages WHERE sender = 'user'
                 GROUP BY session_id
             )
             SELECT (julianday(r.created_at) - julianday(u.created_at)) * 86400.0
             FROM first_user f
             JOIN chat_messages u ON u.seq = f.seq
             JOIN chat_messages r ON r.seq = (
                 SELECT min(seq) FROM chat_messages
                 WHERE session_id = f.session_id AND sender = 'manager' AND auto = 0
                   AND seq > f.seq)",
        )
        .unwrap();
    let mut waits: Vec<f64> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    waits.sort_by(f64::total_cmp);
    let pct = |p: f64| -> Value {
        if waits.is_empty() {
            return Value::Null;
        }
        let rank = ((p * waits.len() as f64).ceil() as usize).clamp(1, waits.len());
        serde_json::json!((waits[rank - 1] * 10.0).round() / 10.0)
    };
    let mut stmt = conn
        .prepare(
            "SELECT m.id,
                (SELECT count(*) FROM chat_sessions s WHERE s.manager_id = m.id AND s.status = 'active'),
                (SELECT count(*) FROM chat_messages c WHERE c.manager_id = m.id AND c.sender = 'manager')
             FROM managers m ORDER BY m.id",
        )
        .unwrap();
    let managers: Vec<Value> = stmt
        .query_map([], |r| {
            Ok(serde_json::json!({"managerId": r.get::<_, String>(0)?,
                "activeSessions": r.get::<_, i64>(1)?, "messagesSent": r.get::<_, i64>(2)?}))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    // A chat "has a message" by its messages, not by its counter.
    let listed = "EXISTS (SELECT 1 FROM chat_messages m WHERE m.session_id = chat_sessions.id)";
    serde_json::json!({
        "sessions": {
            "total": q(&format!("SELECT count(*) FROM chat_sessions WHERE {listed}")),
            "active": q(&format!("SELECT count(*) FROM chat_sessions WHERE status = 'active' AND {listed}")),
            "closed": q(&format!("SELECT count(*) FROM chat_sessions WHERE status = 'closed' AND {listed}")),
            "archived": q(&format!("SELECT count(*) FROM chat_sessions WHERE status = 'archived' AND {listed}")),
            "unassigned": q(&format!("SELECT count(*) FROM chat_sessions WHERE status = 'active' AND manager_id IS NULL AND {listed}")),
            "awaitingReply": q(&format!("SELECT count(*) FROM chat_sessions WHERE status = 'active' AND last_sender = 'user' AND {listed}")),
        },
        "messages": {
            "total": q("SELECT count(*) FROM chat_messages WHERE auto = 0"),
            "fromUser": q("SELECT count(*) FROM chat_messages WHERE sender = 'user' AND auto = 0"),
            "fromManager": q("SELECT count(*) FROM chat_messages WHERE sender = 'manager' AND auto = 0"),
        },
        "today": {
            "sessions": qt(&format!("SELECT count(*) FROM chat_sessions WHERE created_at >= ?1 AND {listed}")),
            "messages": qt("SELECT count(*) FROM chat_messages WHERE created_at >= ?1 AND auto = 0"),
        },
        "firstResponseSeconds": {"median": pct(0.5), "p90": pct(0.9)},
        "managers": managers,
    })
}

fn assert_stats_agree(conn: &Connection, base: DateTime<Utc>, what: &str) {
    for hours in [0, 3, 30, 1000] {
        let today = fmt(base + Duration::hours(hours));
        let fast = serde_json::to_value(stats::compute(conn, &today).unwrap()).unwrap();
        let slow = brute_force_stats(conn, &today);
        assert_eq!(fast, slow, "{what}, today from {today}");
    }
}

/// One chat as the brute-force search sees it.
struct Row {
    id: String,
    status: String,
    manager_id: Option<String>,
    last_sender: Option<String>,
    updated_at: String,
    name: String,
    phone: String,
    /// (seq, text), in seq order.
    texts: Vec<(i64, String)>,
}

fn all_rows(conn: &Connection) -> Vec<Row> {
    let mut stmt = conn
        .prepare(
            "SELECT id, status, manager_id, last_sender, updated_at, user_name, user_phone
             FROM chat_sessions",
        )
        .unwrap();
    let mut rows: Vec<Row> = stmt
        .query_map([], |r| {
            Ok(Row {
                id: r.get(0)?,
                status: r.get(1)?,
                manager_id: r.get(2)?,
                last_sender: r.get(3)?,
                updated_at: r.get(4)?,
                name: sessions::fold_name(r.get::<_, Option<String>>(5)?.as_deref()),
                phone: sessions::digits(r.get::<_, Option<String>>(6)?.as_deref()),
                texts: Vec::new(),
            })
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for row in &mut rows {
        row.texts = conn
            .prepare(
                "SELECT seq, message_text FROM chat_messages WHERE session_id = ?1 ORDER BY seq",
            )
            .unwrap()
            .query_map([&row.id], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
    }
    rows
}

/// The listing by brute force: chats with a message only; the old
/// predicate (name or phone digits contain the search) or, for 3+
/// characters, a message text containing it (case-insensitive); then the
/// filters; newest activity first. Returns (id, seq of the newest matching
/// message) per chat.
fn brute_force_list(rows: &[Row], f: &Filter) -> Vec<(String, Option<i64>)> {
    let search = f.search.as_deref().map_or("", str::trim);
    let name_q = search.to_lowercase();
    let phone_q = sessions::digits(Some(search));
    let mut out: Vec<(&Row, Option<i64>)> = rows
        .iter()
        .filter(|r| !r.texts.is_empty())
        .filter(|r| f.status.is_none_or(|s| r.status == s.as_str()))
        .filter(|r| match &f.manager {
            None => true,
            Some(m) => &r.manager_id == m,
        })
        .filter(|r| match f.awaiting_reply {
            None => true,
            Some(a) => (r.last_sender.as_deref() == Some("user")) == a,
        })
        .filter_map(|r| {
            if search.is_empty() {
                return Some((r, None));
            }
            let text_hit = (search.chars().count() >= 3)
                .then(|| {
                    r.texts
                        .iter()
                        .rev()
                        .find(|(_, t)| t.to_lowercase().contains(&name_q))
                        .map(|(seq, _)| *seq)
                })
                .flatten();
            let contact_hit =
                r.name.contains(&name_q) || (!phone_q.is_empty() && r.phone.contains(&phone_q));
            (contact_hit || text_hit.is_some()).then_some((r, text_hit))
        })
        .collect();
    out.sort_by(|a, b| {
        b.0.updated_at
            .cmp(&a.0.updated_at)
            .then(a.0.id.cmp(&b.0.id))
    });
    out.into_iter()
        .map(|(r, seq)| (r.id.clone(), seq))
        .collect()
}

fn random_query(rng: &mut fastrand::Rng, rows: &[Row]) -> String {
    let pick = |rng: &mut fastrand::Rng, s: &str| -> String {
        let chars: Vec<char> = s.chars().collect();
        if chars.is_empty() {
            return "ол".into();
        }
        let a = rng.usize(..chars.len());
        let b = rng.usize(a..=chars.len().min(a + 8));
        chars[a..b.max(a + 1)].iter().collect()
    };
    let row = &rows[rng.usize(..rows.len())];
    let q = match rng.u8(0..7) {
        0 => pick(rng, &row.name),
        1 => pick(rng, &row.phone),
        2 => {
            // Digits typed with spaces and a plus.
            let d = pick(rng, &row.phone);
            format!(
                "+{}",
                d.chars().map(|c| format!("{c} ")).collect::<String>()
            )
        }
        3 | 4 => match row.texts.first() {
            Some((_, t)) => pick(rng, t),
            None => pick(rng, &row.name),
        },
        5 => SYLLABLES[rng.usize(..SYLLABLES.len())].to_string(),
        _ => WORDS[rng.usize(..WORDS.len())].to_string(),
    };
    if rng.bool() {
        q.to_uppercase()
    } else {
        q
    }
}

fn assert_search_agrees(conn: &Connection, rng: &mut fastrand::Rng, what: &str) {
    let rows = all_rows(conn);
    let statuses = [
        None,
        Some(Status::Active),
        Some(Status::Closed),
        Some(Status::Archived),
    ];
    for i in 0..300 {
        let search = (i % 5 != 0).then(|| random_query(rng, &rows));
        let f = Filter {
            status: statuses[rng.usize(..statuses.len())],
            search: search.clone(),
            manager: match rng.u8(0..4) {
                0 => Some(None),
                1 => Some(Some(MANAGERS[rng.usize(..MANAGERS.len())].to_string())),
                _ => None,
            },
            awaiting_reply: [None, Some(true), Some(false)][rng.usize(..3)],
            limit: [1000, 3][rng.usize(..2)],
            offset: [0, 2][rng.usize(..2)],
        };
        let want = brute_force_list(&rows, &f);
        let (got, total) = sessions::list(conn, &f).unwrap();
        assert_eq!(total, want.len() as i64, "{what}: total for {f:?}");
        let page: Vec<(String, Option<i64>)> = want
            .into_iter()
            .skip(f.offset as usize)
            .take(f.limit as usize)
            .collect();
        let got_page: Vec<(String, Option<i64>)> = got
            .iter()
            .map(|s| (s.session.id.clone(), s.text_match.as_ref().map(|m| m.seq)))
            .collect();
        assert_eq!(got_page, page, "{what}: page for {f:?}");
    }
}

#[test]
fn stats_and_search_agree_with_brute_force_on_random_histories() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = shopchat::db::init(&dir.path().join("chat.db")).unwrap();
    let base = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let mut rng = fastrand::Rng::with_seed(20261125);
    assert_stats_agree(&conn, base, "empty");
    for round in 0..4 {
        random_history(&mut conn, &mut rng, base + Duration::days(round), 250);
        assert_stats_agree(&conn, base, &format!("round {round}"));
        assert_search_agrees(&conn, &mut rng, &format!("round {round}"));
    }
    assert_eq!(
        shopchat::db::integrity_check(&conn).unwrap(),
        "ok",
        "the FTS indexes too"
    );
}

/// Rows of an existing database at migration `version` (2, or 4: the
/// schema before migrations 5-7), written the way that version's store
/// wrote them: AUTOINCREMENT seq, counters on the session; from 4 on also
/// change stamps, seen marks, emails, away auto-replies (counted, leaving
/// the last message alone), chats without a message, and a deactivated
/// manager.
fn old_history(conn: &Connection, rng: &mut fastrand::Rng, base: DateTime<Utc>, version: usize) {
    let v4 = version >= 4;
    for m in MANAGERS {
        conn.execute(
            "INSERT INTO managers (id, display_name, token_hash, created_at) VALUES (?1, ?1, ?2, ?3)",
            params![m, shopchat::secret::hash(m), fmt(base)],
        )
        .unwrap();
    }
    let stamp = "change_seq = (SELECT coalesce(max(change_seq), 0) + 1 FROM chat_sessions)";
    let mut clock = base;
    let mut ids: Vec<String> = Vec::new();
    for i in 0..400 {
        clock += Duration::milliseconds(rng.i64(-20..900_000));
        let now = fmt(clock);
        if ids.is_empty() || rng.u8(0..6) == 0 {
            let id = format!("00000000-0000-4000-8000-{i:012}");
            let name = random_name(rng);
            let phone = random_phone(rng);
            conn.execute(
                "INSERT INTO chat_sessions (id, user_name, user_phone, name_folded, phone_digits,
                     status, manager_id, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                params![
                    id,
                    name,
                    phone,
                    sessions::fold_name(name.as_deref()),
                    sessions::digits(phone.as_deref()),
                    ["active", "closed", "archived"][rng.usize(..3)],
                    [None, Some("alice"), Some("bob")][rng.usize(..3)],
                    now
                ],
            )
            .unwrap();
            if v4 {
                conn.execute(
                    &format!("UPDATE chat_sessions SET user_email = ?2, {stamp} WHERE id = ?1"),
                    params![id, rng.bool().then_some("v@example.com")],
                )
                .unwrap();
            }
            ids.push(id);
            continue;
        }
        let sid = &ids[rng.usize(..ids.len())];
        if v4 && rng.u8(0..8) == 0 {
            // How far each side has seen, and an answer emailed.
            conn.execute(
                &format!(
                    "UPDATE chat_sessions SET visitor_seen_seq = coalesce(last_seq, 0),
                         manager_seen_seq = coalesce(last_seq, 0) / 2, emailed_seq = ?2, {stamp}
                     WHERE id = ?1"
                ),
                params![sid, rng.i64(0..50)],
            )
            .unwrap();
            continue;
        }
        let kind = rng.u8(0..10);
        let (sender, auto) = match kind {
            0..=4 => ("user", false),
            5 if v4 => ("manager", true),
            _ => ("manager", false),
        };
        let manager = (sender == "manager" && !auto).then(|| MANAGERS[rng.usize(..MANAGERS.len())]);
        if v4 {
            conn.execute(
                "INSERT INTO chat_messages (id, session_id, sender, message_text, manager_id,
                     created_at, auto)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    uuid::Uuid::new_v4().to_string(),
                    sid,
                    sender,
                    random_text(rng),
                    manager,
                    now,
                    auto
                ],
            )
            .unwrap();
        } else {
            conn.execute(
                "INSERT INTO chat_messages (id, session_id, sender, message_text, manager_id,
                     created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    uuid::Uuid::new_v4().to_string(),
                    sid,
                    sender,
                    random_text(rng),
                    manager,
                    now
                ],
            )
            .unwrap();
        }
        let seq = conn.last_insert_rowid();
        if auto {
            conn.execute(
                &format!(
                    "UPDATE chat_sessions SET message_count = message_count + 1,
                         auto_replied_at = ?2, {stamp}
                     WHERE id = ?1"
                ),
                params![sid, now],
            )
            .unwrap();
        } else {
            conn.execute(
                &format!(
                    "UPDATE chat_sessions SET updated_at = ?2, message_count = message_count + 1,
                         last_seq = ?3, last_sender = ?4{}
                     WHERE id = ?1",
                    if v4 {
                        format!(", {stamp}")
                    } else {
                        String::new()
                    }
                ),
                params![sid, now, seq, sender],
            )
            .unwrap();
        }
    }
    if v4 {
        // bob left after writing: kept, deactivated, his open chats unassigned.
        conn.execute(
            "UPDATE managers SET deactivated_at = ?1, token_hash = 'deactivated:' || id
             WHERE id = 'bob'",
            [fmt(clock)],
        )
        .unwrap();
    }
}

/// Every row of `tables` (name, order), every column the table has now,
/// as text: to compare after a migration, with the columns of before.
fn dump_columns(conn: &Connection, tables: &[(&str, &str)]) -> Vec<(String, String)> {
    tables
        .iter()
        .map(|(table, order)| {
            let cols: Vec<String> = conn
                .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
                .unwrap()
                .query_map([table], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (table.to_string(), format!("{}|{order}", cols.join(", ")))
        })
        .collect()
}

fn dump_rows(conn: &Connection, spec: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (table, cols_order) in spec {
        let (cols, order) = cols_order.split_once('|').unwrap();
        let mut stmt = conn
            .prepare(&format!("SELECT {cols} FROM {table} ORDER BY {order}"))
            .unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let vals: Vec<String> = (0..n)
                    .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                    .collect();
                Ok(format!("{table}: {}", vals.join(" | ")))
            })
            .unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}

#[test]
fn a_migrated_database_keeps_stats_and_search_exact_before_and_after_new_writes() {
    for version in [4, 2] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chat.db");
        let base = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap();
        let mut rng = fastrand::Rng::with_seed(7 + version as u64);
        let what = |s: &str| format!("from migration {version}: {s}");
        {
            let mut conn = Connection::open(&path).unwrap();
            shopchat::db::MIGRATIONS
                .to_version(&mut conn, version)
                .unwrap();
            old_history(&conn, &mut rng, base, version);
        }
        // The numbers and the rows at migration 4, the last schema before
        // the counters and indexes.
        let (before_stats, spec, before_rows) = {
            let mut conn = Connection::open(&path).unwrap();
            shopchat::db::MIGRATIONS.to_version(&mut conn, 4).unwrap();
            let spec = dump_columns(
                &conn,
                &[
                    ("managers", "id"),
                    ("chat_sessions", "id"),
                    ("chat_messages", "seq"),
                ],
            );
            let rows = dump_rows(&conn, &spec);
            (
                brute_force_stats(&conn, &fmt(base + Duration::days(2))),
                spec,
                rows,
            )
        };
        let mut conn = shopchat::db::open_existing(&path).unwrap();
        assert_eq!(
            dump_rows(&conn, &spec),
            before_rows,
            "{}",
            what("every row and every column is still there, unchanged")
        );
        assert_eq!(
            serde_json::to_value(stats::compute(&conn, &fmt(base + Duration::days(2))).unwrap())
                .unwrap(),
            before_stats,
            "{}",
            what("the migration's backfill gives the old numbers")
        );
        assert_stats_agree(&conn, base, &what("after the migration"));
        assert_search_agrees(&conn, &mut rng, &what("after the migration"));
        random_history(&mut conn, &mut rng, base + Duration::days(5), 300);
        assert_stats_agree(&conn, base, &what("after new writes"));
        assert_search_agrees(&conn, &mut rng, &what("after new writes"));
        assert_eq!(shopchat::db::integrity_check(&conn).unwrap(), "ok");
    }
}

fn list_ids(conn: &Connection, search: &str) -> (Vec<String>, Vec<Option<String>>) {
    let f = Filter {
        search: Some(search.into()),
        limit: 100,
        ..Filter::default()
    };
    let (items, total) = sessions::list(conn, &f).unwrap();
    assert_eq!(total, items.len() as i64);
    (
        items.iter().map(|s| s.session.id.clone()).collect(),
        items
            .iter()
            .map(|s| s.text_match.as_ref().map(|m| m.snippet.clone()))
            .collect(),
    )
}

#[test]
fn chat_db_example_upgrades_in_place_with_nothing_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.db");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("chat.db.example");
    std::fs::copy(&example, &path).unwrap();
    let (spec, before, version_before) = {
        let conn = Connection::open(&path).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        let spec = dump_columns(
            &conn,
            &[
                ("managers", "id"),
                ("api_keys", "id"),
                ("chat_sessions", "id"),
                ("chat_messages", "seq"),
            ],
        );
        let rows = dump_rows(&conn, &spec);
        (spec, rows, v)
    };
    // The stats by their definitions, on a copy brought only to migration
    // 4 (the definitions need its columns).
    let base = Utc::now() - Duration::days(3);
    let old_stats = {
        let copy = dir.path().join("at4.db");
        std::fs::copy(&example, &copy).unwrap();
        let mut conn = Connection::open(&copy).unwrap();
        shopchat::db::MIGRATIONS.to_version(&mut conn, 4).unwrap();
        brute_force_stats(&conn, &fmt(base))
    };
    let conn = shopchat::db::open_existing(&path).unwrap();
    assert!(shopchat::db::schema_version(&conn).unwrap() > version_before);
    assert_eq!(
        dump_rows(&conn, &spec),
        before,
        "every row is still there, unchanged"
    );
    assert_eq!(
        serde_json::to_value(stats::compute(&conn, &fmt(base)).unwrap()).unwrap(),
        old_stats
    );
    assert_eq!(shopchat::db::integrity_check(&conn).unwrap(), "ok");
    drop(conn);

    // The indexes cover the old rows: a Cyrillic name fragment in any case,
    // phone digits typed any way, and a word inside a message.
    let conn = shopchat::db::open_existing(&path).unwrap();
    let rows = all_rows(&conn);
    let with_name = |frag: &str| -> HashSet<String> {
        rows.iter()
            .filter(|r| r.name.contains(frag))
            .map(|r| r.id.clone())
            .collect()
    };
    let (ids, _) = list_ids(&conn, "ОЛЕН");
    let found: HashSet<String> = ids.into_iter().collect();
    assert!(!with_name("олен").is_empty(), "the example has an Olena");
    assert!(with_name("олен").is_subset(&found));

    let phone = rows.iter().find(|r| r.phone.len() >= 10).expect("a phone");
    let digits = &phone.phone[phone.phone.len() - 7..];
    let typed = format!("{} {}-{}", &digits[..3], &digits[3..5], &digits[5..]);
    let (ids, _) = list_ids(&conn, &typed);
    assert!(ids.contains(&phone.id), "{typed} finds {}", phone.phone);

    let (seq, text) = rows
        .iter()
        .flat_map(|r| r.texts.iter())
        .find(|(_, t)| t.chars().count() > 20)
        .unwrap();
    let word: String = text.chars().skip(5).take(9).collect();
    let (ids, snippets) = list_ids(&conn, &word.to_uppercase());
    let owner = rows
        .iter()
        .find(|r| r.texts.iter().any(|(s, _)| s == seq))
        .unwrap();
    let at = ids
        .iter()
        .position(|id| id == &owner.id)
        .expect("found by message text");
    assert!(
        snippets[at]
            .as_deref()
            .is_some_and(|s| s.to_lowercase().contains(&word.to_lowercase())),
        "{snippets:?} show {word}"
    );
}
