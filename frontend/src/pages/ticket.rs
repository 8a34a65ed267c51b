//! One ticket: its details, the conversation and the reply composer. Until the WebSocket
//! service (ws.rs) lands, new messages arrive by polling `after_seq`, merged by `Timeline`.

use std::cell::Cell;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use gloo::timers::callback::Interval;
use relay_protocol::messages::{MessageKind, MessageListQuery, MessageView, PostMessageRequest};
use relay_protocol::tickets::{TicketStatus, TicketView};
use relay_protocol::{ErrorCode, TicketId, UserId};
use uuid::Uuid;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::app::Route;
use crate::components::badges::{Avatar, PriorityBadge, StatusBadge};
use crate::components::notice::{EmptyState, ErrorNotice, Loading};
use crate::conversation::{client_id_for, PendingSend, Timeline, TimelineAction};
use crate::format::{local_timestamp, relative_time, role_label};
use crate::state::use_session;

const POLL_MS: u32 = 5_000;
const PAGE_LIMIT: i64 = 200;
/// Stop paging after this many pages in one catch-up; the next poll continues.
const MAX_PAGES: usize = 20;

#[derive(Properties, PartialEq)]
pub struct TicketPageProps {
    pub id: TicketId,
}

/// Fetches every message after `after_seq`, page by page, into the timeline.
async fn catch_up(
    ticket: TicketId,
    mut after_seq: i64,
    timeline: UseReducerDispatcher<Timeline>,
) -> Result<(), ApiError> {
    for _ in 0..MAX_PAGES {
        let query = MessageListQuery {
            after_seq: Some(after_seq),
            before_seq: None,
            limit: Some(PAGE_LIMIT),
        };
        let page = api::messages::list(ticket, &query).await?;
        let Some(last) = page.items.last().map(|m| m.seq) else {
            break;
        };
        after_seq = last;
        timeline.dispatch(TimelineAction::Arrived(page.items));
        if !page.has_more {
            break;
        }
    }
    Ok(())
}

