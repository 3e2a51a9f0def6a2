//! The gateway: the transport request parsed once into an [`ApiRequest`], then the checks of
//! PROTOCOLS.md §2 in the gateway's order.
//!
//! Order: request shape (encodings, duplicates) → AccessKey exists → signature method/version
//! → timestamp format → timestamp skew → signature → nonce unused → throttling → Version →
//! Action → `Format`. Parameter checks follow in the action handlers.
//!
//! Decisions the public docs leave open, made here:
//! - a key given twice (twice in the query, or in both query and body) is `InvalidParameter`
//!   naming the key: the SDKs' V1 merge would silently keep one, and which one differs by SDK;
//! - a gateway header (`authorization`, `x-acs-*`) given twice is `InvalidParameter` naming it;
//! - a V1 request without `Signature` is `IncompleteSignature`; without `AccessKeyId`,
//!   `SignatureNonce` or `Timestamp` it is `Missing{Name}`;
//! - a V3 `x-acs-content-sha256` that is not the body's hash is `SignatureDoesNotMatch`;
//! - a `SignatureNonce` over [`MAX_NONCE_BYTES`] is `InvalidParameter` naming it;
//! - the nonce is recorded only once the signature has been verified, so forged requests cannot
//!   burn other callers' nonces; nonces are global, as the gateway's are ("全网31分钟内不重复").

use super::actions::{Action, Params, Product};
use super::envelope::{Failure, Format};
use super::Alibaba;
use axum::body::Bytes;
use axum::http::{header, HeaderMap, Method, Uri};
use protocol::alibaba::encoding::parse_query;
use protocol::alibaba::timestamp::{parse_utc, within_skew};
use protocol::alibaba::{v1, v3, ApiError};
use std::collections::BTreeMap;

/// Headers the gateway reads; each may appear once.
const SINGLE_HEADERS: [&str; 7] = [
    "authorization",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
    "content-type",
];

/// Longest `SignatureNonce` accepted. The SDKs send 32 to 36 characters; without a cap the
/// nonce store's memory (capacity × nonce length) would grow with a 1 MiB nonce per request.
pub const MAX_NONCE_BYTES: usize = 256;

/// One request as the gateway sees it: decoded, and nothing of hyper left.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: String,
    /// URI path as sent (signed as is by V3).
    pub path: String,
    /// Decoded query pairs in request order.
    pub query: Vec<(String, String)>,
    /// Decoded form (or JSON) body pairs.
    pub form: Vec<(String, String)>,
    /// Header names lowercase; values as text.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// A request that passed the gateway.
#[derive(Debug, Clone)]
pub struct Admitted {
    pub action: Action,
    pub params: Params,
    pub access_key_id: String,
}

/// What a signature check yields: who signed, and the nonce to record.
struct Identity {
    access_key_id: String,
    nonce: String,
    version: Option<String>,
    action: Option<String>,
}

