//! Token expiry: the RTC token (issued + 24 h), the message chat token (now + expire), the DUIX
//! JWT `exp`, the AUI bearer.
//!
//! Where the target has `/__admin/clock` (the mocks), the case pins or moves the target's clock
//! and puts it back afterwards; otherwise it uses a short expiry and real time, or is skipped with
//! the reason when neither works (the AUI bearer lives 7 days). This suite runs alone, after all
//! the others, since the embedded mocks share one clock.

use super::case::{broken, ensure, expect, skip, CaseResult, Failure, SuiteRun};
use super::client::{now_ms, truncate, Alibaba, AuiRequest, Auth, Duix, Http};
use super::suites::{alibaba, aui, duix};
use super::target::Platform;
use super::Ctx;
use mocks::clock::MAX_NOW_MS;
use serde_json::{json, Value};
use std::time::Duration;

/// Slack for "equals now + ttl" without a pinned clock: the two clocks may disagree this much.
const SKEW_SECS: i64 = 60;

pub async fn run(ctx: &Ctx, run: &mut SuiteRun) {
    let clock = ctx.target.has_clock.then(|| TargetClock {
        http: run.http(),
        url: ctx.url().to_string(),
        ctx: ctx.clone(),
    });
    match ctx.platform() {
        Platform::Alibaba => alibaba_expiry(ctx, run, clock.as_ref()).await,
        Platform::Aui => aui_expiry(ctx, run, clock.as_ref()).await,
        Platform::Duix => duix_expiry(ctx, run, clock.as_ref()).await,
    }
    if let Some(clock) = &clock {
        let _ = clock.set(json!({"offset_ms": 0})).await;
    }
}

/// The target's `/__admin/clock`. Every change also moves the clients' idea of the target's now.
pub struct TargetClock {
    http: Http,
    url: String,
    ctx: Ctx,
}

impl TargetClock {
    /// Posts a change (`now_ms`, `advance_ms` or `offset_ms`) and answers the new now, in ms.
    pub async fn set(&self, change: Value) -> Result<i64, Failure> {
        let response = self
            .http
            .client()
            .post(format!("{}/__admin/clock", self.url))
            .json(&change)
            .send()
            .await;
        let body: Value = match response {
            Ok(r) if r.status().is_success() => r.json().await.unwrap_or(Value::Null),
            Ok(r) => {
                return Err(broken(
                    "POST /__admin/clock to succeed",
                    format!("HTTP {}", r.status()),
                ))
            }
            Err(e) => return Err(broken("POST /__admin/clock to succeed", e.to_string())),
        };
        let now = answered_now(&body)?;
        self.ctx.clock.set(now - now_ms());
        Ok(now)
    }

    /// Pins the target's now to a whole second near real time; answers it in seconds.
    pub async fn pin(&self) -> Result<i64, Failure> {
        let second = now_ms().div_euclid(1000);
        self.set(json!({"now_ms": second * 1000}))
            .await
            .map(|ms| ms.div_euclid(1000))
    }
}

/// The target's now from its `/__admin/clock` answer: `now_ms`, within what a clock can show
/// (`0..=MAX_NOW_MS`, as the mocks clamp it). Any other value is the target's fault, and taking it
/// would overflow the clock offset every later request is dated with.
pub fn answered_now(body: &Value) -> Result<i64, Failure> {
    body["now_ms"]
        .as_i64()
        .filter(|now| (0..=MAX_NOW_MS).contains(now))
        .ok_or_else(|| {
            broken(
                format!("a clock with now_ms in 0..={MAX_NOW_MS}"),
                truncate(&body.to_string(), 200),
            )
        })
}

/// `got` must be `issued + ttl`, where `issued` is within `[from, to]` (seconds).
fn at_ttl(what: &str, got: Option<i64>, from: i64, to: i64, ttl: i64) -> CaseResult {
    let got = got.ok_or_else(|| broken(format!("{what} as unix seconds"), "none"))?;
    let (low, high) = (from + ttl, to + ttl);
    ensure(
        (low..=high).contains(&got),
        format!("{what} = issue time + {ttl} s, in [{low}, {high}]"),
        format!("{what} {got}"),
    )
}

/// The window the target's "now" was in during a request: pinned (exact) or real time ± skew.
async fn window<F, Fut, T>(
    clock: Option<&TargetClock>,
    request: F,
) -> Result<(T, i64, i64), Failure>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let from = match clock {
        Some(clock) => clock.pin().await?,
        None => now_ms().div_euclid(1000) - SKEW_SECS,
    };
    let answer = request().await;
    let to = now_ms().div_euclid(1000) + if clock.is_some() { 1 } else { SKEW_SECS };
    Ok((answer, from, to))
}

