//! The ticket list: "My tickets" for customers, the queue for staff. Status filter and
//! search live in the URL (`?status=&q=`) so reload, back/forward and shared links keep them.

use std::cell::RefCell;
use std::rc::Rc;

use chrono::Utc;
use gloo::timers::callback::Timeout;
use relay_protocol::tickets::{TicketListQuery, TicketStatus, TicketView};
use relay_protocol::ws::ServerFrame;
use serde::{Deserialize, Serialize};
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::app::Route;
use crate::components::badges::{PriorityBadge, StatusBadge};
use crate::components::form::select_value;
use crate::components::notice::{EmptyState, ErrorNotice, Loading};
use crate::format::{local_timestamp, relative_time, status_label};
use crate::state::use_session;
use crate::ws::{use_reconnected, use_ws_events, Topic, WsEvent};

const PAGE_SIZE: i64 = 25;
const SEARCH_DEBOUNCE_MS: u32 = 300;

/// Which statuses the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Everything not resolved or closed: the default working view.
    Active,
    All,
    Only(TicketStatus),
}

impl StatusFilter {
    pub fn choices() -> Vec<StatusFilter> {
        let mut all = vec![StatusFilter::Active, StatusFilter::All];
        all.extend(TicketStatus::ALL.iter().copied().map(StatusFilter::Only));
        all
    }

    /// Unknown values fall back to the default rather than an empty list.
    pub fn from_key(key: Option<&str>) -> StatusFilter {
        match key {
            None | Some("" | "active") => StatusFilter::Active,
            Some("all") => StatusFilter::All,
            Some(s) => TicketStatus::parse(s).map_or(StatusFilter::Active, StatusFilter::Only),
        }
    }

    /// The `<option>` value and the URL `status` parameter.
    pub fn key(self) -> &'static str {
        match self {
            StatusFilter::Active => "active",
            StatusFilter::All => "all",
            StatusFilter::Only(s) => s.as_str(),
        }
    }

    /// Whether a ticket in `status` belongs in this view.
    pub fn admits(self, status: TicketStatus) -> bool {
        match self {
            StatusFilter::Active => !status.is_done(),
            StatusFilter::All => true,
            StatusFilter::Only(s) => s == status,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::Active => "Active (not resolved)",
            StatusFilter::All => "All statuses",
            StatusFilter::Only(s) => status_label(s),
        }
    }

    /// The API's comma-separated `status` value; `None` means no filter.
    pub fn api_status(self) -> Option<String> {
        match self {
            StatusFilter::Active => Some(
                TicketStatus::ALL
                    .iter()
                    .filter(|s| !s.is_done())
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            StatusFilter::All => None,
            StatusFilter::Only(s) => Some(s.as_str().to_owned()),
        }
    }
}

/// The list's URL query. Defaults are left out so the plain `/tickets` stays plain.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// One priority key (`urgent`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// `me` or `unassigned`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<i64>,
    /// An API sort key (`-created_at` is the default and left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// The signed-in user, for `who=me` (not part of the URL).
    #[serde(skip)]
    pub me: Option<i64>,
}

/// The sorts offered, as (API key, label); the first is the default.
pub const SORTS: [(&str, &str); 4] = [
    ("-created_at", "Newest first"),
    ("created_at", "Oldest first"),
    ("-updated_at", "Recently updated"),
    ("-priority", "Highest priority"),
];

impl ListParams {
    pub fn new(filter: StatusFilter, search: &str) -> ListParams {
        let search = search.trim();
        ListParams {
            status: (filter != StatusFilter::Active).then(|| filter.key().to_owned()),
            q: (!search.is_empty()).then(|| search.to_owned()),
            ..Default::default()
        }
    }

    /// The same view with another status filter and search, other filters kept.
    pub fn with(&self, filter: StatusFilter, search: &str) -> ListParams {
        let base = ListParams::new(filter, search);
        ListParams {
            status: base.status,
            q: base.q,
            ..self.clone()
        }
    }

    /// Filters beyond status and search (live inserts are left to the server then).
    pub fn narrowed(&self) -> bool {
        self.priority.is_some() || self.who.is_some() || self.category.is_some()
    }

    pub fn filter(&self) -> StatusFilter {
        StatusFilter::from_key(self.status.as_deref())
    }

    pub fn search(&self) -> &str {
        self.q.as_deref().map_or("", str::trim)
    }

