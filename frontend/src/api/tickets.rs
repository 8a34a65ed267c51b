//! `/api/tickets`: list (filters, search, cursor), create, fetch one.

use relay_protocol::tickets::{CreateTicketRequest, TicketListQuery, TicketPage, TicketView};
use relay_protocol::TicketId;

use super::{get, post, with_query, ApiError};

pub async fn list(query: &TicketListQuery) -> Result<TicketPage, ApiError> {
    get(&with_query("/api/tickets", query)).await
}

pub async fn create(body: &CreateTicketRequest) -> Result<TicketView, ApiError> {
    post("/api/tickets", body).await
}

pub async fn fetch(id: TicketId) -> Result<TicketView, ApiError> {
    get(&format!("/api/tickets/{id}")).await
}
