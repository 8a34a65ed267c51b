//! What the ticket workspace reads and changes around one ticket: staff, timer and time
//! entries, attachments, history, CSAT rating and links.

use gloo::net::http::Method;
use relay_protocol::messages::{AttachmentList, AttachmentView};
use relay_protocol::tickets::{HistoryList, LinkList, LinkRequest, RatingRequest, RatingView};
use relay_protocol::time::{ManualEntryRequest, RunningTimer, TimeEntry, TimeEntryList};
use relay_protocol::users::UserSummary;
use relay_protocol::TicketId;

use super::{get, post, request, request_raw, ApiError, Auth};

pub async fn staff() -> Result<Vec<UserSummary>, ApiError> {
    get("/api/staff").await
}

pub async fn my_timer() -> Result<RunningTimer, ApiError> {
    get("/api/me/timer").await
}

pub async fn start_timer(id: TicketId) -> Result<TimeEntry, ApiError> {
    post(&format!("/api/tickets/{id}/timer/start"), &()).await
}

pub async fn stop_timer(id: TicketId) -> Result<TimeEntry, ApiError> {
    post(&format!("/api/tickets/{id}/timer/stop"), &()).await
}

pub async fn time_entries(id: TicketId) -> Result<TimeEntryList, ApiError> {
    get(&format!("/api/tickets/{id}/time-entries")).await
}

pub async fn add_time(id: TicketId, body: &ManualEntryRequest) -> Result<TimeEntry, ApiError> {
    post(&format!("/api/tickets/{id}/time-entries"), body).await
}

pub async fn attachments(id: TicketId) -> Result<AttachmentList, ApiError> {
    get(&format!("/api/tickets/{id}/attachments")).await
}

/// Multipart upload of one file (field `file`) onto the ticket itself.
pub async fn upload(id: TicketId, file: &web_sys::File) -> Result<AttachmentView, ApiError> {
    let form = web_sys::FormData::new().map_err(|e| ApiError::network(format!("{e:?}")))?;
    form.append_with_blob_and_filename("file", file, &file.name())
        .map_err(|e| ApiError::network(format!("{e:?}")))?;
    let answer = request_raw(
        Method::POST,
        &format!("/api/tickets/{id}/attachments"),
        Some(form.into()),
    )
    .await?;
    answer.json()
}

/// The bytes behind an attachment's `url` (the download needs the bearer token), as a
/// `blob:` URL the page can show or download. The caller revokes it.
pub async fn blob_url(url: &str, content_type: &str) -> Result<String, ApiError> {
    let answer = request_raw(Method::GET, url, None).await?;
    if !(200..300).contains(&answer.status) {
        return Err(answer.error());
    }
    let bytes = js_sys::Uint8Array::from(answer.bytes.as_slice());
    let parts = js_sys::Array::of1(&bytes);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(content_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|e| ApiError::network(format!("{e:?}")))?;
    web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|e| ApiError::network(format!("{e:?}")))
}

pub async fn history(id: TicketId) -> Result<HistoryList, ApiError> {
    get(&format!("/api/tickets/{id}/history")).await
}

pub async fn rating(id: TicketId) -> Result<Option<RatingView>, ApiError> {
    get(&format!("/api/tickets/{id}/rating")).await
}

pub async fn rate(id: TicketId, body: &RatingRequest) -> Result<RatingView, ApiError> {
    post(&format!("/api/tickets/{id}/rating"), body).await
}

pub async fn links(id: TicketId) -> Result<LinkList, ApiError> {
    get(&format!("/api/tickets/{id}/links")).await
}

/// Answers the ticket's links after the change.
pub async fn add_link(id: TicketId, body: &LinkRequest) -> Result<LinkList, ApiError> {
    post(&format!("/api/tickets/{id}/links"), body).await
}

pub async fn remove_link(id: TicketId, link: i64) -> Result<(), ApiError> {
    request::<(), ()>(
        Method::DELETE,
        &format!("/api/tickets/{id}/links/{link}"),
        None,
        Auth::Session,
    )
    .await
}
