//! The two inline SVG charts of a load report.
//!
//! * **Latency over time** (`id="latency-over-time"`): per second p50, p95 and max in ms on a
//!   log axis (a 3 ms median and a 20 s timeout on one chart stay readable), the SLO limit
//!   dashed, and requests per second as bars in the lower third on their own linear axis at
//!   the right. Long runs
//!   are grouped into at most [`MAX_COLUMNS`] columns (mean p50, worst p95 and max, mean
//!   requests/s per column) so the page stays small; seconds nobody answered in break the lines.
//! * **Users over time** (`id="users-over-time"`): the users active in each second (the most at
//!   any moment of it) as a step line on a linear axis, on the same time axis and width as
//!   the latency chart so a ramp lines up with the latency it caused; grouped like it (the
//!   most users of each column). Drawn only when the run counted its users.
//! * **Percentile curve** (`id="percentile-curve"`): latency against percentile on the
//!   "nines" scale (`x = -log10(1 - q)`, so 0 %, 90 %, 99 %, 99.9 %, 99.99 % are equal steps),
//!   one line per route read from its histogram; with a schedule as sent dashed and as due
//!   solid, in the route's colour.
//!
//! No `xmlns` and no URL: inline SVG in HTML needs neither, and the page must name none.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

use crate::load::{LoadReport, SecondStats};
use crate::render::escape::html;
use crate::render::html::chart::{nice_axis, number, short};

const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 330.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 920.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 270.0;
/// Most columns drawn on the time chart.
pub(super) const MAX_COLUMNS: usize = 600;
/// Height and plot bottom of the users chart (it shares the latency chart's width and top).
const USERS_HEIGHT: f64 = 150.0;
const USERS_BOTTOM: f64 = 104.0;
/// Share of the plot height the requests/s bars may use, so they stay under the lines.
const RATE_SHARE: f64 = 0.3;
/// Highest "nine" on the percentile curve: 99.99 %.
const NINES: f64 = 4.0;
const CURVE_POINTS: usize = 200;
/// Route colours, `s0` to `s7` in the stylesheet, reused after eight routes.
pub(super) const PALETTE: usize = 8;

/// A log-scale latency axis covering `lo..hi` ms in whole decades.
struct LogAxis {
    lo: f64,
    hi: f64,
}

impl LogAxis {
    fn covering(values: impl Iterator<Item = f64>, limit_ms: f64) -> Self {
        let (mut lo, mut hi) = (f64::INFINITY, limit_ms.max(1.0));
        for v in values.filter(|v| *v > 0.0) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        let lo = if lo.is_finite() { lo.min(hi) } else { 1.0 };
        Self {
            lo: 10f64.powf(lo.max(0.001).log10().floor()),
            hi: 10f64.powf((hi * 1.0001).log10().ceil()),
        }
    }

    fn y(&self, ms: f64) -> f64 {
        let t = (ms.max(self.lo).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10());
        BOTTOM - t * (BOTTOM - TOP)
    }

    fn grid(&self, out: &mut String) {
        let mut decade = self.lo;
        while decade <= self.hi * 1.001 {
            grid_line(out, self.y(decade), &short(decade));
            decade *= 10.0;
        }
    }
}

/// A horizontal grid line at `y` across the plot, labelled on the left axis.
fn grid_line(out: &mut String, y: f64, label: &str) {
    let _ = write!(
        out,
        r#"<line class="grid" x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}"/><text class="tick" x="{}" y="{:.1}" text-anchor="end">{label}</text>"#,
        LEFT - 6.0,
        y + 3.5,
    );
}

/// One column of the time chart: a second, or a group of seconds in a long run.
struct Column {
    start: u64,
    /// Seconds in the column.
    seconds: u64,
    requests_per_sec: f64,
    /// The most users of its seconds.
    users: u64,
    p50: f64,
    p95: f64,
    max: f64,
}

