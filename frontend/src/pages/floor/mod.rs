//! The supervisors' live floor: counters pushed by the server (`floor` frames, at most once
//! a second) redrawn without a reload, charts of the active queue, a created/resolved trend
//! and the agents' workload from the analytics API.

pub mod charts;

use chrono::{Duration, NaiveTime, Utc};
use relay_protocol::analytics::{AgentStats, RangeQuery, Summary, TrendPoint};
use relay_protocol::tickets::{Priority, TicketStatus};
use relay_protocol::ws::{FloorCounters, ServerFrame};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::badges::Avatar;
use crate::components::form::select_value;
use crate::components::live_feeds::last_floor;
use crate::components::notice::{EmptyState, ErrorNotice, Loading};
use crate::components::stat::{fmt_count, fmt_duration_s, fmt_share, Stat};
use crate::format::{priority_label, status_label};
use crate::storage;
use crate::ws::{use_ws, use_ws_events, ConnState, Topic, WsEvent};
use charts::{Bar, BarChart, LineChart, Series};

/// The statuses of the active queue, as the floor counts them.
pub const ACTIVE: [TicketStatus; 4] = [
    TicketStatus::Open,
    TicketStatus::InProgress,
    TicketStatus::Pending,
    TicketStatus::Blocked,
];

/// Live changes refresh the analytics at most this often.
const ANALYTICS_EVERY_MS: f64 = 15_000.0;
const RANGES: [i64; 3] = [7, 14, 30];

/// A count from one of the counters' maps (absent means none).
pub fn count(map: &std::collections::BTreeMap<String, i64>, key: &str) -> i64 {
    map.get(key).copied().unwrap_or(0)
}

/// Tickets not resolved or closed.
pub fn active_total(c: &FloorCounters) -> i64 {
    ACTIVE.iter().map(|s| count(&c.by_status, s.as_str())).sum()
}

/// Short names for chart axes (the full "Waiting on customer" does not fit under a bar).
pub fn short_status(s: TicketStatus) -> &'static str {
    match s {
        TicketStatus::Pending => "Pending",
        other => status_label(other),
    }
}

pub fn status_bars(c: &FloorCounters) -> Vec<Bar> {
    ACTIVE
        .iter()
        .chain([TicketStatus::Resolved].iter())
        .map(|s| Bar {
            label: short_status(*s).to_owned(),
            value: count(&c.by_status, s.as_str()),
            class: format!("fill-{}", s.as_str()),
        })
        .collect()
}

pub fn priority_bars(c: &FloorCounters) -> Vec<Bar> {
    Priority::ALL
        .iter()
        .rev()
        .map(|p| Bar {
            label: priority_label(*p).to_owned(),
            value: count(&c.by_priority, p.as_str()),
            class: format!("fill-{}", p.as_str()),
        })
        .collect()
}

/// Busiest first; ties by name.
pub fn workload_order(mut rows: Vec<AgentStats>) -> Vec<AgentStats> {
    rows.sort_by(|a, b| {
        b.open.cmp(&a.open).then_with(|| {
            a.agent
                .name
                .to_lowercase()
                .cmp(&b.agent.name.to_lowercase())
        })
    });
    rows
}

fn range_for(days: i64) -> RangeQuery {
    // Whole days, so the trend's first point is not a partial day.
    let start = (Utc::now() - Duration::days(days - 1))
        .date_naive()
        .and_time(NaiveTime::MIN)
        .and_utc();
    RangeQuery {
        from: Some(start),
        to: None,
    }
}

#[derive(Clone, PartialEq)]
struct Analytics {
    summary: Summary,
    agents: Vec<AgentStats>,
    trend: Vec<TrendPoint>,
}

