//! `agentproof mock`: the three platform mocks and the reference webhook in one process, sharing one
//! virtual clock, until SIGINT or SIGTERM.

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

async fn bind(name: &'static str, ip: IpAddr, port: u16, flag: &str) -> Result<SocketAddr> {
    let addr = SocketAddr::new(ip, port);
    // Probe early so a port in use gets a message naming the flag to change.
    let probe = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!(
            "cannot listen for {name} on {addr}: pick another port with {flag} (0 = any free port)"
        )
    })?;
    drop(probe);
    Ok(addr)
}

async fn start_all(args: &EmbeddedOptions, mut config: MockConfig) -> Result<Embedded> {
    let clock = VirtualClock::new();
    let mut started = Embedded {
        servers: Vec::new(),
        info: Map::new(),
        clock: clock.clone(),
    };

    if args.wanted("duix") && config.duix.default_webhook.is_none() {
        let addr = bind(
            "the reference webhook",
            args.bind,
            args.webhook_port,
            "--webhook-port",
        )
        .await?;
        let vendor = mocks::duix::vendor::VendorConfig {
            shared_secret: config.webhook.secret.clone(),
            answer_delay_ms: config.webhook.delay_ms,
        };
        let server = mocks::duix::vendor::start(vendor, addr).await?;
        config.duix.default_webhook = Some(server.url());
        config.duix.webhook_bearer = config.webhook.secret.clone();
        started
            .info
            .insert("webhook".into(), json!({"url": server.url()}));
        started.servers.push(("webhook", server));
    }
    if args.wanted("alibaba") {
        let addr = bind("alibaba", args.bind, args.alibaba_port, "--alibaba-port").await?;
        let credential = config.alibaba.credentials.first().cloned();
        let server = serve(
            mocks::alibaba::build(config.alibaba.clone(), clock.clone()),
            addr,
            args,
        )
        .await?;
        if let Some(credential) = credential {
            if config.aui.upstream.endpoint.is_empty() {
                config.aui.upstream.endpoint = server.url();
                config.aui.upstream.access_key_id = credential.access_key_id.clone();
                config.aui.upstream.access_key_secret = credential.access_key_secret.clone();
            }
            started.info.insert(
                "alibaba".into(),
                json!({"url": server.url(), "access_key_id": credential.access_key_id, "access_key_secret": credential.access_key_secret}),
            );
        }
        started.servers.push(("alibaba", server));
    }
    if args.wanted("aui") {
        anyhow::ensure!(
            !config.aui.upstream.endpoint.is_empty(),
            "the AUI app server needs an upstream: start alibaba too, or set [aui.upstream] endpoint in the config"
        );
        let addr = bind("aui", args.bind, args.aui_port, "--aui-port").await?;
        if let Some(warning) = demo_login_warning(args.bind, &config.aui) {
            eprintln!("{warning}");
        }
        let aui = config.aui.clone();
        let server = serve(mocks::aui::build(config.aui, clock.clone()), addr, args).await?;
        started.info.insert(
            "aui".into(),
            json!({"url": server.url(), "app_id": aui.app_id, "app_key": aui.app_key, "login_user": aui.login_user, "login_password": aui.login_password}),
        );
        started.servers.push(("aui", server));
    }
    if args.wanted("duix") {
        let addr = bind("duix", args.bind, args.duix_port, "--duix-port").await?;
        let app = config.duix.apps.first().cloned();
        let server = serve(mocks::duix::build(config.duix, clock.clone()), addr, args).await?;
        if let Some(app) = app {
            started.info.insert(
                "duix".into(),
                json!({"url": server.url(), "app_id": app.app_id, "app_key": app.app_key}),
            );
        }
        started.servers.push(("duix", server));
    }
    Ok(started)
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

/// Serves one built platform, without its admin API when asked.
async fn serve(
    (ctx, router): (std::sync::Arc<mocks::MockContext>, axum::Router),
    addr: SocketAddr,
    options: &EmbeddedOptions,
) -> Result<MockServer> {
    if options.no_admin {
        ctx.disable_admin();
    }
    Ok(MockServer::start(router, addr).await?)
}

fn print_banner(info: &Map<String, Value>) {
    println!("agentproof mocks are running (Ctrl-C stops them):");
    for (platform, details) in info {
        let url = details["url"].as_str().unwrap_or("");
        println!("  {platform:<8} {url}");
        if let Some(fields) = details.as_object() {
            for (key, value) in fields.iter().filter(|(k, _)| *k != "url") {
                println!("           {key:<18} {}", value.as_str().unwrap_or(""));
            }
        }
    }
    println!("  admin    <url>/__admin/health, /__admin/clock, /__admin/faults, /__admin/requests, /metrics");
}

async fn wait_for_signal() {
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
