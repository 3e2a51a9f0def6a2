//! Rendering answers the way the gateway does: JSON by default, XML when `Format=XML`.
//!
//! Errors are `{RequestId, HostId, Code, Message, Recommend}` (XML: `<Error>…</Error>`) with the
//! error's HTTP status and, for throttling, an `x-acs-retry-after` header. The content types are
//! the ones tea-openapi compares byte for byte: it parses an error as XML only when the
//! content type is exactly `text/xml;charset=utf-8`.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use protocol::alibaba::ApiError;
use serde_json::{json, Map, Value};

const JSON_TYPE: &str = "application/json;charset=utf-8";
const XML_TYPE: &str = "text/xml;charset=utf-8";

/// Which body format the caller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Json,
    Xml,
}

impl Format {
    /// XML when `value` is `xml` in any case, JSON otherwise.
    pub fn from_param(value: Option<&str>) -> Self {
        match value {
            Some(v) if v.eq_ignore_ascii_case("xml") => Format::Xml,
            _ => Format::Json,
        }
    }

    /// Reads `Format` from a raw query without failing on broken encodings (errors about the
    /// query itself must still be rendered in the format asked for).
    pub fn from_raw_query(query: Option<&str>) -> Self {
        let value = query.unwrap_or("").split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == "Format").then_some(value)
        });
        Format::from_param(value)
    }
}

/// A refusal: the gateway error, plus the wait for throttling errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub error: ApiError,
    /// Seconds, sent as `x-acs-retry-after`.
    pub retry_after_secs: Option<u64>,
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure {
            error,
            retry_after_secs: None,
        }
    }
}

/// Where an error happened: what goes in `RequestId`, `HostId` and `Recommend`.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub request_id: &'a str,
    pub host_id: &'a str,
    /// `rtc`, `ice`, or empty when the product is not known yet.
    pub product: &'a str,
    pub format: Format,
}

/// The error envelope with its status and headers.
pub fn error(failure: &Failure, origin: &Origin<'_>) -> Response {
    let e = &failure.error;
    let mut recommend = format!(
        "https://api.aliyun.com/troubleshoot?q={}&requestId={}",
        e.code, origin.request_id
    );
    if !origin.product.is_empty() {
        recommend.push_str(&format!("&product={}", origin.product));
    }
    let body = json!({
        "RequestId": origin.request_id,
        "HostId": origin.host_id,
        "Code": e.code,
        "Message": e.message,
        "Recommend": recommend,
    });
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = render(status, "Error", &body, origin.format);
    if let Some(wait) = failure.retry_after_secs {
        response
            .headers_mut()
            .insert("x-acs-retry-after", HeaderValue::from(wait));
    }
    response
}

/// A 200 answer; `root` names the XML root element (e.g. `StartAgentResponse`).
pub fn success(root: &str, body: &Value, format: Format) -> Response {
    render(StatusCode::OK, root, body, format)
}

fn render(status: StatusCode, root: &str, body: &Value, format: Format) -> Response {
    let (content_type, text) = match format {
        Format::Json => (JSON_TYPE, body.to_string()),
        Format::Xml => (XML_TYPE, to_xml(root, body)),
    };
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `<?xml…?><root>…</root>`: object fields become elements, arrays repeat their element.
pub fn to_xml(root: &str, value: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    element(&mut out, root, value);
    out
}

fn element(out: &mut String, name: &str, value: &Value) {
    let name = &element_name(name);
    match value {
        Value::Array(items) => items.iter().for_each(|item| element(out, name, item)),
        Value::Object(fields) => {
            out.push_str(&format!("<{name}>"));
            children(out, fields);
            out.push_str(&format!("</{name}>"));
        }
        Value::Null => out.push_str(&format!("<{name}/>")),
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", escape(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

fn children(out: &mut String, fields: &Map<String, Value>) {
    for (key, value) in fields {
        element(out, key, value);
    }
}

/// Keys come from callers' JSON (RuntimeConfig, UserData…): anything that is not a safe XML name
/// character becomes `_`, and a name may not start with a digit, `-` or `.`.
fn element_name(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert(0, '_');
    }
    name
}

/// Escapes the five XML special characters, and drops characters XML 1.0 cannot carry.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_is_xml_only_for_xml_in_any_case() {
        assert_eq!(Format::from_raw_query(Some("a=1&Format=xMl")), Format::Xml);
        assert_eq!(Format::from_raw_query(Some("Format=JSON")), Format::Json);
        assert_eq!(Format::from_raw_query(Some("%zz&Format=XML")), Format::Xml);
        assert_eq!(Format::from_raw_query(None), Format::Json);
    }

    #[test]
    fn xml_escapes_values_and_repeats_arrays() {
        let value = json!({"Code": "A<&>\"'", "Items": [1, 2], "Inner": {"X": null}});
        let xml = to_xml("Error", &value);
        assert!(xml.contains("<Code>A&lt;&amp;&gt;&quot;&apos;</Code>"));
        assert!(xml.contains("<Items>1</Items><Items>2</Items>"));
        assert!(xml.contains("<Inner><X/></Inner>"));
        assert!(xml.ends_with("</Error>"));
        let odd = to_xml("R", &json!({"a b": 1, "1x": 2, "": 3}));
        for part in ["<a_b>1</a_b>", "<_1x>2</_1x>", "<_>3</_>"] {
            assert!(odd.contains(part), "{odd}");
        }
    }
}
