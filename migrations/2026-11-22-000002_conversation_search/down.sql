ALTER TABLE messages ADD COLUMN search TSVECTOR GENERATED ALWAYS AS (
    CASE WHEN kind = 'public' THEN to_tsvector('english', body) END) STORED;
CREATE INDEX messages_search_idx ON messages USING GIN (search);
DROP TRIGGER IF EXISTS messages_index_public_message ON messages;
DROP FUNCTION IF EXISTS tickets_index_public_message();
DROP INDEX IF EXISTS tickets_conversation_search_idx;
ALTER TABLE tickets DROP COLUMN IF EXISTS conversation_search;
