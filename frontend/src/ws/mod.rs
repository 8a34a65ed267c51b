//! The one WebSocket of this tab (SPEC §4), provided as a Yew context: it authenticates,
//! resumes every joined room from its last seq after any reconnect, resends unacknowledged
//! replies with their client_id, and hands frames to the screens that subscribed.
//! Every decision lives in `book` (plain Rust, host-tested); this file talks to the browser.

pub mod book;
pub mod typing;

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use gloo::events::EventListener;
use gloo::timers::callback::Timeout;
use relay_protocol::messages::PostMessageRequest;
use relay_protocol::users::UserView;
use relay_protocol::ws::{ClientFrame, ServerFrame, TypingState};
use relay_protocol::TicketId;
use uuid::Uuid;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, warn};
use crate::state::{use_session, Action};
use crate::storage;
use book::{after_close, socket_url, AfterClose, Core, Pending, SendState, STABLE_AFTER_MS};

/// An opened socket that has not said `ready` by then counts as a failed attempt.
const READY_TIMEOUT_MS: u32 = 10_000;
/// Re-authenticate on the open socket this long before the access token expires, so the
/// server never has to close it (and nobody sees a reconnect every 15 minutes).
const REAUTH_AHEAD_MS: f64 = 25_000.0;
/// Shortest wait between two re-authentication attempts.
const REAUTH_MIN_WAIT_MS: f64 = 5_000.0;

/// What the top bar shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// Signed out: no socket.
    Idle,
    /// First connection of this session, not live yet.
    Connecting,
    /// Authenticated; rooms and alerts are live.
    Live,
    /// Lost (or never made): waiting out the back-off, or trying again.
    Reconnecting,
    /// The browser says there is no network; trying again when it comes back.
    Offline,
}

/// Who a frame is for: one ticket's screens, or the user's global channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Ticket(TicketId),
    Global,
}

/// What subscribers receive.
#[derive(Debug, Clone, PartialEq)]
pub enum WsEvent {
    /// A server frame, already de-duplicated (a REST answer to a send while offline
    /// arrives as an `Ack` too).
    Frame(Rc<ServerFrame>),
    /// The unacknowledged replies of a ticket changed; this is the whole list.
    Outbox {
        ticket_id: TicketId,
        pending: Rc<Vec<Pending>>,
    },
}

/// The topics a server frame is delivered to. Ticket changes also reach that ticket's
/// screen, so an open ticket's header follows status and assignment changes.
pub fn topics(frame: &ServerFrame) -> Vec<Topic> {
    match frame {
        ServerFrame::Message { ticket_id, .. }
        | ServerFrame::Typing { ticket_id, .. }
        | ServerFrame::Receipt { ticket_id, .. }
        | ServerFrame::Presence { ticket_id, .. }
        | ServerFrame::Joined { ticket_id, .. }
        | ServerFrame::Left { ticket_id, .. }
        | ServerFrame::Resync { ticket_id } => vec![Topic::Ticket(*ticket_id)],
        ServerFrame::Ack { message, .. } => vec![Topic::Ticket(message.ticket_id)],
        ServerFrame::TicketCreated { ticket }
        | ServerFrame::TicketUpdated { ticket }
        | ServerFrame::Assigned { ticket } => vec![Topic::Global, Topic::Ticket(ticket.id)],
        ServerFrame::Notification { .. }
        | ServerFrame::Floor { .. }
        | ServerFrame::System { .. }
        | ServerFrame::Error { .. } => vec![Topic::Global],
        ServerFrame::Ready { .. } => Vec::new(),
    }
}

/// One socket and the JS callbacks that must live as long as it does.
struct Conn {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Detach first: a late event must not call into a dropped closure.
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        if matches!(
            self.ws.ready_state(),
            WebSocket::CONNECTING | WebSocket::OPEN
        ) {
            let _ = self.ws.close_with_code(1000);
        }
    }
}

type Subscriber = (u64, Topic, Callback<WsEvent>);

