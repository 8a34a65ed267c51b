//! Ticket list: full-text search, every filter, sorts and cursor pagination.

use crate::common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn ids(v: &Value) -> Vec<i64> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

/// The ids of every page of the list query `path`, following `next_cursor` to the end.
async fn all_pages(app: &TestApp, token: &str, path: &str) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..500 {
        let mut p = path.to_owned();
        if let Some(c) = &cursor {
            p.push_str(&format!("&cursor={c}"));
        }
        let page = app.get(&p, token).await;
        seen.extend(ids(page.ok()));
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            return seen;
        }
    }
    panic!("{path}: pagination does not terminate");
}

#[actix_web::test]
async fn filters_and_full_text_search() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let admin = &cast.admin;
    let hw = app
        .post("/api/categories", &admin.token, json!({"name": "Hardware"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let laptops = app
        .post(
            "/api/categories",
            &admin.token,
            json!({"name": "Laptops", "parent_id": hw}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();

    let mk = |who: &TestUser, title: &str, desc: &str, priority: &str, cat: Option<i64>| {
        let body =
            json!({"title": title, "description": desc, "priority": priority, "category_id": cat});
        let token = who.token.clone();
        let app = &app;
        async move {
            app.post("/api/tickets", &token, body).await.ok()["id"]
                .as_i64()
                .unwrap()
        }
    };
    let printer = mk(
        &cast.customer,
        "Printer jams on page two",
        "paper feed",
        "low",
        None,
    )
    .await;
    let laptop = mk(
        &cast.customer,
        "Laptop battery swelling",
        "the case is bulging",
        "urgent",
        Some(laptops),
    )
    .await;
    let vpn = mk(
        &cast.other_customer,
        "VPN disconnects hourly",
        "tunnel drops",
        "high",
        Some(hw),
    )
    .await;
    app.message(
        &cast.tech,
        vpn,
        "Please reinstall the certificate bundle",
        false,
    )
    .await
    .ok();
    app.post(
        &format!("/api/tickets/{vpn}/assign"),
        &cast.tech.token,
        json!({"assignee_id": cast.tech.id}),
    )
    .await
    .ok();
    app.patch(
        &format!("/api/tickets/{printer}"),
        &cast.tech.token,
        json!({"status": "pending", "tags": ["paper"]}),
    )
    .await
    .ok();

    let t = &cast.tech.token;
    let q = |path: String| {
        let app = &app;
        async move { ids(app.get(&path, t).await.ok()) }
    };
    let set = |v: Vec<i64>| v.into_iter().collect::<BTreeSet<_>>();

    // Full text: stemming over title and description, and public messages.
    assert_eq!(q("/api/tickets?q=jammed".into()).await, vec![printer]);
    assert_eq!(q("/api/tickets?q=bulging".into()).await, vec![laptop]);
    assert_eq!(q("/api/tickets?q=certificate".into()).await, vec![vpn]);
    assert_eq!(
        q("/api/tickets?q=%22page%20two%22".into()).await,
        vec![printer]
    );
    assert!(q("/api/tickets?q=nonexistentword".into()).await.is_empty());

    assert_eq!(q("/api/tickets?status=pending".into()).await, vec![printer]);
    assert_eq!(
        set(q("/api/tickets?status=open,in_progress".into()).await),
        set(vec![laptop, vpn])
    );
    assert_eq!(
        set(q("/api/tickets?priority=high,urgent".into()).await),
        set(vec![laptop, vpn])
    );
    assert_eq!(
        set(q(format!("/api/tickets?category_id={hw}")).await),
        set(vec![laptop, vpn]),
        "includes subcategories"
    );
    assert_eq!(
        q(format!("/api/tickets?category_id={laptops}")).await,
        vec![laptop]
    );
    assert_eq!(
        q(format!("/api/tickets?assignee_id={}", cast.tech.id)).await,
        vec![vpn]
    );
    assert_eq!(
        set(q("/api/tickets?unassigned=true".into()).await),
        set(vec![printer, laptop])
    );
    assert_eq!(
        set(q(format!("/api/tickets?requester_id={}", cast.customer.id)).await),
        set(vec![printer, laptop])
    );
    assert_eq!(q("/api/tickets?tag=paper".into()).await, vec![printer]);
    let number = app.get(&format!("/api/tickets/{laptop}"), t).await.body["number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        q(format!("/api/tickets?number={number}")).await,
        vec![laptop]
    );
    let future = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339()
        .replace('+', "%2B");
    assert!(q(format!("/api/tickets?created_from={future}"))
        .await
        .is_empty());
    assert_eq!(
        q(format!("/api/tickets?created_to={future}")).await.len(),
        3
    );
    assert_eq!(
        q("/api/tickets?sort=-priority".into()).await,
        vec![laptop, vpn, printer]
    );
    assert_eq!(
        q("/api/tickets?sort=priority".into()).await,
        vec![printer, vpn, laptop]
    );
    assert_eq!(
        q("/api/tickets?sort=created_at".into()).await,
        vec![printer, laptop, vpn]
    );
    assert_eq!(
        q("/api/tickets".into()).await,
        vec![vpn, laptop, printer],
        "newest first by default"
    );
    app.stop().await;
}

#[actix_web::test]
async fn cursor_pagination_visits_every_ticket_once() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Many").await;
    let tech = app.user("technician", "Pager").await;
    let mut created = BTreeSet::new();
    for i in 0..23 {
        let p = ["low", "medium", "high", "urgent"][i % 4];
        let r = app
            .post(
                "/api/tickets",
                &c.token,
                json!({"title": format!("t{i}"), "priority": p}),
            )
            .await;
        created.insert(r.ok()["id"].as_i64().unwrap());
    }
    for sort in [
        "-created_at",
        "created_at",
        "-updated_at",
        "updated_at",
        "-priority",
        "priority",
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("/api/tickets?limit=5&sort={sort}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = app.get(&path, &tech.token).await;
            seen.extend(ids(page.ok()));
            pages += 1;
            match page.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
            assert!(pages < 10, "pagination does not terminate for {sort}");
        }
        assert_eq!(pages, 5, "{sort}");
        assert_eq!(seen.len(), 23, "{sort}: no duplicates");
        assert_eq!(
            seen.iter().copied().collect::<BTreeSet<_>>(),
            created,
            "{sort}: nothing missed"
        );
    }
    // A cursor from one sort is refused by another.
    let first = app
        .get("/api/tickets?limit=5&sort=priority", &tech.token)
        .await;
    let cur = first.body["next_cursor"].as_str().unwrap().to_owned();
    app.get(
        &format!("/api/tickets?limit=5&sort=-created_at&cursor={cur}"),
        &tech.token,
    )
    .await
    .expect_error(422, "validation_failed");
    app.stop().await;
}

/// A search is answered by two queries (title/description, public messages) merged by
/// the sort key: every page must still be the true next slice of one ordered result.
#[actix_web::test]
async fn search_pages_merge_title_and_message_matches_in_order() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Searcher").await;
    let tech = app.user("technician", "Finder").await;
    let mut expected = BTreeSet::new();
    for i in 0..14 {
        let title = if i % 2 == 0 {
            format!("Zebra crossing {i}")
        } else {
            format!("Plain ticket {i}")
        };
        let p = ["low", "medium", "high", "urgent"][i % 4];
        let id = app
            .post(
                "/api/tickets",
                &c.token,
                json!({"title": title, "priority": p}),
            )
            .await
            .ok()["id"]
            .as_i64()
            .unwrap();
        if i % 2 == 0 {
            expected.insert(id);
        }
        if i % 3 == 0 {
            // Public: found (and a title match as well for i = 0, 6, 12: once only).
            app.message(&c, id, "I saw a zebra near the printer", false)
                .await
                .ok();
            expected.insert(id);
        } else if i == 5 {
            // An internal note never makes a ticket match.
            app.message(&tech, id, "zebra mentioned internally", true)
                .await
                .ok();
        }
    }
    // Without statistics every term is probed in the index (the rare-term plan); after
    // ANALYZE "zebra" is known as common and each half walks in sort order instead.
    // Both plans must give the same pages.
    for analyzed in [false, true] {
        if analyzed {
            use diesel::RunQueryDsl;
            diesel::sql_query("ANALYZE tickets, messages")
                .execute(&mut app.conn())
                .unwrap();
        }
        for sort in [
            "-created_at",
            "created_at",
            "-updated_at",
            "updated_at",
            "-priority",
            "priority",
        ] {
            let all = ids(app
                .get(&format!("/api/tickets?limit=100&sort={sort}"), &tech.token)
                .await
                .ok());
            let want: Vec<i64> = all.into_iter().filter(|id| expected.contains(id)).collect();
            let seen = all_pages(
                &app,
                &tech.token,
                &format!("/api/tickets?q=zebra&limit=3&sort={sort}"),
            )
            .await;
            assert_eq!(
                seen, want,
                "{sort} (analyzed: {analyzed}): every match once, in the sort's order"
            );
        }
    }
    // The customer sees the same matches among their own tickets (all of them here).
    let mine = ids(app
        .get("/api/tickets?q=zebra&limit=100", &c.token)
        .await
        .ok());
    assert_eq!(mine.into_iter().collect::<BTreeSet<_>>(), expected);
    app.stop().await;
}

/// Busy tickets (more messages than `BUSY_TICKET`) are asked through the search index
/// instead of having each message read: the matches must be exactly those of an ordinary
/// ticket, wherever the matching message sits in the conversation, and still public only.
#[actix_web::test]
async fn busy_tickets_match_on_any_public_message_only() {
    use diesel::RunQueryDsl;
    use relay_desk::tickets::queries::BUSY_TICKET;
    let app = TestApp::start().await;
    let c = app.user("customer", "Talker").await;
    let tech = app.user("technician", "Reader").await;
    let other = app.user("customer", "Other").await;
    let busy = BUSY_TICKET + 20;
    // `fill` gives a ticket seqs `first..=busy` in one statement (the API would take far
    // longer), with every fourth an internal note, as in a real conversation, if `notes`.
    let fill = |ticket: i64, first: i64, filler: &str, notes: bool| {
        let kind = if notes {
            "CASE WHEN s % 4 = 0 THEN 'internal' ELSE 'public' END"
        } else {
            "'public'"
        };
        diesel::sql_query(format!(
            "INSERT INTO messages (ticket_id, seq, author_id, kind, body) \
             SELECT {ticket}, s, {}, {kind}, '{filler} ' || s \
             FROM generate_series({first}, {busy}) AS s",
            c.id
        ))
        .execute(&mut app.conn())
        .unwrap();
        diesel::sql_query(format!(
            "UPDATE tickets SET last_seq = {busy} WHERE id = {ticket}"
        ))
        .execute(&mut app.conn())
        .unwrap();
    };
    let ticket = |title: &'static str| {
        let app = &app;
        let c = &c;
        async move { app.ticket(c, title).await["id"].as_i64().unwrap() }
    };
    // A: busy, the word in most of its public messages.
    let a = ticket("Chat about the zoo").await;
    fill(a, 1, "the walrus tusk", true);
    // B: busy, the word only in an internal note (posted by staff, through the API).
    let b = ticket("Chat about the weather").await;
    fill(b, 1, "sunny spells", true);
    app.message(&tech, b, "a walrus was mentioned internally", true)
        .await
        .ok();
    // C: busy, no matching message, but the word in its title.
    let cc = ticket("Walrus in the title").await;
    fill(cc, 1, "nothing to see", true);
    // D: busy, one public match deep in its history (the first message of many).
    let d = ticket("Long conversation").await;
    app.message(&c, d, "my walrus printer jammed", false)
        .await
        .ok();
    fill(d, 2, "still waiting", false);
    // E: quiet, one public match posted through the API.
    let e = ticket("Short question").await;
    app.message(&c, e, "is the walrus ok?", false).await.ok();
    // F: quiet, no match. G: someone else's busy ticket with matches.
    let f = ticket("Nothing here").await;
    app.message(&c, f, "hello there", false).await.ok();
    let g = app.ticket(&other, "Their zoo chat").await["id"]
        .as_i64()
        .unwrap();
    fill(g, 1, "another walrus", true);

    let expected: BTreeSet<i64> = [a, cc, d, e, g].into();
    // Before ANALYZE the word is probed in the index (the rare-term plan); after it, the
    // statistics know it as common and the tickets are walked in sort order, the busy
    // ones asked through the index. Both must give the same answer.
    for analyzed in [false, true] {
        if analyzed {
            diesel::sql_query("ANALYZE tickets, messages")
                .execute(&mut app.conn())
                .unwrap();
            #[derive(diesel::QueryableByName)]
            struct Known {
                #[diesel(sql_type = diesel::sql_types::Bool)]
                known: bool,
            }
            let k: Vec<Known> = diesel::sql_query(
                "SELECT coalesce('walrus' = ANY(most_common_elems::text::text[]), false) AS known \
                 FROM pg_stats WHERE tablename = 'messages' AND attname = 'search'",
            )
            .load(&mut app.conn())
            .unwrap();
            assert!(
                k.first().is_some_and(|k| k.known),
                "the walk in sort order is the plan under test: the statistics must know the word"
            );
        }
        for sort in ["-created_at", "updated_at", "-priority"] {
            let all = ids(app
                .get(&format!("/api/tickets?limit=100&sort={sort}"), &tech.token)
                .await
                .ok());
            let want: Vec<i64> = all.into_iter().filter(|id| expected.contains(id)).collect();
            let got = ids(app
                .get(
                    &format!("/api/tickets?q=walrus&limit=100&sort={sort}"),
                    &tech.token,
                )
                .await
                .ok());
            assert_eq!(got, want, "{sort} (analyzed: {analyzed})");
            // Paged two at a time, the same tickets in the same order.
            let seen = all_pages(
                &app,
                &tech.token,
                &format!("/api/tickets?q=walrus&limit=2&sort={sort}"),
            )
            .await;
            assert_eq!(seen, want, "{sort} (analyzed: {analyzed}), paged");
        }
        // The customer sees only their own matches; a customer never matches on B's note.
        let mine: BTreeSet<i64> = ids(app
            .get("/api/tickets?q=walrus&limit=100", &c.token)
            .await
            .ok())
        .into_iter()
        .collect();
        assert_eq!(mine, [a, cc, d, e].into(), "analyzed: {analyzed}");
    }
    // Counts without reading the conversation: staff see every message, the customer
    // all but the internal notes (every fourth filler).
    let count = |v: &Value, id: i64| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .map(|t| t["message_count"].as_i64().unwrap())
    };
    let staff = app.get("/api/tickets?limit=100", &tech.token).await;
    let theirs = app.get("/api/tickets?limit=100", &c.token).await;
    assert_eq!(count(staff.ok(), a), Some(busy));
    assert_eq!(count(theirs.ok(), a), Some(busy - busy / 4));
    assert_eq!(
        count(staff.ok(), b),
        Some(busy + 1),
        "the note is counted for staff"
    );
    assert_eq!(count(theirs.ok(), b), Some(busy - busy / 4));
    assert_eq!(count(theirs.ok(), d), Some(busy), "all public");
    app.stop().await;
}

