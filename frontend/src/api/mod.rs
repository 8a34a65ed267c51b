//! REST client: one `request` that attaches the bearer token, refreshes it once on a 401 and
//! maps every failure to `ApiError`. One module per resource builds on it, typed by protocol/.

pub mod analytics;
pub mod auth;
pub mod categories;
pub mod category_edits;
pub mod desk;
pub mod messages;
pub mod notifications;
pub mod ticket_edits;
pub mod tickets;
pub mod users;
pub mod workspace;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use gloo::net::http::{Method, RequestBuilder};
use relay_protocol::auth::{AuthResponse, RefreshRequest};
use relay_protocol::users::UserView;
use relay_protocol::{ErrorCode, ErrorEnvelope};
use serde::de::DeserializeOwned;
use serde::Serialize;
use yew::Callback;

use crate::storage::{self, StoredSession};

/// Every way a call can fail, as the screens need it: a code to `match` on, a sentence to
/// show, and per-field messages for forms.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status; `None` when no answer arrived (offline, DNS, CORS, aborted).
    pub status: Option<u16>,
    pub code: ErrorCode,
    pub message: String,
    /// Per-field problems keyed by request field name (`title`, `email`, ...).
    pub fields: BTreeMap<String, String>,
}

impl ApiError {
    /// A non-2xx answer: the error envelope when the body is one, else a generic error
    /// for the status (a proxy's HTML 502 page, an empty 404...).
    pub fn from_response(status: u16, body: &str) -> ApiError {
        match serde_json::from_str::<ErrorEnvelope>(body) {
            Ok(envelope) => ApiError {
                status: Some(status),
                code: envelope.error.code,
                message: envelope.error.message,
                fields: envelope.error.fields.unwrap_or_default(),
            },
            Err(_) => {
                let code = code_for_status(status);
                ApiError {
                    status: Some(status),
                    code,
                    message: default_message(code).to_owned(),
                    fields: BTreeMap::new(),
                }
            }
        }
    }

    pub fn network(detail: impl fmt::Display) -> ApiError {
        warn(&format!("request failed: {detail}"));
        ApiError {
            status: None,
            code: ErrorCode::Unavailable,
            message: "Cannot reach Relay Desk. Check your connection and try again.".into(),
            fields: BTreeMap::new(),
        }
    }

    /// A 2xx answer whose body is not the JSON this client expects (version skew).
    pub fn unexpected(status: u16, detail: impl fmt::Display) -> ApiError {
        warn(&format!("unexpected answer ({status}): {detail}"));
        ApiError {
            status: Some(status),
            code: ErrorCode::Internal,
            message:
                "The server sent an answer this page does not understand. Reload and try again."
                    .into(),
            fields: BTreeMap::new(),
        }
    }

    /// The session ended (here or in another tab) before the request could be sent.
    pub fn signed_out() -> ApiError {
        ApiError {
            status: Some(401),
            code: ErrorCode::Unauthorized,
            message: default_message(ErrorCode::Unauthorized).to_owned(),
            fields: BTreeMap::new(),
        }
    }

    pub fn is_unauthorized(&self) -> bool {
        self.status == Some(401)
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Details for developers go to the console; users get the short message.
pub(crate) fn warn(detail: &str) {
    #[cfg(target_arch = "wasm32")]
    gloo::console::warn!(detail);
    // Host unit tests have no browser console.
    #[cfg(not(target_arch = "wasm32"))]
    let _ = detail;
}

fn code_for_status(status: u16) -> ErrorCode {
    match status {
        400 => ErrorCode::BadRequest,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        409 => ErrorCode::Conflict,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        422 => ErrorCode::ValidationFailed,
        429 => ErrorCode::RateLimited,
        502..=504 => ErrorCode::Unavailable,
        _ => ErrorCode::Internal,
    }
}

fn default_message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Unauthorized | ErrorCode::InvalidToken => {
            "Your session has ended. Sign in again."
        }
        ErrorCode::Forbidden => "You do not have access to this.",
        ErrorCode::NotFound => "Not found.",
        ErrorCode::RateLimited => "Too many requests. Wait a moment and try again.",
        ErrorCode::PayloadTooLarge => "That is too large to upload.",
        ErrorCode::UnsupportedMediaType => "That file type is not allowed.",
        ErrorCode::Unavailable => "Relay Desk is temporarily unavailable. Try again shortly.",
        ErrorCode::BadRequest | ErrorCode::ValidationFailed => "Check the form and try again.",
        _ => "Something went wrong. Try again.",
    }
}

