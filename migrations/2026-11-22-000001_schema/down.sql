DROP TABLE IF EXISTS audit_log, canned_responses, settings, sla_policies, outbox, notifications,
    ratings, ticket_links, time_entries, ticket_history, attachments, ticket_reads, messages,
    ticket_tags, tickets, ticket_counters, categories, refresh_tokens, users CASCADE;
DROP FUNCTION IF EXISTS ticket_history_append_only();
DROP FUNCTION IF EXISTS categories_two_levels();
