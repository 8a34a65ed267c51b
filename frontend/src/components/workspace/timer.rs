//! Time tracking for staff: the caller's timer (from `/api/me/timer`, so it survives a
//! reload), the ticket's totals per agent, and manual minutes.

use chrono::Utc;
use gloo::timers::callback::Interval;
use relay_protocol::time::{ManualEntryRequest, TimeEntry, TimeEntryList};
use relay_protocol::TicketId;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::app::Route;
use crate::components::notice::ErrorNotice;
use crate::workspace::{clock, duration, parse_minutes};

#[derive(Properties, PartialEq)]
pub struct TimerProps {
    pub ticket_id: TicketId,
}

#[function_component(Timer)]
pub fn timer(props: &TimerProps) -> Html {
    let id = props.ticket_id;
    let running = use_state(|| None::<TimeEntry>);
    let entries = use_state(|| None::<TimeEntryList>);
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let minutes = use_state(String::new);
    let note = use_state(String::new);
    let minutes_problem = use_state(|| None::<&'static str>);
    let reload = use_state(|| 0u32);
    let tick = use_force_update();

    {
        let (running, entries, error) = (running.clone(), entries.clone(), error.clone());
        use_effect_with((id, *reload), move |(id, _)| {
            let id = *id;
            spawn_local(async move {
                match api::workspace::my_timer().await {
                    Ok(t) => running.set(t.running),
                    Err(e) => error.set(Some(e)),
                }
                match api::workspace::time_entries(id).await {
                    Ok(list) => entries.set(Some(list)),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }
    let here = running.as_ref().filter(|r| r.ticket_id == id).cloned();
    {
        // The clock only ticks while this ticket's timer runs.
        use_effect_with(here.is_some(), move |on| {
            let ticker = on.then(|| Interval::new(1_000, move || tick.force_update()));
            move || drop(ticker)
        });
    }

    let on_toggle = {
        let (busy, error, reload, stop) =
            (busy.clone(), error.clone(), reload.clone(), here.is_some());
        Callback::from(move |_: MouseEvent| {
            let (busy, error, reload) = (busy.clone(), error.clone(), reload.clone());
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                let done = if stop {
                    api::workspace::stop_timer(id).await
                } else {
                    api::workspace::start_timer(id).await
                };
                if let Err(e) = done {
                    error.set(Some(e));
                }
                busy.set(false);
                reload.set(*reload + 1);
            });
        })
    };
    let on_add = {
        let (busy, error, reload) = (busy.clone(), error.clone(), reload.clone());
        let (minutes, note, minutes_problem) =
            (minutes.clone(), note.clone(), minutes_problem.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let m = match parse_minutes(&minutes) {
                Ok(m) => m,
                Err(p) => return minutes_problem.set(Some(p)),
            };
            minutes_problem.set(None);
            let body = ManualEntryRequest {
                minutes: m,
                note: note.trim().to_owned(),
                started_at: None,
            };
            let (busy, error, reload, minutes, note) = (
                busy.clone(),
                error.clone(),
                reload.clone(),
                minutes.clone(),
                note.clone(),
            );
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                match api::workspace::add_time(id, &body).await {
                    Ok(_) => {
                        minutes.set(String::new());
                        note.set(String::new());
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
                reload.set(*reload + 1);
            });
        })
    };
    let on_minutes = {
        let minutes = minutes.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                minutes.set(i.value());
            }
        })
    };
    let on_note = {
        let note = note.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                note.set(i.value());
            }
        })
    };

    let elapsed = here
        .as_ref()
        .map(|r| (Utc::now() - r.started_at).num_seconds());
    let elsewhere = running
        .as_ref()
        .filter(|r| r.ticket_id != id)
        .map(|r| r.ticket_id);

    html! {
        <section class="card panel" aria-labelledby="timer-title">
            <h2 id="timer-title" class="panel-title">{ "Time" }</h2>
            <div class={classes!("timer", elapsed.is_some().then_some("timer-running"))}>
                <span class="timer-clock" id="timer-clock" role="timer" aria-live="off">
                    { clock(elapsed.unwrap_or(0)) }
                </span>
                <button id="timer-toggle" type="button" disabled={*busy}
                    class={classes!("btn", if elapsed.is_some() { "btn-danger" } else { "btn-primary" })}
                    aria-pressed={elapsed.is_some().to_string()} onclick={on_toggle}>
                    { if elapsed.is_some() { "Stop timer" } else { "Start timer" } }
                </button>
            </div>
            if let Some(other) = elsewhere {
                <p class="muted panel-note">
                    { "Your timer is running on " }
                    <Link<Route> to={Route::Ticket { id: other }}>{ "another ticket" }</Link<Route>>
                    { "; starting here stops it." }
                </p>
            }
            if let Some(list) = (*entries).clone() {
                <dl class="details time-totals">
                    <dt>{ "Total" }</dt>
                    <dd id="time-total"><strong>{ duration(list.total_seconds) }</strong></dd>
                    { for list.by_agent.iter().map(|a| html! {
                        <>
                            <dt>{ a.user.name.clone() }</dt>
                            <dd>{ duration(a.seconds) }</dd>
                        </>
                    }) }
                </dl>
            }
            <form class="time-add" onsubmit={on_add} aria-label="Add time manually">
                <label for="time-minutes" class="visually-hidden">{ "Minutes" }</label>
                <input id="time-minutes" type="number" min="1" max="1440" inputmode="numeric" placeholder="Min"
                    value={(*minutes).clone()} oninput={on_minutes}
                    aria-invalid={minutes_problem.is_some().then_some("true")} />
                <label for="time-note" class="visually-hidden">{ "Note" }</label>
                <input id="time-note" type="text" placeholder="Note (optional)" value={(*note).clone()} oninput={on_note} />
                <button type="submit" class="btn btn-small" disabled={*busy || minutes.trim().is_empty()}>{ "Add" }</button>
            </form>
            if let Some(p) = *minutes_problem { <p class="field-error">{ p }</p> }
            if let Some(err) = (*error).clone() { <ErrorNotice error={err} /> }
        </section>
    }
}
