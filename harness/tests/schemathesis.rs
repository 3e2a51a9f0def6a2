//! Schemathesis (PyPI `schemathesis`, in the test virtualenv: a property-based API tester nobody
//! here wrote) runs against `agentproof mock` with the OpenAPI documents the mocks serve, and
//! finds nothing: no 5xx, no status the document does not list, no body that breaks its schema,
//! no content type it does not declare.
//!
//! AUI and DUIX are tested with the document each serves at `/__admin/openapi.json` (what a
//! user's tool would read); the DUIX webhook document (what a vendor implements) is tested
//! against the reference webhook the mock command runs, with a bearer secret configured so its
//! 401 and 403 are reachable. Each run is given valid credentials through the documents' own
//! security schemes (`[auth.openapi.<scheme>]` of a schemathesis.toml), so that a scheme with
//! the wrong name or place fails the test: Schemathesis then reports that authentication failed,
//! which the test refuses (every case would have stopped at 401/403 without reaching a handler).
//!
//! The seed is fixed (a failure reproduces); `AGENTPROOF_SCHEMATHESIS_SEED` picks another.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tempfile::TempDir;

/// The checks the contract promises to pass.
const CHECKS: &str = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance";

const WEBHOOK_SECRET: &str = "schemathesis-webhook-secret";

/// The seed of every run unless `AGENTPROOF_SCHEMATHESIS_SEED` says otherwise.
const DEFAULT_SEED: &str = "1";

