//! The OpenAPI document, generated from the handlers' annotations and the wire types.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Relay Desk API", description = "Real-time help desk: REST part. The WebSocket protocol is described in SPEC §4."),
    paths(
        crate::health::healthz,
        crate::health::readyz,
        crate::auth::routes::register,
        crate::auth::routes::login,
        crate::auth::routes::refresh,
        crate::auth::routes::logout,
        crate::auth::routes::me,
        crate::auth::routes::update_me,
        crate::auth::routes::change_password,
        crate::auth::routes::totp_setup,
        crate::auth::routes::totp_enable,
        crate::auth::routes::totp_disable,
        crate::users::routes::list,
        crate::users::routes::create,
        crate::users::routes::get,
        crate::users::routes::update,
        crate::users::routes::deactivate,
        crate::users::routes::staff,
        crate::categories::routes::tree,
        crate::categories::routes::create,
        crate::categories::routes::update,
        crate::categories::routes::delete,
        crate::tickets::routes::list,
        crate::tickets::routes::create,
        crate::tickets::routes::get,
        crate::tickets::routes::update,
        crate::tickets::routes::assign,
        crate::tickets::routes::history,
        crate::tickets::routes::get_rating,
        crate::tickets::routes::rate,
        crate::tickets::routes::list_links,
        crate::tickets::routes::add_link,
        crate::tickets::routes::remove_link,
        crate::messages::routes::list,
        crate::messages::routes::post,
        crate::admin::routes::get_sla,
        crate::admin::routes::put_sla,
        crate::admin::routes::get_settings,
        crate::admin::routes::patch_settings,
        crate::admin::routes::audit_log,
        crate::analytics::routes::summary,
        crate::analytics::routes::agents,
        crate::analytics::routes::categories,
        crate::analytics::routes::trends,
        crate::notifications::routes::list,
        crate::notifications::routes::read,
        crate::timetrack::routes::start,
        crate::timetrack::routes::stop,
        crate::timetrack::routes::list,
        crate::timetrack::routes::add,
        crate::timetrack::routes::mine,
        crate::attachments::routes::upload,
        crate::attachments::routes::list,
        crate::attachments::routes::download,
    ),
    modifiers(&BearerAuth, &ErrorResponses),
    tags(
        (name = "auth"), (name = "users"), (name = "categories"), (name = "tickets"),
        (name = "messages"), (name = "admin"), (name = "analytics"), (name = "notifications"), (name = "time"), (name = "attachments"), (name = "operations"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every `/api` operation may answer with the error envelope (SPEC §3) for these
/// statuses: bad query or path, no or bad token, not allowed, not found (or hidden),
/// conflict, body too large or of the wrong type, invalid fields, rate limited, and a
/// dependency down. The handlers document their specific successes; this adds the
/// shared failures so clients (and schema fuzzers) know every answer they can get.
struct ErrorResponses;

const SHARED_ERRORS: [(&str, &str); 10] = [
    ("400", "Malformed query string or path parameter"),
    (
        "401",
        "Missing, invalid or expired access token (or wrong credentials)",
    ),
    (
        "403",
        "Not allowed for this role, or two-factor set-up required",
    ),
    (
        "404",
        "No such resource, or one the caller may not know about",
    ),
    ("409", "Conflicts with the current state"),
    ("413", "Body too large"),
    ("415", "Unsupported content type"),
    ("422", "Invalid JSON or fields; `fields` names them"),
    ("429", "Rate limited; see Retry-After"),
    (
        "503",
        "A dependency is unavailable; retry after Retry-After",
    ),
];

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let envelope = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/") {
                continue;
            }
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in operations.into_iter().flatten() {
                for (status, description) in SHARED_ERRORS {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| {
                            ResponseBuilder::new()
                                .description(description)
                                .content("application/json", envelope())
                                .build()
                                .into()
                        });
                }
            }
        }
    }
}

pub async fn serve() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(ApiDoc::openapi())
}