async fn alibaba_expiry(ctx: &Ctx, run: &mut SuiteRun, clock: Option<&TargetClock>) {
    let ab = alibaba::client(ctx, run);
    run.case(
        "GenerateMessageChatToken: TimeStamp is now + Expire (1800 s)",
        async {
            let (reply, from, to) = window(clock, || {
                ab.call(
                    "GenerateMessageChatToken",
                    &[
                        ("AIAgentId", "agent_x"),
                        ("UserId", "user_1"),
                        ("Expire", "1800"),
                    ],
                )
            })
            .await?;
            let body = alibaba::ok("GenerateMessageChatToken").verify(&reply)?;
            at_ttl("TimeStamp", body["TimeStamp"].as_i64(), from, to, 1800)
        },
    )
    .await;
    run.case(
        "GenerateAIAgentCall: the caller's RTC token expires at now + Expire (900 s)",
        call_token(&ab, clock),
    )
    .await;
}

async fn call_token(ab: &Alibaba, clock: Option<&TargetClock>) -> CaseResult {
    let (reply, from, to) = window(clock, || {
        ab.call(
            "GenerateAIAgentCall",
            &[
                ("AIAgentId", "agent_x"),
                ("UserId", "user_1"),
                ("Expire", "900"),
            ],
        )
    })
    .await?;
    let body = alibaba::ok("GenerateAIAgentCall").verify(&reply)?.clone();
    let claims = protocol::aui::decode_claims(body["Token"].as_str().unwrap_or_default())
        .map_err(|e| broken("Token to be an ARTC token", e.to_string()))?;
    at_ttl(
        "the token's timestamp",
        Some(claims.timestamp),
        from,
        to,
        900,
    )?;
    if let Some(instance) = body["InstanceId"].as_str() {
        ab.call("StopAIAgentInstance", &[("InstanceId", instance)])
            .await;
    }
    Ok(())
}

async fn aui_expiry(ctx: &Ctx, run: &mut SuiteRun, clock: Option<&TargetClock>) {
    let auth = &ctx.creds.aui_auth;
    let login = aui::client(ctx, run).await;
    let client = login.clone().ok();
    if auth.login().is_some() {
        run.case(
            "login with the configured user succeeds (needed by every expiry case)",
            async { login.map(drop) },
        )
        .await;
    }
    let Some(client) = client else { return };
    aui::case_on(
        ctx,
        run,
        &[aui::GET_RTC_AUTH_TOKEN],
        "getRtcAuthToken: the token is signed by the app and expires 24 h after issue",
        rtc_token(ctx, &client, clock),
    )
    .await;
    aui::case_on(
        ctx,
        run,
        &[aui::GENERATE_MESSAGE_CHAT_TOKEN],
        "generateMessageChatToken: timestamp is now + expire (1800 s)",
        async {
            let body = json!({"ai_agent_id": "agent_x", "user_id": aui::user(), "expire": 1800});
            let (reply, from, to) = window(clock, || {
                client.post(aui::GENERATE_MESSAGE_CHAT_TOKEN, &body)
            })
            .await?;
            let body = aui::ok(aui::GENERATE_MESSAGE_CHAT_TOKEN).verify(&reply)?;
            at_ttl("timestamp", body["timestamp"].as_i64(), from, to, 1800)
        },
    )
    .await;
    let sentence = "the bearer token is accepted until its expire and refused (403) after it";
    match auth.login() {
        Some(login) if login.is_ours() => {
            let case = bearer(ctx, run.http(), clock);
            aui::case_on(ctx, run, &[aui::GET_RTC_AUTH_TOKEN], sentence, case).await;
        }
        _ => {
            let why = format!(
                "--aui-auth {}: the expire it reads is that of agentproof's own login",
                auth.describe()
            );
            run.skip(sentence, why);
        }
    }
}

async fn rtc_token(
    ctx: &Ctx,
    client: &crate::check::client::Aui,
    clock: Option<&TargetClock>,
) -> CaseResult {
    let body = json!({"user_id": aui::user(), "channel_id": super::suites::unique("ch")});
    let (reply, from, to) = window(clock, || client.post(aui::GET_RTC_AUTH_TOKEN, &body)).await?;
    let answer = aui::ok(aui::GET_RTC_AUTH_TOKEN).verify(&reply)?;
    let ttl = protocol::aui::CLIENT_TOKEN_TTL_SECS;
    at_ttl("timestamp", answer["timestamp"].as_i64(), from, to, ttl)?;
    let token = answer["rtc_auth_token"].as_str().unwrap_or_default();
    let app = &ctx.creds.aui_app;
    let timestamp = answer["timestamp"].as_i64().unwrap_or_default();
    protocol::aui::verify_rtc_token(token, Some(&app.id), &app.secret, timestamp - 1).map_err(
        |e| {
            broken(
                format!("a token of app {} valid until its timestamp", app.id),
                e.to_string(),
            )
        },
    )?;
    match protocol::aui::verify_rtc_token(token, Some(&app.id), &app.secret, timestamp) {
        Err(protocol::aui::RtcTokenError::Expired { .. }) => Ok(()),
        other => Err(broken(
            "the token to be expired at its timestamp",
            format!("{other:?}"),
        )),
    }
}

