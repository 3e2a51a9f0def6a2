//! JUnit XML is well-formed, escapes hostile text, and names expected against got.

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use reports::Case;

use crate::common::{empty_run, sample_run, NASTY};

/// Parses the whole document, returning every element with its decoded attributes.
pub(crate) fn parse(xml: &str) -> Vec<(String, Vec<(String, String)>)> {
    assert_no_forbidden_chars(xml);
    let mut reader = Reader::from_str(xml);
    let mut elements = Vec::new();
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                depth += 1;
                elements.push(element(&e));
            }
            Ok(Event::Empty(e)) => elements.push(element(&e)),
            Ok(Event::End(_)) => depth -= 1,
            Ok(_) => {}
            Err(e) => panic!(
                "not well-formed at {}: {e}\n{xml}",
                reader.buffer_position()
            ),
        }
    }
    assert_eq!(depth, 0, "unclosed elements");
    elements
}

fn element(e: &BytesStart) -> (String, Vec<(String, String)>) {
    let name = e.name().as_ref().to_owned();
    let attrs = e
        .attributes()
        .map(|a| {
            let a = a.expect("attribute is well-formed");
            let key = a.key.as_ref().to_owned();
            let value = a
                .normalized_value(XmlVersion::Explicit1_0)
                .expect("attribute unescapes");
            (key, value.into_owned())
        })
        .collect();
    (name, attrs)
}

/// XML 1.0 `Char`: TAB, LF, CR, U+0020..U+D7FF, U+E000..U+FFFD, U+10000.. (no other controls).
fn assert_no_forbidden_chars(xml: &str) {
    for c in xml.chars() {
        let allowed = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
        assert!(allowed, "XML 1.0 forbids {:?}", c);
    }
}

pub(crate) fn attr<'a>(el: &'a (String, Vec<(String, String)>), key: &str) -> &'a str {
    el.1.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

#[test]
fn sample_run_is_well_formed_with_a_testsuite_per_suite() {
    let run = sample_run();
    let elements = parse(&reports::render::junit::render(&run));
    let suites: Vec<_> = elements.iter().filter(|e| e.0 == "testsuite").collect();
    assert_eq!(suites.len(), run.suites.len());
    let cases = elements.iter().filter(|e| e.0 == "testcase").count();
    let routes: usize = run.suites.iter().map(|s| s.latency.len()).sum();
    let case_count: usize = run.suites.iter().map(|s| s.cases.len()).sum();
    assert_eq!(cases, case_count + routes);
    assert_eq!(
        attr(&elements[0], "tests"),
        (case_count + routes).to_string()
    );
    assert_eq!(
        attr(&elements[0], "failures"),
        "3",
        "2 cases and 1 route fail"
    );
}

#[test]
fn hostile_text_is_escaped_and_comes_back_intact() {
    let mut run = empty_run();
    run.suites[0]
        .cases
        .push(Case::failed("a<b & \"c\"", "x < y", "\"'&'\"", 1).with_detail(NASTY));
    run.suites[0]
        .cases
        .push(Case::skipped("s", "no \"clock\" <here> &"));
    let elements = parse(&reports::render::junit::render(&run));
    let case = elements.iter().find(|e| e.0 == "testcase").unwrap();
    assert_eq!(attr(case, "name"), "a<b & \"c\"");
    assert_eq!(attr(case, "classname"), "aui.empty");
    let failure = elements.iter().find(|e| e.0 == "failure").unwrap();
    assert_eq!(attr(failure, "message"), "expected x < y, got \"'&'\"");
    let skipped = elements.iter().find(|e| e.0 == "skipped").unwrap();
    assert_eq!(attr(skipped, "message"), "no \"clock\" <here> &");
}

#[test]
fn newlines_in_attributes_survive_normalisation() {
    let mut run = empty_run();
    run.suites[0]
        .cases
        .push(Case::failed("multi\nline", "a\tb", "c\r\nd", 1));
    let elements = parse(&reports::render::junit::render(&run));
    let case = elements.iter().find(|e| e.0 == "testcase").unwrap();
    assert_eq!(attr(case, "name"), "multi\nline");
    let failure = elements.iter().find(|e| e.0 == "failure").unwrap();
    assert_eq!(attr(failure, "message"), "expected a\tb, got c\r\nd");
}

#[test]
fn control_characters_are_made_visible_not_emitted() {
    let mut run = empty_run();
    run.suites[0]
        .cases
        .push(Case::failed("bell\u{7}", "nul\u{0}", "esc\u{1b}", 1).with_detail("\u{1}\u{FFFE}"));
    let xml = reports::render::junit::render(&run);
    let elements = parse(&xml);
    let case = elements.iter().find(|e| e.0 == "testcase").unwrap();
    assert_eq!(attr(case, "name"), "bell\\u{7}");
    assert!(xml.contains("\\u{1}\\u{fffe}"), "{xml}");
}

#[test]
fn empty_run_is_well_formed() {
    let elements = parse(&reports::render::junit::render(&empty_run()));
    assert_eq!(elements[0].0, "testsuites");
    assert_eq!(attr(&elements[0], "tests"), "0");
}
