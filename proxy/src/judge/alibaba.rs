//! Alibaba Cloud OpenAPI exchanges: the action from the V3 `x-acs-action` header or the V1
//! `Action` parameter; the parameters (query and form body, as the mock's gateway parses them)
//! as the `alibaba/<Action>.request` schema sees them (JSON-string parameters decoded, numbers
//! converted, as the schema's property types say); errors are `{Code, Message, ...}` with the
//! status of [`protocol::alibaba::errors::CATALOGUE`]; with the key, the signature re-verified.

use super::{code_text, fail, Envelope, Finding, Operation, ReadAnswer};
use crate::exchange::{Answer, Request};
use mocks::alibaba::gateway::ApiRequest;
use protocol::alibaba::errors::catalogued_statuses;
use protocol::alibaba::{v1, v3};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The request decoded as the gateway decodes it, or why it cannot be.
pub fn parse(request: &Request) -> Result<ApiRequest, String> {
    let method = hyper::Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
    let uri: hyper::Uri = request
        .path_and_query
        .parse()
        .map_err(|e: hyper::http::uri::InvalidUri| e.to_string())?;
    ApiRequest::parse(&method, &uri, &request.headers, request.body.clone()).map_err(|e| e.message)
}

/// The action a request names: `x-acs-action` when V3-signed, else the `Action` parameter.
pub fn action_of(api: &ApiRequest) -> Option<String> {
    if api.header("authorization").is_some() {
        return api.header("x-acs-action").map(str::to_string);
    }
    param(api, "Action")
        .or_else(|| api.header("x-acs-action"))
        .map(str::to_string)
}

/// The first value of a parameter in the query or the form body.
pub fn param<'a>(api: &'a ApiRequest, name: &str) -> Option<&'a str> {
    api.query
        .iter()
        .chain(&api.form)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The route template and schemas of an Alibaba request. An action without a schema is
/// `alibaba unknown` (routes are a small set: they key histograms).
pub fn operation(request: &Request) -> Operation {
    let api = match parse(request) {
        Ok(api) => api,
        Err(why) => {
            return Operation {
                route: "alibaba unknown".into(),
                request: None,
                success_schema: None,
            }
            .with_unreadable(why)
        }
    };
    let action = action_of(&api).filter(|a| {
        schemas::registry()
            .get(&format!("alibaba/{a}.request"))
            .is_some()
    });
    let Some(action) = action else {
        return Operation {
            route: "alibaba unknown".into(),
            request: None,
            success_schema: None,
        };
    };
    let schema = format!("alibaba/{action}.request");
    let document = Ok(document(&schema, &api));
    Operation {
        route: protocol::request::alibaba::route(&action),
        request: Some((schema, document)),
        success_schema: Some(format!("alibaba/{action}.response")),
    }
}

impl Operation {
    fn with_unreadable(mut self, why: String) -> Operation {
        self.request = Some(("alibaba/common".into(), Err(why)));
        self
    }
}

/// The parameters as one JSON object, each converted to the type its schema property has.
pub fn document(schema: &str, api: &ApiRequest) -> Value {
    let types = PARAM_TYPES.get(schema);
    let mut object = Map::new();
    for (key, value) in api.query.iter().chain(&api.form) {
        if object.contains_key(key) {
            continue;
        }
        let kind = types.and_then(|t| t.get(key)).map(String::as_str);
        object.insert(key.clone(), typed(value, kind));
    }
    Value::Object(object)
}

fn typed(value: &str, kind: Option<&str>) -> Value {
    let parsed = match kind {
        Some("integer") => value.parse::<i64>().ok().map(Value::from),
        Some("number") => value.parse::<f64>().ok().map(Value::from),
        Some("boolean") => value.parse::<bool>().ok().map(Value::from),
        Some("object" | "array") => serde_json::from_str(value).ok(),
        _ => None,
    };
    parsed.unwrap_or_else(|| Value::String(value.to_string()))
}

/// For each `alibaba/<Action>.request` schema, each top-level property's JSON type, through one
/// `$ref` into `alibaba/common` when it has no type of its own.
static PARAM_TYPES: LazyLock<BTreeMap<String, BTreeMap<String, String>>> = LazyLock::new(|| {
    let registry = schemas::registry();
    let common = registry
        .get("alibaba/common")
        .map(schemas::Schema::document);
    registry
        .schemas()
        .filter(|s| s.name().starts_with("alibaba/") && s.name().ends_with(".request"))
        .map(|schema| {
            let properties = schema
                .document()
                .get("properties")
                .and_then(Value::as_object);
            let types = properties
                .into_iter()
                .flatten()
                .filter_map(|(name, property)| {
                    let kind = type_of(property, common)?;
                    Some((name.clone(), kind))
                })
                .collect();
            (schema.name().to_string(), types)
        })
        .collect()
});