    pub fn api_query(&self, cursor: Option<String>) -> TicketListQuery {
        let search = self.search();
        TicketListQuery {
            q: (!search.is_empty()).then(|| search.to_owned()),
            status: self.filter().api_status(),
            priority: self.priority.clone(),
            assignee_id: if self.who.as_deref() == Some("me") {
                self.me
            } else {
                None
            },
            unassigned: (self.who.as_deref() == Some("unassigned")).then_some(true),
            category_id: self.category,
            sort: self.sort.clone().filter(|s| s != SORTS[0].0),
            cursor,
            limit: Some(PAGE_SIZE),
            ..Default::default()
        }
    }
}

/// Pages of a search cut short by the server's budget that the list fetches on its own
/// before it asks the reader to "Search further" (each takes at most the budget, 12 ms
/// by default).
pub const AUTO_SEARCH_PAGES: usize = 8;

/// Whether the list fetches the next page by itself: the last one stopped at the search
/// budget, this load has found fewer than a page of rows, and it has not run
/// `AUTO_SEARCH_PAGES` pages yet.
pub fn search_on(partial: bool, cursor: &Option<String>, found: usize, pages: usize) -> bool {
    partial && cursor.is_some() && (found as i64) < PAGE_SIZE && pages < AUTO_SEARCH_PAGES
}

/// What one load of the list (the first page, or "Load more") ended with.
struct Loaded {
    rows: Vec<TicketView>,
    cursor: Option<String>,
    partial: bool,
    error: Option<ApiError>,
}

/// The page after `cursor`, appended to `shown`; a search the server cut short goes on
/// as `search_on` says, while `current()` (the reader has not moved to another filter).
/// An error keeps the rows found before it, and the cursor to retry from (still a
/// search on when `was_partial`, or when an earlier page of this load was).
async fn load(
    params: &ListParams,
    mut cursor: Option<String>,
    mut rows: Vec<TicketView>,
    was_partial: bool,
    current: impl Fn() -> bool,
) -> Loaded {
    let mut partial = was_partial;
    let before = rows.len();
    let mut pages = 0;
    loop {
        match api::tickets::list(&params.api_query(cursor.clone())).await {
            Ok(page) => {
                rows = append_page(rows, page.items);
                cursor = page.next_cursor;
                partial = page.partial;
                pages += 1;
                if !current() || !search_on(page.partial, &cursor, rows.len() - before, pages) {
                    return Loaded {
                        rows,
                        cursor,
                        partial: page.partial,
                        error: None,
                    };
                }
            }
            Err(e) => {
                return Loaded {
                    rows,
                    cursor,
                    partial,
                    error: Some(e),
                }
            }
        }
    }
}

/// Appends the next page, skipping tickets already shown (one may move between pages
/// while the user reads).
pub fn append_page(mut shown: Vec<TicketView>, next: Vec<TicketView>) -> Vec<TicketView> {
    for t in next {
        if !shown.iter().any(|s| s.id == t.id) {
            shown.push(t);
        }
    }
    shown
}

/// A ticket pushed by the socket (`ticket_created` / `ticket_updated`): the rows to show
/// now, or `None` when the list does not change. A row already shown is updated in place
/// (even if it no longer matches the filter: rows do not vanish under the reader's eyes).
/// A ticket not shown is inserted where the list's order (newest first) puts it, when it
/// matches the status filter, no search is active (full-text matching is the server's
/// job) and it falls within the rows loaded so far.
pub fn apply_live(
    items: &[TicketView],
    ticket: &TicketView,
    params: &ListParams,
    has_more: bool,
) -> Option<Vec<TicketView>> {
    if let Some(i) = items.iter().position(|t| t.id == ticket.id) {
        if items[i] == *ticket {
            return None;
        }
        let mut next = items.to_vec();
        next[i] = ticket.clone();
        return Some(next);
    }
    let sorted_otherwise = params.sort.as_deref().is_some_and(|s| s != SORTS[0].0);
    if !params.search().is_empty()
        || !params.filter().admits(ticket.status)
        || params.narrowed()
        || sorted_otherwise
    {
        return None;
    }
    let newer = |t: &TicketView| (t.created_at, t.id.0) > (ticket.created_at, ticket.id.0);
    let at = items.iter().take_while(|t| newer(t)).count();
    if at == items.len() && has_more {
        return None; // it belongs to a page not loaded yet
    }
    let mut next = items.to_vec();
    next.insert(at, ticket.clone());
    Some(next)
}

