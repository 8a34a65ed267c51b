//! The outbox worker: claim due rows under a lease, send, record the result.

use crate::config::Config;
use crate::db::PgPool;
use crate::error::{AppError, AppResult};
use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;

#[derive(Debug, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub channel: String,
    #[diesel(sql_type = Text)]
    pub recipient: String,
    #[diesel(sql_type = Text)]
    pub subject: String,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// Rows are given up after this many attempts (they stay in the table with the error).
pub const MAX_ATTEMPTS: i32 = 12;
const LEASE_SECS: i64 = 60;

/// Claims up to `limit` due rows of the given channels for this worker.
pub fn claim(conn: &mut PgConnection, channels: &[&str], limit: i64) -> AppResult<Vec<Claimed>> {
    let channels: Vec<String> = channels.iter().map(|c| (*c).to_owned()).collect();
    Ok(diesel::sql_query(
        "UPDATE outbox SET locked_until = now() + make_interval(secs => $1), attempts = attempts + 1
         WHERE id IN (
           SELECT id FROM outbox
           WHERE sent_at IS NULL AND next_attempt_at <= now() AND attempts < $2
             AND (locked_until IS NULL OR locked_until < now()) AND channel = ANY($3)
           ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
         RETURNING id, channel, recipient, subject, body, attempts",
    )
    .bind::<BigInt, _>(LEASE_SECS)
    .bind::<Integer, _>(MAX_ATTEMPTS)
    .bind::<diesel::sql_types::Array<Text>, _>(channels)
    .bind::<BigInt, _>(limit)
    .load(conn)?)
}

pub fn mark_sent(conn: &mut PgConnection, id: i64) -> AppResult<()> {
    use crate::db::schema::outbox::dsl as o;
    diesel::update(o::outbox.find(id))
        .set((
            o::sent_at.eq(Utc::now()),
            o::locked_until.eq(None::<chrono::DateTime<Utc>>),
            o::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Exponential back-off from `base_ms`, capped at ten minutes.
pub fn backoff(base_ms: i64, attempts: i32) -> Duration {
    let factor = 1i64 << (attempts.clamp(1, 20) - 1);
    Duration::milliseconds((base_ms.saturating_mul(factor)).min(600_000))
}

pub fn mark_failed(
    conn: &mut PgConnection,
    id: i64,
    attempts: i32,
    base_ms: i64,
    error: &str,
) -> AppResult<()> {
    use crate::db::schema::outbox::dsl as o;
    diesel::update(o::outbox.find(id))
        .set((
            o::next_attempt_at.eq(Utc::now() + backoff(base_ms, attempts)),
            o::locked_until.eq(None::<chrono::DateTime<Utc>>),
            o::last_error.eq(error.chars().take(500).collect::<String>()),
        ))
        .execute(conn)?;
    Ok(())
}

/// `smtp://host[:port]` (plain SMTP to a relay; default port 25). TLS to a remote provider
/// goes through a local relay (Postfix and the like).
pub fn parse_smtp_url(url: &str) -> AppResult<(String, u16)> {
    let bad = || {
        AppError::internal(format!(
            "SMTP_URL must look like smtp://host:port, got {url:?}"
        ))
    };
    let rest = url
        .strip_prefix("smtp://")
        .ok_or_else(bad)?
        .trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().map_err(|_| bad())?),
        None => (rest, 25),
    };
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_owned(), port))
}

/// Sends mail over SMTP and Slack messages over the incoming-webhook URL.
pub struct Sender {
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Option<lettre::message::Mailbox>,
    slack: Option<String>,
    http: awc::Client,
}

impl Sender {
    pub fn new(config: &Config) -> AppResult<Sender> {
        let smtp = match &config.smtp_url {
            Some(url) => {
                let (host, port) = parse_smtp_url(url)?;
                Some(
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                        .port(port)
                        .timeout(Some(std::time::Duration::from_secs(10)))
                        .build(),
                )
            }
            None => None,
        };
        let from = config
            .mail_from
            .parse()
            .map_err(|e| AppError::internal(format!("MAIL_FROM: {e}")))
            .ok();
        Ok(Sender {
            smtp,
            from,
            slack: config.slack_webhook_url.clone(),
            http: awc::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .finish(),
        })
    }

    /// The channels this sender can deliver (others wait until configured).
    pub fn channels(&self) -> Vec<&'static str> {
        let mut c = Vec::new();
        if self.smtp.is_some() && self.from.is_some() {
            c.push("email");
        }
        if self.slack.is_some() {
            c.push("slack");
        }
        c
    }

    pub async fn send(&self, row: &Claimed) -> Result<(), String> {
        match row.channel.as_str() {
            "email" => {
                let (Some(smtp), Some(from)) = (&self.smtp, &self.from) else {
                    return Err("SMTP is not configured".into());
                };
                let to = row
                    .recipient
                    .parse()
                    .map_err(|e| format!("recipient: {e}"))?;
                let msg = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(row.subject.clone())
                    .body(row.body.clone())
                    .map_err(|e| format!("message: {e}"))?;
                smtp.send(msg)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("smtp: {e}"))
            }
            "slack" => {
                let Some(url) = &self.slack else {
                    return Err("Slack is not configured".into());
                };
                let res = self
                    .http
                    .post(url)
                    .send_json(&serde_json::json!({ "text": row.body }))
                    .await
                    .map_err(|e| format!("slack: {e}"))?;
                if res.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("slack answered {}", res.status()))
                }
            }
            other => Err(format!("unknown channel {other}")),
        }
    }
}

/// One pass: claim, send, record. Returns how many were sent.
pub async fn run_once(
    pool: &PgPool,
    sender: &Sender,
    base_ms: i64,
    limit: i64,
) -> AppResult<usize> {
    let channels = sender.channels();
    if channels.is_empty() {
        return Ok(0);
    }
    let claimed = crate::db::run(pool, move |conn| claim(conn, &channels, limit)).await?;
    let mut sent = 0;
    for row in claimed {
        let (id, attempts) = (row.id, row.attempts);
        match sender.send(&row).await {
            Ok(()) => {
                crate::db::run(pool, move |conn| mark_sent(conn, id)).await?;
                sent += 1;
            }
            Err(e) => {
                tracing::warn!(outbox = id, attempts, error = %e, "send failed; will retry");
                crate::db::run(pool, move |conn| {
                    mark_failed(conn, id, attempts, base_ms, &e)
                })
                .await?;
            }
        }
    }
    Ok(sent)
}

/// The worker loop of this instance.
pub fn spawn(config: Arc<Config>, pool: PgPool) {
    actix_web::rt::spawn(async move {
        let sender = match Sender::new(&config) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "outbox worker not started");
                return;
            }
        };
        let mut tick =
            tokio::time::interval(std::time::Duration::from_millis(config.outbox_poll_ms));
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&pool, &sender, config.outbox_backoff_ms, 20).await {
                tracing::warn!(error = %e, "outbox pass failed");
            }
        }
    });
}
