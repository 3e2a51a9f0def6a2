//! Escaping for untrusted text: case names, details and routes come from remote servers.
//!
//! Control characters other than tab, line feed and carriage return cannot appear in an
//! XML 1.0 document at all, not even as character references, and are parse errors in HTML;
//! every escape here writes them (and the noncharacters U+FFFE, U+FFFF) as visible text
//! `\u{1b}`, so nothing is lost and the output stays well-formed.

use std::fmt::Write as _;

/// Text content of an XML element: `&`, `<`, `>` and `\r` become references.
pub fn xml_text(s: &str) -> String {
    escape(s, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '\r' => Some("&#13;"),
        _ => None,
    })
}

/// An XML attribute value in double quotes: also quotes, and whitespace that attribute
/// normalisation would otherwise turn into spaces.
pub fn xml_attr(s: &str) -> String {
    escape(s, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&apos;"),
        '\t' => Some("&#9;"),
        '\n' => Some("&#10;"),
        '\r' => Some("&#13;"),
        _ => None,
    })
}

/// HTML (and inline SVG) text or double-quoted attribute value.
pub fn html(s: &str) -> String {
    escape(s, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => None,
    })
}

/// One Markdown table cell or inline text: one line, punctuation that Markdown or GitHub's
/// HTML would act on backslash-escaped, at most `max_chars` characters.
pub fn markdown(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    for c in chars.by_ref().take(max_chars) {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c if is_forbidden(c) => push_visible(&mut out, c),
            c => out.push(c),
        }
    }
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

fn escape(s: &str, reference: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match reference(c) {
            Some(r) => out.push_str(r),
            None if is_forbidden(c) => push_visible(&mut out, c),
            None => out.push(c),
        }
    }
    out
}

/// Characters XML 1.0 forbids or HTML flags: controls except TAB, LF, CR; U+FFFE; U+FFFF.
fn is_forbidden(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

fn push_visible(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", c as u32);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_metacharacters_become_references() {
        assert_eq!(xml_text("a<b & c>"), "a&lt;b &amp; c&gt;");
        assert_eq!(
            xml_attr(r#"say "hi" 'x'"#),
            "say &quot;hi&quot; &apos;x&apos;"
        );
        assert_eq!(
            html(r#"<a href="x">'"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;"
        );
    }

    #[test]
    fn forbidden_controls_are_written_as_visible_text() {
        assert_eq!(xml_text("a\u{1}b\u{1b}"), "a\\u{1}b\\u{1b}");
        assert_eq!(html("\u{0}\u{FFFF}"), "\\u{0}\\u{ffff}");
        assert_eq!(xml_text("tab\tline\n"), "tab\tline\n");
    }

    #[test]
    fn attribute_whitespace_survives_normalisation() {
        assert_eq!(xml_attr("a\nb\tc\r"), "a&#10;b&#9;c&#13;");
    }

    #[test]
    fn markdown_cell_is_one_line_with_pipes_escaped_and_truncated() {
        assert_eq!(markdown("a|b\nc", 100), "a\\|b c");
        assert_eq!(markdown("<img src=x>", 100), "\\<img src=x\\>");
        assert_eq!(markdown("abcdef", 3), "abc…");
    }
}