#[function_component(TicketListPage)]
pub fn ticket_list_page() -> Html {
    let session = use_session();
    let navigator = use_navigator();
    let location = use_location();
    let mut params: ListParams = location
        .and_then(|l| l.query::<ListParams>().ok())
        .unwrap_or_default();
    params.me = session.user.as_ref().map(|u| u.id.0);

    let draft = use_state(|| params.search().to_owned());
    let items = use_state(Vec::<TicketView>::new);
    let cursor = use_state(|| None::<String>);
    // The last page stopped at the server's search budget: older tickets are not
    // searched yet, and the cursor searches on.
    let partial = use_state(|| false);
    let loading = use_state(|| true);
    let loading_more = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let retry = use_state(|| 0u32);
    // The rows as last set, for live updates that arrive faster than renders.
    let latest = use_mut_ref(Vec::<TicketView>::new);
    *latest.borrow_mut() = (*items).clone();
    // Bumped per first-page fetch: answers for an older filter are dropped.
    let generation = use_mut_ref(|| 0u32);
    // The search this page last wrote to the URL, to tell our own updates from back/forward.
    let written_q: Rc<RefCell<String>> = use_mut_ref(|| params.search().to_owned());

    let set_params = {
        let navigator = navigator.clone();
        let written_q = written_q.clone();
        Callback::from(move |next: ListParams| {
            *written_q.borrow_mut() = next.search().to_owned();
            if let Some(nav) = &navigator {
                let _ = nav.replace_with_query(&Route::Tickets, &next);
            }
        })
    };

    {
        // First page, whenever the filter or search changes (or "Try again").
        let (items, cursor, partial, loading, error, generation) = (
            items.clone(),
            cursor.clone(),
            partial.clone(),
            loading.clone(),
            error.clone(),
            generation.clone(),
        );
        use_effect_with((params.clone(), *retry), move |(params, _)| {
            let gen = {
                let mut g = generation.borrow_mut();
                *g += 1;
                *g
            };
            loading.set(true);
            error.set(None);
            let params = params.clone();
            spawn_local(async move {
                let current = {
                    let generation = generation.clone();
                    move || *generation.borrow() == gen
                };
                let loaded = load(&params, None, Vec::new(), false, current).await;
                if *generation.borrow() != gen {
                    return;
                }
                // A first page that failed outright shows the error and a retry; one
                // that failed while searching on keeps what it found.
                let failed = loaded.error.is_some() && loaded.rows.is_empty();
                items.set(loaded.rows);
                cursor.set(if failed { None } else { loaded.cursor });
                partial.set(loaded.partial && !failed);
                error.set(loaded.error);
                loading.set(false);
            });
        });
    }

    {
        // New and changed tickets arrive over the socket: no reload needed.
        let (items, latest, params) = (items.clone(), latest.clone(), params.clone());
        let has_more = cursor.is_some();
        let loading = *loading;
        use_ws_events(Topic::Global, move |event| {
            let WsEvent::Frame(frame) = event else {
                return;
            };
            let (ServerFrame::TicketCreated { ticket } | ServerFrame::TicketUpdated { ticket }) =
                &*frame
            else {
                return;
            };
            if loading {
                return; // the page being fetched is newer anyway
            }
            let next = apply_live(&latest.borrow(), ticket, &params, has_more);
            if let Some(next) = next {
                *latest.borrow_mut() = next.clone();
                items.set(next);
            }
        });
    }

    {
        // Tickets created or changed while the socket was down: merge the first page again,
        // quietly (no spinner, nothing removed).
        let (items, latest, params) = (items.clone(), latest.clone(), params.clone());
        let has_more = cursor.is_some();
        let generation = generation.clone();
        use_reconnected(move || {
            let (items, latest, params) = (items.clone(), latest.clone(), params.clone());
            let gen = *generation.borrow();
            let generation = generation.clone();
            spawn_local(async move {
                let Ok(page) = api::tickets::list(&params.api_query(None)).await else {
                    return;
                };
                if *generation.borrow() != gen {
                    return; // the filter changed meanwhile
                }
                let mut rows = latest.borrow().clone();
                let mut changed = false;
                for t in page.items.iter().rev() {
                    if let Some(next) = apply_live(&rows, t, &params, has_more) {
                        rows = next;
                        changed = true;
                    }
                }
                if changed {
                    *latest.borrow_mut() = rows.clone();
                    items.set(rows);
                }
            });
        });
    }

    {
        // Typing settles for a moment before it becomes the URL's `q` (and a fetch).
        let (set_params, params) = (set_params.clone(), params.clone());
        use_effect_with((*draft).clone(), move |draft| {
            let wanted = params.with(params.filter(), draft);
            let timeout = (wanted != params)
                .then(|| Timeout::new(SEARCH_DEBOUNCE_MS, move || set_params.emit(wanted)));
            move || drop(timeout)
        });
    }

    {
        // Back/forward to another search: show it in the box.
        let (draft, written_q) = (draft.clone(), written_q.clone());
        use_effect_with(params.search().to_owned(), move |q| {
            if *written_q.borrow() != *q {
                *written_q.borrow_mut() = q.clone();
                draft.set(q.clone());
            }
        });
    }

    let on_search = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                draft.set(input.value());
            }
        })
    };
    let on_search_submit = {
        // Enter searches at once instead of waiting for the debounce.
        let (draft, params, set_params) = (draft.clone(), params.clone(), set_params.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            set_params.emit(params.with(params.filter(), &draft));
        })
    };
    let on_status = {
        let (draft, set_params, params) = (draft.clone(), set_params.clone(), params.clone());
        Callback::from(move |e: Event| {
            if let Some(key) = select_value(&e) {
                set_params.emit(params.with(StatusFilter::from_key(Some(&key)), &draft));
            }
        })
    };
    // The other filters: each select rewrites one URL parameter.
    let on_filter = |apply: fn(&mut ListParams, Option<String>)| {
        let (set_params, params) = (set_params.clone(), params.clone());
        Callback::from(move |e: Event| {
            let mut next = params.clone();
            apply(&mut next, select_value(&e).filter(|v| !v.is_empty()));
            set_params.emit(next);
        })
    };
    let on_priority = on_filter(|p, v| p.priority = v);
    let on_who = on_filter(|p, v| p.who = v);
    let on_category = on_filter(|p, v| p.category = v.and_then(|v| v.parse().ok()));
    let on_sort = on_filter(|p, v| p.sort = v.filter(|v| v != SORTS[0].0));
    let categories = use_state(|| None::<relay_protocol::categories::CategoryTree>);
    {
        let categories = categories.clone();
        use_effect_with((), move |_| {
            yew::platform::spawn_local(async move {
                if let Ok(tree) = api::categories::tree().await {
                    categories.set(Some(tree));
                }
            });
        });
    }
    let on_retry = {
        let retry = retry.clone();
        Callback::from(move |_| retry.set(*retry + 1))
    };
    let on_more = {
        let (items, cursor, partial, loading_more, error, generation) = (
            items.clone(),
            cursor.clone(),
            partial.clone(),
            loading_more.clone(),
            error.clone(),
            generation.clone(),
        );
        let params = params.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(next) = (*cursor).clone() else {
                return;
            };
            if *loading_more {
                return;
            }
            let gen = *generation.borrow();
            let params = params.clone();
            let shown = (*items).clone();
            let was_partial = *partial;
            let (items, cursor, partial, loading_more, error, generation) = (
                items.clone(),
                cursor.clone(),
                partial.clone(),
                loading_more.clone(),
                error.clone(),
                generation.clone(),
            );
            loading_more.set(true);
            spawn_local(async move {
                let current = {
                    let generation = generation.clone();
                    move || *generation.borrow() == gen
                };
                let loaded = load(&params, Some(next), shown, was_partial, current).await;
                if *generation.borrow() != gen {
                    return;
                }
                items.set(loaded.rows);
                cursor.set(loaded.cursor);
                partial.set(loaded.partial);
                if let Some(e) = loaded.error {
                    error.set(Some(e));
                }
                loading_more.set(false);
            });
        })
    };

    let staff = session.is_staff();
    let filter = params.filter();
    let now = Utc::now();
    let heading = if staff { "Queue" } else { "My tickets" };

    // A search page cut short by the server's budget: say so, and offer to go on.
    let searching_on = *partial && cursor.is_some();
    let more_button = html! {
        <div class="list-more">
            <button type="button" class="btn" id="list-more" onclick={on_more} disabled={*loading_more}>
                { if *loading_more { "Loading…" } else if searching_on { "Search further" } else { "Load more" } }
            </button>
        </div>
    };
    let body = if *loading {
        html! { <Loading label="Loading tickets…" /> }
    } else if items.is_empty() {
        if let Some(err) = (*error).clone() {
            html! { <ErrorNotice error={err} on_retry={on_retry.clone()} /> }
        } else if searching_on {
            html! {
                <EmptyState title="No matches yet">
                    <p class="muted">{ "None of the tickets searched so far match. Older tickets are not searched yet." }</p>
                    { more_button }
                </EmptyState>
            }
        } else if !params.search().is_empty() || filter != StatusFilter::Active || params.narrowed()
        {
            html! {
                <EmptyState title="No tickets match">
                    <p class="muted">{ "Try other filters or fewer search words." }</p>
                </EmptyState>
            }
        } else {
            html! {
                <EmptyState title={if staff { "The queue is clear" } else { "No open tickets" }}>
                    <Link<Route> to={Route::NewTicket} classes="btn btn-primary">
                        { "Open a ticket" }
                    </Link<Route>>
                </EmptyState>
            }
        }
    } else {
        html! {
            <>
                <ul class="ticket-list">
                    { for items.iter().map(|t| ticket_row(t, staff, now)) }
                </ul>
                if let Some(err) = (*error).clone() {
                    <ErrorNotice error={err} />
                }
                if searching_on {
                    <p class="muted list-partial">{ "Older tickets are not searched yet." }</p>
                }
                if cursor.is_some() {
                    { more_button }
                }
            </>
        }
    };

    html! {
        <section class="page">
            <div class="page-head">
                <h1>{ heading }</h1>
                <Link<Route> to={Route::NewTicket} classes="btn btn-primary">{ "New ticket" }</Link<Route>>
            </div>
            <form class="toolbar" role="search" onsubmit={on_search_submit}>
                <div class="field field-inline grow">
                    <label for="ticket-search" class="visually-hidden">{ "Search tickets" }</label>
                    <input id="ticket-search" type="search" placeholder="Search title, description, replies…"
                        value={(*draft).clone()} oninput={on_search} autocomplete="off" />
                </div>
                <div class="field field-inline">
                    <label for="ticket-status" class="visually-hidden">{ "Status" }</label>
                    <select id="ticket-status" onchange={on_status}>
                        { for StatusFilter::choices().into_iter().map(|f| html! {
                            <option value={f.key()} selected={f == filter}>{ f.label() }</option>
                        }) }
                    </select>
                </div>
                <div class="field field-inline">
                    <label for="ticket-priority-filter" class="visually-hidden">{ "Priority" }</label>
                    <select id="ticket-priority-filter" onchange={on_priority}>
                        <option value="" selected={params.priority.is_none()}>{ "Any priority" }</option>
                        { for relay_protocol::tickets::Priority::ALL.iter().rev().map(|p| html! {
                            <option value={p.as_str()} selected={params.priority.as_deref() == Some(p.as_str())}>
                                { crate::format::priority_label(*p) }
                            </option>
                        }) }
                    </select>
                </div>
                if staff {
                    <div class="field field-inline">
                        <label for="ticket-who" class="visually-hidden">{ "Assignee" }</label>
                        <select id="ticket-who" onchange={on_who}>
                            <option value="" selected={params.who.is_none()}>{ "Anyone's" }</option>
                            <option value="me" selected={params.who.as_deref() == Some("me")}>{ "Mine" }</option>
                            <option value="unassigned" selected={params.who.as_deref() == Some("unassigned")}>{ "Unassigned" }</option>
                        </select>
                    </div>
                }
                <div class="field field-inline">
                    <label for="ticket-category-filter" class="visually-hidden">{ "Category" }</label>
                    <select id="ticket-category-filter" onchange={on_category}>
                        <option value="" selected={params.category.is_none()}>{ "Any category" }</option>
                        { for (*categories).iter().flat_map(|t| t.items.iter()).flat_map(|c| {
                            let mut rows = vec![(c.id.0, c.name.clone())];
                            rows.extend(c.children.iter().map(|k| (k.id.0, format!("{} › {}", c.name, k.name))));
                            rows
                        }).map(|(id, name)| html! {
                            <option value={id.to_string()} selected={params.category == Some(id)}>{ name }</option>
                        }) }
                    </select>
                </div>
                <div class="field field-inline">
                    <label for="ticket-sort" class="visually-hidden">{ "Sort" }</label>
                    <select id="ticket-sort" onchange={on_sort}>
                        { for SORTS.iter().map(|(key, label)| html! {
                            <option value={*key} selected={params.sort.as_deref().unwrap_or(SORTS[0].0) == *key}>{ *label }</option>
                        }) }
                    </select>
                </div>
            </form>
            <p class="visually-hidden" aria-live="polite">
                { if *loading { String::new() } else { format!("{} tickets shown", items.len()) } }
            </p>
            { body }
        </section>
    }
}

