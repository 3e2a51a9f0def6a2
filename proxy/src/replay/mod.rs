//! `agentproof replay`: a recording's requests sent again to a target, one at a time in the
//! order they arrived, and each answer compared with the recorded one in what a client relies
//! on ([`compare`]). The split: [`send`] makes each request again for the target (credentials
//! afresh, [`ids`] mapped), this file runs them and gathers the [`Parity`], [`report`] renders
//! it (HTML with both answers side by side, JSON).
//!
//! A difference is listed once, however many exchanges show it: its route and aspects are its
//! identity, with the count and the first exchanges' numbers.

pub mod compare;
pub mod ids;
pub mod report;
pub mod send;

use crate::exchange::{now_ms, Answer, Exchange, Fixture, FixtureAnswer, Request};
use crate::forward::{self, UpstreamClient};
use crate::judge::{read_answer, Envelope, Judge};
use crate::platform::Platform;
use bytes::Bytes;
use compare::{Aspect, Seen};
use http_body_util::{BodyExt, Full, Limited};
use ids::IdMap;
use send::Outgoing;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Exchanges named per difference (the count says how many there were).
const NAMED: usize = 10;

/// What replay signs and logs in with. No `Debug`: it holds secrets.
#[derive(Clone)]
pub struct Credentials {
    /// Alibaba AccessKey `(id, secret)`.
    pub alibaba_key: (String, String),
    /// AUI login `(user, password)`.
    pub aui_user: (String, String),
    /// How the AUI target authenticates (`--aui-auth`): our login (redone), a given bearer,
    /// fixed headers, or nothing.
    pub aui_auth: protocol::request::aui::auth::AuiAuth,
    /// DUIX app `(id, key)`.
    pub duix_app: (String, String),
    /// The bearer a vendor webhook wants, if any.
    pub webhook_bearer: Option<String>,
}

/// What to replay where.
pub struct Plan {
    /// The recording, in order of arrival.
    pub fixtures: Vec<Fixture>,
    /// The target of each platform.
    pub targets: BTreeMap<Platform, String>,
    /// Credentials for the targets.
    pub credentials: Credentials,
    /// Per request.
    pub timeout: Duration,
}

/// One difference, listed once.
#[derive(Clone, Debug, Serialize)]
pub struct Difference {
    /// The route it shows on.
    pub route: String,
    /// How the answers differ.
    pub aspects: Vec<Aspect>,
    /// How many exchanges show it.
    pub count: u64,
    /// The first exchanges' `seq`.
    pub seqs: Vec<u64>,
    /// The first such exchange as recorded (scrubbed).
    pub recorded: Fixture,
    /// What the target answered to it (scrubbed).
    pub replayed: Fixture,
}

/// A replay's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Parity {
    /// When it started, RFC 3339.
    pub started_at: String,
    /// How long it took.
    pub duration_ms: u64,
    /// Each platform's target.
    pub targets: BTreeMap<String, String>,
    /// Fixtures in the recording.
    pub fixtures: usize,
    /// Requests sent again.
    pub replayed: usize,
    /// Fixtures not replayed, and why (no target for the platform).
    pub skipped: Vec<(u64, String)>,
    /// Every difference, once each, in order of first appearance.
    pub differences: Vec<Difference>,
}

impl Parity {
    /// 0 when no difference, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.differences.is_empty())
    }
}

