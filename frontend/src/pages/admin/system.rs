//! Live system monitor: every server instance reports its health on the admins' channel
//! every 5 seconds (`system` frames); one row per instance, stale ones flagged.

use gloo::timers::callback::Interval;
use relay_protocol::ws::ServerFrame;
use yew::prelude::*;

use crate::components::live_feeds::{instances, STALE_AFTER_MS};
use crate::components::stat::{fmt_count, fmt_duration_s, fmt_lag_ms, Stat};
use crate::storage;
use crate::ws::{use_ws, use_ws_events, ConnState, Topic, WsEvent};

#[function_component(SystemTab)]
pub fn system_tab() -> Html {
    let ws = use_ws();
    let table = use_mut_ref(instances);
    // Ages and staleness move with the clock, not only with frames.
    let now = use_state(storage::now_ms);
    {
        let now = now.clone();
        use_effect_with((), move |_| {
            let tick = Interval::new(1_000, move || now.set(storage::now_ms()));
            move || drop(tick)
        });
    }
    {
        let (table, now) = (table.clone(), now.clone());
        use_ws_events(Topic::Global, move |event| {
            if let WsEvent::Frame(frame) = event {
                if let ServerFrame::System { status } = &*frame {
                    let t = storage::now_ms();
                    table.borrow_mut().record(status.clone(), t);
                    // A new clock value re-renders with the new row.
                    now.set(t);
                }
            }
        });
    }

    let rows = table.borrow().rows(*now);
    let healthy = rows.iter().filter(|r| !r.stale).count();
    let connections: i64 = rows
        .iter()
        .filter(|r| !r.stale)
        .map(|r| r.status.connections)
        .sum();
    let worst_lag = rows
        .iter()
        .filter(|r| !r.stale)
        .filter_map(|r| r.status.bus_lag_ms)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));

    let body = if rows.is_empty() {
        html! {
            <div class="empty">
                <p class="empty-title">{ "Waiting for the first report" }</p>
                <p class="muted">
                    { if ws.state == ConnState::Live {
                        "Every instance reports every 5 seconds."
                    } else {
                        "Reports arrive over the live connection, which is not up right now."
                    } }
                </p>
            </div>
        }
    } else {
        html! {
            <div class="table-scroll card card-flush">
                <table class="data-table" id="system-table">
                    <caption class="visually-hidden">{ "Server instances" }</caption>
                    <thead>
                        <tr>
                            <th scope="col">{ "Instance" }</th>
                            <th scope="col">{ "State" }</th>
                            <th scope="col" class="num">{ "Connections" }</th>
                            <th scope="col" class="num">{ "Rooms" }</th>
                            <th scope="col" class="num">{ "Bus lag" }</th>
                            <th scope="col" class="num">{ "Uptime" }</th>
                            <th scope="col" class="num">{ "Last report" }</th>
                        </tr>
                    </thead>
                    <tbody>
                        { for rows.iter().map(|r| {
                            let s = &r.status;
                            let age = ((*now - r.seen_ms) / 1000.0).max(0.0);
                            html! {
                                <tr key={s.instance_id.clone()} data-instance={s.instance_id.clone()}
                                    class={classes!(r.stale.then_some("row-inactive"))}>
                                    <th scope="row"><code>{ s.instance_id.clone() }</code></th>
                                    <td>
                                        if r.stale {
                                            <span class="badge state-off">{ "No report" }</span>
                                        } else {
                                            <span class="badge state-on">{ "Healthy" }</span>
                                        }
                                    </td>
                                    <td class="num">{ fmt_count(s.connections) }</td>
                                    <td class="num">{ fmt_count(s.rooms) }</td>
                                    <td class="num">{ fmt_lag_ms(s.bus_lag_ms) }</td>
                                    <td class="num">{ fmt_duration_s(s.uptime_s as f64) }</td>
                                    <td class="num">{ format!("{:.0} s ago", age) }</td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            </div>
        }
    };

    html! {
        <div class="stack">
            <div class="stat-grid">
                <Stat id="system-instances" label="Instances reporting" value={healthy.to_string()}
                    tone={AttrValue::Static(if healthy < rows.len() { "warn" } else { "ok" })}
                    hint={format!("A report is expected every 5 s; silent after {:.0} s", STALE_AFTER_MS / 1000.0)} />
                <Stat id="system-connections" label="Open connections" value={fmt_count(connections)}
                    hint="Browser tabs connected, all instances" />
                <Stat id="system-bus-lag" label="Worst bus lag" value={fmt_lag_ms(worst_lag)}
                    hint="Publish to delivery through Redis" />
            </div>
            { body }
        </div>
    }
}