impl ApiRequest {
    /// Decodes the query, the headers and a form or JSON body; any encoding fault is a 400.
    pub fn parse(
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Self, ApiError> {
        let query = parse_query(uri.query().unwrap_or(""))
            .map_err(|e| ApiError::invalid_parameter("QueryString", &e.to_string()))?;
        let headers = decode_headers(headers)?;
        let mut request = ApiRequest {
            method: method.as_str().to_string(),
            path: uri.path().to_string(),
            query,
            form: Vec::new(),
            headers,
            body,
        };
        request.form = request.body_params()?;
        Ok(request)
    }

    /// The value of a header that may appear at most once.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The API version, as V3 (header) or V1 (param) sends it, for `HostId` before admission.
    pub fn product_hint(&self) -> Option<Product> {
        let version = self.header("x-acs-version").or_else(|| {
            self.query
                .iter()
                .chain(&self.form)
                .find(|(k, _)| k == "Version")
                .map(|(_, v)| v.as_str())
        });
        version.and_then(Product::from_version)
    }

    /// `Format` from the query or the body.
    pub fn format(&self) -> Format {
        let value = self
            .query
            .iter()
            .chain(&self.form)
            .find(|(k, _)| k == "Format");
        Format::from_param(value.map(|(_, v)| v.as_str()))
    }

    fn body_params(&self) -> Result<Vec<(String, String)>, ApiError> {
        if self.body.is_empty() {
            return Ok(Vec::new());
        }
        let content_type = self
            .header("content-type")
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("application/json") {
            return json_body_params(&self.body);
        }
        let is_form = content_type.is_empty()
            || content_type.starts_with("application/x-www-form-urlencoded");
        if !is_form {
            return Ok(Vec::new());
        }
        let text = std::str::from_utf8(&self.body)
            .map_err(|e| ApiError::invalid_parameter("Body", &format!("is not UTF-8 ({e})")))?;
        parse_query(text).map_err(|e| ApiError::invalid_parameter("Body", &e.to_string()))
    }

    /// Query and body merged; a key given twice is refused.
    fn params(&self) -> Result<Params, ApiError> {
        let mut map = BTreeMap::new();
        for (key, value) in self.query.iter().chain(&self.form) {
            if map.insert(key.clone(), value.clone()).is_some() {
                return Err(ApiError::invalid_parameter(key, "given more than once"));
            }
        }
        Ok(Params::new(map))
    }
}

fn decode_headers(headers: &HeaderMap) -> Result<Vec<(String, String)>, ApiError> {
    for name in SINGLE_HEADERS {
        if headers.get_all(name).iter().count() > 1 {
            return Err(ApiError::invalid_parameter(
                name,
                "header given more than once",
            ));
        }
    }
    let mut out = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        let name = name.as_str();
        let text = match std::str::from_utf8(value.as_bytes()) {
            Ok(text) => text.to_string(),
            Err(_) if name.starts_with("x-acs-") || SINGLE_HEADERS.contains(&name) => {
                return Err(ApiError::invalid_parameter(name, "header is not UTF-8"));
            }
            // Headers the gateway does not read may carry anything; only a signed one matters.
            Err(_) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
        };
        out.push((name.to_string(), text));
    }
    Ok(out)
}

/// A JSON object body as params: strings as they are, other values as JSON text.
fn json_body_params(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_parameter("Body", &format!("is not valid JSON ({e})")))?;
    let serde_json::Value::Object(map) = value else {
        return Err(ApiError::invalid_parameter("Body", "must be a JSON object"));
    };
    Ok(map
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect())
}

/// Runs every gateway check in order.
pub fn admit(ab: &Alibaba, request: &ApiRequest, now_ms: i64) -> Result<Admitted, Failure> {
    let params = request.params()?;
    let identity = match request.header(header::AUTHORIZATION.as_str()) {
        Some(authorization) => check_v3(ab, request, authorization, now_ms)?,
        None => check_v1(ab, request, &params, now_ms)?,
    };
    if identity.nonce.len() > MAX_NONCE_BYTES {
        let detail = format!("must be at most {MAX_NONCE_BYTES} bytes");
        return Err(ApiError::invalid_parameter("SignatureNonce", &detail).into());
    }
    if !ab.record_nonce(&identity.nonce, now_ms) {
        return Err(ApiError::signature_nonce_used().into());
    }
    if let Err(wait) = ab.throttle(&identity.access_key_id, now_ms) {
        return Err(Failure {
            error: ApiError::throttling_user(),
            retry_after_secs: Some(wait),
        });
    }
    let action = resolve_action(identity.version.as_deref(), identity.action.as_deref())?;
    if let Some(format) = params.get("Format") {
        if !format.eq_ignore_ascii_case("json") && !format.eq_ignore_ascii_case("xml") {
            return Err(ApiError::invalid_parameter_format().into());
        }
    }
    Ok(Admitted {
        action,
        params,
        access_key_id: identity.access_key_id,
    })
}

fn resolve_action(version: Option<&str>, action: Option<&str>) -> Result<Action, ApiError> {
    let version = version
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("Version"))?;
    let product = Product::from_version(version).ok_or_else(ApiError::invalid_version)?;
    let name = action
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("Action"))?;
    Action::from_name(name)
        .filter(|a| a.product() == product)
        .ok_or_else(ApiError::invalid_action_not_found)
}

