//! The four formats of a load report: JSON against its schema, JUnit through `to_run`,
//! HTML in the page order with stable ids, Markdown in the same order.

use reports::load::LoadReport;
use reports::schema::{LOAD_SCHEMA, LOAD_SCHEMA_ID};
use serde_json::Value;

use crate::common::load::{one_route_report, realistic_report, ALIBABA_ROUTE};
use crate::common::{NASTY, SLOW_ROUTE};

pub(super) fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(LOAD_SCHEMA).unwrap();
    jsonschema::draft202012::new(&schema).expect("load schema compiles")
}

pub(super) fn schema_errors(json: &str) -> Vec<String> {
    let instance: Value = serde_json::from_str(json).unwrap();
    validator()
        .iter_errors(&instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn with_baseline() -> LoadReport {
    let mut report = realistic_report();
    report.cut_short = Some(format!("target went away {NASTY}"));
    report.compare_with(&one_route_report(&[30_000; 50]));
    report
}

#[test]
fn json_round_trips_count_for_count_and_validates_against_its_schema() {
    for report in [
        realistic_report(),
        one_route_report(&[5_000; 10]),
        with_baseline(),
    ] {
        let json = reports::render::load::json::render(&report);
        let errors = schema_errors(&json);
        assert!(
            errors.is_empty(),
            "report breaks its schema:\n{}",
            errors.join("\n")
        );
        let back: LoadReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
        let value: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["$schema"], LOAD_SCHEMA_ID);
    }
}

#[test]
fn schema_rejects_an_unknown_distribution_and_a_missing_counter() {
    let json = reports::render::load::json::render(&realistic_report());
    let mut value: Value = serde_json::from_str(&json).unwrap();
    value["judged"] = "as_hoped".into();
    assert!(!validator().is_valid(&value));
    let mut value: Value = serde_json::from_str(&json).unwrap();
    value["routes"][0]["sent"]
        .as_object_mut()
        .unwrap()
        .remove("under_limit");
    assert!(!validator().is_valid(&value));
}

#[test]
fn to_run_has_one_case_per_route_per_rule_and_no_latency_table() {
    let report = realistic_report();
    let run = report.to_run();
    assert_eq!(run.suites.len(), 1);
    let suite = &run.suites[0];
    assert_eq!(
        (suite.name.as_str(), suite.platform.as_str()),
        ("aui-token-storm", "alibaba")
    );
    assert!(suite.latency.is_empty());
    assert_eq!(suite.cases.len(), 9);
    let failed: Vec<&str> = suite
        .cases
        .iter()
        .filter(|c| c.outcome.status() == "failed")
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        failed,
        [
            format!("{ALIBABA_ROUTE}: no request reaches the 20000 ms timeout"),
            format!("{ALIBABA_ROUTE}: at most 1% errors"),
            format!("{SLOW_ROUTE}: 95% of answers under 2000 ms"),
        ]
    );
    assert_eq!(run.verdict().failed, 3);
    assert_eq!(run.exit_code(), report.exit_code());
    let xml = reports::render::junit::render(&run);
    assert!(
        xml.contains("<failure message=\"expected at least 95% under 2000 ms, got "),
        "{xml}"
    );
}

#[test]
fn a_cut_short_run_adds_a_skipped_case_with_the_reason() {
    let mut report = one_route_report(&[5_000; 10]);
    report.cut_short = Some("Ctrl-C".into());
    let run = report.to_run();
    let last = run.suites[0].cases.last().unwrap();
    assert_eq!(last.outcome.status(), "skipped");
    assert_eq!(run.exit_code(), 0, "cut short alone does not fail the run");
}

fn position(page: &str, needle: &str) -> usize {
    page.find(needle)
        .unwrap_or_else(|| panic!("{needle} missing"))
}

