//! `render::load::junit`: the suite time is the run's duration, and every reproduction fact
//! is a `<property>` that comes back intact from a real XML parser.

use reports::load::LoadReport;

use crate::common::load::{one_route_report, realistic_report};
use crate::common::NASTY;
use crate::junit::{attr, parse};

pub(super) type Element = (String, Vec<(String, String)>);

pub(super) fn render(report: &LoadReport) -> Vec<Element> {
    parse(&reports::render::load::junit::render(report))
}

/// Every `<property>` as (name, value), in document order.
pub(super) fn properties(elements: &[Element]) -> Vec<(String, String)> {
    elements
        .iter()
        .filter(|e| e.0 == "property")
        .map(|e| (attr(e, "name").to_owned(), attr(e, "value").to_owned()))
        .collect()
}

pub(super) fn property<'a>(props: &'a [(String, String)], name: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn suite(elements: &[Element]) -> &Element {
    let suites: Vec<&Element> = elements.iter().filter(|e| e.0 == "testsuite").collect();
    assert_eq!(suites.len(), 1, "a load run is one suite");
    suites[0]
}

#[test]
fn suite_time_is_the_run_duration_not_the_sum_of_its_cases() {
    let mut short = one_route_report(&[5_000; 10]);
    short.duration_ms = 6_042;
    for (report, time) in [(realistic_report(), "60.250"), (short, "6.042")] {
        let elements = render(&report);
        let suite = suite(&elements);
        assert_eq!(attr(suite, "time"), time);
        assert_eq!(attr(&elements[0], "time"), time, "testsuites time");
        let cases = elements.iter().filter(|e| e.0 == "testcase").count();
        assert!(cases > 1, "several cases, so a sum would differ");
        assert_eq!(attr(suite, "tests"), cases.to_string());
    }
}

#[test]
fn every_reproduction_fact_is_a_property_with_its_value() {
    let props = properties(&render(&realistic_report()));
    let expected = [
        ("platform", "alibaba"),
        ("target", "http://127.0.0.1:18601"),
        ("seed", "424242"),
        ("tool_version", "0.1.0"),
        ("scenario", "aui-token-storm"),
        (
            "command_line",
            "agentproof load aui-token-storm --users 50 --rate 200 --seed 424242",
        ),
        ("goose_version", "0.18.0"),
        (
            "load_shape",
            "50 users, 10 new per second, 60 s planned, scheduled at 200 requests/s",
        ),
        ("slo", "p95<2000ms, max<20000ms, errors<1%"),
        ("judged", "as due"),
        ("peak_users", "50"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert_eq!(props, expected);

    let mut closed = one_route_report(&[5_000; 10]);
    closed.meta.rate_per_sec = None;
    let closed = properties(&render(&closed));
    assert_eq!(
        property(&closed, "load_shape"),
        Some("50 users, 10 new per second, 60 s planned, closed loop (no --rate schedule)")
    );
    assert_eq!(property(&closed, "judged"), Some("as sent"));
    assert_eq!(property(&closed, "cut_short"), None);
}

#[test]
fn the_command_line_is_escaped_and_comes_back_intact() {
    let mut report = realistic_report();
    let command =
        "agentproof load 'storm' --header \"X-Note: a<b & c>d\"\t--seed 1 \\\n  --out ./r";
    report.meta.command_line = command.into();
    let xml = reports::render::load::junit::render(&report);
    assert!(
        xml.contains(
            r#"<property name="command_line" value="agentproof load &apos;storm&apos; --header &quot;X-Note: a&lt;b &amp; c&gt;d&quot;&#9;--seed 1 \&#10;  --out ./r"/>"#
        ),
        "{xml}"
    );
    let props = properties(&parse(&xml));
    assert_eq!(property(&props, "command_line"), Some(command));

    report.meta.command_line = NASTY.into();
    let props = properties(&render(&report));
    let back = property(&props, "command_line").unwrap();
    assert!(back.starts_with("<script>alert(\"x\")</script> & 'q' ]]> \\u{1}"));
}

#[test]
fn a_cut_short_run_says_why_in_a_property() {
    let mut report = one_route_report(&[5_000; 10]);
    report.cut_short = Some("Ctrl-C after 12 s & \"3\" users".into());
    let elements = render(&report);
    let props = properties(&elements);
    assert_eq!(
        props.last().map(|(n, v)| (n.as_str(), v.as_str())),
        Some(("cut_short", "Ctrl-C after 12 s & \"3\" users"))
    );
    assert_eq!(elements.iter().filter(|e| e.0 == "skipped").count(), 1);
}

#[test]
fn load_junit_keeps_the_check_writers_cases() {
    let report = realistic_report();
    let plain = reports::render::junit::render(&report.to_run());
    let load = reports::render::load::junit::render(&report);
    let cases = |xml: &str| -> Vec<String> {
        xml.lines()
            .filter(|l| !l.contains("<testsuite ") && !l.contains("<property "))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(cases(&load), cases(&plain));
}
