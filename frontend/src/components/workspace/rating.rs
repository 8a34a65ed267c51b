//! CSAT: the requester rates a resolved or closed ticket once (1–5 and a comment); after
//! that everyone who can see the ticket sees the rating.

use relay_protocol::tickets::{RatingRequest, RatingView, TicketView};
use relay_protocol::ErrorCode;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::notice::ErrorNotice;
use crate::state::use_session;

#[derive(Properties, PartialEq)]
pub struct RatingProps {
    pub ticket: TicketView,
}

fn stars(n: i16) -> String {
    "★".repeat(usize::try_from(n).unwrap_or(0))
}

const WORDS: [&str; 5] = ["Very poor", "Poor", "Okay", "Good", "Excellent"];

#[function_component(Rating)]
pub fn rating(props: &RatingProps) -> Html {
    let session = use_session();
    let rating = use_state(|| None::<Option<RatingView>>);
    let score = use_state(|| 0i16);
    let comment = use_state(String::new);
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let t = &props.ticket;
    let id = t.id;

    {
        let (rating, error) = (rating.clone(), error.clone());
        use_effect_with((id, t.status), move |(id, _)| {
            let id = *id;
            spawn_local(async move {
                match api::workspace::rating(id).await {
                    Ok(r) => rating.set(Some(r)),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }

    let requester = session
        .user
        .as_ref()
        .is_some_and(|u| u.id == t.requester.id);
    match (*rating).clone() {
        Some(Some(r)) => {
            let n = r.score.clamp(1, 5);
            html! {
                <section class="card panel rating-done" aria-labelledby="rating-title">
                    <h2 id="rating-title" class="panel-title">{ "Customer rating" }</h2>
                    <p class="stars" id="rating-score" aria-label={format!("Rated {n} out of 5")}>
                        <span aria-hidden="true">
                            { stars(n) }<span class="stars-off">{ stars(5 - n) }</span>
                        </span>
                        <span class="rating-word">{ format!("{n}/5 · {}", WORDS[(n - 1) as usize]) }</span>
                    </p>
                    if !r.comment.trim().is_empty() {
                        <blockquote class="text-body rating-comment">{ r.comment.clone() }</blockquote>
                    }
                </section>
            }
        }
        Some(None) if requester && t.status.is_done() => {
            let onsubmit = {
                let (rating, score, comment, error, busy) = (
                    rating.clone(),
                    score.clone(),
                    comment.clone(),
                    error.clone(),
                    busy.clone(),
                );
                Callback::from(move |e: SubmitEvent| {
                    e.prevent_default();
                    if *score == 0 {
                        return;
                    }
                    let body = RatingRequest {
                        score: *score,
                        comment: comment.trim().to_owned(),
                    };
                    let (rating, error, busy) = (rating.clone(), error.clone(), busy.clone());
                    busy.set(true);
                    error.set(None);
                    spawn_local(async move {
                        match api::workspace::rate(id, &body).await {
                            Ok(r) => rating.set(Some(Some(r))),
                            Err(e) if e.code == ErrorCode::Conflict => {
                                // Rated meanwhile (another tab): show what was stored.
                                if let Ok(r) = api::workspace::rating(id).await {
                                    rating.set(Some(r));
                                }
                                error.set(Some(e));
                            }
                            Err(e) => error.set(Some(e)),
                        }
                        busy.set(false);
                    });
                })
            };
            let on_comment = {
                let comment = comment.clone();
                Callback::from(move |e: InputEvent| {
                    if let Some(area) = e.target_dyn_into::<web_sys::HtmlTextAreaElement>() {
                        comment.set(area.value());
                    }
                })
            };
            html! {
                <form class="card panel rating-form" aria-labelledby="rating-title" {onsubmit}>
                    <h2 id="rating-title" class="panel-title">{ "How did we do?" }</h2>
                    <fieldset class="star-picker">
                        <legend class="visually-hidden">{ "Your rating, 1 to 5" }</legend>
                        { for (1..=5i16).map(|n| {
                            let score_h = score.clone();
                            html! {
                                <label class={classes!("star", (n <= *score).then_some("star-on"))} title={WORDS[(n - 1) as usize]}>
                                    <input type="radio" name="rating-score" id={format!("rating-{n}")} value={n.to_string()}
                                        checked={*score == n} onchange={move |_| score_h.set(n)} />
                                    <span aria-hidden="true">{ "★" }</span>
                                    <span class="visually-hidden">{ format!("{n} – {}", WORDS[(n - 1) as usize]) }</span>
                                </label>
                            }
                        }) }
                        if *score > 0 {
                            <span class="rating-word">{ WORDS[(*score - 1) as usize] }</span>
                        }
                    </fieldset>
                    <label for="rating-comment" class="composer-label">{ "Comment (optional)" }</label>
                    <textarea id="rating-comment" rows="2" value={(*comment).clone()} oninput={on_comment}
                        placeholder="Tell us what went well or what we could do better" />
                    <div class="form-actions">
                        <button id="rating-submit" type="submit" class="btn btn-primary" disabled={*busy || *score == 0}>
                            { "Send rating" }
                        </button>
                    </div>
                    if let Some(err) = (*error).clone() { <ErrorNotice error={err} /> }
                </form>
            }
        }
        _ => match (*error).clone() {
            Some(err) => html! { <ErrorNotice error={err} /> },
            None => html! {},
        },
    }
}
