//! Short-lived messages a page raises about the user's own action ("Could not move
//! TICK-2026-0042", "Settings saved"), stacked at the bottom of the screen and dismissed
//! after a few seconds or by hand. Alerts from the socket are `alerts.rs`'s job.

use std::rc::Rc;

use gloo::timers::callback::Timeout;
use yew::prelude::*;

const ERROR_MS: u32 = 8_000;
const SUCCESS_MS: u32 = 4_000;
const MAX_SHOWN: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Success,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flash {
    pub id: u64,
    pub tone: Tone,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flashes {
    pub items: Vec<Flash>,
    next_id: u64,
}

pub enum FlashAction {
    Push(Tone, String),
    Dismiss(u64),
}

impl Reducible for Flashes {
    type Action = FlashAction;

    fn reduce(self: Rc<Self>, action: FlashAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            FlashAction::Push(tone, text) => {
                next.next_id += 1;
                // The same message twice in a row (a double click) is shown once.
                next.items.retain(|f| f.text != text);
                next.items.push(Flash {
                    id: next.next_id,
                    tone,
                    text,
                });
                let excess = next.items.len().saturating_sub(MAX_SHOWN);
                next.items.drain(..excess);
            }
            FlashAction::Dismiss(id) => {
                next.items.retain(|f| f.id != id);
                if next.items.len() == self.items.len() {
                    return self;
                }
            }
        }
        Rc::new(next)
    }
}

pub type FlashHandle = UseReducerHandle<Flashes>;

#[hook]
pub fn use_flashes() -> FlashHandle {
    use_reducer(Flashes::default)
}

pub fn flash(handle: &UseReducerDispatcher<Flashes>, tone: Tone, text: impl Into<String>) {
    handle.dispatch(FlashAction::Push(tone, text.into()));
}

#[derive(Properties, PartialEq)]
pub struct FlashStackProps {
    pub flashes: FlashHandle,
}

#[function_component(FlashStack)]
pub fn flash_stack(props: &FlashStackProps) -> Html {
    let dismiss = {
        let dispatcher = props.flashes.dispatcher();
        Callback::from(move |id: u64| dispatcher.dispatch(FlashAction::Dismiss(id)))
    };
    html! {
        <div class="flash-stack" aria-live="polite">
            { for props.flashes.items.iter().map(|f| html! {
                <FlashView key={f.id} flash={f.clone()} on_dismiss={dismiss.clone()} />
            }) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct FlashViewProps {
    flash: Flash,
    on_dismiss: Callback<u64>,
}

#[function_component(FlashView)]
fn flash_view(props: &FlashViewProps) -> Html {
    let id = props.flash.id;
    let tone = props.flash.tone;
    {
        let on_dismiss = props.on_dismiss.clone();
        use_effect_with(id, move |id| {
            let id = *id;
            let ms = if tone == Tone::Error {
                ERROR_MS
            } else {
                SUCCESS_MS
            };
            let timer = Timeout::new(ms, move || on_dismiss.emit(id));
            move || drop(timer)
        });
    }
    let onclick = {
        let on_dismiss = props.on_dismiss.clone();
        Callback::from(move |_: MouseEvent| on_dismiss.emit(id))
    };
    let (class, role) = match tone {
        Tone::Success => ("flash-success", "status"),
        Tone::Error => ("flash-error", "alert"),
    };
    html! {
        <div class={classes!("flash", class)} {role}>
            <span class="flash-text">{ props.flash.text.clone() }</span>
            <button type="button" class="btn btn-ghost btn-small flash-close" {onclick}
                aria-label="Dismiss message">{ "✕" }</button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_three_without_repeats() {
        let mut s = Rc::new(Flashes::default());
        for n in 0..5 {
            s = s.reduce(FlashAction::Push(Tone::Error, format!("m{n}")));
        }
        s = s.reduce(FlashAction::Push(Tone::Error, "m3".into()));
        let texts: Vec<&str> = s.items.iter().map(|f| f.text.as_str()).collect();
        assert_eq!(texts, ["m2", "m4", "m3"]);
        let id = s.items[0].id;
        let s = s.reduce(FlashAction::Dismiss(id));
        assert_eq!(s.items.len(), 2);
        assert!(Rc::ptr_eq(&s, &s.clone().reduce(FlashAction::Dismiss(id))));
    }
}
