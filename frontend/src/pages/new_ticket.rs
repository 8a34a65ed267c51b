//! Open a ticket: title, description, category, priority and files.

use relay_protocol::categories::CategoryTree;
use relay_protocol::tickets::{CreateTicketRequest, Priority};
use relay_protocol::CategoryId;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::categories::select_groups;
use crate::api::{self, ApiError};
use crate::app::Route;
use crate::components::form::{bind, field_message, select_value, TextAreaField, TextField};
use crate::components::notice::ErrorNotice;
use crate::format::priority_label;

/// What the form sends, trimmed; `Err` names the first missing field.
pub fn build_request(
    title: &str,
    description: &str,
    category: Option<CategoryId>,
    priority: Option<Priority>,
) -> Result<CreateTicketRequest, (&'static str, &'static str)> {
    let title = title.trim();
    if title.is_empty() {
        return Err(("title", "Give the ticket a short title."));
    }
    Ok(CreateTicketRequest {
        title: title.to_owned(),
        description: description.trim().to_owned(),
        priority,
        category_id: category,
        requester_id: None,
        tags: Vec::new(),
    })
}

#[function_component(NewTicketPage)]
pub fn new_ticket_page() -> Html {
    let navigator = use_navigator();
    let title = use_state(String::new);
    let description = use_state(String::new);
    let category = use_state(|| None::<CategoryId>);
    let priority = use_state(|| Priority::Medium);
    let categories = use_state(|| None::<CategoryTree>);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let local_error = use_state(|| None::<(&'static str, &'static str)>);
    let files_ref = use_node_ref();
    let picked = use_state(Vec::<String>::new);

    {
        let categories = categories.clone();
        use_effect_with((), move |_| {
            spawn_local(async move {
                // Without categories the form still works; the select just stays empty.
                if let Ok(tree) = api::categories::tree().await {
                    categories.set(Some(tree));
                }
            });
        });
    }

    let onsubmit = {
        let (title, description, category, priority) = (
            title.clone(),
            description.clone(),
            category.clone(),
            priority.clone(),
        );
        let (busy, error, local_error) = (busy.clone(), error.clone(), local_error.clone());
        let files_ref = files_ref.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let body = match build_request(&title, &description, *category, Some(*priority)) {
                Ok(body) => body,
                Err(problem) => {
                    local_error.set(Some(problem));
                    return;
                }
            };
            local_error.set(None);
            error.set(None);
            busy.set(true);
            let (busy, error, navigator) = (busy.clone(), error.clone(), navigator.clone());
            let files: Vec<web_sys::File> = files_ref
                .cast::<web_sys::HtmlInputElement>()
                .and_then(|i| i.files())
                .map(|f| (0..f.length()).filter_map(|i| f.get(i)).collect())
                .unwrap_or_default();
            spawn_local(async move {
                match api::tickets::create(&body).await {
                    Ok(ticket) => {
                        // The ticket exists now; files follow. A refused file is shown on
                        // the ticket's Files panel rather than blocking the ticket.
                        for file in &files {
                            let _ = api::workspace::upload(ticket.id, file).await;
                        }
                        if let Some(nav) = navigator {
                            nav.push(&Route::Ticket { id: ticket.id });
                        }
                    }
                    Err(err) => {
                        error.set(Some(err));
                        busy.set(false);
                    }
                }
            });
        })
    };

    let field_error = |name: &str| {
        match *local_error {
            Some((field, msg)) if field == name => Some(msg.to_owned()),
            _ => None,
        }
        .or_else(|| field_message(&error, name))
    };
    let on_category = {
        let category = category.clone();
        Callback::from(move |e: Event| {
            category.set(select_value(&e).and_then(|v| v.parse().ok()));
        })
    };
    let on_priority = {
        let priority = priority.clone();
        Callback::from(move |e: Event| {
            if let Some(p) = select_value(&e).as_deref().and_then(Priority::parse) {
                priority.set(p);
            }
        })
    };
    let groups = (*categories)
        .as_ref()
        .map(select_groups)
        .unwrap_or_default();

    html! {
        <section class="page page-medium">
            <div class="page-head">
                <h1>{ "New ticket" }</h1>
            </div>
            <form class="card stack" {onsubmit} novalidate=true>
                if let Some(err) = (*error).clone() {
                    <ErrorNotice error={err} />
                }
                <TextField id="ticket-title" label="Title" value={(*title).clone()}
                    on_change={bind(&title)} required=true maxlength="200"
                    hint="One line that says what is wrong." error={field_error("title")} />
                <TextAreaField id="ticket-description" label="Description"
                    value={(*description).clone()} on_change={bind(&description)} rows={8}
                    error={field_error("description")} />
                <div class="field-row">
                    <div class={classes!("field", field_error("category_id").is_some().then_some("field-invalid"))}>
                        <label for="ticket-category">{ "Category" }</label>
                        <select id="ticket-category" onchange={on_category}>
                            <option value="" selected={category.is_none()}>{ "Not sure" }</option>
                            { for groups.into_iter().map(|g| html! {
                                <optgroup label={g.label}>
                                    { for g.options.into_iter().map(|(id, name)| html! {
                                        <option value={id.to_string()} selected={*category == Some(id)}>
                                            { name }
                                        </option>
                                    }) }
                                </optgroup>
                            }) }
                        </select>
                        if let Some(msg) = field_error("category_id") {
                            <p class="field-error">{ msg }</p>
                        }
                    </div>
                    <div class="field">
                        <label for="ticket-priority">{ "Priority" }</label>
                        <select id="ticket-priority" onchange={on_priority}>
                            { for Priority::ALL.iter().map(|p| html! {
                                <option value={p.as_str()} selected={*priority == *p}>
                                    { priority_label(*p) }
                                </option>
                            }) }
                        </select>
                    </div>
                </div>
                <div class="field">
                    <label for="ticket-files">{ "Attachments" }</label>
                    <input id="ticket-files" ref={files_ref.clone()} type="file" multiple=true
                        onchange={{
                            let picked = picked.clone();
                            Callback::from(move |e: Event| {
                                let names = e
                                    .target_dyn_into::<web_sys::HtmlInputElement>()
                                    .and_then(|i| i.files())
                                    .map(|f| (0..f.length()).filter_map(|i| f.get(i)).map(|f| f.name()).collect())
                                    .unwrap_or_default();
                                picked.set(names);
                            })
                        }} />
                    <p class="field-hint">
                        { if picked.is_empty() {
                            "Screenshots, PDFs or documents, up to 10 MB each.".to_owned()
                        } else {
                            format!("{} file(s): {}", picked.len(), picked.join(", "))
                        } }
                    </p>
                </div>
                <div class="form-actions">
                    <Link<Route> to={Route::Tickets} classes="btn btn-ghost">{ "Cancel" }</Link<Route>>
                    <button type="submit" class="btn btn-primary" disabled={*busy}>
                        { if *busy { "Creating…" } else { "Create ticket" } }
                    </button>
                </div>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_required_and_everything_is_trimmed() {
        assert_eq!(build_request("  ", "x", None, None).unwrap_err().0, "title");
        let req = build_request(" VPN down ", " since 9am \n", Some(CategoryId(3)), None).unwrap();
        assert_eq!(req.title, "VPN down");
        assert_eq!(req.description, "since 9am");
        assert_eq!(req.category_id, Some(CategoryId(3)));
        // Customers do not send a priority; the server applies its default.
        assert_eq!(serde_json::to_value(&req).unwrap().get("priority"), None);
    }
}