fn columns(series: &[SecondStats]) -> Vec<Column> {
    let group = series.len().div_ceil(MAX_COLUMNS).max(1);
    series
        .chunks(group)
        .map(|chunk| {
            let answered: Vec<&SecondStats> = chunk.iter().filter(|s| s.requests > 0).collect();
            let n = answered.len().max(1) as f64;
            Column {
                start: chunk[0].second,
                seconds: chunk.len() as u64,
                users: chunk.iter().map(|s| s.users).max().unwrap_or(0),
                requests_per_sec: chunk.iter().map(|s| s.requests).sum::<u64>() as f64
                    / chunk.len() as f64,
                p50: answered.iter().map(|s| s.p50_ms).sum::<f64>() / n,
                p95: answered.iter().map(|s| s.p95_ms).fold(0.0, f64::max),
                max: answered.iter().map(|s| s.max_ms).fold(0.0, f64::max),
            }
        })
        .collect()
}

/// The latency-over-time `<svg>`, as the module docs say.
pub(super) fn latency_over_time(report: &LoadReport) -> String {
    let cols = columns(&report.series);
    let limit = report.slo.limit_ms as f64;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg id="latency-over-time" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="lot-t lot-d"><title id="lot-t">Latency over time, {}</title><desc id="lot-d">Per second of the run: p50, p95 and max latency in ms on a log scale, with the {} ms limit, and requests per second as bars.</desc>"#,
        report.judged.words(),
        report.slo.limit_ms
    );
    if cols.is_empty() {
        empty(&mut out);
        return out;
    }
    let axis = LogAxis::covering(cols.iter().flat_map(|c| [c.p50, c.max]), limit);
    let (rate_step, rate_max) =
        nice_axis(cols.iter().map(|c| c.requests_per_sec).fold(0.0, f64::max));
    let last = report.series.last().map_or(1, |s| s.second + 1).max(1) as f64;
    let x = |second: f64| LEFT + second / last * (RIGHT - LEFT);
    let width = ((RIGHT - LEFT) / cols.len() as f64).max(0.5);
    axis.grid(&mut out);
    // Requests per second: bars in the lower third, behind the lines, on the right-hand axis.
    let rate_height = (BOTTOM - TOP) * RATE_SHARE;
    for c in &cols {
        let h = c.requests_per_sec / rate_max * rate_height;
        let _ = write!(
            out,
            r#"<rect class="rate" x="{:.1}" y="{:.1}" width="{:.2}" height="{h:.1}"/>"#,
            x(c.start as f64),
            BOTTOM - h,
            width * 0.9
        );
    }
    let mut tick = 0.0;
    while tick <= rate_max + rate_step / 2.0 {
        let y = BOTTOM - tick / rate_max * rate_height;
        let _ = write!(
            out,
            r#"<text class="tick rate-tick" x="{}" y="{:.1}">{}</text>"#,
            RIGHT + 6.0,
            y + 3.5,
            number(tick)
        );
        tick += rate_step;
    }
    time_ticks(&mut out, last, x, BOTTOM);
    let limit_y = axis.y(limit);
    let _ = write!(
        out,
        r#"<line class="limit slo" x1="{LEFT}" y1="{limit_y:.1}" x2="{RIGHT}" y2="{limit_y:.1}"/><text class="limit-label slo" x="{:.1}" y="{:.1}">limit {} ms</text>"#,
        LEFT + 4.0,
        limit_y - 4.0,
        report.slo.limit_ms
    );
    let centre = |c: &Column| x(c.start as f64) + width / 2.0;
    for (class, value) in [
        ("max", (|c: &Column| c.max) as fn(&Column) -> f64),
        ("p95", |c: &Column| c.p95),
        ("p50", |c: &Column| c.p50),
    ] {
        let d = broken_path(
            cols.iter()
                .map(|c| (centre(c), value(c), c.requests_per_sec > 0.0)),
            |v| axis.y(v),
        );
        let _ = write!(out, r#"<path class="line {class}" d="{d}"/>"#);
    }
    frame(&mut out, "seconds since start", "ms (log scale)", BOTTOM);
    let _ = write!(
        out,
        r#"<text class="axis-title" x="{x}" y="{y}" text-anchor="middle" transform="rotate(90 {x} {y})">requests/s</text>"#,
        x = RIGHT + 52.0,
        y = BOTTOM - rate_height / 2.0,
    );
    legend(
        &mut out,
        &[
            ("line p50", "p50"),
            ("line p95", "p95"),
            ("line max", "max"),
            ("rate-key", "requests/s"),
        ],
    );
    out.push_str("</svg>");
    out
}