struct Inner {
    this: Weak<Inner>,
    core: RefCell<Core>,
    conn: RefCell<Option<Conn>>,
    /// Bumped per connection attempt: events and async answers of an older one are ignored.
    generation: Cell<u64>,
    /// Signed in: keep a connection up.
    running: Cell<bool>,
    state: Cell<ConnState>,
    ever_live: Cell<bool>,
    live_since_ms: Cell<Option<f64>>,
    /// The token the current connection authenticated with (to tell a 4401 for it from
    /// one for a token already rotated).
    sent_token: RefCell<Option<String>>,
    subs: RefCell<Vec<Subscriber>>,
    next_sub: Cell<u64>,
    retry_timer: RefCell<Option<Timeout>>,
    ready_timer: RefCell<Option<Timeout>>,
    reauth_timer: RefCell<Option<Timeout>>,
    listeners: RefCell<Vec<EventListener>>,
    on_state: RefCell<Option<Callback<ConnState>>>,
    on_user: RefCell<Option<Callback<UserView>>>,
}

/// The tab's socket service. Cheap to clone; equal when it is the same service.
#[derive(Clone)]
pub struct Service(Rc<Inner>);

impl PartialEq for Service {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// Unsubscribes when dropped.
pub struct Subscription {
    inner: Weak<Inner>,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.subs.borrow_mut().retain(|(id, _, _)| *id != self.id);
        }
    }
}

impl Default for Service {
    fn default() -> Self {
        Service::new()
    }
}

impl Service {
    pub fn new() -> Service {
        Service(Rc::new_cyclic(|this| Inner {
            this: this.clone(),
            core: RefCell::new(Core::default()),
            conn: RefCell::new(None),
            generation: Cell::new(0),
            running: Cell::new(false),
            state: Cell::new(ConnState::Idle),
            ever_live: Cell::new(false),
            live_since_ms: Cell::new(None),
            sent_token: RefCell::new(None),
            subs: RefCell::new(Vec::new()),
            next_sub: Cell::new(0),
            retry_timer: RefCell::new(None),
            ready_timer: RefCell::new(None),
            reauth_timer: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            on_state: RefCell::new(None),
            on_user: RefCell::new(None),
        }))
    }

    /// Signed in: connect, and stay connected until `stop`.
    pub fn start(&self) {
        let inner = &self.0;
        if inner.running.replace(true) {
            return;
        }
        inner.listen_to_the_browser();
        inner.connect();
    }

    /// Signed out: close, and forget rooms and unsent replies (they belong to that user).
    pub fn stop(&self) {
        let inner = &self.0;
        inner.running.set(false);
        inner.generation.set(inner.generation.get() + 1);
        inner.clear_timers();
        inner.listeners.borrow_mut().clear();
        inner.drop_conn_soon();
        inner.core.borrow_mut().reset();
        inner.sent_token.borrow_mut().take();
        inner.ever_live.set(false);
        inner.live_since_ms.set(None);
        inner.set_state(ConnState::Idle);
    }

    /// Skip the rest of the back-off (the indicator's "Retry now").
    pub fn reconnect_now(&self) {
        let inner = &self.0;
        if inner.running.get() && !inner.core.borrow().live {
            inner.connect_now(true);
        }
    }

    pub fn subscribe(&self, topic: Topic, callback: Callback<WsEvent>) -> Subscription {
        let id = self.0.next_sub.get() + 1;
        self.0.next_sub.set(id);
        self.0.subs.borrow_mut().push((id, topic, callback));
        Subscription {
            inner: Rc::downgrade(&self.0),
            id,
        }
    }

    /// A screen opens `ticket`, already holding every message up to `since`.
    pub fn join(&self, ticket: TicketId, since: i64) {
        let frame = self.0.core.borrow_mut().join(ticket, since);
        if let Some(f) = frame {
            self.0.send_frame(&f);
        }
    }

    pub fn leave(&self, ticket: TicketId) {
        let frame = self.0.core.borrow_mut().leave(ticket);
        if let Some(f) = frame {
            self.0.send_frame(&f);
        }
    }

