//! Rules and wording behind the ticket workspace panels (controls, timer, attachments,
//! history): pure functions, tested on the host.

use relay_protocol::tickets::{Priority, TicketStatus};

use crate::format::{priority_label, status_label};

/// A running clock: `4:05` under an hour, `1:02:03` from one hour on.
pub fn clock(seconds: i64) -> String {
    let s = seconds.max(0);
    let (h, m, s) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A total of tracked time: `0m`, `45s`, `12m`, `1h 05m`.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match (s / 3600, (s % 3600) / 60) {
        (0, 0) if s > 0 => format!("{s}s"),
        (0, m) => format!("{m}m"),
        (h, m) => format!("{h}h {m:02}m"),
    }
}

/// Tags typed as `vpn, Billing ,vpn,,`: trimmed, empty ones dropped, duplicates (ignoring
/// case) dropped, first spelling and order kept.
pub fn parse_tags(input: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in input.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !out.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            out.push(tag.to_owned());
        }
    }
    out
}

/// Manual time in whole minutes, 1..=1440 (what the server accepts).
pub fn parse_minutes(input: &str) -> Result<i32, &'static str> {
    match input.trim().parse::<i32>() {
        Ok(m) if (1..=1440).contains(&m) => Ok(m),
        Ok(_) => Err("Enter between 1 and 1440 minutes."),
        Err(_) => Err("Enter a whole number of minutes."),
    }
}

/// `512 B`, `3.4 KB`, `1.2 MB`.
pub fn file_size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if b < 1024.0 {
        format!("{bytes} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KB", b / 1024.0)
    } else {
        format!("{:.1} MB", b / (1024.0 * 1024.0))
    }
}

pub fn is_image(content_type: &str) -> bool {
    content_type.starts_with("image/")
}

/// The one status change a requester may make (SPEC §1: close or reopen their own).
pub fn customer_action(status: TicketStatus) -> (&'static str, TicketStatus) {
    if status.is_done() {
        ("Reopen ticket", TicketStatus::Open)
    } else {
        ("Close ticket", TicketStatus::Closed)
    }
}

/// A stored status or priority value as people read it; anything else as stored.
fn readable(field: &str, value: &str) -> String {
    let known = match field {
        "status" => TicketStatus::parse(value).map(status_label),
        "priority" => Priority::parse(value).map(priority_label),
        _ => None,
    };
    known.map_or_else(|| value.to_owned(), str::to_owned)
}

/// One history entry as a sentence after the actor's name ("changed status from Open to
/// Resolved"). Assignee values are ids, so `names` resolves them when it can.
pub fn history_sentence(
    field: &str,
    old: Option<&str>,
    new: Option<&str>,
    names: &dyn Fn(&str) -> Option<String>,
) -> String {
    let old = old.filter(|v| !v.is_empty());
    let new = new.filter(|v| !v.is_empty());
    match field {
        "created" => "opened the ticket".to_owned(),
        "assignee_id" => match new {
            Some(id) => match names(id) {
                Some(name) => format!("assigned the ticket to {name}"),
                None => "assigned the ticket".to_owned(),
            },
            None => "unassigned the ticket".to_owned(),
        },
        "description" => "edited the description".to_owned(),
        "category_id" => match new {
            Some(_) => "changed the category".to_owned(),
            None => "cleared the category".to_owned(),
        },
        _ => {
            let label = field;
            match (old, new) {
                (Some(o), Some(n)) => format!(
                    "changed {label} from {} to {}",
                    readable(field, o),
                    readable(field, n)
                ),
                (None, Some(n)) => format!("set {label} to {}", readable(field, n)),
                (Some(o), None) => format!("cleared {label} (was {})", readable(field, o)),
                (None, None) => format!("changed {label}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_and_durations() {
        assert_eq!(clock(0), "0:00");
        assert_eq!(clock(65), "1:05");
        assert_eq!(clock(3723), "1:02:03");
        assert_eq!(clock(-5), "0:00");
        assert_eq!(duration(0), "0m");
        assert_eq!(duration(45), "45s");
        assert_eq!(duration(60 * 12 + 30), "12m");
        assert_eq!(duration(3600 + 5 * 60), "1h 05m");
        assert_eq!(duration(26 * 3600), "26h 00m");
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated() {
        assert_eq!(parse_tags(" vpn, Billing ,VPN,,  "), vec!["vpn", "Billing"]);
        assert!(parse_tags(" , ").is_empty());
        assert_eq!(parse_tags("one"), vec!["one"]);
    }

    #[test]
    fn minutes_are_bounded() {
        assert_eq!(parse_minutes(" 15 "), Ok(15));
        assert!(parse_minutes("0").is_err());
        assert!(parse_minutes("1441").is_err());
        assert!(parse_minutes("1.5").is_err());
        assert!(parse_minutes("").is_err());
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(file_size(512), "512 B");
        assert_eq!(file_size(3 * 1024 + 400), "3.4 KB");
        assert_eq!(file_size(1_300_000), "1.2 MB");
        assert!(is_image("image/png"));
        assert!(!is_image("application/pdf"));
    }

    #[test]
    fn customers_close_open_tickets_and_reopen_done_ones() {
        assert_eq!(customer_action(TicketStatus::Open).1, TicketStatus::Closed);
        assert_eq!(
            customer_action(TicketStatus::Pending).1,
            TicketStatus::Closed
        );
        assert_eq!(
            customer_action(TicketStatus::Resolved).1,
            TicketStatus::Open
        );
        assert_eq!(customer_action(TicketStatus::Closed).0, "Reopen ticket");
    }

    #[test]
    fn history_reads_as_sentences() {
        let names = |id: &str| (id == "7").then(|| "Tara Tech".to_owned());
        assert_eq!(
            history_sentence("status", Some("open"), Some("in_progress"), &names),
            "changed status from Open to In progress"
        );
        assert_eq!(
            history_sentence("priority", None, Some("urgent"), &names),
            "set priority to Urgent"
        );
        assert_eq!(
            history_sentence("assignee_id", None, Some("7"), &names),
            "assigned the ticket to Tara Tech"
        );
        assert_eq!(
            history_sentence("assignee_id", Some("7"), None, &names),
            "unassigned the ticket"
        );
        assert_eq!(
            history_sentence("created", None, None, &names),
            "opened the ticket"
        );
        assert_eq!(
            history_sentence("tags", Some("a"), Some("a,b"), &names),
            "changed tags from a to a,b"
        );
    }
}
