//! Delivery accounting: every message carries (sender, n, sent-at); each receiver's view
//! of each sender's stream is checked for loss, duplicates and order.

use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Default)]
struct StreamView {
    seen: HashSet<u64>,
    last: Option<u64>,
    duplicates: u64,
    out_of_order: u64,
}

#[derive(Default)]
pub struct Accounting {
    /// (receiver, sender) → what that receiver saw of that sender.
    streams: HashMap<(u64, u64), StreamView>,
    latencies_us: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    pub expected: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Accounting {
    pub fn record(&mut self, receiver: u64, sender: u64, n: u64, latency_us: u64) {
        let v = self.streams.entry((receiver, sender)).or_default();
        if !v.seen.insert(n) {
            v.duplicates += 1;
            return;
        }
        if v.last.is_some_and(|l| n < l) {
            v.out_of_order += 1;
        }
        v.last = Some(v.last.map_or(n, |l| l.max(n)));
        self.latencies_us.push(latency_us);
    }

    /// `sent[sender]` messages numbered 0.., each expected once by every receiver in
    /// `audience[sender]`.
    pub fn report(
        &mut self,
        sent: &BTreeMap<u64, u64>,
        audience: &HashMap<u64, Vec<u64>>,
    ) -> Report {
        let mut expected = 0;
        let mut delivered = 0;
        let mut lost = 0;
        for (sender, count) in sent {
            for receiver in audience.get(sender).into_iter().flatten() {
                expected += count;
                let got = self
                    .streams
                    .get(&(*receiver, *sender))
                    .map(|v| v.seen.iter().filter(|n| **n < *count).count() as u64)
                    .unwrap_or(0);
                delivered += got;
                lost += count - got;
            }
        }
        let duplicated = self.streams.values().map(|v| v.duplicates).sum();
        let out_of_order = self.streams.values().map(|v| v.out_of_order).sum();
        self.latencies_us.sort_unstable();
        let pct = |p: f64| -> f64 {
            if self.latencies_us.is_empty() {
                return 0.0;
            }
            let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
            self.latencies_us[i] as f64 / 1000.0
        };
        Report {
            expected,
            delivered,
            lost,
            duplicated,
            out_of_order,
            p50_ms: pct(0.5),
            p90_ms: pct(0.9),
            p99_ms: pct(0.99),
            p999_ms: pct(0.999),
            max_ms: pct(1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_loss_duplicates_and_reordering() {
        let mut a = Accounting::default();
        // Receiver 10 sees sender 1's stream 0..5 with 2 missing, 3 duplicated, 4 before 3.
        for (n, lat) in [(0, 1000), (1, 2000), (4, 3000), (3, 4000), (3, 5000)] {
            a.record(10, 1, n, lat);
        }
        // Receiver 11 sees everything in order.
        for n in 0..5 {
            a.record(11, 1, n, 1000);
        }
        let sent = BTreeMap::from([(1, 5)]);
        let audience = HashMap::from([(1, vec![10, 11])]);
        let r = a.report(&sent, &audience);
        assert_eq!((r.expected, r.delivered, r.lost), (10, 9, 1));
        assert_eq!((r.duplicated, r.out_of_order), (1, 1));
        assert_eq!(r.max_ms, 4.0);
        assert_eq!(r.p50_ms, 1.0);
    }

    #[test]
    fn a_stream_continued_after_a_report_is_counted_as_one() {
        // The login scenario reports a phase after each of its rounds and continues the
        // same numbering in the next: the last report covers every round.
        let mut a = Accounting::default();
        for n in 0..3 {
            a.record(10, 1, n, 1000);
        }
        let first = a.report(&BTreeMap::from([(1, 3)]), &HashMap::from([(1, vec![10])]));
        assert_eq!((first.expected, first.delivered, first.max_ms), (3, 3, 1.0));
        for n in 3..6 {
            a.record(10, 1, n, 9000);
        }
        let all = a.report(&BTreeMap::from([(1, 6)]), &HashMap::from([(1, vec![10])]));
        assert_eq!((all.expected, all.delivered, all.lost), (6, 6, 0));
        assert_eq!((all.duplicated, all.out_of_order), (0, 0));
        assert_eq!(all.max_ms, 9.0);
        // Six latencies, three of each: the median is the upper middle one.
        assert_eq!(all.p50_ms, 9.0);
    }

    #[test]
    fn a_silent_receiver_loses_everything() {
        let mut a = Accounting::default();
        let r = a.report(&BTreeMap::from([(7, 3)]), &HashMap::from([(7, vec![1, 2])]));
        assert_eq!((r.expected, r.delivered, r.lost), (6, 0, 6));
    }
}
