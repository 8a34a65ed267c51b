//! Request-level plumbing: extractor error handlers and the catch-all that turns any
//! bare error response (unknown route, wrong method, oversized body) into the envelope.

use crate::error::AppError;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::error::{InternalError, JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use relay_protocol::ErrorCode;

fn respond(
    err: impl std::fmt::Debug + std::fmt::Display + 'static,
    app: AppError,
) -> actix_web::Error {
    InternalError::from_response(err, app.error_response()).into()
}

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| {
            let app = match &err {
                JsonPayloadError::ContentType => AppError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    ErrorCode::UnsupportedMediaType,
                    "send the body as JSON with Content-Type: application/json",
                ),
                JsonPayloadError::Overflow { limit }
                | JsonPayloadError::OverflowKnownLength { limit, .. } => AppError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::PayloadTooLarge,
                    format!("the JSON body is larger than {limit} bytes"),
                ),
                JsonPayloadError::Deserialize(e) if e.is_data() => AppError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::ValidationFailed,
                    format!("the body does not fit this endpoint: {e}"),
                ),
                JsonPayloadError::Deserialize(e) => AppError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::InvalidJson,
                    format!("the body is not valid JSON: {e}"),
                ),
                other => AppError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadRequest,
                    format!("could not read the body: {other}"),
                ),
            };
            respond(err, app)
        })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        let msg = format!("invalid query string: {err}");
        respond(
            err,
            AppError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, msg),
        )
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|err: PathError, _req| respond(err, AppError::not_found("resource")))
}

/// Unknown `/api/...` routes.
pub async fn api_not_found(req: HttpRequest) -> HttpResponse {
    AppError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        format!("no such endpoint: {} {}", req.method(), req.path()),
    )
    .error_response()
}

/// Strict CORS for the API: only the origins in `ALLOWED_ORIGINS` may read responses
/// from a browser on another origin. Tokens travel in the `Authorization` header (no
/// cookies), so credentials are never allowed. A preflight from any other origin is
/// refused (and answered in the error envelope by `envelope_errors`); a simple request
/// from one is served without `Access-Control-Allow-Origin`, so the browser withholds it.
pub fn cors(allowed_origins: &[String]) -> actix_cors::Cors {
    allowed_origins
        .iter()
        .fold(actix_cors::Cors::default(), |c, o| c.allowed_origin(o))
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([header::RETRY_AFTER, HeaderName::from_static("x-request-id")])
        .max_age(3600)
}

/// Every response carries `X-Request-Id`, the id that the request's log lines carry, so
/// a user's report can be matched with the server log.
pub fn echo_request_id<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let id = req
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|id| id.to_string());
    let fut = srv.call(req);
    async move {
        let mut res = fut.await?;
        if let Some(id) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
            res.headers_mut()
                .insert(HeaderName::from_static("x-request-id"), id);
        }
        Ok(res)
    }
}

/// Wraps any error response that is not already JSON (e.g. actix's own 405 or 413) in
/// the SPEC §3 envelope.
pub fn envelope_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "not found".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            format!(
                "{} is not allowed on {}",
                res.request().method(),
                res.request().path()
            ),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            (ErrorCode::PayloadTooLarge, "the body is too large".into())
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorCode::UnsupportedMediaType,
            "unsupported content type".into(),
        ),
        StatusCode::UNAUTHORIZED => (ErrorCode::Unauthorized, "sign in first".into()),
        StatusCode::FORBIDDEN => (ErrorCode::Forbidden, "forbidden".into()),
        StatusCode::TOO_MANY_REQUESTS => (ErrorCode::RateLimited, "too many requests".into()),
        s if s.is_server_error() => (ErrorCode::Internal, "internal error".into()),
        _ => (ErrorCode::BadRequest, "bad request".into()),
    };
    let body = serde_json::to_string(&relay_protocol::ErrorEnvelope {
        error: relay_protocol::ErrorBody {
            code,
            message,
            fields: None,
        },
    })
    .unwrap_or_default();
    let (req, mut res) = res.into_parts();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let res = res.set_body(body);
    let res = ServiceResponse::new(req, res).map_body(|_, b| EitherBody::right(BoxBody::new(b)));
    Ok(ErrorHandlerResponse::Response(res))
}

/// A JSON request body. Like `web::Json` (same size limit and errors) but stricter:
/// the body must be a JSON *object* (serde would otherwise accept an array for a
/// struct), and a body that does not fit the type is a 422 that names the problem.
pub struct Body<T>(pub T);

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let fut = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(value) = fut.await?;
            let unfit = |m: String| -> actix_web::Error {
                AppError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::ValidationFailed,
                    m,
                )
                .into()
            };
            if !value.is_object() {
                return Err(unfit("the body must be a JSON object".into()));
            }
            serde_json::from_value(value)
                .map(Body)
                .map_err(|e| unfit(format!("the body does not fit this endpoint: {e}")))
        })
    }
}

/// The Content-Security-Policy for the SPA: scripts only from this origin plus the exact
/// inline bootstrap trunk writes into index.html (by hash), WebAssembly compilation,
/// nothing framed, no plugins.
pub fn content_security_policy(index_html: Option<&str>) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let mut hashes = String::new();
    if let Some(html) = index_html {
        let mut rest = html;
        while let Some(start) = rest.find("<script") {
            let after = &rest[start..];
            let Some(open_end) = after.find('>') else {
                break;
            };
            let tag = &after[..open_end];
            let body_and_more = &after[open_end + 1..];
            let Some(close) = body_and_more.find("</script>") else {
                break;
            };
            if !tag.contains("src=") {
                let digest = Sha256::digest(&body_and_more.as_bytes()[..close]);
                let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
                hashes.push_str(&format!(" 'sha256-{b64}'"));
            }
            rest = &body_and_more[close..];
        }
    }
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
         font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::content_security_policy;

    #[test]
    fn hashes_inline_scripts_only() {
        let html = r#"<script src="/a.js"></script><script type="module">init()</script>"#;
        let csp = content_security_policy(Some(html));
        assert_eq!(csp.matches("'sha256-").count(), 1, "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("'wasm-unsafe-eval'"));
        assert!(!content_security_policy(None).contains("sha256"));
    }
}
