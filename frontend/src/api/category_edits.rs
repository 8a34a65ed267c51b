//! Admin changes to the category tree (`POST/PATCH/DELETE /api/categories`); reading the
//! tree stays in `categories.rs`.

use gloo::net::http::Method;
use relay_protocol::categories::{CategoryNode, CreateCategoryRequest, UpdateCategoryRequest};
use relay_protocol::CategoryId;

use super::{post, request, ApiError, Auth};

pub async fn create(body: &CreateCategoryRequest) -> Result<CategoryNode, ApiError> {
    post("/api/categories", body).await
}

pub async fn update(
    id: CategoryId,
    body: &UpdateCategoryRequest,
) -> Result<CategoryNode, ApiError> {
    request(
        Method::PATCH,
        &format!("/api/categories/{id}"),
        Some(body),
        Auth::Session,
    )
    .await
}

/// 409 `category_in_use` while tickets or subcategories use it.
pub async fn delete(id: CategoryId) -> Result<(), ApiError> {
    request::<(), ()>(
        Method::DELETE,
        &format!("/api/categories/{id}"),
        None,
        Auth::Session,
    )
    .await
}
