//! `reply` without TEXT and `inbox`, driven through a pseudo-terminal the
//! way a person types: arrow keys, Enter, text.

use crate::clikit::*;
use rexpect::session::PtySession;

const ENTER: &str = "\r";
const DOWN: &str = "\x1b[B";
const ESC: &str = "\x1b";

/// `shopchat --db DB ARGS` on a pseudo-terminal.
fn spawn(db: &Db, args: &[&str]) -> PtySession {
    let mut c = shopchat();
    c.arg("--db")
        .arg(&db.path)
        .args(args)
        .env("COLUMNS", "100")
        .env("LINES", "40")
        .env("TERM", "xterm");
    rexpect::session::spawn_with_options(
        c,
        rexpect::reader::Options {
            timeout_ms: Some(20_000),
            strip_ansi_escape_codes: true,
        },
    )
    .expect("spawn on a pty")
}

/// rexpect 0.6 turns each byte it reads into one char, so UTF-8 text is
/// matched in that same form.
fn l1(s: &str) -> String {
    s.bytes().map(char::from).collect()
}

fn press(p: &mut PtySession, keys: &str) {
    p.send(keys).unwrap();
    p.flush().unwrap();
    // Let the prompt redraw before the next key, as a person would.
    std::thread::sleep(std::time::Duration::from_millis(150));
}

fn exit_code(p: &mut PtySession) -> i32 {
    match p.process.wait().unwrap() {
        rexpect::process::wait::WaitStatus::Exited(_, code) => code,
        other => panic!("did not exit normally: {other:?}"),
    }
}