/// The users-over-time `<svg>`, as the module docs say; `None` when no second counted a user
/// (a run that did not count them, or a report from before they were counted).
pub(super) fn users_over_time(report: &LoadReport) -> Option<String> {
    let peak = report.peak_users();
    if peak == 0 {
        return None;
    }
    let cols = columns(&report.series);
    let (step, top) = match nice_axis(peak as f64) {
        (step, _) if step < 1.0 => (1.0, peak as f64),
        axis => axis,
    };
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg id="users-over-time" class="chart" viewBox="0 0 {WIDTH} {USERS_HEIGHT}" role="img" aria-labelledby="uot-t uot-d"><title id="uot-t">Users over time</title><desc id="uot-d">Per second of the run, the most users active at any moment of it; at most {peak}.</desc>"#
    );
    let y = |users: f64| USERS_BOTTOM - users / top * (USERS_BOTTOM - TOP);
    let mut tick = 0.0;
    while tick <= top + step / 2.0 {
        grid_line(&mut out, y(tick), &number(tick));
        tick += step;
    }
    let last = report.series.last().map_or(1, |s| s.second + 1).max(1) as f64;
    let x = |second: f64| LEFT + second / last * (RIGHT - LEFT);
    // A step line: each column's users held across its seconds.
    let mut d = String::new();
    for c in &cols {
        let (x0, x1, cy) = (
            x(c.start as f64),
            x((c.start + c.seconds) as f64),
            y(c.users as f64),
        );
        let pen = if d.is_empty() { "M" } else { "L" };
        let _ = write!(d, "{pen}{x0:.1} {cy:.1} H{x1:.1} ");
    }
    let d = d.trim_end();
    let _ = write!(
        out,
        r#"<path class="users-area" d="{d} V{USERS_BOTTOM} H{LEFT} Z"/><path class="line users" d="{d}"/>"#
    );
    time_ticks(&mut out, last, x, USERS_BOTTOM);
    frame(&mut out, "seconds since start", "users", USERS_BOTTOM);
    out.push_str("</svg>");
    Some(out)
}