    /// Sends a reply: over the socket when live, else over REST (same client_id, so the
    /// server stores it once whichever way gets through first). Progress is reported as
    /// `WsEvent::Outbox` and the stored message as an `Ack` frame.
    pub fn send_message(&self, ticket: TicketId, body: String, internal: bool, client_id: Uuid) {
        let frame = self
            .0
            .core
            .borrow_mut()
            .send(client_id, ticket, body, internal);
        match frame {
            Some(f) => {
                self.0.send_frame(&f);
            }
            None => self.0.post_over_rest(client_id),
        }
        self.0.emit_outbox(ticket);
    }

    /// Tries a refused reply again, with its original client_id.
    pub fn retry_send(&self, client_id: Uuid) {
        let frame = self.0.core.borrow_mut().retry(client_id);
        match frame {
            Some(f) => {
                self.0.send_frame(&f);
            }
            None => self.0.post_over_rest(client_id),
        }
        let ticket = self
            .0
            .core
            .borrow()
            .outbox
            .get(client_id)
            .map(|p| p.ticket_id);
        if let Some(t) = ticket {
            self.0.emit_outbox(t);
        }
    }

    /// Drops a refused reply.
    pub fn discard_send(&self, client_id: Uuid) {
        let removed = {
            let mut core = self.0.core.borrow_mut();
            match core.outbox.get(client_id) {
                Some(p) if p.is_failed() => core.outbox.acked(client_id),
                _ => None,
            }
        };
        if let Some(p) = removed {
            self.0.emit_outbox(p.ticket_id);
        }
    }

    pub fn pending_for(&self, ticket: TicketId) -> Vec<Pending> {
        self.0.core.borrow().outbox.for_ticket(ticket)
    }

    /// Typing start/stop; dropped unless live in that room (it is ephemeral anyway).
    pub fn typing(&self, ticket: TicketId, state: TypingState) {
        let ok = {
            let core = self.0.core.borrow();
            core.live && core.rooms.get(ticket).is_some()
        };
        if ok {
            self.0.send_frame(&ClientFrame::Typing {
                ticket_id: ticket,
                state,
            });
        }
    }

    /// The user has seen `ticket` up to `seq`; sent once, never backwards, repeated after
    /// a reconnect until the server confirms it.
    pub fn mark_read(&self, ticket: TicketId, seq: i64) {
        let frame = self.0.core.borrow_mut().mark_read(ticket, seq);
        if let Some(f) = frame {
            self.0.send_frame(&f);
        }
    }

    fn set_listeners(
        &self,
        on_state: Option<Callback<ConnState>>,
        on_user: Option<Callback<UserView>>,
    ) {
        *self.0.on_state.borrow_mut() = on_state;
        *self.0.on_user.borrow_mut() = on_user;
    }
}

fn browser_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

fn page_socket_url() -> Option<String> {
    let location = web_sys::window()?.location();
    Some(socket_url(
        &location.protocol().ok()?,
        &location.host().ok()?,
    ))
}

impl Inner {
    fn set_state(&self, state: ConnState) {
        if self.state.replace(state) != state {
            let cb = self.on_state.borrow().clone();
            if let Some(cb) = cb {
                cb.emit(state);
            }
        }
    }

    fn current(&self, generation: u64) -> bool {
        self.running.get() && self.generation.get() == generation
    }

    fn clear_timers(&self) {
        self.retry_timer.borrow_mut().take();
        self.ready_timer.borrow_mut().take();
        self.reauth_timer.borrow_mut().take();
    }

    /// Drops the connection later: this may run inside one of its own callbacks.
    fn drop_conn_soon(&self) {
        let old = self.conn.borrow_mut().take();
        if old.is_some() {
            spawn_local(async move { drop(old) });
        }
    }

