//! Stats and search answer exactly what they answered when they were
//! computed from the whole history: the counters and indexes of
//! migrations 4 and 5 against brute force (the old queries, and the old
//! search predicate plus message text) on random histories, also across a
//! migration of an existing database; and chat.db.example upgrades in
//! place with nothing lost.

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rusqlite::{params, Connection};
use serde_json::Value;

use shopchat::store::messages::NewMessage;
use shopchat::store::sessions::{self, Filter};
use shopchat::store::{self, managers, messages, stats, Session};

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

/// A random history through the store (the same functions the rules use),
/// with chosen times: chats, messages from both sides (a manager may write
/// first; times mostly rise, sometimes tie or step back by a few ms, and
/// fall on .x5 s edges), contact changes, close, archive, assign, and a
/// manager removed and added again.
fn random_history(conn: &mut Connection, rng: &mut fastrand::Rng, base: DateTime<Utc>, ops: usize) {
    for m in MANAGERS {
        if managers::get(conn, m).unwrap().is_none() {
            shopchat::commands::managers::create(conn, m, None, None).unwrap();
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
    for _ in 0..ops {
        clock += match rng.u8(0..10) {
            0 => Duration::milliseconds(-rng.i64(0..40)),
            1 => Duration::zero(),
            2 => Duration::milliseconds(50 * rng.i64(1..400)),
            _ => Duration::milliseconds(rng.i64(1..600_000)),
        };
        let now = fmt(clock);
        store::write(conn, |tx| {
            let op = rng.u8(0..100);
            if ids.is_empty() || op < 15 {
                let mut b = [0u8; 16];
                rng.fill(&mut b);
                let s = Session {
                    id: uuid::Builder::from_random_bytes(b).into_uuid().to_string(),
                    user_name: random_name(rng),
                    user_phone: random_phone(rng),
                    status: store::STATUS_ACTIVE.into(),
                    manager_id: None,
                    user_session_id: None,
                    created_at: now.clone(),
                    updated_at: now.clone(),
                };
                sessions::insert(tx, &s)?;
                ids.push(s.id);
                return Ok(());
            }
            let id = ids[rng.usize(..ids.len())].clone();
            match op {
                15..=24 => {
                    // The bulk path (demo-data): several messages, several
                    // chats, one statement.
                    let picks: Vec<(String, bool, String, String)> = (0..rng.usize(1..6))
                        .map(|k| {
                            let sid = ids[rng.usize(..ids.len())].clone();
                            let at = fmt(clock + Duration::milliseconds(50 * k as i64));
                            (sid, rng.bool(), random_text(rng), at)
                        })
                        .collect();
                    let mids: Vec<String> = picks
                        .iter()
                        .map(|_| uuid::Uuid::new_v4().to_string())
                        .collect();
                    let live = managers::get(tx, "alice")?.is_some();
                    let batch: Vec<NewMessage> = picks
                        .iter()
                        .zip(&mids)
                        .map(|((sid, from_user, text, at), mid)| NewMessage {
                            id: mid,
                            session_id: sid,
                            sender: if *from_user { "user" } else { "manager" },
                            text,
                            manager_id: (!from_user && live).then_some("alice"),
                            client_message_id: None,
                            created_at: at,
                        })
                        .collect();
                    messages::insert_many(tx, &batch)?;
                }
                25..=69 => {
                    let manager = MANAGERS[rng.usize(..MANAGERS.len())];
                    let from_user = rng.bool();
                    let mid = uuid::Uuid::new_v4().to_string();
                    let live = managers::get(tx, manager)?.is_some();
                    messages::insert(
                        tx,
                        &NewMessage {
                            id: &mid,
                            session_id: &id,
                            sender: if from_user { "user" } else { "manager" },
                            text: &random_text(rng),
                            manager_id: (!from_user && live).then_some(manager),
                            client_message_id: None,
                            created_at: &now,
                        },
                    )?;
                }
                70..=74 => sessions::update_contact(
                    tx,
                    &id,
                    random_name(rng).as_deref(),
                    random_phone(rng).as_deref(),
                    &now,
                )?,
                75..=82 => sessions::set_status(tx, &id, store::STATUS_CLOSED, &now)?,
                83..=84 => sessions::set_status(tx, &id, store::STATUS_ACTIVE, &now)?,
                85..=86 => {
                    let cutoff = fmt(clock - Duration::hours(rng.i64(0..48)));
                    sessions::archive_closed_before(tx, &cutoff, &now)?;
                }
                87..=97 => {
                    let m = MANAGERS[rng.usize(..MANAGERS.len())];
                    let who = (rng.u8(0..4) > 0 && managers::get(tx, m)?.is_some()).then_some(m);
                    sessions::set_manager(tx, &id, who, &now)?;
                }
                _ => {
                    // A manager leaves (their chats and messages lose them)
                    // and someone with the same id joins later.
                    let m = MANAGERS[rng.usize(..MANAGERS.len())];
                    if managers::remove(tx, m)? {
                        let me = managers::Manager {
                            id: m.into(),
                            display_name: m.into(),
                            telegram_user_id: None,
                            created_at: now.clone(),
                        };
                        managers::insert(tx, &me, &shopchat::secret::hash(&now))?;
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    }
}

/// The stats as they were computed before migration 4: from the whole
/// history, every time.
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
                 WHERE session_id = f.session_id AND sender = 'manager' AND seq > f.seq)",
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
    serde_json::json!({
        "sessions": {
            "total": q("SELECT count(*) FROM chat_sessions"),
            "active": q("SELECT count(*) FROM chat_sessions WHERE status = 'active'"),
            "closed": q("SELECT count(*) FROM chat_sessions WHERE status = 'closed'"),
            "archived": q("SELECT count(*) FROM chat_sessions WHERE status = 'archived'"),
            "unassigned": q("SELECT count(*) FROM chat_sessions WHERE status = 'active' AND manager_id IS NULL"),
            "awaitingReply": q("SELECT count(*) FROM chat_sessions WHERE status = 'active' AND last_sender = 'user'"),
        },
        "messages": {
            "total": q("SELECT count(*) FROM chat_messages"),
            "fromUser": q("SELECT count(*) FROM chat_messages WHERE sender = 'user'"),
            "fromManager": q("SELECT count(*) FROM chat_messages WHERE sender = 'manager'"),
        },
        "today": {
            "sessions": qt("SELECT count(*) FROM chat_sessions WHERE created_at >= ?1"),
            "messages": qt("SELECT count(*) FROM chat_messages WHERE created_at >= ?1"),
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

/// The listing by brute force: the old predicate (name or phone digits
/// contain the search) or, for 3+ characters, a message text containing it
/// (case-insensitive); then the filters; newest activity first. Returns
/// (id, seq of the newest matching message) per chat.
fn brute_force_list(rows: &[Row], f: &Filter) -> Vec<(String, Option<i64>)> {
    let search = f.search.as_deref().map(str::trim).unwrap_or("");
    let name_q = search.to_lowercase();
    let phone_q = sessions::digits(Some(search));
    let mut out: Vec<(&Row, Option<i64>)> = rows
        .iter()
        .filter(|r| f.status.as_ref().is_none_or(|s| &r.status == s))
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
    let statuses = [None, Some("active"), Some("closed"), Some("archived")];
    for i in 0..300 {
        let search = (i % 5 != 0).then(|| random_query(rng, &rows));
        let f = Filter {
            status: statuses[rng.usize(..statuses.len())].map(str::to_string),
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

/// Rows of the old schema (migration 2), written the way the old store
/// wrote them: AUTOINCREMENT seq, counters on the session.
fn old_history(conn: &Connection, rng: &mut fastrand::Rng, base: DateTime<Utc>) {
    for m in MANAGERS {
        conn.execute(
            "INSERT INTO managers (id, display_name, token_hash, created_at) VALUES (?1, ?1, ?2, ?3)",
            params![m, shopchat::secret::hash(m), fmt(base)],
        )
        .unwrap();
    }
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
            ids.push(id);
            continue;
        }
        let sid = &ids[rng.usize(..ids.len())];
        let user = rng.bool();
        conn.execute(
            "INSERT INTO chat_messages (id, session_id, sender, message_text, manager_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                uuid::Uuid::new_v4().to_string(),
                sid,
                if user { "user" } else { "manager" },
                random_text(rng),
                (!user).then(|| MANAGERS[rng.usize(..MANAGERS.len())]),
                now
            ],
        )
        .unwrap();
        conn.execute(
            "UPDATE chat_sessions SET updated_at = ?2, message_count = message_count + 1,
                 last_seq = ?3, last_sender = ?4 WHERE id = ?1",
            params![
                sid,
                now,
                conn.last_insert_rowid(),
                if user { "user" } else { "manager" }
            ],
        )
        .unwrap();
    }
}

#[test]
fn a_migrated_database_keeps_stats_and_search_exact_before_and_after_new_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.db");
    let base = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    {
        let mut conn = Connection::open(&path).unwrap();
        shopchat::db::MIGRATIONS.to_version(&mut conn, 2).unwrap();
        old_history(&conn, &mut rng, base);
    }
    let before_stats = {
        let conn = Connection::open(&path).unwrap();
        brute_force_stats(&conn, &fmt(base + Duration::days(2)))
    };
    let mut conn = shopchat::db::open_existing(&path).unwrap();
    assert_eq!(
        serde_json::to_value(stats::compute(&conn, &fmt(base + Duration::days(2))).unwrap())
            .unwrap(),
        before_stats,
        "the migration's backfill gives the old numbers"
    );
    assert_stats_agree(&conn, base, "after the migration");
    assert_search_agrees(&conn, &mut rng, "after the migration");
    random_history(&mut conn, &mut rng, base + Duration::days(5), 300);
    assert_stats_agree(&conn, base, "after new writes");
    assert_search_agrees(&conn, &mut rng, "after new writes");
    assert_eq!(shopchat::db::integrity_check(&conn).unwrap(), "ok");
}

/// Every row of the tables a chat is made of, as text, in a fixed order.
fn dump(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    for (table, cols, order) in [
        (
            "managers",
            "id, display_name, token_hash, telegram_user_id, created_at",
            "id",
        ),
        (
            "api_keys",
            "id, key_hash, key_hint, created_at, revoked_at",
            "id",
        ),
        (
            "chat_sessions",
            "id, user_name, user_phone, name_folded, phone_digits, status, manager_id,
             user_session_id, message_count, last_seq, last_sender, created_at, updated_at",
            "id",
        ),
        (
            "chat_messages",
            "seq, id, session_id, sender, message_text, manager_id, client_message_id, created_at",
            "seq",
        ),
    ] {
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
    let (before, version_before) = {
        let conn = Connection::open(&path).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        (dump(&conn), v)
    };
    let base = Utc::now() - Duration::days(3);
    let old_stats = {
        let conn = Connection::open(&path).unwrap();
        brute_force_stats(&conn, &fmt(base))
    };
    let conn = shopchat::db::open_existing(&path).unwrap();
    assert!(shopchat::db::schema_version(&conn).unwrap() > version_before);
    assert_eq!(dump(&conn), before, "every row is still there, unchanged");
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
