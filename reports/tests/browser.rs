//! The HTML report in a real browser: headless Chromium loads the page from disk, with
//! networking off, and we check the DOM it built and take a screenshot.
//!
//! Needs Chromium. When it is missing the test fails, saying how to install it; it never
//! skips silently. `CHROMIUM=/path/to/chrome` picks another binary. The pages and screenshots
//! stay in `target/tmp/browser/check/` and `target/tmp/browser/load/` for a person to look at.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const CANDIDATES: [&str; 4] = [
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
];
const INSTALL_HINT: &str = "headless Chromium is required for this test and was not found. \
     Install it with `sudo apt-get update && sudo apt-get install -y chromium` (Debian/Ubuntu), \
     or set CHROMIUM=/path/to/chromium";
const TIMEOUT: Duration = Duration::from_secs(90);

fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return PathBuf::from(path);
    }
    CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{INSTALL_HINT}"))
}

/// Runs Chromium headless and offline on `page` with `extra` flags, returning its output.
fn run_chromium(workdir: &Path, page: &Path, extra: &[&str]) -> Output {
    let profile = workdir.join(format!("profile-{}", extra.len()));
    let child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}. {INSTALL_HINT}", chromium().display()));
    wait_with_timeout(child)
}

fn wait_with_timeout(mut child: std::process::Child) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("chromium status").is_none() {
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("chromium did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("chromium output")
}

/// A fresh directory per test, so tests running in parallel never clear each other's files.
fn workdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("browser")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn chromium_renders_the_report_with_every_chart() {
    let run = common::sample_run();
    let routes: usize = run.suites.iter().map(|s| s.latency.len()).sum();
    let dir = workdir("check");
    let page = dir.join("report.html");
    std::fs::write(&page, reports::render::html::render(&run)).unwrap();

    let dom = run_chromium(&dir, &page, &["--dump-dom"]);
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
    assert_eq!(
        dom_text.matches("<svg").count(),
        routes,
        "svg charts in the DOM:\n{dom_text}"
    );
    assert_eq!(
        dom_text.matches("<polyline class=\"curve\"").count(),
        routes
    );
    assert_eq!(dom_text.matches("<title id=\"chart-").count(), routes);
    assert!(dom_text.contains("FAILED"), "verdict missing from the DOM");
    assert!(
        !dom_text.contains("<script>alert"),
        "hostile text became markup"
    );

    let shot = dir.join("report.png");
    let screenshot = format!("--screenshot={}", shot.display());
    let out = run_chromium(&dir, &page, &[&screenshot, "--window-size=1280,2400"]);
    assert!(
        out.status.success(),
        "screenshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "screenshot is a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert_eq!(width, 1280);
    println!("page: {}\nscreenshot: {}", page.display(), shot.display());
}

/// The `<svg id="{id}" …>…</svg>` element of a dumped DOM.
fn svg_by_id<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("<svg id=\"{id}\""))
        .unwrap_or_else(|| panic!("no <svg id={id:?}> in the DOM:\n{dom}"));
    let end = dom[start..].find("</svg>").expect("svg is closed") + start;
    &dom[start..end]
}

#[test]
fn chromium_renders_the_load_report_verdict_first_with_every_chart() {
    let mut report = common::load::realistic_report();
    report.compare_with(&common::load::one_route_report(&[30_000; 50]));
    let dir = workdir("load");
    let page = dir.join("report.html");
    std::fs::write(&page, reports::render::load::html::render(&report)).unwrap();

    let dom = run_chromium(&dir, &page, &["--dump-dom"]);
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let body = &dom_text[dom_text
        .find("<div class=\"page load\">")
        .expect("page div")..];
    let first = body["<div class=\"page load\">".len()..].trim_start();
    assert!(
        first.starts_with("<header id=\"verdict\" class=\"verdict fail\">"),
        "the verdict is not the first element: {}",
        &first[..first.len().min(200)]
    );
    let time = svg_by_id(&dom_text, "latency-over-time");
    for line in ["p50", "p95", "max"] {
        assert!(
            time.contains(&format!("<path class=\"line {line}\" d=\"M")),
            "no {line} line over time"
        );
    }
    assert_eq!(
        time.matches("<rect class=\"rate\"").count(),
        report.series.len()
    );
    let users = svg_by_id(&dom_text, "users-over-time");
    assert!(
        users.contains("<path class=\"line users\" d=\"M"),
        "no users line: {users}"
    );
    let curve = svg_by_id(&dom_text, "percentile-curve");
    assert_eq!(
        curve.matches("<polyline class=\"curve").count(),
        2 * report.routes.len(),
        "as sent and as due per route"
    );
    for id in ["routes", "errors", "reproduce", "baseline"] {
        assert!(dom_text.contains(&format!("id=\"{id}\"")), "no #{id}");
    }
    assert!(
        !dom_text.contains("<script>alert"),
        "hostile text became markup"
    );

    let shot = dir.join("report.png");
    let screenshot = format!("--screenshot={}", shot.display());
    let out = run_chromium(&dir, &page, &[&screenshot, "--window-size=1280,3200"]);
    assert!(
        out.status.success(),
        "screenshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "screenshot is a PNG");
    println!("page: {}\nscreenshot: {}", page.display(), shot.display());
}