/// One run of Schemathesis may take this long (about 15 s here for the largest document).
const RUN_LIMIT: Duration = Duration::from_secs(600);

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_nothing_in_the_aui_mock() {
    let mut folder = scratch("aui");
    let dir = folder.path().to_path_buf();
    let mock = Mock::start(&dir).await;
    let url = mock.url("aui");
    let token = aui_login(&mock).await;
    let auth = format!("[auth.openapi.bearer]\nbearer = \"{token}\"\n");
    schemathesis(
        &mut folder,
        &format!("{url}/__admin/openapi.json"),
        &url,
        &auth,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_nothing_in_the_duix_mock() {
    let mut folder = scratch("duix");
    let dir = folder.path().to_path_buf();
    let mock = Mock::start(&dir).await;
    let url = mock.url("duix");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let now = now.as_secs() as i64;
    let app_id = mock.info["duix"]["app_id"].as_str().unwrap();
    let app_key = mock.info["duix"]["app_key"].as_str().unwrap();
    let token = protocol::duix::sign_token(app_id, app_key, now, now + 7200);
    // Management calls carry it in the `token` header, checkSig in the `sig` query.
    let auth = format!(
        "[auth.openapi.token]\napi_key = \"{token}\"\n[auth.openapi.sig]\napi_key = \"{token}\"\n"
    );
    schemathesis(
        &mut folder,
        &format!("{url}/__admin/openapi.json"),
        &url,
        &auth,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_nothing_in_the_reference_webhook() {
    let mut folder = scratch("webhook");
    let dir = folder.path().to_path_buf();
    let mock = Mock::start(&dir).await;
    let document = dir.join("duix-webhook.openapi.json");
    let openapi = schemas::openapi::openapi("duix-webhook").unwrap();
    std::fs::write(&document, serde_json::to_vec_pretty(&openapi).unwrap()).unwrap();
    let auth = format!("[auth.openapi.bearer]\nbearer = \"{WEBHOOK_SECRET}\"\n");
    let location = document.to_str().unwrap();
    schemathesis(&mut folder, location, &mock.url("webhook"), &auth);
}

/// Runs Schemathesis on the document at `location` against `base_url` with `auth` (the
/// `[auth.openapi.*]` tables of its config file), and fails the test with its report unless it
/// passed having tested something.
fn schemathesis(folder: &mut TempDir, location: &str, base_url: &str, auth: &str) {
    let dir = folder.path().to_path_buf();
    let seed = std::env::var("AGENTPROOF_SCHEMATHESIS_SEED").unwrap_or(DEFAULT_SEED.into());
    let config = dir.join("schemathesis.toml");
    std::fs::write(&config, auth).unwrap();
    let stdout_path = dir.join("schemathesis.stdout");
    let mut child = Command::new(venv_bin("schemathesis"))
        .arg("--config-file")
        .arg(&config)
        .args(["run", location, "--url", base_url])
        .args(["--checks", CHECKS, "--seed", &seed, "--no-color"])
        .args(["--generation-database", "none"])
        .args(["--report", "junit", "--report-dir"])
        .arg(dir.join("report"))
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("running schemathesis: {e}; {SETUP_HINT}"));
    let status = wait(&mut child, RUN_LIMIT, "schemathesis");
    let report = std::fs::read_to_string(&stdout_path).unwrap();
    if !status.success() {
        // Its report and stdout stay for a look, as the message below says.
        folder.disable_cleanup(true);
    }
    assert!(
        status.success(),
        "schemathesis found failures in {location} (seed {seed}; the run is in {}):\n{report}",
        dir.display()
    );
    assert!(
        !report.contains("Authentication failed"),
        "schemathesis could not authenticate, so no case reached a handler:\n{report}"
    );
    let tested = tested_cases(&report)
        .unwrap_or_else(|| panic!("no \"N generated, N passed\" line in:\n{report}"));
    assert!(tested > 0, "schemathesis generated no test case:\n{report}");
    eprintln!("schemathesis: {location}: {tested} cases passed (seed {seed})");
}

/// The passed cases of the summary line `N generated, N passed[, K skipped]`.
fn tested_cases(report: &str) -> Option<u64> {
    report.lines().find_map(|line| {
        let mut counts = line.trim().split(", ");
        counts.next()?.strip_suffix(" generated")?;
        counts.next()?.strip_suffix(" passed")?.parse().ok()
    })
}

const SETUP_HINT: &str = "run .ci/setup-python (it installs schemathesis into .venv), or set AGENTPROOF_VENV to a virtualenv that has it";

/// `$AGENTPROOF_VENV/bin/<name>`, else `<workspace>/.venv/bin/<name>`.
fn venv_bin(name: &str) -> PathBuf {
    let venv = std::env::var_os("AGENTPROOF_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv"));
    let program = venv.join("bin").join(name);
    assert!(
        program.is_file(),
        "{} not found: {SETUP_HINT}",
        program.display()
    );
    program
}

/// A fresh folder for one run, removed with everything in it when the `TempDir` drops, unless
/// Schemathesis found failures: then it stays for a look (the failure says where).
fn scratch(name: &str) -> TempDir {
    TempDir::with_prefix(format!("agentproof-schemathesis-{name}-")).expect("a temporary folder")
}

/// The exit status of `child`, killing it if it runs past `limit`.
fn wait(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not end within {} s", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A bearer token of the AUI mock, from its login route.
async fn aui_login(mock: &Mock) -> String {
    let login = serde_json::json!({
        "username": mock.info["aui"]["login_user"],
        "password": mock.info["aui"]["login_password"],
    });
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/api/v2/aiagent/login", mock.url("aui")))
        .json(&login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in the login answer {answer}"))
        .to_string()
}

struct Mock {
    child: Child,
    info: Value,
}

impl Mock {
    /// `agentproof mock` on free ports, its webhook with a bearer secret; ready once its info
    /// file is written and every server answers its health endpoint.
    async fn start(dir: &Path) -> Mock {
        let config = dir.join("agentproof.toml");
        std::fs::write(
            &config,
            format!("[webhook]\nsecret = \"{WEBHOOK_SECRET}\"\n"),
        )
        .unwrap();
        let info_file = dir.join("mocks.json");
        let child = Command::new(env!("CARGO_BIN_EXE_agentproof"))
            .args(["mock", "--alibaba-port", "0", "--aui-port", "0"])
            .args([
                "--duix-port",
                "0",
                "--webhook-port",
                "0",
                "--llm-port",
                "0",
                "--config",
            ])
            .arg(&config)
            .arg("--info-file")
            .arg(&info_file)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join("mock.stdout")).unwrap())
            .stderr(std::fs::File::create(dir.join("mock.stderr")).unwrap())
            .spawn()
            .expect("the agentproof binary runs");
        let info = common::read_info_file(&info_file).await;
        common::assert_healthy(&info, &["alibaba", "aui", "duix"]).await;
        Mock { child, info }
    }

    fn url(&self, server: &str) -> String {
        self.info[server]["url"].as_str().unwrap().to_string()
    }
}

/// The mock ends with the test, passed or failed.
impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
