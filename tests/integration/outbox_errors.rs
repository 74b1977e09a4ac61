//! The outbox worker tells its own database trouble from Telegram's: only
//! a failed Bot API call counts as an attempt and backs off.

use std::sync::Arc;

use shopchat::chat::{self, Contact};
use shopchat::telegram::{client::Client, outbox::Worker, Config, OutboxNotify};

#[test]
fn a_database_error_is_not_a_telegram_failure_and_does_not_back_off() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let mut conn = shopchat::db::init(&db).unwrap();
    // Nothing listens on the discard port: a Bot API call would fail and
    // be counted, which is what this test must not see.
    let mut config = Config::for_tests("http://127.0.0.1:9", "1:test", &["-1001"]);
    config.topics = true;
    chat::open_session(
        &mut conn,
        &OutboxNotify::new(&config),
        None,
        &Contact::default(),
        Some(chat::FirstMessage {
            text: "hello",
            client_message_id: None,
        }),
        || Ok(()),
    )
    .unwrap();
    // Topic mode reads telegram_topics before any call; make that fail.
    conn.execute_batch("DROP TABLE telegram_topics").unwrap();

    let client = Client::new(&config).unwrap();
    let mut worker = Worker::new(shopchat::db::open(&db).unwrap(), client, Arc::new(config));
    let err = worker.step().expect_err("a database error stops the step");
    assert!(
        matches!(err, shopchat::Error::Db(_)),
        "a database error, not a Telegram one: {err:?}"
    );

    let rows = shopchat::store::telegram::all(&conn).unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.attempts, 0, "not counted as an attempt: {row:?}");
    assert_eq!(row.last_error, None, "{row:?}");
    assert_eq!(row.next_attempt_at, row.created_at, "no backoff: {row:?}");
}