    fn listen_to_the_browser(&self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let mut listeners = self.listeners.borrow_mut();
        let weak = self.this.clone();
        listeners.push(EventListener::new(&window, "online", move |_| {
            if let Some(inner) = weak.upgrade() {
                if inner.running.get() && !inner.core.borrow().live {
                    inner.connect();
                }
            }
        }));
        let weak = self.this.clone();
        listeners.push(EventListener::new(&window, "offline", move |_| {
            // No network: the socket is dead even if the browser has not noticed yet.
            if let Some(inner) = weak.upgrade() {
                if inner.running.get() {
                    inner.lost();
                    inner.retry_timer.borrow_mut().take();
                    inner.set_state(ConnState::Offline);
                }
            }
        }));
        if let Some(document) = window.document() {
            let weak = self.this.clone();
            listeners.push(EventListener::new(
                &document,
                "visibilitychange",
                move |_| {
                    // Back to the tab: do not make the user wait out a long back-off.
                    let visible = web_sys::window()
                        .and_then(|w| w.document())
                        .is_some_and(|d| !d.hidden());
                    if let Some(inner) = weak.upgrade() {
                        if visible
                            && inner.state.get() == ConnState::Reconnecting
                            && inner.conn.borrow().is_none()
                        {
                            inner.connect();
                        }
                    }
                },
            ));
        }
    }

    fn connect(&self) {
        self.connect_now(false);
    }

    /// A new connection attempt. `despite_offline`: the user asked; `navigator.onLine` is
    /// only a hint and can be wrong.
    fn connect_now(&self, despite_offline: bool) {
        if !self.running.get() {
            return;
        }
        self.clear_timers();
        self.drop_conn_soon();
        let generation = self.generation.get() + 1;
        self.generation.set(generation);
        if !despite_offline && !browser_online() {
            self.set_state(ConnState::Offline);
            return;
        }
        let again = self.ever_live.get() || self.core.borrow().backoff.attempt() > 0;
        self.set_state(if again {
            ConnState::Reconnecting
        } else {
            ConnState::Connecting
        });
        let weak = self.this.clone();
        spawn_local(async move {
            // Refreshes first when the token is about to expire; `None`: session over, the
            // provider stops this service.
            let token = api::socket_token().await;
            let Some(inner) = weak.upgrade() else {
                return;
            };
            if let (true, Some(token)) = (inner.current(generation), token) {
                inner.open(generation, token);
            }
        });
    }