#[function_component(FloorPage)]
pub fn floor_page() -> Html {
    let ws = use_ws();
    let counters = use_state(last_floor);
    let updated_ms = use_state(|| None::<f64>);
    let days = use_state(|| 14i64);
    let analytics = use_state(|| None::<Analytics>);
    let analytics_error = use_state(|| None::<ApiError>);
    let refresh = use_state(|| 0u32);
    let last_fetch = use_mut_ref(|| 0f64);
    let generation = use_mut_ref(|| 0u64);

    {
        let (counters, updated_ms, refresh, last_fetch) = (
            counters.clone(),
            updated_ms.clone(),
            refresh.clone(),
            last_fetch.clone(),
        );
        use_ws_events(Topic::Global, move |event| {
            let WsEvent::Frame(frame) = event else {
                return;
            };
            if let ServerFrame::Floor { counters: c } = &*frame {
                let now = storage::now_ms();
                counters.set(Some(c.clone()));
                updated_ms.set(Some(now));
                // Something changed on the floor: the analytics may have too.
                if now - *last_fetch.borrow() > ANALYTICS_EVERY_MS {
                    refresh.set(*refresh + 1);
                }
            }
        });
    }

    {
        let (analytics, analytics_error, last_fetch, generation) = (
            analytics.clone(),
            analytics_error.clone(),
            last_fetch.clone(),
            generation.clone(),
        );
        use_effect_with((*days, *refresh), move |(days, _)| {
            *last_fetch.borrow_mut() = storage::now_ms();
            let gen = {
                let mut g = generation.borrow_mut();
                *g += 1;
                *g
            };
            let range = range_for(*days);
            spawn_local(async move {
                let (summary, agents, trend) = futures::join!(
                    api::analytics::summary(&range),
                    api::analytics::agents(&range),
                    api::analytics::trends(&range)
                );
                if *generation.borrow() != gen {
                    return;
                }
                match (summary, agents, trend) {
                    (Ok(s), Ok(a), Ok(t)) => {
                        analytics_error.set(None);
                        analytics.set(Some(Analytics {
                            summary: s,
                            agents: workload_order(a.items),
                            trend: t.items,
                        }));
                    }
                    (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                        analytics_error.set(Some(e))
                    }
                }
            });
        });
    }

    let on_days = {
        let days = days.clone();
        Callback::from(move |e: Event| {
            if let Some(d) = select_value(&e).and_then(|v| v.parse().ok()) {
                days.set(d);
            }
        })
    };
    let on_retry = {
        let refresh = refresh.clone();
        Callback::from(move |_| refresh.set(*refresh + 1))
    };

    let c = (*counters).clone();
    let value = |f: &dyn Fn(&FloorCounters) -> i64| {
        c.as_ref()
            .map_or_else(|| "—".to_owned(), |c| fmt_count(f(c)))
    };
    let updated = updated_ms
        .and_then(|ms| chrono::DateTime::from_timestamp_millis(ms as i64))
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%H:%M:%S")
                .to_string()
        });
    let status_line = if ws.state == ConnState::Connecting {
        html! { <span class="muted">{ "Connecting to live updates…" }</span> }
    } else if ws.state != ConnState::Live {
        html! { <span class="live-pill live-pill-off">{ "Paused: reconnecting" }</span> }
    } else if c.is_some() {
        html! {
            <>
                <span class="live-pill"><span class="live-dot" aria-hidden="true"></span>{ "Live" }</span>
                if let Some(t) = updated {
                    <span class="muted">{ format!(" · last change {t}") }</span>
                }
            </>
        }
    } else {
        html! { <span class="muted">{ "Waiting for the first counters…" }</span> }
    };
    let unassigned = c.as_ref().map_or(0, |c| c.unassigned);
    let at_risk = c.as_ref().map_or(0, |c| c.sla_at_risk);

    let analytics_body = match ((*analytics).clone(), (*analytics_error).clone()) {
        (_, Some(e)) => html! { <ErrorNotice error={e} on_retry={on_retry.clone()} /> },
        (None, None) => html! { <Loading label="Loading analytics…" /> },
        (Some(a), None) => {
            let labels: Vec<String> = a
                .trend
                .iter()
                .map(|p| p.day.format("%-d %b").to_string())
                .collect();
            let series = vec![
                Series {
                    name: "Created".into(),
                    class: "series-created".into(),
                    values: a.trend.iter().map(|p| p.created).collect(),
                },
                Series {
                    name: "Resolved".into(),
                    class: "series-resolved".into(),
                    values: a.trend.iter().map(|p| p.resolved).collect(),
                },
            ];
            let s = &a.summary;
            let p50 = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), fmt_duration_s);
            html! {
                <>
                    <div class="card chart-card">
                        <LineChart id="chart-trend" title="Created vs resolved"
                            {labels} {series} />
                    </div>
                    <div class="card chart-card-wide period-card">
                        <h2 class="card-title">{ format!("Last {} days", *days) }</h2>
                        <div class="period-grid">
                            <Stat id="period-created" label="Created" value={fmt_count(s.created)} />
                            <Stat id="period-resolved" label="Resolved" value={fmt_count(s.resolved)} />
                            <Stat id="period-first-response" label="First response (median)"
                                value={p50(s.first_response_time.p50_s)}
                                hint={format!("90% within {}", p50(s.first_response_time.p90_s))} />
                            <Stat id="period-resolution" label="Resolution (median)"
                                value={p50(s.resolution_time.p50_s)}
                                hint={format!("90% within {}", p50(s.resolution_time.p90_s))} />
                            <Stat id="period-sla" label="Resolved within SLA"
                                value={fmt_share(s.sla_resolution_met)}
                                hint={format!("First response on time: {}", fmt_share(s.sla_first_response_met))} />
                            <Stat id="period-csat" label="Satisfaction"
                                value={s.csat_average.map_or_else(|| "—".to_owned(), |v| format!("{v:.1} / 5"))}
                                hint={format!("{} ratings", s.csat_count)} />
                        </div>
                    </div>
                    <div class="card table-card">
                        <h2 class="card-title">{ "Agent workload" }</h2>
                        { agent_table(&a.agents, *days) }
                    </div>
                </>
            }
        }
    };

    html! {
        <section class="page page-wide floor-page">
            <div class="page-head">
                <div>
                    <h1>{ "Live floor" }</h1>
                    <p class="page-sub" aria-live="off">{ status_line }</p>
                </div>
                <div class="field field-inline">
                    <label for="floor-range" class="visually-hidden">{ "Period" }</label>
                    <select id="floor-range" onchange={on_days}>
                        { for RANGES.iter().map(|d| html! {
                            <option value={d.to_string()} selected={*d == *days}>{ format!("Last {d} days") }</option>
                        }) }
                    </select>
                </div>
            </div>

            <div class="stat-grid" aria-live="polite" aria-atomic="false">
                <Stat id="floor-active" label="Active tickets" value={value(&active_total)}
                    hint="Open, in progress, waiting, blocked" />
                <Stat id="floor-unassigned" label="Unassigned" value={value(&|c| c.unassigned)}
                    tone={(unassigned > 0).then_some(AttrValue::Static("warn"))}
                    hint="Active tickets nobody holds" />
                <Stat id="floor-sla-at-risk" label="SLA at risk" value={value(&|c| c.sla_at_risk)}
                    tone={(at_risk > 0).then_some(AttrValue::Static("danger"))}
                    hint="Due within the hour or overdue" />
                <Stat id="floor-agents-online" label="Agents online" value={value(&|c| c.agents_online)}
                    tone={AttrValue::Static("ok")} hint="Staff connected right now" />
            </div>

            <div class="status-strip">
                { for ACTIVE.iter().chain([TicketStatus::Resolved].iter()).map(|s| html! {
                    <Stat id={format!("floor-status-{}", s.as_str())} label={status_label(*s)}
                        value={value(&|c| count(&c.by_status, s.as_str()))}
                        tone={AttrValue::from(format!("status-{}", s.as_str()))} />
                }) }
            </div>

            <div class="chart-grid">
                <div class="card chart-card">
                    <BarChart id="chart-status" title="Queue by status"
                        bars={c.as_ref().map(status_bars).unwrap_or_default()} />
                </div>
                <div class="card chart-card">
                    <BarChart id="chart-priority" title="Active tickets by priority"
                        bars={c.as_ref().map(priority_bars).unwrap_or_default()} />
                </div>
                { analytics_body }
            </div>
        </section>
    }
}

