-- Seeds the `rest` scenario's data set straight into PostgreSQL (the REST API would take
-- hours for a million tickets): :tickets tickets, :per_ticket messages each (every third
-- an internal note), 1,000 customers, spread over a year, words drawn so that common
-- and rare search terms both exist. Idempotent: does nothing when already seeded.
--   psql -v tickets=1000000 -v per_ticket=5 -f bench/seed_rest.sql
\set ON_ERROR_STOP on
SELECT count(*) >= :tickets AS seeded FROM tickets WHERE number LIKE 'TICK-2025-%' \gset
\if :seeded
\echo rest data already seeded
\else
INSERT INTO users (email, name, role, password_hash)
SELECT 'rest-c-' || i || '@bench.local', 'Rest Customer ' || i, 'customer',
       (SELECT password_hash FROM users WHERE email = 'admin@bench.local')
FROM generate_series(1, 1000) AS i
ON CONFLICT DO NOTHING;

CREATE TEMP TABLE cast_ids AS
SELECT (SELECT array_agg(id ORDER BY id) FROM users WHERE email LIKE 'rest-c-%') AS customers,
       (SELECT array_agg(id ORDER BY id) FROM users WHERE role = 'technician') AS techs,
       ARRAY['printer', 'laptop', 'vpn', 'email', 'password', 'screen', 'keyboard',
             'network', 'invoice', 'refund', 'battery', 'monitor', 'login', 'outlook',
             'wifi', 'server', 'backup', 'license', 'crash', 'slow', 'mouse', 'phone',
             'update', 'install', 'access', 'account', 'error', 'timeout', 'sync',
             'calendar'] AS words;

INSERT INTO tickets (number, title, description, status, priority, requester_id,
                     assignee_id, last_seq, created_at, updated_at)
SELECT 'TICK-2025-' || lpad(i::text, 7, '0'),
       initcap(w[1 + i % 30]) || ' ' || w[1 + (i / 30) % 30] || ' ' || w[1 + (i / 900) % 30]
           || CASE WHEN i % 10000 = 0 THEN ' kryptonite' ELSE '' END,
       'The ' || w[1 + (i / 7) % 30] || ' stopped working after the ' || w[1 + (i / 11) % 30]
           || ' change; ticket ' || i || '.',
       (ARRAY['open', 'in_progress', 'pending', 'blocked', 'resolved', 'closed'])[1 + i % 6],
       (ARRAY['low', 'medium', 'high', 'urgent'])[1 + (i / 7) % 4],
       c[1 + i % array_length(c, 1)],
       CASE WHEN i % 2 = 0 OR t IS NULL THEN NULL ELSE t[1 + i % array_length(t, 1)] END,
       :per_ticket,
       now() - make_interval(secs => (i::float8 / :tickets) * 31536000),
       now() - make_interval(secs => (i::float8 / :tickets) * 31536000) + interval '1 hour'
FROM generate_series(1, :tickets) AS i,
     LATERAL (SELECT customers AS c, techs AS t, words AS w FROM cast_ids) AS x;

INSERT INTO messages (ticket_id, seq, author_id, kind, body, created_at)
SELECT t.id, s, t.requester_id,
       CASE WHEN s % 3 = 0 THEN 'internal' ELSE 'public' END,
       'About the ' || w[1 + (t.id + s) % 30] || ': the ' || w[1 + (t.id * 7 + s) % 30]
           || ' shows an ' || w[1 + (t.id / 3 + s) % 30] || ' again (' || s || ').',
       t.created_at + make_interval(mins => s)
FROM tickets AS t
CROSS JOIN generate_series(1, :per_ticket) AS s
CROSS JOIN (SELECT words AS w FROM cast_ids) AS x
WHERE t.number LIKE 'TICK-2025-%';

-- Vacuumed and analyzed now, as autovacuum would soon after a bulk load: measured
-- queries must not share the machine with that autovacuum pass.
VACUUM (ANALYZE) tickets;
VACUUM (ANALYZE) messages;
\endif
