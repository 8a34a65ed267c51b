DROP INDEX messages_internal_idx;