/// The percentile-curve `<svg>`, as the module docs say.
pub(super) fn percentile_curve(report: &LoadReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg id="percentile-curve" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="pc-t pc-d"><title id="pc-t">Latency by percentile, per route</title><desc id="pc-d">For each route, the latency in ms (log scale) at each percentile from 0 to 99.99 %{}.</desc>"#,
        if report.is_scheduled() {
            "; dashed as sent, solid as due"
        } else {
            ""
        }
    );
    if report.routes.is_empty() {
        empty(&mut out);
        return out;
    }
    let limit = report.slo.limit_ms as f64;
    let axis = LogAxis::covering(
        report.routes.iter().flat_map(|r| {
            let lowest = r.sent.histogram.min() as f64 / 1000.0;
            let due_max = r.due.as_ref().map_or(0.0, |d| d.summary.max_ms);
            [lowest, r.sent.summary.max_ms, due_max]
        }),
        limit,
    );
    let x = |nines: f64| LEFT + nines / NINES * (RIGHT - LEFT);
    axis.grid(&mut out);
    for (n, label) in ["0%", "90%", "99%", "99.9%", "99.99%"].iter().enumerate() {
        let gx = x(n as f64);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{gx:.1}" y1="{TOP}" x2="{gx:.1}" y2="{BOTTOM}"/><text class="tick" x="{gx:.1}" y="{}" text-anchor="middle">{label}</text>"#,
            BOTTOM + 15.0
        );
    }
    let limit_y = axis.y(limit);
    let _ = write!(
        out,
        r#"<line class="limit slo" x1="{LEFT}" y1="{limit_y:.1}" x2="{RIGHT}" y2="{limit_y:.1}"/><text class="limit-label slo" x="{:.1}" y="{:.1}">limit {} ms</text>"#,
        LEFT + 4.0,
        limit_y - 4.0,
        report.slo.limit_ms
    );
    for (i, route) in report.routes.iter().enumerate() {
        let colour = i % PALETTE;
        if let Some(due) = &route.due {
            curve(
                &mut out,
                &format!("curve s{colour} sent"),
                &route.route,
                "as sent",
                &route.sent.histogram,
                &axis,
                x,
            );
            curve(
                &mut out,
                &format!("curve s{colour}"),
                &route.route,
                "as due",
                &due.histogram,
                &axis,
                x,
            );
        } else {
            curve(
                &mut out,
                &format!("curve s{colour}"),
                &route.route,
                "as sent",
                &route.sent.histogram,
                &axis,
                x,
            );
        }
    }
    frame(&mut out, "percentile", "ms (log scale)", BOTTOM);
    out.push_str("</svg>");
    out
}

fn curve(
    out: &mut String,
    class: &str,
    route: &str,
    which: &str,
    h: &Histogram<u64>,
    axis: &LogAxis,
    x: impl Fn(f64) -> f64,
) {
    if h.is_empty() {
        return;
    }
    let points: Vec<String> = (0..=CURVE_POINTS)
        .map(|i| {
            let nines = NINES * i as f64 / CURVE_POINTS as f64;
            let v = h.value_at_quantile(1.0 - 10f64.powf(-nines)) as f64 / 1000.0;
            format!("{:.1},{:.1}", x(nines), axis.y(v))
        })
        .collect();
    let _ = write!(
        out,
        r#"<polyline class="{class}" points="{}"><title>{} {which}</title></polyline>"#,
        points.join(" "),
        html(route)
    );
}

/// An SVG path through `(x, value, present)` points, lifting the pen over absent ones.
fn broken_path(points: impl Iterator<Item = (f64, f64, bool)>, y: impl Fn(f64) -> f64) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for (x, value, present) in points {
        if !present {
            pen_down = false;
            continue;
        }
        let _ = write!(
            d,
            "{}{x:.1} {:.1} ",
            if pen_down { "L" } else { "M" },
            y(value)
        );
        pen_down = true;
    }
    d.trim_end().to_owned()
}

/// About eight round second ticks under a time axis at `bottom`.
fn time_ticks(out: &mut String, last: f64, x: impl Fn(f64) -> f64, bottom: f64) {
    let step = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
    ]
    .into_iter()
    .find(|s| last / s <= 10.0)
    .unwrap_or((last / 10.0).ceil());
    let mut t = 0.0;
    while t <= last {
        let _ = write!(
            out,
            r#"<text class="tick" x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            x(t),
            bottom + 15.0,
            number(t)
        );
        t += step;
    }
}

/// The axes of a plot from [`TOP`] to `bottom`, and their titles.
fn frame(out: &mut String, x_title: &str, y_title: &str, bottom: f64) {
    let _ = write!(
        out,
        r#"<path class="axis" d="M{LEFT} {TOP} V{bottom} H{RIGHT}"/><text class="axis-title" x="{:.1}" y="{}" text-anchor="middle">{x_title}</text>"#,
        (LEFT + RIGHT) / 2.0,
        bottom + 34.0
    );
    let (cx, cy) = (LEFT - 52.0, (TOP + bottom) / 2.0);
    let _ = write!(
        out,
        r#"<text class="axis-title" x="{cx}" y="{cy}" text-anchor="middle" transform="rotate(-90 {cx} {cy})">{y_title}</text>"#
    );
}