/// Whether a request carries the session's bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Login, register: no token, and a 401 is the answer itself (wrong password).
    Anonymous,
    /// Everything else: bearer token, refreshed ahead of expiry and once more on a 401.
    Session,
}

/// What to do with an answer. Pure, so the refresh-once rule is tested on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Hand the answer (success or error) to the caller.
    Done,
    /// Another request or tab already rotated the tokens: resend with the stored token.
    RetryWithStored,
    /// Refresh the tokens once, then resend.
    RefreshAndRetry,
    /// The session is over: forget it, then hand the 401 to the caller.
    SignOut,
}

/// `sent` is the access token the request carried; `retried` says this answer is already
/// the second attempt; `stored` is the session in storage *now* (it may have moved on).
pub(crate) fn after_response(
    status: u16,
    sent: Option<&str>,
    retried: bool,
    stored: Option<&StoredSession>,
) -> Next {
    if status != 401 {
        return Next::Done;
    }
    let Some(sent) = sent else {
        return Next::Done;
    };
    if retried {
        return Next::SignOut;
    }
    match stored {
        None => Next::SignOut,
        Some(s) if s.access_token != sent => Next::RetryWithStored,
        Some(_) => Next::RefreshAndRetry,
    }
}

/// A refresh answer that means the refresh token itself is dead (expired, revoked, reused),
/// as opposed to a network or server failure worth retrying later.
pub(crate) fn refresh_rejected(err: &ApiError) -> bool {
    matches!(err.status, Some(400 | 401 | 403))
}

/// Decodes a 2xx body (empty bodies, e.g. 204, decode as JSON `null`, so `T = ()` works)
/// or turns a non-2xx answer into `ApiError`.
pub(crate) fn decode_answer<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, ApiError> {
    if !(200..300).contains(&status) {
        return Err(ApiError::from_response(status, body));
    }
    let body = if body.trim().is_empty() { "null" } else { body };
    serde_json::from_str(body).map_err(|e| ApiError::unexpected(status, e))
}

/// `path?query` from any serialisable query struct (absent fields are skipped by the
/// protocol types' `skip_serializing_if`); no `?` when nothing is set.
pub fn with_query<Q: Serialize>(path: &str, query: &Q) -> String {
    match serde_urlencoded::to_string(query) {
        Ok(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.to_owned(),
    }
}

/// Notices the API layer gives the session state: it rotates tokens on its own.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// New tokens were stored; the user record came with them.
    Refreshed(UserView),
    /// The session is over (refresh rejected, or signed out in another tab).
    Expired,
}

thread_local! {
    static LISTENER: RefCell<Option<Callback<SessionEvent>>> = const { RefCell::new(None) };
    static REFRESHING: RefCell<Option<RefreshFuture>> = const { RefCell::new(None) };
}

type RefreshFuture = Shared<LocalBoxFuture<'static, Result<StoredSession, ApiError>>>;

/// The session provider registers here; `None` unregisters.
pub fn set_session_listener(listener: Option<Callback<SessionEvent>>) {
    LISTENER.with(|l| *l.borrow_mut() = listener);
}

fn notify(event: SessionEvent) {
    // Clone out first: the callback may re-enter the API layer.
    if let Some(cb) = LISTENER.with(|l| l.borrow().clone()) {
        cb.emit(event);
    }
}

fn end_session() {
    storage::clear();
    notify(SessionEvent::Expired);
}

