//! Telegram notifications and answers, against a fake Bot API on loopback.

use std::time::Duration;

use crate::telegram_fake::{eventually, message, quiet_period, stays, Harness};
use serde_json::json;

const CHAT_A: &str = "-1001";
const CHAT_B: &str = "-1002";
const ALICE_TG: i64 = 777;
const WAIT: Duration = Duration::from_secs(10);

/// How many accepted messages to `chat` contain `needle`.
fn count(h: &Harness, chat: &str, needle: &str) -> usize {
    h.fake
        .sent_to(chat)
        .iter()
        .filter(|s| s.text.contains(needle))
        .count()
}

/// Waits for the notification of `needle` in `chat`, and for the worker to
/// have recorded it (only then can a manager's reply to it be matched);
/// returns its `message_id`.
fn notification(h: &Harness, chat: &str, needle: &str) -> i64 {
    assert!(
        h.fake.wait_for(WAIT, |s| s
            .iter()
            .any(|m| m.chat_id == chat && m.text.contains(needle))),
        "no notification with {needle:?} in {chat}: {:?}",
        h.fake.sent()
    );
    let id = h
        .fake
        .sent_to(chat)
        .into_iter()
        .find(|m| m.text.contains(needle))
        .unwrap()
        .message_id;
    assert!(
        eventually(WAIT, || h
            .outbox()
            .iter()
            .any(|r| r.telegram_message_id == Some(id))),
        "message {id} was never marked sent: {:#?}",
        h.outbox()
    );
    id
}

#[test]
fn a_visitor_message_reaches_each_chat_once_escaped() {
    let h = Harness::start(&[CHAT_A, CHAT_B]);
    let (sid, usid) = h.server.open_chat("Eve <admin> & co");
    h.server
        .visitor_says(&sid, &usid, "Is <b>this</b> in stock? \"yes\" & 5 > 3");
    let escaped = "Is &lt;b&gt;this&lt;/b&gt; in stock? &quot;yes&quot; &amp; 5 &gt; 3";
    for chat in [CHAT_A, CHAT_B] {
        notification(&h, chat, escaped);
    }
    // Watch long enough for a second copy to show up, if the worker were
    // to send one.
    assert!(
        stays(quiet_period(), || [CHAT_A, CHAT_B]
            .iter()
            .all(
                |c| count(&h, c, escaped) == 1 && count(&h, c, "New chat") == 1
            )),
        "{:#?}",
        h.fake.sent()
    );
    for chat in [CHAT_A, CHAT_B] {
        let all = h.fake.sent_to(chat);
        assert!(all.iter().all(|m| m.parse_mode == "HTML"));
        assert!(all.iter().all(|m| !m.text.contains("<b>this</b>")));
        assert!(all
            .iter()
            .any(|m| m.text.contains("Eve &lt;admin&gt; &amp; co")));
        assert!(all.iter().any(|m| m.text.contains(&sid[..8])));
    }
    assert!(h.outbox().iter().all(|r| r.sent_at.is_some()));
}

#[test]
fn the_panel_link_uses_chat_public_url() {
    let h = Harness::start_with(&[CHAT_A], |c| {
        c.public_url = Some("https://shop.example".into());
    });
    let (sid, usid) = h.server.open_chat("Olena");
    h.server.visitor_says(&sid, &usid, "hello");
    notification(&h, CHAT_A, "hello");
    let link = format!("<a href=\"https://shop.example/chat/{sid}\">");
    assert!(h
        .fake
        .sent_to(CHAT_A)
        .iter()
        .any(|m| m.text.contains(&link)));
}