fn texts(db: &Db, id: &str) -> Vec<(String, String)> {
    let v = sh(db, &["show", id, "--json"]).json();
    v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["sender"].as_str().unwrap().to_string(),
                m["messageText"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn reply_without_text_shows_the_chat_and_asks() {
    let db = Db::fixture();
    let mut p = spawn(&db, &["--as", "alice", "reply", "3f2a8"]);
    p.exp_string(&l1("Олена Коваль · +380 67 123 45 67"))
        .unwrap();
    p.exp_string(&l1("Так, будь ласка, на відділення №12 у Львові"))
        .unwrap();
    p.exp_string(&l1("Reply to Олена Коваль as alice")).unwrap();
    press(&mut p, "Відправляємо сьогодні, ТТН пришлю");
    press(&mut p, ENTER);
    p.exp_string(&l1("Sent to Олена Коваль (3f2a8c1e) as alice."))
        .unwrap();
    assert_eq!(exit_code(&mut p), 0);
    let last = texts(&db, OLENA).pop().unwrap();
    assert_eq!(
        last,
        ("manager".into(), "Відправляємо сьогодні, ТТН пришлю".into())
    );
}

#[test]
fn reply_prompt_left_empty_sends_nothing() {
    let db = Db::fixture();
    let mut p = spawn(&db, &["--as", "bob", "reply", "3f2a9d"]);
    p.exp_string(&l1("Reply to Emma Wilson as bob")).unwrap();
    press(&mut p, ENTER);
    p.exp_string(&l1("Nothing sent.")).unwrap();
    assert_eq!(exit_code(&mut p), 0);
    assert_eq!(texts(&db, EMMA).len(), 1);
}

#[test]
fn reply_prompt_to_a_closed_chat_is_refused_before_asking() {
    let db = Db::fixture();
    let mut p = spawn(&db, &["--as", "bob", "reply", "7b1c"]);
    p.exp_string(&l1("error: chat 7b1c0e2d (Anna Nowak) is closed"))
        .unwrap();
    assert_eq!(exit_code(&mut p), 1);
}

#[test]
fn inbox_picks_reads_replies_sees_new_messages_assigns_and_closes() {
    let db = Db::fixture();
    let mut p = spawn(&db, &["--as", "alice", "inbox"]);
    p.exp_string(&l1("3 open chats, 2 awaiting a reply"))
        .unwrap();
    // Awaiting first (Olena is the newest), then the others.
    let (before, _) = p.exp_regex(&l1("Emma Wilson")).unwrap();
    assert!(
        before.contains(&l1("Олена Коваль")),
        "Olena should come first: {before}"
    );
    p.exp_string(&l1("refresh")).unwrap();

    // Open Olena's chat (the first entry) and reply (the first action).
    press(&mut p, ENTER);
    p.exp_string(&l1("Так, будь ласка, на відділення №12 у Львові"))
        .unwrap();
    p.exp_string(&l1("Chat with Олена Коваль")).unwrap();
    press(&mut p, ENTER);
    p.exp_string(&l1("Reply to Олена Коваль as alice")).unwrap();
    press(&mut p, "Вже відправили!");
    press(&mut p, ENTER);
    p.exp_string(&l1("Sent.")).unwrap();
    assert_eq!(texts(&db, OLENA).last().unwrap().1, "Вже відправили!");

    // The visitor writes while the chat is open: refresh shows it.
    {
        let mut conn = db.conn();
        shopchat::chat::post_message(
            &mut conn,
            &shopchat::chat::NoNotify,
            OLENA,
            shopchat::chat::Author::Visitor,
            "Дякую, чекаю посилку",
            None,
        )
        .unwrap();
    }
    // reply, close, assign, refresh, back: refresh is the fourth.
    press(&mut p, &DOWN.repeat(3));
    press(&mut p, ENTER);
    p.exp_string(&l1("Дякую, чекаю посилку")).unwrap();

    // Assign to bob: "assign" is the third action, bob the second manager.
    p.exp_string(&l1("Chat with Олена Коваль")).unwrap();
    press(&mut p, &DOWN.repeat(2));
    press(&mut p, ENTER);
    p.exp_string(&l1("Assign to")).unwrap();
    press(&mut p, DOWN);
    press(&mut p, ENTER);
    p.exp_string(&l1("Assigned to bob.")).unwrap();

    // Close it (the second action). A slip of Down+Enter only asks, and
    // Enter keeps the chat open.
    press(&mut p, DOWN);
    press(&mut p, ENTER);
    p.exp_string(&l1("Close the chat with Олена Коваль?"))
        .unwrap();
    press(&mut p, ENTER);
    p.exp_string(&l1("Not closed.")).unwrap();
    assert_eq!(
        sh(&db, &["show", OLENA, "--json"]).json()["session"]["status"],
        "active"
    );
    // Asked again and confirmed: back to the list, one chat fewer.
    p.exp_string(&l1("Chat with Олена Коваль")).unwrap();
    press(&mut p, DOWN);
    press(&mut p, ENTER);
    p.exp_string(&l1("Close the chat with Олена Коваль?"))
        .unwrap();
    press(&mut p, "y");
    p.exp_string(&l1("2 open chats, 1 awaiting a reply"))
        .unwrap();
    p.exp_string(&l1("Closed chat 3f2a8c1e (Олена Коваль)."))
        .unwrap();

    // Esc leaves the inbox.
    press(&mut p, ESC);
    p.exp_string(&l1("Bye.")).unwrap();
    assert_eq!(exit_code(&mut p), 0);

    let v = sh(&db, &["show", OLENA, "--json"]).json();
    assert_eq!(v["session"]["status"], "closed");
    assert_eq!(v["session"]["managerId"], "bob");
}

#[test]
fn inbox_shows_a_chat_that_arrives_meanwhile_by_itself() {
    let db = Db::with_managers(&["olha"]);
    let mut p = spawn(&db, &["inbox"]);
    p.exp_string(&l1("as olha: 0 open chats, 0 awaiting a reply"))
        .unwrap();
    {
        let mut conn = db.conn();
        let contact = shopchat::chat::Contact::new(Some("Ярина"), None).unwrap();
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
            "Чи є знижки?",
            None,
        )
        .unwrap();
    }
    // No key pressed: the list updates by itself.
    p.exp_string(&l1("1 open chat, 1 awaiting a reply"))
        .unwrap();
    p.exp_string(&l1("Чи є знижки?")).unwrap();
    // The selection stayed on "refresh" (now below the chat); quit is next.
    press(&mut p, DOWN);
    press(&mut p, ENTER);
    p.exp_string(&l1("Bye.")).unwrap();
    assert_eq!(exit_code(&mut p), 0);
}

#[test]
fn ctrl_c_leaves_the_inbox_quietly() {
    let db = Db::fixture();
    let mut p = spawn(&db, &["--as", "alice", "inbox"]);
    p.exp_string(&l1("Pick a chat")).unwrap();
    press(&mut p, "\x03");
    assert_eq!(exit_code(&mut p), 130);
    let rest = p.exp_eof().unwrap_or_default();
    assert!(!rest.contains("error"), "{rest}");
    assert!(!rest.contains("panicked"), "{rest}");
}

#[test]
fn inbox_without_a_terminal_says_so() {
    let db = Db::fixture();
    let mut c = db.cmd();
    c.args(["--as", "alice", "inbox"]).write_stdin("");
    let e = run(c).err();
    assert!(e.contains("needs a terminal"), "{e}");
}

#[test]
fn ctrl_c_at_the_reply_prompt_sends_nothing() {
    let db = Db::fixture();
    let mut p = spawn(&db, &["--as", "alice", "reply", "3f2a8"]);
    p.exp_string(&l1("Reply to Олена Коваль as alice")).unwrap();
    press(&mut p, "half a rep");
    press(&mut p, "\x03");
    assert_eq!(exit_code(&mut p), 130);
    assert_eq!(texts(&db, OLENA).len(), 3);
}
