//! `/api/users` (admins): accounts and roles.

use gloo::net::http::Method;
use relay_protocol::users::{
    CreateUserRequest, UpdateUserRequest, UserList, UserListQuery, UserView,
};
use relay_protocol::UserId;

use super::{get, post, request, with_query, ApiError, Auth};

pub async fn list(query: &UserListQuery) -> Result<UserList, ApiError> {
    get(&with_query("/api/users", query)).await
}

pub async fn create(body: &CreateUserRequest) -> Result<UserView, ApiError> {
    post("/api/users", body).await
}

pub async fn update(id: UserId, body: &UpdateUserRequest) -> Result<UserView, ApiError> {
    request(
        Method::PATCH,
        &format!("/api/users/{id}"),
        Some(body),
        Auth::Session,
    )
    .await
}

/// Users own tickets and messages: "delete" deactivates (409 `last_admin` for the last one).
pub async fn deactivate(id: UserId) -> Result<(), ApiError> {
    request::<(), ()>(
        Method::DELETE,
        &format!("/api/users/{id}"),
        None,
        Auth::Session,
    )
    .await
}
