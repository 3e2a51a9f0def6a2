//! The HTML page is self-contained, escapes remote text, and charts every route.

use reports::Case;

use crate::common::{empty_run, sample_run, NASTY};

fn page() -> String {
    reports::render::html::render(&sample_run())
}

#[test]
fn page_references_no_external_resource() {
    let html = page().to_ascii_lowercase();
    for banned in [
        "<script",
        "<link",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "@import",
        "url(",
        "src=",
        "xmlns",
        "@font-face",
    ] {
        assert!(!html.contains(banned), "page contains {banned:?}");
    }
    for (i, _) in html.match_indices("href=") {
        assert!(
            html[i..].starts_with("href=\"#"),
            "non-local link at {}",
            &html[i..i + 40]
        );
    }
}

#[test]
fn page_without_target_urls_names_no_url_at_all() {
    let mut run = sample_run();
    run.target.clear();
    let html = reports::render::html::render(&run);
    assert!(!html.contains("http://") && !html.contains("https://"));
}

#[test]
fn page_forbids_every_fetch_by_content_security_policy() {
    assert!(page()
        .contains(r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none';"#));
}

#[test]
fn page_has_one_svg_per_route_each_with_a_title() {
    let run = sample_run();
    let routes: usize = run.suites.iter().map(|s| s.latency.len()).sum();
    let html = page();
    assert_eq!(html.matches("<svg").count(), routes);
    assert_eq!(html.matches("</svg>").count(), routes);
    for svg in html.split("<svg").skip(1) {
        assert!(svg.contains("<title id="), "svg without title");
        assert!(svg.contains("class=\"axis\""), "svg without axes");
        assert!(svg.contains("p95 SLO 2k"), "svg without the SLO line label");
    }
}

#[test]
fn hostile_text_is_escaped() {
    let mut run = empty_run();
    run.suites[0]
        .cases
        .push(Case::failed(NASTY, NASTY, NASTY, 1).with_detail(NASTY));
    let html = reports::render::html::render(&run);
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"));
    assert!(!html.contains('\u{1}') && !html.contains('\u{1b}'));
}

#[test]
fn summary_counts_and_failures_are_shown() {
    let html = page();
    assert!(html.contains(r#"<span class="badge fail">FAILED</span>"#));
    assert!(html.contains(r#"<div class="stat failed"><span class="n">2</span>"#));
    assert!(html.contains(
        "<dt>expected</dt><dd class=\"expected\"><code>HTTP 400, code SignatureNonceUsed</code>"
    ));
}