fn ticket_row(t: &TicketView, staff: bool, now: chrono::DateTime<Utc>) -> Html {
    let who = if staff {
        format!("From {}", t.requester.name)
    } else {
        match &t.assignee {
            Some(a) => format!("With {}", a.name),
            None => "Waiting for an agent".to_owned(),
        }
    };
    let replies = match t.message_count {
        1 => "1 message".to_owned(),
        n => format!("{n} messages"),
    };
    html! {
        <li key={t.id.0}>
            <Link<Route> to={Route::Ticket { id: t.id }} classes="ticket-row">
                <span class="ticket-row-top">
                    <span class="ticket-number">{ t.number.clone() }</span>
                    <span class="ticket-title">{ t.title.clone() }</span>
                </span>
                <span class="ticket-row-meta">
                    <StatusBadge status={t.status} />
                    <PriorityBadge priority={t.priority} />
                    <span>{ who }</span>
                    <span class="muted">{ replies }</span>
                    <time class="muted" datetime={t.updated_at.to_rfc3339()}
                        title={local_timestamp(t.updated_at)}>
                        { relative_time(t.updated_at, now) }
                    </time>
                </span>
            </Link<Route>>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ticket(id: i64) -> TicketView {
        TicketView {
            title: "t".into(),
            requester: crate::fixtures::customer(1, "Ada"),
            ..crate::fixtures::ticket(id)
        }
    }

    #[test]
    fn a_search_cut_short_goes_on_by_itself_until_a_page_or_eight() {
        let more = Some("c".to_owned());
        assert!(search_on(true, &more, 0, 1), "an empty partial page: on");
        assert!(search_on(true, &more, 24, 7));
        assert!(!search_on(true, &more, 25, 1), "a page's worth found: stop");
        assert!(
            !search_on(true, &more, 3, AUTO_SEARCH_PAGES),
            "then the reader decides"
        );
        assert!(!search_on(true, &None, 0, 1), "the end of the list");
        assert!(
            !search_on(false, &more, 0, 1),
            "an ordinary page: Load more"
        );
    }

    #[test]
    fn next_pages_append_without_duplicates() {
        let shown = append_page(vec![ticket(1), ticket(2)], vec![ticket(2), ticket(3)]);
        let ids: Vec<i64> = shown.iter().map(|t| t.id.0).collect();
        assert_eq!(ids, [1, 2, 3]);
    }

    fn at(id: i64, day: u32, status: TicketStatus) -> TicketView {
        let mut t = ticket(id);
        t.created_at = Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0).unwrap();
        t.status = status;
        t
    }

    fn ids(rows: &[TicketView]) -> Vec<i64> {
        rows.iter().map(|t| t.id.0).collect()
    }

    #[test]
    fn live_tickets_update_in_place_or_insert_in_order() {
        let shown = vec![at(5, 5, TicketStatus::Open), at(3, 3, TicketStatus::Open)];
        let active = ListParams::default();
        // A new ticket goes on top.
        let next = apply_live(&shown, &at(6, 6, TicketStatus::Open), &active, true).unwrap();
        assert_eq!(ids(&next), [6, 5, 3]);
        // A change updates the row where it is, even when it leaves the filter.
        let resolved = at(3, 3, TicketStatus::Resolved);
        let next = apply_live(&shown, &resolved, &active, true).unwrap();
        assert_eq!(ids(&next), [5, 3]);
        assert_eq!(next[1].status, TicketStatus::Resolved);
        // The same copy again changes nothing.
        assert_eq!(apply_live(&next, &resolved, &active, true), None);
        // Reopened, not shown yet: inserted by creation time.
        let next = apply_live(&shown, &at(4, 4, TicketStatus::Open), &active, true).unwrap();
        assert_eq!(ids(&next), [5, 4, 3]);
        // Older than every loaded row: it belongs to a later page, unless there is none.
        assert_eq!(
            apply_live(&shown, &at(1, 1, TicketStatus::Open), &active, true),
            None
        );
        let next = apply_live(&shown, &at(1, 1, TicketStatus::Open), &active, false).unwrap();
        assert_eq!(ids(&next), [5, 3, 1]);
    }

    #[test]
    fn live_tickets_respect_the_filter_and_search() {
        let shown = vec![at(5, 5, TicketStatus::Open)];
        let fresh = at(6, 6, TicketStatus::Open);
        let pending_only = ListParams::new(StatusFilter::Only(TicketStatus::Pending), "");
        assert_eq!(apply_live(&shown, &fresh, &pending_only, false), None);
        let searching = ListParams::new(StatusFilter::Active, "printer");
        assert_eq!(apply_live(&shown, &fresh, &searching, false), None);
        let all = ListParams::new(StatusFilter::All, "");
        assert!(apply_live(&[], &at(7, 7, TicketStatus::Closed), &all, false).is_some());
        assert!(StatusFilter::Active.admits(TicketStatus::Blocked));
        assert!(!StatusFilter::Active.admits(TicketStatus::Closed));
    }

    #[test]
    fn status_filter_keys_round_trip() {
        for f in StatusFilter::choices() {
            assert_eq!(StatusFilter::from_key(Some(f.key())), f);
        }
        assert_eq!(StatusFilter::from_key(None), StatusFilter::Active);
        assert_eq!(StatusFilter::from_key(Some("bogus")), StatusFilter::Active);
        assert_eq!(StatusFilter::choices().len(), 2 + TicketStatus::ALL.len());
    }

    #[test]
    fn active_means_not_done() {
        assert_eq!(
            StatusFilter::Active.api_status().as_deref(),
            Some("open,in_progress,pending,blocked")
        );
        assert_eq!(StatusFilter::All.api_status(), None);
        assert_eq!(
            StatusFilter::Only(TicketStatus::Resolved)
                .api_status()
                .as_deref(),
            Some("resolved")
        );
    }

    #[test]
    fn url_params_leave_out_defaults() {
        assert_eq!(
            ListParams::new(StatusFilter::Active, "  "),
            ListParams::default()
        );
        let p = ListParams::new(StatusFilter::Only(TicketStatus::Pending), " vpn down ");
        assert_eq!(p.status.as_deref(), Some("pending"));
        assert_eq!(p.q.as_deref(), Some("vpn down"));
        assert_eq!(
            serde_urlencoded::to_string(&p).unwrap(),
            "status=pending&q=vpn+down"
        );
    }

    #[test]
    fn api_query_from_params() {
        let q = ListParams::new(StatusFilter::All, "printer").api_query(Some("c2".into()));
        assert_eq!(q.q.as_deref(), Some("printer"));
        assert_eq!(q.status, None);
        assert_eq!(q.cursor.as_deref(), Some("c2"));
        assert_eq!(q.limit, Some(PAGE_SIZE));
        assert_eq!(
            crate::api::with_query("/api/tickets", &ListParams::default().api_query(None)),
            "/api/tickets?status=open%2Cin_progress%2Cpending%2Cblocked&limit=25"
        );
    }
}

