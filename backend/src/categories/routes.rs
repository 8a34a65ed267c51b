//! `/api/categories`: everyone signed in reads the tree; admins change it.

use super::queries::{self, CategoryChanges};
use crate::auth::policy::{check_desk, DeskAction};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::http::Body;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use relay_protocol::categories::{
    CategoryNode, CategoryTree, CreateCategoryRequest, UpdateCategoryRequest,
};
use relay_protocol::ErrorEnvelope;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // One resource per path, so a wrong method is a 405, not a 404.
    cfg.service(
        web::resource("/categories")
            .route(web::get().to(tree))
            .route(web::post().to(create)),
    );
    cfg.service(
        web::resource("/categories/{id}")
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    );
}

fn clean_name(name: &str) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 80 || n.chars().any(char::is_control) {
        return Err(AppError::invalid("name", "must be 1 to 80 characters"));
    }
    Ok(n.to_owned())
}

#[utoipa::path(get, path = "/api/categories", tag = "categories", security(("bearer" = [])),
    responses((status = 200, body = CategoryTree)))]
pub async fn tree(state: web::Data<AppState>, _actor: Actor) -> AppResult<web::Json<CategoryTree>> {
    Ok(web::Json(CategoryTree {
        items: state.db(queries::tree).await?,
    }))
}

#[utoipa::path(post, path = "/api/categories", tag = "categories", security(("bearer" = [])),
    request_body = CreateCategoryRequest,
    responses((status = 201, body = CategoryNode), (status = 403, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: Body<CreateCategoryRequest>,
) -> AppResult<HttpResponse> {
    check_desk(&actor, DeskAction::ManageCategories)?;
    let body = body.0;
    let name = clean_name(&body.name)?;
    let node = state
        .db(move |conn| {
            queries::insert(
                conn,
                &name,
                &body.description.trim().replace('\0', ""),
                body.parent_id.map(|p| p.0),
                body.position.unwrap_or(0),
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(node))
}

#[utoipa::path(patch, path = "/api/categories/{id}", tag = "categories",
    security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdateCategoryRequest,
    responses((status = 200, body = CategoryNode), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: Body<UpdateCategoryRequest>,
) -> AppResult<web::Json<CategoryNode>> {
    check_desk(&actor, DeskAction::ManageCategories)?;
    let id = path.into_inner();
    let body = body.0;
    let changes = CategoryChanges {
        name: body.name.as_deref().map(clean_name).transpose()?,
        description: body.description.map(|d| d.trim().replace('\0', "")),
        parent_id: body.parent_id.map(|p| p.map(|c| c.0)),
        position: body.position,
    };
    Ok(web::Json(
        state
            .db(move |conn| queries::update(conn, id, changes))
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/categories/{id}", tag = "categories",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 409, body = ErrorEnvelope)))]
pub async fn delete(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    check_desk(&actor, DeskAction::ManageCategories)?;
    let id = path.into_inner();
    state.db(move |conn| queries::delete(conn, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
