//! Writes the benchmark's request files before the timed window.
//!
//! wrk sends raw bytes; what it cannot do is sign. So this logs in to the AUI mock, starts one
//! Alibaba agent task, asks every benchmarked route once (its real answer becomes the WireMock
//! stub and sets the bare server's body size), and writes:
//! - `<route>.req`: one request for the routes that can be sent again and again unchanged;
//! - `alibaba-v3.req`, `alibaba-v1.req`: `--records` GetAgent calls, each signed with its own
//!   nonce, for wrk to send once each (a signed request sent twice is a nonce replay);
//! - `*.check.req`: a few more signed calls, for the run that checks the answers (so the timed
//!   file's nonces stay unused);
//! - `routes.json`: the routes, their files and the text a successful answer contains;
//! - `wiremock/mappings/*.json` and `bare-body.json`: the peer's stubs and the baseline's body.
//!
//! A record is `<length>\n<raw HTTP/1.1 request bytes>`, which `bench/wrk/requests.lua` reads.

use anyhow::{bail, Context, Result};
use bench::mocks::{Mocks, Signer};
use bench::wire::{raw, write_records};
use clap::Parser;
use protocol::request::{alibaba, aui, duix, HttpRequest};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Pre-signs the benchmark's requests against running mocks.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The `agentproof mock --info-file` JSON of the running mocks.
    #[arg(long)]
    info: PathBuf,
    /// Folder to write into (created).
    #[arg(long)]
    out: PathBuf,
    /// Signed Alibaba calls per file, each sent once in the timed window.
    #[arg(long, default_value_t = 100_000)]
    records: usize,
}

/// What the run needs to know of one route.
struct Route {
    /// Table name, e.g. `aui getRtcAuthToken`.
    name: &'static str,
    /// File stem under `--out`.
    file: &'static str,
    /// Which mock answers it.
    platform: &'static str,
    /// `static`: one request sent again and again; `once`: a file of records sent once each.
    mode: &'static str,
    /// Text every successful answer contains.
    marker: &'static str,
}

const ROUTES: [Route; 7] = [
    Route {
        name: "aui getRtcAuthToken",
        file: "aui-rtc",
        platform: "aui",
        mode: "static",
        marker: "\"code\":200",
    },
    Route {
        name: "aui generateMessageChatToken",
        file: "aui-chat",
        platform: "aui",
        mode: "static",
        marker: "\"code\":200",
    },
    // The same call through an AUI server whose Alibaba mock is another process (`aui_socket`
    // in the info file, when there is one): the upstream hop over a socket, beside in-process.
    Route {
        name: "aui generateMessageChatToken (upstream socket)",
        file: "aui-chat-socket",
        platform: "aui_socket",
        mode: "static",
        marker: "\"code\":200",
    },
    Route {
        name: "duix checkSig",
        file: "duix-checksig",
        platform: "duix",
        mode: "static",
        marker: "\"code\":\"0\"",
    },
    Route {
        name: "duix getconcurrentNumber",
        file: "duix-concurrent",
        platform: "duix",
        mode: "static",
        marker: "\"code\":\"0\"",
    },
    Route {
        name: "alibaba GetAgent (V3)",
        file: "alibaba-v3",
        platform: "alibaba",
        mode: "once",
        marker: "\"Status\"",
    },
    Route {
        name: "alibaba GetAgent (V1)",
        file: "alibaba-v1",
        platform: "alibaba",
        mode: "once",
        marker: "\"Status\"",
    },
];

/// Signed calls in each `*.check.req` file.
const CHECK_RECORDS: usize = 2_000;

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let info: Value = serde_json::from_slice(
        &std::fs::read(&args.info)
            .with_context(|| format!("cannot read {}", args.info.display()))?,
    )?;
    std::fs::create_dir_all(args.out.join("wiremock/mappings"))?;
    let mocks = Mocks::from_info(&info, &["alibaba", "aui", "duix"])?;
    let http = reqwest::Client::new();
    let token = aui_login(&http, &mocks).await?;
    let task = start_agent_task(&http, &mocks).await?;

    let mut answer_sizes = Vec::new();
    let mut manifest = Vec::new();
    for route in &ROUTES {
        if info.get(route.platform).is_none() {
            continue;
        }
        let base = mocks.url(route.platform)?;
        let request = match route.file {
            "aui-rtc" => aui_rtc(&token),
            "aui-chat" | "aui-chat-socket" => aui_chat(&token),
            "duix-checksig" => duix::check_sig(&mocks.duix_token()),
            "duix-concurrent" => {
                let app = vec![(
                    "appId".to_string(),
                    mocks.field("duix", "app_id")?.to_string(),
                )];
                duix::get(duix::GET_CONCURRENT_NUMBER, &app, Some(mocks.duix_token()))
            }
            file => get_agent(&mocks, file, &task),
        };
        let answer = ask(&http, base, &request, route.marker)
            .await
            .with_context(|| format!("{}: the mock did not answer as expected", route.name))?;
        answer_sizes.push(answer.body.len());
        write_stub(&args.out, route, &request, &answer)?;
        let host = alibaba::host_of(base);
        let file = args.out.join(format!("{}.req", route.file));
        if route.mode == "static" {
            write_records(&file, 1, |_| raw(&request, &host))?;
        } else {
            let sign = |_: usize| raw(&get_agent(&mocks, route.file, &task), &host);
            write_records(&file, args.records, sign)?;
            let check = args.out.join(format!("{}.check.req", route.file));
            write_records(&check, CHECK_RECORDS, sign)?;
        }
        manifest.push(json!({
            "name": route.name, "file": route.file, "platform": route.platform,
            "mode": route.mode, "marker": route.marker, "answer_bytes": answer.body.len(),
        }));
    }
    let mean = answer_sizes.iter().sum::<usize>() / answer_sizes.len();
    std::fs::write(args.out.join("bare-body.json"), padded_body(mean))?;
    std::fs::write(
        args.out.join("routes.json"),
        serde_json::to_vec_pretty(&json!({"routes": manifest, "bare_body_bytes": mean}))?,
    )?;
    Ok(())
}

