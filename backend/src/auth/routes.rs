//! `/api/auth/*` and `/api/me`: thin handlers over `auth::queries` and `users::queries`.

use super::extract::Enrolling;
use super::queries::{self as sessions, Rotation};
use super::{password, tokens, Actor};
use crate::error::{AppError, AppResult};
use crate::http::Body;
use crate::state::AppState;
use crate::users::model::{normalize_email, normalize_name, NewUser, User, UserChanges};
use crate::users::queries as users;
use actix_web::{web, HttpRequest, HttpResponse};
use relay_protocol::auth::{
    AuthResponse, ChangePasswordRequest, LoginRequest, LogoutRequest, RefreshRequest,
    RegisterRequest, TotpCode, TotpSetup,
};
use relay_protocol::users::{Role, UserView};
use relay_protocol::{ErrorCode, ErrorEnvelope};
use std::collections::BTreeMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // One resource per path, so a wrong method is a 405, not a 404.
    cfg.service(web::resource("/auth/register").route(web::post().to(register)));
    cfg.service(web::resource("/auth/login").route(web::post().to(login)));
    cfg.service(web::resource("/auth/refresh").route(web::post().to(refresh)));
    cfg.service(web::resource("/auth/logout").route(web::post().to(logout)));
    cfg.service(
        web::resource("/me")
            .route(web::get().to(me))
            .route(web::patch().to(update_me)),
    );
    cfg.service(web::resource("/me/password").route(web::put().to(change_password)));
    cfg.service(web::resource("/me/totp/setup").route(web::post().to(totp_setup)));
    cfg.service(web::resource("/me/totp/enable").route(web::post().to(totp_enable)));
    cfg.service(web::resource("/me/totp/disable").route(web::post().to(totp_disable)));
}

/// Signs `user` in: a new refresh-token family and a fresh access token.
async fn start_session(state: &AppState, user: User) -> AppResult<AuthResponse> {
    let ttl = state.config.refresh_token_ttl_days;
    let user_id = user.id;
    let refresh_token = state
        .db(move |conn| sessions::issue(conn, user_id, uuid::Uuid::new_v4(), ttl))
        .await?;
    respond(state, user, refresh_token).await
}

/// The caller's own view of their account, with whether the desk still waits for them
/// to set up a second factor.
fn account_view(conn: &mut diesel::PgConnection, user: &User) -> AppResult<UserView> {
    Ok(UserView {
        totp_setup_required: super::totp::setup_required(conn, user)?,
        ..user.view()
    })
}

async fn respond(state: &AppState, user: User, refresh_token: String) -> AppResult<AuthResponse> {
    let access_token =
        tokens::issue_access(&state.config, user.id, user.role(), user.token_version)?;
    let view = state.db(move |conn| account_view(conn, &user)).await?;
    Ok(AuthResponse {
        user: view,
        access_token,
        refresh_token,
        expires_in: state.config.access_token_ttl,
    })
}

