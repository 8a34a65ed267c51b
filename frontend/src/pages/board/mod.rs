//! The kanban board (staff): one column per status. Cards move by drag-and-drop or by each
//! card's "Move to" menu (keyboard, touch); a move shows at once, is saved with a PATCH and
//! is undone with a message if the server refuses. Every change arrives live for everyone.

pub mod model;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use js_sys::{Function, Reflect};
use relay_protocol::tickets::{TicketListQuery, TicketPage, TicketStatus, TicketView};
use relay_protocol::ws::ServerFrame;
use relay_protocol::{TicketId, UserId};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlElement, Node};
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::app::Route;
use crate::components::badges::PriorityBadge;
use crate::components::flash::{flash, use_flashes, FlashStack, Tone};
use crate::components::form::select_value;
use crate::components::notice::{ErrorNotice, Loading};
use crate::format::{initials, local_timestamp, relative_time, status_label};
use crate::pages::ticket_list::ListParams;
use crate::state::use_session;
use crate::ws::{use_ws, use_ws_events, ConnState, Topic, WsEvent};
use model::{Assignee, Board, BoardAction, Filter, COLUMNS, TARGETS};

/// Cards loaded per working column (most urgent first); the queue has the rest.
const PER_COLUMN: i64 = 100;
/// Closed tickets shown when that column is open (most recently closed first).
const CLOSED_SHOWN: i64 = 30;
/// The drag payload's own type, so a drop from elsewhere is not mistaken for a card.
const DRAG_TYPE: &str = "application/x-relay-ticket";

async fn load_column(status: TicketStatus) -> Result<TicketPage, ApiError> {
    let (sort, limit) = if status == TicketStatus::Closed {
        ("-updated_at", CLOSED_SHOWN)
    } else {
        ("-priority", PER_COLUMN)
    };
    api::tickets::list(&TicketListQuery {
        status: Some(status.as_str().to_owned()),
        sort: Some(sort.to_owned()),
        limit: Some(limit),
        ..Default::default()
    })
    .await
}

// HTML5 drag-and-drop through `Reflect`: web-sys's `DataTransfer` binding is not enabled
// in this crate, and these four properties are all the board needs.
fn data_transfer(e: &DragEvent) -> Option<JsValue> {
    let dt = Reflect::get(e.as_ref(), &JsValue::from_str("dataTransfer")).ok()?;
    (!dt.is_null() && !dt.is_undefined()).then_some(dt)
}

fn call(target: &JsValue, method: &str, args: &[&str]) -> Option<JsValue> {
    let f = Reflect::get(target, &JsValue::from_str(method)).ok()?;
    let f = f.dyn_ref::<Function>()?;
    match args {
        [a] => f.call1(target, &JsValue::from_str(a)).ok(),
        [a, b] => f
            .call2(target, &JsValue::from_str(a), &JsValue::from_str(b))
            .ok(),
        _ => f.call0(target).ok(),
    }
}

fn set_drag_payload(e: &DragEvent, ticket: &TicketView) {
    let Some(dt) = data_transfer(e) else {
        return;
    };
    let _ = Reflect::set(&dt, &"effectAllowed".into(), &"move".into());
    call(&dt, "setData", &[DRAG_TYPE, &ticket.id.to_string()]);
    // Dropped into a text field elsewhere, a card reads as its number.
    call(&dt, "setData", &["text/plain", &ticket.number]);
}

fn drag_payload(e: &DragEvent) -> Option<TicketId> {
    let dt = data_transfer(e)?;
    call(&dt, "getData", &[DRAG_TYPE])?
        .as_string()?
        .parse()
        .ok()
}

fn set_drop_effect(e: &DragEvent, effect: &str) {
    if let Some(dt) = data_transfer(e) {
        let _ = Reflect::set(&dt, &"dropEffect".into(), &effect.into());
    }
}

/// A `dragleave` into one of the column's own children is not leaving the column.
fn left_for_good(e: &DragEvent) -> bool {
    let (Some(current), Some(related)) = (e.current_target(), e.related_target()) else {
        return true;
    };
    match (current.dyn_ref::<Node>(), related.dyn_ref::<Node>()) {
        (Some(c), Some(r)) => !c.contains(Some(r)),
        _ => true,
    }
}

