//! The writing commands through the real binary: `reply`, `close`,
//! `assign`, `archive`, `backup`, `demo-data`, `managers`; the acting
//! manager; errors.

use std::io::Write;

use serde_json::json;

use crate::clikit::*;
use crate::common::TestServer;

#[test]
fn managers_remove_unassigns_their_chats_and_keeps_their_messages() {
    let db = Db::fixture();
    let out = sh(&db, &["managers", "remove", "alice"]).ok();
    assert!(
        out.trim().starts_with("Manager 'alice' removed: their token no longer works and their open chats are unassigned."),
        "{out}"
    );
    // alice wrote messages: kept, deactivated, so her name stays on them.
    let v = sh(&db, &["managers", "list", "--json"]).json();
    assert_eq!(v[0]["id"], "alice");
    assert!(v[0]["deactivatedAt"].is_string(), "{v}");
    assert_eq!(v[1], json!({"id": "bob", "displayName": "Bob"}));
    let v = sh(&db, &["show", OLENA, "--json"]).json();
    assert_eq!(v["session"]["managerId"], json!(null), "unassigned");
    let answer = &v["messages"][1];
    assert_eq!(answer["sender"], "manager");
    assert_eq!(
        answer["managerId"], "alice",
        "the name stays on her message"
    );
    assert_eq!(
        answer["messageText"],
        "Так, є в наявності. Відправити сьогодні?"
    );
    assert_eq!(
        sh(&db, &["managers", "remove", "alice"]).err(),
        "error: no manager 'alice'; `shopchat managers list` shows them"
    );
}

#[test]
fn managers_token_replaces_the_old_token_at_once() {
    let s = TestServer::start();
    let me = |token: &str| {
        let auth = format!("Bearer {token}");
        s.call(
            "GET",
            "/api/chat/me",
            &[("Authorization", auth.as_str())],
            None,
        )
        .status
    };
    assert_eq!(me(&s.token), 200);
    let mut c = cmd_for(&s.db);
    c.args(["managers", "token", "alice"]);
    let r = run(c);
    assert!(
        r.stderr.contains("the old one no longer works"),
        "{}",
        r.stderr
    );
    let new = r.ok();
    assert_eq!(new.lines().count(), 1, "the token alone on stdout: {new:?}");
    let new = new.trim();
    assert!(new.starts_with("scm_") && new != s.token);
    assert_eq!(me(&s.token), 401, "the old token stopped working");
    assert_eq!(me(new), 200);
    let mut c = cmd_for(&s.db);
    c.args(["managers", "token", "carol"]);
    assert_eq!(
        run(c).err(),
        "error: no manager 'carol'; `shopchat managers list` shows them"
    );
}

#[test]
fn managers_link_and_unlink_a_telegram_user_once() {
    let db = Db::with_managers(&["alice", "bob"]);
    let linked = |db: &Db| -> Vec<(String, Option<i64>)> {
        let v = sh(db, &["managers", "list", "--json"]).json();
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["id"].as_str().unwrap().to_string(),
                    m["telegramUserId"].as_i64(),
                )
            })
            .collect()
    };
    let out = sh(&db, &["managers", "link", "alice", "123456789"]).ok();
    assert_eq!(
        out.trim(),
        "Manager 'alice' is linked to Telegram user 123456789."
    );
    assert_eq!(
        linked(&db),
        [("alice".into(), Some(123456789)), ("bob".into(), None)]
    );
    // One Telegram user answers as one manager.
    assert_eq!(
        sh(&db, &["managers", "link", "bob", "123456789"]).err(),
        "error: Telegram user 123456789 is already linked to manager 'alice'"
    );
    let e = sh(
        &db,
        &["managers", "add", "dave", "--telegram-id", "123456789"],
    )
    .err();
    assert!(e.contains("already linked to manager 'alice'"), "{e}");
    sh(&db, &["managers", "link", "alice", "123456789"]).ok(); // again: fine
    let out = sh(&db, &["managers", "link", "alice", "--unlink"]).ok();
    assert_eq!(
        out.trim(),
        "Manager 'alice' is no longer linked to Telegram."
    );
    sh(&db, &["managers", "link", "bob", "123456789"]).ok();
    assert_eq!(
        linked(&db),
        [("alice".into(), None), ("bob".into(), Some(123456789))]
    );
    assert_eq!(
        sh(&db, &["managers", "link", "alice"]).err(),
        "error: give the Telegram user id, or --unlink"
    );
    assert_eq!(
        sh(&db, &["managers", "link", "alice", "5", "--unlink"]).code,
        Some(2)
    );
    assert_eq!(
        sh(&db, &["managers", "link", "carol", "5"]).err(),
        "error: no manager 'carol'; `shopchat managers list` shows them"
    );
}

