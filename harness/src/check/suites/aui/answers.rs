//! How an AUI answer is judged: success against the route's schema, refusals of bad input and
//! of credentials, upstream failures, with the official sample's forms of each where seed 001
//! allows them (docs/src/check-aui.md decides each).

use crate::check::case::{broken, ensure, expect, CaseResult, Expect};
use crate::check::client::Reply;
use serde_json::Value;

/// The schema name of a route's success body, e.g. `aui/getRtcAuthToken.response`.
pub fn response_schema(path: &str) -> String {
    format!("aui/{}.response", path.rsplit('/').next().unwrap_or(path))
}

/// Success: HTTP 200 and the route's response schema.
pub fn ok(path: &str) -> Expect {
    expect().status(200).schema(response_schema(path))
}

/// The target refused with the AUI error envelope and one of `codes`: HTTP status equal to the
/// code, or 200 as the Java server sends; never a 5xx. Where `codes` holds 400 (invalid input),
/// the sample's two forms of it count: `{code:500, msg}` (validation) and `{code:401,
/// message:"参数错误"}` (Result.invalidParam); they count for nothing else (a code 401 of
/// invalidParam is no auth refusal).
pub fn rejects(reply: &Reply, codes: &[u16]) -> CaseResult {
    let wanted = codes
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join("/");
    let expected =
        format!("the AUI error envelope with code {wanted}, HTTP status the same or 200");
    if reply.failure.is_some() || reply.status >= 500 {
        return Err(broken(expected, reply.describe()));
    }
    crate::check::case::check_schema("aui/error", reply)?;
    let code = reply.field("code").and_then(Value::as_u64).unwrap_or(0);
    let code_ok = match sample_invalid_input(reply) {
        true => codes.contains(&400),
        false => codes.iter().any(|c| u64::from(*c) == code),
    };
    let status_ok = reply.status == 200 || u64::from(reply.status) == code;
    ensure(code_ok && status_ok, expected, reply.describe())
}

/// The target refused the credentials: HTTP 401 or 403 (one of `codes`) with any body, since
/// the refusal comes from whatever stands in front of the app (Spring Security's error JSON in the
/// sample's family, a gateway's page), or the AUI error envelope with that code ([`rejects`]).
pub fn refuses_auth(reply: &Reply, codes: &[u16]) -> CaseResult {
    if reply.failure.is_none() && codes.contains(&reply.status) {
        return Ok(());
    }
    rejects(reply, codes)
}

/// The sample's refusals of invalid input: `{code:500, msg}` from ValidatorUtils (its key `msg`
/// tells it from a server failure) and Result.invalidParam's `{code:401, message:"参数错误"}`.
fn sample_invalid_input(reply: &Reply) -> bool {
    let code = reply.field("code").and_then(Value::as_u64);
    let validation = code == Some(500) && reply.field("msg").is_some_and(Value::is_string);
    let invalid_param = code == Some(401) && reply.str("message") == Some(INVALID_PARAM);
    validation || invalid_param
}

/// Result.invalidParam()'s message.
pub const INVALID_PARAM: &str = "参数错误";

/// Result.error()'s message.
pub const SERVER_ERROR: &str = "服务器异常，请稍后重试";

/// An upstream failure answered as `expected` says (our server: the status as code, the
/// `error_code`), or as the sample answers one that is no Alibaba error: `{code:500, message}`
/// with HTTP 200, Result.error()'s text or (describeAIAgentInstance, generateMessageChatToken)
/// the exception's, there beside an empty `error_code` and `request_id`.
pub fn upstream_failure(reply: &Reply, expected: &Expect) -> CaseResult {
    let Err(failure) = expected.verify(reply) else {
        return Ok(());
    };
    let message = reply.str("message").is_some_and(|m| !m.is_empty());
    let result_error = reply.failure.is_none()
        && reply.status == 200
        && reply.field("code").and_then(Value::as_u64) == Some(500)
        && message;
    match result_error {
        true => Ok(()),
        false => Err(failure),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::target::Platform;
    use serde_json::json;
    use std::time::Duration;

    fn reply(status: u16, body: Value) -> Reply {
        let bytes = body.to_string().into_bytes();
        Reply::answer(Platform::Aui, "r", status, &bytes, Duration::ZERO)
    }

    #[test]
    fn the_samples_forms_of_invalid_input_count_as_400_and_for_nothing_else() {
        let validation = reply(200, json!({"code": 500, "msg": "用户id不能为空<br>"}));
        let invalid_param = reply(200, json!({"code": 401, "message": INVALID_PARAM}));
        let ours = reply(400, json!({"code": 400, "message": "user_id is required"}));
        for answer in [&validation, &invalid_param, &ours] {
            assert_eq!(rejects(answer, &[400]), Ok(()), "{}", answer.body);
        }
        assert!(
            rejects(&invalid_param, &[401, 403]).is_err(),
            "not an auth refusal"
        );
        let server_error = reply(200, json!({"code": 500, "message": SERVER_ERROR}));
        assert!(
            rejects(&server_error, &[400]).is_err(),
            "a server error is no refusal of bad input"
        );
        let wrong_status = reply(500, json!({"code": 500, "msg": "x"}));
        assert!(rejects(&wrong_status, &[400]).is_err(), "never a 5xx");
    }

    #[test]
    fn an_upstream_failure_may_be_the_samples_result_error() {
        let expected = expect()
            .status(502)
            .code("502")
            .error_code("UpstreamUnavailable")
            .schema("aui/error");
        let ours = reply(
            502,
            json!({"code": 502, "message": "down", "error_code": "UpstreamUnavailable"}),
        );
        let sample = reply(200, json!({"code": 500, "message": SERVER_ERROR}));
        let describe = reply(
            200,
            json!({"code": 500, "message": "Read timed out", "error_code": "", "request_id": ""}),
        );
        assert_eq!(upstream_failure(&ours, &expected), Ok(()));
        assert_eq!(upstream_failure(&sample, &expected), Ok(()));
        assert_eq!(upstream_failure(&describe, &expected), Ok(()));
        let silent = reply(200, json!({"code": 500, "message": ""}));
        assert!(upstream_failure(&silent, &expected).is_err());
        let success = reply(200, json!({"code": 200, "status": "Executing"}));
        assert!(upstream_failure(&success, &expected).is_err());
        let wrong_code = reply(200, json!({"code": 404, "message": "未查询到"}));
        assert!(upstream_failure(&wrong_code, &expected).is_err());
    }
}