async fn bearer(ctx: &Ctx, http: Http, clock: Option<&TargetClock>) -> CaseResult {
    let Some(clock) = clock else {
        return Err(skip(
            "the bearer token lives for days and the target has no /__admin/clock to move",
        ));
    };
    let auth = std::sync::Arc::new(ctx.creds.aui_auth.clone());
    let mut client = crate::check::client::Aui::new(http, ctx.url(), &auth);
    let Some(login) = client.login(&ctx.creds.aui_user).await else {
        return Err(skip("no login to expire"));
    };
    let expire = expect()
        .status(200)
        .schema("aui/login.response")
        .verify(&login)?["expire"]
        .as_i64()
        .unwrap_or_default();
    let expire_secs = if expire > 100_000_000_000 {
        expire / 1000
    } else {
        expire
    };
    let request = AuiRequest {
        path: aui::GET_RTC_AUTH_TOKEN,
        body: br#"{"user_id":"expiry_probe"}"#.to_vec(),
        auth: Auth::Configured,
    };
    let probe = || client.send(&request);
    aui::ok(aui::GET_RTC_AUTH_TOKEN).verify(&probe().await)?;
    clock
        .set(json!({"now_ms": (expire_secs - 5) * 1000}))
        .await?;
    let before = probe().await;
    clock
        .set(json!({"now_ms": (expire_secs + 1) * 1000}))
        .await?;
    let after = probe().await;
    clock.set(json!({"offset_ms": 0})).await?;
    aui::ok(aui::GET_RTC_AUTH_TOKEN)
        .verify(&before)
        .map_err(|f| f.with_detail("5 s before expire"))?;
    aui::refuses_auth(&after, &[403, 401]).map_err(|f| f.with_detail("1 s after expire"))
}

async fn duix_expiry(ctx: &Ctx, run: &mut SuiteRun, clock: Option<&TargetClock>) {
    let client = duix::client(ctx, run);
    run.case(
        "a DUIX token is accepted by checkSig until exp and refused with 1006 after it",
        jwt_exp(&client, clock, None),
    )
    .await;
    let path = format!("{}getconcurrentNumber", crate::check::client::V1);
    run.case(
        "a management call accepts the token until exp and refuses it with 1006 after it",
        jwt_exp(&client, clock, Some(path)),
    )
    .await;
}

/// Signs a token living `ttl` s, uses it, lets it expire (clock or waiting), uses it again.
async fn jwt_exp(
    client: &Duix,
    clock: Option<&TargetClock>,
    management: Option<String>,
) -> CaseResult {
    let ttl = if clock.is_some() { 60 } else { 2 };
    let token = client.token(ttl);
    let call = |token: String| {
        let management = management.clone();
        async move {
            match management {
                Some(path) => {
                    let query = vec![("appId".to_string(), client.app.id.clone())];
                    client
                        .send(&crate::check::client::DuixRequest {
                            path,
                            query,
                            token: crate::check::client::Token::Raw(token),
                        })
                        .await
                }
                None => client.check_sig(&token).await,
            }
        }
    };
    let fresh = call(token.clone()).await;
    match clock {
        Some(clock) => {
            clock.set(json!({"advance_ms": (ttl + 1) * 1000})).await?;
        }
        None => tokio::time::sleep(Duration::from_secs(u64::try_from(ttl).unwrap_or(2) + 1)).await,
    }
    let stale = call(token).await;
    if let Some(clock) = clock {
        clock.set(json!({"offset_ms": 0})).await?;
    }
    expect()
        .status(200)
        .verify(&fresh)
        .map_err(|f| f.with_detail("before exp"))?;
    duix::error(401, "1006")
        .verify(&stale)
        .map(drop)
        .map_err(|f| f.with_detail("after exp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_answer_outside_what_a_clock_shows_is_refused_not_taken() {
        assert_eq!(answered_now(&json!({"now_ms": 5})), Ok(5));
        assert_eq!(answered_now(&json!({"now_ms": MAX_NOW_MS})), Ok(MAX_NOW_MS));
        // i64::MIN - now_ms() overflowed the offset (a panic in test builds).
        for bad in [
            json!({"now_ms": i64::MIN}),
            json!({"now_ms": -1}),
            json!({"now_ms": MAX_NOW_MS + 1}),
            json!({"now_ms": "5"}),
            json!({}),
        ] {
            assert!(answered_now(&bad).is_err(), "{bad}");
        }
    }
}
