//! Small SVG charts for the floor: a bar chart and a multi-series line chart, with axes,
//! gridlines, value labels and a legend. The geometry (nice axis steps, bands, scaling,
//! label thinning) is plain arithmetic, tested on the host; colours come from CSS classes.

use yew::prelude::*;

/// The value axis: 0..=`max` in steps of `step`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub max: f64,
    pub step: f64,
}

/// An axis for whole counts up to `max`, with about `ticks` steps of 1, 2, 5 × 10^k.
pub fn count_axis(max: f64, ticks: usize) -> Axis {
    let ticks = ticks.max(1) as f64;
    if !max.is_finite() || max <= 0.0 {
        return Axis {
            max: ticks,
            step: 1.0,
        };
    }
    let raw = max / ticks;
    let magnitude = 10f64.powf(raw.log10().floor());
    let nice = match raw / magnitude {
        r if r <= 1.0 => 1.0,
        r if r <= 2.0 => 2.0,
        r if r <= 5.0 => 5.0,
        _ => 10.0,
    };
    // Counts are whole: never a step below one ticket.
    let step = (nice * magnitude).max(1.0);
    Axis {
        max: (max / step).ceil() * step,
        step,
    }
}

impl Axis {
    pub fn ticks(&self) -> Vec<f64> {
        let n = (self.max / self.step).round() as usize;
        (0..=n).map(|i| i as f64 * self.step).collect()
    }

    /// Height in plot units of `value` on a plot `height` tall.
    pub fn scale(&self, value: f64, height: f64) -> f64 {
        if self.max <= 0.0 {
            return 0.0;
        }
        (value.max(0.0) / self.max * height).min(height)
    }
}

/// Left edge and width of bar `i` of `n` across `width`, a gap of `gap` (0..1) of each band.
pub fn band(i: usize, n: usize, width: f64, gap: f64) -> (f64, f64) {
    let n = n.max(1) as f64;
    let band = width / n;
    let bar = band * (1.0 - gap.clamp(0.0, 0.9));
    (i as f64 * band + (band - bar) / 2.0, bar)
}

/// Every how many x labels to print so that at most `max` appear.
pub fn label_stride(n: usize, max: usize) -> usize {
    if n <= max || max == 0 {
        1
    } else {
        n.div_ceil(max)
    }
}

/// Whether x label `i` of `n` is printed: counted back from the last one (today), so the
/// newest point is always labelled and the labels never crowd each other.
pub fn shows_label(i: usize, n: usize, stride: usize) -> bool {
    i < n && (n - 1 - i).is_multiple_of(stride.max(1))
}

/// An SVG path through the points.
pub fn line_path(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (i, (x, y)) in points.iter().enumerate() {
        let cmd = if i == 0 { 'M' } else { 'L' };
        d.push_str(&format!("{cmd}{x:.1},{y:.1}"));
    }
    d
}

fn fmt_tick(v: f64) -> String {
    format!("{}", v.round() as i64)
}

// Chart frame, in viewBox units: room for the value axis on the left and labels below.
const W: f64 = 480.0;
const H: f64 = 240.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 36.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    /// Colour class, e.g. `fill-open`, `fill-urgent`.
    pub class: String,
}

#[derive(Properties, PartialEq)]
pub struct BarChartProps {
    pub id: AttrValue,
    pub title: AttrValue,
    pub bars: Vec<Bar>,
    #[prop_or(AttrValue::Static("Tickets"))]
    pub unit: AttrValue,
}

