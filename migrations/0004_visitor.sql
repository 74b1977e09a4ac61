-- Migration 4: no visitor lost (issue "chats start with the first message,
-- away hours, email follow-up, returning visitors, reopen").
-- * user_email: an address the visitor left for answers by email.
-- * auto_replied_at: when the away auto-reply was posted (once per chat).
-- * emailed_seq: the last manager message an email follow-up carried (or
--   decided not to), so each answer is emailed at most once.
-- * chat_messages.auto: 1 for the shop's automatic away reply; it does not
--   count as an answer (the chat still awaits a reply).
-- * managers.deactivated_at: a removed manager who wrote messages is kept,
--   so their name stays on them; they can no longer sign in or be assigned.
-- * shop_settings: what the shop sets with `shopchat settings` (time zone,
--   weekly hours, away minutes, auto-reply text), read by serve and the
--   terminal alike.
-- * email_outbox: follow-up emails, written in the transaction that decides
--   them and sent by a worker, like telegram_outbox.
ALTER TABLE chat_sessions ADD COLUMN user_email TEXT;
ALTER TABLE chat_sessions ADD COLUMN auto_replied_at TEXT;
ALTER TABLE chat_sessions ADD COLUMN emailed_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chat_messages ADD COLUMN auto INTEGER NOT NULL DEFAULT 0;
ALTER TABLE managers ADD COLUMN deactivated_at TEXT;
CREATE INDEX chat_sessions_email ON chat_sessions(id) WHERE user_email IS NOT NULL;

CREATE TABLE shop_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE email_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id      TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    upto_seq        INTEGER NOT NULL,           -- the last manager message it carries
    to_addr         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,              -- plain text
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    sent_at         TEXT,
    failed_at       TEXT,                       -- given up (refused for good, or seen meanwhile)
    created_at      TEXT NOT NULL,
    UNIQUE (session_id, upto_seq)
);
CREATE INDEX email_outbox_pending ON email_outbox(next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