#[test]
fn a_reply_in_telegram_reaches_the_visitor_and_close_closes() {
    let h = Harness::start(&[CHAT_A]);
    h.link_alice(ALICE_TG);
    let (sid, usid) = h.server.open_chat("Olena");
    h.server.visitor_says(&sid, &usid, "Do you ship to Lviv?");
    let note = notification(&h, CHAT_A, "Do you ship to Lviv?");

    let reply_id = h.fake.next_message_id();
    h.fake.push_update(message(
        -1001,
        ALICE_TG,
        reply_id,
        "Yes, <tomorrow> & free",
        Some(note),
    ));
    assert!(eventually(WAIT, || h.visitor_poll(&sid, &usid).0.len() == 2));
    let (msgs, status) = h.visitor_poll(&sid, &usid);
    assert_eq!(status, "active");
    assert_eq!(msgs[1]["sender"], "manager");
    assert_eq!(msgs[1]["managerId"], "alice");
    assert_eq!(msgs[1]["messageText"], "Yes, <tomorrow> & free");
    // The bot confirms, as a reply to the manager's message.
    assert!(h.fake.wait_for(WAIT, |s| s
        .iter()
        .any(|m| m.reply_to == Some(reply_id) && m.text.contains("Sent to"))));

    // The same update again (a webhook retry, a crash before the offset
    // was saved) stores nothing twice. Once the reader has acknowledged it,
    // it has acted on it.
    h.fake.push_update(message(
        -1001,
        ALICE_TG,
        reply_id,
        "Yes, <tomorrow> & free",
        Some(note),
    ));
    assert!(eventually(WAIT, || h.fake.unacknowledged() == 0));
    assert_eq!(h.visitor_poll(&sid, &usid).0.len(), 2);

    let close_id = h.fake.next_message_id();
    h.fake
        .push_update(message(-1001, ALICE_TG, close_id, "/close", Some(note)));
    assert!(eventually(WAIT, || h.visitor_poll(&sid, &usid).1 == "closed"));
    assert!(h.fake.wait_for(WAIT, |s| s
        .iter()
        .any(|m| m.reply_to == Some(close_id) && m.text.contains("is closed"))));

    let late_id = h.fake.next_message_id();
    h.fake.push_update(message(
        -1001,
        ALICE_TG,
        late_id,
        "one more thing",
        Some(note),
    ));
    assert!(h.fake.wait_for(WAIT, |s| s
        .iter()
        .any(|m| m.reply_to == Some(late_id) && m.text.contains("is closed"))));
    assert_eq!(h.visitor_poll(&sid, &usid).0.len(), 2);
}

#[test]
fn an_unlinked_user_and_an_unconfigured_chat_are_refused() {
    let h = Harness::start(&[CHAT_A]);
    h.link_alice(ALICE_TG);
    let (sid, usid) = h.server.open_chat("Olena");
    h.server.visitor_says(&sid, &usid, "anyone there?");
    let note = notification(&h, CHAT_A, "anyone there?");

    // A stranger in the managers' chat.
    let stranger_msg = h.fake.next_message_id();
    h.fake.push_update(message(
        -1001,
        555,
        stranger_msg,
        "I am not a manager",
        Some(note),
    ));
    assert!(h
        .fake
        .wait_for(WAIT, |s| s.iter().any(|m| m.reply_to == Some(stranger_msg)
            && m.text.contains("not linked")
            && m.text.contains("shopchat managers link NAME 555"))));

    // A linked manager, but writing from a chat that is not configured,
    // replying to a message id that is a notification in the real chat.
    let other_msg = h.fake.next_message_id();
    let last = h
        .fake
        .push_update(message(-4242, ALICE_TG, other_msg, "sneaky", Some(note)));
    h.fake
        .push_update(message(-4242, ALICE_TG, other_msg + 1, "/chats", None));
    // The reader acknowledges both updates, having acted on neither: it
    // stored nothing and queued no answer (answers are queued in the
    // transaction that acknowledges an update).
    assert!(eventually(WAIT, || h.fake.unacknowledged() == 0));
    let conn = shopchat::db::open(&h.server.db).unwrap();
    assert!(shopchat::store::telegram::update_offset(&conn).unwrap() > last);
    assert_eq!(h.visitor_poll(&sid, &usid).0.len(), 1, "nothing stored");
    assert!(h.outbox().iter().all(|r| r.chat_id == CHAT_A
        && r.reply_to_message_id != Some(other_msg)
        && r.reply_to_message_id != Some(other_msg + 1)));
    assert!(h.fake.sent().iter().all(|m| m.chat_id == CHAT_A));
    assert!(!h.fake.sent().iter().any(|m| m.reply_to == Some(other_msg)));
}

