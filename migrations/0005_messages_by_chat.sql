-- Migration 5: a chat's messages stored together. chat_messages becomes a
-- WITHOUT ROWID table clustered by (session_id, seq), so a poll reads one
-- or two adjacent pages instead of seeking one page per message (rows were
-- in seq order, interleaving every chat). `seq` keeps its meaning (the
-- global polling cursor, never reused): it is now taken from message_seq
-- by the insert (src/store/messages.rs) and stays unique by index.
-- `id` loses its UNIQUE index: it is a v4 UUID the server makes, nothing
-- looks a message up by it, and the index cost a random write per message
-- and 89 MiB at a million messages (each entry carries the primary key).

CREATE TABLE message_seq (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL                          -- the highest seq ever given
);
INSERT INTO message_seq (id, last) VALUES (1, max(
    coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'chat_messages'), 0),
    coalesce((SELECT max(seq) FROM chat_messages), 0)));

CREATE TABLE chat_messages_by_chat (
    seq               INTEGER NOT NULL,            -- the polling cursor
    id                TEXT NOT NULL,               -- UUID
    session_id        TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    sender            TEXT NOT NULL CHECK (sender IN ('user', 'manager')),
    message_text      TEXT NOT NULL,
    manager_id        TEXT REFERENCES managers(id) ON DELETE SET NULL,
    client_message_id TEXT,
    created_at        TEXT NOT NULL,
    auto              INTEGER NOT NULL DEFAULT 0,  -- the away auto-reply (migration 4)
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
INSERT INTO chat_messages_by_chat (seq, id, session_id, sender, message_text, manager_id,
                                   client_message_id, created_at, auto)
    SELECT seq, id, session_id, sender, message_text, manager_id, client_message_id, created_at,
           auto
    FROM chat_messages ORDER BY session_id, seq;
DROP TABLE chat_messages;
ALTER TABLE chat_messages_by_chat RENAME TO chat_messages;

CREATE UNIQUE INDEX chat_messages_seq ON chat_messages(seq);
CREATE INDEX chat_messages_created ON chat_messages(created_at);
-- Idempotent sends: one message per clientMessageId in a session.
CREATE UNIQUE INDEX chat_messages_client_id
    ON chat_messages(session_id, client_message_id)
    WHERE client_message_id IS NOT NULL;
