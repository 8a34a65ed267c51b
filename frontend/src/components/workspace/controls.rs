//! Status, priority, assignment and tags for staff; close / reopen for the requester.
//! Every change answers the updated ticket, which goes up through `on_change` (the socket's
//! `ticket_updated` keeps other viewers in sync the same way).

use relay_protocol::tickets::{Priority, TicketStatus, TicketView, UpdateTicketRequest};
use relay_protocol::users::{Role, UserSummary};
use relay_protocol::UserId;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::form::select_value;
use crate::components::notice::ErrorNotice;
use crate::format::{priority_label, status_label};
use crate::state::use_session;
use crate::workspace::{customer_action, parse_tags};

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub ticket: TicketView,
    pub on_change: Callback<TicketView>,
}

type Change = std::pin::Pin<Box<dyn std::future::Future<Output = Result<TicketView, ApiError>>>>;

#[function_component(Controls)]
pub fn controls(props: &ControlsProps) -> Html {
    let session = use_session();
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let staff_list = use_state(Vec::<UserSummary>::new);
    let tags_draft = use_state(|| props.ticket.tags.join(", "));
    let me = session.user.as_ref().map(|u| (u.id, u.role));
    let can_pick = matches!(me, Some((_, Role::Supervisor | Role::Admin)));

    {
        // A live tag change from someone else replaces the draft.
        let tags_draft = tags_draft.clone();
        use_effect_with(props.ticket.tags.clone(), move |tags| {
            tags_draft.set(tags.join(", "));
        });
    }
    {
        let staff_list = staff_list.clone();
        let error = error.clone();
        use_effect_with(can_pick, move |can_pick| {
            if *can_pick {
                spawn_local(async move {
                    match api::workspace::staff().await {
                        Ok(list) => staff_list.set(list),
                        Err(e) => error.set(Some(e)),
                    }
                });
            }
        });
    }

    // Runs one change; the answer replaces the ticket, an error stays on screen.
    let run = {
        let (error, busy, on_change) = (error.clone(), busy.clone(), props.on_change.clone());
        Callback::from(move |change: Change| {
            let (error, busy, on_change) = (error.clone(), busy.clone(), on_change.clone());
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                match change.await {
                    Ok(t) => on_change.emit(t),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };

    let id = props.ticket.id;
    let t = &props.ticket;
    let Some((my_id, role)) = me else {
        return html! {};
    };

    if !role.is_staff() {
        if t.requester.id != my_id {
            return html! {};
        }
        let (label, target) = customer_action(t.status);
        let onclick = {
            let run = run.clone();
            Callback::from(move |_: MouseEvent| {
                run.emit(Box::pin(api::ticket_edits::set_status(id, target)))
            })
        };
        return html! {
            <section class="card panel" aria-labelledby="controls-title">
                <h2 id="controls-title" class="panel-title">{ "Your ticket" }</h2>
                <p class="muted panel-note">
                    { if t.status.is_done() {
                        "Still having the problem? Reopen the ticket and we will pick it up again."
                    } else {
                        "Problem solved? Close the ticket to let the team know."
                    } }
                </p>
                <button id="ticket-close-toggle" type="button" class="btn btn-block" disabled={*busy} {onclick}>
                    { label }
                </button>
                if let Some(err) = (*error).clone() { <ErrorNotice error={err} /> }
            </section>
        };
    }

    let on_status = {
        let run = run.clone();
        Callback::from(move |e: Event| {
            if let Some(status) = select_value(&e).as_deref().and_then(TicketStatus::parse) {
                run.emit(Box::pin(api::ticket_edits::set_status(id, status)));
            }
        })
    };
    let on_priority = {
        let run = run.clone();
        Callback::from(move |e: Event| {
            if let Some(priority) = select_value(&e).as_deref().and_then(Priority::parse) {
                let body = UpdateTicketRequest {
                    priority: Some(priority),
                    ..Default::default()
                };
                run.emit(Box::pin(async move {
                    api::ticket_edits::update(id, &body).await
                }));
            }
        })
    };
    let assign = {
        let run = run.clone();
        Callback::from(move |who: Option<UserId>| {
            run.emit(Box::pin(api::ticket_edits::assign(id, who)))
        })
    };
    let on_take = {
        let assign = assign.clone();
        Callback::from(move |_: MouseEvent| assign.emit(Some(my_id)))
    };
    let on_release = {
        let assign = assign.clone();
        Callback::from(move |_: MouseEvent| assign.emit(None))
    };
    let on_pick = {
        let assign = assign.clone();
        Callback::from(move |e: Event| {
            let value = select_value(&e).unwrap_or_default();
            assign.emit(value.parse::<i64>().ok().map(UserId));
        })
    };
    let on_tags_input = {
        let tags_draft = tags_draft.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                tags_draft.set(input.value());
            }
        })
    };
    let tags = parse_tags(&tags_draft);
    let tags_changed = tags != t.tags;
    let on_tags = {
        let (run, tags) = (run.clone(), tags.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = UpdateTicketRequest {
                tags: Some(tags.clone()),
                ..Default::default()
            };
            run.emit(Box::pin(async move {
                api::ticket_edits::update(id, &body).await
            }));
        })
    };
    let assignee = t.assignee.as_ref().map(|a| a.id);
    let mine = assignee == Some(my_id);

    html! {
        <section class="card panel" aria-labelledby="controls-title" aria-busy={busy.to_string()}>
            <h2 id="controls-title" class="panel-title">{ "Manage" }</h2>
            <div class="control-grid">
                <div class="field field-compact">
                    <label for="ticket-status">{ "Status" }</label>
                    <select id="ticket-status" onchange={on_status} disabled={*busy}>
                        { for TicketStatus::ALL.iter().map(|s| html! {
                            <option value={s.as_str()} selected={*s == t.status}>{ status_label(*s) }</option>
                        }) }
                    </select>
                </div>
                <div class="field field-compact">
                    <label for="ticket-priority">{ "Priority" }</label>
                    <select id="ticket-priority" onchange={on_priority} disabled={*busy}>
                        { for Priority::ALL.iter().map(|p| html! {
                            <option value={p.as_str()} selected={*p == t.priority}>{ priority_label(*p) }</option>
                        }) }
                    </select>
                </div>
            </div>
            <div class="field field-compact">
                <span class="field-label" id="assignee-label">{ "Assignee" }</span>
                <div class="assignee-row">
                    <span class="assignee-name">
                        { t.assignee.as_ref().map_or_else(|| "Unassigned".to_owned(), |a| a.name.clone()) }
                    </span>
                    if mine {
                        <button id="ticket-release" type="button" class="btn btn-small" onclick={on_release} disabled={*busy}>
                            { "Release" }
                        </button>
                    } else {
                        <button id="ticket-take" type="button" class="btn btn-small btn-primary" onclick={on_take} disabled={*busy}>
                            { "Take" }
                        </button>
                    }
                </div>
            </div>
            if can_pick {
                <div class="field field-compact">
                    <label for="ticket-assignee">{ "Assign to" }</label>
                    <select id="ticket-assignee" onchange={on_pick} disabled={*busy}>
                        <option value="" selected={assignee.is_none()}>{ "Unassigned" }</option>
                        { for staff_list.iter().map(|u| html! {
                            <option value={u.id.0.to_string()} selected={Some(u.id) == assignee}>{ u.name.clone() }</option>
                        }) }
                        // Someone deactivated since still shows as the assignee.
                        if let Some(a) = t.assignee.as_ref().filter(|a| !staff_list.iter().any(|u| u.id == a.id)) {
                            <option value={a.id.0.to_string()} selected=true>{ a.name.clone() }</option>
                        }
                    </select>
                </div>
            }
            <form class="field field-compact" onsubmit={on_tags}>
                <label for="ticket-tags">{ "Tags" }</label>
                <div class="inline-form">
                    <input id="ticket-tags" type="text" value={(*tags_draft).clone()} oninput={on_tags_input}
                        placeholder="vpn, billing" aria-describedby="ticket-tags-hint" />
                    <button type="submit" class="btn btn-small" disabled={*busy || !tags_changed}>{ "Save" }</button>
                </div>
                <p id="ticket-tags-hint" class="field-hint">{ "Separate tags with commas." }</p>
            </form>
            if let Some(err) = (*error).clone() { <ErrorNotice error={err} /> }
        </section>
    }
}
