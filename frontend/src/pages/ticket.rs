//! One ticket: its details, the live conversation and the reply composer. History comes
//! from REST once; then the tab's socket (`ws`) joins the room from the last seq loaded
//! and streams replies, acks, typing, presence and read receipts into one `Room` reducer.

use std::cell::Cell;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use gloo::events::EventListener;
use gloo::timers::callback::{Interval, Timeout};
use relay_protocol::messages::{MessageKind, MessageListQuery, MessageView};
use relay_protocol::tickets::{TicketStatus, TicketView};
use relay_protocol::ws::ServerFrame;
use relay_protocol::{ErrorCode, TicketId};
use uuid::Uuid;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::app::Route;
use crate::components::badges::{Avatar, PriorityBadge, StatusBadge};
use crate::components::notice::{EmptyState, ErrorNotice, Loading};
use crate::components::workspace::{Attachments, Controls, History, Links, Rating, Timer};
use crate::conversation::{reply_problem, Room, RoomAction, Tick};
use crate::format::{initials, local_timestamp, relative_time, role_label};
use crate::state::use_session;
use crate::storage;
use crate::ws::book::{Pending, SendState};
use crate::ws::typing::{typing_sentence, TypingSender, TYPING_IDLE_MS};
use crate::ws::{use_reconnected, use_ws, use_ws_events, ConnState, Topic, WsEvent};

const PAGE_LIMIT: i64 = 200;
/// Stop paging after this many pages; the socket's replay (from the last seq loaded)
/// brings the rest.
const MAX_PAGES: usize = 20;

#[derive(Properties, PartialEq)]
pub struct TicketPageProps {
    pub id: TicketId,
}

/// Fetches every message after `after_seq`, page by page, into the room. Returns the
/// highest seq loaded, and the error that stopped it early, if any.
async fn catch_up(
    ticket: TicketId,
    mut after_seq: i64,
    room: UseReducerDispatcher<Room>,
) -> (i64, Option<ApiError>) {
    for _ in 0..MAX_PAGES {
        let query = MessageListQuery {
            after_seq: Some(after_seq),
            before_seq: None,
            limit: Some(PAGE_LIMIT),
        };
        let page = match api::messages::list(ticket, &query).await {
            Ok(page) => page,
            Err(e) => return (after_seq, Some(e)),
        };
        let Some(last) = page.items.last().map(|m| m.seq) else {
            break;
        };
        after_seq = last;
        room.dispatch(RoomAction::Loaded(page.items));
        if !page.has_more {
            break;
        }
    }
    (after_seq, None)
}

fn document_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| !d.hidden())
}

/// Whether the page is on screen (not a background tab): reads are only reported then.
#[hook]
fn use_document_visible() -> bool {
    let visible = use_state_eq(document_visible);
    {
        let visible = visible.clone();
        use_effect_with((), move |_| {
            let listener = web_sys::window().and_then(|w| w.document()).map(|doc| {
                EventListener::new(&doc, "visibilitychange", move |_| {
                    visible.set(document_visible())
                })
            });
            move || drop(listener)
        });
    }
    *visible
}

