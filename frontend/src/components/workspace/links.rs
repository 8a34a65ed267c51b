//! Links to other tickets (staff): blocks, relates to, duplicates; add by number or id,
//! remove with one click.

use relay_protocol::tickets::{LinkKind, LinkRequest, LinkView};
use relay_protocol::TicketId;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::app::Route;
use crate::components::badges::StatusBadge;
use crate::components::form::select_value;
use crate::components::notice::ErrorNotice;

#[derive(Properties, PartialEq)]
pub struct LinksProps {
    pub ticket_id: TicketId,
}

fn relation(kind: LinkKind, outgoing: bool) -> &'static str {
    match (kind, outgoing) {
        (LinkKind::Blocks, true) => "Blocks",
        (LinkKind::Blocks, false) => "Blocked by",
        (LinkKind::Relates, _) => "Related to",
        (LinkKind::Duplicates, true) => "Duplicates",
        (LinkKind::Duplicates, false) => "Duplicated by",
    }
}

fn kind_label(kind: LinkKind) -> &'static str {
    match kind {
        LinkKind::Blocks => "blocks",
        LinkKind::Relates => "relates to",
        LinkKind::Duplicates => "duplicates",
    }
}

#[function_component(Links)]
pub fn links(props: &LinksProps) -> Html {
    let id = props.ticket_id;
    let items = use_state(|| None::<Vec<LinkView>>);
    let error = use_state(|| None::<ApiError>);
    let target = use_state(String::new);
    let kind = use_state(|| LinkKind::Relates);
    let busy = use_state(|| false);

    {
        let (items, error) = (items.clone(), error.clone());
        use_effect_with(id, move |id| {
            let id = *id;
            spawn_local(async move {
                match api::workspace::links(id).await {
                    Ok(list) => items.set(Some(list.items)),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }

    let on_add = {
        let (items, error, target, kind, busy) = (
            items.clone(),
            error.clone(),
            target.clone(),
            kind.clone(),
            busy.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let reference = target.trim().to_owned();
            if reference.is_empty() {
                return;
            }
            let body = LinkRequest {
                target: reference,
                kind: *kind,
            };
            let (items, error, target, busy) =
                (items.clone(), error.clone(), target.clone(), busy.clone());
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                match api::workspace::add_link(id, &body).await {
                    Ok(list) => {
                        items.set(Some(list.items));
                        target.set(String::new());
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let on_remove = {
        let (items, error) = (items.clone(), error.clone());
        Callback::from(move |link: i64| {
            let (items, error) = (items.clone(), error.clone());
            spawn_local(async move {
                match api::workspace::remove_link(id, link).await {
                    Ok(()) => {
                        let rest = (*items)
                            .clone()
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|l| l.id != link)
                            .collect();
                        items.set(Some(rest));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let on_target = {
        let target = target.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                target.set(i.value());
            }
        })
    };
    let on_kind = {
        let kind = kind.clone();
        Callback::from(move |e: Event| {
            if let Some(k) = select_value(&e).as_deref().and_then(LinkKind::parse) {
                kind.set(k);
            }
        })
    };

    html! {
        <section class="card panel" aria-labelledby="links-title">
            <h2 id="links-title" class="panel-title">{ "Linked tickets" }</h2>
            if let Some(list) = (*items).clone() {
                if list.is_empty() {
                    <p class="muted panel-note">{ "No linked tickets." }</p>
                } else {
                    <ul class="link-list">
                        { for list.iter().map(|l| {
                            let (remove, link_id) = (on_remove.clone(), l.id);
                            html! {
                                <li key={l.id} class="link-item">
                                    <span class="muted link-kind">{ relation(l.kind, l.direction == "outgoing") }</span>
                                    <Link<Route> to={Route::Ticket { id: l.ticket_id }} classes="link-target">
                                        <span class="ticket-number">{ l.number.clone() }</span>
                                        <span class="link-title">{ l.title.clone() }</span>
                                    </Link<Route>>
                                    <StatusBadge status={l.status} />
                                    <button type="button" class="btn btn-small btn-ghost link-remove"
                                        aria-label={format!("Remove link to {}", l.number)}
                                        onclick={move |_| remove.emit(link_id)}>{ "✕" }</button>
                                </li>
                            }
                        }) }
                    </ul>
                }
            }
            <form class="link-add" onsubmit={on_add}>
                <label for="link-kind" class="visually-hidden">{ "Link type" }</label>
                <select id="link-kind" onchange={on_kind}>
                    { for LinkKind::ALL.iter().map(|k| html! {
                        <option value={k.as_str()} selected={*k == *kind}>{ kind_label(*k) }</option>
                    }) }
                </select>
                <label for="link-target" class="visually-hidden">{ "Other ticket (number or id)" }</label>
                <input id="link-target" type="text" placeholder="TICK-2025-0001" value={(*target).clone()} oninput={on_target} />
                <button type="submit" class="btn btn-small" disabled={*busy || target.trim().is_empty()}>{ "Link" }</button>
            </form>
            if let Some(err) = (*error).clone() { <ErrorNotice error={err} /> }
        </section>
    }
}