fn agent_table(rows: &[AgentStats], days: i64) -> Html {
    if rows.is_empty() {
        return html! {
            <EmptyState title="No agents yet">
                <p class="muted">{ "Technicians appear here once they hold tickets." }</p>
            </EmptyState>
        };
    }
    let most = rows.iter().map(|r| r.open).max().unwrap_or(0).max(1);
    html! {
        <div class="table-scroll">
            <table class="data-table" id="agent-workload">
                <caption class="visually-hidden">{ format!("Agent workload, last {days} days") }</caption>
                <thead>
                    <tr>
                        <th scope="col">{ "Agent" }</th>
                        <th scope="col" class="num">{ "Open now" }</th>
                        <th scope="col" class="num">{ "Assigned" }</th>
                        <th scope="col" class="num">{ "Resolved" }</th>
                        <th scope="col" class="num">{ "Median resolution" }</th>
                        <th scope="col" class="num">{ "CSAT" }</th>
                        <th scope="col" class="num">{ "Time logged" }</th>
                    </tr>
                </thead>
                <tbody>
                    { for rows.iter().map(|r| {
                        let pct = (r.open as f64 / most as f64 * 100.0).round();
                        html! {
                            <tr key={r.agent.id.0}>
                                <th scope="row">
                                    <span class="agent-cell">
                                        <Avatar name={r.agent.name.clone()} staff=true />
                                        <span>{ r.agent.name.clone() }</span>
                                    </span>
                                </th>
                                <td class="num">
                                    <span class="load">
                                        <span class="load-bar" aria-hidden="true">
                                            <span class="load-fill" style={format!("width: {pct}%")}></span>
                                        </span>
                                        { r.open }
                                    </span>
                                </td>
                                <td class="num">{ r.assigned }</td>
                                <td class="num">{ r.resolved }</td>
                                <td class="num">{ r.median_resolution_s.map_or_else(|| "—".to_owned(), fmt_duration_s) }</td>
                                <td class="num">{ r.csat_average.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}")) }</td>
                                <td class="num">{ if r.time_logged_s > 0 { fmt_duration_s(r.time_logged_s as f64) } else { "—".to_owned() } }</td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_protocol::users::{Role, UserSummary};
    use relay_protocol::UserId;

    fn counters() -> FloorCounters {
        FloorCounters {
            by_status: [
                ("open", 4),
                ("in_progress", 2),
                ("blocked", 1),
                ("resolved", 9),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
            by_priority: [("urgent", 1), ("low", 3)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            unassigned: 3,
            agents_online: 2,
            sla_at_risk: 1,
        }
    }

    #[test]
    fn active_counts_leave_out_resolved() {
        assert_eq!(active_total(&counters()), 7);
        assert_eq!(active_total(&FloorCounters::default()), 0);
    }

    #[test]
    fn bars_list_every_status_and_priority_even_at_zero() {
        let s = status_bars(&counters());
        let got: Vec<(&str, i64)> = s.iter().map(|b| (b.label.as_str(), b.value)).collect();
        assert_eq!(
            got,
            [
                ("Open", 4),
                ("In progress", 2),
                ("Pending", 0),
                ("Blocked", 1),
                ("Resolved", 9)
            ]
        );
        assert_eq!(s[1].class, "fill-in_progress");
        let p = priority_bars(&counters());
        let got: Vec<(&str, i64)> = p.iter().map(|b| (b.label.as_str(), b.value)).collect();
        assert_eq!(got, [("Urgent", 1), ("High", 0), ("Medium", 0), ("Low", 3)]);
    }

    fn agent(id: i64, name: &str, open: i64) -> AgentStats {
        AgentStats {
            agent: UserSummary {
                id: UserId(id),
                name: name.into(),
                role: Role::Technician,
            },
            open,
            assigned: 0,
            resolved: 0,
            median_resolution_s: None,
            csat_average: None,
            time_logged_s: 0,
        }
    }

    #[test]
    fn busiest_agents_first() {
        let rows = workload_order(vec![
            agent(1, "zed", 1),
            agent(2, "Amy", 5),
            agent(3, "bob", 1),
        ]);
        let names: Vec<&str> = rows.iter().map(|r| r.agent.name.as_str()).collect();
        assert_eq!(names, ["Amy", "bob", "zed"]);
    }

    #[test]
    fn ranges_start_at_midnight() {
        let r = range_for(7);
        let from = r.from.unwrap();
        assert_eq!(from.time(), NaiveTime::MIN);
        assert_eq!((Utc::now().date_naive() - from.date_naive()).num_days(), 6);
        assert_eq!(r.to, None);
    }
}