    fn open(&self, generation: u64, token: String) {
        let ws = match page_socket_url().map(|url| WebSocket::new(&url)) {
            Some(Ok(ws)) => ws,
            _ => {
                warn("cannot open the WebSocket");
                self.schedule_retry();
                return;
            }
        };
        let weak = self.this.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.on_open(generation);
            }
        });
        let weak = self.this.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let (Some(inner), Some(text)) = (weak.upgrade(), e.data().as_string()) {
                inner.on_text(generation, &text);
            }
        });
        let weak = self.this.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            if let Some(inner) = weak.upgrade() {
                inner.on_close(generation, e.code());
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *self.sent_token.borrow_mut() = Some(token);
        *self.conn.borrow_mut() = Some(Conn {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        });
    }

    fn on_open(&self, generation: u64) {
        if !self.current(generation) {
            return;
        }
        let token = self.sent_token.borrow().clone().unwrap_or_default();
        self.send_frame(&ClientFrame::Auth { token });
        let weak = self.this.clone();
        *self.ready_timer.borrow_mut() = Some(Timeout::new(READY_TIMEOUT_MS, move || {
            if let Some(inner) = weak.upgrade() {
                if inner.current(generation) && !inner.core.borrow().live {
                    warn("no `ready` from the server: reconnecting");
                    inner.lost();
                    inner.schedule_retry();
                }
            }
        }));
    }

    fn on_text(&self, generation: u64, text: &str) {
        if !self.current(generation) {
            return;
        }
        let frame = match serde_json::from_str::<ServerFrame>(text) {
            Ok(f) => f,
            Err(e) => {
                // A newer server may know frames this build does not: skip, keep going.
                warn(&format!("unknown WebSocket frame ({e}): {text:.200}"));
                return;
            }
        };
        if let ServerFrame::Ready { user, .. } = frame {
            self.on_ready(user);
            return;
        }
        if let ServerFrame::Error {
            code,
            message,
            reference,
        } = &frame
        {
            warn(&format!(
                "WebSocket error {code} ({}): {message}",
                reference.as_deref().unwrap_or("-")
            ));
        }
        let outcome = self.core.borrow_mut().on_frame(&frame);
        for reply in &outcome.reply {
            self.send_frame(reply);
        }
        if outcome.deliver {
            self.deliver(&Rc::new(frame));
        }
        for ticket in outcome.outbox_changed {
            self.emit_outbox(ticket);
        }
    }

    fn on_ready(&self, user: UserView) {
        self.ready_timer.borrow_mut().take();
        let frames = self.core.borrow_mut().ready(user.id);
        self.ever_live.set(true);
        self.live_since_ms.set(Some(storage::now_ms()));
        self.set_state(ConnState::Live);
        for f in &frames {
            self.send_frame(f);
        }
        let tickets: Vec<TicketId> = frames
            .iter()
            .filter_map(|f| match f {
                ClientFrame::Send { ticket_id, .. } => Some(*ticket_id),
                _ => None,
            })
            .collect();
        for t in dedup(tickets) {
            self.emit_outbox(t);
        }
        self.schedule_reauth();
        let cb = self.on_user.borrow().clone();
        if let Some(cb) = cb {
            cb.emit(user);
        }
    }

    fn on_close(&self, generation: u64, code: u16) {
        if !self.current(generation) {
            return;
        }
        self.lost();
        match after_close(code) {
            AfterClose::Reconnect => self.schedule_retry(),
            AfterClose::Reauthenticate => {
                self.set_state(ConnState::Reconnecting);
                let generation = self.generation.get();
                let sent = self.sent_token.borrow().clone().unwrap_or_default();
                let weak = self.this.clone();
                spawn_local(async move {
                    let renewed = api::renew_rejected_token(&sent).await;
                    let Some(inner) = weak.upgrade() else {
                        return;
                    };
                    if !inner.current(generation) {
                        return;
                    }
                    match renewed {
                        // A rejected refresh ended the session: the provider stops us and
                        // the app shows the sign-in page.
                        Err(e) if api::refresh_rejected(&e) => {}
                        _ => inner.schedule_retry(),
                    }
                });
            }
        }
    }

    /// The current connection is over, whatever the cause. Its late events are ignored
    /// from here on.
    fn lost(&self) {
        self.generation.set(self.generation.get() + 1);
        self.drop_conn_soon();
        self.ready_timer.borrow_mut().take();
        self.reauth_timer.borrow_mut().take();
        if let Some(since) = self.live_since_ms.take() {
            if storage::now_ms() - since >= STABLE_AFTER_MS {
                self.core.borrow_mut().backoff.reset();
            }
        }
        let requeued = self.core.borrow_mut().disconnected();
        for t in requeued {
            self.emit_outbox(t);
        }
    }

    fn schedule_retry(&self) {
        if !self.running.get() {
            return;
        }
        if !browser_online() {
            // The `online` event reconnects.
            self.set_state(ConnState::Offline);
            return;
        }
        let delay = self
            .core
            .borrow_mut()
            .backoff
            .next_delay_ms(js_sys::Math::random());
        self.set_state(ConnState::Reconnecting);
        let weak = self.this.clone();
        *self.retry_timer.borrow_mut() = Some(Timeout::new(delay, move || {
            if let Some(inner) = weak.upgrade() {
                inner.connect();
            }
        }));
    }

    /// Before the access token expires, refresh it and send `auth` again on the open
    /// socket (the server extends the connection's lifetime).
    fn schedule_reauth(&self) {
        let Some(stored) = storage::load() else {
            return;
        };
        let wait = (stored.access_expires_at_ms - REAUTH_AHEAD_MS - storage::now_ms())
            .clamp(REAUTH_MIN_WAIT_MS, f64::from(i32::MAX));
        let generation = self.generation.get();
        let weak = self.this.clone();
        *self.reauth_timer.borrow_mut() = Some(Timeout::new(wait as u32, move || {
            spawn_local(async move {
                let token = api::socket_token().await;
                let Some(inner) = weak.upgrade() else {
                    return;
                };
                if !inner.current(generation) || !inner.core.borrow().live {
                    return;
                }
                let Some(token) = token else {
                    return;
                };
                if inner.sent_token.borrow().as_deref() != Some(token.as_str()) {
                    inner.send_frame(&ClientFrame::Auth {
                        token: token.clone(),
                    });
                    *inner.sent_token.borrow_mut() = Some(token);
                }
                inner.schedule_reauth();
            });
        }));
    }

    fn post_over_rest(&self, client_id: Uuid) {
        let pending = {
            let mut core = self.core.borrow_mut();
            match core.outbox.get(client_id) {
                Some(p) if p.state == SendState::Queued => {
                    let p = p.clone();
                    core.outbox.set_state(client_id, SendState::OnRest);
                    p
                }
                _ => return,
            }
        };
        let weak = self.this.clone();
        spawn_local(async move {
            let req = PostMessageRequest {
                body: pending.body.clone(),
                internal: pending.internal,
                client_id: Some(client_id),
            };
            let result = api::messages::post_message(pending.ticket_id, &req).await;
            let Some(inner) = weak.upgrade() else {
                return;
            };
            // Signed out meanwhile (outbox cleared) or already handled: nothing to do.
            let still_ours = inner.running.get()
                && inner.core.borrow().outbox.get(client_id).map(|p| &p.state)
                    == Some(&SendState::OnRest);
            if !still_ours {
                return;
            }
            match result {
                Ok(message) => {
                    inner.core.borrow_mut().outbox.acked(client_id);
                    inner.deliver(&Rc::new(ServerFrame::Ack { client_id, message }));
                }
                // No answer, a server hiccup, or a session being renewed: wait for the
                // socket (or the next REST attempt); the client_id keeps it single.
                Err(e) if e.status.is_none_or(|s| s >= 500 || s == 401 || s == 429) => {
                    let frame = {
                        let mut core = inner.core.borrow_mut();
                        core.outbox.set_state(client_id, SendState::Queued);
                        core.flush(client_id)
                    };
                    if let Some(f) = frame {
                        inner.send_frame(&f);
                    }
                }
                Err(e) => {
                    inner
                        .core
                        .borrow_mut()
                        .outbox
                        .set_state(client_id, SendState::Failed(e.message));
                }
            }
            inner.emit_outbox(pending.ticket_id);
        });
    }

    fn send_frame(&self, frame: &ClientFrame) -> bool {
        let conn = self.conn.borrow();
        let Some(conn) = conn.as_ref() else {
            return false;
        };
        if conn.ws.ready_state() != WebSocket::OPEN {
            return false;
        }
        match serde_json::to_string(frame) {
            Ok(json) => conn.ws.send_with_str(&json).is_ok(),
            Err(_) => false,
        }
    }

    fn targets(&self, wanted: &[Topic]) -> Vec<Callback<WsEvent>> {
        // Cloned out: a callback may subscribe, unsubscribe or send.
        self.subs
            .borrow()
            .iter()
            .filter(|(_, topic, _)| wanted.contains(topic))
            .map(|(_, _, cb)| cb.clone())
            .collect()
    }

    fn deliver(&self, frame: &Rc<ServerFrame>) {
        for cb in self.targets(&topics(frame)) {
            cb.emit(WsEvent::Frame(frame.clone()));
        }
    }

    fn emit_outbox(&self, ticket: TicketId) {
        let pending = Rc::new(self.core.borrow().outbox.for_ticket(ticket));
        for cb in self.targets(&[Topic::Ticket(ticket)]) {
            cb.emit(WsEvent::Outbox {
                ticket_id: ticket,
                pending: pending.clone(),
            });
        }
    }
}