#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = AuthResponse), (status = 409, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<RegisterRequest>,
) -> AppResult<HttpResponse> {
    let ip = crate::ratelimit::client_ip(&req, state.config.trust_proxy);
    state.limit(crate::ratelimit::REGISTER_PER_IP, ip).await?;
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
    let user = state
        .db(move |conn| {
            users::insert(
                conn,
                &NewUser {
                    email: &email,
                    name: &name,
                    role: Role::Customer.as_str(),
                    password_hash: &hash,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(start_session(&state, user).await?))
}

#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = AuthResponse), (status = 401, body = ErrorEnvelope)))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<LoginRequest>,
) -> AppResult<web::Json<AuthResponse>> {
    let body = body.0;
    // Per address and per account: guessing is slowed down either way, and the answer
    // is the same for known and unknown accounts.
    let ip = crate::ratelimit::client_ip(&req, state.config.trust_proxy);
    state.limit(crate::ratelimit::LOGIN_PER_IP, ip).await?;
    state
        .limit(
            crate::ratelimit::LOGIN_PER_ACCOUNT,
            body.email.trim().to_lowercase(),
        )
        .await?;
    let wrong = || {
        AppError::new(
            actix_web::http::StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidCredentials,
            "wrong email or password",
        )
    };
    let Ok(email) = normalize_email(&body.email) else {
        state.hasher.burn_time().await?;
        return Err(wrong());
    };
    let user = state
        .db(move |conn| users::find_by_email(conn, &email))
        .await?;
    let Some(user) = user else {
        state.hasher.burn_time().await?;
        return Err(wrong());
    };
    // Over-long passwords can never match (none is stored); still spend the time.
    let ok = body.password.len() <= password::MAX_BYTES
        && state
            .hasher
            .verify(body.password, user.password_hash.clone())
            .await?;
    if !ok || !user.active {
        return Err(wrong());
    }
    // The password was right; with a second factor, the code decides.
    if user.totp_enabled {
        let Some(code) = body.totp_code.as_deref() else {
            return Err(AppError::new(
                actix_web::http::StatusCode::UNAUTHORIZED,
                ErrorCode::TotpRequired,
                "enter the code from your authenticator app",
            ));
        };
        let secret = user.totp_secret.clone().unwrap_or_default();
        if !super::totp::verify(&secret, &user.email, code)? {
            return Err(wrong());
        }
    }
    Ok(web::Json(start_session(&state, user).await?))
}

#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = AuthResponse), (status = 401, body = ErrorEnvelope)))]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Body<RefreshRequest>,
) -> AppResult<web::Json<AuthResponse>> {
    let presented = body.0.refresh_token;
    let ttl = state.config.refresh_token_ttl_days;
    match state
        .db(move |conn| sessions::rotate(conn, &presented, ttl))
        .await?
    {
        Rotation::Rotated {
            user,
            refresh_token,
        } => Ok(web::Json(respond(&state, user, refresh_token).await?)),
        Rotation::Invalid => Err(AppError::new(
            actix_web::http::StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidToken,
            "the refresh token is invalid or expired; sign in again",
        )),
        Rotation::Reused => Err(AppError::new(
            actix_web::http::StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidToken,
            "this refresh token was already used; every session of that sign-in has been ended",
        )),
    }
}

#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", request_body = LogoutRequest,
    responses((status = 204), (status = 401, body = ErrorEnvelope)))]
pub async fn logout(
    state: web::Data<AppState>,
    actor: Option<Enrolling>,
    body: Body<LogoutRequest>,
) -> AppResult<HttpResponse> {
    let body = body.0;
    let actor = actor.map(|e| e.actor);
    if body.all {
        let actor = actor.ok_or_else(|| {
            AppError::unauthorized("ending every session needs a valid access token")
        })?;
        // Bumping the token version revokes every access token; refresh tokens go too.
        state
            .db(move |conn| {
                let user = users::find(conn, actor.id)?;
                users::update(
                    conn,
                    actor.id,
                    UserChanges {
                        token_version: Some(user.token_version + 1),
                        ..Default::default()
                    },
                )?;
                users::revoke_all_refresh_tokens(conn, actor.id)
            })
            .await?;
        state.realtime.user_changed(actor.id).await;
    } else {
        let token = body
            .refresh_token
            .ok_or_else(|| AppError::invalid("refresh_token", "is required unless all is true"))?;
        state
            .db(move |conn| sessions::revoke_by_token(conn, &token))
            .await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorEnvelope)))]
pub async fn me(state: web::Data<AppState>, caller: Enrolling) -> AppResult<web::Json<UserView>> {
    let id = caller.actor.id;
    let view = state
        .db(move |conn| {
            let user = users::find(conn, id)?;
            account_view(conn, &user)
        })
        .await?;
    Ok(web::Json(view))
}

/// Changes the password, ends every other session, and returns a fresh session for
/// this device.
#[utoipa::path(put, path = "/api/me/password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 200, body = AuthResponse), (status = 422, body = ErrorEnvelope)))]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Enrolling,
    body: Body<ChangePasswordRequest>,
) -> AppResult<web::Json<AuthResponse>> {
    let (actor, body) = (caller.actor, body.0);
    password::check_policy("new_password", &body.new_password)?;
    let user = state.db(move |conn| users::find(conn, actor.id)).await?;
    if body.current_password.len() > password::MAX_BYTES
        || !state
            .hasher
            .verify(body.current_password, user.password_hash.clone())
            .await?
    {
        return Err(AppError::invalid("current_password", "does not match"));
    }
    let hash = state.hasher.hash(body.new_password).await?;
    let user_id = user.id;
    let user = state
        .db(move |conn| {
            users::update(
                conn,
                user_id,
                UserChanges {
                    password_hash: Some(hash),
                    ..Default::default()
                },
            )
        })
        .await?;
    state.realtime.user_changed(user.id).await;
    Ok(web::Json(start_session(&state, user).await?))
}

