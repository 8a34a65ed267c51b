//! The top bar's connection indicator: is the live channel up, and if not, what is
//! happening about it. A lost connection offers "Retry now" instead of waiting out the back-off.

use yew::prelude::*;

use crate::ws::{use_ws, ConnState};

/// Label, CSS modifier and longer explanation for a state.
pub fn describe(state: ConnState) -> (&'static str, &'static str, &'static str) {
    match state {
        ConnState::Idle => ("", "idle", ""),
        ConnState::Connecting => ("Connecting…", "connecting", "Connecting to live updates"),
        ConnState::Live => ("Live", "live", "Live updates are on"),
        ConnState::Reconnecting => (
            "Reconnecting…",
            "reconnecting",
            "Connection lost: reconnecting. Replies you send are kept and go out when it is back.",
        ),
        ConnState::Offline => (
            "Offline",
            "offline",
            "No network: replies you send are kept and go out when it is back.",
        ),
    }
}

#[function_component(ConnectionIndicator)]
pub fn connection_indicator() -> Html {
    let ws = use_ws();
    if ws.state == ConnState::Idle {
        return html! {};
    }
    let (label, modifier, detail) = describe(ws.state);
    let retry = matches!(ws.state, ConnState::Reconnecting | ConnState::Offline).then(|| {
        let service = ws.service.clone();
        Callback::from(move |_: MouseEvent| service.reconnect_now())
    });
    html! {
        <div class={classes!("conn", format!("conn-{modifier}"))} role="status" title={detail}>
            <span class="conn-dot" aria-hidden="true"></span>
            <span class="conn-label">{ label }</span>
            <span class="visually-hidden">{ format!(": {detail}") }</span>
            if let Some(onclick) = retry {
                <button type="button" class="btn btn-ghost btn-small conn-retry" {onclick}>
                    { "Retry now" }
                </button>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_visible_state_has_words() {
        for s in [
            ConnState::Connecting,
            ConnState::Live,
            ConnState::Reconnecting,
            ConnState::Offline,
        ] {
            let (label, modifier, detail) = describe(s);
            assert!(!label.is_empty() && !modifier.is_empty() && !detail.is_empty());
        }
        assert_eq!(describe(ConnState::Live).0, "Live");
    }
}