/// Alibaba's GetAgent on the bench's task, signed as `file` says.
fn get_agent(mocks: &Mocks, file: &str, task: &AgentTask) -> HttpRequest {
    let sign: Signer = match file {
        "alibaba-v3" => alibaba::signed,
        _ => alibaba::signed_v1,
    };
    mocks.call("GetAgent", &task.key(), sign)
}

/// The agent task every GetAgent reads.
struct AgentTask {
    app: String,
    channel: String,
    task: String,
}

impl AgentTask {
    fn key(&self) -> Vec<(String, String)> {
        vec![
            ("AppId".to_string(), self.app.clone()),
            ("ChannelId".to_string(), self.channel.clone()),
            ("TaskId".to_string(), self.task.clone()),
        ]
    }
}

async fn aui_login(http: &reqwest::Client, mocks: &Mocks) -> Result<String> {
    let login = aui::login(
        mocks.field("aui", "login_user")?,
        mocks.field("aui", "login_password")?,
    );
    let answer = ask(http, mocks.url("aui")?, &login, "\"token\"")
        .await
        .context("AUI login")?;
    let body: Value = serde_json::from_slice(&answer.body)?;
    body["token"]
        .as_str()
        .map(str::to_string)
        .context("the AUI login answer has no token")
}

async fn start_agent_task(http: &reqwest::Client, mocks: &Mocks) -> Result<AgentTask> {
    let suffix = &alibaba::fresh_nonce()[..12];
    let task = AgentTask {
        app: format!("bench_app_{suffix}"),
        channel: format!("bench_ch_{suffix}"),
        task: format!("bench_task_{suffix}"),
    };
    let mut params = task.key();
    params.extend(bench::mocks::params(&[
        ("TemplateId", "tpl_1"),
        ("RtcConfig", bench::mocks::RTC_CONFIG),
        ("VoiceChatConfig", bench::mocks::VOICE_CHAT_CONFIG),
    ]));
    let start = mocks.call("StartAgent", &params, alibaba::signed);
    ask(http, mocks.url("alibaba")?, &start, "\"RequestId\"")
        .await
        .context("Alibaba StartAgent")?;
    Ok(task)
}

fn aui_rtc(token: &str) -> HttpRequest {
    let body = json!({"user_id": "bench_user", "channel_id": "bench_channel"});
    aui::call(aui::GET_RTC_AUTH_TOKEN, &body, token)
}

fn aui_chat(token: &str) -> HttpRequest {
    let body = json!({
        "ai_agent_id": "agent_load", "user_id": "bench_user", "role": "admin", "expire": 1800,
    });
    aui::call(aui::GENERATE_MESSAGE_CHAT_TOKEN, &body, token)
}

/// A mock's answer to one request.
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

/// Sends `request` and insists on a 2xx answer containing `marker`.
async fn ask(
    http: &reqwest::Client,
    base: &str,
    request: &HttpRequest,
    marker: &str,
) -> Result<Answer> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes())?;
    let mut builder = http.request(method, request.url(base));
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let response = builder.body(request.body.clone()).send().await?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let body = response.bytes().await?.to_vec();
    let text = String::from_utf8_lossy(&body);
    if !(200..300).contains(&status) || !text.contains(marker) {
        bail!("HTTP {status}, expected a 2xx answer containing {marker}: {text}");
    }
    Ok(Answer {
        status,
        content_type,
        body,
    })
}

/// A WireMock stub answering `request` with the mock's real answer.
fn write_stub(out: &Path, route: &Route, request: &HttpRequest, answer: &Answer) -> Result<()> {
    let path = request.path_and_query.split('?').next().unwrap_or("/");
    let mut matcher = json!({"method": request.method, "urlPath": path});
    match route.file {
        // Both Alibaba stubs answer `POST /`: the signature version tells them apart.
        "alibaba-v3" => {
            matcher["headers"] = json!({"x-acs-action": {"equalTo": "GetAgent"}});
        }
        "alibaba-v1" => {
            matcher["queryParameters"] = json!({"Action": {"equalTo": "GetAgent"}});
        }
        _ => {}
    }
    let stub = json!({
        "request": matcher,
        "response": {
            "status": answer.status,
            "headers": {"Content-Type": answer.content_type},
            "body": String::from_utf8_lossy(&answer.body),
        },
    });
    let file = out.join(format!("wiremock/mappings/{}.json", route.file));
    std::fs::write(file, serde_json::to_vec_pretty(&stub)?)?;
    Ok(())
}

/// `{"code":"0","pad":"xxx…"}` of `size` bytes (at least the frame's own length).
fn padded_body(size: usize) -> String {
    let head = r#"{"code":"0","pad":""#;
    let pad = size.saturating_sub(head.len() + 2);
    format!("{head}{}\"}}", "x".repeat(pad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_padded_body_has_the_size_asked_for_and_is_json() {
        for size in [64, 256, 700] {
            let body = padded_body(size);
            assert_eq!(body.len(), size);
            assert!(serde_json::from_str::<Value>(&body).is_ok());
        }
    }
}
