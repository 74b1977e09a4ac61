-- Migration 3: what live chat needs (issue "live chat that feels live").
-- * visitor_seen_seq / manager_seen_seq: the highest seq each side has seen
--   (POST .../seen); never moves backwards.
-- * change_seq: a stamp from one growing counter, set on every change to a
--   chat (new chat, message, status, assignment, contact, seen), so the
--   admin feed can ask "what changed after stamp N" with an index range.
ALTER TABLE chat_sessions ADD COLUMN visitor_seen_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chat_sessions ADD COLUMN manager_seen_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chat_sessions ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
-- Existing chats: distinct stamps in the order they last changed.
UPDATE chat_sessions SET change_seq = rowid;
CREATE INDEX chat_sessions_change ON chat_sessions(change_seq);
