-- Migration 7: search as index lookups, with SQLite FTS5's trigram
-- tokenizer (any substring of 3+ characters, any alphabet).
--
-- * session_search indexes the lower-cased name and the phone's digits
--   (already folded at write time, so case_sensitive 1 keeps the old
--   instr() meaning exactly). Its rowid is chat_sessions.search_rowid, a
--   number given once per chat: chat_sessions' own rowid is not stable
--   (VACUUM may renumber a table without an INTEGER PRIMARY KEY).
-- * message_search indexes message_text, case-insensitively; it is an
--   external-content index over chat_messages (rowid = seq), so the text
--   is not stored twice.
-- Triggers keep both in the transaction of each write.

ALTER TABLE chat_sessions ADD COLUMN search_rowid INTEGER;
UPDATE chat_sessions SET search_rowid = rowid;
CREATE UNIQUE INDEX chat_sessions_search_rowid ON chat_sessions(search_rowid);
-- What a search needs of each chat it finds by name or phone (to filter
-- and sort, and to leave out chats without a message), without reading
-- the chat's row: 3,600 hits for a common name fragment read 3,600
-- scattered table pages otherwise.
CREATE INDEX chat_sessions_search_listing
    ON chat_sessions(search_rowid, id, updated_at, status, manager_id, last_sender,
                     message_count);

CREATE VIRTUAL TABLE session_search USING fts5(
    name_folded, phone_digits,
    content = 'chat_sessions', content_rowid = 'search_rowid',
    tokenize = 'trigram case_sensitive 1', columnsize = 0);
INSERT INTO session_search (session_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE message_search USING fts5(
    message_text,
    content = 'chat_messages', content_rowid = 'seq',
    tokenize = 'trigram case_sensitive 0', columnsize = 0);
-- Pending index data is flushed as a new segment every 4 MiB instead of
-- 1 MiB: a bulk load (this rebuild, demo-data) then merges a quarter as
-- many segments (15% less CPU for a million messages). A server
-- transaction holds one message, so its memory does not change.
INSERT INTO message_search (message_search, rank) VALUES ('hashsize', 4194304);
INSERT INTO message_search (message_search) VALUES ('rebuild');

CREATE TRIGGER session_search_insert AFTER INSERT ON chat_sessions BEGIN
    UPDATE chat_sessions
    SET search_rowid = (SELECT coalesce(max(search_rowid), 0) + 1 FROM chat_sessions)
    WHERE id = new.id AND search_rowid IS NULL;
    INSERT INTO session_search (rowid, name_folded, phone_digits)
    SELECT search_rowid, name_folded, phone_digits FROM chat_sessions WHERE id = new.id;
END;
CREATE TRIGGER session_search_update AFTER UPDATE OF name_folded, phone_digits ON chat_sessions BEGIN
    INSERT INTO session_search (session_search, rowid, name_folded, phone_digits)
    VALUES ('delete', old.search_rowid, old.name_folded, old.phone_digits);
    INSERT INTO session_search (rowid, name_folded, phone_digits)
    VALUES (new.search_rowid, new.name_folded, new.phone_digits);
END;
CREATE TRIGGER session_search_delete AFTER DELETE ON chat_sessions BEGIN
    INSERT INTO session_search (session_search, rowid, name_folded, phone_digits)
    VALUES ('delete', old.search_rowid, old.name_folded, old.phone_digits);
END;

CREATE TRIGGER message_search_insert AFTER INSERT ON chat_messages BEGIN
    INSERT INTO message_search (rowid, message_text) VALUES (new.seq, new.message_text);
END;
CREATE TRIGGER message_search_update AFTER UPDATE OF message_text ON chat_messages BEGIN
    INSERT INTO message_search (message_search, rowid, message_text)
    VALUES ('delete', old.seq, old.message_text);
    INSERT INTO message_search (rowid, message_text) VALUES (new.seq, new.message_text);
END;
CREATE TRIGGER message_search_delete AFTER DELETE ON chat_messages BEGIN
    INSERT INTO message_search (message_search, rowid, message_text)
    VALUES ('delete', old.seq, old.message_text);
END;
