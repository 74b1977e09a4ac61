//! The reading commands through the real binary: `sessions`, `show`,
//! `stats`, as tables (snapshots) and as JSON; short-id prefixes; errors.

use crate::clikit::*;

#[test]
fn sessions_table_fits_the_terminal_and_puts_newest_first() {
    let db = Db::fixture();
    let out = sh(&db, &["sessions"]).ok();
    insta::assert_snapshot!("sessions_100_columns", out);
    for line in out.lines() {
        assert!(unicode_width(line) <= 100, "wider than 100 columns: {line}");
    }
}

#[test]
fn sessions_table_drops_columns_on_a_narrow_terminal() {
    let db = Db::fixture();
    let mut c = db.cmd();
    c.env("COLUMNS", "60").arg("sessions");
    let out = run(c).ok();
    insta::assert_snapshot!("sessions_60_columns", out);
    for line in out.lines().filter(|l| !l.is_ascii()) {
        assert!(unicode_width(line) <= 60, "wider than 60 columns: {line}");
    }
}

fn unicode_width(s: &str) -> usize {
    // The table uses only characters one column wide.
    s.chars().count()
}

#[test]
fn sessions_filters_match_the_api() {
    let db = Db::fixture();
    let ids = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["sessions", "--json"];
        a.extend_from_slice(args);
        let v = sh(&db, &a).json();
        v["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap()[..4].to_string())
            .collect()
    };
    // Taras (e5e5) never wrote a message: his chat is never listed.
    assert_eq!(ids(&[]), ["3f2a", "3f2a", "c0ff", "7b1c", "dead"]);
    assert_eq!(ids(&["--status", "active"]), ["3f2a", "3f2a", "c0ff"]);
    assert_eq!(ids(&["--status", "closed"]), ["7b1c"]);
    assert_eq!(ids(&["--awaiting"]), ["3f2a", "3f2a"]);
    // Anna's closed chat ended with her message: only an explicit status shows it.
    assert_eq!(
        ids(&["--awaiting", "--status", "all"]),
        ["3f2a", "3f2a", "7b1c"]
    );
    assert_eq!(ids(&["--awaiting", "--status", "closed"]), ["7b1c"]);
    assert_eq!(ids(&["--manager", "none"]), ["3f2a", "dead"]);
    assert_eq!(
        ids(&["--manager", "alice", "--status", "active"]),
        ["3f2a", "c0ff"]
    );
    assert_eq!(ids(&["--manager", "bob"]), ["7b1c"]);
    assert_eq!(ids(&["--search", "олена"]), ["3f2a"]);
    assert_eq!(ids(&["--search", "+49 151"]), ["c0ff"]);
    assert_eq!(ids(&["--limit", "2"]).len(), 2);
}

#[test]
fn sessions_json_is_the_admin_api_listing_without_visitor_secrets() {
    let db = Db::fixture();
    let v = sh(&db, &["sessions", "--json", "--limit", "2"]).json();
    assert_eq!(v["total"], 5);
    let s = &v["sessions"][0];
    assert_eq!(s["id"], OLENA);
    assert_eq!(s["userName"], "Олена Коваль");
    assert_eq!(s["userPhone"], "+380 67 123 45 67");
    assert_eq!(s["status"], "active");
    assert_eq!(s["managerId"], "alice");
    assert!(s["userSessionId"].is_null(), "secret leaked: {s}");
    assert_eq!(s["messageCount"], 3);
    assert_eq!(s["awaitingReply"], true);
    assert_eq!(
        s["lastMessage"]["messageText"],
        "Так, будь ласка, на відділення №12 у Львові"
    );
    assert_eq!(s["updatedAt"], "2025-03-14T09:10:00.000Z");
    assert_eq!(v["sessions"].as_array().unwrap().len(), 2);
}

#[test]
fn sessions_says_how_many_more_there_are() {
    let db = Db::fixture();
    let out = sh(&db, &["sessions", "--limit", "2"]).ok();
    assert!(out.contains("2 of 5 chats"), "{out}");
    let out = sh(&db, &["sessions", "--search", "nobody"]).ok();
    assert_eq!(out.trim(), "No chats match.");
    let out = sh(&Db::with_managers(&["alice"]), &["sessions"]).ok();
    assert!(out.starts_with("No chats yet."), "{out}");
}

#[test]
fn sessions_rejects_bad_filters_with_one_clear_line() {
    let db = Db::fixture();
    let e = sh(&db, &["sessions", "--manager", "carol"]).err();
    assert!(
        e.contains("no manager 'carol'") && e.contains("alice, bob"),
        "{e}"
    );
    let long = "x".repeat(101);
    let e = sh(&db, &["sessions", "--search", &long]).err();
    assert!(e.contains("--search is longer than 100"), "{e}");
    // clap's own usage errors exit 2 and say what is allowed.
    let r = sh(&db, &["sessions", "--status", "open"]);
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.contains("active, closed, archived, all"),
        "{}",
        r.stderr
    );
    let r = sh(&db, &["sessions", "--limit", "0"]);
    assert_eq!(r.code, Some(2));
}

#[test]
fn show_prints_the_transcript() {
    let db = Db::fixture();
    let out = sh(&db, &["show", "3f2a8c1e"]).ok();
    insta::assert_snapshot!("show_olena", out);
    let out = sh(&db, &["show", "c0ffee00"]).ok();
    insta::assert_snapshot!("show_multiline_no_name", out);
}