fn focus_move_menu(id: TicketId) {
    let el = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector(&format!("[data-ticket-id=\"{id}\"] .kanban-move"))
                .ok()
                .flatten()
        })
        .and_then(|el| el.dyn_into::<HtmlElement>().ok());
    if let Some(el) = el {
        let _ = el.focus();
    }
}

#[function_component(BoardPage)]
pub fn board_page() -> Html {
    let session = use_session();
    let me: Option<UserId> = session.user.as_ref().map(|u| u.id);
    let navigator = use_navigator();
    let ws = use_ws();
    let board = use_reducer(Board::default);
    let loading = use_state(|| true);
    let error = use_state(|| None::<ApiError>);
    let truncated = use_state(Vec::<TicketStatus>::new);
    let show_closed = use_state(|| false);
    let filter = use_state(Filter::default);
    let reload = use_state(|| 0u32);
    // The card being dragged: a ref for the drop handler, a state for the styling.
    let drag = use_mut_ref(|| None::<TicketId>);
    let dragging = use_state_eq(|| None::<TicketId>);
    let over = use_state_eq(|| None::<TicketStatus>);
    let announce = use_state(String::new);
    let flashes = use_flashes();
    let next_token = use_mut_ref(|| 0u64);
    let generation = use_mut_ref(|| 0u64);
    // After a keyboard move the card is re-created in its new column: keep focus on it.
    let refocus = use_mut_ref(|| None::<TicketId>);

    {
        let refocus = refocus.clone();
        use_effect(move || {
            if let Some(id) = refocus.borrow_mut().take() {
                focus_move_menu(id);
            }
        });
    }

    {
        let (loading, error, truncated, generation) = (
            loading.clone(),
            error.clone(),
            truncated.clone(),
            generation.clone(),
        );
        let dispatcher = board.dispatcher();
        use_effect_with((*reload, *show_closed), move |(_, show_closed)| {
            let gen = {
                let mut g = generation.borrow_mut();
                *g += 1;
                *g
            };
            loading.set(true);
            let mut statuses = COLUMNS.to_vec();
            if *show_closed {
                statuses.push(TicketStatus::Closed);
            }
            spawn_local(async move {
                let pages = join_all(statuses.iter().map(|s| load_column(*s))).await;
                if *generation.borrow() != gen {
                    return;
                }
                let mut items = Vec::new();
                let mut more = Vec::new();
                let mut failed = None;
                for (status, page) in statuses.iter().zip(pages) {
                    match page {
                        Ok(page) => {
                            if page.next_cursor.is_some() {
                                more.push(*status);
                            }
                            items.extend(page.items);
                        }
                        Err(e) => {
                            failed.get_or_insert(e);
                        }
                    }
                }
                match failed {
                    // Half a board would look like tickets vanished: keep the last one.
                    Some(e) => error.set(Some(e)),
                    None => {
                        error.set(None);
                        dispatcher.dispatch(BoardAction::Loaded(items));
                        truncated.set(more);
                    }
                }
                loading.set(false);
            });
        });
    }

    {
        // Live: a ticket created or changed anywhere lands in its column.
        let dispatcher = board.dispatcher();
        use_ws_events(Topic::Global, move |event| {
            if let WsEvent::Frame(frame) = event {
                match &*frame {
                    ServerFrame::TicketCreated { ticket }
                    | ServerFrame::TicketUpdated { ticket }
                    | ServerFrame::Assigned { ticket } => {
                        dispatcher.dispatch(BoardAction::Upsert(ticket.clone()));
                    }
                    _ => {}
                }
            }
        });
    }

    {
        // Back from a lost connection: frames may have been missed, reload once.
        let live = ws.state == ConnState::Live;
        let was_live = use_mut_ref(|| live);
        let reload = reload.clone();
        use_effect_with(live, move |live| {
            let before = std::mem::replace(&mut *was_live.borrow_mut(), *live);
            if *live && !before {
                reload.set(*reload + 1);
            }
        });
    }

    let on_move = {
        let board = board.clone();
        let dispatcher = board.dispatcher();
        let flashes = flashes.dispatcher();
        let (announce, next_token) = (announce.clone(), next_token.clone());
        Callback::from(move |(id, to): (TicketId, TicketStatus)| {
            let Some(ticket) = board.tickets.get(&id).cloned() else {
                return;
            };
            if board.status_of(id) == Some(to) {
                return;
            }
            let token = {
                let mut t = next_token.borrow_mut();
                *t += 1;
                *t
            };
            dispatcher.dispatch(BoardAction::MoveStarted { id, to, token });
            announce.set(format!("{} moved to {}.", ticket.number, status_label(to)));
            let (dispatcher, flashes, announce) =
                (dispatcher.clone(), flashes.clone(), announce.clone());
            spawn_local(async move {
                match api::ticket_edits::set_status(id, to).await {
                    Ok(saved) => dispatcher.dispatch(BoardAction::MoveSucceeded {
                        ticket: saved,
                        token,
                    }),
                    Err(e) => {
                        dispatcher.dispatch(BoardAction::MoveFailed { id, token });
                        let text = format!(
                            "Could not move {} to {}: {}",
                            ticket.number,
                            status_label(to),
                            e.message
                        );
                        announce.set(text.clone());
                        flash(&flashes, Tone::Error, text);
                    }
                }
            });
        })
    };

    let on_menu_move = {
        let (on_move, refocus) = (on_move.clone(), refocus.clone());
        Callback::from(move |(id, to): (TicketId, TicketStatus)| {
            *refocus.borrow_mut() = Some(id);
            on_move.emit((id, to));
        })
    };

    let on_take = {
        let dispatcher = board.dispatcher();
        let flashes = flashes.dispatcher();
        let board = board.clone();
        Callback::from(move |id: TicketId| {
            let (Some(me), Some(ticket)) = (me, board.tickets.get(&id).cloned()) else {
                return;
            };
            let (dispatcher, flashes) = (dispatcher.clone(), flashes.clone());
            spawn_local(async move {
                match api::ticket_edits::assign(id, Some(me)).await {
                    Ok(t) => dispatcher.dispatch(BoardAction::Upsert(t)),
                    Err(e) => flash(
                        &flashes,
                        Tone::Error,
                        format!("Could not take {}: {}", ticket.number, e.message),
                    ),
                }
            });
        })
    };

    let on_drag_start = {
        let (drag, dragging) = (drag.clone(), dragging.clone());
        Callback::from(move |id: TicketId| {
            *drag.borrow_mut() = Some(id);
            dragging.set(Some(id));
        })
    };
    let on_drag_end = {
        let (drag, dragging, over) = (drag.clone(), dragging.clone(), over.clone());
        Callback::from(move |_: ()| {
            drag.borrow_mut().take();
            dragging.set(None);
            over.set(None);
        })
    };

    let on_search = {
        let filter = filter.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                filter.set(Filter {
                    text: input.value(),
                    ..(*filter).clone()
                });
            }
        })
    };
    let on_assignee = {
        let filter = filter.clone();
        Callback::from(move |e: Event| {
            if let Some(key) = select_value(&e) {
                filter.set(Filter {
                    assignee: Assignee::from_key(&key),
                    ..(*filter).clone()
                });
            }
        })
    };
    let on_retry = {
        let reload = reload.clone();
        Callback::from(move |_| reload.set(*reload + 1))
    };

    let now = Utc::now();
    let ctx = CardContext {
        now,
        navigator: navigator.clone(),
        dragging: *dragging,
        on_menu_move: on_menu_move.clone(),
        on_take: on_take.clone(),
        on_drag_start: on_drag_start.clone(),
        on_drag_end: on_drag_end.clone(),
    };

    let column = |status: TicketStatus| -> Html {
        let cards = board.column(status, &filter, me);
        let source = dragging.and_then(|id| board.status_of(id));
        let targeted = *over == Some(status) && source.is_some_and(|s| s != status);
        let ondragover = {
            let over = over.clone();
            let drag = drag.clone();
            Callback::from(move |e: DragEvent| {
                // Accepting the drop is what `preventDefault` on dragover means.
                e.prevent_default();
                set_drop_effect(
                    &e,
                    if drag.borrow().is_some() {
                        "move"
                    } else {
                        "none"
                    },
                );
                over.set(Some(status));
            })
        };
        let ondragleave = {
            let over = over.clone();
            Callback::from(move |e: DragEvent| {
                if left_for_good(&e) && *over == Some(status) {
                    over.set(None);
                }
            })
        };
        let ondrop = {
            let (drag, dragging, over, on_move) = (
                drag.clone(),
                dragging.clone(),
                over.clone(),
                on_move.clone(),
            );
            Callback::from(move |e: DragEvent| {
                e.prevent_default();
                let id = drag.borrow_mut().take().or_else(|| drag_payload(&e));
                dragging.set(None);
                over.set(None);
                if let Some(id) = id {
                    on_move.emit((id, status));
                }
            })
        };
        let collapsed = status == TicketStatus::Closed && !*show_closed;
        let title_id = format!("column-{}", status.as_str());
        let head_toggle = (status == TicketStatus::Closed).then(|| {
            let show_closed = show_closed.clone();
            let label = if collapsed { "Show" } else { "Hide" };
            html! {
                <button type="button" class="btn btn-ghost btn-small"
                    aria-expanded={(!collapsed).to_string()}
                    onclick={move |_| show_closed.set(!*show_closed)}>
                    { label }
                </button>
            }
        });
        let more = truncated.contains(&status).then(|| {
            let query = ListParams {
                status: Some(status.as_str().to_owned()),
                ..Default::default()
            };
            html! {
                <Link<Route, ListParams> to={Route::Tickets} query={Some(query)} classes="kanban-more">
                    { "More in the queue →" }
                </Link<Route, ListParams>>
            }
        });
        html! {
            <section
                class={classes!(
                    "kanban-column",
                    format!("kanban-{}", status.as_str()),
                    collapsed.then_some("kanban-column-collapsed"),
                    targeted.then_some("is-drop-target"),
                )}
                data-column={status.as_str()}
                aria-labelledby={title_id.clone()}
                {ondragover} {ondragleave} {ondrop}
            >
                <header class="kanban-column-head">
                    <h2 id={title_id}>
                        <span class="kanban-dot" aria-hidden="true"></span>
                        { status_label(status) }
                    </h2>
                    if !collapsed {
                        <span class="kanban-count" aria-label={format!("{} tickets", cards.len())}>
                            { cards.len() }
                        </span>
                    }
                    { for head_toggle }
                </header>
                if collapsed {
                    <p class="kanban-collapsed-hint">{ "Drop here to close" }</p>
                } else {
                    <ul class="kanban-cards">
                        { for cards.iter().map(|t| card(t, board.status_of(t.id).unwrap_or(t.status),
                            board.is_moving(t.id), &ctx)) }
                    </ul>
                    if cards.is_empty() {
                        <p class="kanban-empty">
                            { if filter.is_active() { "No matching tickets" } else { "No tickets" } }
                        </p>
                    }
                    { for more }
                }
            </section>
        }
    };

    let total: usize = COLUMNS
        .iter()
        .filter(|s| !s.is_done())
        .map(|s| board.column(*s, &filter, me).len())
        .sum();
    let body = if *loading && board.tickets.is_empty() {
        html! { <Loading label="Loading the board…" /> }
    } else if let (Some(err), true) = ((*error).clone(), board.tickets.is_empty()) {
        html! { <ErrorNotice error={err} on_retry={on_retry.clone()} /> }
    } else {
        html! {
            <>
                if let Some(err) = (*error).clone() {
                    <ErrorNotice error={err} on_retry={on_retry.clone()} />
                }
                <div class={classes!("kanban", dragging.is_some().then_some("is-dragging"))}>
                    { for TARGETS.iter().map(|s| column(*s)) }
                </div>
            </>
        }
    };

    html! {
        <section class="page page-wide board-page">
            <div class="page-head">
                <div>
                    <h1>{ "Board" }</h1>
                    <p class="muted page-sub">
                        { format!("{total} active tickets · drag a card to another column, or use its Move to menu") }
                    </p>
                </div>
                <Link<Route> to={Route::NewTicket} classes="btn btn-primary">{ "New ticket" }</Link<Route>>
            </div>
            <div class="toolbar" role="search">
                <div class="field field-inline grow">
                    <label for="board-search" class="visually-hidden">{ "Filter cards" }</label>
                    <input id="board-search" type="search" placeholder="Filter by number, title or requester…"
                        value={filter.text.clone()} oninput={on_search} autocomplete="off" />
                </div>
                <div class="field field-inline">
                    <label for="board-assignee" class="visually-hidden">{ "Assignee" }</label>
                    <select id="board-assignee" onchange={on_assignee}>
                        { for Assignee::ALL.iter().map(|a| html! {
                            <option value={a.key()} selected={*a == filter.assignee}>{ a.label() }</option>
                        }) }
                    </select>
                </div>
            </div>
            <p class="visually-hidden" aria-live="polite">{ (*announce).clone() }</p>
            { body }
            <FlashStack flashes={flashes.clone()} />
        </section>
    }
}