#[test]
fn commands_answer_by_short_id() {
    let h = Harness::start(&[CHAT_A]);
    h.link_alice(ALICE_TG);
    let (s1, u1) = h.server.open_chat("Olena");
    h.server.visitor_says(&s1, &u1, "first question");
    let (s2, u2) = h.server.open_chat("Taras");
    h.server.visitor_says(&s2, &u2, "second question");
    notification(&h, CHAT_A, "second question");

    let m = h.fake.next_message_id();
    h.fake
        .push_update(message(-1001, ALICE_TG, m, "/chats@shop_test_bot", None));
    assert!(h
        .fake
        .wait_for(WAIT, |s| s.iter().any(|x| x.reply_to == Some(m))));
    let list = h
        .fake
        .sent()
        .into_iter()
        .find(|x| x.reply_to == Some(m))
        .unwrap();
    assert!(
        list.text.contains(&s1[..8]) && list.text.contains(&s2[..8]),
        "{}",
        list.text
    );
    assert!(list.text.contains("first question") && list.text.contains("Taras"));

    let m = h.fake.next_message_id();
    h.fake.push_update(message(
        -1001,
        ALICE_TG,
        m,
        &format!("/reply {} We open at 9.", &s1[..6]),
        None,
    ));
    assert!(eventually(WAIT, || h.visitor_poll(&s1, &u1).0.len() == 2));
    assert_eq!(
        h.visitor_poll(&s1, &u1).0[1]["messageText"],
        "We open at 9."
    );
    assert_eq!(h.visitor_poll(&s2, &u2).0.len(), 1);

    let m = h.fake.next_message_id();
    h.fake.push_update(message(
        -1001,
        ALICE_TG,
        m,
        &format!("/close {}", &s2[..5]),
        None,
    ));
    assert!(eventually(WAIT, || h.visitor_poll(&s2, &u2).1 == "closed"));
    assert_eq!(h.visitor_poll(&s1, &u1).1, "active");

    // A prefix that matches no chat gets an answer, and changes nothing.
    let absent = ["aaaa", "bbbb", "cccc"]
        .into_iter()
        .find(|p| !s1.starts_with(p) && !s2.starts_with(p))
        .unwrap();
    let m = h.fake.next_message_id();
    h.fake.push_update(message(
        -1001,
        ALICE_TG,
        m,
        &format!("/reply {absent} hi"),
        None,
    ));
    assert!(h.fake.wait_for(WAIT, |s| s
        .iter()
        .any(|x| x.reply_to == Some(m) && x.text.contains("No chat id starts with"))));
}

#[test]
fn quick_messages_are_joined_not_flooded() {
    let h = Harness::start_with(&[CHAT_A], |c| {
        c.tuning.per_chat_interval = Duration::from_millis(1500);
    });
    let (sid, usid) = h.server.open_chat("Olena");
    h.server.visitor_says(&sid, &usid, "msg-0");
    notification(&h, CHAT_A, "msg-0");
    for i in 1..=5 {
        h.server.visitor_says(&sid, &usid, &format!("msg-{i}"));
    }
    notification(&h, CHAT_A, "msg-5");
    assert!(
        stays(quiet_period(), || (0..=5).all(|i| count(
            &h,
            CHAT_A,
            &format!("msg-{i}")
        ) == 1)),
        "{:#?}",
        h.fake.sent_to(CHAT_A)
    );
    let sent = h.fake.sent_to(CHAT_A);
    assert!(sent.len() <= 3, "not joined: {sent:?}");
    assert!(
        sent.iter().any(|m| m.text.contains("5 new messages")),
        "{sent:?}"
    );
}

#[test]
fn each_chat_gets_at_most_one_message_per_interval() {
    let interval = Duration::from_millis(300);
    let h = Harness::start_with(&[CHAT_A, CHAT_B], |c| c.tuning.per_chat_interval = interval);
    for i in 0..4 {
        let (sid, usid) = h.server.open_chat(&format!("visitor {i}"));
        h.server.visitor_says(&sid, &usid, &format!("hello {i}"));
    }
    for i in 0..4 {
        notification(&h, CHAT_B, &format!("hello {i}"));
    }
    for chat in [CHAT_A, CHAT_B] {
        let sent = h.fake.sent_to(chat);
        assert!(sent.len() >= 4);
        for w in sent.windows(2) {
            let gap = w[1].at - w[0].at;
            assert!(
                gap >= interval.checked_sub(Duration::from_millis(20)).unwrap(),
                "gap {gap:?} in {chat}"
            );
        }
    }
}