#[function_component(TicketPage)]
pub fn ticket_page(props: &TicketPageProps) -> Html {
    let session = use_session();
    let ticket = use_state(|| None::<TicketView>);
    let load_error = use_state(|| None::<ApiError>);
    let messages_error = use_state(|| None::<ApiError>);
    let timeline = use_reducer(Timeline::default);
    let retry = use_state(|| 0u32);
    let end_ref = use_node_ref();
    // The poller reads the newest seq through this, not through a stale closure copy.
    let last_seq = use_mut_ref(|| 0i64);
    *last_seq.borrow_mut() = timeline.last_seq();

    // The ticket on screen; answers for one the user already left are dropped.
    let current = use_mut_ref(|| props.id);

    {
        let (ticket, load_error, messages_error) =
            (ticket.clone(), load_error.clone(), messages_error.clone());
        let dispatcher = timeline.dispatcher();
        let (last_seq, current) = (last_seq.clone(), current.clone());
        use_effect_with((props.id, *retry), move |(id, _)| {
            let id = *id;
            *current.borrow_mut() = id;
            dispatcher.dispatch(TimelineAction::Reset(id));
            *last_seq.borrow_mut() = 0;
            ticket.set(None);
            load_error.set(None);
            messages_error.set(None);
            {
                let dispatcher = dispatcher.clone();
                let current = current.clone();
                spawn_local(async move {
                    let fetched = api::tickets::fetch(id).await;
                    if *current.borrow() != id {
                        return;
                    }
                    match fetched {
                        Ok(t) => ticket.set(Some(t)),
                        Err(e) => {
                            load_error.set(Some(e));
                            return;
                        }
                    }
                    if let Err(e) = catch_up(id, 0, dispatcher).await {
                        if *current.borrow() == id {
                            messages_error.set(Some(e));
                        }
                    }
                });
            }
            let polling = Rc::new(Cell::new(false));
            let interval = Interval::new(POLL_MS, move || {
                if polling.replace(true) {
                    return; // the previous poll is still running
                }
                let (polling, dispatcher) = (polling.clone(), dispatcher.clone());
                let after = *last_seq.borrow();
                spawn_local(async move {
                    // Poll failures stay quiet: the next tick retries.
                    let _ = catch_up(id, after, dispatcher).await;
                    polling.set(false);
                });
            });
            move || drop(interval)
        });
    }

    {
        // Keep the newest message (and the composer) in view as the conversation grows.
        let end_ref = end_ref.clone();
        use_effect_with(timeline.messages.len(), move |count| {
            if *count > 0 {
                if let Some(end) = end_ref.cast::<web_sys::Element>() {
                    end.scroll_into_view_with_bool(false);
                }
            }
        });
    }

    if let Some(err) = (*load_error).clone() {
        let on_retry = {
            let retry = retry.clone();
            Callback::from(move |_| retry.set(*retry + 1))
        };
        // Retrying cannot help when the ticket is gone, not ours, or the session ended.
        let hopeless =
            err.is_unauthorized() || matches!(err.code, ErrorCode::NotFound | ErrorCode::Forbidden);
        let retry_cb = (!hopeless).then_some(on_retry);
        return html! {
            <section class="page page-medium">
                <ErrorNotice error={err} on_retry={retry_cb} />
                <Link<Route> to={Route::Tickets} classes="btn">{ "Back to tickets" }</Link<Route>>
            </section>
        };
    }
    let Some(t) = (*ticket).clone().filter(|t| t.id == props.id) else {
        return html! { <section class="page"><Loading label="Loading ticket…" /></section> };
    };

    let staff = session.is_staff();
    let me = session.user.as_ref().map(|u| u.id);
    let now = Utc::now();
    let on_sent = {
        let dispatcher = timeline.dispatcher();
        let (ticket, current) = (ticket.clone(), current.clone());
        let id = t.id;
        Callback::from(move |msg: MessageView| {
            dispatcher.dispatch(TimelineAction::Arrived(vec![msg]));
            // A reply can change the status (customer reply reopens, first response).
            let (ticket, current) = (ticket.clone(), current.clone());
            spawn_local(async move {
                if let Ok(fresh) = api::tickets::fetch(id).await {
                    if *current.borrow() == id {
                        ticket.set(Some(fresh));
                    }
                }
            });
        })
    };

    html! {
        <section class="page ticket-page">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <Link<Route> to={Route::Tickets}>
                    { if staff { "← Queue" } else { "← My tickets" } }
                </Link<Route>>
            </nav>
            <header class="ticket-head">
                <p class="ticket-number">{ t.number.clone() }</p>
                <h1>{ t.title.clone() }</h1>
                <div class="ticket-badges">
                    <StatusBadge status={t.status} />
                    <PriorityBadge priority={t.priority} />
                </div>
            </header>
            <div class="ticket-layout">
                <div class="ticket-conversation">
                    if !t.description.trim().is_empty() {
                        <div class="card description">
                            <p class="description-head">
                                <strong>{ t.requester.name.clone() }</strong>
                                <span class="muted">{ " opened this ticket " }</span>
                                <time class="muted" datetime={t.created_at.to_rfc3339()}
                                    title={local_timestamp(t.created_at)}>
                                    { relative_time(t.created_at, now) }
                                </time>
                            </p>
                            <div class="text-body">{ t.description.clone() }</div>
                        </div>
                    }
                    if let Some(err) = (*messages_error).clone() {
                        <ErrorNotice error={err} />
                    }
                    if timeline.messages.is_empty() {
                        <EmptyState title="No messages yet">
                            <p class="muted">{ "Replies appear here as they arrive." }</p>
                        </EmptyState>
                    } else {
                        <ol class="messages" aria-label="Conversation">
                            { for timeline.messages.iter().map(|m| message_item(m, me, now)) }
                        </ol>
                    }
                    if t.status == TicketStatus::Closed {
                        <p class="notice">{ "This ticket is closed. Open a new ticket if you need more help." }</p>
                    } else {
                        <Composer ticket_id={t.id} {staff} {on_sent} />
                    }
                    <div ref={end_ref} class="scroll-end"></div>
                </div>
                <aside class="card ticket-details" aria-label="Ticket details">
                    { details(&t, staff, now) }
                </aside>
            </div>
        </section>
    }
}

fn message_item(m: &MessageView, me: Option<UserId>, now: DateTime<Utc>) -> Html {
    let time = html! {
        <time datetime={m.created_at.to_rfc3339()} title={local_timestamp(m.created_at)}>
            { relative_time(m.created_at, now) }
        </time>
    };
    if m.kind == MessageKind::System {
        return html! {
            <li key={m.seq} class="message message-system">
                <span class="text-body">{ m.body.clone() }</span>
                { " · " }{ time }
            </li>
        };
    }
    let mine = m.author.as_ref().map(|a| a.id) == me && me.is_some();
    let (name, staff, role) = match &m.author {
        Some(a) => (a.name.clone(), a.role.is_staff(), Some(a.role)),
        None => ("Deleted user".to_owned(), false, None),
    };
    html! {
        <li key={m.seq} class={classes!(
            "message",
            m.internal.then_some("message-internal"),
            mine.then_some("message-mine"),
        )}>
            <div class="message-head">
                <Avatar name={name.clone()} {staff} />
                <strong>{ name }</strong>
                if let Some(role) = role.filter(|r| r.is_staff()) {
                    <span class="muted">{ role_label(role) }</span>
                }
                if m.internal {
                    <span class="badge badge-internal">{ "Internal note" }</span>
                }
                <span class="muted message-time">{ time }</span>
            </div>
            <div class="text-body">{ m.body.clone() }</div>
        </li>
    }
}

