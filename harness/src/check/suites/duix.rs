//! DUIX openapi-v2 and its session WebSocket (DUIX-SESSION.md): contract, error codes, lifecycle.
//!
//! DUIX's HTTP statuses are not documented (only the envelope's `code`); the mock answers errors
//! with a fitting 4xx and the real platform is believed to answer HTTP 200, so both are accepted,
//! never a 5xx.

use crate::check::case::{broken, ensure, expect, skip, CaseResult, Expect, Failure, SuiteRun};
use crate::check::client::{Duix, DuixRequest, Token, CHECK_SIG, V1};
use crate::check::faults::{fault, Faults};
use crate::check::Ctx;
use futures_util::{SinkExt, StreamExt};
use protocol::duix::DuixError;
use serde_json::{json, Value};
use std::time::Instant;
use tokio_tungstenite::tungstenite::Message;

pub const SESSION_WS: &str = "/duix-openapi-v2/ws";
pub const SDK_V2: &str = "/duix-openapi-v2/sdk/v2/";

pub fn client(ctx: &Ctx, run: &SuiteRun) -> Duix {
    Duix {
        http: run.http(),
        url: ctx.url().to_string(),
        app: ctx.creds.duix_app.clone(),
        clock: ctx.clock.clone(),
    }
}

/// Success: HTTP 200 and the endpoint's response schema.
pub fn ok(endpoint: &str) -> Expect {
    expect()
        .status(200)
        .schema(format!("duix/{endpoint}.response"))
}

/// An error: the code, the mock's status or 200, the DUIX error envelope.
pub fn error(status: u16, code: &str) -> Expect {
    expect()
        .status(status)
        .status(200)
        .code(code)
        .schema("duix/error")
}

pub async fn contract(ctx: &Ctx, run: &mut SuiteRun) {
    let duix = client(ctx, run);
    let app = duix.app.id.clone();
    run.case(
        "checkSig with a fresh token answers appId and a ws:// wsService, valid against its schema",
        async {
            ok("checkSig")
                .verify(&duix.check_sig(&duix.token(1800)).await)
                .map(drop)
        },
    )
    .await;
    for prefix in [V1, SDK_V2] {
        for endpoint in ["getconcurrentNumber", "getconcurrentList"] {
            let path = format!("{prefix}{endpoint}");
            let sentence = format!("{path} answers a body valid against duix/{endpoint}.response");
            run.case(sentence, async {
                ok(endpoint)
                    .verify(&duix.get(&path, &[("appId", &app)]).await)
                    .map(drop)
            })
            .await;
        }
    }
    let path = format!("{V1}distroyCallSessionsByAppId");
    run.case(
        "distroyCallSessionsByAppId answers a body valid against its schema",
        async {
            ok("distroyCallSessionsByAppId")
                .verify(&duix.get(&path, &[("appId", &app)]).await)
                .map(drop)
        },
    )
    .await;
}

pub async fn errors(ctx: &Ctx, run: &mut SuiteRun) {
    let duix = client(ctx, run);
    let app = duix.app.id.clone();
    let number = format!("{V1}getconcurrentNumber");
    let now = duix.clock.now_secs();
    let get = |path: &str, query: &[(&str, &str)], token: Token| DuixRequest {
        path: path.to_string(),
        query: query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        token,
    };
    let expired = protocol::duix::sign_token(&app, &duix.app.secret, now - 3600, now - 60);
    let other_key = protocol::duix::sign_token(&app, "not-the-app-key", now, now + 600);
    let cases: Vec<(&str, DuixRequest, Expect)> = vec![
        (
            "checkSig without sig gets 1005",
            get(CHECK_SIG, &[], Token::None),
            error(401, "1005"),
        ),
        (
            "a management call without the token header gets 1005",
            get(&number, &[("appId", &app)], Token::None),
            error(401, "1005"),
        ),
        (
            "a token that is not a JWT gets 1006",
            get(&number, &[("appId", &app)], Token::Raw("not-a-jwt".into())),
            error(401, "1006"),
        ),
        (
            "an expired token gets 1006",
            get(&number, &[("appId", &app)], Token::Raw(expired)),
            error(401, "1006"),
        ),
        (
            "a token signed with another key gets 40001",
            get(&number, &[("appId", &app)], Token::Raw(other_key)),
            error(401, "40001"),
        ),
        (
            "an appId other than the token's gets 40001",
            get(&number, &[("appId", "someone-else")], Token::Good),
            error(401, "40001"),
        ),
        (
            "sessionStop of an unknown session gets 2002",
            get(
                &format!("{V1}sessionStop"),
                &[("uuid", "00000000-0000-0000-0000-000000000000")],
                Token::Good,
            ),
            error(404, "2002"),
        ),
        (
            "getconcurrentNumber without appId gets -1",
            get(&number, &[], Token::Good),
            error(400, "-1"),
        ),
    ];
    for (sentence, request, expectation) in cases {
        run.case(sentence, async {
            expectation.verify(&duix.send(&request).await).map(drop)
        })
        .await;
    }
    run.case(
        "a WebSocket with an expired sig gets error 1006 and bye token-invalid",
        bad_sig_socket(&duix),
    )
    .await;
    run.case(
        "a question before start gets error 2002 on the WebSocket",
        question_before_start(&duix),
    )
    .await;
    run.case(
        "a question for another conversation gets error 1007 on the WebSocket",
        foreign_conversation(&duix),
    )
    .await;
    run.case(
        "starting sessions past the app's quota gets error 1009 on the WebSocket",
        quota(&duix),
    )
    .await;
    run.case(
        "a webhook that cannot be reached gets error 40002 on the WebSocket",
        unreachable_webhook(ctx, &duix),
    )
    .await;
    server_failures(ctx, run, &duix, &number).await;
}