fn dedup(mut tickets: Vec<TicketId>) -> Vec<TicketId> {
    tickets.sort();
    tickets.dedup();
    tickets
}

/// The context value: the service and its connection state (a state change re-renders
/// the consumers, e.g. the indicator).
#[derive(Clone, PartialEq)]
pub struct Ws {
    pub service: Service,
    pub state: ConnState,
}

/// The socket context; outside a provider (never in the app) an idle service.
#[hook]
pub fn use_ws() -> Ws {
    let provided = use_context::<Ws>();
    let fallback = use_memo((), |_| Service::new());
    provided.unwrap_or_else(|| Ws {
        service: (*fallback).clone(),
        state: ConnState::Idle,
    })
}

/// Calls `on_event` for every event of `topic` while the component is mounted. The
/// newest closure is used, so it may capture the current render's values.
#[hook]
pub fn use_ws_events<F>(topic: Topic, on_event: F)
where
    F: Fn(WsEvent) + 'static,
{
    let ws = use_ws();
    let latest = use_mut_ref(|| None::<Rc<dyn Fn(WsEvent)>>);
    *latest.borrow_mut() = Some(Rc::new(on_event));
    use_effect_with((topic, ws.service), move |(topic, service)| {
        let sub = service.subscribe(
            *topic,
            Callback::from(move |event| {
                let f = latest.borrow().clone();
                if let Some(f) = f {
                    f(event);
                }
            }),
        );
        move || drop(sub)
    });
}

