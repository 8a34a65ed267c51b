//! Numbering, idempotency and `seq` under real concurrency (many requests in flight on
//! a multi-worker server against one PostgreSQL).

use crate::common::*;
use diesel::prelude::*;
use futures_util::future::join_all;
use serde_json::json;
use std::collections::BTreeSet;

#[actix_web::test]
async fn fifty_concurrent_tickets_get_fifty_gap_free_numbers() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Busy").await;
    let results = join_all((0..50).map(|i| {
        app.post(
            "/api/tickets",
            &c.token,
            json!({"title": format!("ticket {i}")}),
        )
    }))
    .await;
    let year = chrono::Utc::now().format("%Y").to_string();
    let numbers: BTreeSet<String> = results
        .iter()
        .map(|r| {
            assert_eq!(r.status, 201, "{}", r.body);
            r.body["number"].as_str().unwrap().to_owned()
        })
        .collect();
    let expected: BTreeSet<String> = (1..=50).map(|n| format!("TICK-{year}-{n:04}")).collect();
    assert_eq!(numbers, expected);
    app.stop().await;
}

#[actix_web::test]
async fn ten_retries_of_one_client_id_store_one_message() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Retry").await;
    let t = app.ticket(&c, "retries").await;
    let path = format!("/api/tickets/{}/messages", t["id"]);
    let client_id = uuid::Uuid::new_v4();
    let body = json!({"body": "sent once, retried often", "client_id": client_id});
    let results = join_all((0..10).map(|_| app.post(&path, &c.token, body.clone()))).await;
    let ids: BTreeSet<i64> = results
        .iter()
        .map(|r| r.ok()["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "every retry returns the same message");
    let created = results.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1, "exactly one request created it");
    let list = app.get(&path, &c.token).await;
    assert_eq!(list.ok()["items"].as_array().unwrap().len(), 1);
    assert_eq!(results[0].body["client_id"], json!(client_id));
    assert_eq!(results[0].body["seq"], 1);

    // The same client_id on another ticket is a conflict, not a silent duplicate.
    let t2 = app.ticket(&c, "other").await;
    app.post(
        &format!("/api/tickets/{}/messages", t2["id"]),
        &c.token,
        body,
    )
    .await
    .expect_error(409, "client_id_conflict");
    app.stop().await;
}