#[test]
fn without_telegram_nothing_is_queued() {
    let s = crate::common::TestServer::start();
    let (sid, usid) = s.open_chat("Olena");
    s.visitor_says(&sid, &usid, "hello");
    let conn = shopchat::db::open(&s.db).unwrap();
    assert_eq!(shopchat::store::telegram::all(&conn).unwrap().len(), 0);
}

#[test]
fn the_legacy_notify_form_goes_through_the_outbox() {
    let h = Harness::start(&[CHAT_A]);
    let r = h.server.public(
        "POST",
        "/api/public/chat/notify",
        None,
        Some(json!({"name": "Form user", "phone": "+380 50 000", "message": "call me back"})),
    );
    assert_eq!(r.status, 200, "{r:?}");
    notification(&h, CHAT_A, "call me back");
    assert!(h
        .fake
        .sent_to(CHAT_A)
        .iter()
        .any(|m| m.text.contains("+380 50 000")));
}

#[test]
fn webhook_mode_checks_the_secret_and_skips_get_updates() {
    let h = Harness::start_with(&[CHAT_A], |c| {
        c.webhook_secret = Some("s3cret_Token-1".into());
    });
    h.link_alice(ALICE_TG);
    let (sid, usid) = h.server.open_chat("Olena");
    h.server.visitor_says(&sid, &usid, "webhook question");
    let note = notification(&h, CHAT_A, "webhook question");
    let update = json!({"update_id": 1, "message": message(-1001, ALICE_TG, 9001, "webhook answer", Some(note))})
        .to_string();
    let post = |secret: Option<&str>| {
        let mut hd = vec![("Content-Type", "application/json")];
        if let Some(s) = secret {
            hd.push(("X-Telegram-Bot-Api-Secret-Token", s));
        }
        h.server
            .call("POST", "/api/telegram/webhook", &hd, Some(&update))
    };
    assert_eq!(post(None).status, 401);
    assert_eq!(post(Some("s3cret_Token-2")).status, 401);
    assert_eq!(h.visitor_poll(&sid, &usid).0.len(), 1);
    let r = post(Some("s3cret_Token-1"));
    assert_eq!(r.status, 200, "{r:?}");
    let (msgs, _) = h.visitor_poll(&sid, &usid);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1]["messageText"], "webhook answer");
    assert!(h.fake.calls("getUpdates").is_empty());

    // Without webhook mode (or Telegram) the endpoint does not exist.
    let plain = Harness::start(&[CHAT_A]);
    let r = plain.server.call(
        "POST",
        "/api/telegram/webhook",
        &[("X-Telegram-Bot-Api-Secret-Token", "s3cret_Token-1")],
        Some(&update),
    );
    assert_eq!(r.status, 404);
    let none = crate::common::TestServer::start();
    assert_eq!(
        none.call("POST", "/api/telegram/webhook", &[], Some("{}"))
            .status,
        404
    );
}

#[test]
fn a_message_telegram_rejects_is_given_up_after_a_few_attempts() {
    // 400 for one chat only: the other chat still gets everything.
    let h = Harness::start(&[CHAT_A, "-1999"]);
    h.fake.forget_chat("-1999");
    let (sid, usid) = h.server.open_chat("Olena");
    h.server.visitor_says(&sid, &usid, "hello");
    notification(&h, CHAT_A, "hello");
    assert!(
        eventually(WAIT, || h
            .outbox()
            .iter()
            .filter(|r| r.chat_id == "-1999")
            .all(|r| r.failed_at.is_some())),
        "{:#?}",
        h.outbox()
    );
    let rows = h.outbox();
    let bad: Vec<_> = rows.iter().filter(|r| r.chat_id == "-1999").collect();
    assert!(!bad.is_empty());
    assert!(bad
        .iter()
        .all(|r| r.last_error.as_deref().unwrap().contains("chat not found")));
    // max_rejected_attempts is 3 in the fast tuning.
    assert!(bad.iter().all(|r| r.attempts == 3), "{bad:#?}");
    let refused = h
        .fake
        .calls("sendMessage")
        .iter()
        .filter(|c| c.status == 400)
        .count();
    assert!(refused == 3 || refused == 6, "{refused} attempts");
}

