-- Every chat message moves its ticket's last_seq. Free room on each page lets PostgreSQL
-- write the new row version beside the old one (a HOT update, no index entries) instead
-- of re-inserting it into every index on tickets. Applies to pages written from now on.
ALTER TABLE tickets SET (fillfactor = 85);