#[cfg(test)]
mod filter_tests {
    use super::*;

    #[test]
    fn filters_survive_status_and_search_changes_and_reach_the_api() {
        let p = ListParams {
            priority: Some("urgent".into()),
            who: Some("me".into()),
            category: Some(4),
            sort: Some("-priority".into()),
            me: Some(7),
            ..Default::default()
        };
        let next = p.with(StatusFilter::All, " vpn ");
        assert_eq!(
            (next.priority.as_deref(), next.who.as_deref(), next.category),
            (Some("urgent"), Some("me"), Some(4))
        );
        let q = next.api_query(None);
        assert_eq!(q.assignee_id, Some(7));
        assert_eq!(q.priority.as_deref(), Some("urgent"));
        assert_eq!(q.category_id, Some(4));
        assert_eq!(q.sort.as_deref(), Some("-priority"));
        assert_eq!(q.q.as_deref(), Some("vpn"));
        let unassigned = ListParams {
            who: Some("unassigned".into()),
            ..Default::default()
        }
        .api_query(None);
        assert_eq!(
            (unassigned.unassigned, unassigned.assignee_id),
            (Some(true), None)
        );
        assert!(next.narrowed());
        // `me` never goes into the URL.
        let url = serde_json::to_value(&next).unwrap();
        assert!(url.get("me").is_none());
    }
}
