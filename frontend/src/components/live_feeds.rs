//! The last `floor` counters and the `system` status of every instance, kept for the whole
//! tab: both are pushed only on change or on a timer, so a screen opened later starts from
//! what already arrived instead of a blank page. Mounted once, beside the router.

use std::cell::RefCell;
use std::collections::BTreeMap;

use relay_protocol::ws::{FloorCounters, ServerFrame, SystemStatus};
use yew::prelude::*;

use crate::state::use_session;
use crate::storage;
use crate::ws::{use_ws_events, Topic, WsEvent};

/// Instances report every 5 s: one quiet for this long is shown as stale...
pub const STALE_AFTER_MS: f64 = 12_000.0;
/// ...and gone after this long (stopped, or scaled down).
pub const GONE_AFTER_MS: f64 = 60_000.0;

#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRow {
    pub status: SystemStatus,
    /// Browser clock when its last report arrived.
    pub seen_ms: f64,
    pub stale: bool,
}

/// What the system monitor shows: one row per instance, latest report wins.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Instances {
    seen: BTreeMap<String, (SystemStatus, f64)>,
}

impl Instances {
    pub fn record(&mut self, status: SystemStatus, now_ms: f64) {
        self.seen
            .insert(status.instance_id.clone(), (status, now_ms));
    }

    /// Rows by instance id, stale ones flagged, long-gone ones dropped.
    pub fn rows(&self, now_ms: f64) -> Vec<InstanceRow> {
        self.seen
            .values()
            .filter(|(_, seen)| now_ms - seen <= GONE_AFTER_MS)
            .map(|(status, seen)| InstanceRow {
                status: status.clone(),
                seen_ms: *seen,
                stale: now_ms - seen > STALE_AFTER_MS,
            })
            .collect()
    }
}

thread_local! {
    static FLOOR: RefCell<Option<FloorCounters>> = const { RefCell::new(None) };
    static SYSTEM: RefCell<Instances> = RefCell::new(Instances::default());
}

/// The newest floor counters this tab received, if any.
pub fn last_floor() -> Option<FloorCounters> {
    FLOOR.with(|f| f.borrow().clone())
}

/// Every instance heard from recently.
pub fn instances() -> Instances {
    SYSTEM.with(|s| s.borrow().clone())
}

fn forget() {
    FLOOR.with(|f| f.borrow_mut().take());
    SYSTEM.with(|s| *s.borrow_mut() = Instances::default());
}

#[function_component(LiveFeeds)]
pub fn live_feeds() -> Html {
    let session = use_session();
    // What one user saw is not the next user's business.
    use_effect_with(session.user.as_ref().map(|u| u.id), |_| forget());
    use_ws_events(Topic::Global, |event| {
        let WsEvent::Frame(frame) = event else {
            return;
        };
        match &*frame {
            ServerFrame::Floor { counters } => {
                FLOOR.with(|f| *f.borrow_mut() = Some(counters.clone()));
            }
            ServerFrame::System { status } => {
                SYSTEM.with(|s| s.borrow_mut().record(status.clone(), storage::now_ms()));
            }
            _ => {}
        }
    });
    html! {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(id: &str, connections: i64) -> SystemStatus {
        SystemStatus {
            instance_id: id.into(),
            connections,
            rooms: 1,
            bus_lag_ms: Some(2.0),
            uptime_s: 60,
        }
    }

    #[test]
    fn latest_report_per_instance_in_id_order() {
        let mut t = Instances::default();
        t.record(status("b", 1), 1_000.0);
        t.record(status("a", 2), 2_000.0);
        t.record(status("b", 5), 3_000.0);
        let rows = t.rows(4_000.0);
        let ids: Vec<_> = rows.iter().map(|r| r.status.instance_id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(rows[1].status.connections, 5);
        assert!(rows.iter().all(|r| !r.stale));
    }

    #[test]
    fn quiet_instances_turn_stale_then_disappear() {
        let mut t = Instances::default();
        t.record(status("a", 1), 0.0);
        t.record(status("b", 1), 50_000.0);
        let rows = t.rows(STALE_AFTER_MS + 1.0);
        assert!(rows[0].stale);
        let rows = t.rows(GONE_AFTER_MS + 1.0);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status.instance_id, "b");
        assert!(!rows[0].stale);
    }
}