/// Calls `on_back` each time the socket is live again after a drop. Rooms catch up by
/// themselves (re-join from the last seq), but the global channel has no replay: screens
/// showing ticket rows or headers refetch them here.
#[hook]
pub fn use_reconnected<F>(on_back: F)
where
    F: Fn() + 'static,
{
    let ws = use_ws();
    let latest = use_mut_ref(|| None::<Rc<dyn Fn()>>);
    *latest.borrow_mut() = Some(Rc::new(on_back));
    let was_live = use_mut_ref(|| false);
    use_effect_with(ws.state, move |state| {
        if *state == ConnState::Live && was_live.replace(true) {
            let f = latest.borrow().clone();
            if let Some(f) = f {
                f();
            }
        }
    });
}

#[derive(Properties, PartialEq)]
pub struct WsProviderProps {
    pub children: Html,
}

/// Owns the tab's socket: connected while someone is signed in.
#[function_component(WsProvider)]
pub fn ws_provider(props: &WsProviderProps) -> Html {
    let session = use_session();
    let conn_state = use_state_eq(|| ConnState::Idle);
    let service = use_memo((), |_| Service::new());

    {
        let service = (*service).clone();
        let setter = conn_state.setter();
        let dispatcher = session.dispatcher();
        use_effect_with((), move |_| {
            let on_user = Callback::from(move |user: UserView| {
                // `ready` carries the current user record: role or name may have changed.
                if let Some(mut stored) = storage::load() {
                    if stored.user.id == user.id && stored.user != user {
                        stored.user = user.clone();
                        storage::save(&stored);
                    }
                }
                dispatcher.dispatch(Action::UserUpdated(user));
            });
            service.set_listeners(Some(Callback::from(move |s| setter.set(s))), Some(on_user));
            move || {
                service.set_listeners(None, None);
                service.stop();
            }
        });
    }
    {
        let service = (*service).clone();
        let user_id = session.live_user();
        use_effect_with(user_id, move |user_id| {
            if user_id.is_some() {
                service.start();
            }
            // Signed out, another user, or unmounted: this user's socket ends.
            move || service.stop()
        });
    }

    let ws = Ws {
        service: (*service).clone(),
        state: *conn_state,
    };
    html! {
        <ContextProvider<Ws> context={ws}>
            { props.children.clone() }
        </ContextProvider<Ws>>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use relay_protocol::messages::{MessageKind, MessageView};
    use relay_protocol::ws::FloorCounters;
    use relay_protocol::MessageId;

    #[test]
    fn frames_go_to_their_ticket_or_the_global_channel() {
        let t = TicketId(5);
        assert_eq!(
            topics(&ServerFrame::Resync { ticket_id: t }),
            [Topic::Ticket(t)]
        );
        let message = MessageView {
            id: MessageId(1),
            ticket_id: t,
            seq: 1,
            author: None,
            kind: MessageKind::Public,
            internal: false,
            body: String::new(),
            client_id: None,
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        };
        assert_eq!(
            topics(&ServerFrame::Ack {
                client_id: Uuid::nil(),
                message
            }),
            [Topic::Ticket(t)]
        );
        assert_eq!(
            topics(&ServerFrame::Floor {
                counters: FloorCounters::default()
            }),
            [Topic::Global]
        );
    }
}