/// The one request function. `B = ()` with `body = None` for bodiless requests.
pub async fn request<B, T>(
    method: Method,
    path: &str,
    body: Option<&B>,
    auth: Auth,
) -> Result<T, ApiError>
where
    B: Serialize + ?Sized,
    T: DeserializeOwned,
{
    let body = match body {
        Some(b) => Some(serde_json::to_string(b).map_err(|e| ApiError::unexpected(0, e))?),
        None => None,
    };
    let mut token = match auth {
        Auth::Anonymous => None,
        Auth::Session => match usable_access_token().await {
            Some(t) => Some(t),
            None => {
                end_session();
                return Err(ApiError::signed_out());
            }
        },
    };
    let mut retried = false;
    loop {
        let (status, text) = send(method.clone(), path, body.as_deref(), token.as_deref()).await?;
        match after_response(status, token.as_deref(), retried, storage::load().as_ref()) {
            Next::Done => return decode_answer(status, &text),
            Next::RetryWithStored => token = storage::load().map(|s| s.access_token),
            Next::RefreshAndRetry => match refresh().await {
                Ok(fresh) => token = Some(fresh.access_token),
                // Rejected refresh already ended the session; either way the caller
                // gets the original 401 or the network error.
                Err(e) if refresh_rejected(&e) => {
                    return Err(ApiError::from_response(status, &text))
                }
                Err(e) => return Err(e),
            },
            Next::SignOut => {
                end_session();
                return Err(ApiError::from_response(status, &text));
            }
        }
        retried = true;
    }
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    request::<(), T>(Method::GET, path, None, Auth::Session).await
}

pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    request(Method::POST, path, Some(body), Auth::Session).await
}

/// A request whose body is not JSON (multipart uploads) or whose answer is not JSON
/// (attachment bytes): the same token and refresh-once rules as `request`, but the raw
/// answer comes back as status and bytes.
pub(crate) async fn request_raw(
    method: Method,
    path: &str,
    body: Option<wasm_bindgen::JsValue>,
) -> Result<RawAnswer, ApiError> {
    let mut token = match usable_access_token().await {
        Some(t) => t,
        None => {
            end_session();
            return Err(ApiError::signed_out());
        }
    };
    let mut retried = false;
    loop {
        let answer = send_raw(method.clone(), path, body.clone(), &token).await?;
        let status = answer.status;
        match after_response(status, Some(&token), retried, storage::load().as_ref()) {
            Next::Done => return Ok(answer),
            Next::RetryWithStored => match storage::load() {
                Some(s) => token = s.access_token,
                None => return Err(ApiError::signed_out()),
            },
            Next::RefreshAndRetry => match refresh().await {
                Ok(fresh) => token = fresh.access_token,
                Err(e) if refresh_rejected(&e) => return Err(answer.error()),
                Err(e) => return Err(e),
            },
            Next::SignOut => {
                end_session();
                return Err(answer.error());
            }
        }
        retried = true;
    }
}

/// What `request_raw` hands back.
pub(crate) struct RawAnswer {
    pub status: u16,
    pub bytes: Vec<u8>,
}

impl RawAnswer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn error(&self) -> ApiError {
        ApiError::from_response(self.status, &self.text())
    }

    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        decode_answer(self.status, &self.text())
    }
}

async fn send_raw(
    method: Method,
    path: &str,
    body: Option<wasm_bindgen::JsValue>,
    token: &str,
) -> Result<RawAnswer, ApiError> {
    let req = RequestBuilder::new(path)
        .method(method)
        .header("Authorization", &format!("Bearer {token}"));
    // No Content-Type for FormData: the browser writes it with the multipart boundary.
    let resp = match body {
        Some(b) => req.body(b).map_err(ApiError::network)?.send().await,
        None => req.send().await,
    }
    .map_err(ApiError::network)?;
    let status = resp.status();
    let bytes = resp.binary().await.map_err(ApiError::network)?;
    Ok(RawAnswer { status, bytes })
}

/// The stored access token, refreshed first when it is about to expire. `None` when
/// there is no session (or its refresh was rejected).
async fn usable_access_token() -> Option<String> {
    let stored = storage::load()?;
    if !stored.access_is_stale(storage::now_ms()) {
        return Some(stored.access_token);
    }
    match refresh().await {
        Ok(fresh) => Some(fresh.access_token),
        Err(e) if refresh_rejected(&e) => None,
        // Offline or server trouble: try the old token; the 401 path decides later.
        Err(_) => Some(stored.access_token),
    }
}

