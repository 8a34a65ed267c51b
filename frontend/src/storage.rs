//! The signed-in session as persisted in localStorage: both tokens and the user, one JSON value.
//! The decisions (what to keep, when a token is stale) are plain functions tested on the host.

use relay_protocol::auth::AuthResponse;
use relay_protocol::users::UserView;
use serde::{Deserialize, Serialize};

/// The one localStorage key the app owns.
pub const KEY: &str = "relay-desk.session";

/// Refresh this long before the access token expires, so a request never leaves with a
/// token that dies in flight.
const EXPIRY_MARGIN_MS: f64 = 30_000.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSession {
    pub access_token: String,
    pub refresh_token: String,
    /// Milliseconds since the epoch (browser clock) when the access token expires.
    pub access_expires_at_ms: f64,
    /// Shown at once on reload; `GET /api/me` refreshes it.
    pub user: UserView,
}

impl StoredSession {
    /// What to keep from a login, register or refresh answer received at `now_ms`.
    /// `expires_in` is relative, so a skewed client clock does not matter.
    pub fn from_auth(resp: &AuthResponse, now_ms: f64) -> StoredSession {
        StoredSession {
            access_token: resp.access_token.clone(),
            refresh_token: resp.refresh_token.clone(),
            access_expires_at_ms: now_ms + (resp.expires_in.max(0) as f64) * 1000.0,
            user: resp.user.clone(),
        }
    }

    /// The access token is expired or about to be: refresh before using it.
    pub fn access_is_stale(&self, now_ms: f64) -> bool {
        now_ms + EXPIRY_MARGIN_MS >= self.access_expires_at_ms
    }

    pub fn encode(&self) -> String {
        // Serialising plain strings and numbers cannot fail; an empty value reads back as
        // "signed out", which is the safe outcome anyway.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads what `encode` wrote. Anything unusable (another version's shape, hand-edited
    /// junk, empty tokens) means "signed out" rather than an error page.
    pub fn decode(raw: &str) -> Option<StoredSession> {
        let s: StoredSession = serde_json::from_str(raw).ok()?;
        if s.access_token.is_empty() || s.refresh_token.is_empty() {
            return None;
        }
        Some(s)
    }
}

// The browser calls below compile on the host too (web-sys stubs) but only run in the
// browser; the host unit tests stick to the pure functions above.

/// Browser clock in milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn local_storage() -> Option<web_sys::Storage> {
    // `None` when storage is disabled (some private modes): the app still works, the
    // session just does not survive a reload.
    web_sys::window()?.local_storage().ok()?
}

pub fn load() -> Option<StoredSession> {
    let raw = local_storage()?.get_item(KEY).ok()??;
    StoredSession::decode(&raw)
}

pub fn save(session: &StoredSession) {
    if let Some(storage) = local_storage() {
        // A full or blocked storage only costs persistence across reloads.
        let _ = storage.set_item(KEY, &session.encode());
    }
}

pub fn clear() {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(KEY);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use relay_protocol::users::Role;
    use relay_protocol::UserId;

    pub(crate) fn user(role: Role) -> UserView {
        UserView {
            id: UserId(7),
            email: "ada@example.com".into(),
            name: "Ada Lovelace".into(),
            role,
            active: true,
            totp_enabled: false,
            totp_setup_required: false,
            created_at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        }
    }

    pub(crate) fn stored(access: &str, refresh: &str) -> StoredSession {
        StoredSession {
            access_token: access.into(),
            refresh_token: refresh.into(),
            access_expires_at_ms: 1_000_000.0,
            user: user(Role::Customer),
        }
    }

    fn auth(expires_in: i64) -> AuthResponse {
        AuthResponse {
            user: user(Role::Technician),
            access_token: "acc".into(),
            refresh_token: "ref".into(),
            expires_in,
        }
    }

    #[test]
    fn from_auth_turns_relative_expiry_into_a_deadline() {
        let s = StoredSession::from_auth(&auth(900), 10_000.0);
        assert_eq!(s.access_expires_at_ms, 910_000.0);
        assert_eq!(s.access_token, "acc");
        assert_eq!(s.refresh_token, "ref");
        assert_eq!(s.user.role, Role::Technician);
        // A nonsensical negative lifetime is treated as already expired, not as the past.
        assert_eq!(
            StoredSession::from_auth(&auth(-5), 10_000.0).access_expires_at_ms,
            10_000.0
        );
    }

    #[test]
    fn staleness_has_a_safety_margin() {
        let s = StoredSession::from_auth(&auth(900), 0.0);
        assert!(!s.access_is_stale(0.0));
        assert!(!s.access_is_stale(869_999.0));
        assert!(s.access_is_stale(870_000.0));
        assert!(s.access_is_stale(2_000_000.0));
    }

    #[test]
    fn encode_decode_round_trip() {
        let s = stored("a", "r");
        assert_eq!(StoredSession::decode(&s.encode()), Some(s));
    }

    #[test]
    fn junk_in_storage_means_signed_out() {
        assert_eq!(StoredSession::decode(""), None);
        assert_eq!(StoredSession::decode("not json"), None);
        assert_eq!(StoredSession::decode(r#"{"access_token":"a"}"#), None);
        assert_eq!(StoredSession::decode(&stored("", "r").encode()), None);
        assert_eq!(StoredSession::decode(&stored("a", "").encode()), None);
    }
}
