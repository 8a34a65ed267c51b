//! Files on the ticket: upload, list, image previews and downloads. The download endpoint
//! needs the bearer token, so bytes come through the api module and are shown or saved
//! through `blob:` URLs, revoked when they leave the page.

use relay_protocol::messages::AttachmentView;
use relay_protocol::TicketId;
use wasm_bindgen::JsCast;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::notice::ErrorNotice;
use crate::workspace::{file_size, is_image};

#[derive(Properties, PartialEq)]
pub struct AttachmentsProps {
    pub ticket_id: TicketId,
    /// Whether the viewer may add files (not on a closed ticket).
    #[prop_or(true)]
    pub can_upload: bool,
}

#[function_component(Attachments)]
pub fn attachments(props: &AttachmentsProps) -> Html {
    let id = props.ticket_id;
    let items = use_state(|| None::<Vec<AttachmentView>>);
    let error = use_state(|| None::<ApiError>);
    let uploading = use_state(|| false);
    let input_ref = use_node_ref();

    {
        let (items, error) = (items.clone(), error.clone());
        use_effect_with(id, move |id| {
            let id = *id;
            spawn_local(async move {
                match api::workspace::attachments(id).await {
                    Ok(list) => items.set(Some(list.items)),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }

    let on_files = {
        let (items, error, uploading) = (items.clone(), error.clone(), uploading.clone());
        Callback::from(move |e: Event| {
            let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() else {
                return;
            };
            let Some(files) = input.files() else {
                return;
            };
            let files: Vec<web_sys::File> =
                (0..files.length()).filter_map(|i| files.get(i)).collect();
            // Clear so choosing the same file again still fires `change`.
            input.set_value("");
            if files.is_empty() {
                return;
            }
            let (items, error, uploading) = (items.clone(), error.clone(), uploading.clone());
            uploading.set(true);
            error.set(None);
            spawn_local(async move {
                let mut added = Vec::new();
                for file in files {
                    match api::workspace::upload(id, &file).await {
                        Ok(a) => added.push(a),
                        Err(mut e) => {
                            e.message = format!("{}: {}", file.name(), e.message);
                            error.set(Some(e));
                            break;
                        }
                    }
                }
                let mut all = (*items).clone().unwrap_or_default();
                all.extend(added);
                items.set(Some(all));
                uploading.set(false);
            });
        })
    };
    let on_pick = {
        let input_ref = input_ref.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(input) = input_ref.cast::<web_sys::HtmlInputElement>() {
                input.click();
            }
        })
    };

    let list = match &*items {
        None => html! { <p class="muted panel-note">{ "Loading files…" }</p> },
        Some(list) if list.is_empty() => {
            html! { <p class="muted panel-note">{ "No files yet." }</p> }
        }
        Some(list) => html! {
            <ul class="attachment-list" aria-label="Files">
                { for list.iter().map(|a| html! { <AttachmentItem key={a.id} attachment={a.clone()} /> }) }
            </ul>
        },
    };

    html! {
        <section class="card panel" aria-labelledby="attachments-title">
            <div class="panel-head">
                <h2 id="attachments-title" class="panel-title">{ "Files" }</h2>
                if props.can_upload {
                    <button type="button" class="btn btn-small" onclick={on_pick} disabled={*uploading}
                        aria-describedby="attachment-hint">
                        { if *uploading { "Uploading…" } else { "Attach file" } }
                    </button>
                }
            </div>
            if props.can_upload {
                // Visually hidden but focusable, so tests and assistive tech can reach it.
                <label for="attachment-file" class="visually-hidden">{ "Attach a file" }</label>
                <input id="attachment-file" ref={input_ref} type="file" multiple=true
                    class="visually-hidden" onchange={on_files} tabindex="-1" />
                <p id="attachment-hint" class="field-hint">{ "Images, PDFs and documents up to 10 MB." }</p>
            }
            if let Some(err) = (*error).clone() { <ErrorNotice error={err} /> }
            { list }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct AttachmentItemProps {
    attachment: AttachmentView,
}

/// One file; an image fetches its bytes once for the preview and reuses them to download.
#[function_component(AttachmentItem)]
fn attachment_item(props: &AttachmentItemProps) -> Html {
    let a = &props.attachment;
    let blob = use_state(|| None::<String>);
    let error = use_state(|| None::<ApiError>);
    let image = is_image(&a.content_type);

    {
        let (blob, error) = (blob.clone(), error.clone());
        let (url, content_type) = (a.url.clone(), a.content_type.clone());
        use_effect_with((url, image), move |(url, image)| {
            let alive = std::rc::Rc::new(std::cell::Cell::new(true));
            let made = std::rc::Rc::new(std::cell::RefCell::new(None::<String>));
            if *image {
                let (alive, made, url) = (alive.clone(), made.clone(), url.clone());
                spawn_local(async move {
                    match api::workspace::blob_url(&url, &content_type).await {
                        Ok(u) if alive.get() => {
                            *made.borrow_mut() = Some(u.clone());
                            blob.set(Some(u));
                        }
                        Ok(u) => revoke(&u),
                        Err(e) => error.set(Some(e)),
                    }
                });
            }
            move || {
                alive.set(false);
                if let Some(u) = made.borrow_mut().take() {
                    revoke(&u);
                }
            }
        });
    }

    let on_download = {
        let (a, blob, error) = (a.clone(), blob.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            let (a, blob, error) = (a.clone(), (*blob).clone(), error.clone());
            spawn_local(async move {
                let (url, temporary) = match blob {
                    Some(u) => (u, false),
                    None => match api::workspace::blob_url(&a.url, &a.content_type).await {
                        Ok(u) => (u, true),
                        Err(e) => return error.set(Some(e)),
                    },
                };
                save_as(&url, &a.filename);
                if temporary {
                    // Give the browser a moment to start the download before revoking.
                    gloo::timers::callback::Timeout::new(10_000, move || revoke(&url)).forget();
                }
            });
        })
    };

    html! {
        <li class="attachment">
            if image {
                <div class="attachment-preview">
                    if let Some(src) = (*blob).clone() {
                        <img src={src} alt={format!("Preview of {}", a.filename)} loading="lazy" />
                    } else {
                        <span class="muted">{ "Loading preview…" }</span>
                    }
                </div>
            } else {
                <span class="attachment-icon" aria-hidden="true">{ "📄" }</span>
            }
            <div class="attachment-meta">
                <span class="attachment-name" title={a.filename.clone()}>{ a.filename.clone() }</span>
                <span class="muted">
                    { file_size(a.size_bytes) }
                    { a.uploader.as_ref().map(|u| format!(" · {}", u.name)).unwrap_or_default() }
                </span>
            </div>
            <button type="button" class="btn btn-small btn-ghost" onclick={on_download}
                aria-label={format!("Download {}", a.filename)}>
                { "Download" }
            </button>
            if let Some(err) = (*error).clone() { <ErrorNotice error={err} /> }
        </li>
    }
}

fn revoke(url: &str) {
    let _ = web_sys::Url::revoke_object_url(url);
}

/// Clicks a temporary `<a download>` so the browser saves the blob under its name.
fn save_as(url: &str, filename: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(link) = doc.create_element("a") else {
        return;
    };
    let _ = link.set_attribute("href", url);
    let _ = link.set_attribute("download", filename);
    if let (Some(body), Ok(link)) = (doc.body(), link.dyn_into::<web_sys::HtmlElement>()) {
        let _ = body.append_child(&link);
        link.click();
        link.remove();
    }
}
