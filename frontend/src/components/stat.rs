//! Numbers on the ops screens: one stat tile and the formatting of counts, durations and
//! latencies, so the floor, the agent table and the system monitor read the same way.

use yew::prelude::*;

/// `1234567` -> "1,234,567".
pub fn fmt_count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration in seconds, two units at most: "45 s", "12 min", "3 h 20 min", "2 d 4 h".
pub fn fmt_duration_s(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "—".into();
    }
    let s = secs.round() as i64;
    if s < 60 {
        return format!("{s} s");
    }
    let mins = (s + 30) / 60;
    if mins < 60 {
        return format!("{mins} min");
    }
    fmt_minutes(mins)
}

/// Minutes as an SLA target reads: "30 min", "4 h", "1 h 30 min", "2 d", "1 d 4 h".
pub fn fmt_minutes(minutes: i64) -> String {
    if minutes < 60 {
        return format!("{minutes} min");
    }
    let (d, h, m) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    match (d, h, m) {
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// Bus round trip: "—" before the first measurement, "<1 ms", "3.4 ms", "120 ms".
pub fn fmt_lag_ms(ms: Option<f64>) -> String {
    match ms {
        None => "—".into(),
        Some(v) if !v.is_finite() || v < 0.0 => "—".into(),
        Some(v) if v < 1.0 => "<1 ms".into(),
        Some(v) if v < 10.0 => format!("{v:.1} ms"),
        Some(v) => format!("{v:.0} ms"),
    }
}

/// A share (0..1) as a whole percentage; "—" without data.
pub fn fmt_share(share: Option<f64>) -> String {
    match share {
        Some(v) if v.is_finite() => format!("{:.0}%", (v * 100.0).clamp(0.0, 100.0)),
        _ => "—".into(),
    }
}

#[derive(Properties, PartialEq)]
pub struct StatProps {
    /// Element id, for tests and `aria-describedby`.
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    #[prop_or_default]
    pub hint: Option<AttrValue>,
    /// A CSS modifier: `warn`, `danger`, `ok`, or a status/priority name.
    #[prop_or_default]
    pub tone: Option<AttrValue>,
}

/// One big number with its label. The value is what tests read (`#floor-unassigned`).
#[function_component(Stat)]
pub fn stat(props: &StatProps) -> Html {
    let tone = props.tone.as_ref().map(|t| format!("stat-{t}"));
    let label_id = format!("{}-label", props.id);
    html! {
        <div class={classes!("stat", tone)} role="group" aria-labelledby={label_id.clone()}>
            <span class="stat-label" id={label_id}>{ props.label.clone() }</span>
            <span class="stat-value" id={props.id.clone()}>{ props.value.clone() }</span>
            if let Some(hint) = &props.hint {
                <span class="stat-hint">{ hint.clone() }</span>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_thousands() {
        assert_eq!(fmt_count(0), "0");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(fmt_count(1000), "1,000");
        assert_eq!(fmt_count(1_234_567), "1,234,567");
        assert_eq!(fmt_count(-4200), "-4,200");
    }

    #[test]
    fn durations_use_two_units_at_most() {
        assert_eq!(fmt_duration_s(0.4), "0 s");
        assert_eq!(fmt_duration_s(45.0), "45 s");
        assert_eq!(fmt_duration_s(90.0), "2 min");
        assert_eq!(fmt_duration_s(3599.0), "1 h");
        assert_eq!(fmt_duration_s(12_000.0), "3 h 20 min");
        assert_eq!(
            fmt_duration_s(2.0 * 86_400.0 + 4.0 * 3600.0 + 59.0),
            "2 d 4 h"
        );
        assert_eq!(fmt_duration_s(-1.0), "—");
        assert_eq!(fmt_duration_s(f64::NAN), "—");
    }

    #[test]
    fn sla_minutes_read_as_targets() {
        assert_eq!(fmt_minutes(30), "30 min");
        assert_eq!(fmt_minutes(240), "4 h");
        assert_eq!(fmt_minutes(90), "1 h 30 min");
        assert_eq!(fmt_minutes(2880), "2 d");
        assert_eq!(fmt_minutes(1440 + 240 + 15), "1 d 4 h");
    }

    #[test]
    fn lag_and_shares() {
        assert_eq!(fmt_lag_ms(None), "—");
        assert_eq!(fmt_lag_ms(Some(0.2)), "<1 ms");
        assert_eq!(fmt_lag_ms(Some(3.44)), "3.4 ms");
        assert_eq!(fmt_lag_ms(Some(120.4)), "120 ms");
        assert_eq!(fmt_share(Some(0.876)), "88%");
        assert_eq!(fmt_share(Some(1.2)), "100%");
        assert_eq!(fmt_share(None), "—");
    }
}
