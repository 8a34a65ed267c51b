//! Alerts from the global channel: in-app toasts (new tickets for staff, assignments,
//! notifications) and a browser notification for an assignment once the user allowed it.
//! Which frame becomes which alert is a plain function, tested on the host.

use std::rc::Rc;

use relay_protocol::users::UserView;
use relay_protocol::ws::ServerFrame;
use relay_protocol::TicketId;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Notification, NotificationOptions, NotificationPermission};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::app::Route;
use crate::state::use_session;
use crate::ws::{use_ws_events, Topic, WsEvent};

/// A toast stays this long unless dismissed.
const TOAST_MS: u32 = 8_000;
/// At most this many at once; the oldest goes first.
const MAX_TOASTS: usize = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub title: String,
    pub body: String,
    pub ticket: Option<TicketId>,
    /// Also worth a browser notification (when allowed).
    pub push: bool,
}

/// The alert a global frame raises for `me`, if any. `viewing` is the ticket on screen:
/// news about it (typically taking it oneself) needs no toast.
pub fn alert_for(frame: &ServerFrame, me: &UserView, viewing: Option<TicketId>) -> Option<Alert> {
    match frame {
        ServerFrame::TicketCreated { ticket }
            if me.role.is_staff() && ticket.requester.id != me.id =>
        {
            Some(Alert {
                title: "New ticket".into(),
                body: format!(
                    "{} · {} (from {})",
                    ticket.number, ticket.title, ticket.requester.name
                ),
                ticket: Some(ticket.id),
                push: false,
            })
        }
        ServerFrame::Assigned { ticket } if viewing != Some(ticket.id) => Some(Alert {
            title: "Assigned to you".into(),
            body: format!("{} · {}", ticket.number, ticket.title),
            ticket: Some(ticket.id),
            push: true,
        }),
        // The `assigned` frame already said it; and the ticket on screen shows its own
        // changes (the bell still counts them).
        ServerFrame::Notification { notification }
            if notification.kind != "assigned"
                && (viewing.is_none() || notification.ticket_id != viewing) =>
        {
            Some(Alert {
                title: notification.title.clone(),
                body: notification.body.clone(),
                ticket: notification.ticket_id,
                push: false,
            })
        }
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub alert: Alert,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Toasts {
    pub items: Vec<Toast>,
    next_id: u64,
}

pub enum ToastAction {
    Push(Alert),
    Dismiss(u64),
}

impl Reducible for Toasts {
    type Action = ToastAction;

    fn reduce(self: Rc<Self>, action: ToastAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            ToastAction::Push(alert) => {
                next.next_id += 1;
                next.items.push(Toast {
                    id: next.next_id,
                    alert,
                });
                let excess = next.items.len().saturating_sub(MAX_TOASTS);
                next.items.drain(..excess);
            }
            ToastAction::Dismiss(id) => {
                next.items.retain(|t| t.id != id);
                if next.items.len() == self.items.len() {
                    return self;
                }
            }
        }
        Rc::new(next)
    }
}

fn notifications_supported() -> bool {
    web_sys::window().is_some_and(|w| {
        js_sys::Reflect::has(&w, &JsValue::from_str("Notification")).unwrap_or(false)
    })
}

/// The browser's answer so far; `None` where there is no Notification API.
fn permission() -> Option<NotificationPermission> {
    notifications_supported().then(Notification::permission)
}

/// A system notification, when the user allowed them and the tab is not in front (in
/// front, the toast says the same). Clicking it brings the tab back to the ticket.
fn push_notification(alert: &Alert, open: Callback<TicketId>) {
    if permission() != Some(NotificationPermission::Granted) {
        return;
    }
    let in_front = web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| !d.hidden() && d.has_focus().unwrap_or(false));
    if in_front {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(&alert.body);
    if let Some(t) = alert.ticket {
        // One notification per ticket: a repeat replaces it instead of piling up.
        options.set_tag(&format!("relay-desk-ticket-{t}"));
    }
    let Ok(n) = Notification::new_with_options(&alert.title, &options) else {
        return;
    };
    if let Some(ticket) = alert.ticket {
        let on_click = Closure::once_into_js(move || {
            if let Some(w) = web_sys::window() {
                let _ = w.focus();
            }
            open.emit(ticket);
        });
        n.set_onclick(Some(on_click.unchecked_ref()));
    }
}

/// The toast stack, fed by the global channel. Lives inside the router (links).
#[function_component(Alerts)]
pub fn alerts() -> Html {
    let session = use_session();
    let toasts = use_reducer(Toasts::default);
    let navigator = use_navigator();
    let route = use_route::<Route>();
    let viewing = match route {
        Some(Route::Ticket { id }) => Some(id),
        _ => None,
    };

    {
        let dispatcher = toasts.dispatcher();
        let me = session.user.clone();
        let open = {
            let navigator = navigator.clone();
            Callback::from(move |id: TicketId| {
                if let Some(nav) = &navigator {
                    nav.push(&Route::Ticket { id });
                }
            })
        };
        use_ws_events(Topic::Global, move |event| {
            let (WsEvent::Frame(frame), Some(me)) = (event, me.as_ref()) else {
                return;
            };
            if let Some(alert) = alert_for(&frame, me, viewing) {
                if alert.push {
                    push_notification(&alert, open.clone());
                }
                dispatcher.dispatch(ToastAction::Push(alert));
            }
        });
    }

    let on_dismiss = {
        let dispatcher = toasts.dispatcher();
        Callback::from(move |id: u64| dispatcher.dispatch(ToastAction::Dismiss(id)))
    };
    html! {
        <section class="toasts" aria-label="Alerts" aria-live="polite">
            { for toasts.items.iter().map(|t| html! {
                <ToastView key={t.id} toast={t.clone()} on_dismiss={on_dismiss.clone()} />
            }) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ToastProps {
    toast: Toast,
    on_dismiss: Callback<u64>,
}

#[function_component(ToastView)]
fn toast_view(props: &ToastProps) -> Html {
    let id = props.toast.id;
    {
        let on_dismiss = props.on_dismiss.clone();
        use_effect_with(id, move |id| {
            let id = *id;
            let timer = gloo::timers::callback::Timeout::new(TOAST_MS, move || on_dismiss.emit(id));
            move || drop(timer)
        });
    }
    let alert = &props.toast.alert;
    let dismiss = {
        let on_dismiss = props.on_dismiss.clone();
        Callback::from(move |_: MouseEvent| on_dismiss.emit(id))
    };
    let navigator = use_navigator();
    let open = alert.ticket.map(|ticket| {
        let on_dismiss = props.on_dismiss.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(nav) = &navigator {
                nav.push(&Route::Ticket { id: ticket });
            }
            on_dismiss.emit(id);
        })
    });
    html! {
        <div class="toast" role="status">
            <div class="toast-text">
                <strong class="toast-title">{ alert.title.clone() }</strong>
                <span class="toast-body">{ alert.body.clone() }</span>
            </div>
            if let Some(open) = open {
                <button type="button" class="btn btn-small" onclick={open}>{ "Open" }</button>
            }
            <button type="button" class="btn btn-small btn-ghost toast-close" onclick={dismiss}
                aria-label="Dismiss alert">{ "✕" }</button>
        </div>
    }
}

/// "Enable alerts": asks for browser notifications, only on this click (never on load).
/// Shown to staff while the browser has not been asked yet.
#[function_component(EnableAlerts)]
pub fn enable_alerts() -> Html {
    let session = use_session();
    let current = use_state_eq(permission);
    if !session.is_staff() || *current != Some(NotificationPermission::Default) {
        return html! {};
    }
    let onclick = {
        let current = current.clone();
        Callback::from(move |_: MouseEvent| {
            let Ok(promise) = Notification::request_permission() else {
                return;
            };
            let current = current.clone();
            let answered = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
                current.set(permission());
            });
            let _ = promise.then(&answered);
            // One small callback per click, freed with the page.
            answered.forget();
        })
    };
    html! {
        <button type="button" class="btn btn-small enable-alerts" {onclick}
            title="Show a desktop notification when a ticket is assigned to you">
            { "Enable alerts" }
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::tests::user;
    use chrono::{TimeZone, Utc};
    use relay_protocol::tickets::{Priority, TicketView};
    use relay_protocol::users::Role;
    use relay_protocol::ws::NotificationView;
    use relay_protocol::UserId;

    fn ticket(id: i64, requester: UserId) -> TicketView {
        TicketView {
            title: "Printer on fire".into(),
            priority: Priority::High,
            requester: crate::fixtures::customer(requester.0, "Cora"),
            ..crate::fixtures::ticket(id)
        }
    }

    #[test]
    fn new_tickets_alert_staff_only() {
        let frame = ServerFrame::TicketCreated {
            ticket: ticket(3, UserId(50)),
        };
        let alert = alert_for(&frame, &user(Role::Technician), None).unwrap();
        assert_eq!(alert.title, "New ticket");
        assert_eq!(alert.body, "TICK-2026-0003 · Printer on fire (from Cora)");
        assert_eq!(alert.ticket, Some(TicketId(3)));
        assert!(!alert.push);
        assert_eq!(alert_for(&frame, &user(Role::Customer), None), None);
        // Staff opening a ticket for themselves need no alert about it.
        let own = ServerFrame::TicketCreated {
            ticket: ticket(4, UserId(7)),
        };
        assert_eq!(alert_for(&own, &user(Role::Technician), None), None);
    }

    #[test]
    fn assignments_push_unless_the_ticket_is_on_screen() {
        let frame = ServerFrame::Assigned {
            ticket: ticket(3, UserId(50)),
        };
        let alert = alert_for(&frame, &user(Role::Technician), None).unwrap();
        assert_eq!(alert.title, "Assigned to you");
        assert!(alert.push);
        assert_eq!(
            alert_for(&frame, &user(Role::Technician), Some(TicketId(3))),
            None
        );
        assert!(alert_for(&frame, &user(Role::Technician), Some(TicketId(4))).is_some());
    }

    #[test]
    fn notifications_toast_except_duplicated_assignments() {
        let note = |kind: &str| ServerFrame::Notification {
            notification: NotificationView {
                id: 1,
                kind: kind.into(),
                ticket_id: Some(TicketId(3)),
                title: "TICK-2026-0003 is now resolved".into(),
                body: "Printer on fire".into(),
                created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
                read_at: None,
            },
        };
        let alert = alert_for(&note("status_changed"), &user(Role::Customer), None).unwrap();
        assert_eq!(alert.title, "TICK-2026-0003 is now resolved");
        assert_eq!(
            alert_for(&note("assigned"), &user(Role::Technician), None),
            None
        );
        // Looking at that ticket already: the header shows it.
        assert_eq!(
            alert_for(
                &note("status_changed"),
                &user(Role::Customer),
                Some(TicketId(3))
            ),
            None
        );
        assert!(alert_for(
            &note("status_changed"),
            &user(Role::Customer),
            Some(TicketId(4))
        )
        .is_some());
        assert_eq!(
            alert_for(
                &ServerFrame::TicketUpdated {
                    ticket: ticket(3, UserId(50))
                },
                &user(Role::Technician),
                None
            ),
            None
        );
    }

    #[test]
    fn toasts_stack_up_to_four_and_dismiss() {
        let alert = |n: u32| Alert {
            title: format!("t{n}"),
            body: String::new(),
            ticket: None,
            push: false,
        };
        let mut state = Rc::new(Toasts::default());
        for n in 0..6 {
            state = state.reduce(ToastAction::Push(alert(n)));
        }
        let titles: Vec<&str> = state.items.iter().map(|t| t.alert.title.as_str()).collect();
        assert_eq!(titles, ["t2", "t3", "t4", "t5"]);
        let first = state.items[0].id;
        let state = state.reduce(ToastAction::Dismiss(first));
        assert_eq!(state.items.len(), 3);
        let same = state.clone().reduce(ToastAction::Dismiss(first));
        assert!(Rc::ptr_eq(&state, &same));
    }
}
