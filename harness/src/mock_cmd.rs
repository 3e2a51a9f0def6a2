//! `agentproof mock`: the three platform mocks, the reference webhook (beside DUIX) and the
//! reference LLM endpoint (beside Alibaba) in one process, sharing one virtual clock, until SIGINT
//! or SIGTERM.

use crate::cli::MockArgs;
use crate::config::MockConfig;
use anyhow::{Context, Result};
use mocks::{MockServer, VirtualClock};
use serde_json::{json, Map, Value};
use std::net::{IpAddr, SocketAddr};

/// Where the embedded mocks listen and which of them run.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    pub bind: IpAddr,
    pub alibaba_port: u16,
    pub aui_port: u16,
    pub duix_port: u16,
    pub webhook_port: u16,
    pub llm_port: u16,
    /// Empty = all platforms.
    pub only: Vec<String>,
    /// Leave the admin API out of every platform server.
    pub no_admin: bool,
}

impl EmbeddedOptions {
    /// Every platform on loopback, each on a free port: what `agentproof check` uses.
    pub fn ephemeral() -> Self {
        EmbeddedOptions {
            bind: IpAddr::from([127, 0, 0, 1]),
            alibaba_port: 0,
            aui_port: 0,
            duix_port: 0,
            webhook_port: 0,
            llm_port: 0,
            only: Vec::new(),
            no_admin: false,
        }
    }

    fn wanted(&self, platform: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == platform)
    }
}

impl From<&MockArgs> for EmbeddedOptions {
    fn from(args: &MockArgs) -> Self {
        EmbeddedOptions {
            bind: args.bind,
            alibaba_port: args.alibaba_port,
            aui_port: args.aui_port,
            duix_port: args.duix_port,
            webhook_port: args.webhook_port,
            llm_port: args.llm_port,
            only: args.only.clone(),
            no_admin: args.no_admin,
        }
    }
}

/// The mocks running in this process, sharing one virtual clock.
pub struct Embedded {
    /// In start order (shut down in reverse).
    servers: Vec<(&'static str, MockServer)>,
    /// URLs and credentials per platform, as written by --info-file.
    pub info: Map<String, Value>,
    pub clock: VirtualClock,
}

impl Embedded {
    /// Starts the wanted platforms, AUI wired to the embedded Alibaba mock and DUIX to the
    /// embedded reference webhook unless `config` names others.
    pub async fn start(options: &EmbeddedOptions, config: MockConfig) -> Result<Self> {
        start_all(options, config).await
    }

    /// The base URL of one platform, when it runs.
    pub fn url(&self, platform: &str) -> Option<&str> {
        self.info.get(platform)?.get("url")?.as_str()
    }