#[test]
fn reply_posts_a_manager_message_as_the_acting_manager() {
    let db = Db::fixture();
    let v = sh(
        &db,
        &[
            "--as",
            "alice",
            "reply",
            "3f2a8",
            "Відправимо",
            "сьогодні!",
            "--json",
        ],
    )
    .json();
    let m = &v["message"];
    assert_eq!(m["sender"], "manager");
    assert_eq!(m["managerId"], "alice");
    assert_eq!(m["sessionId"], OLENA);
    assert_eq!(m["messageText"], "Відправимо сьогодні!");
    let show = sh(&db, &["show", OLENA, "--json"]).json();
    let last = show["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["id"], m["id"]);
    // The chat no longer waits for a reply.
    let v = sh(
        &db,
        &["sessions", "--awaiting", "--status", "active", "--json"],
    )
    .json();
    assert_eq!(v["total"], 1);
    assert_eq!(v["sessions"][0]["id"], EMMA);
}

#[test]
fn reply_says_what_it_did() {
    let db = Db::fixture();
    let out = sh(&db, &["--as", "bob", "reply", "3f2a9d", "Yes, we do!"]).ok();
    assert_eq!(out.trim(), "Sent to Emma Wilson (3f2a9d00) as bob.");
}

#[test]
fn the_acting_manager_comes_from_the_environment_or_is_the_only_one() {
    let db = Db::fixture();
    let mut c = db.cmd();
    c.env("CHAT_MANAGER", "bob")
        .args(["reply", "3f2a9d", "Hello", "--json"]);
    assert_eq!(run(c).json()["message"]["managerId"], "bob");

    let e = sh(&db, &["reply", "3f2a9d", "Hello"]).err();
    assert!(
        e.contains("several managers (alice, bob)") && e.contains("--as"),
        "{e}"
    );
    let e = sh(&db, &["--as", "carol", "reply", "3f2a9d", "Hello"]).err();
    assert!(
        e.contains("no manager 'carol'") && e.contains("alice, bob"),
        "{e}"
    );

    let solo = Db::with_managers(&["olha"]);
    let sid = open_chat(&solo, "Марко");
    let v = sh(&solo, &["reply", &sid[..8], "Вітаю!", "--json"]).json();
    assert_eq!(v["message"]["managerId"], "olha");

    let nobody = Db::empty();
    let sid = open_chat(&nobody, "Марко");
    let e = sh(&nobody, &["reply", &sid[..8], "Вітаю!"]).err();
    assert!(
        e.contains("no managers yet") && e.contains("managers add"),
        "{e}"
    );
}

/// A visitor chat made through the chat rules, as the widget would.
fn open_chat(db: &Db, name: &str) -> String {
    let mut conn = db.conn();
    let contact = shopchat::chat::Contact::new(Some(name), None).unwrap();
    let s = shopchat::chat::open_session(
        &mut conn,
        &shopchat::chat::NoNotify,
        None,
        &contact,
        None,
        || Ok(()),
    )
    .unwrap()
    .session;
    shopchat::chat::post_message(
        &mut conn,
        &shopchat::chat::NoNotify,
        &s.id,
        shopchat::chat::Author::Visitor,
        "Добрий день!",
        None,
    )
    .unwrap();
    s.id
}

#[test]
fn reply_dash_reads_the_text_from_standard_input() {
    let db = Db::fixture();
    let mut c = db.cmd();
    c.args(["--as", "alice", "reply", "c0ff", "-", "--json"])
        .write_stdin("Die Sendung ist unterwegs.\nTracking: DE123456\n");
    let v = run(c).json();
    assert_eq!(
        v["message"]["messageText"],
        "Die Sendung ist unterwegs.\nTracking: DE123456"
    );
    let mut c = db.cmd();
    c.args(["--as", "alice", "reply", "c0ff", "-"])
        .write_stdin(vec![0xff, 0xfe, 0x00]);
    let e = run(c).err();
    assert!(e.contains("not UTF-8"), "{e}");
}

#[test]
fn reply_refuses_empty_long_and_closed() {
    let db = Db::fixture();
    let e = sh(&db, &["--as", "alice", "reply", "3f2a8", "   "]).err();
    assert!(e.contains("the reply is empty"), "{e}");
    let mut c = db.cmd();
    c.args(["--as", "alice", "reply", "3f2a8", "-"])
        .write_stdin("");
    assert!(run(c).err().contains("the reply is empty"));
    let long = "я".repeat(4001);
    let e = sh(&db, &["--as", "alice", "reply", "3f2a8", &long]).err();
    assert!(
        e.contains("4001 characters") && e.contains("at most 4000"),
        "{e}"
    );
    let e = sh(&db, &["--as", "bob", "reply", "7b1c", "Ще щось?"]).err();
    assert!(
        e.contains("chat 7b1c0e2d (Anna Nowak) is closed") && e.contains("new chat"),
        "{e}"
    );
    let e = sh(&db, &["--as", "bob", "reply", "dead", "Hallo?"]).err();
    assert!(e.contains("is archived"), "{e}");
    // Without TEXT and without a terminal to ask in.
    let mut c = db.cmd();
    c.args(["--as", "alice", "reply", "3f2a8"]).write_stdin("");
    let e = run(c).err();
    assert!(e.contains("not a terminal") && e.contains("`-`"), "{e}");
    // Nothing was stored by any of these.
    assert_eq!(
        sh(&db, &["stats", "--json"]).json()["messages"]["total"],
        11
    );
}

#[test]
fn close_is_idempotent_and_the_visitor_sees_it() {
    let db = Db::fixture();
    let out = sh(&db, &["close", "3f2a9d"]).ok();
    assert_eq!(out.trim(), "Closed chat 3f2a9d00 (Emma Wilson).");
    let out = sh(&db, &["close", "3f2a9d"]).ok();
    assert!(out.contains("was already closed; nothing changed"), "{out}");
    let v = sh(&db, &["close", EMMA, "--json"]).json();
    assert_eq!(v["session"]["status"], "closed");
    assert!(v["session"]["userSessionId"].is_null());
    // What the widget polls says closed.
    let conn = db.conn();
    let s = shopchat::store::sessions::get(&conn, EMMA)
        .unwrap()
        .unwrap();
    let poll =
        shopchat::chat::poll(&conn, &s, &shopchat::store::messages::Since::Start, 10).unwrap();
    assert_eq!(poll.session_status, shopchat::store::Status::Closed);
}

#[test]
fn assign_to_a_manager_and_back_to_none() {
    let db = Db::fixture();
    let out = sh(&db, &["assign", "3f2a9d", "bob"]).ok();
    assert_eq!(
        out.trim(),
        "Chat 3f2a9d00 (Emma Wilson) is assigned to bob."
    );
    let v = sh(&db, &["sessions", "--manager", "bob", "--json"]).json();
    assert_eq!(v["total"], 2);
    let v = sh(&db, &["assign", "3f2a9d", "none", "--json"]).json();
    assert!(v["session"]["managerId"].is_null());
    let e = sh(&db, &["assign", "3f2a9d", "carol"]).err();
    assert_eq!(
        e,
        "error: unknown manager 'carol'; known managers: alice, bob"
    );
    let e = sh(&db, &["assign", "3f2a", "bob"]).err();
    assert!(e.contains("matches several chats"), "{e}");
    let r = sh(&db, &["assign", "3f2a9d"]);
    assert_eq!(r.code, Some(2), "a missing MANAGER is a usage error");
}

#[test]
fn archive_moves_old_closed_chats_only() {
    let db = Db::fixture();
    let v = sh(&db, &["archive", "--older-than", "100000", "--json"]);
    assert_eq!(v.code, Some(2), "DAYS is bounded");
    let v = sh(&db, &["archive", "--older-than", "36500", "--json"]).json();
    assert_eq!(v["archived"], 0);
    let out = sh(&db, &["archive", "--older-than", "30"]).ok();
    assert_eq!(
        out.trim(),
        "Archived 1 closed chat with no activity in the last 30 days."
    );
    let v = sh(&db, &["sessions", "--status", "archived", "--json"]).json();
    let ids: Vec<&str> = v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&ANNA) && ids.contains(&LUKAS));
    // Archiving is housekeeping: the chat keeps its last activity, so last
    // month's chats do not top every list as "just now".
    let anna = &v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == ANNA)
        .unwrap()
        .clone();
    assert_eq!(anna["updatedAt"], "2025-03-10T12:00:00.000Z");
    let all = sh(&db, &["sessions", "--json"]).json();
    assert_eq!(all["sessions"][0]["id"], OLENA, "{all}");
    // Active chats, however old, are untouched.
    let v = sh(&db, &["sessions", "--status", "active", "--json"]).json();
    assert_eq!(v["total"], 3);
    let e = sh(&db, &["archive"]);
    assert_eq!(e.code, Some(2));
}

