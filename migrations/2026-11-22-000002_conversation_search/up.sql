-- Full-text search over a ticket's public conversation, kept on the ticket row, so one
-- pair of GIN indexes answers "the title, the description or any public message
-- matches". Before, a word found in few tickets meant walking every ticket and probing
-- its messages (hundreds of ms at a million tickets). Internal notes are never added:
-- they stay unsearchable, as before.
ALTER TABLE tickets ADD COLUMN conversation_search TSVECTOR NOT NULL DEFAULT ''::tsvector;

UPDATE tickets AS t
SET conversation_search = to_tsvector('english', m.text)
FROM (SELECT ticket_id, string_agg(body, ' ' ORDER BY seq) AS text
      FROM messages WHERE kind = 'public' GROUP BY ticket_id) AS m
WHERE m.ticket_id = t.id;

CREATE INDEX tickets_conversation_search_idx ON tickets USING GIN (conversation_search);

-- Every public message is appended in the transaction that stores it (the posting
-- transaction already holds the ticket's row lock). A tsvector is capped at 1 MB: past
-- half of that, an endless conversation stops growing its index rather than failing
-- to store messages.
CREATE FUNCTION tickets_index_public_message() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tickets
    SET conversation_search = conversation_search || to_tsvector('english', NEW.body)
    WHERE id = NEW.ticket_id AND pg_column_size(conversation_search) < 524288;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_index_public_message
AFTER INSERT ON messages
FOR EACH ROW WHEN (NEW.kind = 'public')
EXECUTE FUNCTION tickets_index_public_message();

-- The per-message vector and its index are no longer read: dropping them saves a
-- tokenisation and a GIN insert on every message stored.
DROP INDEX messages_search_idx;
ALTER TABLE messages DROP COLUMN search;