/// When the title half fills a page, the message half is only searched among the
/// tickets before that page's last row (rare words); common words are walked in
/// slices. Here the title matches are spread so that the first window is short one way
/// and long the other, with message matches before, between and after them, and both
/// words common alone but rare together: every page must still be the true next part
/// of the merged result, in every sort, with and without statistics, whether the pages
/// stop at the budget or not. Run with the default budget (slices of 1,000 tickets and
/// more, as time allows) and with one slice of 700 a page, whose edges fall between
/// matches.
#[actix_web::test]
async fn search_windows_and_slices_keep_every_match_in_order() {
    use relay_desk::config::SearchBudget;
    search_windows_case(None).await;
    search_windows_case(Some(SearchBudget {
        ms: 0,
        first_slice: 700,
    }))
    .await;
}

async fn search_windows_case(budget: Option<relay_desk::config::SearchBudget>) {
    use diesel::RunQueryDsl;
    use relay_desk::tickets::queries::{plans_for, Plan};
    const WALK_FIRST: i64 = 5000;
    let app = TestApp::start_with(|c| {
        if let Some(b) = budget {
            c.search = b;
        }
    })
    .await;
    let c = app.user("customer", "Windowed").await;
    let tech = app.user("technician", "Pager").await;
    // Ticket k is created k / 2 seconds before a fixed instant (so every two share a
    // time, and the id decides between them), with fillers in between: `WALK_FIRST +
    // 60` tickets, one message each.
    let n = WALK_FIRST + 60;
    let titled = [0, 2, 4, WALK_FIRST + 20]; // "walrus tusk" in the title
    let messaged = [1, 3, 10, WALK_FIRST + 10, WALK_FIRST + 41]; // in a public message
    let noted = 5; // only in an internal note: never a match
    let list = |ks: &[i64]| {
        ks.iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    for sql in [
        format!(
            "INSERT INTO tickets (number, title, requester_id, last_seq, created_at, updated_at) \
             SELECT 'TICK-2020-' || lpad(k::text, 6, '0'), \
                    CASE WHEN k IN ({}) THEN 'Walrus tusk sighting ' ELSE 'Filler ' END || k, \
                    {}, 1, timestamptz '2026-06-01' - make_interval(secs => k / 2), \
                    timestamptz '2026-06-01' - make_interval(secs => k / 2) \
             FROM generate_series(0, {}) AS k",
            list(&titled),
            c.id,
            n - 1
        ),
        // Each word alone in one filler of 30 (3% each, 0.1% together by the planner's
        // reckoning), both together only in the matches.
        format!(
            "INSERT INTO messages (ticket_id, seq, author_id, kind, body) \
             SELECT t.id, 1, {}, CASE WHEN k = {noted} THEN 'internal' ELSE 'public' END, \
                    CASE WHEN k IN ({}) THEN 'the walrus tusk is back' \
                         WHEN k = {noted} THEN 'walrus tusk, internally' \
                         WHEN k % 30 = 0 THEN 'a walrus was seen' \
                         WHEN k % 30 = 15 THEN 'a tusk was found' \
                         ELSE 'nothing to report' END \
             FROM tickets t, LATERAL (SELECT substr(t.number, 11)::bigint AS k) AS x \
             WHERE t.number LIKE 'TICK-2020-%'",
            c.id,
            list(&messaged)
        ),
    ] {
        diesel::sql_query(sql).execute(&mut app.conn()).unwrap();
    }
    let id_at = |k: i64| -> i64 { ticket_ids(&app, &format!("number = 'TICK-2020-{k:06}'"))[0] };
    // Ids grow with k (one insert, in order of k).
    let matches: Vec<i64> = titled.iter().chain(&messaged).copied().collect();
    let ordered = |key: fn(&i64) -> (i64, i64)| {
        let mut ks = matches.clone();
        ks.sort_by_key(key);
        ks.into_iter().map(id_at).collect::<Vec<i64>>()
    };
    // Newest first: by time, then the higher id; oldest first is the exact reverse.
    let newest_first = ordered(|k| (k / 2, -k));
    let oldest_first: Vec<i64> = newest_first.iter().rev().copied().collect();
    let id_desc = ordered(|k| (-k, 0));
    let id_asc = ordered(|k| (*k, 0));
    for analyzed in [false, true] {
        if analyzed {
            diesel::sql_query("ANALYZE tickets, messages")
                .execute(&mut app.conn())
                .unwrap();
        }
        // Without statistics the index is asked; with them, the words are known as
        // common alone and not together: the plan this test is about.
        let plan = plans_for(&mut app.conn(), "walrus tusk").unwrap().messages;
        let want_plan = if analyzed {
            Plan::CommonWords
        } else {
            Plan::Probe
        };
        assert_eq!(plan, want_plan, "analyzed: {analyzed}");
        // Every ticket has the same priority, so the priority sorts follow the id;
        // `updated_at` equals `created_at` here.
        for (sort, want) in [
            ("-created_at", &newest_first),
            ("created_at", &oldest_first),
            ("-updated_at", &newest_first),
            ("updated_at", &oldest_first),
            ("-priority", &id_desc),
            ("priority", &id_asc),
        ] {
            // Newest first, the first page's window is short (walked outright) with
            // limit 1 and 2, long (the index, within it) with 3; oldest first, long;
            // 100: no window.
            for limit in [1, 2, 3, 100] {
                let seen = all_pages(
                    &app,
                    &tech.token,
                    &format!("/api/tickets?q=walrus%20tusk&limit={limit}&sort={sort}"),
                )
                .await;
                assert_eq!(
                    &seen, want,
                    "{sort}, limit {limit} (analyzed: {analyzed}, budget {budget:?}): every match once, in order"
                );
            }
        }
    }
    app.stop().await;
}

#[derive(diesel::QueryableByName)]
struct Pending {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    tuples: i64,
}

/// Entries waiting in the pending list of the messages' search index.
fn pending_messages(conn: &mut diesel::PgConnection) -> i64 {
    use diesel::RunQueryDsl;
    diesel::sql_query(
        "SELECT pending_tuples::bigint AS tuples FROM pgstatginindex('messages_search_idx')",
    )
    .get_result::<Pending>(conn)
    .unwrap()
    .tuples
}

/// The tickets `q` finds for `token`.
async fn found(app: &TestApp, token: &str, q: &str) -> Vec<i64> {
    ids(app.get(format!("/api/tickets?q={q}"), token).await.ok())
}

#[actix_web::test]
async fn search_index_upkeep_moves_new_messages_into_the_index_and_they_stay_found() {
    use diesel::RunQueryDsl;
    use relay_desk::db::upkeep;
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let t = app.ticket(&cast.customer, "Dock issue").await["id"]
        .as_i64()
        .unwrap();
    let mut conn = app.conn();
    diesel::sql_query("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        .execute(&mut conn)
        .unwrap();
    for i in 0..20 {
        let r = app
            .message(
                &cast.customer,
                t,
                &format!("the zebracorn dock flickers ({i})"),
                false,
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    // New messages wait in the pending list, and a search reads it.
    assert!(pending_messages(&mut conn) >= 20);
    assert_eq!(found(&app, &cast.tech.token, "zebracorn").await, vec![t]);

    // While another instance holds the upkeep lock, this one does not queue behind it.
    let mut other = app.conn();
    diesel::sql_query("BEGIN").execute(&mut other).unwrap();
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('relay-desk:search-upkeep'))")
        .execute(&mut other)
        .unwrap();
    assert_eq!(upkeep::flush_search_indexes(&mut conn).unwrap(), 0);
    assert!(pending_messages(&mut conn) >= 20, "the list was left alone");
    diesel::sql_query("COMMIT").execute(&mut other).unwrap();

    // Then it moves the list into the index proper: nothing pending, still found.
    assert!(upkeep::flush_search_indexes(&mut conn).unwrap() > 0);
    assert_eq!(pending_messages(&mut conn), 0);
    assert_eq!(found(&app, &cast.tech.token, "zebracorn").await, vec![t]);
    assert_eq!(upkeep::flush_search_indexes(&mut conn).unwrap(), 0);

    // The background job does the same on its own, for messages posted after it started.
    upkeep::spawn(app.state.pool.clone(), std::time::Duration::from_millis(50));
    let u = app.ticket(&cast.customer, "Second dock").await["id"]
        .as_i64()
        .unwrap();
    for i in 0..5 {
        app.message(
            &cast.customer,
            u,
            &format!("another zebracorn ({i})"),
            false,
        )
        .await;
    }
    let mut left = pending_messages(&mut conn);
    for _ in 0..100 {
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        left = pending_messages(&mut conn);
    }
    assert_eq!(left, 0, "the job moved the pending list");
    let mut both = found(&app, &cast.tech.token, "zebracorn").await;
    both.sort_unstable();
    assert_eq!(both, vec![t, u]);
    drop(conn);
    drop(other);
    app.stop().await;
}

/// The page of a search that runs out of its budget holds the matches among the tickets
/// searched so far, says so (`partial`), and its cursor searches on from the last ticket
/// searched, not the last match: following the cursors finds every match once, in
/// order. With a budget of 0 every page is one slice, here of 4 tickets.
#[actix_web::test]
async fn search_out_of_budget_returns_the_slice_searched_and_resumes_after_it() {
    let app = budgeted(0, 4).await;
    let c = app.user("customer", "Sliced").await;
    let tech = app.user("technician", "Slicer").await;
    // t[0] is the oldest. The word: in the titles of t[9] and t[8], a public message of
    // t[4], the description of t[1]; only an internal note of t[6] (never a match).
    let mut t = Vec::new();
    for i in 0..10 {
        let (title, description) = match i {
            9 | 8 => (format!("Okapi sighting {i}"), "seen at dawn".to_owned()),
            1 => (
                format!("Ticket {i}"),
                "an okapi in the server room".to_owned(),
            ),
            _ => (format!("Ticket {i}"), "nothing special".to_owned()),
        };
        // Priorities in runs, so that slices of four both stay within a priority and
        // cross from one to the next in the priority sorts.
        let priority = [
            "low", "low", "low", "high", "high", "urgent", "urgent", "urgent",
        ][i % 8];
        let id = app
            .post(
                "/api/tickets",
                &c.token,
                json!({"title": title, "description": description, "priority": priority}),
            )
            .await
            .ok()["id"]
            .as_i64()
            .unwrap();
        t.push(id);
    }
    app.message(&c, t[4], "the okapi is back", false).await.ok();
    app.message(&tech, t[6], "okapi, internally", true)
        .await
        .ok();

    // Newest first, one match a page: the slices are t9..t6, t5..t2, t1..t0. The same
    // for staff and for the customer (whose own tickets are a filter: each slice's
    // tickets are found first, then searched).
    for token in [&tech.token, &c.token] {
        let page = |cursor: Option<String>| {
            let app = &app;
            let token = token.clone();
            async move {
                let mut p = "/api/tickets?q=okapi&limit=1".to_owned();
                if let Some(c) = cursor {
                    p.push_str(&format!("&cursor={c}"));
                }
                let r = app.get(&p, &token).await;
                let body = r.ok().clone();
                (
                    ids(&body),
                    body["partial"].as_bool().unwrap(),
                    body["next_cursor"].as_str().map(str::to_owned),
                )
            }
        };
        // t9..t6 holds two matches: a full page, its cursor at t9 as usual.
        let (items, partial, next) = page(None).await;
        assert_eq!((items, partial), (vec![t[9]], false), "a full page");
        // From t8: t8..t5 holds t8 only; the slice ends at t5, so the page is partial and
        // its cursor searches on from t5.
        let (items, partial, next) = page(next).await;
        assert_eq!((items, partial), (vec![t[8]], true), "the slice t8..t5");
        assert!(next.is_some());
        // t4..t1: t4 (a message) and t1 (a description): a full page again.
        let (items, partial, next) = page(next).await;
        assert_eq!((items, partial), (vec![t[4]], false), "the slice t4..t1");
        // From t4: t3..t0 is the end of the list: t1, and no cursor.
        let (items, partial, next) = page(next).await;
        assert_eq!(
            (items, partial, next),
            (vec![t[1]], false, None),
            "the last slice"
        );
    }

    // A slice with no match is an empty page that is not the end: oldest first, the
    // titles of t8 and t9 only; t0..t3 and t4..t7 hold neither.
    let sighting = |cursor: Option<String>| {
        let app = &app;
        let token = tech.token.clone();
        async move {
            let mut p = "/api/tickets?q=sighting&limit=1&sort=created_at".to_owned();
            if let Some(c) = cursor {
                p.push_str(&format!("&cursor={c}"));
            }
            let body = app.get(&p, &token).await.ok().clone();
            (
                ids(&body),
                body["partial"].as_bool().unwrap(),
                body["next_cursor"].as_str().map(str::to_owned),
            )
        }
    };
    let (items, partial, next) = sighting(None).await;
    assert_eq!((items, partial), (vec![], true), "t0..t3: nothing yet");
    let (items, partial, next) = sighting(next).await;
    assert_eq!((items, partial), (vec![], true), "t4..t7: nothing yet");
    let (items, partial, next) = sighting(next).await;
    assert_eq!((items, partial), (vec![t[8]], false), "t8, t9: a full page");
    let (items, partial, next) = sighting(next).await;
    assert_eq!((items, partial, next), (vec![t[9]], false, None), "the end");

    // Oldest first, two a page, and every page at once: every match once, in order,
    // whatever the slices.
    let all = all_pages(
        &app,
        &tech.token,
        "/api/tickets?q=okapi&limit=2&sort=created_at",
    )
    .await;
    assert_eq!(all, vec![t[1], t[4], t[8], t[9]]);
    let all = all_pages(&app, &tech.token, "/api/tickets?q=okapi&limit=100").await;
    assert_eq!(all, vec![t[9], t[8], t[4], t[1]]);
    // By priority (a slice may stay within a priority or cross into the next): the
    // matches in the order of the unsearched list, one and two a page.
    let matches = [t[9], t[8], t[4], t[1]];
    // With a filter every ticket passes (`status=open`), each slice's tickets are
    // found first, then searched: the same answer.
    for (sort, filter) in [
        ("-priority", ""),
        ("priority", ""),
        ("-priority", "&status=open"),
        ("priority", "&status=open"),
    ] {
        let want: Vec<i64> = all_pages(
            &app,
            &tech.token,
            &format!("/api/tickets?limit=3&sort={sort}"),
        )
        .await
        .into_iter()
        .filter(|id| matches.contains(id))
        .collect();
        assert_eq!(want.len(), 4);
        for limit in [1, 2] {
            let got = all_pages(
                &app,
                &tech.token,
                &format!("/api/tickets?q=okapi&limit={limit}&sort={sort}{filter}"),
            )
            .await;
            assert_eq!(got, want, "{sort}{filter}, limit {limit}");
        }
    }
    // The customer's own list is sliced the same way and finds the same tickets.
    let mine = all_pages(&app, &c.token, "/api/tickets?q=okapi&limit=1").await;
    assert_eq!(mine, vec![t[9], t[8], t[4], t[1]]);
    app.stop().await;
}

/// A search of words the statistics do not know runs its exact plan, each statement
/// under a timeout of half the budget (and a grace of half again). Here the plan cannot
/// finish in 2 ms (a phrase of two words that 20,000 tickets hold, three of them in this
/// order): PostgreSQL cancels it, the search answers in slices instead, and following
/// the cursors still finds the three, in order. No error, and the connection is fine
/// for the next request.
#[actix_web::test]
async fn search_whose_exact_plan_times_out_answers_in_slices() {
    use diesel::RunQueryDsl;
    let app = budgeted(2, 2500).await;
    let c = app.user("customer", "Timed").await;
    let tech = app.user("technician", "Timer").await;
    let n = 20_000;
    let matching = [150, 9_000, 19_990];
    // No statistics, so the words stay unknown (the exact plan is the one tried).
    for sql in [
        "ALTER TABLE tickets SET (autovacuum_enabled = false)".to_owned(),
        format!(
            "INSERT INTO tickets (number, title, description, requester_id, last_seq, \
                                  created_at, updated_at) \
             SELECT 'TICK-2021-' || lpad(k::text, 6, '0'), 'Ticket ' || k, \
                    CASE WHEN k IN ({}) THEN 'the quokka jumped over' \
                         ELSE 'a jumped wombat, a quokka' END, \
                    {}, 0, timestamptz '2026-06-01' - make_interval(secs => k), \
                    timestamptz '2026-06-01' - make_interval(secs => k) \
             FROM generate_series(0, {}) AS k",
            matching.map(|k| k.to_string()).join(","),
            c.id,
            n - 1
        ),
    ] {
        diesel::sql_query(sql).execute(&mut app.conn()).unwrap();
    }
    let first = app
        .get("/api/tickets?q=%22quokka%20jumped%22&limit=5", &tech.token)
        .await;
    let first = first.ok();
    assert_eq!(first["partial"], true, "{first}");
    let all = all_pages(
        &app,
        &tech.token,
        "/api/tickets?q=%22quokka%20jumped%22&limit=5",
    )
    .await;
    let want = ticket_ids(&app, "description LIKE 'the quokka%'");
    assert_eq!(want.len(), 3);
    assert_eq!(all, want, "every match once, newest first");
    app.stop().await;
}

/// A slice that cannot finish within the budget is cut by PostgreSQL, not waited for:
/// here the first slice is all 4,000 tickets and the budget 2 ms, for a search of two
/// words that every ticket holds (common, so no index probe) that four tickets match
/// (`-wombat`). The page comes back partial, with the one match among the small slice
/// searched instead (the newest 100 tickets), and following its cursors still finds the
/// four, in order.
#[actix_web::test]
async fn a_slice_over_the_budget_is_cut_and_the_search_moves_on() {
    use diesel::RunQueryDsl;
    let app = budgeted(2, 4_000).await;
    let c = app.user("customer", "Sliced").await;
    let tech = app.user("technician", "Slicer").await;
    let matching = [50, 1_500, 2_999, 3_990];
    for sql in [
        format!(
            "INSERT INTO tickets (number, title, description, requester_id, last_seq, \
                                  created_at, updated_at) \
             SELECT 'TICK-2021-' || lpad(k::text, 6, '0'), 'Ticket ' || k, \
                    CASE WHEN k IN ({}) THEN 'a capybara' ELSE 'a capybara, a wombat' END, \
                    {}, 0, timestamptz '2026-06-01' - make_interval(secs => k), \
                    timestamptz '2026-06-01' - make_interval(secs => k) \
             FROM generate_series(0, 3999) AS k",
            matching.map(|k| k.to_string()).join(","),
            c.id,
        ),
        "ANALYZE tickets, messages".to_owned(),
    ] {
        diesel::sql_query(sql).execute(&mut app.conn()).unwrap();
    }
    let plans =
        relay_desk::tickets::queries::plans_for(&mut app.conn(), "capybara -wombat").unwrap();
    assert_eq!(
        plans.tickets,
        relay_desk::tickets::queries::Plan::Walk,
        "the slices are the plan under test: the statistics must call the words common"
    );
    let want = ticket_ids(&app, "description = 'a capybara'");
    assert_eq!(want.len(), 4);
    let path = "/api/tickets?q=capybara%20-wombat&limit=10";
    // Staff walk the list's order; the customer's own tickets are a filter, found first.
    for token in [&tech.token, &c.token] {
        let first = app.get(path, token).await;
        let first = first.ok();
        assert_eq!(first["partial"], true, "{first}");
        assert_eq!(
            ids(first),
            want[..1].to_vec(),
            "the match among the newest 100"
        );
        assert!(first["next_cursor"].is_string(), "{first}");
        let all = all_pages(&app, token, path).await;
        assert_eq!(all, want, "every match once, newest first");
    }
    app.stop().await;
}

/// With time to spare, slices grow from a tiny first one until the page is full: the
/// pages are whole, never partial, and hold every match in order.
#[actix_web::test]
async fn slices_grow_while_the_budget_lasts() {
    let app = budgeted(60_000, 1).await;
    let c = app.user("customer", "Grower").await;
    let mut want = Vec::new();
    for i in 0..12 {
        let title = if i % 3 == 0 {
            format!("Capybara report {i}")
        } else {
            format!("Routine {i}")
        };
        let id = app.ticket(&c, &title).await["id"].as_i64().unwrap();
        if i % 3 == 0 {
            want.insert(0, id);
        }
    }
    // Common enough for the statistics, so the slices answer (not the index probe).
    {
        use diesel::RunQueryDsl;
        diesel::sql_query("ANALYZE tickets, messages")
            .execute(&mut app.conn())
            .unwrap();
    }
    let plans = relay_desk::tickets::queries::plans_for(&mut app.conn(), "capybara").unwrap();
    assert_ne!(
        plans.tickets,
        relay_desk::tickets::queries::Plan::Probe,
        "the slices are the plan under test: the statistics must know the word"
    );
    let first = app.get("/api/tickets?q=capybara&limit=3", &c.token).await;
    let first = first.ok();
    assert_eq!(first["partial"], false, "{first}");
    assert_eq!(ids(first), want[..3].to_vec());
    let all = all_pages(&app, &c.token, "/api/tickets?q=capybara&limit=3").await;
    assert_eq!(all, want);
    app.stop().await;
}

/// The ids of the tickets `condition` (SQL) holds for, newest first.
fn ticket_ids(app: &TestApp, condition: &str) -> Vec<i64> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    diesel::sql_query(format!(
        "SELECT id FROM tickets WHERE {condition} ORDER BY created_at DESC"
    ))
    .load::<Id>(&mut app.conn())
    .unwrap()
    .into_iter()
    .map(|r| r.id)
    .collect()
}

/// A server whose search pages have `ms` of budget and a first slice of `first_slice`.
async fn budgeted(ms: u64, first_slice: i64) -> TestApp {
    TestApp::start_with(move |c| c.search = relay_desk::config::SearchBudget { ms, first_slice })
        .await
}