fn legend(out: &mut String, keys: &[(&str, &str)]) {
    let y = HEIGHT - 12.0;
    let mut x = LEFT;
    for (class, label) in keys {
        let _ = write!(
            out,
            r#"<line class="{class}" x1="{x}" y1="{}" x2="{}" y2="{}"/><text class="tick" x="{}" y="{}">{label}</text>"#,
            y - 4.0,
            x + 22.0,
            y - 4.0,
            x + 27.0,
            y
        );
        x += 40.0 + label.len() as f64 * 7.0;
    }
}

fn empty(out: &mut String) {
    let _ = write!(
        out,
        r#"<text class="empty" x="{}" y="{}">no request finished</text></svg>"#,
        WIDTH / 2.0,
        HEIGHT / 2.0
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_seconds_lift_the_pen() {
        let points = [
            (1.0, 5.0, true),
            (2.0, 0.0, false),
            (3.0, 6.0, true),
            (4.0, 7.0, true),
        ];
        assert_eq!(
            broken_path(points.into_iter(), |v| v),
            "M1.0 5.0 M3.0 6.0 L4.0 7.0"
        );
    }

    #[test]
    fn long_runs_are_grouped_into_at_most_the_column_limit() {
        let series: Vec<SecondStats> = (0..3_600)
            .map(|second| SecondStats {
                second,
                requests: 10,
                errors: 0,
                p50_ms: 1.0,
                p95_ms: second as f64,
                max_ms: 2.0 * second as f64,
                users: second / 2,
            })
            .collect();
        let cols = columns(&series);
        assert_eq!(cols.len(), 600);
        assert_eq!(cols[1].start, 6);
        assert_eq!(cols[1].p95, 11.0);
        assert_eq!(cols[1].requests_per_sec, 10.0);
        assert_eq!(
            (cols[1].seconds, cols[1].users),
            (6, 5),
            "the most users of 6..=11"
        );
    }

    #[test]
    fn users_chart_is_a_step_line_and_absent_when_users_were_not_counted() {
        let mut report = crate::load::LoadRecorder::new(Default::default(), false).finish(
            test_meta(),
            3_000,
            None,
        );
        report.series = (0..3)
            .map(|second| SecondStats {
                second,
                requests: 1,
                errors: 0,
                p50_ms: 1.0,
                p95_ms: 1.0,
                max_ms: 1.0,
                users: [2, 4, 4][second as usize],
            })
            .collect();
        let svg = users_over_time(&report).expect("users were counted");
        let line = svg.split("<path class=\"line users\" d=\"").nth(1).unwrap();
        let line = &line[..line.find('"').unwrap()];
        // 3 s over 850 px: x 70, 353.3, 636.7, 920; 4 users at the top (24), 2 half-way (64).
        assert_eq!(
            line,
            "M70.0 64.0 H353.3 L353.3 24.0 H636.7 L636.7 24.0 H920.0"
        );
        for s in &mut report.series {
            s.users = 0;
        }
        assert_eq!(users_over_time(&report), None);
    }

    fn test_meta() -> crate::load::LoadMeta {
        crate::load::LoadMeta {
            scenario: "s".into(),
            scenario_description: String::new(),
            seed: 1,
            command_line: String::new(),
            users: 4,
            increase_rate: 2.0,
            run_time_secs: 3,
            rate_per_sec: None,
            targets: Default::default(),
            tool_version: String::new(),
            goose_version: String::new(),
            started_at: "2025-01-31T09:30:00Z".into(),
            worker: None,
            merged_from: Vec::new(),
            partial: None,
        }
    }

    #[test]
    fn log_axis_covers_whole_decades_and_the_limit() {
        let axis = LogAxis::covering([3.0, 450.0].into_iter(), 2000.0);
        assert_eq!((axis.lo, axis.hi), (1.0, 10_000.0));
        assert_eq!(axis.y(1.0), BOTTOM);
        assert_eq!(axis.y(10_000.0), TOP);
    }
}