fn check_v1(
    ab: &Alibaba,
    request: &ApiRequest,
    params: &Params,
    now_ms: i64,
) -> Result<Identity, ApiError> {
    let access_key_id = params.required("AccessKeyId")?;
    let secret = ab
        .secret_of(access_key_id)
        .ok_or_else(ApiError::invalid_access_key_not_found)?;
    expect_value(params, "SignatureMethod", v1::SIGNATURE_METHOD)?;
    expect_value(params, "SignatureVersion", v1::SIGNATURE_VERSION)?;
    check_time(params.required("Timestamp")?, now_ms)?;
    let signature = params
        .get(v1::SIGNATURE_PARAM)
        .ok_or_else(|| incomplete("the Signature parameter is missing"))?;
    let signed: Vec<(String, String)> =
        request.query.iter().chain(&request.form).cloned().collect();
    v1::verify(&request.method, &signed, secret, signature)
        .map_err(|m| ApiError::signature_does_not_match(Some(&m.string_to_sign)))?;
    Ok(Identity {
        access_key_id: access_key_id.to_string(),
        nonce: params.required("SignatureNonce")?.to_string(),
        version: params.get("Version").map(str::to_string),
        action: params.get("Action").map(str::to_string),
    })
}

fn expect_value(params: &Params, name: &str, expected: &str) -> Result<(), ApiError> {
    match params.optional(name) {
        None => Err(ApiError::missing_parameter(name)),
        Some(v) if v == expected => Ok(()),
        Some(_) => Err(ApiError::invalid_signature_method()),
    }
}

fn check_time(value: &str, now_ms: i64) -> Result<(), ApiError> {
    let at = parse_utc(value).map_err(|_| ApiError::invalid_timestamp_format())?;
    if within_skew(at, now_ms) {
        Ok(())
    } else {
        Err(ApiError::invalid_timestamp_expired())
    }
}

fn incomplete(detail: &str) -> ApiError {
    let base = ApiError::incomplete_signature();
    let message = format!("{} ({detail})", base.message);
    ApiError { message, ..base }
}

fn check_v3(
    ab: &Alibaba,
    request: &ApiRequest,
    authorization: &str,
    now_ms: i64,
) -> Result<Identity, ApiError> {
    let auth = v3::parse_authorization(authorization).map_err(|e| match e {
        v3::AuthorizationError::WrongAlgorithm { .. } => ApiError::invalid_signature_method(),
        v3::AuthorizationError::MissingPart(part) => {
            incomplete(&format!("Authorization has no {part}"))
        }
    })?;
    let secret = ab
        .secret_of(&auth.access_key_id)
        .ok_or_else(ApiError::invalid_access_key_not_found)?;
    if let Some(header) = v3::missing_required_signed(&auth) {
        return Err(incomplete(&format!("header {header} must be signed")));
    }
    let unsent = |name: &str| incomplete(&format!("signed header {name} is missing"));
    check_time(
        request
            .header("x-acs-date")
            .ok_or_else(|| unsent("x-acs-date"))?,
        now_ms,
    )?;
    let declared = request
        .header("x-acs-content-sha256")
        .ok_or_else(|| unsent("x-acs-content-sha256"))?;
    if declared != v3::hash_payload(&request.body) {
        let base = ApiError::signature_does_not_match(None);
        let message = format!(
            "{} x-acs-content-sha256 is not the SHA-256 of the body.",
            base.message
        );
        return Err(ApiError { message, ..base });
    }
    verify_v3(request, &auth, secret, declared)?;
    let nonce = request
        .header("x-acs-signature-nonce")
        .ok_or_else(|| unsent("x-acs-signature-nonce"))?;
    // Signed but empty: one shared "" nonce would refuse every such request after the first.
    if nonce.is_empty() {
        return Err(ApiError::missing_parameter("SignatureNonce"));
    }
    Ok(Identity {
        access_key_id: auth.access_key_id.clone(),
        nonce: nonce.to_string(),
        version: request.header("x-acs-version").map(str::to_string),
        action: request.header("x-acs-action").map(str::to_string),
    })
}

/// Verifies with today's canonical query, then with the old Python util's form
/// ([`v3::verify_request`]).
fn verify_v3(
    request: &ApiRequest,
    auth: &v3::Authorization,
    secret: &str,
    hash: &str,
) -> Result<(), ApiError> {
    let received = v3::Received {
        method: &request.method,
        path: &request.path,
        params: &request.query,
        headers: &request.headers,
        payload_hash: hash,
    };
    v3::verify_request(&received, auth, secret).map_err(|e| match e {
        v3::RequestSignatureError::MissingSignedHeader(e) => {
            incomplete(&format!("signed header {} is missing", e.name))
        }
        v3::RequestSignatureError::Mismatch => ApiError::signature_does_not_match(None),
    })
}
