//! The event bus: one trait, two implementations. `RedisBus` fans out across instances
//! through Redis pub/sub; `LocalBus` loops events back inside one process. Both feed
//! the hub through the same `Incoming` channel, so the hub cannot tell them apart.

use crate::error::{AppError, AppResult};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

#[derive(Debug)]
pub enum Incoming {
    Event {
        channel: String,
        payload: Bytes,
    },
    /// The bus was down and is back (subscriptions restored): events may have been
    /// missed, so every room must resync from the database.
    Recovered,
    /// The bus connection is lost.
    Lost,
}

pub trait Bus: Send + Sync {
    fn publish(&self, channel: String, payload: Bytes) -> BoxFuture<'static, AppResult<()>>;
    /// Resolves once events of `channel` will be received.
    fn subscribe(&self, channel: String) -> BoxFuture<'static, AppResult<()>>;
    fn unsubscribe(&self, channel: String) -> BoxFuture<'static, AppResult<()>>;
    fn kind(&self) -> &'static str;
    fn healthy(&self) -> BoxFuture<'static, bool>;
}

/// Single instance: publish hands the event straight back to this process's hub.
pub struct LocalBus {
    subscribed: Arc<Mutex<HashSet<String>>>,
    incoming: UnboundedSender<Incoming>,
}

impl LocalBus {
    pub fn new(incoming: UnboundedSender<Incoming>) -> LocalBus {
        LocalBus {
            subscribed: Default::default(),
            incoming,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Bus for LocalBus {
    fn publish(&self, channel: String, payload: Bytes) -> BoxFuture<'static, AppResult<()>> {
        let wanted = lock(&self.subscribed).contains(&channel);
        if wanted {
            let _ = self.incoming.send(Incoming::Event { channel, payload });
        }
        Box::pin(async { Ok(()) })
    }
    fn subscribe(&self, channel: String) -> BoxFuture<'static, AppResult<()>> {
        lock(&self.subscribed).insert(channel);
        Box::pin(async { Ok(()) })
    }
    fn unsubscribe(&self, channel: String) -> BoxFuture<'static, AppResult<()>> {
        lock(&self.subscribed).remove(&channel);
        Box::pin(async { Ok(()) })
    }
    fn kind(&self) -> &'static str {
        "in-process"
    }
    fn healthy(&self) -> BoxFuture<'static, bool> {
        Box::pin(async { true })
    }
}

/// Redis pub/sub. Publishing goes through a reconnecting `ConnectionManager`; a
/// supervisor task owns the subscriber connection, re-subscribes everything after a
/// reconnect and reports `Recovered` so rooms resync.
pub struct RedisBus {
    manager: ConnectionManager,
    /// Prepended to channel names on the wire (`REDIS_NAMESPACE`).
    prefix: String,
    wanted: Arc<Mutex<HashSet<String>>>,
    sink: Arc<tokio::sync::Mutex<Option<redis::aio::PubSubSink>>>,
}

fn redis_err(e: redis::RedisError) -> AppError {
    AppError::internal(format!("redis: {e}"))
}

impl RedisBus {
    pub async fn connect(
        url: &str,
        namespace: &str,
        incoming: UnboundedSender<Incoming>,
    ) -> AppResult<RedisBus> {
        let prefix = if namespace.is_empty() {
            String::new()
        } else {
            format!("{namespace}:")
        };
        let client = redis::Client::open(url).map_err(redis_err)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2);
        let manager = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(redis_err)?;
        let wanted: Arc<Mutex<HashSet<String>>> = Default::default();
        let sink: Arc<tokio::sync::Mutex<Option<redis::aio::PubSubSink>>> = Default::default();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(supervise(
            client,
            prefix.clone(),
            wanted.clone(),
            sink.clone(),
            incoming,
            ready_tx,
        ));
        // Wait for the first subscriber connection so early subscriptions are real.
        let _ = tokio::time::timeout(Duration::from_secs(5), ready_rx).await;
        Ok(RedisBus {
            manager,
            prefix,
            wanted,
            sink,
        })
    }

    pub fn manager(&self) -> ConnectionManager {
        self.manager.clone()
    }
}