#[test]
fn backup_makes_a_checked_copy_and_never_overwrites_by_accident() {
    let db = Db::fixture();
    let dest = db.dir.path().join("copy.db");
    let d = dest.to_str().unwrap();
    let out = sh(&db, &["backup", d]).ok();
    assert!(
        out.contains("5 chats, 11 messages") && out.contains("integrity check ok"),
        "{out}"
    );
    let copy = shopchat::db::open_existing(&dest).unwrap();
    assert_eq!(shopchat::db::integrity_check(&copy).unwrap(), "ok");
    let msgs = shopchat::store::messages::all(&copy, OLENA).unwrap();
    assert_eq!(msgs.len(), 3);
    drop(copy);

    let before = std::fs::read(&dest).unwrap();
    let e = sh(&db, &["backup", d]).err();
    assert!(e.contains("already exists") && e.contains("--force"), "{e}");
    assert_eq!(
        std::fs::read(&dest).unwrap(),
        before,
        "the old copy was touched"
    );

    sh(&db, &["--as", "alice", "reply", "3f2a8", "Ще одне"]).ok();
    let out = sh(&db, &["backup", d, "--force"]).ok();
    assert!(out.contains("12 messages"), "{out}");

    let e = sh(&db, &["backup", db.path.to_str().unwrap(), "--force"]).err();
    assert!(e.contains("the database itself"), "{e}");
    let e = sh(&db, &["backup", db.dir.path().to_str().unwrap()]).err();
    assert!(e.contains("is a directory"), "{e}");
    let nowhere = db.dir.path().join("no/such/folder/x.db");
    let e = sh(&db, &["backup", nowhere.to_str().unwrap()]).err();
    assert!(e.contains("does not exist"), "{e}");
    // No partial files are left behind.
    let left: Vec<_> = std::fs::read_dir(db.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// id, name, status, messages (sender, text).
type Dumped = (String, Option<String>, String, Vec<(String, String)>);

#[test]
fn demo_data_is_realistic_deterministic_and_makes_a_manager() {
    let a = Db::empty();
    let b = Db::empty();
    let out = sh(
        &a,
        &[
            "demo-data",
            "--sessions",
            "60",
            "--messages",
            "5",
            "--seed",
            "7",
        ],
    )
    .ok();
    assert!(out.starts_with("Added 60 chats"), "{out}");
    sh(
        &b,
        &[
            "demo-data",
            "--sessions",
            "60",
            "--messages",
            "5",
            "--seed",
            "7",
        ],
    )
    .ok();

    let managers = shopchat::store::managers::list(&a.conn()).unwrap();
    assert_eq!(managers.len(), 1);
    assert_eq!(managers[0].id, "demo");

    let dump = |db: &Db| -> Vec<Dumped> {
        let conn = db.conn();
        let f = shopchat::store::sessions::Filter {
            limit: 1000,
            ..Default::default()
        };
        let (mut list, total) = shopchat::store::sessions::list(&conn, &f).unwrap();
        assert_eq!(total, 60);
        list.sort_by(|x, y| x.session.id.cmp(&y.session.id));
        list.into_iter()
            .map(|s| {
                let msgs = shopchat::store::messages::all(&conn, &s.session.id).unwrap();
                (
                    s.session.id,
                    s.session.user_name,
                    s.session.status.to_string(),
                    msgs.into_iter()
                        .map(|m| (m.sender.to_string(), m.message_text))
                        .collect(),
                )
            })
            .collect()
    };
    let da = dump(&a);
    assert_eq!(da, dump(&b), "the same seed made different chats");

    let c = Db::empty();
    sh(
        &c,
        &[
            "demo-data",
            "--sessions",
            "60",
            "--messages",
            "5",
            "--seed",
            "8",
        ],
    )
    .ok();
    assert_ne!(da, dump(&c), "another seed made the same chats");

    let all_text: String = da
        .iter()
        .flat_map(|(_, _, _, m)| m.iter().map(|(_, t)| t.clone()))
        .collect();
    assert!(
        all_text.contains('і') || all_text.contains('ї'),
        "no Ukrainian"
    );
    assert!(all_text.contains("the"), "no English");
    for (_, _, status, msgs) in &da {
        assert!((1..=9).contains(&msgs.len()), "{} messages", msgs.len());
        assert_eq!(msgs[0].0, "user", "chats start with the visitor");
        assert!(["active", "closed", "archived"].contains(&status.as_str()));
    }
    let statuses: std::collections::HashSet<&str> = da.iter().map(|d| d.2.as_str()).collect();
    assert!(
        statuses.contains("active") && statuses.contains("closed"),
        "{statuses:?}"
    );

    // Seq order is time order, as if the chats had really happened.
    let conn = a.conn();
    let all = shopchat::store::messages::after(&conn, 0, 100_000).unwrap();
    assert!(all.windows(2).all(|w| w[0].created_at <= w[1].created_at));
    let v = sh(&a, &["stats", "--json"]).json();
    assert_eq!(v["messages"]["total"].as_u64().unwrap() as usize, all.len());
    assert!(v["firstResponseSeconds"]["median"].as_f64().unwrap() > 0.0);
}

#[test]
fn demo_data_is_fast_for_ten_thousand_chats() {
    let db = Db::empty();
    let t = std::time::Instant::now();
    let out = sh(
        &db,
        &["demo-data", "--sessions", "10000", "--messages", "8"],
    )
    .ok();
    let took = t.elapsed();
    assert!(out.starts_with("Added 10000 chats"), "{out}");
    // Seconds even in a debug build; one transaction per message would
    // take minutes with synchronous=FULL.
    assert!(took.as_secs() < 60, "took {took:?}");
    let v = sh(&db, &["stats", "--json"]).json();
    assert_eq!(v["sessions"]["total"], 10000);
    let n = v["messages"]["total"].as_u64().unwrap();
    assert!((60_000..=100_000).contains(&n), "{n} messages");
}

#[test]
fn demo_data_keeps_existing_managers() {
    let db = Db::fixture();
    sh(&db, &["demo-data", "--sessions", "5"]).ok();
    let ids: Vec<String> = shopchat::store::managers::list(&db.conn())
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["alice", "bob"]);
    assert_eq!(
        sh(&db, &["stats", "--json"]).json()["sessions"]["total"],
        10
    );
}

#[test]
fn strange_input_never_panics() {
    let db = Db::fixture();
    let cases: &[&[&str]] = &[
        &["show", ""],
        &["show", "----"],
        &["show", &"a".repeat(10_000)],
        &["reply", "3f2a8", "\t \n"],
        &["--as", "", "reply", "3f2a8c1e", "hi"],
        &["--as", "'; --", "reply", "3f2a8c1e", "hi"],
        &["assign", "3f2a8c1e", ""],
        &["watch", "--since", "-5"],
        &["demo-data", "--sessions", "0"],
    ];
    for args in cases {
        let r = sh(&db, args);
        assert_ne!(r.code, Some(0), "{args:?} succeeded: {}", r.stdout);
        assert!(!r.stderr.contains("panicked"), "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with("error: "), "{args:?}: {}", r.stderr);
    }
    // Searching for SQL wildcards finds nothing rather than everything.
    for q in ["%", "_", "%_\\'\""] {
        let v = sh(&db, &["sessions", "--search", q, "--json"]).json();
        assert_eq!(v["total"], 0, "{q}");
    }
}

#[test]
fn stdout_is_plain_text_without_colour_when_piped() {
    let db = Db::fixture();
    let mut c = db.cmd();
    c.env_remove("NO_COLOR").arg("sessions");
    let out = run(c).ok();
    assert!(!out.contains('\u{1b}'), "escape codes in piped output");
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(out.as_bytes()).unwrap();
}
