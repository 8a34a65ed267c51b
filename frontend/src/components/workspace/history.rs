//! The ticket's change history as a timeline, collapsed until asked for; reloaded while
//! open whenever the ticket changes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use relay_protocol::tickets::{HistoryEntry, TicketView};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::notice::ErrorNotice;
use crate::format::{local_timestamp, relative_time};
use crate::workspace::history_sentence;

#[derive(Properties, PartialEq)]
pub struct HistoryProps {
    pub ticket: TicketView,
}

#[function_component(History)]
pub fn history(props: &HistoryProps) -> Html {
    let open = use_state(|| false);
    let items = use_state(|| None::<Vec<HistoryEntry>>);
    let error = use_state(|| None::<ApiError>);
    let id = props.ticket.id;

    {
        let (items, error) = (items.clone(), error.clone());
        use_effect_with(
            (id, props.ticket.updated_at, *open),
            move |(id, _, open)| {
                if *open {
                    let id = *id;
                    spawn_local(async move {
                        match api::workspace::history(id).await {
                            Ok(list) => {
                                error.set(None);
                                items.set(Some(list.items));
                            }
                            Err(e) => error.set(Some(e)),
                        }
                    });
                }
            },
        );
    }

    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    let now = Utc::now();

    html! {
        <section class="card panel" aria-labelledby="history-title">
            <h2 id="history-title" class="panel-title">
                <button id="history-toggle" type="button" class="panel-toggle" onclick={toggle}
                    aria-expanded={open.to_string()} aria-controls="history-body">
                    <span aria-hidden="true" class="chevron">{ if *open { "▾" } else { "▸" } }</span>
                    { "History" }
                </button>
            </h2>
            if *open {
                <div id="history-body">
                    if let Some(err) = (*error).clone() { <ErrorNotice error={err} /> }
                    { timeline(items.as_deref(), &props.ticket, now) }
                </div>
            }
        </section>
    }
}

fn timeline(items: Option<&[HistoryEntry]>, t: &TicketView, now: DateTime<Utc>) -> Html {
    let Some(items) = items else {
        return html! { <p class="muted panel-note">{ "Loading history…" }</p> };
    };
    if items.is_empty() {
        return html! { <p class="muted panel-note">{ "No changes yet." }</p> };
    }
    // Assignee values are user ids: name the ones this page knows.
    let mut names: HashMap<String, String> = HashMap::new();
    for u in items
        .iter()
        .filter_map(|e| e.actor.as_ref())
        .chain(t.assignee.as_ref())
        .chain(std::iter::once(&t.requester))
    {
        names.insert(u.id.0.to_string(), u.name.clone());
    }
    let lookup = |id: &str| names.get(id).cloned();
    html! {
        <ol class="history" aria-label="Ticket history">
            { for items.iter().rev().map(|e| {
                let who = e.actor.as_ref().map_or_else(|| "System".to_owned(), |a| a.name.clone());
                let what = history_sentence(&e.field, e.old_value.as_deref(), e.new_value.as_deref(), &lookup);
                html! {
                    <li key={e.id} class="history-item">
                        <span class="history-dot" aria-hidden="true"></span>
                        <div>
                            <p class="history-text"><strong>{ who }</strong>{ " " }{ what }</p>
                            <time class="muted" datetime={e.created_at.to_rfc3339()} title={local_timestamp(e.created_at)}>
                                { relative_time(e.created_at, now) }
                            </time>
                        </div>
                    </li>
                }
            }) }
        </ol>
    }
}
