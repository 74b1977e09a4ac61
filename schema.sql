-- shopchat schema: migration 1, applied by rusqlite_migration (src/db.rs).
-- Once released, this file is never edited: new migrations are appended in db.rs.
-- Times are TEXT in RFC 3339 UTC with milliseconds ('2026-11-24T05:42:56.123Z'),
-- which sort correctly as strings.

CREATE TABLE managers (
    id               TEXT PRIMARY KEY,          -- 'alice'
    display_name     TEXT NOT NULL,
    token_hash       TEXT NOT NULL UNIQUE,      -- hex SHA-256 of the bearer token
    telegram_user_id INTEGER UNIQUE,
    created_at       TEXT NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,                -- a label: 'shop', 'default'
    key_hash   TEXT NOT NULL UNIQUE,            -- hex SHA-256 of the key
    key_hint   TEXT NOT NULL,                   -- first characters, to recognise a key
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE chat_sessions (
    id              TEXT PRIMARY KEY,           -- UUID
    user_name       TEXT,
    user_phone      TEXT,
    name_folded     TEXT NOT NULL DEFAULT '',   -- lower-cased user_name, for search
    phone_digits    TEXT NOT NULL DEFAULT '',   -- the digits of user_phone, for search
    status          TEXT NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'closed', 'archived')),
    manager_id      TEXT REFERENCES managers(id) ON DELETE SET NULL,
    user_session_id TEXT,                       -- the visitor's secret
    message_count   INTEGER NOT NULL DEFAULT 0, -- kept by the message insert
    last_seq        INTEGER,                    -- seq of the newest message
    last_sender     TEXT,                       -- sender of the newest message
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX chat_sessions_updated ON chat_sessions(updated_at);
CREATE INDEX chat_sessions_status_updated ON chat_sessions(status, updated_at);
CREATE INDEX chat_sessions_manager_updated ON chat_sessions(manager_id, updated_at);
CREATE INDEX chat_sessions_awaiting ON chat_sessions(last_sender, status, updated_at);
CREATE INDEX chat_sessions_visitor ON chat_sessions(user_session_id);
-- A visitor has at most one active chat.
CREATE UNIQUE INDEX chat_sessions_one_active_per_visitor
    ON chat_sessions(user_session_id)
    WHERE status = 'active' AND user_session_id IS NOT NULL;

CREATE TABLE chat_messages (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT, -- the polling cursor
    id                TEXT NOT NULL UNIQUE,              -- UUID
    session_id        TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    sender            TEXT NOT NULL CHECK (sender IN ('user', 'manager')),
    message_text      TEXT NOT NULL,
    manager_id        TEXT REFERENCES managers(id) ON DELETE SET NULL,
    client_message_id TEXT,
    created_at        TEXT NOT NULL
);
CREATE INDEX chat_messages_session_seq ON chat_messages(session_id, seq);
CREATE INDEX chat_messages_created ON chat_messages(created_at);
-- Idempotent sends: one message per clientMessageId in a session.
CREATE UNIQUE INDEX chat_messages_client_id
    ON chat_messages(session_id, client_message_id)
    WHERE client_message_id IS NOT NULL;

-- Telegram (src/telegram/, SQL in src/store/telegram.rs).
-- The outbox: one row per notification per configured chat, written in the
-- same transaction as the message that causes it. The worker sends a chat's
-- rows in id order, marks them sent, and reschedules failures (backoff).
CREATE TABLE telegram_outbox (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id             TEXT NOT NULL,          -- as configured: '-1001234567890' or '@channel'
    kind                TEXT NOT NULL CHECK (kind IN ('new_session', 'message', 'bot')),
    session_id          TEXT REFERENCES chat_sessions(id) ON DELETE CASCADE,
    message_seq         INTEGER,                -- the visitor's message, for kind 'message'
    text                TEXT NOT NULL,          -- 'message': the visitor's text; 'bot': ready HTML
    reply_to_message_id INTEGER,                -- 'bot': the manager's message it answers
    message_thread_id   INTEGER,                -- 'bot' in forum-topic mode: the topic
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     TEXT NOT NULL,
    last_error          TEXT,                   -- redacted: never holds the bot token
    sent_at             TEXT,
    failed_at           TEXT,                   -- given up: Telegram refused it for good
    telegram_message_id INTEGER,
    created_at          TEXT NOT NULL
);
CREATE INDEX telegram_outbox_pending ON telegram_outbox(chat_id, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX telegram_outbox_session ON telegram_outbox(session_id);

-- Which Telegram message is about which chat, so a manager's reply finds its
-- session by message_id (never by parsing text).
CREATE TABLE telegram_message_map (
    chat_id    TEXT NOT NULL,                   -- as configured (see telegram_outbox)
    message_id INTEGER NOT NULL,
    session_id TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, message_id)
) WITHOUT ROWID;
CREATE INDEX telegram_message_map_session ON telegram_message_map(session_id);

-- Forum-topic mode (TELEGRAM_TOPICS=1): one topic per chat session.
CREATE TABLE telegram_topics (
    chat_id    TEXT NOT NULL,                   -- as configured
    session_id TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    thread_id  INTEGER NOT NULL,
    PRIMARY KEY (chat_id, session_id),
    UNIQUE (chat_id, thread_id)
) WITHOUT ROWID;

-- Small durable settings: 'update_offset' (the next getUpdates offset).
CREATE TABLE telegram_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
