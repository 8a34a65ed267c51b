//! `/api/users` (admin) and `/api/staff` (staff: who can be assigned).

use super::model::{normalize_email, normalize_name, NewUser, UserChanges};
use super::queries;
use crate::admin::audit;
use crate::auth::policy::{check_desk, DeskAction};
use crate::auth::{password, Actor};
use crate::error::{AppError, AppResult};
use crate::http::Body;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use diesel::Connection;
use relay_protocol::users::{
    CreateUserRequest, UpdateUserRequest, UserList, UserListQuery, UserSummary, UserView,
};
use relay_protocol::ErrorEnvelope;
use std::collections::BTreeMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // One resource per path, so a wrong method is a 405, not a 404.
    cfg.service(
        web::resource("/users")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    );
    cfg.service(
        web::resource("/users/{id}")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(deactivate)),
    );
    cfg.service(web::resource("/staff").route(web::get().to(staff)));
}

#[utoipa::path(get, path = "/api/users", tag = "users", security(("bearer" = [])),
    params(UserListQuery),
    responses((status = 200, body = UserList), (status = 403, body = ErrorEnvelope)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<UserListQuery>,
) -> AppResult<web::Json<UserList>> {
    check_desk(&actor, DeskAction::ManageUsers)?;
    let q = query.into_inner();
    let rows = state.db(move |conn| queries::list(conn, &q)).await?;
    Ok(web::Json(UserList {
        items: rows.iter().map(|u| u.view()).collect(),
    }))
}

#[utoipa::path(post, path = "/api/users", tag = "users", security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses((status = 201, body = UserView), (status = 403, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: Body<CreateUserRequest>,
) -> AppResult<HttpResponse> {
    check_desk(&actor, DeskAction::ManageUsers)?;
    let body = body.0;
    let mut problems = BTreeMap::new();
    let email = normalize_email(&body.email).map_err(|p| problems.insert("email".into(), p.into()));
    let name = normalize_name(&body.name).map_err(|p| problems.insert("name".into(), p.into()));
    if let Err(AppError::Client {
        fields: Some(f), ..
    }) = password::check_policy("password", &body.password)
    {
        problems.extend(f);
    }
    let (Ok(email), Ok(name), true) = (email, name, problems.is_empty()) else {
        return Err(AppError::invalid_fields(problems));
    };
    let hash = state.hasher.hash(body.password).await?;
    let role = body.role;
    let actor_id = actor.id;
    let user = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let new = NewUser {
                    email: &email,
                    name: &name,
                    role: role.as_str(),
                    password_hash: &hash,
                };
                let user = queries::insert(conn, &new)?;
                let details = serde_json::json!({"email": user.email, "role": user.role});
                audit::record(
                    conn,
                    actor_id,
                    "user.create",
                    "user",
                    Some(user.id.to_string()),
                    details,
                )?;
                Ok(user)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(user.view()))
}

#[utoipa::path(get, path = "/api/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = UserView), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> AppResult<web::Json<UserView>> {
    check_desk(&actor, DeskAction::ManageUsers)?;
    let id = path.into_inner();
    Ok(web::Json(
        state.db(move |conn| queries::find(conn, id)).await?.view(),
    ))
}

#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = UpdateUserRequest,
    responses((status = 200, body = UserView), (status = 409, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: Body<UpdateUserRequest>,
) -> AppResult<web::Json<UserView>> {
    check_desk(&actor, DeskAction::ManageUsers)?;
    let id = path.into_inner();
    let body = body.0;
    let mut problems = BTreeMap::new();
    let mut changes = UserChanges::default();
    if let Some(e) = &body.email {
        match normalize_email(e) {
            Ok(e) => changes.email = Some(e),
            Err(p) => drop(problems.insert("email".to_owned(), p.to_owned())),
        }
    }
    if let Some(n) = &body.name {
        match normalize_name(n) {
            Ok(n) => changes.name = Some(n),
            Err(p) => drop(problems.insert("name".to_owned(), p.to_owned())),
        }
    }
    if let Some(p) = &body.password {
        if let Err(AppError::Client {
            fields: Some(f), ..
        }) = password::check_policy("password", p)
        {
            problems.extend(f);
        }
    }
    if !problems.is_empty() {
        return Err(AppError::invalid_fields(problems));
    }
    if let Some(p) = body.password {
        changes.password_hash = Some(state.hasher.hash(p).await?);
    }
    changes.role = body.role.map(|r| r.as_str().to_owned());
    changes.active = body.active;
    let actor_id = actor.id;
    let user = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let details = serde_json::json!({
                    "name": changes.name, "email": changes.email, "role": changes.role,
                    "active": changes.active, "password_changed": changes.password_hash.is_some(),
                });
                let user = queries::update(conn, id, changes)?;
                audit::record(
                    conn,
                    actor_id,
                    "user.update",
                    "user",
                    Some(id.to_string()),
                    details,
                )?;
                Ok(user)
            })
        })
        .await?;
    // Role, status or password may have changed: open sockets re-check at once.
    state.realtime.user_changed(id).await;
    Ok(web::Json(user.view()))
}

/// Users own tickets and messages, so they are deactivated, never erased.
#[utoipa::path(delete, path = "/api/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 409, body = ErrorEnvelope)))]
pub async fn deactivate(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    check_desk(&actor, DeskAction::ManageUsers)?;
    let id = path.into_inner();
    let actor_id = actor.id;
    state
        .db(move |conn| {
            conn.transaction(|conn| {
                let off = UserChanges {
                    active: Some(false),
                    ..Default::default()
                };
                queries::update(conn, id, off)?;
                let details = serde_json::json!({});
                audit::record(
                    conn,
                    actor_id,
                    "user.deactivate",
                    "user",
                    Some(id.to_string()),
                    details,
                )
            })
        })
        .await?;
    state.realtime.user_changed(id).await;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/staff", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Vec<UserSummary>), (status = 403, body = ErrorEnvelope)))]
pub async fn staff(
    state: web::Data<AppState>,
    actor: Actor,
) -> AppResult<web::Json<Vec<UserSummary>>> {
    check_desk(&actor, DeskAction::ListStaff)?;
    let rows = state.db(queries::list_staff).await?;
    Ok(web::Json(rows.iter().map(|u| u.summary()).collect()))
}
