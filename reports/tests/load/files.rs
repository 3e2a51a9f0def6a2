//! `write_load_reports` and `read_load_report`: four files side by side, others untouched,
//! and clear errors for what is not a load report.

use std::path::PathBuf;

use reports::load::{read_load_report, write_load_reports, LoadReadError};
use tempfile::TempDir;

use crate::common::load::realistic_report;
use crate::common::sample_run;

/// A folder for one test, not yet made, inside a temporary folder removed with everything in it
/// when the returned `TempDir` drops: keep it alive while the folder is used.
fn scratch(name: &str) -> (TempDir, PathBuf) {
    let tmp = TempDir::with_prefix("agentproof-load-").expect("a temporary folder");
    let dir = tmp.path().join(name);
    (tmp, dir)
}

#[test]
fn writes_four_reports_and_leaves_goose_files_alone() {
    let (_tmp, dir) = scratch("write");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("goose-report.html"), "goose's own").unwrap();
    let report = realistic_report();

    let written = write_load_reports(&report, &dir.join("out")).unwrap();
    let written_again = write_load_reports(&report, &dir).unwrap();

    assert_eq!(written.json, dir.join("out/report.json"));
    assert_eq!(written_again.html, dir.join("report.html"));
    assert_eq!(written_again.markdown, dir.join("report.md"));
    assert_eq!(written_again.junit, dir.join("junit.xml"));
    assert_eq!(
        std::fs::read_to_string(dir.join("goose-report.html")).unwrap(),
        "goose's own"
    );
    let html = std::fs::read_to_string(&written_again.html).unwrap();
    assert!(html.contains("id=\"percentile-curve\""));
    let junit = std::fs::read_to_string(&written_again.junit).unwrap();
    assert!(
        junit.contains("<testsuite name=\"alibaba.aui-token-storm\" tests=\"9\" failures=\"3\""),
        "{junit}"
    );
    assert_eq!(junit, reports::render::load::junit::render(&report));
    assert!(junit.contains(" time=\"60.250\" "), "{junit}");
    assert!(
        junit.contains("<property name=\"command_line\" "),
        "{junit}"
    );
    assert_eq!(read_load_report(&dir).unwrap(), report);
    assert_eq!(read_load_report(&written.json).unwrap(), report);
}

#[test]
fn a_check_report_is_refused_by_name() {
    let (_tmp, dir) = scratch("check");
    reports::write_all(&sample_run(), &dir).unwrap();
    let err = read_load_report(&dir).unwrap_err();
    assert!(matches!(err, LoadReadError::CheckReport { .. }), "{err:?}");
    assert!(
        err.to_string().contains("is an `agentproof check` report"),
        "{err}"
    );
}

#[test]
fn other_json_missing_files_and_non_json_get_their_own_errors() {
    let (_tmp, dir) = scratch("other");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("report.json");
    std::fs::write(&file, r#"{"name": "something else"}"#).unwrap();
    let err = read_load_report(&dir).unwrap_err();
    assert!(
        matches!(err, LoadReadError::NotLoadReport { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("is not an agentproof load report"),
        "{err}"
    );

    std::fs::write(&file, "<html>").unwrap();
    assert!(matches!(
        read_load_report(&file),
        Err(LoadReadError::NotJson { .. })
    ));

    let mut broken: serde_json::Value =
        serde_json::from_str(&reports::render::load::json::render(&realistic_report())).unwrap();
    broken["routes"][0]["sent"]["histogram"] = "!!".into();
    std::fs::write(&file, broken.to_string()).unwrap();
    let err = read_load_report(&file).unwrap_err().to_string();
    assert!(err.contains("histogram is not base64"), "{err}");

    let missing = read_load_report(&dir.join("nope")).unwrap_err();
    assert!(matches!(missing, LoadReadError::Io { .. }));
    assert!(missing.to_string().contains("nope"), "{missing}");
}