#[test]
fn html_sections_come_in_reading_order_with_stable_ids() {
    let page = reports::render::load::html::render(&with_baseline());
    let order = [
        "id=\"verdict\"",
        "id=\"reproduce\"",
        "<svg id=\"latency-over-time\"",
        "<svg id=\"percentile-curve\"",
        "<table class=\"load\" id=\"routes\"",
        "<table class=\"load\" id=\"errors\"",
        "<table class=\"load\" id=\"baseline\"",
    ];
    let at: Vec<usize> = order.iter().map(|id| position(&page, id)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{order:?} at {at:?}");
    assert!(page[..at[0]].ends_with("<div class=\"page load\">\n<header "));
    assert!(page.contains(
        "<span class=\"badge fail\">FAIL</span><span class=\"badge cut\">CUT SHORT</span>"
    ));
    assert!(page.contains("<pre class=\"command\">agentproof load aui-token-storm --users 50"));
}

#[test]
fn html_is_self_contained_and_escapes_remote_text() {
    let page = reports::render::load::html::render(&with_baseline());
    let lower = page.to_ascii_lowercase();
    for banned in [
        "<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "xmlns",
    ] {
        assert!(!lower.contains(banned), "page contains {banned:?}");
    }
    assert!(page.contains("content=\"default-src 'none';"));
    assert!(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert!(!page.contains('\u{1b}'));
}

#[test]
fn html_charts_draw_every_series_and_both_distributions_per_route() {
    let report = realistic_report();
    let page = reports::render::load::html::render(&report);
    let time = &page[position(&page, "<svg id=\"latency-over-time\"")..];
    let time = &time[..time.find("</svg>").unwrap()];
    for line in ["line max", "line p95", "line p50"] {
        assert!(
            time.contains(&format!("<path class=\"{line}\" d=\"M")),
            "{line}"
        );
    }
    assert_eq!(
        time.matches("<rect class=\"rate\"").count(),
        report.series.len()
    );
    let curve = &page[position(&page, "<svg id=\"percentile-curve\"")..];
    let curve = &curve[..curve.find("</svg>").unwrap()];
    assert_eq!(
        curve.matches("<polyline class=\"curve").count(),
        2 * report.routes.len()
    );
    assert_eq!(
        curve.matches(" sent\" points=").count(),
        report.routes.len()
    );
    let closed = reports::render::load::html::render(&one_route_report(&[5_000; 10]));
    assert_eq!(closed.matches("<polyline class=\"curve").count(), 1);
    assert!(!closed.contains("as due (judged)"));
}

#[test]
fn html_route_table_puts_sent_and_due_side_by_side_when_scheduled() {
    let page = reports::render::load::html::render(&realistic_report());
    let table = &page[position(&page, "id=\"routes\"")..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(table.contains(">as sent, ms</th>") && table.contains(">as due (judged), ms</th>"));
    assert_eq!(table.matches("<th>under 2000</th>").count(), 2);
    assert_eq!(table.matches("<td class=\"rule fail\"").count(), 3);
}

#[test]
fn markdown_follows_the_page_order_with_gfm_tables() {
    let md = reports::render::load::markdown::render(&with_baseline());
    assert!(md
        .starts_with("## ❌ agentproof load aui-token-storm (CUT SHORT)\n\n**FAIL: 2 of 3 routes"));
    let order = [
        "### How to reproduce",
        "```sh\nagentproof load aui-token-storm",
        "### Latency over time",
        "### Percentile curve",
        "### Routes",
        "### Errors by reason",
        "### Compared with the baseline",
    ];
    let at: Vec<usize> = order.iter().map(|h| position(&md, h)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{order:?} at {at:?}");
    assert!(md.contains("| --- | ---: | ---: | ---: |"));
    assert!(md.contains("❌ p95: "), "{md}");
    assert!(md.contains("\\<script\\>"), "remote text escaped");
    // 60 seconds fit in 30 rows of two seconds each.
    assert!(md.contains("| 58–59 |"), "{md}");
}

#[test]
fn markdown_of_a_clean_run_says_there_were_no_errors() {
    let md = reports::render::load::markdown::render(&one_route_report(&[5_000; 10]));
    assert!(md.starts_with("## ✅ agentproof load"));
    assert!(md.contains("No request failed or timed out."));
    assert!(!md.contains("### Compared with the baseline"));
}