/// Replays `plan`.
pub async fn replay(plan: &Plan) -> Parity {
    let started = Instant::now();
    let client = forward::client();
    let judge = Judge::default();
    let mut state = State::default();
    let mut parity = Parity {
        started_at: crate::exchange::rfc3339_ms(now_ms()),
        duration_ms: 0,
        targets: plan
            .targets
            .iter()
            .map(|(p, url)| (p.name().to_string(), url.clone()))
            .collect(),
        fixtures: plan.fixtures.len(),
        replayed: 0,
        skipped: Vec::new(),
        differences: Vec::new(),
    };
    let mut index: BTreeMap<(String, Vec<Aspect>), usize> = BTreeMap::new();
    for fixture in &plan.fixtures {
        let Some(target) = plan.targets.get(&fixture.platform) else {
            let why = format!("no target for {}", fixture.platform);
            parity.skipped.push((fixture.seq, why));
            continue;
        };
        let outgoing = state.outgoing(fixture, plan, target, &client).await;
        let exchange = exchange_of(
            fixture,
            &outgoing,
            send(&client, target, &outgoing, plan.timeout).await,
        );
        parity.replayed += 1;
        let recorded = recorded_seen(fixture);
        let replayed = replayed_seen(&judge, &exchange);
        state.learn(fixture, &recorded, &replayed, &plan.credentials);
        let aspects = compare::differences(&recorded, &replayed);
        if aspects.is_empty() {
            continue;
        }
        let key = (fixture.route.clone(), aspects.clone());
        match index.get(&key) {
            Some(&at) => {
                let difference = &mut parity.differences[at];
                difference.count += 1;
                if difference.seqs.len() < NAMED {
                    difference.seqs.push(fixture.seq);
                }
            }
            None => {
                index.insert(key, parity.differences.len());
                let verdict = judge.judge(&exchange).for_fixture();
                parity.differences.push(Difference {
                    route: fixture.route.clone(),
                    aspects,
                    count: 1,
                    seqs: vec![fixture.seq],
                    recorded: fixture.clone(),
                    replayed: exchange.fixture(
                        &fixture.route,
                        verdict,
                        &plan.credentials.secrets(),
                    ),
                });
            }
        }
    }
    parity.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    parity
}

impl Credentials {
    /// The secrets, masked in what replay shows.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = vec![
            self.alibaba_key.1.clone(),
            self.aui_user.1.clone(),
            self.duix_app.1.clone(),
        ];
        secrets.extend(self.webhook_bearer.clone());
        secrets.extend(self.aui_auth.secrets());
        secrets
    }
}

/// What replay carries from one exchange to the next.
#[derive(Default)]
struct State {
    ids: IdMap,
    /// The AUI session's bearer token.
    bearer: Option<String>,
}

impl State {
    async fn outgoing(
        &mut self,
        fixture: &Fixture,
        plan: &Plan,
        target: &str,
        client: &UpstreamClient,
    ) -> Outgoing {
        let creds = &plan.credentials;
        match fixture.platform {
            Platform::Alibaba => send::alibaba(fixture, &self.ids, creds, target, now_ms()),
            Platform::Aui => {
                let needs_session = fixture.request.path != protocol::request::aui::LOGIN
                    && fixture
                        .request
                        .headers
                        .iter()
                        .any(|(n, _)| n == "authorization");
                if needs_session && self.bearer.is_none() && creds.aui_auth.login().is_some() {
                    self.bearer = login(client, target, creds, plan.timeout).await;
                }
                send::aui(fixture, &self.ids, self.bearer.as_deref(), creds)
            }
            Platform::Duix => send::duix(fixture, &self.ids, creds, now_ms().div_euclid(1000)),
            Platform::Webhook => send::webhook(fixture, &self.ids, creds),
        }
    }

    /// Ids from the two answers; the bearer of a replayed login.
    fn learn(
        &mut self,
        fixture: &Fixture,
        recorded: &Seen,
        replayed: &Seen,
        credentials: &Credentials,
    ) {
        if let (Some(a), Some(b)) = (&recorded.json, &replayed.json) {
            self.ids.capture(a, b);
        }
        let Some(login) = credentials.aui_auth.login() else {
            return;
        };
        let is_login = fixture.platform == Platform::Aui && fixture.request.path == login.path;
        if is_login && replayed.status == 200 {
            if let Some(token) = replayed.json.as_ref().and_then(|j| login.token(j)) {
                self.bearer = Some(token.to_string());
            }
        }
    }
}

/// Logs in with the replay's user when the recording began after the app's login.
async fn login(
    client: &UpstreamClient,
    target: &str,
    creds: &Credentials,
    timeout: Duration,
) -> Option<String> {
    let (user, password) = &creds.aui_user;
    let login = creds.aui_auth.login()?;
    let request = login.request(&creds.aui_auth, user, password);
    let outgoing = Outgoing {
        method: request.method.to_string(),
        path_and_query: request.path_and_query,
        headers: request.headers,
        body: request.body,
    };
    let answer = send(client, target, &outgoing, timeout).await.ok()?;
    let json = answer.json()?;
    login.token(&json).map(str::to_string)
}

