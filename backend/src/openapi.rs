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
    modifiers(&BearerAuth),
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

pub async fn serve() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(ApiDoc::openapi())
}
