//! `--slo` rules: the accepted forms, and errors that name the bad text.

use reports::load::{LoadSlo, ACCEPTED_FORMS};

fn parsed(rules: &[&str]) -> LoadSlo {
    let mut slo = LoadSlo::default();
    for rule in rules {
        slo.parse_rule(rule)
            .unwrap_or_else(|e| panic!("{rule}: {e}"));
    }
    slo
}

#[test]
fn every_documented_form_parses() {
    let slo = parsed(&["p99<1.5s", "errors<0.5%", "max<30000ms"]);
    assert_eq!(slo.quantile, 0.99);
    assert_eq!(slo.limit_ms, 1500);
    assert_eq!(slo.timeout_ms, 30_000);
    assert_eq!(slo.max_error_rate, 0.005);
    assert_eq!(parsed(&["p95<2000ms"]), LoadSlo::default());
    assert_eq!(
        parsed(&["p50<250ms"]).describe(),
        "p50<250ms, max<20000ms, errors<1%"
    );
    assert_eq!(parsed(&["p99.99<3s"]).quantile_ppm(), 999_900);
    assert_eq!(parsed(&["errors<0%"]).error_ppm(), 0);
    assert_eq!(parsed(&["max<20s"]).timeout_ms, 20_000);
}

#[test]
fn bad_rules_name_the_text_and_show_the_accepted_forms() {
    for (rule, why) in [
        ("p95", "no `<`"),
        ("p95<2000", "needs a unit"),
        ("p95<fast ms", "is not a number"),
        ("p100<2s", "below 100"),
        ("p0<2s", "above 0"),
        ("latency<2s", "unknown measure \"latency\""),
        ("errors<1", "needs a % sign"),
        ("errors<120%", "above 100%"),
        ("max<=20s", "not `<=`"),
        ("max<0ms", "at least 1 ms"),
        ("p9x<1s", "is not a number"),
    ] {
        let mut slo = LoadSlo::default();
        let err = slo.parse_rule(rule).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.rule, rule);
        assert!(text.contains(&format!("{rule:?}")), "{text}");
        assert!(text.contains(why), "{rule}: {text}");
        assert!(text.ends_with(ACCEPTED_FORMS), "{text}");
        assert_eq!(slo, LoadSlo::default(), "{rule} changed the SLO");
    }
}
