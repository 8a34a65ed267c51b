//! `Actor`: the authenticated caller, extracted from `Authorization: Bearer <jwt>`.
//! The token is verified, then the user row is read, so deactivation, role changes and
//! revocation (token version) take effect on the very next request.

use super::tokens;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::users::queries as users;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use relay_protocol::users::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: i64,
    pub role: Role,
    pub name: String,
    pub email: String,
}

impl Actor {
    pub fn summary(&self) -> relay_protocol::users::UserSummary {
        relay_protocol::users::UserSummary {
            id: relay_protocol::UserId(self.id),
            name: self.name.clone(),
            role: self.role,
        }
    }
}

/// Verifies an access token and loads the current state of its user.
pub async fn authenticate(state: &AppState, token: &str) -> AppResult<Actor> {
    authenticate_claims(state, token)
        .await
        .map(|(actor, _)| actor)
}

/// Like `authenticate`, also returning the verified claims (the socket needs the
/// token's version and expiry).
pub async fn authenticate_claims(
    state: &AppState,
    token: &str,
) -> AppResult<(Actor, tokens::AccessClaims)> {
    let verified = verify(state, token).await?;
    if verified.totp_setup_required {
        return Err(AppError::totp_setup_required());
    }
    Ok((verified.actor, verified.claims))
}

/// A verified caller, before the desk's second-factor rule for staff is applied.
struct Verified {
    actor: Actor,
    claims: tokens::AccessClaims,
    totp_setup_required: bool,
}

async fn verify(state: &AppState, token: &str) -> AppResult<Verified> {
    let claims = tokens::verify_access(&state.config, token)?;
    let user_id = claims.user_id()?;
    let (user, totp_setup_required) = state
        .db(move |conn| {
            let user = users::find(conn, user_id)?;
            let setup = super::totp::setup_required(conn, &user)?;
            Ok((user, setup))
        })
        .await
        .map_err(|e| match e {
            AppError::Client { .. } => AppError::invalid_token(),
            other => other,
        })?;
    if !user.active || user.token_version != claims.ver {
        return Err(AppError::invalid_token());
    }
    Ok(Verified {
        actor: Actor {
            id: user.id,
            role: user.role(),
            name: user.name,
            email: user.email,
        },
        claims,
        totp_setup_required,
    })
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn from_request_with<T: 'static>(
    req: &HttpRequest,
    finish: fn(Verified) -> AppResult<T>,
) -> LocalBoxFuture<'static, AppResult<T>> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer(req);
    Box::pin(async move {
        let state = state.ok_or_else(|| AppError::internal("app state missing"))?;
        let token = token.ok_or_else(|| {
            AppError::unauthorized("sign in first: send Authorization: Bearer <access token>")
        })?;
        finish(verify(&state, &token).await?)
    })
}

impl FromRequest for Actor {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Actor, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        from_request_with(req, |v| {
            if v.totp_setup_required {
                return Err(AppError::totp_setup_required());
            }
            Ok(v.actor)
        })
    }
}

/// The caller on their own account endpoints (profile, password, second factor,
/// sign-out): reachable even while the desk's two-factor rule still locks the rest.
pub struct Enrolling {
    pub actor: Actor,
    pub totp_setup_required: bool,
}

impl FromRequest for Enrolling {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Enrolling, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        from_request_with(req, |v| {
            Ok(Enrolling {
                actor: v.actor,
                totp_setup_required: v.totp_setup_required,
            })
        })
    }
}
