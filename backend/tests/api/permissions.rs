//! SPEC §1's permission matrix over HTTP: every role against every action, each cell on
//! a fresh ticket owned by `customer`. Expected statuses are the contract: 403 where the
//! ticket is visible but the action is not allowed, 404 where even its existence must
//! not leak, 401 without a token.

use crate::common::*;
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug)]
enum Who {
    Anonymous,
    Owner,
    OtherCustomer,
    Tech,
    Supervisor,
    Admin,
}

const WHO: [Who; 6] = [
    Who::Anonymous,
    Who::Owner,
    Who::OtherCustomer,
    Who::Tech,
    Who::Supervisor,
    Who::Admin,
];

fn token(cast: &Cast, who: Who) -> Option<String> {
    match who {
        Who::Anonymous => None,
        Who::Owner => Some(cast.customer.token.clone()),
        Who::OtherCustomer => Some(cast.other_customer.token.clone()),
        Who::Tech => Some(cast.tech.token.clone()),
        Who::Supervisor => Some(cast.supervisor.token.clone()),
        Who::Admin => Some(cast.admin.token.clone()),
    }
}

/// One row: a request built from (ticket id, cast) and the expected status per actor
/// in `WHO` order.
struct Row {
    name: &'static str,
    /// Ticket state before the request: assigned to `other_tech`?
    assigned_to_other: bool,
    status_before: Option<&'static str>,
    request: fn(i64, &Cast) -> (&'static str, String, Option<Value>),
    expect: [u16; 6],
}

#[actix_web::test]
async fn ticket_actions_by_role() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    let rows = [
        Row {
            name: "view",
            assigned_to_other: false,
            status_before: None,
            request: |id, _| ("GET", format!("/api/tickets/{id}"), None),
            expect: [401, 200, 404, 200, 200, 200],
        },
        Row {
            name: "history",
            assigned_to_other: false,
            status_before: None,
            request: |id, _| ("GET", format!("/api/tickets/{id}/history"), None),
            expect: [401, 200, 404, 200, 200, 200],
        },
        Row {
            name: "list messages",
            assigned_to_other: false,
            status_before: None,
            request: |id, _| ("GET", format!("/api/tickets/{id}/messages"), None),
            expect: [401, 200, 404, 200, 200, 200],
        },
        Row {
            name: "public reply",
            assigned_to_other: false,
            status_before: None,
            request: |id, _| {
                (
                    "POST",
                    format!("/api/tickets/{id}/messages"),
                    Some(json!({"body": "hello"})),
                )
            },
            expect: [401, 201, 404, 201, 201, 201],
        },
        Row {
            name: "internal note",
            assigned_to_other: false,
            status_before: None,
            request: |id, _| {
                (
                    "POST",
                    format!("/api/tickets/{id}/messages"),
                    Some(json!({"body": "psst", "internal": true})),
                )
            },
            expect: [401, 403, 404, 201, 201, 201],
        },
        Row {
            name: "close",
            assigned_to_other: false,
            status_before: None,
            request: |id, _| {
                (
                    "PATCH",
                    format!("/api/tickets/{id}"),
                    Some(json!({"status": "closed"})),
                )
            },
            expect: [401, 200, 404, 200, 200, 200],
        },
        Row {
            name: "reopen resolved",
            assigned_to_other: false,
            status_before: Some("resolved"),
            request: |id, _| {
                (
                    "PATCH",
                    format!("/api/tickets/{id}"),
                    Some(json!({"status": "open"})),
                )
            },
            expect: [401, 200, 404, 200, 200, 200],
        },
        Row {
            name: "resolve",
            assigned_to_other: false,
            status_before: None,
            request: |id, _| {
                (
                    "PATCH",
                    format!("/api/tickets/{id}"),
                    Some(json!({"status": "resolved"})),
                )
            },
            expect: [401, 403, 404, 200, 200, 200],
        },
        Row {
            name: "set pending",
            assigned_to_other: false,
            status_before: None,
            request: |id, _| {
                (
                    "PATCH",
                    format!("/api/tickets/{id}"),
                    Some(json!({"status": "pending"})),
                )
            },
            expect: [401, 403, 404, 200, 200, 200],
        },
        Row {
            name: "priority",
            assigned_to_other: false,
            status_before: None,
            request: |id, _| {
                (
                    "PATCH",
                    format!("/api/tickets/{id}"),
                    Some(json!({"priority": "urgent"})),
                )
            },
            expect: [401, 403, 404, 200, 200, 200],
        },
        Row {
            name: "category",
            assigned_to_other: false,
            status_before: None,
            request: |id, _| {
                (
                    "PATCH",
                    format!("/api/tickets/{id}"),
                    Some(json!({"category_id": null})),
                )
            },
            expect: [401, 403, 404, 200, 200, 200],
        },
        Row {
            name: "title",
            assigned_to_other: false,
            status_before: None,
            request: |id, _| {
                (
                    "PATCH",
                    format!("/api/tickets/{id}"),
                    Some(json!({"title": "renamed"})),
                )
            },
            expect: [401, 403, 404, 200, 200, 200],
        },
        Row {
            name: "tags",
            assigned_to_other: false,
            status_before: None,
            request: |id, _| {
                (
                    "PATCH",
                    format!("/api/tickets/{id}"),
                    Some(json!({"tags": ["vip"]})),
                )
            },
            expect: [401, 403, 404, 200, 200, 200],
        },
        Row {
            name: "take (assign self)",
            assigned_to_other: false,
            status_before: None,
            request: |id, c| {
                (
                    "POST",
                    format!("/api/tickets/{id}/assign"),
                    Some(json!({"assignee_id": c.tech.id})),
                )
            },
            expect: [401, 403, 404, 200, 200, 200],
        },
        Row {
            name: "assign someone else",
            assigned_to_other: false,
            status_before: None,
            request: |id, c| {
                (
                    "POST",
                    format!("/api/tickets/{id}/assign"),
                    Some(json!({"assignee_id": c.other_tech.id})),
                )
            },
            expect: [401, 403, 404, 403, 200, 200],
        },
        Row {
            name: "take from a colleague",
            assigned_to_other: true,
            status_before: None,
            request: |id, c| {
                (
                    "POST",
                    format!("/api/tickets/{id}/assign"),
                    Some(json!({"assignee_id": c.tech.id})),
                )
            },
            expect: [401, 403, 404, 403, 200, 200],
        },
        Row {
            name: "unassign a colleague",
            assigned_to_other: true,
            status_before: None,
            request: |id, _| {
                (
                    "POST",
                    format!("/api/tickets/{id}/assign"),
                    Some(json!({"assignee_id": null})),
                )
            },
            expect: [401, 403, 404, 403, 200, 200],
        },
    ];
    let mut failures = Vec::new();
    for row in &rows {
        for (who, want) in WHO.iter().zip(row.expect) {
            let ticket = app.ticket(&cast.customer, row.name).await;
            let id = ticket["id"].as_i64().unwrap();
            if row.assigned_to_other {
                app.post(
                    &format!("/api/tickets/{id}/assign"),
                    &cast.admin.token,
                    json!({"assignee_id": cast.other_tech.id}),
                )
                .await
                .ok();
            }
            if let Some(s) = row.status_before {
                app.patch(
                    &format!("/api/tickets/{id}"),
                    &cast.admin.token,
                    json!({"status": s}),
                )
                .await
                .ok();
            }
            let (method, path, body) = (row.request)(id, &cast);
            let before = app
                .get(&format!("/api/tickets/{id}"), &cast.admin.token)
                .await
                .body;
            let before_msgs = app
                .get(&format!("/api/tickets/{id}/messages"), &cast.admin.token)
                .await
                .body;
            let res = app
                .send(method, &path, token(&cast, *who).as_deref(), body.as_ref())
                .await;
            if res.status.as_u16() != want {
                failures.push(format!(
                    "{} by {who:?}: want {want}, got {} {}",
                    row.name, res.status, res.body
                ));
                continue;
            }
            if want >= 400 {
                assert!(
                    res.body["error"]["code"].is_string(),
                    "{} by {who:?}: {}",
                    row.name,
                    res.body
                );
                // A refused request changes nothing.
                let after = app
                    .get(&format!("/api/tickets/{id}"), &cast.admin.token)
                    .await
                    .body;
                let after_msgs = app
                    .get(&format!("/api/tickets/{id}/messages"), &cast.admin.token)
                    .await
                    .body;
                assert_eq!(before, after, "{} by {who:?} changed the ticket", row.name);
                assert_eq!(
                    before_msgs, after_msgs,
                    "{} by {who:?} changed messages",
                    row.name
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "permission mismatches:\n{}",
        failures.join("\n")
    );
    app.stop().await;
}

#[actix_web::test]
async fn desk_actions_by_role() {
    let app = TestApp::start().await;
    let cast = Cast::new(&app).await;
    type Req = fn(&Cast) -> (&'static str, String, Option<Value>);
    let rows: Vec<(&str, Req, [u16; 6])> = vec![
        (
            "list users",
            |_| ("GET", "/api/users".into(), None),
            [401, 403, 403, 403, 403, 200],
        ),
        (
            "get user",
            |c| ("GET", format!("/api/users/{}", c.tech.id), None),
            [401, 403, 403, 403, 403, 200],
        ),
        (
            "create user",
            |_| {
                (
                    "POST",
                    "/api/users".into(),
                    Some(json!({
            "email": format!("x{}@t.test", uuid::Uuid::new_v4().simple()), "name": "X", "role": "technician",
            "password": "long enough pw"})),
                )
            },
            [401, 403, 403, 403, 403, 201],
        ),
        (
            "change a role",
            |c| {
                (
                    "PATCH",
                    format!("/api/users/{}", c.other_customer.id),
                    Some(json!({"name": "Renamed"})),
                )
            },
            [401, 403, 403, 403, 403, 200],
        ),
        (
            "list staff",
            |_| ("GET", "/api/staff".into(), None),
            [401, 403, 403, 200, 200, 200],
        ),
        (
            "read categories",
            |_| ("GET", "/api/categories".into(), None),
            [401, 200, 200, 200, 200, 200],
        ),
        (
            "create category",
            |_| {
                (
                    "POST",
                    "/api/categories".into(),
                    Some(json!({
            "name": format!("Cat {}", uuid::Uuid::new_v4().simple())})),
                )
            },
            [401, 403, 403, 403, 403, 201],
        ),
        (
            "create own ticket",
            |_| {
                (
                    "POST",
                    "/api/tickets".into(),
                    Some(json!({"title": "mine"})),
                )
            },
            [401, 201, 201, 201, 201, 201],
        ),
        (
            "create ticket for a customer",
            |c| {
                (
                    "POST",
                    "/api/tickets".into(),
                    Some(json!({
            "title": "on behalf", "requester_id": c.customer.id})),
                )
            },
            [401, 201, 403, 201, 201, 201],
        ),
        (
            "list tickets",
            |_| ("GET", "/api/tickets".into(), None),
            [401, 200, 200, 200, 200, 200],
        ),
    ];
    let mut failures = Vec::new();
    for (name, req, expect) in rows {
        for (who, want) in WHO.iter().zip(expect) {
            let (method, path, body) = req(&cast);
            let before = app.counts();
            let res = app
                .send(method, &path, token(&cast, *who).as_deref(), body.as_ref())
                .await;
            if res.status.as_u16() != want {
                failures.push(format!(
                    "{name} by {who:?}: want {want}, got {} {}",
                    res.status, res.body
                ));
            } else if want >= 400 {
                assert_eq!(app.counts(), before, "{name} by {who:?} changed rows");
            }
        }
    }
    assert!(
        failures.is_empty(),
        "permission mismatches:\n{}",
        failures.join("\n")
    );
    app.stop().await;
}