/// Sends one request to `target` (its path prefix kept) and reads the answer whole.
async fn send(
    client: &UpstreamClient,
    target: &str,
    outgoing: &Outgoing,
    timeout: Duration,
) -> Result<Answer, String> {
    let uri = format!(
        "{}{}",
        target.trim_end_matches('/'),
        outgoing.path_and_query
    );
    let mut request = hyper::Request::new(Full::new(Bytes::from(outgoing.body.clone())));
    *request.method_mut() =
        hyper::Method::from_bytes(outgoing.method.as_bytes()).map_err(|e| e.to_string())?;
    *request.uri_mut() = uri
        .parse()
        .map_err(|e: hyper::http::uri::InvalidUri| e.to_string())?;
    let headers = request.headers_mut();
    for (name, value) in &outgoing.headers {
        let name =
            hyper::header::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        let value = hyper::header::HeaderValue::from_str(value).map_err(|e| e.to_string())?;
        headers.append(name, value);
    }
    let exchange = async {
        let response = client.request(request).await.map_err(|e| e.to_string())?;
        let (head, body) = response.into_parts();
        let body = Limited::new(body, forward::MAX_JUDGED_BODY)
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok(Answer {
            status: head.status.as_u16(),
            headers: forward::end_to_end(&head.headers),
            body,
            truncated: false,
        })
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(answer) => answer,
        Err(_) => Err(format!("timed out after {} ms", timeout.as_millis())),
    }
}

/// The replayed exchange, in the proxy's model, for judging and showing.
fn exchange_of(fixture: &Fixture, outgoing: &Outgoing, answer: Result<Answer, String>) -> Exchange {
    Exchange {
        seq: fixture.seq,
        platform: fixture.platform,
        started_at_ms: now_ms(),
        request: Request {
            method: outgoing.method.clone(),
            path_and_query: outgoing.path_and_query.clone(),
            headers: header_map(&outgoing.headers),
            body: Bytes::from(outgoing.body.clone()),
        },
        answer,
        elapsed: Duration::ZERO,
    }
}

/// A recorded answer in the proxy's model (its scrubbed bytes).
pub fn recorded_answer(answer: &FixtureAnswer) -> Answer {
    Answer {
        status: answer.status,
        headers: header_map(&answer.headers),
        body: Bytes::from(answer.body.bytes()),
        truncated: answer.body.truncated,
    }
}

/// Recorded `[name, value]` pairs as a header map (pairs that are no header left out).
fn header_map(pairs: &[(String, String)]) -> hyper::HeaderMap {
    let mut headers = hyper::HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    headers
}

fn code_word(envelope: &Envelope) -> String {
    match envelope {
        Envelope::Success => "success".into(),
        Envelope::Error { code } => code.clone(),
        Envelope::Unreadable(_) => "not the platform's envelope".into(),
    }
}

fn recorded_seen(fixture: &Fixture) -> Seen {
    let Some(answer) = &fixture.answer else {
        return Seen {
            failure: Some(fixture.failure.clone().unwrap_or_default()),
            ..Seen::default()
        };
    };
    let read = read_answer(fixture.platform, &recorded_answer(answer));
    let schema = match (&fixture.verdict.schema, fixture.verdict.schema_ok) {
        (Some(name), Some(ok)) => Some((name.clone(), ok)),
        _ => None,
    };
    Seen {
        failure: None,
        status: answer.status,
        code: code_word(&read.envelope),
        json: read.json.or_else(|| answer.body.json()),
        schema,
    }
}

fn replayed_seen(judge: &Judge, exchange: &Exchange) -> Seen {
    let answer = match &exchange.answer {
        Ok(answer) => answer,
        Err(why) => {
            return Seen {
                failure: Some(why.clone()),
                ..Seen::default()
            }
        }
    };
    let read = read_answer(exchange.platform, answer);
    let verdict = judge.judge(exchange);
    Seen {
        failure: None,
        status: answer.status,
        code: code_word(&read.envelope),
        json: read.json.or_else(|| answer.json()),
        schema: verdict.answer_schema,
    }
}