async fn supervise(
    client: redis::Client,
    prefix: String,
    wanted: Arc<Mutex<HashSet<String>>>,
    sink_slot: Arc<tokio::sync::Mutex<Option<redis::aio::PubSubSink>>>,
    incoming: UnboundedSender<Incoming>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let mut first = true;
    let mut backoff = Duration::from_millis(100);
    loop {
        if incoming.is_closed() {
            return;
        }
        let connected = async {
            let pubsub = client.get_async_pubsub().await?;
            let (mut sink, stream) = pubsub.split();
            let channels: Vec<String> = lock(&wanted).iter().cloned().collect();
            for ch in channels {
                sink.subscribe(format!("{prefix}{ch}")).await?;
            }
            Ok::<_, redis::RedisError>((sink, stream))
        }
        .await;
        match connected {
            Ok((sink, mut stream)) => {
                *sink_slot.lock().await = Some(sink);
                backoff = Duration::from_millis(100);
                if let Some(r) = ready.take() {
                    let _ = r.send(());
                }
                if !first {
                    tracing::info!("redis bus recovered");
                    let _ = incoming.send(Incoming::Recovered);
                }
                first = false;
                while let Some(msg) = stream.next().await {
                    let name = msg.get_channel_name();
                    let channel = name
                        .strip_prefix(prefix.as_str())
                        .unwrap_or(name)
                        .to_owned();
                    let payload = Bytes::copy_from_slice(msg.get_payload_bytes());
                    if incoming.send(Incoming::Event { channel, payload }).is_err() {
                        return;
                    }
                }
                *sink_slot.lock().await = None;
                tracing::warn!("redis bus connection lost; reconnecting");
                let _ = incoming.send(Incoming::Lost);
            }
            Err(e) => {
                if first {
                    if let Some(r) = ready.take() {
                        let _ = r.send(());
                    }
                    first = false;
                }
                tracing::warn!(error = %e, "redis bus unavailable; retrying");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

impl Bus for RedisBus {
    fn publish(&self, channel: String, payload: Bytes) -> BoxFuture<'static, AppResult<()>> {
        let mut conn = self.manager.clone();
        let channel_name = format!("{}{channel}", self.prefix);
        Box::pin(async move {
            redis::cmd("PUBLISH")
                .arg(channel_name)
                .arg(payload.as_ref())
                .query_async::<i64>(&mut conn)
                .await
                .map(|_| ())
                .map_err(redis_err)
        })
    }

    fn subscribe(&self, channel: String) -> BoxFuture<'static, AppResult<()>> {
        lock(&self.wanted).insert(channel.clone());
        let channel = format!("{}{channel}", self.prefix);
        let slot = self.sink.clone();
        Box::pin(async move {
            // When disconnected, the supervisor subscribes on reconnect and reports
            // `Recovered`, which makes every room resync.
            let sink = slot.lock().await.clone();
            if let Some(mut sink) = sink {
                sink.subscribe(channel).await.map_err(redis_err)?;
            }
            Ok(())
        })
    }

    fn unsubscribe(&self, channel: String) -> BoxFuture<'static, AppResult<()>> {
        lock(&self.wanted).remove(&channel);
        let channel = format!("{}{channel}", self.prefix);
        let slot = self.sink.clone();
        Box::pin(async move {
            let sink = slot.lock().await.clone();
            if let Some(mut sink) = sink {
                sink.unsubscribe(channel).await.map_err(redis_err)?;
            }
            Ok(())
        })
    }

    fn kind(&self) -> &'static str {
        "redis"
    }

    fn healthy(&self) -> BoxFuture<'static, bool> {
        let mut conn = self.manager.clone();
        let slot = self.sink.clone();
        Box::pin(async move {
            let ping = redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .is_ok();
            ping && slot.lock().await.is_some()
        })
    }
}