#[utoipa::path(post, path = "/api/me/totp/setup", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = TotpSetup), (status = 409, body = ErrorEnvelope)))]
pub async fn totp_setup(
    state: web::Data<AppState>,
    caller: Enrolling,
) -> AppResult<web::Json<TotpSetup>> {
    let actor = caller.actor;
    use crate::db::schema::users as u;
    use diesel::prelude::*;
    let secret = super::totp::new_secret();
    let s = secret.clone();
    let user = state
        .db(move |conn| {
            let user = users::find(conn, actor.id)?;
            if user.totp_enabled {
                return Err(AppError::conflict(
                    ErrorCode::Conflict,
                    "the second factor is already on; disable it first",
                ));
            }
            diesel::update(u::table.find(actor.id))
                .set(u::totp_secret.eq(&s))
                .execute(conn)?;
            Ok(user)
        })
        .await?;
    let otpauth_url = super::totp::otpauth_url(&secret, &user.email)?;
    Ok(web::Json(TotpSetup {
        secret,
        otpauth_url,
    }))
}

async fn set_totp(state: &AppState, actor: &Actor, code: String, enable: bool) -> AppResult<()> {
    use crate::db::schema::users as u;
    use diesel::prelude::*;
    let id = actor.id;
    let (user, required) = state
        .db(move |conn| {
            let user = users::find(conn, id)?;
            let required =
                user.role().is_staff() && crate::admin::queries::require_totp_for_staff(conn)?;
            Ok((user, required))
        })
        .await?;
    if !enable && required {
        return Err(AppError::forbidden(
            "this desk requires staff to use two-factor sign-in; an admin can reset it",
        ));
    }
    let Some(secret) = user.totp_secret.clone() else {
        return Err(AppError::conflict(
            ErrorCode::Conflict,
            "set up the second factor first",
        ));
    };
    if user.totp_enabled == enable {
        return Err(AppError::conflict(ErrorCode::Conflict, "nothing to change"));
    }
    if !super::totp::verify(&secret, &user.email, &code)? {
        return Err(AppError::invalid("code", "does not match"));
    }
    state
        .db(move |conn| {
            let secret: Option<String> = if enable { Some(secret) } else { None };
            diesel::update(u::table.find(id))
                .set((u::totp_enabled.eq(enable), u::totp_secret.eq(secret)))
                .execute(conn)?;
            Ok(())
        })
        .await
}

#[utoipa::path(post, path = "/api/me/totp/enable", tag = "auth", security(("bearer" = [])),
    request_body = TotpCode, responses((status = 204), (status = 422, body = ErrorEnvelope)))]
pub async fn totp_enable(
    state: web::Data<AppState>,
    caller: Enrolling,
    body: Body<TotpCode>,
) -> AppResult<HttpResponse> {
    set_totp(&state, &caller.actor, body.0.code, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/api/me/totp/disable", tag = "auth", security(("bearer" = [])),
    request_body = TotpCode, responses((status = 204), (status = 422, body = ErrorEnvelope)))]
pub async fn totp_disable(
    state: web::Data<AppState>,
    actor: Actor,
    body: Body<TotpCode>,
) -> AppResult<HttpResponse> {
    set_totp(&state, &actor, body.0.code, false).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Name and email preferences of the caller.
#[utoipa::path(patch, path = "/api/me", tag = "auth", security(("bearer" = [])),
    request_body = relay_protocol::users::UpdateMeRequest,
    responses((status = 200, body = UserView), (status = 422, body = ErrorEnvelope)))]
pub async fn update_me(
    state: web::Data<AppState>,
    caller: Enrolling,
    body: Body<relay_protocol::users::UpdateMeRequest>,
) -> AppResult<web::Json<UserView>> {
    use crate::db::schema::users as u;
    use diesel::prelude::*;
    let (actor, req) = (caller.actor, body.0);
    let name = req
        .name
        .as_deref()
        .map(normalize_name)
        .transpose()
        .map_err(|p| AppError::invalid("name", p))?;
    let user = state
        .db(move |conn| {
            if let Some(n) = name {
                diesel::update(u::table.find(actor.id))
                    .set(u::name.eq(n))
                    .execute(conn)?;
            }
            if let Some(o) = req.email_opt_out {
                diesel::update(u::table.find(actor.id))
                    .set(u::email_opt_out.eq(o))
                    .execute(conn)?;
            }
            let user = users::find(conn, actor.id)?;
            account_view(conn, &user)
        })
        .await?;
    Ok(web::Json(user))
}
