//! The one error type of the server. Every failure leaves as the SPEC §3 envelope;
//! anything unexpected is logged with detail and answered as a bare 500.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use relay_protocol::{ErrorBody, ErrorCode, ErrorEnvelope};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// An answer for the client: status, code and a human message.
    #[error("{code:?}: {message}")]
    Client {
        status: StatusCode,
        code: ErrorCode,
        message: String,
        fields: Option<BTreeMap<String, String>>,
    },
    #[error("database: {0}")]
    Database(#[from] DieselError),
    #[error("database pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("internal: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::Client {
            status,
            code,
            message: message.into(),
            fields: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }
    /// 422 with one field problem.
    pub fn invalid(field: &str, problem: impl Into<String>) -> Self {
        let problem = problem.into();
        AppError::Client {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: ErrorCode::ValidationFailed,
            message: format!("{field}: {problem}"),
            fields: Some(BTreeMap::from([(field.to_owned(), problem)])),
        }
    }
    /// 422 with several field problems.
    pub fn invalid_fields(fields: BTreeMap<String, String>) -> Self {
        let message = fields
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; ");
        AppError::Client {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: ErrorCode::ValidationFailed,
            message,
            fields: Some(fields),
        }
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }
    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidToken,
            "the access token is invalid, expired or revoked",
        )
    }
    pub fn totp_setup_required() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorCode::TotpSetupRequired,
            "this desk requires staff to use two-factor sign-in: set it up under Account first",
        )
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("{what} not found"),
        )
    }
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    /// 503 + Retry-After: nothing was stored, the same request may simply be repeated.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "the database is unavailable; try again",
        )
    }
    pub fn internal(message: impl Into<String>) -> Self {
        AppError::Internal(message.into())
    }

    pub fn body(&self) -> ErrorBody {
        match self {
            AppError::Client {
                code,
                message,
                fields,
                ..
            } => ErrorBody {
                code: *code,
                message: message.clone(),
                fields: fields.clone(),
            },
            other => {
                let (_, code, message) = other.classify();
                ErrorBody {
                    code,
                    message: message.into(),
                    fields: None,
                }
            }
        }
    }

    /// The connection died under the query: nothing is known to have committed, and
    /// a retry on another connection is the answer.
    pub fn is_connection_lost(&self) -> bool {
        matches!(self, AppError::Database(e) if connection_lost(e))
    }

    /// Status, code and public message of the non-client variants.
    fn classify(&self) -> (StatusCode, ErrorCode, &'static str) {
        match self {
            AppError::Client { status, code, .. } => (*status, *code, ""),
            AppError::Database(DieselError::NotFound) => {
                (StatusCode::NOT_FOUND, ErrorCode::NotFound, "not found")
            }
            e if e.is_connection_lost() => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "the database is unavailable; try again",
            ),
            AppError::Database(DieselError::DatabaseError(kind, _)) => match kind {
                DatabaseErrorKind::UniqueViolation => (
                    StatusCode::CONFLICT,
                    ErrorCode::Conflict,
                    "that already exists",
                ),
                DatabaseErrorKind::ForeignKeyViolation => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::ValidationFailed,
                    "a referenced record does not exist",
                ),
                DatabaseErrorKind::CheckViolation | DatabaseErrorKind::NotNullViolation => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::ValidationFailed,
                    "the value is not allowed",
                ),
                DatabaseErrorKind::SerializationFailure => (
                    StatusCode::CONFLICT,
                    ErrorCode::Conflict,
                    "a concurrent change got there first; try again",
                ),
                // Text with a NUL character: PostgreSQL cannot store it. Validation
                // catches the known fields; this is the net for any other.
                DatabaseErrorKind::Unknown if info_mentions_encoding(self) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::ValidationFailed,
                    "text must not contain NUL characters",
                ),
                _ => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "internal error",
                ),
            },
            AppError::Pool(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "the database is unavailable; try again",
            ),
            _ => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "internal error",
            ),
        }
    }
}

/// The connection died under the request (server restart, terminated backend, network):
/// the transaction did not commit as far as we can know, and a retry is the answer.
fn connection_lost(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        )
        | DieselError::BrokenTransactionManager => true,
        DieselError::RollbackErrorOnCommit { commit_error, .. } => connection_lost(commit_error),
        _ => false,
    }
}

fn info_mentions_encoding(e: &AppError) -> bool {
    matches!(e, AppError::Database(DieselError::DatabaseError(_, info))
        if info.message().contains("invalid byte sequence"))
}

/// Refuses NUL characters, which PostgreSQL text cannot hold.
pub fn no_nul(field: &str, s: &str) -> AppResult<()> {
    if s.contains('\0') {
        Err(AppError::invalid(field, "must not contain NUL characters"))
    } else {
        Ok(())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.classify().0
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut res = HttpResponse::build(status);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.insert_header(("Retry-After", "1"));
        }
        if let AppError::Client {
            fields: Some(f), ..
        } = self
        {
            if let Some(secs) = f.get("retry_after") {
                res.insert_header(("Retry-After", secs.clone()));
            }
        }
        res.json(ErrorEnvelope { error: self.body() })
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(format!("blocking task failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn not_found_leaves_as_the_envelope() {
        let res = AppError::Database(DieselError::NotFound).error_response();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let body = to_bytes(res.into_body()).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"error": {"code": "not_found", "message": "not found"}})
        );
    }

    #[actix_web::test]
    async fn internal_errors_hide_detail() {
        let res = AppError::internal("secret connection string").error_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(res.into_body()).await.unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("secret"));
    }

    #[test]
    fn invalid_lists_the_field() {
        let b = AppError::invalid("title", "is required").body();
        assert_eq!(b.code, ErrorCode::ValidationFailed);
        assert_eq!(b.fields.unwrap()["title"], "is required");
    }
}
