//! Changes to one ticket (`PATCH /api/tickets/{id}`, `POST /api/tickets/{id}/assign`), apart
//! from `tickets.rs` (list, create, fetch) so the board and the ticket view share them.

use gloo::net::http::Method;
use relay_protocol::tickets::{AssignRequest, TicketStatus, TicketView, UpdateTicketRequest};
use relay_protocol::{TicketId, UserId};

use super::{request, ApiError, Auth};

pub async fn update(id: TicketId, body: &UpdateTicketRequest) -> Result<TicketView, ApiError> {
    request(
        Method::PATCH,
        &format!("/api/tickets/{id}"),
        Some(body),
        Auth::Session,
    )
    .await
}

pub async fn set_status(id: TicketId, status: TicketStatus) -> Result<TicketView, ApiError> {
    update(
        id,
        &UpdateTicketRequest {
            status: Some(status),
            ..Default::default()
        },
    )
    .await
}

/// `None` unassigns.
pub async fn assign(id: TicketId, assignee: Option<UserId>) -> Result<TicketView, ApiError> {
    let body = AssignRequest {
        assignee_id: Some(assignee),
    };
    request(
        Method::POST,
        &format!("/api/tickets/{id}/assign"),
        Some(&body),
        Auth::Session,
    )
    .await
}