/// `-1` (系统异常) and `40002` (内部错误) as server failures (-1 for malformed requests is checked
/// above): a valid getconcurrentNumber while the target fails it on purpose gets the DUIX error
/// envelope. Only the DUIX suites, which run one after the other, send to that route (see
/// `check::faults`).
async fn server_failures(ctx: &Ctx, run: &mut SuiteRun, duix: &Duix, number: &str) {
    let faults = Faults::of(ctx, run.http());
    for (sentence, failure) in [
        (
            "getconcurrentNumber during a server failure gets -1 (系统异常) in the DUIX error envelope",
            DuixError::SYSTEM_ERROR,
        ),
        (
            "getconcurrentNumber during an internal failure gets 40002 (内部错误) in the DUIX error envelope",
            DuixError::INTERNAL_ERROR,
        ),
    ] {
        let rule = fault(number)
            .answering(500, failure.code)
            .saying(failure.message);
        let expectation = expect()
            .status(500)
            .code(failure.code)
            .schema("duix/error");
        run.case(
            sentence,
            faults.during(rule, async {
                expectation
                    .verify(&duix.get(number, &[("appId", &duix.app.id)]).await)
                    .map(drop)
            }),
        )
        .await;
    }
}

/// One open session WebSocket.
pub struct Socket {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    duix: Duix,
}