#[function_component(TicketPage)]
pub fn ticket_page(props: &TicketPageProps) -> Html {
    let session = use_session();
    let ws = use_ws();
    let me = session.user.as_ref().map(|u| u.id);
    let ticket = use_state(|| None::<TicketView>);
    let load_error = use_state(|| None::<ApiError>);
    let messages_error = use_state(|| None::<ApiError>);
    let room = use_reducer(Room::default);
    let retry = use_state(|| 0u32);
    let end_ref = use_node_ref();
    let visible = use_document_visible();

    {
        // Everything the socket says about this ticket, including header changes.
        let dispatcher = room.dispatcher();
        let ticket = ticket.clone();
        let id = props.id;
        use_ws_events(Topic::Ticket(id), move |event| {
            if let WsEvent::Frame(frame) = &event {
                if let ServerFrame::TicketUpdated { ticket: t }
                | ServerFrame::Assigned { ticket: t } = &**frame
                {
                    if t.id == id {
                        ticket.set(Some(t.clone()));
                    }
                }
            }
            dispatcher.dispatch(RoomAction::Event(event, storage::now_ms()));
        });
    }

    {
        // Header changes made while the socket was down have no replay: fetch it again.
        let ticket = ticket.clone();
        let id = props.id;
        use_reconnected(move || {
            let ticket = ticket.clone();
            spawn_local(async move {
                if let Ok(fresh) = api::tickets::fetch(id).await {
                    if ticket.as_ref().is_some_and(|t| t.id == id) {
                        ticket.set(Some(fresh));
                    }
                }
            });
        });
    }

    {
        // Load the ticket and its history, then join the room from the last seq loaded;
        // leave it when the page closes or moves to another ticket.
        let (ticket, load_error, messages_error) =
            (ticket.clone(), load_error.clone(), messages_error.clone());
        let dispatcher = room.dispatcher();
        let service = ws.service.clone();
        use_effect_with((props.id, *retry, me), move |(id, _, me)| {
            let id = *id;
            dispatcher.dispatch(RoomAction::Reset {
                ticket: id,
                me: *me,
                pending: service.pending_for(id),
            });
            ticket.set(None);
            load_error.set(None);
            messages_error.set(None);
            let alive = Rc::new(Cell::new(true));
            let joined = Rc::new(Cell::new(false));
            {
                let (alive, joined, service) = (alive.clone(), joined.clone(), service.clone());
                spawn_local(async move {
                    let fetched = api::tickets::fetch(id).await;
                    if !alive.get() {
                        return;
                    }
                    match fetched {
                        Ok(t) => ticket.set(Some(t)),
                        Err(e) => {
                            load_error.set(Some(e));
                            return;
                        }
                    }
                    let (since, error) = catch_up(id, 0, dispatcher).await;
                    if !alive.get() {
                        return;
                    }
                    if let Some(e) = error {
                        // The socket's replay still brings what REST could not.
                        messages_error.set(Some(e));
                    }
                    service.join(id, since);
                    joined.set(true);
                });
            }
            move || {
                alive.set(false);
                if joined.get() {
                    service.leave(id);
                }
            }
        });
    }

    {
        // Report what is on screen as read: the newest seq, once the replay is in, while
        // the tab is visible. The service never sends the same or an older seq twice.
        let service = ws.service.clone();
        let last = room.timeline.last_seq();
        use_effect_with(
            (props.id, last, room.synced, visible),
            move |(id, last, synced, visible)| {
                if *visible && *synced && *last > 0 {
                    service.mark_read(*id, *last);
                }
            },
        );
    }

    {
        // Typing indicators expire even when no `stop` arrives.
        let dispatcher = room.dispatcher();
        use_effect_with(!room.typing.is_empty(), move |typing| {
            let ticker = typing.then(|| {
                Interval::new(1_000, move || {
                    dispatcher.dispatch(RoomAction::Tick(storage::now_ms()))
                })
            });
            move || drop(ticker)
        });
    }

    {
        // Keep the newest message (and the composer) in view as the conversation grows.
        let end_ref = end_ref.clone();
        let count = room.timeline.messages.len() + room.pending.len();
        use_effect_with(count, move |count| {
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
    let my_name = session
        .user
        .as_ref()
        .map_or_else(String::new, |u| u.name.clone());
    let live = ws.state == ConnState::Live;
    let now = Utc::now();
    let now_ms = storage::now_ms();
    let unconfirmed = room.unconfirmed();
    let typing_line = typing_sentence(&room.typing_names(now_ms));
    let on_retry_send = {
        let service = ws.service.clone();
        Callback::from(move |id: Uuid| service.retry_send(id))
    };
    let on_discard_send = {
        let service = ws.service.clone();
        Callback::from(move |id: Uuid| service.discard_send(id))
    };
    let on_ticket_change = {
        let ticket = ticket.clone();
        let id = props.id;
        Callback::from(move |t: TicketView| {
            if t.id == id {
                ticket.set(Some(t));
            }
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
                { presence(&room, live) }
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
                    if room.timeline.messages.is_empty() && unconfirmed.is_empty() {
                        <EmptyState title="No messages yet">
                            <p class="muted">{ "Replies appear here as they arrive." }</p>
                        </EmptyState>
                    } else {
                        <ol class="messages" aria-label="Conversation">
                            { for room.timeline.messages.iter().map(|m| message_item(m, room.tick(m), now)) }
                            { for unconfirmed.iter().map(|p| pending_item(p, &my_name, staff, live, &on_retry_send, &on_discard_send)) }
                        </ol>
                    }
                    <p class="typing-line" aria-live="polite">
                        if let Some(line) = typing_line.clone() {
                            <span class="typing-dots" aria-hidden="true"><span></span><span></span><span></span></span>
                            { line }
                        }
                    </p>
                    <Rating ticket={t.clone()} />
                    if t.status == TicketStatus::Closed {
                        <p class="notice">{ "This ticket is closed. Open a new ticket if you need more help." }</p>
                    } else {
                        <Composer ticket_id={t.id} {staff} room={room.clone()} {live} />
                    }
                    <div ref={end_ref} class="scroll-end"></div>
                </div>
                <aside class="ticket-side" aria-label="Ticket details">
                    <Controls ticket={t.clone()} on_change={on_ticket_change} />
                    <section class="card panel ticket-details">
                        { details(&t, staff, now) }
                    </section>
                    if staff {
                        <Timer ticket_id={t.id} />
                    }
                    <Attachments ticket_id={t.id} can_upload={t.status != TicketStatus::Closed} />
                    if staff {
                        <Links ticket_id={t.id} />
                    }
                    <History ticket={t.clone()} />
                </aside>
            </div>
        </section>
    }
}

/// Avatars of everyone else in the room right now.
fn presence(room: &Room, live: bool) -> Html {
    if !live || !room.synced {
        return html! {};
    }
    let others: Vec<_> = room.others_present().collect();
    if others.is_empty() {
        return html! {
            <p class="presence muted">{ "Nobody else is viewing this ticket." }</p>
        };
    }
    let names = others
        .iter()
        .map(|u| u.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    html! {
        <div class="presence">
            <span class="muted presence-label">{ "Here now:" }</span>
            <ul class="presence-list" aria-label={format!("Here now: {names}")}>
                { for others.iter().map(|u| html! {
                    <li key={u.id.0} class={classes!("avatar", u.role.is_staff().then_some("avatar-staff"))}
                        title={format!("{} ({})", u.name, role_label(u.role))}>
                        <span aria-hidden="true">{ initials(&u.name) }</span>
                        <span class="visually-hidden">{ u.name.clone() }</span>
                    </li>
                }) }
            </ul>
        </div>
    }
}

fn message_item(m: &MessageView, tick: Option<Tick>, now: DateTime<Utc>) -> Html {
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
    let (name, staff, role) = match &m.author {
        Some(a) => (a.name.clone(), a.role.is_staff(), Some(a.role)),
        None => ("Deleted user".to_owned(), false, None),
    };
    let tick = tick.map(|t| {
        let (marks, label) = match t {
            Tick::Sent => ("✓", "Sent"),
            Tick::Read => ("✓✓", "Read"),
        };
        html! {
            <span class={classes!("tick", (t == Tick::Read).then_some("tick-read"))} title={label}>
                <span aria-hidden="true">{ marks }</span>
                <span class="visually-hidden">{ label }</span>
            </span>
        }
    });
    html! {
        <li key={m.seq} class={classes!(
            "message",
            m.internal.then_some("message-internal"),
            tick.is_some().then_some("message-mine"),
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
                <span class="muted message-time">{ time }{ for tick }</span>
            </div>
            <div class="text-body">{ m.body.clone() }</div>
        </li>
    }
}

/// One of the user's replies that the server has not acknowledged yet.
fn pending_item(
    p: &Pending,
    my_name: &str,
    staff: bool,
    live: bool,
    on_retry: &Callback<Uuid>,
    on_discard: &Callback<Uuid>,
) -> Html {
    let status = match &p.state {
        SendState::Queued if !live => "Waiting for connection…",
        SendState::Queued | SendState::OnSocket | SendState::OnRest => "Sending…",
        SendState::Failed(_) => "Not sent",
    };
    let id = p.client_id;
    let (retry, discard) = (on_retry.clone(), on_discard.clone());
    html! {
        <li key={id.to_string()} class={classes!(
            "message", "message-mine", "message-pending",
            p.internal.then_some("message-internal"),
            p.is_failed().then_some("message-failed"),
        )}>
            <div class="message-head">
                <Avatar name={my_name.to_owned()} {staff} />
                <strong>{ my_name.to_owned() }</strong>
                if p.internal {
                    <span class="badge badge-internal">{ "Internal note" }</span>
                }
                <span class="muted message-time message-status" role="status">{ status }</span>
            </div>
            <div class="text-body">{ p.body.clone() }</div>
            if let SendState::Failed(reason) = &p.state {
                <div class="message-failure" role="alert">
                    <span>{ reason.clone() }</span>
                    <button type="button" class="btn btn-small" onclick={move |_| retry.emit(id)}>
                        { "Try again" }
                    </button>
                    <button type="button" class="btn btn-small btn-ghost" onclick={move |_| discard.emit(id)}>
                        { "Discard" }
                    </button>
                </div>
            }
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
    room: UseReducerHandle<Room>,
    live: bool,
}

/// The reply box. A send goes into the socket service's outbox at once (with a fresh
/// client_id that every resend keeps) and the draft clears; the conversation shows it as
/// "Sending…" until the server acknowledges it.
#[function_component(Composer)]
fn composer(props: &ComposerProps) -> Html {
    let ws = use_ws();
    let draft = use_state(String::new);
    let internal = use_state(|| false);
    // The newest seq when this draft was started: the collision guard counts from it.
    let started_at = use_state(|| None::<i64>);
    let typing = use_mut_ref(TypingSender::default);
    let idle = use_mut_ref(|| None::<Timeout>);
    let ticket_id = props.ticket_id;
    let as_internal = props.staff && *internal;

    // Every `start` gets its `stop`: on send, blur, idle, internal toggle, leaving.
    let stop_typing = {
        let (service, typing, idle) = (ws.service.clone(), typing.clone(), idle.clone());
        Callback::from(move |()| {
            idle.borrow_mut().take();
            let stop = typing.borrow_mut().stop();
            if let Some(state) = stop {
                service.typing(ticket_id, state);
            }
        })
    };
    {
        let stop_typing = stop_typing.clone();
        use_effect_with(ticket_id, move |_| move || stop_typing.emit(()));
    }

    let send = {
        let (draft, started_at, service, stop_typing) = (
            draft.clone(),
            started_at.clone(),
            ws.service.clone(),
            stop_typing.clone(),
        );
        Callback::from(move |()| {
            let body = draft.trim().to_owned();
            if body.is_empty() || reply_problem(&body).is_some() {
                return;
            }
            stop_typing.emit(());
            service.send_message(ticket_id, body, as_internal, Uuid::new_v4());
            draft.set(String::new());
            started_at.set(None);
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
        let (draft, started_at, service) = (draft.clone(), started_at.clone(), ws.service.clone());
        let (typing, idle, stop_typing) = (typing.clone(), idle.clone(), stop_typing.clone());
        let last_seq = props.room.timeline.last_seq();
        Callback::from(move |e: InputEvent| {
            let Some(area) = e.target_dyn_into::<web_sys::HtmlTextAreaElement>() else {
                return;
            };
            let value = area.value();
            if value.trim().is_empty() {
                stop_typing.emit(());
                started_at.set(None);
            } else {
                if started_at.is_none() {
                    started_at.set(Some(last_seq));
                }
                // Internal notes are nobody else's business: a customer must not see
                // "typing…" for them.
                if !as_internal {
                    let start = typing.borrow_mut().keystroke(storage::now_ms());
                    if let Some(state) = start {
                        service.typing(ticket_id, state);
                    }
                    let stop_typing = stop_typing.clone();
                    *idle.borrow_mut() =
                        Some(Timeout::new(TYPING_IDLE_MS, move || stop_typing.emit(())));
                }
            }
            draft.set(value);
        })
    };
    let onblur = {
        let stop_typing = stop_typing.clone();
        Callback::from(move |_: FocusEvent| stop_typing.emit(()))
    };
    let on_toggle = {
        let (internal, stop_typing) = (internal.clone(), stop_typing.clone());
        Callback::from(move |_: Event| {
            stop_typing.emit(());
            internal.set(!*internal);
        })
    };
    let on_seen = {
        let started_at = started_at.clone();
        let last_seq = props.room.timeline.last_seq();
        Callback::from(move |_: MouseEvent| started_at.set(Some(last_seq)))
    };

    // Collision guard (SPEC §4): staff writing a public reply learn that the conversation
    // moved on, and who else is writing.
    let guard = props.staff && !as_internal;
    let arrived = match *started_at {
        Some(seq) if guard => props.room.arrived_since(seq),
        _ => 0,
    };
    let others_typing = if guard && !draft.trim().is_empty() {
        typing_sentence(&props.room.typing_names(storage::now_ms()))
    } else {
        None
    };
    let sending = props.room.unconfirmed().iter().any(|p| !p.is_failed());
    let hint = if !props.live {
        "Offline: replies go out when the connection is back"
    } else if sending {
        "Sending…"
    } else {
        "Ctrl+Enter to send"
    };
    let problem = reply_problem(&draft);
    let label = if as_internal {
        "Internal note (staff only)"
    } else {
        "Reply"
    };

    html! {
        <form class={classes!("card", "composer", as_internal.then_some("composer-internal"))} {onsubmit}>
            <label for="composer-body" class="composer-label">{ label }</label>
            if arrived > 0 || others_typing.is_some() {
                <div class="notice notice-warning composer-collision" role="status">
                    if arrived > 0 {
                        <span>
                            { if arrived == 1 {
                                "A new message arrived since you started typing.".to_owned()
                            } else {
                                format!("{arrived} new messages arrived since you started typing.")
                            } }
                        </span>
                    }
                    if let Some(line) = others_typing {
                        <span>{ line }</span>
                    }
                    if arrived > 0 {
                        <button type="button" class="btn btn-small" onclick={on_seen}>{ "Got it" }</button>
                    }
                </div>
            }
            <textarea id="composer-body" rows="4" value={(*draft).clone()} {oninput} {onkeydown} {onblur}
                placeholder={if as_internal { "Visible to staff only" } else { "Write a reply…" }}
                aria-invalid={problem.is_some().then_some("true")}
                aria-describedby={if problem.is_some() { "composer-hint composer-problem" } else { "composer-hint" }} />
            if let Some(problem) = problem.clone() {
                <p id="composer-problem" class="field-error">{ problem }</p>
            }
            <div class="composer-actions">
                if props.staff {
                    <label class="toggle">
                        <input type="checkbox" role="switch" checked={*internal} onchange={on_toggle} />
                        <span>{ "Internal note" }</span>
                    </label>
                }
                <span id="composer-hint" class="muted composer-hint">{ hint }</span>
                <button type="submit" class="btn btn-primary" disabled={draft.trim().is_empty() || problem.is_some()}>
                    { if as_internal { "Add note" } else { "Send" } }
                </button>
            </div>
        </form>
    }
}
