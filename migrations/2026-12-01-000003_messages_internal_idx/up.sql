-- Internal notes by ticket, so a ticket's count of the messages a customer sees (all but
-- its internal notes; staff see every message, `last_seq` of them) never reads its whole
-- conversation. Only an internal note pays for this index when it is stored.
CREATE INDEX messages_internal_idx ON messages (ticket_id, seq) WHERE kind = 'internal';