fn type_of(property: &Value, common: Option<&Value>) -> Option<String> {
    if let Some(kind) = property.get("type").and_then(Value::as_str) {
        return Some(kind.to_string());
    }
    let reference = property.get("$ref")?.as_str()?;
    let name = reference.strip_prefix("common.schema.json#/$defs/")?;
    let target = common?.get("$defs")?.get(name)?;
    target
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// `{Code, ...}` is an error; any other JSON object a success. `Format=XML` answers are read
/// for their `<Code>` only (there is no XML schema).
pub fn read_answer(answer: &Answer) -> ReadAnswer {
    let json = answer.json();
    let envelope = match &json {
        Some(Value::Object(map)) => match map.get("Code").and_then(code_text) {
            Some(code) => Envelope::Error { code },
            None => Envelope::Success,
        },
        Some(_) => Envelope::Unreadable("a JSON body that is not an object".into()),
        None if answer.body.starts_with(b"<") => match xml_code(&answer.body) {
            Some(code) => Envelope::Error { code },
            None => Envelope::Success,
        },
        None => Envelope::Unreadable(format!(
            "a body that is not JSON ({} bytes, content-type {:?})",
            answer.body.len(),
            answer.content_type()
        )),
    };
    ReadAnswer { envelope, json }
}

fn xml_code(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = text[start..].find("</Code>")? + start;
    Some(text[start..end].to_string())
}

/// Whether the gateway catalogue knows `code`.
pub fn is_catalogued(code: &str) -> bool {
    catalogued_statuses(code).is_some()
}

/// The statuses `code` comes with; empty when unknown (the `code` rule says so).
pub fn statuses(code: &str) -> Vec<u16> {
    catalogued_statuses(code)
        .map(<[u16]>::to_vec)
        .unwrap_or_default()
}

/// Codes that refuse a request for its signature or key.
const SIGNATURE_REFUSALS: [&str; 3] = [
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidAccessKeyId.NotFound",
];

/// Who signed a request and with which scheme: `(access key id, is V3)`.
pub fn signer(api: &ApiRequest) -> Option<(String, bool)> {
    match api.header("authorization") {
        Some(authorization) => v3::parse_authorization(authorization)
            .ok()
            .map(|auth| (auth.access_key_id, true)),
        None => param(api, "AccessKeyId").map(|id| (id.to_string(), false)),
    }
}

/// Whether the request's signature verifies with `secret` (V3: the body hash too).
pub fn signature_holds(api: &ApiRequest, secret: &str) -> bool {
    match api.header("authorization") {
        Some(authorization) => {
            let Ok(auth) = v3::parse_authorization(authorization) else {
                return false;
            };
            let Some(hash) = api.header("x-acs-content-sha256") else {
                return false;
            };
            if hash != v3::hash_payload(&api.body) {
                return false;
            }
            let received = v3::Received {
                method: &api.method,
                path: &api.path,
                params: &api.query,
                headers: &api.headers,
                payload_hash: hash,
            };
            v3::verify_request(&received, &auth, secret).is_ok()
        }
        None => {
            let Some(signature) = param(api, v1::SIGNATURE_PARAM) else {
                return false;
            };
            let signed: Vec<(String, String)> =
                api.query.iter().chain(&api.form).cloned().collect();
            v1::verify(&api.method, &signed, secret, signature).is_ok()
        }
    }
}

/// The `signature` rule: with the key, a request signed with it is re-verified; a wrong
/// signature must have been refused, a right one must not have been refused for its signature.
pub fn signature(
    request: &Request,
    key: Option<&(String, String)>,
    envelope: &Envelope,
) -> Finding {
    let Some((key_id, secret)) = key else {
        return Finding::Skip;
    };
    let Ok(api) = parse(request) else {
        return Finding::Skip;
    };
    match signer(&api) {
        Some((id, _)) if id == *key_id => {}
        _ => return Finding::Skip,
    }
    let holds = signature_holds(&api, secret);
    match (holds, envelope) {
        (false, Envelope::Success) => fail("a wrong signature refused", "accepted"),
        (true, Envelope::Error { code }) if SIGNATURE_REFUSALS.contains(&code.as_str()) => {
            fail("a right signature accepted", format!("refused with {code}"))
        }
        _ => Finding::Pass,
    }
}

/// How a request goes upstream when the proxy stands at another host than the upstream: a V3
/// request that signed `host` is signed again for the upstream's host when its signature
/// verifies with the proxy's key; one that does not verify goes as it came (wrong stays wrong);
/// one signed with another key, or with no key given, keeps the client's `Host`.
pub fn resign(
    request: &Request,
    client_host: &str,
    upstream_host: &str,
    key: Option<&(String, String)>,
) -> crate::forward::Resign {
    use crate::forward::Resign;
    let Some(authorization) = request.header("authorization") else {
        return Resign::NotNeeded;
    };
    let Ok(auth) = v3::parse_authorization(authorization) else {
        return Resign::NotNeeded;
    };
    let signs_host = auth
        .signed_headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("host"));
    if !signs_host || client_host.eq_ignore_ascii_case(upstream_host) {
        return Resign::NotNeeded;
    }
    let Some((_, secret)) = key.filter(|(id, _)| *id == auth.access_key_id) else {
        return Resign::KeepClientHost;
    };
    let Ok(api) = parse(request) else {
        return Resign::KeepClientHost;
    };
    if !signature_holds(&api, secret) {
        return Resign::NotNeeded;
    }
    let received = v3::Received {
        method: &api.method,
        path: &api.path,
        params: &api.query,
        headers: &api.headers,
        payload_hash: api.header("x-acs-content-sha256").unwrap_or_default(),
    };
    match v3::resign_for_host(&received, &auth, upstream_host, secret) {
        Ok(authorization) => Resign::Done(authorization),
        Err(_) => Resign::KeepClientHost,
    }
}