/// checkSig with `sig`, then connects to its `wsService`.
pub async fn connect(duix: &Duix, sig: &str) -> Result<Socket, Failure> {
    let reply = duix.check_sig(sig).await;
    let body = ok("checkSig").verify(&reply)?;
    let url = body["data"]["wsService"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    connect_url(duix, &url).await
}

async fn connect_url(duix: &Duix, url: &str) -> Result<Socket, Failure> {
    let started = Instant::now();
    let connected =
        tokio::time::timeout(duix.http.timeout(), tokio_tungstenite::connect_async(url)).await;
    duix.http
        .record(&format!("duix GET {SESSION_WS}"), started.elapsed());
    match connected {
        Ok(Ok((ws, _))) => Ok(Socket {
            ws,
            duix: duix.clone(),
        }),
        Ok(Err(e)) => Err(broken(format!("a WebSocket at {url}"), e.to_string())),
        Err(_) => Err(broken(format!("a WebSocket at {url}"), "timed out")),
    }
}

impl Socket {
    pub async fn send(&mut self, message: Value) -> CaseResult {
        self.ws
            .send(Message::text(message.to_string()))
            .await
            .map_err(|e| broken("the frame to be sent", e.to_string()))
    }

    /// The next JSON message, checked against `duix/ws/<type>`.
    pub async fn recv(&mut self) -> Result<Value, Failure> {
        loop {
            let timeout = self.duix.http.timeout();
            let frame = tokio::time::timeout(timeout, self.ws.next()).await;
            let message = match frame {
                Err(_) => {
                    let within = format!("a message within {} ms", timeout.as_millis());
                    return Err(broken(within, "nothing"));
                }
                Ok(None) => return Err(broken("a message", "the connection closed")),
                Ok(Some(Err(e))) => return Err(broken("a message", e.to_string())),
                Ok(Some(Ok(message))) => message,
            };
            if let Message::Text(text) = message {
                let value: Value = serde_json::from_str(text.as_str())
                    .map_err(|_| broken("a JSON message", text.to_string()))?;
                let kind = value["type"].as_str().unwrap_or_default();
                let schema = format!("duix/ws/{kind}");
                schemas::registry().validate(&schema, &value).map_err(|e| {
                    broken(format!("a message valid against {schema}"), e.to_string())
                })?;
                return Ok(value);
            }
            if let Message::Close(frame) = message {
                return Err(broken("a message", format!("close frame {frame:?}")));
            }
        }
    }

    /// The next message must be of `kind` (and, for `error`, carry `code`).
    pub async fn expect(&mut self, kind: &str, code: Option<&str>) -> Result<Value, Failure> {
        let got = self.recv().await?;
        let code_ok = code.is_none_or(|c| got["code"] == c);
        ensure(
            got["type"] == kind && code_ok,
            format!(
                "a {kind} message{}",
                code.map(|c| format!(" with code {c}")).unwrap_or_default()
            ),
            got.to_string(),
        )?;
        Ok(got)
    }

    /// `start`, expecting `start-complete`; answers the session id.
    pub async fn start(&mut self, conversation: Option<&str>) -> Result<String, Failure> {
        let mut message = json!({"type": "start", "userId": "agentproof"});
        if let Some(conversation) = conversation {
            message["conversationId"] = conversation.into();
        }
        let started = Instant::now();
        self.send(message).await?;
        let done = self.expect("start-complete", None).await?;
        self.duix.http.record("duix WS start", started.elapsed());
        Ok(done["sessionId"].as_str().unwrap_or_default().to_string())
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

async fn bad_sig_socket(duix: &Duix) -> CaseResult {
    let now = duix.clock.now_secs();
    let fresh = duix.token(600);
    let reply = duix.check_sig(&fresh).await;
    let url = ok("checkSig").verify(&reply)?["data"]["wsService"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let expired = protocol::duix::sign_token(&duix.app.id, &duix.app.secret, now - 3600, now - 60);
    let base = url.split("?sig=").next().unwrap_or(&url);
    let mut socket = connect_url(duix, &format!("{base}?sig={expired}")).await?;
    socket.expect("error", Some("1006")).await?;
    let bye = socket.expect("bye", None).await?;
    ensure(
        bye["reason"] == "token-invalid",
        "bye reason token-invalid",
        bye.to_string(),
    )
}

async fn question_before_start(duix: &Duix) -> CaseResult {
    let mut socket = connect(duix, &duix.token(600)).await?;
    socket
        .send(json!({"type": "question", "text": "hello?"}))
        .await?;
    socket.expect("error", Some("2002")).await?;
    socket.close().await;
    Ok(())
}

async fn foreign_conversation(duix: &Duix) -> CaseResult {
    let mut socket = connect(duix, &duix.token(600)).await?;
    socket.start(Some("187265485019156480")).await?;
    socket
        .send(json!({"type": "question", "text": "hi", "conversationId": "another-conversation"}))
        .await?;
    let result = socket.expect("error", Some("1007")).await.map(drop);
    let _ = socket.send(json!({"type": "stop"})).await;
    socket.close().await;
    result
}

/// Opens sessions until one is refused with 1009 (at most 10), then closes them all.
async fn quota(duix: &Duix) -> CaseResult {
    let mut open = Vec::new();
    let mut result = Err(skip(
        "the app's quota is above 10 sessions; not exhausted on purpose",
    ));
    for _ in 0..10 {
        let mut socket = connect(duix, &duix.token(600)).await?;
        socket
            .send(json!({"type": "start", "userId": "agentproof"}))
            .await?;
        let got = socket.recv().await?;
        if got["type"] == "error" {
            result = ensure(
                got["code"] == "1009",
                "error 1009 once the quota is used",
                got.to_string(),
            );
            socket.close().await;
            break;
        }
        ensure(
            got["type"] == "start-complete",
            "start-complete or error 1009",
            got.to_string(),
        )?;
        open.push(socket);
    }
    for mut socket in open {
        let _ = socket.send(json!({"type": "stop"})).await;
        socket.close().await;
    }
    result
}

/// Registers a webhook at a closed port through the mock's `/__duix/webhooks`, then asks.
async fn unreachable_webhook(ctx: &Ctx, duix: &Duix) -> CaseResult {
    let code = super::unique("dh");
    let register = duix
        .http
        .client()
        .post(format!("{}/__duix/webhooks", ctx.url()))
        .json(&json!({"dh_code": code, "url": "http://127.0.0.1:9/unreachable"}))
        .send()
        .await;
    if !register.is_ok_and(|r| r.status().is_success()) {
        return Err(skip(
            "the target has no /__duix/webhooks to point a conversation at an unreachable webhook",
        ));
    }
    let mut socket = connect(duix, &duix.token(600)).await?;
    socket.start(Some(&code)).await?;
    socket
        .send(json!({"type": "question", "text": "anyone there?"}))
        .await?;
    let result = socket.expect("error", Some("40002")).await.map(drop);
    let _ = socket.send(json!({"type": "stop"})).await;
    socket.close().await;
    result
}

pub async fn lifecycle(ctx: &Ctx, run: &mut SuiteRun) {
    let duix = client(ctx, run);
    let mut socket = None;
    let mut session = String::new();
    let mut before = 0;
    run.case(
        "session: WebSocket start answers start-complete; the session is counted and listed",
        async {
            before = concurrent(&duix).await?;
            let mut opened = connect(&duix, &duix.token(1800)).await?;
            session = opened.start(Some("187265485019156480")).await?;
            socket = Some(opened);
            let now = concurrent(&duix).await?;
            ensure(
                now == before + 1,
                format!("userConcurrentNumber {}", before + 1),
                format!("userConcurrentNumber {now}"),
            )?;
            let list = ok("getconcurrentList")
                .verify(
                    &duix
                        .get(
                            &format!("{V1}getconcurrentList"),
                            &[("appId", &duix.app.id)],
                        )
                        .await,
                )?
                .clone();
            ensure(
                list.to_string().contains(&session),
                format!("getconcurrentList listing {session}"),
                list.to_string(),
            )
        },
    )
    .await;
    let Some(mut socket) = socket else {
        run.skip(
            "session: a question gets answer pieces, the last with isEnd true",
            "no session started",
        );
        run.skip(
            "session: sessionStop ends it with bye session-stop and the count drops back",
            "no session started",
        );
        return;
    };
    run.case(
        "session: a question gets answer pieces, the last with isEnd true",
        async {
            let started = Instant::now();
            socket
                .send(json!({"type": "question", "text": "who are you?"}))
                .await?;
            for _ in 0..64 {
                let answer = socket.expect("answer", None).await?;
                if answer["isEnd"] == true {
                    duix.http.record("duix WS question", started.elapsed());
                    return Ok(());
                }
            }
            Err(broken(
                "an answer with isEnd true within 64 pieces",
                "more pieces",
            ))
        },
    )
    .await;
    run.case(
        "session: sessionStop ends it with bye session-stop and the count drops back",
        async {
            ok("sessionStop").verify(
                &duix
                    .get(&format!("{V1}sessionStop"), &[("uuid", &session)])
                    .await,
            )?;
            let bye = socket.expect("bye", None).await?;
            ensure(
                bye["reason"] == "session-stop",
                "bye reason session-stop",
                bye.to_string(),
            )?;
            let now = concurrent(&duix).await?;
            ensure(
                now == before,
                format!("userConcurrentNumber {before}"),
                format!("userConcurrentNumber {now}"),
            )
        },
    )
    .await;
    run.case(
        "session: stop from the client ends it with bye client-stop",
        async {
            let mut socket = connect(&duix, &duix.token(1800)).await?;
            socket.start(Some("187265485019156480")).await?;
            socket.send(json!({"type": "stop"})).await?;
            let bye = socket.expect("bye", None).await?;
            ensure(
                bye["reason"] == "client-stop",
                "bye reason client-stop",
                bye.to_string(),
            )
        },
    )
    .await;
}

/// The app's `userConcurrentNumber`.
async fn concurrent(duix: &Duix) -> Result<i64, Failure> {
    let reply = duix
        .get(
            &format!("{V1}getconcurrentNumber"),
            &[("appId", &duix.app.id)],
        )
        .await;
    let body = ok("getconcurrentNumber").verify(&reply)?;
    body["data"]["userConcurrentNumber"]
        .as_i64()
        .ok_or_else(|| broken("data.userConcurrentNumber", reply.describe()))
}
