// Mirrors migrations/ in diesel print-schema layout; keep in sync when a migration changes.
// The generated tsvector `search` columns are left out: they are only read through SQL
// fragments in tickets::queries, never loaded into Rust.

diesel::table! {
    use diesel::sql_types::*;

    users (id) {
        id -> Int8,
        email -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Text,
        active -> Bool,
        token_version -> Int4,
        totp_secret -> Nullable<Text>,
        totp_enabled -> Bool,
        email_opt_out -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        last_seen_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    refresh_tokens (id) {
        id -> Int8,
        user_id -> Int8,
        family_id -> Uuid,
        token_hash -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    categories (id) {
        id -> Int8,
        parent_id -> Nullable<Int8>,
        name -> Text,
        description -> Text,
        position -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    ticket_counters (year) {
        year -> Int4,
        last_number -> Int4,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    tickets (id) {
        id -> Int8,
        number -> Text,
        title -> Text,
        description -> Text,
        status -> Text,
        priority -> Text,
        priority_rank -> Int2,
        category_id -> Nullable<Int8>,
        requester_id -> Int8,
        assignee_id -> Nullable<Int8>,
        last_seq -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        first_response_at -> Nullable<Timestamptz>,
        resolved_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
        first_response_due_at -> Nullable<Timestamptz>,
        resolution_due_at -> Nullable<Timestamptz>,
        first_response_breached_at -> Nullable<Timestamptz>,
        resolution_breached_at -> Nullable<Timestamptz>,
        escalated_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    ticket_tags (ticket_id, tag) {
        ticket_id -> Int8,
        tag -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    messages (id) {
        id -> Int8,
        ticket_id -> Int8,
        seq -> Int8,
        author_id -> Nullable<Int8>,
        kind -> Text,
        body -> Text,
        client_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        edited_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    ticket_reads (ticket_id, user_id) {
        ticket_id -> Int8,
        user_id -> Int8,
        last_read_seq -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    attachments (id) {
        id -> Int8,
        ticket_id -> Int8,
        message_id -> Nullable<Int8>,
        uploader_id -> Int8,
        filename -> Text,
        content_type -> Text,
        size_bytes -> Int8,
        storage_key -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    ticket_history (id) {
        id -> Int8,
        ticket_id -> Int8,
        actor_id -> Nullable<Int8>,
        field -> Text,
        old_value -> Nullable<Text>,
        new_value -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    time_entries (id) {
        id -> Int8,
        ticket_id -> Int8,
        user_id -> Int8,
        started_at -> Timestamptz,
        ended_at -> Nullable<Timestamptz>,
        duration_seconds -> Nullable<Int4>,
        note -> Text,
        manual -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    ticket_links (id) {
        id -> Int8,
        source_ticket_id -> Int8,
        target_ticket_id -> Int8,
        kind -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    ratings (ticket_id) {
        ticket_id -> Int8,
        user_id -> Int8,
        score -> Int2,
        comment -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    notifications (id) {
        id -> Int8,
        user_id -> Int8,
        kind -> Text,
        ticket_id -> Nullable<Int8>,
        title -> Text,
        body -> Text,
        created_at -> Timestamptz,
        read_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    outbox (id) {
        id -> Int8,
        channel -> Text,
        template -> Text,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        ticket_id -> Nullable<Int8>,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
        sent_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    sla_policies (priority) {
        priority -> Text,
        first_response_minutes -> Int4,
        resolution_minutes -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    settings (key) {
        key -> Text,
        value -> Jsonb,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    canned_responses (id) {
        id -> Int8,
        owner_id -> Nullable<Int8>,
        title -> Text,
        body -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    audit_log (id) {
        id -> Int8,
        actor_id -> Nullable<Int8>,
        action -> Text,
        target_type -> Text,
        target_id -> Nullable<Text>,
        details -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(tickets -> categories (category_id));
diesel::joinable!(ticket_tags -> tickets (ticket_id));
diesel::joinable!(messages -> tickets (ticket_id));
diesel::joinable!(messages -> users (author_id));
diesel::joinable!(ticket_reads -> tickets (ticket_id));
diesel::joinable!(attachments -> tickets (ticket_id));
diesel::joinable!(attachments -> messages (message_id));
diesel::joinable!(ticket_history -> tickets (ticket_id));
diesel::joinable!(ticket_history -> users (actor_id));
diesel::joinable!(time_entries -> tickets (ticket_id));
diesel::joinable!(time_entries -> users (user_id));
diesel::joinable!(ratings -> tickets (ticket_id));
diesel::joinable!(notifications -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    refresh_tokens,
    categories,
    ticket_counters,
    tickets,
    ticket_tags,
    messages,
    ticket_reads,
    attachments,
    ticket_history,
    time_entries,
    ticket_links,
    ratings,
    notifications,
    outbox,
    sla_policies,
    settings,
    canned_responses,
    audit_log,
);
