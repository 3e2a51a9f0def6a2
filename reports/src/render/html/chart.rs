//! One inline SVG per route: the latency percentile curve beside a bar summary.
//!
//! Left panel: latency (ms, linear) against percentile on a "nines" scale, where
//! `x = -log10(1 - q)` puts 0 %, 90 %, 99 %, 99.9 %, 99.99 % and 99.999 % at equal steps, the
//! way HdrHistogram plots read. Right panel: bars for p50, p95, p99 and max on a log ms axis
//! with the p95 SLO limit and the timeout drawn as dashed lines. Every number comes straight
//! from the histogram. The SVG has a `<title>` and `<desc>` for screen readers and no
//! `xmlns` (inline SVG in HTML needs none, and the page must name no URL).

use std::fmt::Write as _;

use hdrhistogram::Histogram;

use crate::model::LatencySummary;
use crate::render::escape::html;
use crate::render::ms;
use crate::slo::Slo;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 250.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 200.0;
/// Left panel plot area.
const CURVE: (f64, f64) = (58.0, 370.0);
/// Right panel plot area (bars start at the left edge).
const BARS: (f64, f64) = (470.0, 690.0);
/// Highest "nine" drawn: 99.999 %.
const NINES: f64 = 5.0;
/// Points sampled along the curve.
const CURVE_POINTS: usize = 250;

/// The `<svg>` element for one route; `id` must be unique in the page.
pub(crate) fn route_svg(id: &str, route: &str, h: &Histogram<u64>, slo: &Slo) -> String {
    let s = LatencySummary::of(h);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-t {id}-d"><title id="{id}-t">Latency of {}</title><desc id="{id}-d">{} requests; p50 {} ms, p95 {} ms, p99 {} ms, max {} ms; SLO p95 under {} ms, timeout {} ms.</desc>"#,
        html(route),
        s.count,
        ms(s.p50_ms),
        ms(s.p95_ms),
        ms(s.p99_ms),
        ms(s.max_ms),
        slo.p95_limit_ms,
        slo.timeout_ms,
    );
    if s.count == 0 {
        let _ = write!(
            out,
            r#"<text class="empty" x="{}" y="{}">no samples</text>"#,
            WIDTH / 2.0,
            HEIGHT / 2.0
        );
    } else {
        curve_panel(&mut out, h, &s, slo);
        bars_panel(&mut out, &s, slo);
    }
    out.push_str("</svg>");
    out
}

fn curve_panel(out: &mut String, h: &Histogram<u64>, s: &LatencySummary, slo: &Slo) {
    let (left, right) = CURVE;
    let (step, y_max) = nice_axis(s.max_ms);
    let x = |nines: f64| left + nines / NINES * (right - left);
    let y = |ms: f64| BOTTOM - ms / y_max * (BOTTOM - TOP);
    let _ = write!(
        out,
        r#"<text class="panel" x="{left}" y="16">latency by percentile</text>"#
    );
    let mut tick = 0.0;
    while tick <= y_max + step / 2.0 {
        h_grid(out, CURVE, y(tick), &number(tick));
        tick += step;
    }
    for (n, label) in ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]
        .iter()
        .enumerate()
    {
        v_grid(out, x(n as f64), label);
    }
    let (p95_x, slo_y) = (x(-(0.05f64).log10()), y(slo.p95_limit_ms as f64));
    curve_markers(out, p95_x, slo_y, s.max_ms, slo);
    let points: Vec<String> = (0..=CURVE_POINTS)
        .map(|i| {
            let nines = NINES * i as f64 / CURVE_POINTS as f64;
            let v = h.value_at_quantile(1.0 - 10f64.powf(-nines)) as f64 / 1000.0;
            format!("{:.1},{:.1}", x(nines), y(v))
        })
        .collect();
    let _ = write!(
        out,
        r#"<polyline class="curve" points="{}"/>"#,
        points.join(" ")
    );
    axes(out, left, right);
    axis_titles(out, left, right, "percentile", "ms");
}

