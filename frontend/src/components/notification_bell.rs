//! The top bar's bell: the unread count from `GET /api/notifications`, raised live by
//! `notification` frames, a dropdown of the latest ones, and "Mark all read". The counting
//! is a reducer, tested on the host.

use std::rc::Rc;

use chrono::{DateTime, Utc};
use gloo::events::EventListener;
use relay_protocol::notifications::{MarkReadRequest, NotificationList, NotificationQuery};
use relay_protocol::ws::{NotificationView, ServerFrame};
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, Node};
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::Route;
use crate::format::{local_timestamp, relative_time};
use crate::state::use_session;
use crate::ws::{use_ws, use_ws_events, ConnState, Topic, WsEvent};

/// How many the dropdown shows.
pub const SHOWN: usize = 20;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inbox {
    pub items: Vec<NotificationView>,
    pub unread: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InboxAction {
    Loaded(NotificationList),
    /// Pushed live over the socket.
    Arrived(NotificationView),
    Read(Vec<i64>, DateTime<Utc>),
    AllRead(DateTime<Utc>),
    Clear,
}

impl Inbox {
    pub fn apply(&mut self, action: InboxAction) {
        match action {
            InboxAction::Loaded(list) => {
                self.items = list.items;
                self.items.truncate(SHOWN);
                self.unread = list.unread.max(0);
            }
            InboxAction::Arrived(n) => {
                // A frame replayed after a reload that already listed it counts once.
                if self.items.iter().any(|x| x.id == n.id) {
                    return;
                }
                if n.read_at.is_none() {
                    self.unread += 1;
                }
                self.items.insert(0, n);
                self.items.truncate(SHOWN);
            }
            InboxAction::Read(ids, at) => {
                for n in self.items.iter_mut() {
                    if ids.contains(&n.id) && n.read_at.is_none() {
                        n.read_at = Some(at);
                        self.unread = (self.unread - 1).max(0);
                    }
                }
            }
            InboxAction::AllRead(at) => {
                for n in self.items.iter_mut() {
                    n.read_at.get_or_insert(at);
                }
                self.unread = 0;
            }
            InboxAction::Clear => *self = Inbox::default(),
        }
    }
}

impl Reducible for Inbox {
    type Action = InboxAction;

    fn reduce(self: Rc<Self>, action: InboxAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        if next == *self {
            self
        } else {
            Rc::new(next)
        }
    }
}

/// The badge: nothing at zero, "99+" past 99.
pub fn badge_text(unread: i64) -> Option<String> {
    match unread {
        n if n <= 0 => None,
        n if n > 99 => Some("99+".into()),
        n => Some(n.to_string()),
    }
}

fn bell_label(unread: i64) -> String {
    match unread {
        n if n <= 0 => "Notifications".into(),
        1 => "Notifications, 1 unread".into(),
        n => format!("Notifications, {n} unread"),
    }
}

#[function_component(NotificationBell)]
pub fn notification_bell() -> Html {
    let session = use_session();
    let ws = use_ws();
    let navigator = use_navigator();
    let inbox = use_reducer(Inbox::default);
    let open = use_state_eq(|| false);
    let wrapper = use_node_ref();
    let button = use_node_ref();
    let user_id = session.user.as_ref().map(|u| u.id);
    let live = ws.state == ConnState::Live;

    {
        // On sign-in, and after every reconnect (frames may have been missed meanwhile).
        let dispatcher = inbox.dispatcher();
        use_effect_with((user_id, live), move |(user_id, _)| {
            if user_id.is_none() {
                dispatcher.dispatch(InboxAction::Clear);
            } else {
                let query = NotificationQuery {
                    unread: None,
                    limit: Some(SHOWN as i64),
                };
                spawn_local(async move {
                    if let Ok(list) = api::notifications::list(&query).await {
                        dispatcher.dispatch(InboxAction::Loaded(list));
                    }
                });
            }
        });
    }
    {
        let dispatcher = inbox.dispatcher();
        use_ws_events(Topic::Global, move |event| {
            if let WsEvent::Frame(frame) = event {
                if let ServerFrame::Notification { notification } = &*frame {
                    dispatcher.dispatch(InboxAction::Arrived(notification.clone()));
                }
            }
        });
    }
    {
        // A click anywhere else closes the dropdown.
        let (open, wrapper) = (open.clone(), wrapper.clone());
        use_effect_with(*open, move |is_open| {
            let listener = (*is_open).then(|| {
                let document = web_sys::window().and_then(|w| w.document());
                document.map(|d| {
                    EventListener::new(&d, "mousedown", move |e| {
                        let inside = match (wrapper.get(), e.target()) {
                            (Some(w), Some(t)) => {
                                t.dyn_ref::<Node>().is_some_and(|t| w.contains(Some(t)))
                            }
                            _ => false,
                        };
                        if !inside {
                            open.set(false);
                        }
                    })
                })
            });
            move || drop(listener)
        });
    }

    if user_id.is_none() {
        return html! {};
    }

    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    let on_key = {
        let (open, button) = (open.clone(), button.clone());
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" && *open {
                open.set(false);
                if let Some(b) = button.cast::<HtmlElement>() {
                    let _ = b.focus();
                }
            }
        })
    };
    let mark_all = {
        let dispatcher = inbox.dispatcher();
        Callback::from(move |_: MouseEvent| {
            dispatcher.dispatch(InboxAction::AllRead(Utc::now()));
            spawn_local(async move {
                let body = MarkReadRequest {
                    ids: Vec::new(),
                    all: true,
                };
                // Best effort: the next load shows the server's truth either way.
                let _ = api::notifications::mark_read(&body).await;
            });
        })
    };
    let on_item = {
        let (dispatcher, open) = (inbox.dispatcher(), open.clone());
        Callback::from(move |n: NotificationView| {
            if n.read_at.is_none() {
                dispatcher.dispatch(InboxAction::Read(vec![n.id], Utc::now()));
                let body = MarkReadRequest {
                    ids: vec![n.id],
                    all: false,
                };
                spawn_local(async move {
                    let _ = api::notifications::mark_read(&body).await;
                });
            }
            if let (Some(ticket), Some(nav)) = (n.ticket_id, &navigator) {
                nav.push(&Route::Ticket { id: ticket });
                open.set(false);
            }
        })
    };

    let now = Utc::now();
    let unread = inbox.unread;
    html! {
        <div class="bell" ref={wrapper} onkeydown={on_key}>
            <button ref={button} type="button" id="bell-button"
                class={classes!("bell-button", (unread > 0).then_some("has-unread"))}
                aria-haspopup="true" aria-expanded={open.to_string()} aria-controls="bell-panel"
                aria-label={bell_label(unread)} title="Notifications" onclick={toggle}>
                <svg class="bell-icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
                    <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z" />
                </svg>
                if let Some(text) = badge_text(unread) {
                    <span class="bell-badge" id="bell-count" aria-hidden="true">{ text }</span>
                }
            </button>
            if *open {
                <div class="bell-panel" id="bell-panel" role="region" aria-label="Notifications">
                    <div class="bell-head">
                        <strong>{ "Notifications" }</strong>
                        <button type="button" class="btn btn-ghost btn-small" id="bell-mark-all"
                            disabled={unread == 0} onclick={mark_all}>{ "Mark all read" }</button>
                    </div>
                    if inbox.items.is_empty() {
                        <p class="bell-empty muted">{ "You're all caught up." }</p>
                    } else {
                        <ul class="bell-list">
                            { for inbox.items.iter().map(|n| {
                                let item = n.clone();
                                let on_item = on_item.clone();
                                html! {
                                    <li key={n.id}>
                                        <button type="button"
                                            class={classes!("bell-item", n.read_at.is_none().then_some("unread"))}
                                            onclick={move |_| on_item.emit(item.clone())}>
                                            <span class="bell-item-title">
                                                if n.read_at.is_none() {
                                                    <span class="visually-hidden">{ "Unread: " }</span>
                                                }
                                                { n.title.clone() }
                                            </span>
                                            if !n.body.is_empty() {
                                                <span class="bell-item-body">{ n.body.clone() }</span>
                                            }
                                            <time class="bell-item-time" datetime={n.created_at.to_rfc3339()}
                                                title={local_timestamp(n.created_at)}>
                                                { relative_time(n.created_at, now) }
                                            </time>
                                        </button>
                                    </li>
                                }
                            }) }
                        </ul>
                    }
                </div>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use relay_protocol::TicketId;

    fn note(id: i64, read: bool) -> NotificationView {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        NotificationView {
            id,
            kind: "status_changed".into(),
            ticket_id: Some(TicketId(1)),
            title: format!("n{id}"),
            body: String::new(),
            created_at: at,
            read_at: read.then_some(at),
        }
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap()
    }

    #[test]
    fn live_notifications_raise_the_count_once() {
        let mut inbox = Inbox::default();
        inbox.apply(InboxAction::Loaded(NotificationList {
            items: vec![note(2, false), note(1, true)],
            unread: 1,
        }));
        inbox.apply(InboxAction::Arrived(note(3, false)));
        inbox.apply(InboxAction::Arrived(note(3, false)));
        assert_eq!(inbox.unread, 2);
        assert_eq!(inbox.items[0].id, 3);
        assert_eq!(inbox.items.len(), 3);
    }

    #[test]
    fn reading_lowers_the_count() {
        let mut inbox = Inbox::default();
        inbox.apply(InboxAction::Loaded(NotificationList {
            items: vec![note(2, false), note(1, false)],
            // More unread than shown: the count is the server's.
            unread: 5,
        }));
        inbox.apply(InboxAction::Read(vec![2], at()));
        inbox.apply(InboxAction::Read(vec![2], at()));
        assert_eq!(inbox.unread, 4);
        inbox.apply(InboxAction::AllRead(at()));
        assert_eq!(inbox.unread, 0);
        assert!(inbox.items.iter().all(|n| n.read_at.is_some()));
    }

    #[test]
    fn the_list_keeps_the_newest() {
        let mut inbox = Inbox::default();
        for id in 0..(SHOWN as i64 + 5) {
            inbox.apply(InboxAction::Arrived(note(id, false)));
        }
        assert_eq!(inbox.items.len(), SHOWN);
        assert_eq!(inbox.items[0].id, SHOWN as i64 + 4);
        assert_eq!(inbox.unread, SHOWN as i64 + 5);
    }

    #[test]
    fn badge_and_label() {
        assert_eq!(badge_text(0), None);
        assert_eq!(badge_text(7).as_deref(), Some("7"));
        assert_eq!(badge_text(120).as_deref(), Some("99+"));
        assert_eq!(bell_label(0), "Notifications");
        assert_eq!(bell_label(1), "Notifications, 1 unread");
        assert_eq!(bell_label(3), "Notifications, 3 unread");
    }
}
