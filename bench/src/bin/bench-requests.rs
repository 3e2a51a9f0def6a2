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
use clap::Parser;
use protocol::alibaba::timestamp::format_utc;
use protocol::request::{alibaba, aui, duix, HttpRequest};
use serde_json::{json, Value};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

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

const ROUTES: [Route; 6] = [
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
    let mocks = Mocks::from_info(&info)?;
    let http = reqwest::Client::new();
    let token = aui_login(&http, &mocks).await?;
    let task = start_agent_task(&http, &mocks).await?;

    let mut answer_sizes = Vec::new();
    let mut manifest = Vec::new();
    for route in &ROUTES {
        let base = mocks.url(route.platform)?;
        let request = match route.file {
            "aui-rtc" => aui_rtc(&token),
            "aui-chat" => aui_chat(&token),
            "duix-checksig" => duix::check_sig(&mocks.duix_token()),
            "duix-concurrent" => {
                let app = vec![(
                    "appId".to_string(),
                    mocks.field("duix", "app_id")?.to_string(),
                )];
                duix::get(duix::GET_CONCURRENT_NUMBER, &app, Some(mocks.duix_token()))
            }
            "alibaba-v3" => mocks.get_agent_v3(&task),
            _ => mocks.get_agent_v1(&task),
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
            let sign = |_: usize| raw(&mocks.get_agent(route.file, &task), &host);
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

/// The running mocks and their credentials, from the info file.
struct Mocks {
    info: Value,
}

impl Mocks {
    fn from_info(info: &Value) -> Result<Self> {
        for platform in ["alibaba", "aui", "duix"] {
            if info.get(platform).is_none() {
                bail!("the info file names no {platform} mock: start all three");
            }
        }
        Ok(Mocks { info: info.clone() })
    }

    fn field(&self, platform: &str, name: &str) -> Result<&str> {
        self.info[platform][name]
            .as_str()
            .with_context(|| format!("the info file has no {platform}.{name}"))
    }

    fn url(&self, platform: &str) -> Result<&str> {
        self.field(platform, "url")
    }

    /// A DUIX app token valid for a day from now.
    fn duix_token(&self) -> String {
        let now = now_ms() / 1000;
        protocol::duix::sign_token(
            self.field("duix", "app_id").unwrap_or_default(),
            self.field("duix", "app_key").unwrap_or_default(),
            now,
            now + 86_400,
        )
    }

    fn get_agent(&self, file: &str, task: &AgentTask) -> HttpRequest {
        match file {
            "alibaba-v3" => self.get_agent_v3(task),
            _ => self.get_agent_v1(task),
        }
    }

    /// GetAgent signed with V3 (ACS3-HMAC-SHA256) and a fresh nonce.
    fn get_agent_v3(&self, task: &AgentTask) -> HttpRequest {
        self.call("GetAgent", &task.key(), alibaba::signed)
    }

    /// GetAgent signed with V1 (HMAC-SHA1), every parameter in the query, a fresh nonce.
    fn get_agent_v1(&self, task: &AgentTask) -> HttpRequest {
        self.call("GetAgent", &task.key(), alibaba::signed_v1)
    }

    /// `action` signed by `sign` (V3 or V1) with the mock's key, now's date and a fresh nonce.
    fn call(
        &self,
        action: &str,
        params: &[(String, String)],
        sign: fn(alibaba::Call<'_>) -> HttpRequest,
    ) -> HttpRequest {
        let base = self.url("alibaba").unwrap_or_default();
        sign(alibaba::Call {
            method: "POST",
            host: &alibaba::host_of(base),
            action,
            version: alibaba::api_version(action),
            params,
            access_key_id: self.field("alibaba", "access_key_id").unwrap_or_default(),
            secret: self
                .field("alibaba", "access_key_secret")
                .unwrap_or_default(),
            date: &format_utc(now_ms()),
            nonce: &alibaba::fresh_nonce(),
        })
    }
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
    params.extend([
        ("TemplateId".to_string(), "tpl_1".to_string()),
        (
            "RtcConfig".to_string(),
            r#"{"UserId":"agent_1","TargetUserIds":["user_1"],"UserInactivityTimeout":30}"#
                .to_string(),
        ),
        (
            "VoiceChatConfig".to_string(),
            r#"{"ChatMode":1,"InterruptMode":1,"Greeting":"hello"}"#.to_string(),
        ),
    ]);
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

/// The request as wrk puts it on the wire, `Host` included (V3 signs it).
fn raw(request: &HttpRequest, host: &str) -> Vec<u8> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {host}\r\n",
        request.method, request.path_and_query
    );
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", request.body.len()));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&request.body);
    bytes
}

fn write_records(
    path: &Path,
    count: usize,
    mut record: impl FnMut(usize) -> Vec<u8>,
) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    for i in 0..count {
        let bytes = record(i);
        writeln!(out, "{}", bytes.len())?;
        out.write_all(&bytes)?;
    }
    out.flush()?;
    Ok(())
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

fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
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

    #[test]
    fn a_raw_request_carries_host_headers_and_length() {
        let request = aui::post("/p", b"{}".to_vec(), Some("Bearer t".into()));
        let text = String::from_utf8(raw(&request, "127.0.0.1:9")).unwrap();
        assert!(text.starts_with("POST /p HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"));
        assert!(text.contains("authorization: Bearer t\r\n"));
        assert!(text.ends_with("Content-Length: 2\r\n\r\n{}"));
    }
}