fn details(t: &TicketView, staff: bool, now: DateTime<Utc>) -> Html {
    let when = |at: DateTime<Utc>| {
        html! {
            <time datetime={at.to_rfc3339()} title={local_timestamp(at)}>
                { relative_time(at, now) }
            </time>
        }
    };
    html! {
        <dl class="details">
            <dt>{ "Requester" }</dt>
            <dd>{ t.requester.name.clone() }</dd>
            <dt>{ "Assignee" }</dt>
            <dd>{ t.assignee.as_ref().map_or_else(|| "Unassigned".to_owned(), |a| a.name.clone()) }</dd>
            <dt>{ "Category" }</dt>
            <dd>{ t.category.as_ref().map_or_else(|| "None".to_owned(), |c| c.name.clone()) }</dd>
            <dt>{ "Created" }</dt>
            <dd>{ when(t.created_at) }</dd>
            <dt>{ "Updated" }</dt>
            <dd>{ when(t.updated_at) }</dd>
            if staff {
                if let Some(due) = t.first_response_due_at.filter(|_| t.first_response_at.is_none()) {
                    <dt>{ "First reply due" }</dt>
                    <dd class={classes!((due < now).then_some("overdue"))}>{ when(due) }</dd>
                }
                if let Some(due) = t.resolution_due_at.filter(|_| !t.status.is_done()) {
                    <dt>{ "Resolution due" }</dt>
                    <dd class={classes!((due < now).then_some("overdue"))}>{ when(due) }</dd>
                }
            }
            if !t.tags.is_empty() {
                <dt>{ "Tags" }</dt>
                <dd class="tags">{ for t.tags.iter().map(|tag| html! { <span class="tag">{ tag.clone() }</span> }) }</dd>
            }
        </dl>
    }
}

#[derive(Properties, PartialEq)]
struct ComposerProps {
    ticket_id: TicketId,
    staff: bool,
    on_sent: Callback<MessageView>,
}

/// The reply box. A failed send keeps its client_id, so pressing Send again cannot store
/// the reply twice (the server answers with the message it already has).
#[function_component(Composer)]
fn composer(props: &ComposerProps) -> Html {
    let draft = use_state(String::new);
    let internal = use_state(|| false);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let pending = use_mut_ref(|| None::<PendingSend>);

    let send = {
        let (draft, internal, busy, error, pending) = (
            draft.clone(),
            internal.clone(),
            busy.clone(),
            error.clone(),
            pending.clone(),
        );
        let (ticket_id, staff, on_sent) = (props.ticket_id, props.staff, props.on_sent.clone());
        Callback::from(move |()| {
            let body = draft.trim().to_owned();
            if *busy || body.is_empty() {
                return;
            }
            let as_internal = staff && *internal;
            let client_id =
                client_id_for(pending.borrow().as_ref(), &body, as_internal, Uuid::new_v4);
            *pending.borrow_mut() = Some(PendingSend {
                client_id,
                body: body.clone(),
                internal: as_internal,
            });
            let req = PostMessageRequest {
                body,
                internal: as_internal,
                client_id: Some(client_id),
            };
            let (draft, busy, error, pending, on_sent) = (
                draft.clone(),
                busy.clone(),
                error.clone(),
                pending.clone(),
                on_sent.clone(),
            );
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                match api::messages::post_message(ticket_id, &req).await {
                    Ok(msg) => {
                        pending.borrow_mut().take();
                        draft.set(String::new());
                        on_sent.emit(msg);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };

    let onsubmit = {
        let send = send.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            send.emit(());
        })
    };
    let onkeydown = {
        let send = send.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) {
                e.prevent_default();
                send.emit(());
            }
        })
    };
    let oninput = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(area) = e.target_dyn_into::<web_sys::HtmlTextAreaElement>() {
                draft.set(area.value());
            }
        })
    };
    let on_toggle = {
        let internal = internal.clone();
        Callback::from(move |_: Event| internal.set(!*internal))
    };
    let as_internal = props.staff && *internal;
    let label = if as_internal {
        "Internal note (staff only)"
    } else {
        "Reply"
    };

    html! {
        <form class={classes!("card", "composer", as_internal.then_some("composer-internal"))} {onsubmit}>
            <label for="composer-body" class="composer-label">{ label }</label>
            if let Some(err) = (*error).clone() {
                <ErrorNotice error={err} />
            }
            <textarea id="composer-body" rows="4" value={(*draft).clone()} {oninput} {onkeydown}
                readonly={*busy}
                placeholder={if as_internal { "Visible to staff only" } else { "Write a reply…" }}
                aria-describedby="composer-hint" />
            <div class="composer-actions">
                if props.staff {
                    <label class="toggle">
                        <input type="checkbox" role="switch" checked={*internal} onchange={on_toggle} />
                        <span>{ "Internal note" }</span>
                    </label>
                }
                <span id="composer-hint" class="muted composer-hint">{ "Ctrl+Enter to send" }</span>
                <button type="submit" class="btn btn-primary" disabled={*busy || draft.trim().is_empty()}>
                    { if *busy { "Sending…" } else if as_internal { "Add note" } else { "Send" } }
                </button>
            </div>
        </form>
    }
}
