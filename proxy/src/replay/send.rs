//! A recorded request made again for the target: ids the recording captured mapped to the
//! target's, credentials made afresh (an Alibaba call signed with a fresh nonce and date, the
//! AUI session's bearer, a fresh DUIX token), and a request the recording shows refused for its
//! credentials sent with credentials the target refuses too (its scrubbed `***`, a wrong
//! signature, an unknown AccessKey), so that the refusal is what is compared.

use super::ids::IdMap;
use super::Credentials;
use crate::exchange::{Body, Fixture};
use crate::judge::{alibaba as alibaba_judge, read_answer, Envelope};
use crate::platform::Platform;
use mocks::alibaba::gateway::ApiRequest;
use protocol::alibaba::timestamp::format_utc;
use protocol::request::alibaba::{self as alibaba_request, Call};

/// A request ready to send.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path_and_query: String,
    /// Headers (lowercase names); `host` is set from the target.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// Headers never sent again as recorded: the transport's, and the credentials made afresh.
const NOT_REPLAYED: [&str; 6] = [
    "host",
    "content-length",
    "authorization",
    "token",
    "x-acs-date",
    "x-acs-signature-nonce",
];

/// What the recorded answer says of the request's credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The credentials were accepted (or the request failed for another reason).
    None,
    /// Refused for its signature or token: sent with credentials the target refuses too.
    Credentials,
    /// Alibaba: refused for an AccessKey the upstream does not know.
    UnknownKey,
}

/// How the recorded answer refused the request's credentials, if it did.
pub fn refusal(fixture: &Fixture) -> Refusal {
    let Some(answer) = &fixture.answer else {
        return Refusal::None;
    };
    let read = read_answer(fixture.platform, &super::recorded_answer(answer));
    let code = match &read.envelope {
        Envelope::Error { code } => code.as_str(),
        _ => "",
    };
    match fixture.platform {
        Platform::Alibaba => match code {
            "InvalidAccessKeyId.NotFound" => Refusal::UnknownKey,
            "SignatureDoesNotMatch" | "IncompleteSignature" => Refusal::Credentials,
            _ => Refusal::None,
        },
        Platform::Duix => match code {
            "1005" | "1006" | "40001" => Refusal::Credentials,
            _ => Refusal::None,
        },
        Platform::Aui | Platform::Webhook => match answer.status {
            401 | 403 => Refusal::Credentials,
            _ => Refusal::None,
        },
    }
}

/// The recorded request, as recorded, less the headers made afresh, with ids mapped.
fn as_recorded(fixture: &Fixture, ids: &IdMap) -> Outgoing {
    let query = ids.apply(&fixture.request.query);
    let path = ids.apply(&fixture.request.path);
    let path_and_query = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    let body = mapped_body(&fixture.request.body, ids);
    Outgoing {
        method: fixture.request.method.clone(),
        path_and_query,
        headers: fixture
            .request
            .headers
            .iter()
            .filter(|(name, _)| !NOT_REPLAYED.contains(&name.as_str()))
            .cloned()
            .collect(),
        body,
    }
}

fn mapped_body(body: &Body, ids: &IdMap) -> Vec<u8> {
    if body.base64 {
        body.bytes()
    } else {
        ids.apply(&body.text).into_bytes()
    }
}