/// The token the WebSocket authenticates with: the stored access token, refreshed first
/// when it is about to expire. `None` when the session is over (the listener was told).
pub(crate) async fn socket_token() -> Option<String> {
    let token = usable_access_token().await;
    if token.is_none() {
        end_session();
    }
    token
}

/// The socket was closed with 4401 after authenticating with `sent`: make sure a newer
/// token is stored before reconnecting. The same rule as a REST 401: a token another
/// request or tab already rotated is simply reused, otherwise refresh once. A rejected
/// refresh ends the session (the listener is told); other errors are worth a retry.
pub(crate) async fn renew_rejected_token(sent: &str) -> Result<(), ApiError> {
    match after_response(401, Some(sent), false, storage::load().as_ref()) {
        Next::RetryWithStored => Ok(()),
        Next::RefreshAndRetry => refresh().await.map(drop),
        Next::Done | Next::SignOut => {
            end_session();
            Err(ApiError::signed_out())
        }
    }
}

/// Single-flight refresh: concurrent callers share one `POST /api/auth/refresh`, because
/// presenting a rotated refresh token twice revokes the whole token family (SPEC §3).
async fn refresh() -> Result<StoredSession, ApiError> {
    let shared = REFRESHING.with(|slot| {
        let mut slot = slot.borrow_mut();
        if let Some(running) = slot.as_ref() {
            return running.clone();
        }
        let fut: RefreshFuture = async {
            let out = refresh_now().await;
            // Cleared when it finishes, so the next stale token starts a new refresh.
            REFRESHING.with(|s| s.borrow_mut().take());
            out
        }
        .boxed_local()
        .shared();
        *slot = Some(fut.clone());
        fut
    });
    shared.await
}

async fn refresh_now() -> Result<StoredSession, ApiError> {
    let Some(current) = storage::load() else {
        return Err(ApiError::signed_out());
    };
    let body = RefreshRequest {
        refresh_token: current.refresh_token,
    };
    let json = serde_json::to_string(&body).map_err(|e| ApiError::unexpected(0, e))?;
    let (status, text) = send(Method::POST, "/api/auth/refresh", Some(&json), None).await?;
    match decode_answer::<AuthResponse>(status, &text) {
        Ok(resp) => {
            let fresh = StoredSession::from_auth(&resp, storage::now_ms());
            storage::save(&fresh);
            notify(SessionEvent::Refreshed(fresh.user.clone()));
            Ok(fresh)
        }
        Err(e) => {
            if refresh_rejected(&e) {
                end_session();
            }
            Err(e)
        }
    }
}

