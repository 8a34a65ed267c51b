//! How values read on screen: labels for enums, relative times, avatar initials.
//! Pure functions, tested on the host.

use chrono::{DateTime, Local, Utc};
use relay_protocol::tickets::{Priority, TicketStatus};
use relay_protocol::users::Role;

pub fn status_label(status: TicketStatus) -> &'static str {
    match status {
        TicketStatus::Open => "Open",
        TicketStatus::InProgress => "In progress",
        TicketStatus::Pending => "Waiting on customer",
        TicketStatus::Blocked => "Blocked",
        TicketStatus::Resolved => "Resolved",
        TicketStatus::Closed => "Closed",
    }
}

pub fn priority_label(priority: Priority) -> &'static str {
    match priority {
        Priority::Low => "Low",
        Priority::Medium => "Medium",
        Priority::High => "High",
        Priority::Urgent => "Urgent",
    }
}

pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Customer => "Customer",
        Role::Technician => "Technician",
        Role::Supervisor => "Supervisor",
        Role::Admin => "Admin",
    }
}

/// "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", then a date; the future
/// reads "in 5 min", "tomorrow", "in 3 days" (SLA due times).
pub fn relative_time(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds();
    // Also absorbs small clock skew between browser and server.
    if secs.abs() < 45 {
        return "just now".into();
    }
    let future = secs < 0;
    let secs = secs.abs();
    let phrase = |amount: String| {
        if future {
            format!("in {amount}")
        } else {
            format!("{amount} ago")
        }
    };
    let mins = (secs + 30) / 60;
    if mins < 60 {
        return phrase(format!("{} min", mins.max(1)));
    }
    let hours = (secs + 1800) / 3600;
    if hours < 24 {
        return phrase(format!("{hours} h"));
    }
    match secs / 86_400 {
        1 if future => "tomorrow".into(),
        1 => "yesterday".into(),
        days @ 2..=6 => phrase(format!("{days} days")),
        _ if then.format("%Y").to_string() == now.format("%Y").to_string() => {
            then.format("%-d %b").to_string()
        }
        _ => then.format("%-d %b %Y").to_string(),
    }
}

/// Full timestamp in the viewer's time zone, for `title` tooltips and `<time>`.
pub fn local_timestamp(at: DateTime<Utc>) -> String {
    at.with_timezone(&Local)
        .format("%-d %b %Y, %H:%M")
        .to_string()
}

/// Up to two initials for an avatar: "Ada Lovelace" -> "AL", "zoë" -> "Z".
pub fn initials(name: &str) -> String {
    let mut words = name.split_whitespace().filter_map(|w| w.chars().next());
    let first = words.next();
    let last = words.next_back();
    first
        .into_iter()
        .chain(last)
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = at(2026, 11, 22, 12, 0);
        let ago = |d: Duration| relative_time(now - d, now);
        assert_eq!(ago(Duration::seconds(5)), "just now");
        assert_eq!(ago(Duration::seconds(-20)), "just now");
        assert_eq!(ago(Duration::seconds(50)), "1 min ago");
        assert_eq!(ago(Duration::minutes(5)), "5 min ago");
        assert_eq!(ago(Duration::minutes(59)), "59 min ago");
        assert_eq!(ago(Duration::minutes(61)), "1 h ago");
        assert_eq!(ago(Duration::hours(23)), "23 h ago");
        assert_eq!(ago(Duration::hours(30)), "yesterday");
        assert_eq!(ago(Duration::days(4)), "4 days ago");
        assert_eq!(relative_time(at(2026, 3, 4, 9, 0), now), "4 Mar");
        assert_eq!(relative_time(at(2025, 12, 31, 9, 0), now), "31 Dec 2025");
    }

    #[test]
    fn future_times_read_as_deadlines() {
        let now = at(2026, 11, 22, 12, 0);
        let ahead = |d: Duration| relative_time(now + d, now);
        assert_eq!(ahead(Duration::seconds(30)), "just now");
        assert_eq!(ahead(Duration::minutes(5)), "in 5 min");
        assert_eq!(ahead(Duration::hours(3)), "in 3 h");
        assert_eq!(ahead(Duration::hours(30)), "tomorrow");
        assert_eq!(ahead(Duration::days(3)), "in 3 days");
        assert_eq!(relative_time(at(2026, 12, 25, 9, 0), now), "25 Dec");
    }

    #[test]
    fn initials_take_first_and_last_word() {
        assert_eq!(initials("Ada Lovelace"), "AL");
        assert_eq!(initials("  grace  brewster murray hopper "), "GH");
        assert_eq!(initials("zoë"), "Z");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn every_status_has_a_label() {
        for s in TicketStatus::ALL {
            assert!(!status_label(*s).is_empty());
        }
        for p in Priority::ALL {
            assert!(!priority_label(*p).is_empty());
        }
    }
}
