//! Secrets never reach output: `agentproof mock`, `check` and `load` run as a user runs them, with
//! secrets that are not the demo ones (from a TOML file and from `AGENTPROOF_*` variables) and
//! logs at their most verbose (`AGENTPROOF_LOG=trace`). Then every byte they printed and every
//! report they wrote (JSON, JUnit, HTML, Markdown, goose's reports, HdrHistogram logs), plus the
//! mocks' journals and metrics, is searched for each secret, for each token and signature this
//! test saw issued or sent, and for any JWT that verifies under a configured key.
//!
//! The one place secrets are meant to be is the `--info-file` (it exists to hand them to
//! scripts), and the config file this test wrote; both are left out of the search.

mod common;

use protocol::request::{self, HttpRequest};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tempfile::TempDir;

const ALIBABA_ID: &str = "LTAI5tSecretsTestKeyId";
const ALIBABA_SECRET: &str = "aliSECRETq7Wz2Lm9Rt4Vx8Nc3Kp6";
const AUI_APP_KEY: &str = "auiAPPKEYm4Qw9Zx2Ls7Tn5Rb8Hv";
const AUI_USER: &str = "secrets-tester";
const AUI_PASSWORD: &str = "auiPASSWORDk3Jd8Wq5Xz1Yc6Mv";
const AUI_JWT_SECRET: &str = "auiJWTSECRETp2Lx7Qr4Wn9Zt3Bv";
const DUIX_APP_ID: &str = "7788990011";
const DUIX_APP_KEY: &str = "duixAPPKEYh6Tr1Mz8Qw3Xn5Lc2P";
const WEBHOOK_SECRET: &str = "webhookSECRETr9Kd2Vm6Zq4Xw1Y";
const LLM_API_KEY: &str = "llmAPIKEYw5Nt8Qz3Lx6Rc1Vb9";
/// A gateway key `--aui-auth header:` sends (the mock takes any; it must still never show).
const GATEWAY_KEY: &str = "gatewayKEYx5Lq8Rn2Wd7Vz4Tb1M";

/// Every configured secret, by name.
const SECRETS: [(&str, &str); 8] = [
    ("alibaba access_key_secret", ALIBABA_SECRET),
    ("aui app_key", AUI_APP_KEY),
    ("aui login_password", AUI_PASSWORD),
    ("aui jwt_secret", AUI_JWT_SECRET),
    ("duix app_key", DUIX_APP_KEY),
    ("webhook secret", WEBHOOK_SECRET),
    ("llm api_key", LLM_API_KEY),
    ("aui gateway key", GATEWAY_KEY),
];

/// The demo secrets, which the embedded mocks of `check` use (it takes no config of its own;
/// the configured secrets reach it only as the targets' credentials, which it then ignores).
/// The AUI demo password, `demo`, is also the demo user's name, so it cannot be searched for.
const DEMO_SECRETS: [(&str, &str); 3] = [
    ("demo alibaba secret", "AgentproofDemoSecret0123456789"),
    ("demo aui app_key", "agentproof-demo-app-key"),
    ("demo duix app_key", "agentproof-duix-demo-key"),
];

/// Most of the secrets come from the file, the AUI password and DUIX key from the environment.
fn config_toml() -> String {
    format!(
        r#"
[alibaba]
credentials = [{{ access_key_id = "{ALIBABA_ID}", access_key_secret = "{ALIBABA_SECRET}" }}]

[aui]
app_id = "secrets-rtc-app"
app_key = "{AUI_APP_KEY}"
login_user = "{AUI_USER}"
login_password = "not-this-one-the-environment-wins"
jwt_secret = "{AUI_JWT_SECRET}"

[duix]
apps = [{{ app_id = "{DUIX_APP_ID}", app_key = "not-this-one-either", quota = 4, crop_id = "100003" }}]

[webhook]
secret = "{WEBHOOK_SECRET}"

[llm]
api_key = "{LLM_API_KEY}"
"#
    )
}