    /// Graceful shutdown of every server, last started first.
    pub async fn shutdown(self) {
        for (_, server) in self.servers.into_iter().rev() {
            server.shutdown().await;
        }
    }
}

pub async fn run(args: MockArgs) -> Result<()> {
    let config = MockConfig::load(args.config.as_deref(), |k| std::env::var(k).ok())?;
    let embedded = Embedded::start(&EmbeddedOptions::from(&args), config).await?;
    print_banner(&embedded.info);
    if let Some(path) = &args.info_file {
        let text = serde_json::to_string_pretty(&Value::Object(embedded.info.clone()))?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write --info-file {}", path.display()))?;
    }
    wait_for_signal().await;
    eprintln!("shutting down (letting requests in flight finish)...");
    embedded.shutdown().await;
    Ok(())
}

/// The message for a port that cannot be listened on, naming the flag that changes it.
fn cannot_listen(name: &str, addr: SocketAddr, flag: &str) -> String {
    format!("cannot listen for {name} on {addr}: pick another port with {flag} (0 = any free port)")
}

async fn start_all(options: &EmbeddedOptions, mut config: MockConfig) -> Result<Embedded> {
    let mut started = Embedded {
        servers: Vec::new(),
        info: Map::new(),
        clock: VirtualClock::new(),
    };
    if options.wanted("duix") && config.duix.default_webhook.is_none() {
        start_webhook(options, &mut config, &mut started).await?;
    }
    let mut alibaba_app = None;
    if options.wanted("alibaba") {
        start_llm(options, &config, &mut started).await?;
        alibaba_app = start_alibaba(options, &mut config, &mut started).await?;
    }
    if options.wanted("aui") {
        start_aui(
            options,
            config.aui,
            &config.limits,
            alibaba_app,
            &mut started,
        )
        .await?;
    }
    if options.wanted("duix") {
        start_duix(options, config.duix, &config.limits, &mut started).await?;
    }
    Ok(started)
}

impl Embedded {
    fn add(&mut self, name: &'static str, server: MockServer, mut info: Value) {
        info["url"] = server.url().into();
        self.info.insert(name.into(), info);
        self.servers.push((name, server));
    }
}

/// The reference vendor webhook, which DUIX then calls (with its secret, when one is set).
async fn start_webhook(
    options: &EmbeddedOptions,
    config: &mut MockConfig,
    started: &mut Embedded,
) -> Result<()> {
    let addr = SocketAddr::new(options.bind, options.webhook_port);
    let vendor = mocks::duix::vendor::VendorConfig {
        shared_secret: config.webhook.secret.clone(),
        answer_delay_ms: config.webhook.delay_ms,
    };
    let server = mocks::duix::vendor::start_with_limits(vendor, addr, &config.limits)
        .await
        .with_context(|| cannot_listen("the reference webhook", addr, "--webhook-port"))?;
    config.duix.default_webhook = Some(server.url());
    config.duix.webhook_bearer = config.webhook.secret.clone();
    started.add("webhook", server, json!({}));
    Ok(())
}

/// The reference LLM endpoint an agent's third-party LLM can point at (agentproof serve-llm).
async fn start_llm(
    options: &EmbeddedOptions,
    config: &MockConfig,
    started: &mut Embedded,
) -> Result<()> {
    let addr = SocketAddr::new(options.bind, options.llm_port);
    let vendor = mocks::alibaba::llm::vendor::VendorConfig {
        api_key: Some(config.llm.api_key.clone()).filter(|k| !k.is_empty()),
        first_token_delay_ms: config.llm.first_token_delay_ms,
        token_delay_ms: config.llm.token_delay_ms,
    };
    let server = mocks::alibaba::llm::vendor::start_with_limits(vendor, addr, &config.limits)
        .await
        .with_context(|| cannot_listen("the reference LLM endpoint", addr, "--llm-port"))?;
    let url = mocks::alibaba::llm::vendor::base_url(&server);
    started.add("llm", server, json!({"api_key": config.llm.api_key}));
    // Its base URL, as an agent is configured with it (the platform appends /chat/completions).
    started.info["llm"]["url"] = url.into();
    Ok(())
}

/// The Alibaba mock; an AUI server without an upstream of its own is pointed at it, and then gets
/// its application to call in-process (returned).
async fn start_alibaba(
    options: &EmbeddedOptions,
    config: &mut MockConfig,
    started: &mut Embedded,
) -> Result<Option<axum::Router>> {
    let addr = SocketAddr::new(options.bind, options.alibaba_port);
    let built = mocks::alibaba::build(
        config.alibaba.clone(),
        started.clock.clone(),
        config.limits.clone(),
    );
    let app = built.1.clone();
    let server = serve(built, addr, options)
        .await
        .with_context(|| cannot_listen("alibaba", addr, "--alibaba-port"))?;
    let credential = config
        .alibaba
        .credentials
        .first()
        .cloned()
        .unwrap_or_default();
    let mut beside_aui = None;
    if config.aui.upstream.endpoint.is_empty() {
        config.aui.upstream.endpoint = server.url();
        config.aui.upstream.access_key_id = credential.access_key_id.clone();
        config.aui.upstream.access_key_secret = credential.access_key_secret.clone();
        beside_aui = Some(app);
    }
    let info = json!({"access_key_id": credential.access_key_id, "access_key_secret": credential.access_key_secret});
    started.add("alibaba", server, info);
    Ok(beside_aui)
}

/// The AUI app server; with `alibaba`, the embedded Alibaba mock it calls in-process.
async fn start_aui(
    options: &EmbeddedOptions,
    aui: mocks::aui::AuiConfig,
    limits: &mocks::Limits,
    alibaba: Option<axum::Router>,
    started: &mut Embedded,
) -> Result<()> {
    anyhow::ensure!(
        !aui.upstream.endpoint.is_empty(),
        "the AUI app server needs an upstream: start alibaba too, or set [aui.upstream] endpoint in the config"
    );
    let addr = SocketAddr::new(options.bind, options.aui_port);
    if let Some(warning) = demo_login_warning(options.bind, &aui) {
        eprintln!("{warning}");
    }
    let info = json!({"app_id": aui.app_id, "app_key": aui.app_key, "login_user": aui.login_user, "login_password": aui.login_password});
    let (clock, limits) = (started.clock.clone(), limits.clone());
    let built = match alibaba {
        Some(app) => mocks::aui::build_beside_alibaba(aui, clock, limits, app),
        None => mocks::aui::build(aui, clock, limits),
    };
    let server = serve(built, addr, options)
        .await
        .with_context(|| cannot_listen("aui", addr, "--aui-port"))?;
    started.add("aui", server, info);
    Ok(())
}

async fn start_duix(
    options: &EmbeddedOptions,
    duix: mocks::duix::DuixConfig,
    limits: &mocks::Limits,
    started: &mut Embedded,
) -> Result<()> {
    let addr = SocketAddr::new(options.bind, options.duix_port);
    let app = duix.apps.first().cloned().unwrap_or_default();
    let built = mocks::duix::build(duix, started.clock.clone(), limits.clone());
    let server = serve(built, addr, options)
        .await
        .with_context(|| cannot_listen("duix", addr, "--duix-port"))?;
    started.add(
        "duix",
        server,
        json!({"app_id": app.app_id, "app_key": app.app_key}),
    );
    Ok(())
}

/// A warning when the AUI server listens beyond loopback with the published demo login, which
/// would let anyone on the network in.
fn demo_login_warning(bind: IpAddr, aui: &mocks::aui::AuiConfig) -> Option<String> {
    let demo = aui.auth && aui.login_password == mocks::aui::DEMO_PASSWORD;
    (demo && !bind.is_loopback()).then(|| {
        format!(
            "warning: the AUI server listens on {bind} with the demo login (password {:?}); \
             set [aui] login_password (or AGENTPROOF_AUI_LOGIN_PASSWORD) before exposing it",
            mocks::aui::DEMO_PASSWORD
        )
    })
}

/// Serves one built platform with the limits its context holds, without its admin API when asked.
async fn serve(
    (ctx, router): (std::sync::Arc<mocks::MockContext>, axum::Router),
    addr: SocketAddr,
    options: &EmbeddedOptions,
) -> Result<MockServer> {
    if options.no_admin {
        ctx.disable_admin();
    }
    Ok(MockServer::start_with_limits(router, addr, &ctx.limits).await?)
}

fn print_banner(info: &Map<String, Value>) {
    println!("agentproof mocks are running (Ctrl-C stops them):");
    let demo = demo_secrets();
    for (platform, details) in info {
        let url = details["url"].as_str().unwrap_or("");
        println!("  {platform:<8} {url}");
        if let Some(fields) = details.as_object() {
            for (key, value) in fields.iter().filter(|(k, _)| *k != "url") {
                let value = value.as_str().unwrap_or("");
                println!("           {key:<18} {}", shown(key, value, &demo));
            }
        }
    }
    println!("  admin    <url>/__admin/health, /__admin/clock, /__admin/faults, /__admin/requests, /metrics");
}

/// The published demo secrets: the only secrets the banner prints.
fn demo_secrets() -> Vec<String> {
    let aui = mocks::aui::AuiConfig::default();
    let alibaba = mocks::alibaba::AlibabaConfig::default().credentials;
    let duix = mocks::duix::DuixConfig::default().apps;
    alibaba
        .into_iter()
        .map(|c| c.access_key_secret)
        .chain(duix.into_iter().map(|a| a.app_key))
        .chain([aui.app_key, aui.login_password])
        .chain([crate::config::DEMO_LLM_API_KEY.to_string()])
        .collect()
}

/// A configured secret is masked (stdout ends up in logs); the demo ones are printed so a
/// developer can copy them. --info-file always has the real values.
fn shown<'a>(key: &str, value: &'a str, demo: &[String]) -> &'a str {
    let secret = ["secret", "key", "password"]
        .iter()
        .any(|word| key.ends_with(word));
    let is_id = key.ends_with("_id");
    if secret && !is_id && !demo.iter().any(|d| d == value) {
        "*** (configured; see --info-file)"
    } else {
        value
    }
}

