//! `http.request`: any HTTP request, for what no platform operation covers (a health check,
//! the team's own API beside the platform's). It does the least an operation can: the whole
//! answer read and timed, the status checked, and the body against a contract (`schema`) or
//! as any JSON (`schema = "json"`) when asked; `expect` adds codes and JSON pointers.
//! The `http-get` built-in runs it against a bare server to measure the load generator itself.

use crate::exchange::{send_paced, Failure, ANY_BODY, ANY_JSON};
use crate::ops::{self, Call};
use protocol::request::HttpRequest;
use serde_json::{Map, Value};

/// The row of the `http-get` built-in.
pub const ROUTE: &str = "http GET /";

/// `http.request` with its fields: method, url, headers, body, schema, status.
pub(crate) async fn request(
    c: &mut Call<'_>,
    fields: Map<String, Value>,
) -> Result<Value, Failure> {
    let method = match ops::field(&fields, "method").to_ascii_uppercase().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        other => {
            return Err(ops::custom(format!(
                "http.request: method {other:?}: GET, POST, PUT, PATCH, DELETE or HEAD"
            )))
        }
    };
    let url = ops::field(&fields, "url");
    let base = match url.starts_with("http://") || url.starts_with("https://") {
        true => url,
        false => format!(
            "{}{url}",
            c.plan
                .target("http")
                .map_err(ops::custom)?
                .trim_end_matches('/')
        ),
    };
    let mut headers: Vec<(String, String)> = match fields.get("headers") {
        Some(Value::Object(h)) => h
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), ops::text(v)))
            .collect(),
        _ => Vec::new(),
    };
    let body = match fields.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text)) => text.clone().into_bytes(),
        Some(json) => {
            if !headers.iter().any(|(k, _)| k == "content-type") {
                headers.push(("content-type".into(), "application/json".into()));
            }
            json.to_string().into_bytes()
        }
    };
    // The step's row is set when the file is compiled, from the URL as written.
    let row = c.route.unwrap_or(ROUTE).to_string();
    let request = HttpRequest {
        method,
        path_and_query: String::new(),
        headers,
        body,
        route: row,
    };
    let status = ops::field(&fields, "status").parse::<u16>().unwrap_or(200);
    let schema_name = ops::field(&fields, "schema");
    let schema: &'static str = match schema_name.as_str() {
        "" => ANY_BODY,
        "json" => ANY_JSON,
        name => schemas::registry()
            .get(name)
            .map(|s| s.name())
            .ok_or_else(|| {
                ops::custom(format!(
                    "http.request: no schema {name:?} (agentproof schemas lists them)"
                ))
            })?,
    };
    let extra = c.extra;
    let rule = |body: &Value| extra.judge(body, status, |_| Ok(()));
    let expect = extra.expect(status, schema, &rule);
    send_paced(c.user, c.plan, &base, request, &expect, c.pace).await
}
