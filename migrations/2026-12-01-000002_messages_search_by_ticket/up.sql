-- The messages' search index also keys every message by its ticket, so a search can ask
-- one busy ticket "does any public message match?" from the index instead of reading
-- each of its messages. The ticket is indexed as the expression `ticket_id + 0`: only a
-- query spelling that expression can use it, so every other look-up by ticket (paging a
-- conversation, an ordinary ticket's search probe) keeps the (ticket_id, seq) b-tree.
-- A search on the text alone uses this index as it used the old one.
CREATE EXTENSION IF NOT EXISTS btree_gin;
DROP INDEX messages_search_idx;
CREATE INDEX messages_search_idx ON messages USING GIN ((ticket_id + 0), search);