#[test]
fn show_json_is_the_admin_api_transcript() {
    let db = Db::fixture();
    let v = sh(&db, &["show", OLENA, "--json"]).json();
    assert_eq!(v["session"]["id"], OLENA);
    assert!(v["session"]["userSessionId"].is_null());
    let msgs = v["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    let seqs: Vec<i64> = msgs.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(msgs[1]["sender"], "manager");
    assert_eq!(msgs[1]["managerId"], "alice");
    assert_eq!(msgs[0]["sessionId"], OLENA);
    for key in [
        "id",
        "seq",
        "sessionId",
        "sender",
        "messageText",
        "managerId",
        "createdAt",
    ] {
        assert!(msgs[0].get(key).is_some(), "missing {key}");
    }
}

#[test]
fn ids_can_be_any_unique_prefix_of_four_or_more() {
    let db = Db::fixture();
    for prefix in ["c0ff", "C0FFEE", "c0ffee00-3333", NONAME, " c0ffee00 "] {
        let v = sh(&db, &["show", prefix, "--json"]).json();
        assert_eq!(v["session"]["id"], NONAME, "prefix {prefix:?}");
    }
    let v = sh(&db, &["show", "3f2a8", "--json"]).json();
    assert_eq!(v["session"]["id"], OLENA);
}

#[test]
fn an_ambiguous_prefix_lists_the_candidates() {
    let db = Db::fixture();
    let e = sh(&db, &["show", "3f2a"]).err();
    assert!(e.contains("'3f2a' matches several chats"), "{e}");
    assert!(e.contains("3f2a8c1e (Олена Коваль)"), "{e}");
    assert!(e.contains("3f2a9d00 (Emma Wilson)"), "{e}");
    insta::assert_snapshot!("ambiguous_prefix", e);
}

#[test]
fn unknown_short_and_malformed_ids_are_clear_errors() {
    let db = Db::fixture();
    let e = sh(&db, &["show", "abcd"]).err();
    assert_eq!(
        e,
        "error: no chat has an id starting with 'abcd'; `shopchat sessions` lists them"
    );
    let e = sh(&db, &["show", "3f2"]).err();
    assert!(e.contains("too short") && e.contains("at least 4"), "{e}");
    for bad in [
        "zzzzzz",
        "'; DROP TABLE chat_sessions; --",
        "%%%%",
        "ёжик-ёжик",
    ] {
        let e = sh(&db, &["show", bad]).err();
        assert!(
            e.contains("no chat has an id starting with"),
            "{bad:?}: {e}"
        );
    }
    // Nothing was harmed.
    assert_eq!(sh(&db, &["sessions", "--json"]).json()["total"], 5);
}

#[test]
fn stats_report_and_json() {
    let db = Db::fixture();
    let out = sh(&db, &["stats"]).ok();
    insta::assert_snapshot!("stats", out);
    let v = sh(&db, &["stats", "--json"]).json();
    assert_eq!(v["sessions"]["total"], 5);
    assert_eq!(v["sessions"]["active"], 3);
    assert_eq!(v["sessions"]["closed"], 1);
    assert_eq!(v["sessions"]["archived"], 1);
    assert_eq!(v["sessions"]["awaitingReply"], 2);
    assert_eq!(v["sessions"]["unassigned"], 1);
    assert_eq!(v["messages"]["total"], 11);
    assert_eq!(v["messages"]["fromUser"], 7);
    assert_eq!(v["messages"]["fromManager"], 4);
    assert_eq!(v["today"]["sessions"], 0);
    // Olena 120 s, Anna 240 s, no-name 1800 s, Lukas 600 s.
    assert_eq!(v["firstResponseSeconds"]["median"], 240.0);
    assert_eq!(v["firstResponseSeconds"]["p90"], 1800.0);
    assert_eq!(v["managers"][0]["managerId"], "alice");
    assert_eq!(v["managers"][0]["activeSessions"], 2);
    assert_eq!(v["managers"][0]["messagesSent"], 2);
}

#[test]
fn a_missing_or_broken_database_is_a_clear_error_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.db");
    let junk = dir.path().join("junk.db");
    std::fs::write(
        &junk,
        "this is not a database, just some text that is long enough to fail",
    )
    .unwrap();
    let commands: &[&[&str]] = &[
        &["sessions"],
        &["show", "abcd"],
        &["reply", "abcd", "hi"],
        &["close", "abcd"],
        &["assign", "abcd", "none"],
        &["stats"],
        &["watch"],
        &["backup", "x.db"],
        &["archive", "--older-than", "30"],
        &["demo-data", "--sessions", "1"],
        &["inbox"],
    ];
    for args in commands {
        let mut c = cmd_for(&missing);
        c.args(*args);
        let e = run(c).err();
        assert!(
            e.contains("no database at") && e.contains("create-tables"),
            "{args:?}: {e}"
        );
        assert!(!missing.exists(), "{args:?} created the file");
        let mut c = cmd_for(&junk);
        c.args(*args).current_dir(dir.path());
        let e = run(c).err();
        if !args.contains(&"inbox") {
            assert!(
                e.contains("is not a usable shopchat database"),
                "{args:?}: {e}"
            );
        }
    }
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let db = Db::fixture();
    let mut child = shopchat()
        .arg("--db")
        .arg(&db.path)
        .args(["sessions", "--limit", "200"])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.trim().is_empty(), "{err}");
}