/// The p95 guide, and the SLO limit as a horizontal line when it is inside the plot.
fn curve_markers(out: &mut String, p95_x: f64, slo_y: f64, max_ms: f64, slo: &Slo) {
    let (left, right) = CURVE;
    let _ = write!(
        out,
        r#"<line class="marker" x1="{p95_x:.1}" y1="{TOP}" x2="{p95_x:.1}" y2="{BOTTOM}"/><text class="tick" x="{:.1}" y="{}">p95</text>"#,
        p95_x + 3.0,
        TOP + 10.0
    );
    if slo_y >= TOP {
        // Right-aligned, on the side of the line the curve's tail is not.
        let label_y = if max_ms >= slo.p95_limit_ms as f64 {
            slo_y + 13.0
        } else {
            slo_y - 4.0
        };
        let _ = write!(
            out,
            r#"<line class="limit slo" x1="{left}" y1="{slo_y:.1}" x2="{right}" y2="{slo_y:.1}"/><text class="limit-label slo" x="{:.1}" y="{label_y:.1}" text-anchor="end">SLO {} ms</text>"#,
            right - 4.0,
            slo.p95_limit_ms
        );
    }
}

fn bars_panel(out: &mut String, s: &LatencySummary, slo: &Slo) {
    let (left, right) = BARS;
    let (lo, hi) = log_range(s, slo);
    let x = |ms: f64| {
        left + (ms.max(lo).log10() - lo.log10()) / (hi.log10() - lo.log10()) * (right - left)
    };
    let _ = write!(
        out,
        r#"<text class="panel" x="{}" y="16">p50 · p95 · p99 · max</text>"#,
        left - 40.0
    );
    let mut decade = lo;
    while decade <= hi * 1.001 {
        v_grid(out, x(decade), &short(decade));
        decade *= 10.0;
    }
    let (p95_limit, timeout) = (slo.p95_limit_ms as f64, slo.timeout_ms as f64);
    let rows = [
        ("p50", s.p50_ms, false),
        ("p95", s.p95_ms, s.p95_ms >= p95_limit),
        ("p99", s.p99_ms, false),
        ("max", s.max_ms, s.max_ms >= timeout),
    ];
    for (i, (label, value, bad)) in rows.into_iter().enumerate() {
        bar(out, i, rows.len(), label, value, bad, x(value) - left);
    }
    // The SLO label sits left of its line when there is room, else right of it.
    let slo_anchor = if x(p95_limit) - left >= 70.0 {
        "end"
    } else {
        "start"
    };
    limit_line(
        out,
        x(p95_limit),
        "slo",
        &format!("p95 SLO {}", short(p95_limit)),
        slo_anchor,
    );
    limit_line(
        out,
        x(timeout),
        "timeout",
        &format!("timeout {}", short(timeout)),
        "start",
    );
    axes(out, left, right);
    axis_titles(out, left, right, "ms (log scale)", "");
}

/// Row `i` of `rows`: its label, a bar `len` long, and the value beside or inside it.
fn bar(out: &mut String, i: usize, rows: usize, label: &str, value: f64, bad: bool, len: f64) {
    let (left, right) = BARS;
    let row_h = (BOTTOM - TOP) / rows as f64;
    let (y, h) = (TOP + row_h * i as f64 + row_h * 0.22, row_h * 0.56);
    let class = if bad { "bar bad" } else { "bar" };
    let (tx, anchor, tclass) = if len > (right - left) * 0.72 {
        (left + len - 4.0, "end", "value in")
    } else {
        (left + len + 4.0, "start", "value")
    };
    let text_y = y + h / 2.0 + 3.5;
    let _ = write!(
        out,
        r#"<text class="tick" x="{}" y="{text_y:.1}" text-anchor="end">{label}</text><rect class="{class}" x="{left}" y="{y:.1}" width="{:.1}" height="{h:.1}" rx="2"/><text class="{tclass}" x="{tx:.1}" y="{text_y:.1}" text-anchor="{anchor}">{} ms</text>"#,
        left - 6.0,
        len.max(1.0),
        ms(value)
    );
}