/// A manager's plain message inside a forum topic.
fn topic_message(thread: i64, from: i64, message_id: i64, text: &str) -> serde_json::Value {
    let mut m = message(-1001, from, message_id, text, Some(thread));
    m["message_thread_id"] = json!(thread);
    m["is_topic_message"] = json!(true);
    m
}

#[test]
fn topic_mode_gives_each_chat_a_topic_where_managers_simply_write() {
    let h = Harness::start_with(&[CHAT_A], |c| c.topics = true);
    h.link_alice(ALICE_TG);
    let (s1, u1) = h.server.open_chat("Olena");
    h.server.visitor_says(&s1, &u1, "topic question one");
    let (s2, u2) = h.server.open_chat("Taras");
    h.server.visitor_says(&s2, &u2, "topic question two");
    notification(&h, CHAT_A, "topic question one");
    notification(&h, CHAT_A, "topic question two");
    h.server.visitor_says(&s1, &u1, "and a follow-up");
    notification(&h, CHAT_A, "and a follow-up");

    let topics = h.fake.topics();
    assert_eq!(topics.len(), 2, "{topics:?}");
    assert!(topics[0].2.contains("Olena") && topics[0].2.contains(&s1[..8]));
    let t1 = topics[0].1;
    let in_t1: Vec<_> = h
        .fake
        .sent_to(CHAT_A)
        .into_iter()
        .filter(|m| m.thread == Some(t1))
        .collect();
    assert!(in_t1.iter().any(|m| m.text.contains("topic question one")));
    assert!(in_t1.iter().any(|m| m.text.contains("and a follow-up")));
    assert!(!in_t1.iter().any(|m| m.text.contains("topic question two")));
    assert!(in_t1[0].text.contains("Write in this topic"));

    // A manager writes in the topic, replying to nothing in particular.
    let m = h.fake.next_message_id();
    h.fake
        .push_update(topic_message(t1, ALICE_TG, m, "Answer in the topic"));
    assert!(eventually(WAIT, || h.visitor_poll(&s1, &u1).0.len() == 3));
    assert_eq!(
        h.visitor_poll(&s1, &u1).0[2]["messageText"],
        "Answer in the topic"
    );
    assert_eq!(h.visitor_poll(&s2, &u2).0.len(), 1);
    assert!(h
        .fake
        .wait_for(WAIT, |s| s.iter().any(|x| x.reply_to == Some(m)
            && x.thread == Some(t1)
            && x.text.contains("Sent to"))));

    let m = h.fake.next_message_id();
    h.fake.push_update(topic_message(t1, ALICE_TG, m, "/close"));
    assert!(eventually(WAIT, || h.visitor_poll(&s1, &u1).1 == "closed"));
    assert_eq!(h.visitor_poll(&s2, &u2).1, "active");
}

#[test]
fn the_client_trusts_the_ca_file_it_is_given_and_nothing_else() {
    use shopchat::telegram::client::{ApiError, Client};
    let fake = crate::telegram_fake::FakeTelegram::start(&[CHAT_A]);
    let mut config =
        shopchat::telegram::Config::for_tests(&fake.url, crate::telegram_fake::TOKEN, &[CHAT_A]);
    config.tuning = crate::telegram_fake::fast_tuning();

    config.ca_file = Some(fake.ca_file.clone());
    assert_eq!(
        Client::new(&config).unwrap().get_me().unwrap(),
        "shop_test_bot"
    );

    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other-ca.pem");
    std::fs::write(&other, crate::telegram_fake::TestPki::new().ca_pem).unwrap();
    config.ca_file = Some(other);
    let e = Client::new(&config).unwrap().get_me().unwrap_err();
    assert!(matches!(e, ApiError::Tls(_)), "{e:?}");
    let e = e.to_string();
    assert!(
        e.contains("not signed by an authority") && e.contains("SSL_CERT_FILE"),
        "{e}"
    );
    assert!(
        !e.contains(crate::telegram_fake::TOKEN) && !e.contains("TEST-fake"),
        "{e}"
    );
    assert_eq!(
        fake.calls("getMe").len(),
        1,
        "only the trusted call got through"
    );
}