#[actix_web::test]
async fn seq_is_strictly_increasing_and_gap_free_under_concurrent_posts() {
    let app = TestApp::start().await;
    let c = app.user("customer", "Chatty").await;
    let tech = app.user("technician", "Fast").await;
    let t = app.ticket(&c, "busy conversation").await;
    let id = t["id"].as_i64().unwrap();
    let bodies: Vec<String> = (0..40).map(|i| format!("message {i}")).collect();
    let posts = bodies.iter().enumerate().map(|(i, body)| {
        let who = if i % 2 == 0 { &c } else { &tech };
        let internal = i % 4 == 1;
        app.message(who, id, body, internal)
    });
    let results = join_all(posts).await;
    let seqs: BTreeSet<i64> = results
        .iter()
        .map(|r| r.ok()["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=40).collect::<BTreeSet<i64>>());

    let list = app
        .get(
            &format!("/api/tickets/{id}/messages?limit=500"),
            &tech.token,
        )
        .await;
    let listed = page_seqs(&list);
    assert_eq!(
        listed,
        (1..=40).collect::<Vec<i64>>(),
        "listed in seq order"
    );
    // Paging with after_seq walks the same sequence.
    let page = app
        .get(
            &format!("/api/tickets/{id}/messages?after_seq=35&limit=3"),
            &tech.token,
        )
        .await;
    let s = page_seqs(&page);
    assert_eq!(s, vec![36, 37, 38]);
    assert_eq!(page.body["has_more"], true);
    let back = app
        .get(
            &format!("/api/tickets/{id}/messages?before_seq=4"),
            &tech.token,
        )
        .await;
    let s = page_seqs(&back);
    assert_eq!(s, vec![1, 2, 3]);
    app.stop().await;
}

/// Reads one counter of this instance from `/metrics`.
async fn metric(app: &TestApp, name: &str) -> u64 {
    let m = app.send("GET", "/metrics", None, None).await;
    let text = m.body.as_str().unwrap().to_owned();
    let prefix = format!("{name}{{instance=\"test\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .parse()
        .unwrap()
}

/// A server with one message writer and big batches: while it stores a batch, every
/// other post queues for the next one.
async fn one_writer() -> TestApp {
    TestApp::start_with(|c| {
        c.message_writers = 1;
        c.message_batch = 64;
    })
    .await
}

/// The seqs of a message page, in order.
fn page_seqs(page: &Response) -> Vec<i64> {
    page.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect()
}

/// Posts are stored in batches (one transaction, a savepoint each). Posts that fail in
/// the same batch as good ones fail alone: nothing of theirs is stored, nothing of the
/// others is lost, every seq is handed out once, and retries of one client_id inside a
/// batch still store one message.
#[actix_web::test]
async fn failing_posts_in_a_batch_fail_alone() {
    let app = one_writer().await;
    let c = app.user("customer", "Mixed").await;
    let other = app.user("customer", "Outsider").await;
    let t = app.ticket(&c, "batched").await;
    let id = t["id"].as_i64().unwrap();
    let closed = app.ticket(&c, "already closed").await;
    let closed_id = closed["id"].as_i64().unwrap();
    app.patch(
        format!("/api/tickets/{closed_id}"),
        &c.token,
        json!({"status": "closed"}),
    )
    .await
    .ok();
    let batches_before = metric(&app, "relay_message_batches_total").await;
    let posts_before = metric(&app, "relay_message_batch_posts_total").await;

    let retried = uuid::Uuid::new_v4();
    let path = format!("/api/tickets/{id}/messages");
    let mut requests = Vec::new();
    for round in 0..6 {
        for i in 0..4 {
            let body =
                json!({"body": format!("good {round}.{i}"), "client_id": uuid::Uuid::new_v4()});
            requests.push(("good", app.post(path.clone(), &c.token, body)));
        }
        requests.push((
            "outsider",
            app.post(
                path.clone(),
                &other.token,
                json!({"body": "let me in", "client_id": uuid::Uuid::new_v4()}),
            ),
        ));
        requests.push((
            "internal",
            app.post(
                path.clone(),
                &c.token,
                json!({"body": "a note", "internal": true, "client_id": uuid::Uuid::new_v4()}),
            ),
        ));
        requests.push((
            "closed",
            app.post(
                format!("/api/tickets/{closed_id}/messages"),
                &c.token,
                json!({"body": "hello?", "client_id": uuid::Uuid::new_v4()}),
            ),
        ));
        requests.push((
            "retry",
            app.post(
                path.clone(),
                &c.token,
                json!({"body": "once", "client_id": retried}),
            ),
        ));
    }
    let kinds: Vec<&str> = requests.iter().map(|(k, _)| *k).collect();
    let results = join_all(requests.into_iter().map(|(_, f)| f)).await;
    let mut retry_ids = BTreeSet::new();
    let mut retry_created = 0;
    for (kind, r) in kinds.iter().zip(&results) {
        match *kind {
            "good" => assert_eq!(r.status, 201, "{}", r.body),
            "outsider" => r.expect_error(404, "not_found"),
            "internal" => r.expect_error(403, "forbidden"),
            "closed" => r.expect_error(409, "ticket_closed"),
            _ => {
                retry_ids.insert(r.ok()["id"].as_i64().unwrap());
                retry_created += usize::from(r.status == 201);
            }
        }
    }
    assert_eq!(
        retry_ids.len(),
        1,
        "every retry answers with the same message"
    );
    assert_eq!(retry_created, 1, "exactly one retry stored it");

    let list = app.get(format!("{path}?limit=500"), &c.token).await;
    let items = list.ok()["items"].as_array().unwrap().clone();
    let seqs: Vec<i64> = items.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=25).collect::<Vec<i64>>(),
        "24 good + 1 retried, gap-free"
    );
    assert!(items
        .iter()
        .all(|m| m["body"] != "let me in" && m["body"] != "a note"));
    let closed_list = app
        .get(format!("/api/tickets/{closed_id}/messages"), &c.token)
        .await;
    assert!(closed_list.ok()["items"].as_array().unwrap().is_empty());

    // And they really were batched: fewer transactions than posts.
    let batches = metric(&app, "relay_message_batches_total").await - batches_before;
    let posts = metric(&app, "relay_message_batch_posts_total").await - posts_before;
    // The outsider is refused before the writer (the ticket is not visible to them).
    assert_eq!(posts, 42, "every other post went through the writer");
    assert!(batches < posts, "{batches} transactions for {posts} posts");
    app.stop().await;
}

/// Plain posts of a batch are stored set-wise (one insert for all of them): each still
/// gets its own gap-free seq and its reply mail, a refused one takes no seq, a ticket
/// with a post that needs more (an @mention) is stored post by post beside them, and
/// the tickets' seqs move so the next post continues the sequence.
#[actix_web::test]
async fn plain_posts_of_a_batch_are_stored_together() {
    let app = one_writer().await;
    let tech = app.user("technician", "Tess").await;
    let sup = app.user("supervisor", "Sully").await;
    let sup_handle = sup.email.split('@').next().unwrap().to_owned();
    let (c1, c2, c3) = (
        app.user("customer", "Una").await,
        app.user("customer", "Dos").await,
        app.user("customer", "Tres").await,
    );
    let t1 = app.ticket(&c1, "unassigned").await["id"].as_i64().unwrap();
    let t2 = app.ticket(&c2, "assigned").await["id"].as_i64().unwrap();
    let t3 = app.ticket(&c3, "mentions").await["id"].as_i64().unwrap();
    for t in [t2, t3] {
        app.post(
            format!("/api/tickets/{t}/assign"),
            &tech.token,
            json!({"assignee_id": tech.id}),
        )
        .await
        .ok();
        // The first response is given, so later replies change nothing on the ticket.
        app.post(
            format!("/api/tickets/{t}/messages"),
            &tech.token,
            json!({"body": "hello, I am on it"}),
        )
        .await
        .ok();
    }
    let mails_before = |app: &TestApp, t: i64| {
        use relay_desk::db::schema::outbox::dsl as o;
        o::outbox
            .filter(o::ticket_id.eq(t))
            .filter(o::template.eq("public_reply"))
            .count()
            .get_result::<i64>(&mut app.conn())
            .unwrap()
    };
    let (m2, m3) = (mails_before(&app, t2), mails_before(&app, t3));
    let together_before = metric(&app, "relay_message_posts_together_total").await;
    let redone_before = metric(&app, "relay_message_batches_redone_total").await;

    let mut requests = Vec::new();
    for i in 0..12 {
        requests.push((
            t1,
            "c1",
            app.post(
                format!("/api/tickets/{t1}/messages"),
                &c1.token,
                json!({"body": format!("t1 customer {i}"), "client_id": uuid::Uuid::new_v4()}),
            ),
        ));
        if i % 4 == 0 {
            // A customer may not write internal notes: refused, and no seq taken.
            requests.push((
                t1,
                "refused",
                app.post(
                    format!("/api/tickets/{t1}/messages"),
                    &c1.token,
                    json!({"body": "sneaky", "internal": true, "client_id": uuid::Uuid::new_v4()}),
                ),
            ));
        }
        if i < 8 {
            requests.push((
                t2,
                "c2",
                app.post(
                    format!("/api/tickets/{t2}/messages"),
                    &c2.token,
                    json!({"body": format!("t2 customer {i}"), "client_id": uuid::Uuid::new_v4()}),
                ),
            ));
        }
        if i < 6 {
            requests.push((
                t2,
                "tech",
                app.post(
                    format!("/api/tickets/{t2}/messages"),
                    &tech.token,
                    json!({"body": format!("t2 tech {i}"), "client_id": uuid::Uuid::new_v4()}),
                ),
            ));
        }
        if i < 4 {
            requests.push((t2, "note", app.post(format!("/api/tickets/{t2}/messages"), &tech.token,
                json!({"body": format!("t2 note {i}"), "internal": true, "client_id": uuid::Uuid::new_v4()}))));
            requests.push((
                t3,
                "c3",
                app.post(
                    format!("/api/tickets/{t3}/messages"),
                    &c3.token,
                    json!({"body": format!("t3 customer {i}"), "client_id": uuid::Uuid::new_v4()}),
                ),
            ));
        }
    }
    requests.push((t3, "mention", app.post(format!("/api/tickets/{t3}/messages"), &tech.token,
        json!({"body": format!("@{sup_handle} please have a look"), "client_id": uuid::Uuid::new_v4()}))));
    let meta: Vec<(i64, &str)> = requests.iter().map(|(t, k, _)| (*t, *k)).collect();
    let results = join_all(requests.into_iter().map(|(_, _, f)| f)).await;
    let mut answered: std::collections::BTreeMap<i64, Vec<(i64, String)>> = Default::default();
    for ((t, kind), r) in meta.iter().zip(&results) {
        if *kind == "refused" {
            r.expect_error(403, "forbidden");
            continue;
        }
        assert_eq!(r.status, 201, "{kind}: {}", r.body);
        answered.entry(*t).or_default().push((
            r.body["seq"].as_i64().unwrap(),
            r.body["body"].as_str().unwrap().to_owned(),
        ));
    }

    // Every ticket's conversation is gap-free and holds exactly what was answered.
    for (t, expected_count) in [(t1, 12), (t2, 1 + 8 + 6 + 4), (t3, 1 + 4 + 1)] {
        let list = app
            .get(format!("/api/tickets/{t}/messages?limit=100"), &tech.token)
            .await;
        let items = list.ok()["items"].as_array().unwrap().clone();
        let stored: Vec<(i64, String)> = items
            .iter()
            .map(|m| {
                (
                    m["seq"].as_i64().unwrap(),
                    m["body"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let seqs: Vec<i64> = stored.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            seqs,
            (1..=expected_count).collect::<Vec<i64>>(),
            "ticket {t}"
        );
        let mut mine = answered[&t].clone();
        mine.sort();
        let skip = usize::from(t != t1); // the reply before the burst
        assert_eq!(
            stored[skip..].to_vec(),
            mine,
            "ticket {t}: answers match the stored rows"
        );
        // The ticket's seq moved with them: the next post continues the sequence.
        let next = app
            .post(
                format!("/api/tickets/{t}/messages"),
                &tech.token,
                json!({"body": "and one more"}),
            )
            .await;
        assert_eq!(
            next.ok()["seq"].as_i64().unwrap(),
            expected_count + 1,
            "ticket {t}"
        );
    }

    // Reply mails: each customer reply to the assignee, each public tech reply to the
    // requester (notes mail nobody); the mention notified the supervisor.
    assert_eq!(mails_before(&app, t2) - m2, 8 + 6 + 1);
    assert_eq!(mails_before(&app, t3) - m3, 4 + 1 + 1);
    let notes = app.get("/api/notifications", &sup.token).await;
    assert!(
        notes.ok()["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "mention"),
        "{}",
        notes.body
    );

    // Most of the burst went set-wise, and no batch had to be redone.
    let together = metric(&app, "relay_message_posts_together_total").await - together_before;
    assert!(together >= 10, "only {together} posts were stored set-wise");
    assert_eq!(
        metric(&app, "relay_message_batches_redone_total").await - redone_before,
        0
    );
    app.stop().await;
}

/// A client_id retried after its message was stored makes the batch it lands in fail
/// set-wise; the batch is stored again post by post, and the retry gets the stored
/// message back while the rest of the batch is stored once.
#[actix_web::test]
async fn a_retry_inside_a_batch_answers_the_stored_message() {
    let app = one_writer().await;
    let c = app.user("customer", "Retry").await;
    let t = app.ticket(&c, "retries").await["id"].as_i64().unwrap();
    let path = format!("/api/tickets/{t}/messages");
    let cid = uuid::Uuid::new_v4();
    let first = app
        .post(&path, &c.token, json!({"body": "first", "client_id": cid}))
        .await;
    let first_id = first.ok()["id"].as_i64().unwrap();
    let mut requests = Vec::new();
    for i in 0..20 {
        requests.push(app.post(
            &path,
            &c.token,
            json!({"body": format!("new {i}"), "client_id": uuid::Uuid::new_v4()}),
        ));
        if i % 5 == 0 {
            requests.push(app.post(&path, &c.token, json!({"body": "first", "client_id": cid})));
        }
    }
    let results = join_all(requests).await;
    let mut new = 0;
    for r in &results {
        if r.body["body"] == "first" {
            assert_eq!(
                r.ok()["id"].as_i64().unwrap(),
                first_id,
                "a retry answers the stored message"
            );
        } else {
            assert_eq!(r.status, 201, "{}", r.body);
            new += 1;
        }
    }
    assert_eq!(new, 20);
    let list = app.get(format!("{path}?limit=100"), &c.token).await;
    assert_eq!(
        page_seqs(&list),
        (1..=21).collect::<Vec<i64>>(),
        "one first + 20 new, gap-free"
    );
    app.stop().await;
}

/// The statements a message runs are prepared once per database connection and reused:
/// lone posts and batches of different sizes leave one prepared statement each, so
/// PostgreSQL parses and plans them once per connection, not once per message.
#[actix_web::test]
async fn message_statements_are_prepared_once_per_connection() {
    use relay_desk::messages::{queries, writer::PostRequest};
    #[derive(QueryableByName)]
    struct Prepared {
        #[diesel(sql_type = diesel::sql_types::Text)]
        statement: String,
    }
    let app = TestApp::start().await;
    let c = app.user("customer", "Prepared").await;
    let tickets = [
        app.ticket(&c, "first").await["id"].as_i64().unwrap(),
        app.ticket(&c, "second").await["id"].as_i64().unwrap(),
        app.ticket(&c, "third").await["id"].as_i64().unwrap(),
    ];
    let actor = relay_desk::auth::Actor {
        id: c.id,
        role: relay_protocol::users::Role::Customer,
        name: "Prepared".into(),
        email: c.email.clone(),
    };
    let mut conn = app.conn();
    for i in 0..3 {
        queries::post(
            &mut conn,
            &actor,
            tickets[0],
            &format!("alone {i}"),
            false,
            None,
        )
        .unwrap();
    }
    for n in [2, 3, 5] {
        let reqs: Vec<PostRequest> = (0..n)
            .map(|i| PostRequest {
                actor: actor.clone(),
                ticket_id: tickets[i % 3],
                body: format!("batch of {n}, post {i}"),
                internal: false,
                client_id: Some(uuid::Uuid::new_v4()),
            })
            .collect();
        let stored = conn
            .transaction(|conn| queries::post_batch(conn, &reqs))
            .unwrap();
        assert!(stored.iter().all(|r| matches!(r, Some(Ok(_)))));
    }
    // Every post is stored, each ticket's seqs without a gap.
    for (t, n) in tickets.into_iter().zip([7, 4, 2]) {
        let page = app
            .get(format!("/api/tickets/{t}/messages"), &c.token)
            .await;
        assert_eq!(page_seqs(&page), (1..=n).collect::<Vec<i64>>());
    }

    let statements: Vec<String> = diesel::sql_query("SELECT statement FROM pg_prepared_statements")
        .load::<Prepared>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|p| p.statement)
        .collect();
    for start in [
        "INSERT INTO messages",
        "UPDATE tickets SET last_seq = last_seq + 1",
        "UPDATE tickets SET last_seq = v.last_seq",
    ] {
        let n = statements.iter().filter(|s| s.starts_with(start)).count();
        assert_eq!(n, 1, "{start}: {n} prepared statements in {statements:#?}");
    }
}