/// The environment every process of this test gets: the most verbose logs, the secrets the file
/// does not give, and the targets' credentials for `check` and `load`.
fn environment() -> Vec<(&'static str, String)> {
    vec![
        ("AGENTPROOF_LOG", "trace".into()),
        ("AGENTPROOF_AUI_LOGIN_PASSWORD", AUI_PASSWORD.into()),
        ("AGENTPROOF_DUIX_APP_KEY", DUIX_APP_KEY.into()),
        (
            "AGENTPROOF_CHECK_ALIBABA_KEY",
            format!("{ALIBABA_ID}:{ALIBABA_SECRET}"),
        ),
        (
            "AGENTPROOF_CHECK_AUI_USER",
            format!("{AUI_USER}:{AUI_PASSWORD}"),
        ),
        (
            "AGENTPROOF_CHECK_AUI_APP",
            format!("secrets-rtc-app:{AUI_APP_KEY}"),
        ),
        (
            "AGENTPROOF_CHECK_DUIX_APP",
            format!("{DUIX_APP_ID}:{DUIX_APP_KEY}"),
        ),
        ("AGENTPROOF_LOAD_WEBHOOK_BEARER", WEBHOOK_SECRET.into()),
        ("AGENTPROOF_LOAD_LLM_API_KEY", LLM_API_KEY.into()),
    ]
}

/// A fresh folder for everything one run writes. A failed test leaves it for a look at what was
/// written; a test that passed removes it (`TempDir::close`).
fn out_dir(name: &str) -> TempDir {
    let mut dir =
        TempDir::with_prefix(format!("agentproof-secrets-{name}-")).expect("a temporary folder");
    dir.disable_cleanup(true);
    dir
}

/// `agentproof ARGS` with this test's environment, stdout and stderr into `DIR/NAME.stdout` and
/// `DIR/NAME.stderr`.
fn agentproof(dir: &Path, name: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agentproof"));
    command
        .args(args)
        .envs(environment())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join(format!("{name}.stdout"))).unwrap())
        .stderr(std::fs::File::create(dir.join(format!("{name}.stderr"))).unwrap());
    command
}