/// The recorded header value, when the request carried it.
fn recorded_header<'a>(fixture: &'a Fixture, name: &str) -> Option<&'a str> {
    fixture
        .request
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// AUI: authenticated as `--aui-auth` says (the session's bearer of a redone login, a given
/// bearer, fixed headers), or, refused in the recording, with the scrubbed values it recorded;
/// the login with our user.
pub fn aui(fixture: &Fixture, ids: &IdMap, bearer: Option<&str>, creds: &Credentials) -> Outgoing {
    let mut out = as_recorded(fixture, ids);
    let refused = refusal(fixture) == Refusal::Credentials;
    let auth = &creds.aui_auth;
    if let Some(login) = auth
        .login()
        .filter(|l| fixture.request.path == l.path && !refused)
    {
        let (user, password) = &creds.aui_user;
        out.body = login.request(auth, user, password).body;
    }
    if refused {
        if let Some(recorded) = recorded_header(fixture, "authorization") {
            out.headers
                .push(("authorization".into(), recorded.to_string()));
        }
        return out;
    }
    // The auth's own headers replace what the recording scrubbed.
    let ours = auth.headers(bearer);
    out.headers
        .retain(|(name, _)| !ours.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)));
    let sent_authorization = recorded_header(fixture, "authorization").is_some();
    for (name, value) in ours {
        // Under our login, only requests that carried a bearer when recorded carry one again.
        if name == "authorization" && auth.login().is_some() && !sent_authorization {
            continue;
        }
        out.headers.push((name, value));
    }
    out
}

/// DUIX: a fresh token of our app in the `token` header and checkSig's `sig` (or, refused, the
/// scrubbed one), and our app's id as `appId`.
pub fn duix(fixture: &Fixture, ids: &IdMap, creds: &Credentials, now_secs: i64) -> Outgoing {
    let mut out = as_recorded(fixture, ids);
    let refused = refusal(fixture) == Refusal::Credentials;
    let (app_id, key) = &creds.duix_app;
    let token = protocol::duix::sign_token(app_id, key, now_secs, now_secs + 1800);
    if let Some(recorded) = recorded_header(fixture, "token") {
        let value = if refused {
            recorded.to_string()
        } else {
            token.clone()
        };
        out.headers.push(("token".into(), value));
    }
    if !refused {
        let (path, query) = out
            .path_and_query
            .split_once('?')
            .map_or((out.path_and_query.clone(), String::new()), |(p, q)| {
                (p.to_string(), q.to_string())
            });
        let query: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some(("sig", _)) => format!("sig={token}"),
                Some(("appId", _)) => format!("appId={}", encode(app_id)),
                _ => pair.to_string(),
            })
            .collect();
        out.path_and_query = if query.is_empty() {
            path
        } else {
            format!("{path}?{}", query.join("&"))
        };
    }
    out
}

/// The webhook: as recorded, with `--webhook-bearer` where it carried one.
pub fn webhook(fixture: &Fixture, ids: &IdMap, creds: &Credentials) -> Outgoing {
    let mut out = as_recorded(fixture, ids);
    if let Some(recorded) = recorded_header(fixture, "authorization") {
        let value = match (&creds.webhook_bearer, refusal(fixture)) {
            (Some(bearer), Refusal::None) => format!("Bearer {bearer}"),
            _ => recorded.to_string(),
        };
        out.headers.push(("authorization".into(), value));
    }
    out
}

/// Alibaba: the call signed again as it was signed (V3 or V1), with our key, a fresh nonce and
/// now's date, for the target's host; a request refused for its signature is signed with a
/// wrong secret, one refused for its key with a key nobody has.
pub fn alibaba(
    fixture: &Fixture,
    ids: &IdMap,
    creds: &Credentials,
    target: &str,
    now_ms: i64,
) -> Outgoing {
    let recorded = as_recorded(fixture, ids);
    let Some(api) = parse(&recorded) else {
        return recorded;
    };
    let v3 = recorded_header(fixture, "authorization").is_some();
    let Some(action) = action(&api, v3) else {
        return recorded;
    };
    let version = if v3 {
        api.header("x-acs-version").map(str::to_string)
    } else {
        alibaba_judge::param(&api, "Version").map(str::to_string)
    }
    .unwrap_or_else(|| alibaba_request::api_version(&action).to_string());
    let (key_id, secret) = match refusal(fixture) {
        Refusal::None => creds.alibaba_key.clone(),
        Refusal::Credentials => (creds.alibaba_key.0.clone(), "not-the-secret".to_string()),
        Refusal::UnknownKey => ("LTAI5tReplayUnknownKey".into(), creds.alibaba_key.1.clone()),
    };
    let params: Vec<(String, String)> = api
        .query
        .iter()
        .chain(&api.form)
        .filter(|(k, _)| v3 || !V1_COMMON.contains(&k.as_str()))
        .cloned()
        .collect();
    let host = alibaba_request::host_of(target);
    let date = format_utc(now_ms);
    let nonce = alibaba_request::fresh_nonce();
    let call = Call {
        method: if recorded.method == "GET" {
            "GET"
        } else {
            "POST"
        },
        host: &host,
        action: &action,
        version: &version,
        params: &params,
        access_key_id: &key_id,
        secret: &secret,
        date: &date,
        nonce: &nonce,
    };
    let signed = if v3 {
        alibaba_request::signed(call)
    } else {
        alibaba_request::signed_v1(call)
    };
    Outgoing {
        method: signed.method.to_string(),
        path_and_query: signed.path_and_query,
        headers: signed.headers,
        body: signed.body,
    }
}

