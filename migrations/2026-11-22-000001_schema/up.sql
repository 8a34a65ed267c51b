-- Relay Desk: the complete schema of SPEC §2.
-- Enumerations are text columns with CHECK constraints: readable in psql and in dumps,
-- and a new value is a one-line migration.

CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    email           TEXT NOT NULL,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL DEFAULT 'customer'
                    CHECK (role IN ('customer', 'technician', 'supervisor', 'admin')),
    password_hash   TEXT NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    -- Bumped on password change, role change, deactivation and logout-everywhere:
    -- access tokens carry it and stop working when it moves.
    token_version   INTEGER NOT NULL DEFAULT 0,
    totp_secret     TEXT,
    totp_enabled    BOOLEAN NOT NULL DEFAULT FALSE,
    email_opt_out   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at    TIMESTAMPTZ,
    CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    CHECK (length(name) BETWEEN 1 AND 120)
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_role_idx ON users (role) WHERE active;

CREATE TABLE refresh_tokens (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- All tokens rotated from one login share a family; reuse of a rotated token
    -- revokes the whole family.
    family_id   UUID NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

CREATE TABLE categories (
    id          BIGSERIAL PRIMARY KEY,
    parent_id   BIGINT REFERENCES categories (id) ON DELETE RESTRICT,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    description TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX categories_name_key ON categories (coalesce(parent_id, 0), lower(name));

-- Two levels only: a category's parent must itself be top-level, and a category with
-- children cannot become a child. Enforced here so no code path can break it.
CREATE FUNCTION categories_two_levels() RETURNS trigger AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM categories WHERE id = NEW.parent_id AND parent_id IS NOT NULL) THEN
            RAISE EXCEPTION 'category tree is two levels deep' USING ERRCODE = 'check_violation',
                CONSTRAINT = 'categories_two_levels';
        END IF;
        IF EXISTS (SELECT 1 FROM categories WHERE parent_id = NEW.id) THEN
            RAISE EXCEPTION 'category with children cannot be nested' USING ERRCODE = 'check_violation',
                CONSTRAINT = 'categories_two_levels';
        END IF;
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER categories_two_levels BEFORE INSERT OR UPDATE OF parent_id ON categories
    FOR EACH ROW EXECUTE FUNCTION categories_two_levels();

-- Per-year ticket number sequence. Incremented in the ticket's own transaction, so a
-- rolled-back ticket gives its number back: numbers are gap-free.
CREATE TABLE ticket_counters (
    year        INTEGER PRIMARY KEY,
    last_number INTEGER NOT NULL
);

CREATE TABLE tickets (
    id                      BIGSERIAL PRIMARY KEY,
    number                  TEXT NOT NULL UNIQUE CHECK (number ~ '^TICK-[0-9]{4}-[0-9]{4,}$'),
    title                   TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description             TEXT NOT NULL DEFAULT '',
    status                  TEXT NOT NULL DEFAULT 'open'
                            CHECK (status IN ('open', 'in_progress', 'pending', 'blocked', 'resolved', 'closed')),
    priority                TEXT NOT NULL DEFAULT 'medium'
                            CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    priority_rank           SMALLINT GENERATED ALWAYS AS (
                                CASE priority WHEN 'low' THEN 0 WHEN 'medium' THEN 1
                                              WHEN 'high' THEN 2 ELSE 3 END) STORED,
    category_id             BIGINT REFERENCES categories (id) ON DELETE RESTRICT,
    requester_id            BIGINT NOT NULL REFERENCES users (id),
    assignee_id             BIGINT REFERENCES users (id),
    -- Highest message seq handed out; bumped under the row lock of the posting transaction.
    last_seq                BIGINT NOT NULL DEFAULT 0,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    first_response_at       TIMESTAMPTZ,
    resolved_at             TIMESTAMPTZ,
    closed_at               TIMESTAMPTZ,
    first_response_due_at   TIMESTAMPTZ,
    resolution_due_at       TIMESTAMPTZ,
    first_response_breached_at TIMESTAMPTZ,
    resolution_breached_at  TIMESTAMPTZ,
    escalated_at            TIMESTAMPTZ,
    search                  TSVECTOR GENERATED ALWAYS AS (
                                setweight(to_tsvector('english', title), 'A') ||
                                setweight(to_tsvector('english', description), 'B')) STORED
);
CREATE INDEX tickets_search_idx ON tickets USING GIN (search);
CREATE INDEX tickets_created_idx ON tickets (created_at DESC, id DESC);
CREATE INDEX tickets_updated_idx ON tickets (updated_at DESC, id DESC);
CREATE INDEX tickets_priority_idx ON tickets (priority_rank DESC, id DESC);
CREATE INDEX tickets_status_idx ON tickets (status, created_at DESC);
CREATE INDEX tickets_requester_idx ON tickets (requester_id, created_at DESC);
CREATE INDEX tickets_assignee_idx ON tickets (assignee_id, status);
CREATE INDEX tickets_unassigned_idx ON tickets (created_at DESC) WHERE assignee_id IS NULL;
CREATE INDEX tickets_category_idx ON tickets (category_id);
CREATE INDEX tickets_sla_fr_idx ON tickets (first_response_due_at)
    WHERE first_response_at IS NULL AND first_response_breached_at IS NULL;
CREATE INDEX tickets_sla_res_idx ON tickets (resolution_due_at)
    WHERE resolved_at IS NULL AND closed_at IS NULL AND resolution_breached_at IS NULL;

CREATE TABLE ticket_tags (
    ticket_id   BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    tag         TEXT NOT NULL CHECK (tag ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
    PRIMARY KEY (ticket_id, tag)
);
CREATE INDEX ticket_tags_tag_idx ON ticket_tags (tag);

CREATE TABLE messages (
    id          BIGSERIAL PRIMARY KEY,
    ticket_id   BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL CHECK (seq > 0),
    author_id   BIGINT REFERENCES users (id),
    kind        TEXT NOT NULL CHECK (kind IN ('public', 'internal', 'system')),
    body        TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    client_id   UUID,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    edited_at   TIMESTAMPTZ,
    -- Only public text is searchable: internal notes never match a search.
    search      TSVECTOR GENERATED ALWAYS AS (
                    CASE WHEN kind = 'public' THEN to_tsvector('english', body) END) STORED,
    UNIQUE (ticket_id, seq)
);
CREATE UNIQUE INDEX messages_client_id_key ON messages (author_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX messages_search_idx ON messages USING GIN (search);

-- Per-user read state of a ticket's conversation (read receipts).
CREATE TABLE ticket_reads (
    ticket_id     BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_read_seq BIGINT NOT NULL DEFAULT 0,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (ticket_id, user_id)
);

CREATE TABLE attachments (
    id           BIGSERIAL PRIMARY KEY,
    ticket_id    BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    -- NULL: attached to the ticket itself (public); else it shares the message's visibility.
    message_id   BIGINT REFERENCES messages (id) ON DELETE CASCADE,
    uploader_id  BIGINT NOT NULL REFERENCES users (id),
    filename     TEXT NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    content_type TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL CHECK (size_bytes >= 0),
    storage_key  TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX attachments_ticket_idx ON attachments (ticket_id);
CREATE INDEX attachments_message_idx ON attachments (message_id);

-- Append-only: written in the same transaction as the change it records.
CREATE TABLE ticket_history (
    id          BIGSERIAL PRIMARY KEY,
    ticket_id   BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    actor_id    BIGINT REFERENCES users (id),
    field       TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ticket_history_ticket_idx ON ticket_history (ticket_id, id);
CREATE FUNCTION ticket_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ticket_history is append-only';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER ticket_history_append_only BEFORE UPDATE ON ticket_history
    FOR EACH ROW EXECUTE FUNCTION ticket_history_append_only();

CREATE TABLE time_entries (
    id               BIGSERIAL PRIMARY KEY,
    ticket_id        BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    user_id          BIGINT NOT NULL REFERENCES users (id),
    started_at       TIMESTAMPTZ NOT NULL,
    ended_at         TIMESTAMPTZ,
    duration_seconds INTEGER CHECK (duration_seconds >= 0),
    note             TEXT NOT NULL DEFAULT '',
    manual           BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (ended_at IS NULL OR ended_at >= started_at),
    CHECK ((ended_at IS NULL) = (duration_seconds IS NULL))
);
-- One running timer per user.
CREATE UNIQUE INDEX time_entries_running_key ON time_entries (user_id) WHERE ended_at IS NULL;
CREATE INDEX time_entries_ticket_idx ON time_entries (ticket_id);

CREATE TABLE ticket_links (
    id               BIGSERIAL PRIMARY KEY,
    source_ticket_id BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    target_ticket_id BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('blocks', 'relates', 'duplicates')),
    created_by       BIGINT REFERENCES users (id),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (source_ticket_id <> target_ticket_id),
    UNIQUE (source_ticket_id, target_ticket_id, kind)
);
CREATE INDEX ticket_links_target_idx ON ticket_links (target_ticket_id);

-- CSAT: one rating per ticket.
CREATE TABLE ratings (
    ticket_id   BIGINT PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    score       SMALLINT NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment     TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE notifications (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    ticket_id   BIGINT REFERENCES tickets (id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    read_at     TIMESTAMPTZ
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

-- Durable outbox for email and Slack, filled in the transaction of the event.
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'slack')),
    template        TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL,
    ticket_id       BIGINT REFERENCES tickets (id) ON DELETE SET NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    locked_until    TIMESTAMPTZ,
    sent_at         TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE sent_at IS NULL;

CREATE TABLE sla_policies (
    priority                TEXT PRIMARY KEY CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    first_response_minutes  INTEGER NOT NULL CHECK (first_response_minutes > 0),
    resolution_minutes      INTEGER NOT NULL CHECK (resolution_minutes > 0),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO sla_policies (priority, first_response_minutes, resolution_minutes) VALUES
    ('low', 1440, 10080), ('medium', 480, 4320), ('high', 120, 1440), ('urgent', 30, 240);

CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       JSONB NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO settings (key, value) VALUES
    ('auto_assign', '{"enabled": false, "max_open_per_agent": 10}'),
    ('require_totp_for_staff', 'false');

CREATE TABLE canned_responses (
    id          BIGSERIAL PRIMARY KEY,
    -- NULL owner: shared with all staff.
    owner_id    BIGINT REFERENCES users (id) ON DELETE CASCADE,
    title       TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    actor_id    BIGINT REFERENCES users (id),
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT,
    details     JSONB NOT NULL DEFAULT '{}',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_created_idx ON audit_log (created_at DESC);
