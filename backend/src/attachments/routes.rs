//! `POST /api/tickets/{id}/attachments` (multipart: `file`, optional `message_id`),
//! `GET /api/tickets/{id}/attachments`, `GET /api/attachments/{id}`.

use super::queries::{self, NewAttachment};
use super::sniff;
use crate::auth::policy::{can_see_message, can_see_ticket, check_ticket, TicketAction};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tickets::routes::visible_ticket;
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use futures_util::StreamExt;
use relay_protocol::messages::{AttachmentList, AttachmentView, MessageKind};
use relay_protocol::{ErrorCode, ErrorEnvelope};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/tickets/{id}/attachments")
            .route(web::get().to(list))
            .route(web::post().to(upload)),
    );
    cfg.service(web::resource("/attachments/{id}").route(web::get().to(download)));
}

fn bad_multipart(e: impl std::fmt::Display) -> AppError {
    AppError::bad_request(format!("could not read the multipart body: {e}"))
}

fn too_large(limit: usize) -> AppError {
    AppError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        format!("attachments are limited to {limit} bytes"),
    )
}

#[utoipa::path(post, path = "/api/tickets/{id}/attachments", tag = "attachments",
    security(("bearer" = [])), params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "`file`, optional `message_id`"),
    responses((status = 201, body = AttachmentView), (status = 413, body = ErrorEnvelope),
              (status = 415, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn upload(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    mut form: Multipart,
) -> AppResult<HttpResponse> {
    let ticket = visible_ticket(&state, &actor, path.into_inner()).await?;
    check_ticket(&actor, &ticket.facts(), TicketAction::ReplyPublic)?;
    let limit = state.config.max_upload_bytes;
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut message_id: Option<i64> = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(bad_multipart)?;
        let name = field
            .content_disposition()
            .and_then(|d| d.get_name())
            .unwrap_or("")
            .to_owned();
        let filename = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(bad_multipart)?;
            if bytes.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "file" if file.is_none() => file = Some((filename.unwrap_or_default(), bytes)),
            "file" => return Err(AppError::invalid("file", "one file per upload")),
            "message_id" => {
                let text = String::from_utf8(bytes).unwrap_or_default();
                message_id = Some(
                    text.trim()
                        .parse()
                        .map_err(|_| AppError::invalid("message_id", "must be a number"))?,
                );
            }
            _ => {}
        }
    }
    let (raw_name, bytes) = file.ok_or_else(|| AppError::invalid("file", "is required"))?;
    if bytes.is_empty() {
        return Err(AppError::invalid("file", "is empty"));
    }
    let content_type = sniff::allowed_type(&bytes).ok_or_else(|| {
        AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "this kind of file is not accepted (images, PDF, text and office documents are)",
        )
    })?;
    // The message decides the visibility: only staff attach to internal notes.
    if let Some(mid) = message_id {
        let tid = ticket.id;
        let kind = state
            .db(move |conn| queries::message_kind(conn, tid, mid))
            .await?;
        if kind == MessageKind::Internal {
            check_ticket(&actor, &ticket.facts(), TicketAction::AddInternalNote)?;
        }
    }
    let filename = sniff::clean_filename(&raw_name);
    let key = uuid::Uuid::new_v4().simple().to_string();
    let size = bytes.len() as i64;
    // The file first, then its row: a failure in between leaves no row without a file.
    state.store.put(key.clone(), bytes).await?;
    let (tid, uid, ct, k, name) = (
        ticket.id,
        actor.id,
        content_type.to_owned(),
        key.clone(),
        filename,
    );
    let inserted = state
        .db(move |conn| {
            let att = queries::insert(
                conn,
                &NewAttachment {
                    ticket_id: tid,
                    message_id,
                    uploader_id: uid,
                    filename: &name,
                    content_type: &ct,
                    size_bytes: size,
                    storage_key: &k,
                },
            )?;
            let me = crate::users::queries::find(conn, uid)?;
            Ok(att.view(Some(&me)))
        })
        .await;
    match inserted {
        Ok(view) => Ok(HttpResponse::Created().json(view)),
        Err(e) => {
            // Remove the file only when surely no row points at it: if the connection
            // died after COMMIT, the row exists and its file must stay. A check that
            // fails is tried again: a pooled connection that lost its server fails once
            // and is dropped, so after as many tries as the pool holds connections one
            // is fresh. When it cannot be made at all, an orphan file is the lesser harm.
            let tries = state.config.db_pool_size as usize + 1;
            for attempt in 0..tries {
                let k = key.clone();
                match state.db(move |conn| queries::key_in_use(conn, &k)).await {
                    Ok(false) => {
                        let _ = state.store.delete(key).await;
                        break;
                    }
                    Ok(true) => break,
                    Err(_) if attempt + 1 < tries => {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await
                    }
                    Err(_) => {}
                }
            }
            Err(e)
        }
    }
}

#[utoipa::path(get, path = "/api/tickets/{id}/attachments", tag = "attachments",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = AttachmentList), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> AppResult<web::Json<AttachmentList>> {
    let t = visible_ticket(&state, &actor, path.into_inner()).await?;
    let role = actor.role;
    Ok(web::Json(AttachmentList {
        items: state
            .db(move |conn| queries::list(conn, role, t.id))
            .await?,
    }))
}

/// Always a download (`Content-Disposition: attachment`, `nosniff`), whatever the type,
/// and only for those who may see the ticket and the message it belongs to (404 else).
#[utoipa::path(get, path = "/api/attachments/{id}", tag = "attachments", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200), (status = 404, body = ErrorEnvelope)))]
pub async fn download(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (att, ticket) = state
        .db(move |conn| {
            let (att, kind) = queries::find(conn, id)?;
            let ticket = crate::tickets::queries::find(conn, att.ticket_id)?;
            Ok(((att, kind), ticket))
        })
        .await?;
    let (att, kind) = att;
    let visible = can_see_ticket(actor.id, actor.role, &ticket.facts())
        && can_see_message(actor.role, kind.unwrap_or(MessageKind::Public));
    if !visible {
        return Err(AppError::not_found("attachment"));
    }
    let bytes = state.store.get(att.storage_key.clone()).await?;
    let encoded: String = att
        .filename
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    Ok(HttpResponse::Ok()
        .content_type(att.content_type.as_str())
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename*=UTF-8''{encoded}"),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(bytes))
}
