//! Real-time delivery (SPEC §4, §5): one multiplexed WebSocket per tab, ticket rooms,
//! typing, receipts, presence and the global channel, fanned out across instances
//! through a `Bus` (Redis pub/sub, or in-process when `REDIS_URL` is unset).
//!
//! Layout: `event` (what travels on the bus and on which channel), `bus` (the trait and
//! its two implementations), `presence` (TTL'd presence sets), `hub` (the one task that
//! owns this instance's sockets and rooms), `session` (one socket's loop), `routes`.

pub mod bus;
pub mod event;
pub mod hub;
pub mod presence;
pub mod routes;
pub mod session;
pub mod socket;

use crate::config::Config;
use crate::db::PgPool;
use crate::error::AppResult;
use bus::Bus;
use event::{BusEvent, Channel};
use presence::PresenceStore;
use relay_protocol::messages::MessageView;
use relay_protocol::tickets::TicketView;
use std::sync::Arc;

/// This instance's real-time machinery: the bus, the presence store and the hub.
#[derive(Clone)]
pub struct Realtime {
    pub bus: Arc<dyn Bus>,
    /// The Redis connection, when there is one (rate limits share it).
    pub redis: Option<redis::aio::ConnectionManager>,
    pub presence: Arc<dyn PresenceStore>,
    pub hub: hub::HubHandle,
    /// Every running socket session, so a graceful stop can wait for their close frames.
    pub sessions: tokio_util::task::TaskTracker,
}

impl Realtime {
    /// Connects the bus (Redis when configured) and starts the hub task. Must run inside
    /// the actix/tokio runtime that will own the hub.
    pub async fn start(config: Arc<Config>, pool: PgPool) -> AppResult<Realtime> {
        let (incoming_tx, incoming_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut manager = None;
        let (bus, presence): (Arc<dyn Bus>, Arc<dyn PresenceStore>) = match &config.redis_url {
            Some(url) => {
                let ns = config.redis_namespace.clone();
                let bus = bus::RedisBus::connect(url, &ns, incoming_tx).await?;
                let presence = presence::RedisPresence::new(bus.manager(), &ns);
                manager = Some(bus.manager());
                (Arc::new(bus), Arc::new(presence))
            }
            None => (
                Arc::new(bus::LocalBus::new(incoming_tx)),
                Arc::new(presence::LocalPresence::default()),
            ),
        };
        let hub = hub::Hub::spawn(config, pool, bus.clone(), presence.clone(), incoming_rx).await;
        Ok(Realtime {
            bus,
            redis: manager,
            presence,
            hub,
            sessions: tokio_util::task::TaskTracker::new(),
        })
    }

    /// Publishes after commit. A bus failure is logged, not returned: the data is in
    /// PostgreSQL and clients catch up through `join` with `since_seq`.
    pub async fn publish(&self, channel: Channel, event: &BusEvent) {
        let payload = match serde_json::to_vec(event) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "bus event did not serialise");
                return;
            }
        };
        // Never hold a request up on a dead bus: the data is stored, clients resync.
        let sent = tokio::time::timeout(
            std::time::Duration::from_millis(500),
            self.bus.publish(channel.name(), payload.into()),
        )
        .await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, channel = %channel.name(), "publish failed; clients resync on reconnect")
            }
            Err(_) => {
                tracing::warn!(channel = %channel.name(), "publish timed out; clients resync on reconnect")
            }
        }
    }

    pub async fn message_posted(&self, message: &MessageView, requester_id: i64) {
        let ch = Channel::Ticket(message.ticket_id.0);
        self.publish(
            ch,
            &BusEvent::Message {
                requester_id,
                message: message.clone(),
            },
        )
        .await;
    }

    pub async fn ticket_created(&self, staff_view: &TicketView) {
        self.publish(
            Channel::Staff,
            &BusEvent::TicketCreated {
                ticket: staff_view.clone(),
            },
        )
        .await;
    }

    /// A ticket changed: staff see the staff view; its requester, if a customer, the
    /// customer view; a new assignee gets an `assigned` alert.
    pub async fn ticket_updated(
        &self,
        staff_view: &TicketView,
        customer_view: &TicketView,
        newly_assigned: Option<i64>,
    ) {
        self.publish(
            Channel::Staff,
            &BusEvent::TicketUpdated {
                ticket: staff_view.clone(),
            },
        )
        .await;
        if !customer_view.requester.role.is_staff() {
            let requester = customer_view.requester.id.0;
            self.publish(
                Channel::User(requester),
                &BusEvent::TicketUpdated {
                    ticket: customer_view.clone(),
                },
            )
            .await;
        }
        if let Some(a) = newly_assigned {
            self.publish(
                Channel::User(a),
                &BusEvent::Assigned {
                    ticket: staff_view.clone(),
                },
            )
            .await;
        }
    }

    /// An `assigned` alert for the new assignee.
    pub async fn assigned(&self, user_id: i64, staff_view: &TicketView) {
        self.publish(
            Channel::User(user_id),
            &BusEvent::Assigned {
                ticket: staff_view.clone(),
            },
        )
        .await;
    }

    /// A persisted notification, pushed to the user's sockets.
    pub async fn notify(&self, user_id: i64, notification: relay_protocol::ws::NotificationView) {
        self.publish(
            Channel::User(user_id),
            &BusEvent::Notification {
                user_id,
                notification,
            },
        )
        .await;
    }

    /// The user's role, status or sessions changed: every instance re-checks their sockets.
    pub async fn user_changed(&self, user_id: i64) {
        self.publish(Channel::User(user_id), &BusEvent::Control { user_id })
            .await;
    }
}