/// The V1 common parameters, made afresh by the signer.
const V1_COMMON: [&str; 9] = [
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "Signature",
];

fn parse(out: &Outgoing) -> Option<ApiRequest> {
    let method = hyper::Method::from_bytes(out.method.as_bytes()).ok()?;
    let uri: hyper::Uri = out.path_and_query.parse().ok()?;
    let mut headers = hyper::HeaderMap::new();
    for (name, value) in &out.headers {
        let name = hyper::header::HeaderName::from_bytes(name.as_bytes()).ok()?;
        headers.append(name, value.parse().ok()?);
    }
    ApiRequest::parse(&method, &uri, &headers, out.body.clone().into()).ok()
}

fn action(api: &ApiRequest, v3: bool) -> Option<String> {
    if v3 {
        api.header("x-acs-action").map(str::to_string)
    } else {
        alibaba_judge::param(api, "Action").map(str::to_string)
    }
}

fn encode(text: &str) -> String {
    protocol::alibaba::encoding::percent_encode(text)
}

#[cfg(test)]
mod aui_auth_tests {
    use super::*;
    use protocol::request::aui::auth::AuiAuth;

    fn fixture(headers: &[(&str, &str)]) -> Fixture {
        serde_json::from_value(serde_json::json!({
            "version": 1,
            "seq": 0,
            "platform": "aui",
            "route": "aui POST /api/v2/aiagent/getRtcAuthToken",
            "started_at": "2026-12-04T00:00:00Z",
            "elapsed_ms": 1.0,
            "request": {
                "method": "POST",
                "path": "/api/v2/aiagent/getRtcAuthToken",
                "query": "",
                "headers": headers,
                "body": {"text": "{\"user_id\":\"u\"}"}
            },
            "answer": {"status": 200, "headers": [], "body": {"text": "{}"}}
        }))
        .expect("a fixture")
    }

    fn creds(auth: &[&str]) -> Credentials {
        Credentials {
            alibaba_key: ("k".into(), "s".into()),
            aui_user: ("demo".into(), "demo".into()),
            aui_auth: AuiAuth::parse(auth).unwrap(),
            duix_app: ("a".into(), "k".into()),
            webhook_bearer: None,
        }
    }

    fn header<'a>(out: &'a Outgoing, name: &str) -> Option<&'a str> {
        out.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_replay_authenticates_as_aui_auth_says_not_as_the_recording_was_scrubbed() {
        let recorded = fixture(&[("x-gw-key", "***"), ("authorization", "***")]);
        let ids = IdMap::default();
        let gateway = aui(&recorded, &ids, None, &creds(&["header:X-Gw-Key:k3y"]));
        assert_eq!(header(&gateway, "x-gw-key"), Some("k3y"));
        assert_eq!(
            header(&gateway, "authorization"),
            None,
            "none sends no bearer"
        );
        let bearer = aui(&recorded, &ids, None, &creds(&["bearer:t0k"]));
        assert_eq!(header(&bearer, "authorization"), Some("Bearer t0k"));
        let login = aui(&recorded, &ids, Some("fresh"), &creds(&["login"]));
        assert_eq!(header(&login, "authorization"), Some("Bearer fresh"));
    }
}
