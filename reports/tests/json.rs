//! The JSON report: round trip, and validity against its own schema.

use reports::schema::{RUN_SCHEMA, RUN_SCHEMA_ID};
use reports::{Case, Run};
use serde_json::Value;

use crate::common::{empty_run, sample_run, FAST_ROUTE, NASTY, SLOW_ROUTE};

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(RUN_SCHEMA).unwrap();
    jsonschema::draft202012::new(&schema).expect("schema compiles")
}

fn assert_valid(report: &str) {
    let instance: Value = serde_json::from_str(report).unwrap();
    let errors: Vec<String> = validator()
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report breaks its schema:\n{}",
        errors.join("\n")
    );
}

#[test]
fn sample_report_is_valid_against_the_schema() {
    assert_valid(&reports::render::json::render(&sample_run()));
}

#[test]
fn empty_report_is_valid_against_the_schema() {
    assert_valid(&reports::render::json::render(&empty_run()));
}

#[test]
fn bare_serialized_run_is_valid_too() {
    assert_valid(&serde_json::to_string(&sample_run()).unwrap());
}

#[test]
fn schema_rejects_a_report_with_an_unknown_outcome() {
    let mut report: Value =
        serde_json::from_str(&reports::render::json::render(&sample_run())).unwrap();
    report["suites"][0]["cases"][0]["outcome"]["status"] = "flaky".into();
    assert!(!validator().is_valid(&report));
}

#[test]
fn round_trip_keeps_every_case_and_count() {
    let run = sample_run();
    let back: Run = serde_json::from_str(&reports::render::json::render(&run)).unwrap();
    assert_eq!(back, run);
    for (a, b) in back.suites.iter().zip(&run.suites) {
        for route in b.latency.routes() {
            assert_eq!(
                a.latency.histogram(route),
                b.latency.histogram(route),
                "{route}"
            );
        }
    }
}

#[test]
fn report_names_its_schema_and_carries_the_derived_verdict() {
    let report: Value =
        serde_json::from_str(&reports::render::json::render(&sample_run())).unwrap();
    assert_eq!(report["$schema"], RUN_SCHEMA_ID);
    assert_eq!(report["verdict"]["failed"], 2);
    assert_eq!(report["slo_violations"][0]["route"], SLOW_ROUTE);
    assert_eq!(report["slo_violations"][0]["what"], "p95");
    let fast = &report["suites"][1]["latency"][FAST_ROUTE];
    assert_eq!(fast["count"], 20_000);
    assert!(fast["p95_ms"].as_f64().unwrap() > fast["p50_ms"].as_f64().unwrap());
}

#[test]
fn hostile_text_survives_the_round_trip() {
    let mut run = empty_run();
    run.suites[0]
        .cases
        .push(Case::failed(NASTY, NASTY, NASTY, 1).with_detail(NASTY));
    let back: Run = serde_json::from_str(&reports::render::json::render(&run)).unwrap();
    assert_eq!(back, run);
}