pub(crate) async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_prints_demo_secrets_and_masks_configured_ones() {
        let demo = demo_secrets();
        assert_eq!(
            shown("access_key_secret", "AgentproofDemoSecret0123456789", &demo),
            "AgentproofDemoSecret0123456789"
        );
        assert!(shown("access_key_secret", "a-real-secret", &demo).starts_with("***"));
        assert!(shown("app_key", "real-app-key", &demo).starts_with("***"));
        assert!(shown("login_password", "wonderland", &demo).starts_with("***"));
        assert_eq!(
            shown("access_key_id", "LTAI-real-id", &demo),
            "LTAI-real-id"
        );
        assert_eq!(shown("login_user", "alice", &demo), "alice");
    }

    #[tokio::test]
    async fn the_configured_limits_reach_every_embedded_platform() {
        let mut config = MockConfig::default();
        config.limits.max_body_bytes = 64;
        config.limits.journal_capacity = 2;
        let embedded = Embedded::start(&EmbeddedOptions::ephemeral(), config)
            .await
            .unwrap();
        let client = reqwest::Client::new();
        let routes = [
            ("alibaba", "/"),
            ("aui", "/api/v2/aiagent/login"),
            ("duix", "/__duix/webhooks"),
        ];
        for (platform, route) in routes {
            let url = format!("{}{route}", embedded.url(platform).unwrap());
            for _ in 0..3 {
                let answer = client.post(&url).body("x".repeat(100)).send().await;
                assert_eq!(answer.unwrap().status(), 413, "{platform}");
            }
            let journal = format!("{}/__admin/requests", embedded.url(platform).unwrap());
            let journal: Value = client
                .get(journal)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(journal["count"], 2, "{platform}: {journal}");
        }
        embedded.shutdown().await;
    }

    #[tokio::test]
    async fn the_configured_limits_reach_the_reference_webhook() {
        use std::time::Duration;
        use tokio::io::AsyncReadExt;
        let mut config = MockConfig::default();
        config.limits.max_body_bytes = 256;
        config.limits.header_read_timeout_ms = 200;
        let embedded = Embedded::start(&EmbeddedOptions::ephemeral(), config)
            .await
            .unwrap();
        let url = embedded.url("webhook").unwrap().to_string();
        let question = |text: &str| json!({"sid": "s1", "dh-code": "c1", "dh-question": text, "dh-conversation-id": "v1"});
        let client = reqwest::Client::new();
        let small = client
            .post(&url)
            .json(&question("hi"))
            .send()
            .await
            .unwrap();
        assert_eq!(small.status(), 200);
        let large = client.post(&url).json(&question(&"x".repeat(300))).send();
        let large = large.await.unwrap();
        assert_eq!(large.status(), 400);
        let body: Value = large.json().await.unwrap();
        assert!(
            body["msg"].as_str().unwrap().contains("length limit"),
            "{body}"
        );
        // A client that never sends its head is cut off after the configured 200 ms, not the
        // default 30 s: the read ends (EOF or reset) well inside the 10 s allowed here.
        let addr = url.trim_start_matches("http://");
        let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(10), idle.read(&mut byte)).await;
        assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
        // The reference LLM endpoint holds them too.
        let llm = format!("{}/chat/completions", embedded.url("llm").unwrap());
        let messages = json!([{"role": "user", "content": "x".repeat(300)}]);
        let large = client
            .post(&llm)
            .bearer_auth(crate::config::DEMO_LLM_API_KEY)
            .json(&json!({"model": "m", "messages": messages, "stream": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(large.status(), 400);
        let body: Value = large.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("length limit"), "{body}");
        embedded.shutdown().await;
    }

    #[test]
    fn the_demo_login_is_only_flagged_beyond_loopback() {
        let demo = mocks::aui::AuiConfig::default();
        assert!(demo_login_warning(IpAddr::from([127, 0, 0, 1]), &demo).is_none());
        assert!(demo_login_warning(IpAddr::from([0, 0, 0, 0]), &demo).is_some());
        let real = mocks::aui::AuiConfig {
            login_password: "a real one".into(),
            ..demo
        };
        assert!(demo_login_warning(IpAddr::from([0, 0, 0, 0]), &real).is_none());
    }
}
