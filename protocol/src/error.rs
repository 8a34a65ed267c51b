//! The error envelope of SPEC §3: `{"error": {"code", "message", "fields"}}`.
//! Codes live here so the SPA can `match` on them instead of parsing text.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Machine-readable error codes. New codes may be added; existing ones never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ErrorCode {
    /// Malformed request: bad query string, bad path parameter.
    BadRequest,
    /// The body is not valid JSON.
    InvalidJson,
    /// Well-formed but unacceptable input; `fields` says which.
    ValidationFailed,
    /// No or unusable credentials.
    Unauthorized,
    /// Wrong email or password (never says which).
    InvalidCredentials,
    /// Access token expired, tampered, revoked or of the wrong kind.
    InvalidToken,
    /// A second factor is required for this account.
    TotpRequired,
    /// The desk requires staff to use a second factor and this account has none yet:
    /// only `/api/me`, `/api/me/totp/*` and sign-out work until it is set up.
    TotpSetupRequired,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    EmailTaken,
    /// A client_id was already used for a different ticket.
    ClientIdConflict,
    /// The ticket is closed: reopen it first.
    TicketClosed,
    /// The category still has tickets or subcategories.
    CategoryInUse,
    /// The change would leave the desk without an active admin.
    LastAdmin,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    /// A dependency (database, Redis) is unavailable.
    Unavailable,
    Internal,
    /// A code this client version does not know yet.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::TotpRequired => "totp_required",
            ErrorCode::TotpSetupRequired => "totp_setup_required",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::EmailTaken => "email_taken",
            ErrorCode::ClientIdConflict => "client_id_conflict",
            ErrorCode::TicketClosed => "ticket_closed",
            ErrorCode::CategoryInUse => "category_in_use",
            ErrorCode::LastAdmin => "last_admin",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// Per-field problems, keyed by the request field name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_shape_is_pinned() {
        let env = ErrorEnvelope {
            error: ErrorBody {
                code: ErrorCode::ValidationFailed,
                message: "title is required".into(),
                fields: Some(BTreeMap::from([("title".into(), "required".into())])),
            },
        };
        assert_eq!(
            serde_json::to_value(&env).unwrap(),
            serde_json::json!({"error": {"code": "validation_failed",
                "message": "title is required", "fields": {"title": "required"}}})
        );
        let bare = ErrorEnvelope {
            error: ErrorBody {
                code: ErrorCode::NotFound,
                message: "x".into(),
                fields: None,
            },
        };
        assert_eq!(
            serde_json::to_string(&bare).unwrap(),
            r#"{"error":{"code":"not_found","message":"x"}}"#
        );
    }

    #[test]
    fn as_str_matches_serde_name() {
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::InvalidJson,
            ErrorCode::ClientIdConflict,
            ErrorCode::TotpRequired,
            ErrorCode::TotpSetupRequired,
            ErrorCode::PayloadTooLarge,
            ErrorCode::LastAdmin,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn unknown_codes_do_not_break_old_clients() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"code":"brand_new_code","message":"m"}"#).unwrap();
        assert_eq!(body.code, ErrorCode::Unknown);
    }
}