fn limit_line(out: &mut String, x: f64, class: &str, label: &str, anchor: &str) {
    let dx = if anchor == "end" { -3.0 } else { 3.0 };
    let _ = write!(
        out,
        r#"<line class="limit {class}" x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{BOTTOM}"/><text class="limit-label {class}" x="{:.1}" y="{}" text-anchor="{anchor}">{}</text>"#,
        TOP - 8.0,
        x + dx,
        TOP - 2.0,
        html(label)
    );
}

/// A horizontal grid line across `panel` at `y`, labelled on the left.
fn h_grid(out: &mut String, (left, right): (f64, f64), y: f64, label: &str) {
    let _ = write!(
        out,
        r#"<line class="grid" x1="{left}" y1="{y:.1}" x2="{right}" y2="{y:.1}"/><text class="tick" x="{}" y="{:.1}" text-anchor="end">{label}</text>"#,
        left - 6.0,
        y + 3.5,
    );
}

/// A vertical grid line at `x`, labelled under the axis.
fn v_grid(out: &mut String, x: f64, label: &str) {
    let _ = write!(
        out,
        r#"<line class="grid" x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{BOTTOM}"/><text class="tick" x="{x:.1}" y="{}" text-anchor="middle">{label}</text>"#,
        BOTTOM + 15.0
    );
}

fn axes(out: &mut String, left: f64, right: f64) {
    let _ = write!(
        out,
        r#"<path class="axis" d="M{left} {TOP} V{BOTTOM} H{right}"/>"#
    );
}

fn axis_titles(out: &mut String, left: f64, right: f64, x_title: &str, y_title: &str) {
    let _ = write!(
        out,
        r#"<text class="axis-title" x="{:.1}" y="{}" text-anchor="middle">{x_title}</text>"#,
        (left + right) / 2.0,
        BOTTOM + 34.0
    );
    if !y_title.is_empty() {
        let (cx, cy) = (left - 44.0, (TOP + BOTTOM) / 2.0);
        let _ = write!(
            out,
            r#"<text class="axis-title" x="{cx}" y="{cy}" text-anchor="middle" transform="rotate(-90 {cx} {cy})">{y_title}</text>"#
        );
    }
}

/// A tick step of 1, 2 or 5 × 10ⁿ giving about four intervals, and the axis top it implies.
pub(crate) fn nice_axis(max: f64) -> (f64, f64) {
    let max = if max > 0.0 { max } else { 1.0 };
    let rough = max / 4.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|f| f * magnitude)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * magnitude);
    (step, (max / step).ceil() * step)
}

/// Whole decades covering the p50, the max and both limits.
fn log_range(s: &LatencySummary, slo: &Slo) -> (f64, f64) {
    let low = s.p50_ms.max(0.01);
    let high = s
        .max_ms
        .max(slo.timeout_ms as f64)
        .max(slo.p95_limit_ms as f64);
    (
        10f64.powf(low.log10().floor()),
        10f64.powf((high * 1.0001).log10().ceil()),
    )
}

/// Axis numbers: no float noise, thousands as `k`.
pub(crate) fn short(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{}k", number(ms / 1000.0))
    } else {
        number(ms)
    }
}

pub(crate) fn number(v: f64) -> String {
    let rounded = (v * 1e6).round() / 1e6;
    format!("{rounded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_axis_uses_round_steps() {
        assert_eq!(nice_axis(87.0), (50.0, 100.0));
        assert_eq!(nice_axis(2300.0), (1000.0, 3000.0));
        assert_eq!(nice_axis(0.0), (0.5, 1.0));
    }

    #[test]
    fn log_range_always_shows_both_limits() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        h.record(3_000).unwrap();
        let s = LatencySummary::of(&h);
        assert_eq!(log_range(&s, &Slo::default()), (1.0, 100_000.0));
    }

    #[test]
    fn axis_numbers_have_no_float_noise() {
        assert_eq!(short(0.1 * 3.0), "0.3");
        assert_eq!(short(20_000.0), "20k");
    }
}
