DROP INDEX messages_search_idx;
CREATE INDEX messages_search_idx ON messages USING GIN (search);
DROP EXTENSION IF EXISTS btree_gin;