#[function_component(BarChart)]
pub fn bar_chart(props: &BarChartProps) -> Html {
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let max = props.bars.iter().map(|b| b.value).max().unwrap_or(0) as f64;
    let axis = count_axis(max, 4);
    let summary = props
        .bars
        .iter()
        .map(|b| format!("{} {}", b.label, b.value))
        .collect::<Vec<_>>()
        .join(", ");
    let title_id = format!("{}-title", props.id);
    let desc_id = format!("{}-desc", props.id);
    html! {
        <figure class="chart">
            <figcaption class="chart-title" id={title_id.clone()}>{ props.title.clone() }</figcaption>
            <svg id={props.id.clone()} class="chart-svg" viewBox={format!("0 0 {W} {H}")}
                role="img" aria-labelledby={format!("{title_id} {desc_id}")}
                preserveAspectRatio="xMidYMid meet">
                <desc id={desc_id}>{ format!("{}: {summary}.", props.unit) }</desc>
                <g class="chart-gridlines">
                    { for axis.ticks().into_iter().map(|t| {
                        let y = TOP + plot_h - axis.scale(t, plot_h);
                        html! {
                            <g>
                                <line x1={LEFT.to_string()} x2={(W - RIGHT).to_string()}
                                    y1={format!("{y:.1}")} y2={format!("{y:.1}")} />
                                <text class="chart-tick" x={(LEFT - 6.0).to_string()} y={format!("{:.1}", y + 4.0)}
                                    text-anchor="end">{ fmt_tick(t) }</text>
                            </g>
                        }
                    }) }
                </g>
                <line class="chart-axis" x1={LEFT.to_string()} x2={(W - RIGHT).to_string()}
                    y1={(TOP + plot_h).to_string()} y2={(TOP + plot_h).to_string()} />
                { for props.bars.iter().enumerate().map(|(i, b)| {
                    let (x, w) = band(i, props.bars.len(), plot_w, 0.35);
                    let x = LEFT + x;
                    let h = axis.scale(b.value as f64, plot_h);
                    let y = TOP + plot_h - h;
                    html! {
                        <g class="chart-bar">
                            <rect class={b.class.clone()} x={format!("{x:.1}")} y={format!("{y:.1}")}
                                width={format!("{w:.1}")} height={format!("{h:.1}")} rx="3">
                                <title>{ format!("{}: {}", b.label, b.value) }</title>
                            </rect>
                            <text class="chart-value" x={format!("{:.1}", x + w / 2.0)} y={format!("{:.1}", y - 5.0)}
                                text-anchor="middle">{ b.value }</text>
                            <text class="chart-label" x={format!("{:.1}", x + w / 2.0)} y={format!("{:.1}", TOP + plot_h + 18.0)}
                                text-anchor="middle">{ b.label.clone() }</text>
                        </g>
                    }
                }) }
                <text class="chart-unit" x="4" y="12">{ props.unit.clone() }</text>
            </svg>
        </figure>
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    /// Colour class: sets `stroke` and `fill` of its line and dots.
    pub class: String,
    pub values: Vec<i64>,
}

#[derive(Properties, PartialEq)]
pub struct LineChartProps {
    pub id: AttrValue,
    pub title: AttrValue,
    /// One label per x position (days).
    pub labels: Vec<String>,
    pub series: Vec<Series>,
}

#[function_component(LineChart)]
pub fn line_chart(props: &LineChartProps) -> Html {
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let n = props.labels.len();
    let max = props
        .series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0) as f64;
    let axis = count_axis(max, 4);
    let x_at = |i: usize| {
        if n <= 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y_at = |v: i64| TOP + plot_h - axis.scale(v as f64, plot_h);
    let stride = label_stride(n, 7);
    let totals = props
        .series
        .iter()
        .map(|s| format!("{} {} in total", s.name, s.values.iter().sum::<i64>()))
        .collect::<Vec<_>>()
        .join(", ");
    let title_id = format!("{}-title", props.id);
    let desc_id = format!("{}-desc", props.id);
    html! {
        <figure class="chart">
            <figcaption class="chart-head">
                <span class="chart-title" id={title_id.clone()}>{ props.title.clone() }</span>
                <ul class="chart-legend">
                    { for props.series.iter().map(|s| html! {
                        <li class={s.class.clone()}>
                            <span class="legend-swatch" aria-hidden="true"></span>
                            { format!("{} ({})", s.name, s.values.iter().sum::<i64>()) }
                        </li>
                    }) }
                </ul>
            </figcaption>
            <svg id={props.id.clone()} class="chart-svg" viewBox={format!("0 0 {W} {H}")}
                role="img" aria-labelledby={format!("{title_id} {desc_id}")}
                preserveAspectRatio="xMidYMid meet">
                <desc id={desc_id}>{ format!("Over {n} days: {totals}.") }</desc>
                <g class="chart-gridlines">
                    { for axis.ticks().into_iter().map(|t| {
                        let y = TOP + plot_h - axis.scale(t, plot_h);
                        html! {
                            <g>
                                <line x1={LEFT.to_string()} x2={(W - RIGHT).to_string()}
                                    y1={format!("{y:.1}")} y2={format!("{y:.1}")} />
                                <text class="chart-tick" x={(LEFT - 6.0).to_string()} y={format!("{:.1}", y + 4.0)}
                                    text-anchor="end">{ fmt_tick(t) }</text>
                            </g>
                        }
                    }) }
                </g>
                <line class="chart-axis" x1={LEFT.to_string()} x2={(W - RIGHT).to_string()}
                    y1={(TOP + plot_h).to_string()} y2={(TOP + plot_h).to_string()} />
                { for props.labels.iter().enumerate().filter(|(i, _)| shows_label(*i, n, stride)).map(|(i, l)| html! {
                    <text class="chart-label" x={format!("{:.1}", x_at(i))} y={format!("{:.1}", TOP + plot_h + 18.0)}
                        text-anchor="middle">{ l.clone() }</text>
                }) }
                { for props.series.iter().map(|s| {
                    let points: Vec<(f64, f64)> = s.values.iter().enumerate().map(|(i, v)| (x_at(i), y_at(*v))).collect();
                    html! {
                        <g class={classes!("chart-series", s.class.clone())}>
                            <path class="chart-line" d={line_path(&points)} />
                            { for points.iter().zip(&s.values).zip(&props.labels).map(|(((x, y), v), l)| html! {
                                <circle class="chart-dot" cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="3">
                                    <title>{ format!("{l}: {v} {}", s.name.to_lowercase()) }</title>
                                </circle>
                            }) }
                        </g>
                    }
                }) }
                <text class="chart-unit" x="4" y="12">{ "Tickets" }</text>
            </svg>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_round_up_to_nice_steps() {
        assert_eq!(
            count_axis(0.0, 4),
            Axis {
                max: 4.0,
                step: 1.0
            }
        );
        assert_eq!(
            count_axis(3.0, 4),
            Axis {
                max: 3.0,
                step: 1.0
            }
        );
        assert_eq!(
            count_axis(7.0, 4),
            Axis {
                max: 8.0,
                step: 2.0
            }
        );
        assert_eq!(
            count_axis(17.0, 4),
            Axis {
                max: 20.0,
                step: 5.0
            }
        );
        assert_eq!(
            count_axis(95.0, 4),
            Axis {
                max: 100.0,
                step: 50.0
            }
        );
        assert_eq!(
            count_axis(130.0, 4),
            Axis {
                max: 150.0,
                step: 50.0
            }
        );
        assert_eq!(count_axis(f64::NAN, 4).step, 1.0);
    }

    #[test]
    fn ticks_cover_the_axis() {
        assert_eq!(count_axis(7.0, 4).ticks(), [0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(count_axis(0.0, 2).ticks(), [0.0, 1.0, 2.0]);
    }

    #[test]
    fn values_scale_into_the_plot() {
        let a = Axis {
            max: 8.0,
            step: 2.0,
        };
        assert_eq!(a.scale(0.0, 200.0), 0.0);
        assert_eq!(a.scale(4.0, 200.0), 100.0);
        assert_eq!(a.scale(8.0, 200.0), 200.0);
        assert_eq!(a.scale(-3.0, 200.0), 0.0);
        assert_eq!(a.scale(99.0, 200.0), 200.0);
    }

    #[test]
    fn bands_split_the_width_evenly() {
        assert_eq!(band(0, 4, 400.0, 0.5), (25.0, 50.0));
        assert_eq!(band(3, 4, 400.0, 0.5), (325.0, 50.0));
        assert_eq!(band(0, 0, 100.0, 0.0), (0.0, 100.0));
    }

    #[test]
    fn labels_thin_out_on_long_ranges() {
        assert_eq!(label_stride(7, 7), 1);
        assert_eq!(label_stride(14, 7), 2);
        assert_eq!(label_stride(30, 7), 5);
        assert_eq!(label_stride(3, 0), 1);
        let shown: Vec<usize> = (0..14).filter(|i| shows_label(*i, 14, 2)).collect();
        assert_eq!(shown, [1, 3, 5, 7, 9, 11, 13]);
        assert!(shows_label(0, 1, 1));
        assert!(!shows_label(5, 5, 1));
    }

    #[test]
    fn paths_move_then_line() {
        assert_eq!(line_path(&[]), "");
        assert_eq!(line_path(&[(0.0, 10.0), (5.5, 2.24)]), "M0.0,10.0L5.5,2.2");
    }
}
