//! SLA policies: minutes to first response and to resolution, one row per priority. New
//! tickets take their due times from these; existing tickets keep theirs.

use relay_protocol::admin::{SlaPolicy, SlaPolicyList};
use relay_protocol::tickets::Priority;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::explain;
use crate::api::{self, ApiError};
use crate::components::badges::PriorityBadge;
use crate::components::flash::{flash, use_flashes, FlashStack, Tone};
use crate::components::notice::{ErrorNotice, Loading};
use crate::components::stat::fmt_minutes;

/// The server's limit: one year.
pub const MAX_MINUTES: i64 = 60 * 24 * 365;

/// One row as typed (text, so a half-typed number is not lost).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub priority: Priority,
    pub first_response: String,
    pub resolution: String,
}

/// Every priority, most urgent first; a priority without a policy gets empty fields.
pub fn rows(list: &SlaPolicyList) -> Vec<Row> {
    Priority::ALL
        .iter()
        .rev()
        .map(|p| {
            let found = list.items.iter().find(|x| x.priority == *p);
            Row {
                priority: *p,
                first_response: found
                    .map(|x| x.first_response_minutes.to_string())
                    .unwrap_or_default(),
                resolution: found
                    .map(|x| x.resolution_minutes.to_string())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

fn minutes(text: &str) -> Result<i32, String> {
    match text.trim().parse::<i64>() {
        Ok(m) if (1..=MAX_MINUTES).contains(&m) => Ok(m as i32),
        Ok(_) => Err(format!("Between 1 and {MAX_MINUTES} minutes")),
        Err(_) => Err("A whole number of minutes".into()),
    }
}

/// The policies to save, or the problem of each row that has one.
pub fn validate(rows: &[Row]) -> Result<Vec<SlaPolicy>, Vec<(Priority, String)>> {
    let mut ok = Vec::new();
    let mut problems = Vec::new();
    for r in rows {
        match (minutes(&r.first_response), minutes(&r.resolution)) {
            (Ok(f), Ok(res)) if f > res => problems.push((
                r.priority,
                "First response cannot be due after resolution".to_owned(),
            )),
            (Ok(f), Ok(res)) => ok.push(SlaPolicy {
                priority: r.priority,
                first_response_minutes: f,
                resolution_minutes: res,
            }),
            (Err(e), _) | (_, Err(e)) => problems.push((r.priority, e)),
        }
    }
    if problems.is_empty() {
        Ok(ok)
    } else {
        Err(problems)
    }
}

fn hint(text: &str) -> String {
    minutes(text).map_or_else(|_| String::new(), |m| fmt_minutes(i64::from(m)))
}

#[function_component(SlaTab)]
pub fn sla_tab() -> Html {
    let saved = use_state(|| None::<Vec<Row>>);
    let draft = use_state(Vec::<Row>::new);
    let error = use_state(|| None::<ApiError>);
    let problems = use_state(Vec::<(Priority, String)>::new);
    let busy = use_state(|| false);
    let reload = use_state(|| 0u32);
    let flashes = use_flashes();

    {
        let (saved, draft, error) = (saved.clone(), draft.clone(), error.clone());
        use_effect_with(*reload, move |_| {
            spawn_local(async move {
                match api::desk::sla_policies().await {
                    Ok(list) => {
                        let r = rows(&list);
                        draft.set(r.clone());
                        saved.set(Some(r));
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }

    let onsubmit = {
        let (saved, draft, problems, busy, flashes) = (
            saved.clone(),
            draft.clone(),
            problems.clone(),
            busy.clone(),
            flashes.dispatcher(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let items = match validate(&draft) {
                Ok(items) => items,
                Err(p) => {
                    problems.set(p);
                    return;
                }
            };
            problems.set(Vec::new());
            busy.set(true);
            let (saved, draft, busy, flashes) =
                (saved.clone(), draft.clone(), busy.clone(), flashes.clone());
            spawn_local(async move {
                match api::desk::save_sla_policies(&SlaPolicyList { items }).await {
                    Ok(list) => {
                        let r = rows(&list);
                        draft.set(r.clone());
                        saved.set(Some(r));
                        flash(
                            &flashes,
                            Tone::Success,
                            "SLA policies saved. New tickets use them from now on.",
                        );
                    }
                    Err(e) => flash(&flashes, Tone::Error, format!("Not saved: {}", explain(&e))),
                }
                busy.set(false);
            });
        })
    };

    let Some(saved_rows) = (*saved).clone() else {
        return match (*error).clone() {
            Some(e) => {
                let reload = reload.clone();
                html! { <ErrorNotice error={e} on_retry={Callback::from(move |_| reload.set(*reload + 1))} /> }
            }
            None => html! { <Loading label="Loading SLA policies…" /> },
        };
    };
    let dirty = *draft != saved_rows;
    let edit = |i: usize, first: bool| {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                let mut d = (*draft).clone();
                if first {
                    d[i].first_response = input.value();
                } else {
                    d[i].resolution = input.value();
                }
                draft.set(d);
            }
        })
    };
    let discard = {
        let (draft, problems) = (draft.clone(), problems.clone());
        Callback::from(move |_: MouseEvent| {
            draft.set(saved_rows.clone());
            problems.set(Vec::new());
        })
    };

    html! {
        <form class="stack" {onsubmit} novalidate=true>
            <p class="muted">
                { "How long the desk has to answer and to resolve, by priority. New tickets get their due \
                   times from here; the floor counts a ticket as at risk within an hour of either." }
            </p>
            <div class="table-scroll card card-flush">
                <table class="data-table sla-table" id="sla-table">
                    <thead>
                        <tr>
                            <th scope="col">{ "Priority" }</th>
                            <th scope="col">{ "First response (minutes)" }</th>
                            <th scope="col">{ "Resolution (minutes)" }</th>
                        </tr>
                    </thead>
                    <tbody>
                        { for draft.iter().enumerate().map(|(i, r)| {
                            let p = r.priority.as_str();
                            let problem = problems.iter().find(|(x, _)| *x == r.priority).map(|(_, m)| m.clone());
                            html! {
                                <>
                                    <tr data-priority={p} class={classes!(problem.is_some().then_some("row-invalid"))}>
                                        <th scope="row"><PriorityBadge priority={r.priority} /></th>
                                        <td>
                                            <label class="visually-hidden" for={format!("sla-{p}-first")}>
                                                { format!("{} first response, minutes", crate::format::priority_label(r.priority)) }
                                            </label>
                                            <span class="input-with-hint">
                                                <input id={format!("sla-{p}-first")} type="number" min="1" step="1" inputmode="numeric"
                                                    value={r.first_response.clone()} oninput={edit(i, true)}
                                                    aria-invalid={problem.is_some().then_some("true")} />
                                                <span class="muted">{ hint(&r.first_response) }</span>
                                            </span>
                                        </td>
                                        <td>
                                            <label class="visually-hidden" for={format!("sla-{p}-resolution")}>
                                                { format!("{} resolution, minutes", crate::format::priority_label(r.priority)) }
                                            </label>
                                            <span class="input-with-hint">
                                                <input id={format!("sla-{p}-resolution")} type="number" min="1" step="1" inputmode="numeric"
                                                    value={r.resolution.clone()} oninput={edit(i, false)}
                                                    aria-invalid={problem.is_some().then_some("true")} />
                                                <span class="muted">{ hint(&r.resolution) }</span>
                                            </span>
                                        </td>
                                    </tr>
                                    if let Some(m) = problem {
                                        <tr class="row-problem"><td colspan="3" class="field-error" role="alert">{ m }</td></tr>
                                    }
                                </>
                            }
                        }) }
                    </tbody>
                </table>
            </div>
            <div class="form-actions">
                <button type="button" class="btn btn-ghost" onclick={discard} disabled={!dirty}>{ "Discard changes" }</button>
                <button type="submit" class="btn btn-primary" disabled={!dirty || *busy}>
                    { if *busy { "Saving…" } else { "Save policies" } }
                </button>
            </div>
            <FlashStack flashes={flashes.clone()} />
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_priority_gets_a_row_urgent_first() {
        let list = SlaPolicyList {
            items: vec![SlaPolicy {
                priority: Priority::High,
                first_response_minutes: 60,
                resolution_minutes: 480,
            }],
        };
        let r = rows(&list);
        let order: Vec<Priority> = r.iter().map(|r| r.priority).collect();
        assert_eq!(
            order,
            [
                Priority::Urgent,
                Priority::High,
                Priority::Medium,
                Priority::Low
            ]
        );
        assert_eq!(r[1].first_response, "60");
        assert_eq!(r[0].first_response, "");
    }

    #[test]
    fn validation_names_the_rows_in_trouble() {
        let row = |p, f: &str, r: &str| Row {
            priority: p,
            first_response: f.into(),
            resolution: r.into(),
        };
        let good = validate(&[row(Priority::High, " 60 ", "480")]).unwrap();
        assert_eq!(good[0].first_response_minutes, 60);
        let bad = validate(&[
            row(Priority::Urgent, "30", "15"),
            row(Priority::High, "", "480"),
            row(Priority::Low, "0", "10"),
            row(Priority::Medium, "10", "600000"),
        ])
        .unwrap_err();
        assert_eq!(bad.len(), 4);
        assert!(bad[0].1.contains("after resolution"));
        assert_eq!(bad[1].1, "A whole number of minutes");
        assert!(bad[2].1.starts_with("Between 1"));
        assert_eq!(hint("90"), "1 h 30 min");
        assert_eq!(hint("x"), "");
    }
}