/// Runs to the end (at most two minutes); the exit code.
async fn run(mut command: Command) -> Option<i32> {
    let mut child = command.spawn().expect("the agentproof binary runs");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("agentproof did not end within two minutes");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn printed(dir: &Path, name: &str) -> String {
    let read = |ext: &str| std::fs::read_to_string(dir.join(format!("{name}.{ext}"))).unwrap();
    format!(
        "--- stdout\n{}\n--- stderr (last 3000 bytes)\n{}",
        read("stdout"),
        tail(&read("stderr"), 3000)
    )
}

fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

struct Mock {
    child: Child,
    info: Value,
}

impl Mock {
    fn url(&self, platform: &str) -> String {
        self.info[platform]["url"].as_str().unwrap().to_string()
    }
}

/// `agentproof mock --config FILE` on free ports, ready once its info file is written and every
/// platform answers its health endpoint.
async fn start_mock(dir: &Path, config: &Path, info_file: &Path) -> Mock {
    let mut command = agentproof(dir, "mock", &["mock"]);
    command
        .args(["--alibaba-port", "0", "--aui-port", "0"])
        .args(["--duix-port", "0", "--webhook-port", "0", "--llm-port", "0"])
        .arg("--config")
        .arg(config)
        .arg("--info-file")
        .arg(info_file);
    let child = command.spawn().expect("the agentproof binary runs");
    let info = common::read_info_file(info_file).await;
    common::assert_healthy(&info, &["alibaba", "aui", "duix"]).await;
    let mock = Mock { child, info };
    assert_eq!(mock.info["aui"]["login_password"], AUI_PASSWORD);
    assert_eq!(mock.info["duix"]["app_key"], DUIX_APP_KEY);
    mock
}

/// SIGTERM, then the graceful exit.
fn stop(mut mock: Mock) {
    let status = Command::new("kill")
        .args(["-TERM", &mock.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = mock.child.try_wait().unwrap() {
            assert!(status.success(), "agentproof mock exits 0 on SIGTERM");
            return;
        }
        if Instant::now() > deadline {
            let _ = mock.child.kill();
            panic!("agentproof mock did not exit within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn now_secs() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(now.as_secs()).unwrap()
}

async fn send(client: &reqwest::Client, base: &str, request: HttpRequest) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut builder = client.request(method, request.url(base));
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let answer = builder.body(request.body).send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// Drives the mock as a client would; answers every token and signature it saw issued or sent.
async fn drive(mock: &Mock) -> Vec<(String, String)> {
    let client = reqwest::Client::new();
    let mut seen = drive_aui(&client, &mock.url("aui")).await;
    seen.extend(drive_duix(&client, &mock.url("duix")).await);
    seen.extend(drive_alibaba(&client, &mock.url("alibaba")).await);
    seen
}

/// Login (and a refused one), then an RTC token: the bearer and RTC tokens issued.
async fn drive_aui(client: &reqwest::Client, aui: &str) -> Vec<(String, String)> {
    let (status, login) = send(client, aui, request::aui::login(AUI_USER, AUI_PASSWORD)).await;
    assert_eq!(status, 200, "login with the configured password: {login}");
    let bearer = login["token"].as_str().unwrap().to_string();
    let body = json!({"user_id": "alice"});
    let rtc = request::aui::call(request::aui::GET_RTC_AUTH_TOKEN, &body, &bearer);
    let (status, answer) = send(client, aui, rtc).await;
    assert_eq!(status, 200, "{answer}");
    let rtc_token = answer["rtc_auth_token"].as_str().unwrap().to_string();
    let (status, _) = send(client, aui, request::aui::login(AUI_USER, "wrong")).await;
    assert_eq!(status, 403, "a wrong password is refused");
    vec![
        ("aui bearer token".into(), bearer),
        ("aui rtc token".into(), rtc_token),
    ]
}

/// checkSig and a management call with a JWT signed by the configured key: that JWT.
async fn drive_duix(client: &reqwest::Client, duix: &str) -> Vec<(String, String)> {
    let now = now_secs();
    let jwt = protocol::duix::sign_token(DUIX_APP_ID, DUIX_APP_KEY, now, now + 600);
    let (status, answer) = send(client, duix, request::duix::check_sig(&jwt)).await;
    assert_eq!(status, 200, "checkSig with the configured key: {answer}");
    let query = [("appId".to_string(), DUIX_APP_ID.to_string())];
    let path = request::duix::GET_CONCURRENT_NUMBER;
    let management = request::duix::get(path, &query, Some(jwt.clone()));
    let (status, answer) = send(client, duix, management).await;
    assert_eq!(status, 200, "{answer}");
    vec![("duix jwt".into(), jwt)]
}

/// A V3-signed GetAgent, and one signed with a wrong secret (its refusal quotes the server's
/// canonical request): the good signature.
async fn drive_alibaba(client: &reqwest::Client, alibaba: &str) -> Vec<(String, String)> {
    let params = [("TaskId".to_string(), "no-such-task".to_string())];
    let date = protocol::alibaba::timestamp::format_utc(now_secs() * 1000);
    let host = request::alibaba::host_of(alibaba);
    let signed = |secret| {
        let nonce = request::alibaba::fresh_nonce();
        request::alibaba::signed(request::alibaba::Call {
            method: "POST",
            host: &host,
            action: "GetAgent",
            version: request::alibaba::api_version("GetAgent"),
            params: &params,
            access_key_id: ALIBABA_ID,
            secret,
            date: &date,
            nonce: &nonce,
        })
    };
    let good = signed(ALIBABA_SECRET);
    let authorization = good.header("authorization").unwrap().to_string();
    let (status, answer) = send(client, alibaba, good).await;
    assert_ne!(
        answer["Code"], "SignatureDoesNotMatch",
        "signed with the configured secret ({status}): {answer}"
    );
    let (status, answer) = send(client, alibaba, signed("a-wrong-secret")).await;
    assert_eq!(answer["Code"], "SignatureDoesNotMatch", "{status} {answer}");
    let (_, signature) = authorization.rsplit_once("Signature=").unwrap();
    vec![("alibaba v3 signature".into(), signature.to_string())]
}

/// Saves each mock's journal and metrics into `dir`: they are output of the mock too.
async fn save_admin_views(mock: &Mock, dir: &Path) {
    for platform in ["alibaba", "aui", "duix"] {
        let base = mock.url(platform);
        for (name, path) in [
            ("journal.json", "/__admin/requests?limit=1000"),
            ("metrics.txt", "/metrics"),
        ] {
            let answer = reqwest::get(format!("{base}{path}")).await.unwrap();
            assert_eq!(answer.status(), 200, "{platform} {path}");
            let bytes = answer.bytes().await.unwrap();
            std::fs::write(dir.join(format!("mock-{platform}-{name}")), bytes).unwrap();
        }
    }
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// Every JWT-shaped word in `text` (`eyJ…` in three base64url parts).
fn jwts(text: &str) -> Vec<&str> {
    let is_part = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("eyJ") {
        let candidate = &rest[at..];
        let end = candidate
            .find(|c: char| !is_part(c) && c != '.')
            .unwrap_or(candidate.len());
        let word = candidate[..end].trim_end_matches('.');
        if word.split('.').count() == 3 {
            found.push(word);
        }
        rest = &candidate[end.max(3)..];
    }
    found
}

/// The shapes of what `check` and `load` were issued or signed themselves, which this test cannot
/// know exactly: an ARTC token (standard base64 of `{"appid":`) and a V3 signature.
fn issued_shapes(text: &str) -> Vec<&'static str> {
    let v3_signature = text.match_indices("Signature=").any(|(at, key)| {
        let value = &text[at + key.len()..];
        value.len() >= 64 && value.as_bytes()[..64].iter().all(u8::is_ascii_hexdigit)
    });
    let rtc_token = text.contains("eyJhcHBpZCI6");
    [
        (v3_signature, "a V3 signature"),
        (rtc_token, "an ARTC token"),
    ]
    .into_iter()
    .filter_map(|(found, what)| found.then_some(what))
    .collect()
}

/// What leaked into the files under `dir`: each needle found, with the file it is in, each JWT
/// that verifies under one of `keys`, and each [`issued_shapes`].
fn leaks(dir: &Path, needles: &[(String, String)], keys: &[&str]) -> Vec<String> {
    let mut leaks = std::collections::BTreeSet::new();
    let files = files(dir);
    assert!(!files.is_empty(), "nothing written into {}", dir.display());
    for file in files {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        let name = file.strip_prefix(dir).unwrap().display().to_string();
        for (what, needle) in needles {
            if text.contains(needle.as_str()) {
                leaks.insert(format!("{what} in {name}"));
            }
        }
        for what in issued_shapes(&text) {
            leaks.insert(format!("{what} in {name}"));
        }
        for jwt in jwts(&text) {
            if keys
                .iter()
                .any(|key| protocol::hs256::verify_signature(jwt, key.as_bytes()).is_ok())
            {
                leaks.insert(format!("a valid JWT in {name}: {jwt}"));
            }
        }
    }
    leaks.into_iter().collect()
}

fn named(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(what, value)| (what.to_string(), value.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_check_and_load_with_configured_secrets_print_none_of_them() {
    let (dir_guard, private_guard) = (out_dir("configured"), out_dir("configured-private"));
    let (dir, private) = (dir_guard.path(), private_guard.path());
    let config = private.join("agentproof.toml");
    std::fs::write(&config, config_toml()).unwrap();
    let info_file = private.join("mocks.json");
    let mock = start_mock(dir, &config, &info_file).await;
    let seen = drive(&mock).await;

    let targets: Vec<String> = ["alibaba", "aui", "duix"]
        .iter()
        .flat_map(|p| ["--target".to_string(), format!("{p}={}", mock.url(p))])
        .collect();
    let check_dir = dir.join("check");
    let mut check = agentproof(dir, "check", &["check", "--no-progress"]);
    check
        .args(&targets)
        .arg("--report-dir")
        .arg(&check_dir)
        .arg("--junit")
        .arg(dir.join("check-junit.xml"));
    let code = run(check).await;
    assert_eq!(code, Some(0), "check passes: {}", printed(dir, "check"));

    let mut load_targets = targets.clone();
    load_targets.extend([
        "--target".to_string(),
        format!("webhook={}", mock.url("webhook")),
        // http-get loads any server: the DUIX mock's health route.
        "--target".to_string(),
        format!("http={}/__admin/health", mock.url("duix")),
        "--target".to_string(),
        format!("llm={}", mock.url("llm")),
    ]);
    for scenario in scenarios::BUILTINS {
        let name = format!("load-{}", scenario.name);
        let mut load = agentproof(dir, &name, &["load", "--no-progress"]);
        load.args([
            "--scenario",
            scenario.name,
            "--run-time",
            "2s",
            "--users",
            "2",
        ])
        .args(&load_targets)
        .arg("--report-dir")
        .arg(dir.join(&name))
        .arg("--junit")
        .arg(dir.join(format!("{name}-junit.xml")));
        let code = run(load).await;
        assert_eq!(code, Some(0), "{name} passes: {}", printed(dir, &name));
    }
    // Two worker processes: their latency.hlog files and the merged report.
    let mut swarm = agentproof(dir, "load-workers", &["load", "--no-progress"]);
    swarm
        .args([
            "--scenario",
            "aui-token-storm",
            "--run-time",
            "2s",
            "--users",
            "2",
        ])
        .args(["--workers", "2"])
        .args(&load_targets)
        .arg("--report-dir")
        .arg(dir.join("load-workers"));
    let code = run(swarm).await;
    assert_eq!(code, Some(0), "{}", printed(dir, "load-workers"));
    assert!(dir.join("load-workers/worker-1/latency.hlog").exists());

    aui_auth_given_three_ways(dir, private, &mock, &seen).await;

    save_admin_views(&mock, dir).await;
    stop(mock);
    let stderr = std::fs::read_to_string(dir.join("check.stderr")).unwrap();
    assert!(
        stderr.contains("TRACE"),
        "the logs are at their most verbose: {}",
        tail(&stderr, 2000)
    );

    let mut needles = named(&SECRETS);
    needles.extend(seen);
    let keys = [DUIX_APP_KEY, AUI_JWT_SECRET];
    let leaks = leaks(dir, &needles, &keys);
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    let _ = dir_guard.close();
    let _ = private_guard.close();
}

/// `check` and `load` against the AUI mock with `--aui-auth bearer:` (the token `drive` was
/// issued) and `header:` (the gateway key): from the environment, from flags, from the config
/// file's [target.aui].
async fn aui_auth_given_three_ways(
    dir: &Path,
    private: &Path,
    mock: &Mock,
    seen: &[(String, String)],
) {
    let bearer = &seen
        .iter()
        .find(|(what, _)| what == "aui bearer token")
        .unwrap()
        .1;
    let specs = [
        format!("bearer:{bearer}"),
        format!("header:X-Gateway-Key:{GATEWAY_KEY}"),
    ];
    let target = format!("aui={}", mock.url("aui"));
    let suites = [
        "--suite",
        "contract",
        "--suite",
        "errors",
        "--suite",
        "bad-input",
    ];

    let mut from_env = agentproof(dir, "check-auth-env", &["check", "--no-progress"]);
    from_env
        .args(["--target", &target])
        .args(suites)
        .env("AGENTPROOF_CHECK_AUI_AUTH", specs.join("\n"))
        .arg("--report-dir")
        .arg(dir.join("check-auth-env"));
    let code = run(from_env).await;
    assert_eq!(code, Some(0), "{}", printed(dir, "check-auth-env"));

    let file = private.join("target.toml");
    let toml = format!(
        "[target.aui]\nauth = [\"{}\", \"{}\"]\n",
        specs[0], specs[1]
    );
    std::fs::write(&file, toml).unwrap();
    let mut from_file = agentproof(dir, "check-auth-file", &["check", "--no-progress"]);
    from_file
        .args(["--target", &target])
        .args(suites)
        .arg("--config")
        .arg(&file)
        .arg("--report-dir")
        .arg(dir.join("check-auth-file"));
    let code = run(from_file).await;
    assert_eq!(code, Some(0), "{}", printed(dir, "check-auth-file"));

    let mut from_flags = agentproof(dir, "load-auth-flags", &["load", "--no-progress"]);
    from_flags
        .args([
            "--scenario",
            "aui-token-storm",
            "--run-time",
            "2s",
            "--users",
            "2",
        ])
        .args([
            "--target",
            &target,
            "--aui-auth",
            &specs[0],
            "--aui-auth",
            &specs[1],
        ])
        .arg("--report-dir")
        .arg(dir.join("load-auth-flags"));
    let code = run(from_flags).await;
    assert_eq!(code, Some(0), "{}", printed(dir, "load-auth-flags"));
}

#[tokio::test]
async fn check_on_its_embedded_mocks_prints_none_of_their_secrets() {
    let dir_guard = out_dir("embedded");
    let dir = dir_guard.path();
    let mut check = agentproof(dir, "check", &["check", "--no-progress"]);
    check.arg("--report-dir").arg(dir.join("check"));
    let code = run(check).await;
    assert_eq!(code, Some(0), "check passes: {}", printed(dir, "check"));
    let mut needles = named(&DEMO_SECRETS);
    needles.extend(named(&SECRETS));
    let keys = ["agentproof-duix-demo-key"];
    let leaks = leaks(dir, &needles, &keys);
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    let _ = dir_guard.close();
}
