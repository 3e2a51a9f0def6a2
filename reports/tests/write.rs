//! `write_all` puts the four reports in one directory.

use crate::common::sample_run;

#[test]
fn write_all_creates_the_directory_and_four_reports() {
    let dir =
        tempfile::TempDir::with_prefix("agentproof-reports-write-").expect("a temporary folder");
    let target = dir.path().join("nested/out");

    let written = reports::write_all(&sample_run(), &target).unwrap();

    assert_eq!(written.json, target.join("report.json"));
    assert_eq!(written.junit, target.join("junit.xml"));
    assert_eq!(written.markdown, target.join("report.md"));
    assert_eq!(written.html, target.join("report.html"));
    for path in [
        &written.json,
        &written.junit,
        &written.markdown,
        &written.html,
    ] {
        assert!(
            std::fs::metadata(path).unwrap().len() > 100,
            "{}",
            path.display()
        );
    }
    let json = std::fs::read_to_string(&written.json).unwrap();
    assert_eq!(
        serde_json::from_str::<reports::Run>(&json).unwrap(),
        sample_run()
    );
}
