-- Migration 6: what GET /api/chat/stats needs, kept at write time, so no
-- figure scans the history (src/store/stats.rs reads these). The stats'
-- definitions are those of migration 4: chats without a message and the
-- away auto-replies are not counted, and an auto-reply is not an answer.
--
-- * session_counts: chats per (status, manager, awaiting a reply, has a
--   message), kept by triggers on chat_sessions, so every write path (and
--   a manager's removal, which unassigns chats) keeps it exact. Listing
--   totals without a search come from here too.
-- * message_counts: messages per (sender, manager, auto-reply), kept by
--   triggers on chat_messages.
-- * chat_sessions.first_user_at / first_reply_secs: the first visitor
--   message's time and the seconds until the first manager message after
--   it that is not an auto-reply, set by the message insert (like the
--   other session counters).
-- * first_reply_hist: how many chats have each first-reply time, rounded
--   to 0.1 s as the stats show it, so the median and p90 are a walk over
--   distinct values, not over chats.
-- "Today" stays a parameter (the start of the shop's day): sessions by
-- the new created_at index, messages by chat_messages_created.

CREATE INDEX chat_sessions_created ON chat_sessions(created_at);

ALTER TABLE chat_sessions ADD COLUMN first_user_at TEXT;
ALTER TABLE chat_sessions ADD COLUMN first_reply_secs REAL;

UPDATE chat_sessions SET first_user_at = (
    SELECT m.created_at FROM chat_messages m
    WHERE m.session_id = chat_sessions.id AND m.sender = 'user'
    ORDER BY m.seq LIMIT 1);
UPDATE chat_sessions SET first_reply_secs = (
    SELECT (julianday(r.created_at) - julianday(chat_sessions.first_user_at)) * 86400.0
    FROM chat_messages r
    WHERE r.session_id = chat_sessions.id AND r.sender = 'manager' AND r.auto = 0
      AND r.seq > (SELECT min(u.seq) FROM chat_messages u
                   WHERE u.session_id = chat_sessions.id AND u.sender = 'user')
    ORDER BY r.seq LIMIT 1)
WHERE first_user_at IS NOT NULL;

CREATE TABLE session_counts (
    status       TEXT NOT NULL,
    manager_id   TEXT NOT NULL,                 -- '' for unassigned
    awaiting     INTEGER NOT NULL,              -- 1: the last message is the visitor's
    has_messages INTEGER NOT NULL,              -- 1: message_count > 0 (listed, counted)
    n            INTEGER NOT NULL,
    PRIMARY KEY (status, manager_id, awaiting, has_messages)
) WITHOUT ROWID;
INSERT INTO session_counts (status, manager_id, awaiting, has_messages, n)
    SELECT status, coalesce(manager_id, ''), last_sender IS 'user', message_count > 0, count(*)
    FROM chat_sessions GROUP BY 1, 2, 3, 4;

CREATE TABLE message_counts (
    sender     TEXT NOT NULL,
    manager_id TEXT NOT NULL,                   -- '' for none
    auto       INTEGER NOT NULL,                -- 1: the away auto-reply
    n          INTEGER NOT NULL,
    PRIMARY KEY (sender, manager_id, auto)
) WITHOUT ROWID;
INSERT INTO message_counts (sender, manager_id, auto, n)
    SELECT sender, coalesce(manager_id, ''), auto <> 0, count(*) FROM chat_messages
    GROUP BY 1, 2, 3;

-- ds: first_reply_secs * 10 rounded half away from zero, exactly as Rust's
-- f64::round (SQLite's round() adds 0.5 and truncates, which differs).
CREATE TABLE first_reply_hist (
    ds INTEGER PRIMARY KEY,                     -- tenths of a second
    n  INTEGER NOT NULL
);
INSERT INTO first_reply_hist (ds, n)
    SELECT CAST(x AS INTEGER) + (x - CAST(x AS INTEGER) >= 0.5) - (x - CAST(x AS INTEGER) <= -0.5),
           count(*)
    FROM (SELECT first_reply_secs * 10.0 AS x FROM chat_sessions WHERE first_reply_secs IS NOT NULL)
    GROUP BY 1;

CREATE TRIGGER session_counts_insert AFTER INSERT ON chat_sessions BEGIN
    INSERT INTO session_counts (status, manager_id, awaiting, has_messages, n)
    VALUES (new.status, coalesce(new.manager_id, ''), new.last_sender IS 'user',
            new.message_count > 0, 1)
    ON CONFLICT (status, manager_id, awaiting, has_messages) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER session_counts_update
AFTER UPDATE OF status, manager_id, last_sender, message_count ON chat_sessions
WHEN old.status IS NOT new.status OR old.manager_id IS NOT new.manager_id
     OR (old.last_sender IS 'user') <> (new.last_sender IS 'user')
     OR (old.message_count > 0) <> (new.message_count > 0)
BEGIN
    UPDATE session_counts SET n = n - 1
    WHERE status = old.status AND manager_id = coalesce(old.manager_id, '')
      AND awaiting = (old.last_sender IS 'user') AND has_messages = (old.message_count > 0);
    INSERT INTO session_counts (status, manager_id, awaiting, has_messages, n)
    VALUES (new.status, coalesce(new.manager_id, ''), new.last_sender IS 'user',
            new.message_count > 0, 1)
    ON CONFLICT (status, manager_id, awaiting, has_messages) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER session_counts_delete AFTER DELETE ON chat_sessions BEGIN
    UPDATE session_counts SET n = n - 1
    WHERE status = old.status AND manager_id = coalesce(old.manager_id, '')
      AND awaiting = (old.last_sender IS 'user') AND has_messages = (old.message_count > 0);
END;

CREATE TRIGGER message_counts_insert AFTER INSERT ON chat_messages BEGIN
    INSERT INTO message_counts (sender, manager_id, auto, n)
    VALUES (new.sender, coalesce(new.manager_id, ''), new.auto <> 0, 1)
    ON CONFLICT (sender, manager_id, auto) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER message_counts_update AFTER UPDATE OF sender, manager_id, auto ON chat_messages
WHEN old.sender IS NOT new.sender OR old.manager_id IS NOT new.manager_id
     OR (old.auto <> 0) <> (new.auto <> 0)
BEGIN
    UPDATE message_counts SET n = n - 1
    WHERE sender = old.sender AND manager_id = coalesce(old.manager_id, '')
      AND auto = (old.auto <> 0);
    INSERT INTO message_counts (sender, manager_id, auto, n)
    VALUES (new.sender, coalesce(new.manager_id, ''), new.auto <> 0, 1)
    ON CONFLICT (sender, manager_id, auto) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER message_counts_delete AFTER DELETE ON chat_messages BEGIN
    UPDATE message_counts SET n = n - 1
    WHERE sender = old.sender AND manager_id = coalesce(old.manager_id, '')
      AND auto = (old.auto <> 0);
END;

CREATE TRIGGER first_reply_hist_set AFTER UPDATE OF first_reply_secs ON chat_sessions
WHEN old.first_reply_secs IS NOT new.first_reply_secs
BEGIN
    UPDATE first_reply_hist SET n = n - 1
    WHERE old.first_reply_secs IS NOT NULL AND ds = (
        SELECT CAST(x AS INTEGER) + (x - CAST(x AS INTEGER) >= 0.5) - (x - CAST(x AS INTEGER) <= -0.5)
        FROM (SELECT old.first_reply_secs * 10.0 AS x));
    INSERT INTO first_reply_hist (ds, n)
    SELECT CAST(x AS INTEGER) + (x - CAST(x AS INTEGER) >= 0.5) - (x - CAST(x AS INTEGER) <= -0.5), 1
    FROM (SELECT new.first_reply_secs * 10.0 AS x) WHERE x IS NOT NULL
    ON CONFLICT (ds) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER first_reply_hist_delete AFTER DELETE ON chat_sessions
WHEN old.first_reply_secs IS NOT NULL
BEGIN
    UPDATE first_reply_hist SET n = n - 1 WHERE ds = (
        SELECT CAST(x AS INTEGER) + (x - CAST(x AS INTEGER) >= 0.5) - (x - CAST(x AS INTEGER) <= -0.5)
        FROM (SELECT old.first_reply_secs * 10.0 AS x));
END;
