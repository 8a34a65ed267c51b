//! The SLA job: a ticket past its due time is escalated exactly once, even with two
//! workers running at the same moment.

use crate::common::*;
use diesel::prelude::*;
use serde_json::json;

#[actix_web::test]
async fn an_overdue_ticket_is_escalated_exactly_once_by_concurrent_workers() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let t = app.ticket(&cast.customer, "urgent-ish").await;
    let id = t["id"].as_i64().unwrap();
    let fresh = app.ticket(&cast.customer, "not due").await["id"]
        .as_i64()
        .unwrap();
    diesel::sql_query(format!(
        "UPDATE tickets SET first_response_due_at = now() - interval '1 minute' WHERE id = {id}"
    ))
    .execute(&mut app.conn())
    .unwrap();

    let url = app.state.config.database_url.clone();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut conn = PgConnection::establish(&url).unwrap();
                barrier.wait();
                relay_desk::sla::run_once(&mut conn).unwrap().len()
            })
        })
        .collect();
    let escalated: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(escalated, 1);

    let after = app
        .get(format!("/api/tickets/{id}"), &cast.tech.token)
        .await;
    assert_eq!(
        after.ok()["priority"],
        "high",
        "raised one step from medium"
    );
    let h = app
        .get(format!("/api/tickets/{id}/history"), &cast.tech.token)
        .await;
    let breaches = h.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["field"] == "sla_breach")
        .count();
    assert_eq!(breaches, 1);
    let notes = app.get("/api/notifications", &cast.supervisor.token).await;
    assert_eq!(
        notes.ok()["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "sla_breach")
            .count(),
        1
    );
    // Supervisors and admins are mailed through the outbox.
    let mails: i64 = {
        use relay_desk::db::schema::outbox::dsl as o;
        o::outbox
            .filter(o::template.eq("sla_breach"))
            .count()
            .get_result(&mut app.conn())
            .unwrap()
    };
    assert_eq!(mails, 2);
    // Nothing more to do on the next runs; the fresh ticket is untouched.
    assert_eq!(relay_desk::sla::run_once(&mut app.conn()).unwrap().len(), 0);
    assert_eq!(
        app.get(format!("/api/tickets/{fresh}"), &cast.tech.token)
            .await
            .body["priority"],
        "medium"
    );
    let _ = json!(null);
    app.stop().await;
}