/// What every card needs from the page.
struct CardContext {
    now: DateTime<Utc>,
    navigator: Option<Navigator>,
    dragging: Option<TicketId>,
    on_menu_move: Callback<(TicketId, TicketStatus)>,
    on_take: Callback<TicketId>,
    on_drag_start: Callback<TicketId>,
    on_drag_end: Callback<()>,
}

fn card(t: &TicketView, shown: TicketStatus, moving: bool, ctx: &CardContext) -> Html {
    let id = t.id;
    let ondragstart = {
        let (ticket, on_drag_start) = (t.clone(), ctx.on_drag_start.clone());
        Callback::from(move |e: DragEvent| {
            set_drag_payload(&e, &ticket);
            on_drag_start.emit(ticket.id);
        })
    };
    let ondragend = {
        let on_drag_end = ctx.on_drag_end.clone();
        Callback::from(move |_: DragEvent| on_drag_end.emit(()))
    };
    let onchange = {
        let on_menu_move = ctx.on_menu_move.clone();
        Callback::from(move |e: Event| {
            if let Some(to) = select_value(&e).as_deref().and_then(TicketStatus::parse) {
                on_menu_move.emit((id, to));
            }
        })
    };
    let route = Route::Ticket { id };
    let href = route.to_path();
    let open = {
        let navigator = ctx.navigator.clone();
        Callback::from(move |e: MouseEvent| {
            // Plain clicks stay in the app; ctrl/cmd/shift/middle clicks open a tab.
            if e.button() == 0 && !(e.ctrl_key() || e.meta_key() || e.shift_key() || e.alt_key()) {
                if let Some(nav) = &navigator {
                    e.prevent_default();
                    nav.push(&route);
                }
            }
        })
    };
    let assignee = match &t.assignee {
        Some(a) => html! {
            <span class="kanban-assignee" title={format!("Assigned to {}", a.name)}>
                <span class="avatar avatar-staff avatar-small" aria-hidden="true">{ initials(&a.name) }</span>
                <span class="visually-hidden">{ format!("Assigned to {}", a.name) }</span>
            </span>
        },
        None => {
            let on_take = ctx.on_take.clone();
            html! {
                <span class="kanban-assignee">
                    <span class="visually-hidden">{ "Unassigned" }</span>
                    <button type="button" class="kanban-take" title="Unassigned: assign it to yourself"
                        aria-label={format!("Take {}", t.number)}
                        onclick={move |_| on_take.emit(id)}>
                        <span aria-hidden="true">{ "+" }</span>{ "Take" }
                    </button>
                </span>
            }
        }
    };
    let menu_id = format!("move-{id}");
    html! {
        <li key={id.0}
            class={classes!(
                "kanban-card",
                format!("edge-{}", t.priority.as_str()),
                moving.then_some("is-saving"),
                (ctx.dragging == Some(id)).then_some("is-dragged"),
            )}
            data-ticket-id={id.to_string()}
            draggable="true"
            aria-busy={moving.then_some("true")}
            {ondragstart} {ondragend}
        >
            <div class="kanban-card-top">
                <span class="ticket-number">{ t.number.clone() }</span>
                <PriorityBadge priority={t.priority} />
            </div>
            <a class="kanban-card-title" href={href} draggable="false" onclick={open}>
                { t.title.clone() }
            </a>
            <div class="kanban-card-meta muted">
                <span class="kanban-requester">{ t.requester.name.clone() }</span>
                <time datetime={t.updated_at.to_rfc3339()} title={local_timestamp(t.updated_at)}>
                    { relative_time(t.updated_at, ctx.now) }
                </time>
            </div>
            <div class="kanban-card-foot">
                { assignee }
                if moving {
                    <span class="kanban-saving" aria-hidden="true">{ "Saving…" }</span>
                }
                <label for={menu_id.clone()} class="visually-hidden">
                    { format!("Move {} to", t.number) }
                </label>
                <select id={menu_id} class="kanban-move" {onchange}>
                    <option value="" selected=true>{ "Move to…" }</option>
                    { for TARGETS.iter().filter(|s| **s != shown).map(|s| html! {
                        <option value={s.as_str()}>{ status_label(*s) }</option>
                    }) }
                </select>
            </div>
        </li>
    }
}
