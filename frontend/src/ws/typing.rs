//! Typing indicators, both ways: who else is typing (with client-side expiry, in case a
//! `stop` never comes) and when this user's own `start`/`stop` go out. Times are in
//! milliseconds from any clock; tests pass plain numbers.

use std::collections::BTreeMap;

use relay_protocol::ws::TypingState;
use relay_protocol::UserId;

/// A `start` with no `stop` is forgotten after this long (the server gives up after 6 s).
pub const TYPING_EXPIRES_MS: f64 = 7_000.0;
/// While typing, `start` is repeated at most this often (the server throttles to 1/s).
pub const TYPING_REPEAT_MS: f64 = 2_000.0;
/// No keystroke for this long counts as having stopped.
pub const TYPING_IDLE_MS: u32 = 3_000;

/// Who is typing in one room.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypingSet {
    /// user → (name, forget at).
    users: BTreeMap<UserId, (String, f64)>,
}

impl TypingSet {
    pub fn start(&mut self, user: UserId, name: &str, now: f64) {
        self.users
            .insert(user, (name.to_owned(), now + TYPING_EXPIRES_MS));
    }

    /// `stop`, or a message from them (they sent what they typed), or they left.
    pub fn stop(&mut self, user: UserId) -> bool {
        self.users.remove(&user).is_some()
    }

    /// Drops expired entries; true when something went.
    pub fn expire(&mut self, now: f64) -> bool {
        let before = self.users.len();
        self.users.retain(|_, (_, until)| *until > now);
        self.users.len() != before
    }

    /// Names of everyone typing at `now` except `me`, in a stable order.
    pub fn names(&self, now: f64, me: Option<UserId>) -> Vec<String> {
        self.users
            .iter()
            .filter(|(id, (_, until))| Some(**id) != me && *until > now)
            .map(|(_, (name, _))| name.clone())
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn retain(&mut self, keep: impl Fn(UserId) -> bool) {
        self.users.retain(|id, _| keep(*id));
    }
}

/// "Tara is typing…", "Tara and Sam are typing…", "3 people are typing…".
pub fn typing_sentence(names: &[String]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("{one} is typing…")),
        [a, b] => Some(format!("{a} and {b} are typing…")),
        more => Some(format!("{} people are typing…", more.len())),
    }
}

/// This user's side: throttles `start` and makes sure every `start` is followed by a `stop`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypingSender {
    /// When the last `start` went out, while typing.
    started_at: Option<f64>,
}

impl TypingSender {
    /// A keystroke at `now`: `Some(Start)` when one should go out.
    pub fn keystroke(&mut self, now: f64) -> Option<TypingState> {
        match self.started_at {
            Some(at) if now - at < TYPING_REPEAT_MS && now >= at => None,
            _ => {
                self.started_at = Some(now);
                Some(TypingState::Start)
            }
        }
    }

    /// Sent, blurred, cleared or idle: `Some(Stop)` if a `start` is outstanding.
    pub fn stop(&mut self) -> Option<TypingState> {
        self.started_at.take().map(|_| TypingState::Stop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_expire_client_side_after_seven_seconds() {
        let mut set = TypingSet::default();
        set.start(UserId(1), "Tara", 1_000.0);
        set.start(UserId(2), "Sam", 3_000.0);
        assert_eq!(set.names(7_999.0, None), ["Tara", "Sam"]);
        assert!(!set.expire(7_999.0));
        assert_eq!(set.names(8_000.0, None), ["Sam"]);
        assert!(set.expire(8_000.0));
        assert!(!set.expire(8_000.0));
        // A repeated start extends the deadline.
        set.start(UserId(2), "Sam", 9_000.0);
        assert!(!set.expire(12_000.0));
        assert!(set.expire(16_000.0));
        assert!(set.is_empty());
    }

    #[test]
    fn stop_and_self_filtering() {
        let mut set = TypingSet::default();
        set.start(UserId(1), "Tara", 0.0);
        set.start(UserId(7), "Me", 0.0);
        assert_eq!(set.names(1.0, Some(UserId(7))), ["Tara"]);
        assert!(set.stop(UserId(1)));
        assert!(!set.stop(UserId(1)));
        assert!(set.names(1.0, Some(UserId(7))).is_empty());
        set.retain(|u| u != UserId(7));
        assert!(set.is_empty());
    }

    #[test]
    fn sentences() {
        let n = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(typing_sentence(&[]), None);
        assert_eq!(typing_sentence(&n(&["Tara"])).unwrap(), "Tara is typing…");
        assert_eq!(
            typing_sentence(&n(&["Tara", "Sam"])).unwrap(),
            "Tara and Sam are typing…"
        );
        assert_eq!(
            typing_sentence(&n(&["A", "B", "C"])).unwrap(),
            "3 people are typing…"
        );
    }

    #[test]
    fn start_is_repeated_at_most_every_two_seconds() {
        let mut s = TypingSender::default();
        assert_eq!(s.keystroke(0.0), Some(TypingState::Start));
        assert_eq!(s.keystroke(500.0), None);
        assert_eq!(s.keystroke(1_999.0), None);
        assert_eq!(s.keystroke(2_000.0), Some(TypingState::Start));
        assert_eq!(s.stop(), Some(TypingState::Stop));
        assert_eq!(s.stop(), None, "one stop per start");
        assert_eq!(s.keystroke(2_100.0), Some(TypingState::Start));
        // A clock that jumps back does not silence us.
        assert_eq!(s.keystroke(100.0), Some(TypingState::Start));
    }
}