/// One HTTP exchange: status and body text, or a network error.
pub(crate) async fn send(
    method: Method,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> Result<(u16, String), ApiError> {
    let mut req = RequestBuilder::new(path)
        .method(method)
        .header("Accept", "application/json");
    if let Some(token) = token {
        req = req.header("Authorization", &format!("Bearer {token}"));
    }
    let resp = match body {
        Some(json) => {
            req.header("Content-Type", "application/json")
                .body(json.to_owned())
                .map_err(ApiError::network)?
                .send()
                .await
        }
        None => req.send().await,
    }
    .map_err(ApiError::network)?;
    let status = resp.status();
    let text = resp.text().await.map_err(ApiError::network)?;
    Ok((status, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::tests::stored;
    use relay_protocol::tickets::TicketListQuery;

    #[test]
    fn envelope_becomes_the_error() {
        let body = r#"{"error":{"code":"validation_failed","message":"title is required",
            "fields":{"title":"required"}}}"#;
        let e = ApiError::from_response(422, body);
        assert_eq!(e.status, Some(422));
        assert_eq!(e.code, ErrorCode::ValidationFailed);
        assert_eq!(e.message, "title is required");
        assert_eq!(e.field("title"), Some("required"));
        assert_eq!(e.field("description"), None);
        assert_eq!(e.to_string(), "title is required");
    }

    #[test]
    fn non_envelope_bodies_fall_back_to_the_status() {
        let e = ApiError::from_response(502, "<html>Bad Gateway</html>");
        assert_eq!(e.code, ErrorCode::Unavailable);
        assert!(e.fields.is_empty());
        assert_eq!(ApiError::from_response(404, "").code, ErrorCode::NotFound);
        assert_eq!(
            ApiError::from_response(429, "{}").code,
            ErrorCode::RateLimited
        );
        assert_eq!(
            ApiError::from_response(500, "oops").code,
            ErrorCode::Internal
        );
        assert!(ApiError::from_response(401, "").is_unauthorized());
    }

    #[test]
    fn unknown_codes_survive() {
        let e = ApiError::from_response(418, r#"{"error":{"code":"teapot","message":"short"}}"#);
        assert_eq!(e.code, ErrorCode::Unknown);
        assert_eq!(e.message, "short");
    }

    #[test]
    fn decode_answer_handles_success_empty_and_errors() {
        let n: i64 = decode_answer(200, "42").unwrap();
        assert_eq!(n, 42);
        let unit: () = decode_answer(204, "").unwrap();
        assert_eq!(unit, ());
        let wrong = decode_answer::<i64>(200, r#"{"a":1}"#).unwrap_err();
        assert_eq!(wrong.code, ErrorCode::Internal);
        let err = decode_answer::<i64>(403, r#"{"error":{"code":"forbidden","message":"no"}}"#)
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Forbidden);
    }

    #[test]
    fn only_401_triggers_the_refresh_dance() {
        let s = stored("acc-1", "ref-1");
        for status in [200, 204, 400, 403, 404, 409, 422, 500] {
            assert_eq!(
                after_response(status, Some("acc-1"), false, Some(&s)),
                Next::Done
            );
        }
    }

    #[test]
    fn first_401_refreshes_once_then_gives_up() {
        let s = stored("acc-1", "ref-1");
        assert_eq!(
            after_response(401, Some("acc-1"), false, Some(&s)),
            Next::RefreshAndRetry
        );
        assert_eq!(
            after_response(401, Some("acc-1"), true, Some(&s)),
            Next::SignOut
        );
    }

    #[test]
    fn a_token_rotated_meanwhile_is_reused_not_refreshed_again() {
        // Another request (or tab) refreshed while ours was in flight: presenting the
        // old refresh token again would be reuse and revoke the family.
        let s = stored("acc-2", "ref-2");
        assert_eq!(
            after_response(401, Some("acc-1"), false, Some(&s)),
            Next::RetryWithStored
        );
    }

    #[test]
    fn a_401_without_a_token_is_just_the_answer() {
        // Wrong password on login: no session to refresh, no sign-out.
        assert_eq!(after_response(401, None, false, None), Next::Done);
        assert_eq!(
            after_response(401, None, false, Some(&stored("a", "r"))),
            Next::Done
        );
    }

    #[test]
    fn a_401_after_sign_out_elsewhere_signs_out_here() {
        assert_eq!(
            after_response(401, Some("acc-1"), false, None),
            Next::SignOut
        );
    }

    #[test]
    fn refresh_rejection_vs_transient_failure() {
        assert!(refresh_rejected(&ApiError::from_response(401, "")));
        assert!(refresh_rejected(&ApiError::from_response(400, "")));
        assert!(!refresh_rejected(&ApiError::from_response(503, "")));
        assert!(!refresh_rejected(&ApiError::from_response(500, "")));
        assert!(!refresh_rejected(&ApiError {
            status: None,
            code: ErrorCode::Unavailable,
            message: String::new(),
            fields: BTreeMap::new(),
        }));
    }

    #[test]
    fn query_strings_skip_absent_fields_and_encode_values() {
        assert_eq!(
            with_query("/api/tickets", &TicketListQuery::default()),
            "/api/tickets"
        );
        let q = TicketListQuery {
            q: Some("printer on fire & co".into()),
            status: Some("open,in_progress".into()),
            limit: Some(25),
            ..Default::default()
        };
        assert_eq!(
            with_query("/api/tickets", &q),
            "/api/tickets?q=printer+on+fire+%26+co&status=open%2Cin_progress&limit=25"
        );
    }
}
