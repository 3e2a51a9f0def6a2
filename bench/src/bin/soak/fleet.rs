//! The mock processes a soak runs: one `agentproof mock --only <platform>` each, on free ports,
//! ready once `/__admin/health` answers; their configs (the short run's small Alibaba stores),
//! health at the end (exited, or a panic in the log), and the Alibaba mock's store gauges.

use crate::{memory, Settings};
use anyhow::{bail, Context, Result};
use bench::wire::Conn;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One `agentproof mock --only <platform>` process.
struct MockProcess {
    platform: &'static str,
    child: Child,
    log: PathBuf,
}

/// The three mock processes; killed when dropped, whatever happened.
pub struct Fleet {
    processes: Vec<MockProcess>,
    /// Every mock's info merged.
    pub info_file: PathBuf,
}

/// How long a mock may take to listen and answer its health check.
const READY_WITHIN: Duration = Duration::from_secs(60);

impl Fleet {
    pub fn start(agentproof: &Path, out: &Path, settings: &Settings) -> Result<Self> {
        let mut fleet = Fleet {
            processes: Vec::new(),
            info_file: out.join("info.json"),
        };
        let mut info = serde_json::Map::new();
        let alibaba = fleet.spawn(agentproof, out, "alibaba", &alibaba_config(settings))?;
        info.extend(alibaba.clone());
        let upstream = &alibaba["alibaba"];
        let aui = format!(
            "[aui.upstream]\nendpoint = {}\naccess_key_id = {}\naccess_key_secret = {}\n",
            toml_string(&upstream["url"]),
            toml_string(&upstream["access_key_id"]),
            toml_string(&upstream["access_key_secret"]),
        );
        info.extend(fleet.spawn(agentproof, out, "aui", &aui)?);
        // Sessions at once: at most one per connection, and a few closing.
        let key = &bench::mocks::now_ms().to_string();
        let duix = format!(
            "[[duix.apps]]\napp_id = \"soak-app\"\napp_key = \"soak-key-{key}\"\nquota = {}\n",
            (settings.connections * 4).max(8)
        );
        info.extend(fleet.spawn(agentproof, out, "duix", &duix)?);
        std::fs::write(&fleet.info_file, serde_json::to_vec_pretty(&info)?)?;
        Ok(fleet)
    }

    /// Starts one mock on free ports and waits for it: its info file, then its health check.
    fn spawn(
        &mut self,
        agentproof: &Path,
        out: &Path,
        platform: &'static str,
        config: &str,
    ) -> Result<serde_json::Map<String, Value>> {
        let config_file = out.join(format!("{platform}.toml"));
        std::fs::write(&config_file, config)?;
        let info_file = out.join(format!("{platform}.json"));
        let log = out.join(format!("{platform}.log"));
        let log_file = std::fs::File::create(&log)?;
        let child = Command::new(agentproof)
            .args(["mock", "--only", platform, "--config"])
            .arg(&config_file)
            .args(["--info-file"])
            .arg(&info_file)
            .args(["--alibaba-port", "0", "--aui-port", "0", "--duix-port", "0"])
            .args(["--webhook-port", "0", "--llm-port", "0"])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("cannot start {}", agentproof.display()))?;
        self.processes.push(MockProcess {
            platform,
            child,
            log: log.clone(),
        });
        let deadline = Instant::now() + READY_WITHIN;
        let info = loop {
            if let Ok(text) = std::fs::read(&info_file) {
                if let Ok(Value::Object(map)) = serde_json::from_slice(&text) {
                    break map;
                }
            }
            self.still_running(platform, &log)?;
            if Instant::now() > deadline {
                bail!(
                    "the {platform} mock wrote no {} within {READY_WITHIN:?}",
                    info_file.display()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let url = info[platform]["url"]
            .as_str()
            .with_context(|| format!("no {platform}.url in {}", info_file.display()))?;
        wait_healthy(
            &protocol::request::alibaba::host_of(url),
            platform,
            deadline,
        )?;
        Ok(info)
    }

    fn still_running(&mut self, platform: &str, log: &Path) -> Result<()> {
        let process = self
            .processes
            .iter_mut()
            .find(|p| p.platform == platform)
            .context("no such process")?;
        if let Some(status) = process.child.try_wait()? {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            bail!("the {platform} mock exited ({status}):\n{text}");
        }
        Ok(())
    }

    /// The processes' ids, in [`PLATFORMS`] order.
    pub fn pids(&self) -> Vec<u32> {
        self.processes.iter().map(|p| p.child.id()).collect()
    }

    /// Each process's VmRSS, in MiB (NaN once it is gone).
    pub fn rss(&self) -> Vec<f64> {
        self.processes
            .iter()
            .map(|p| memory::rss_mib(p.child.id()).unwrap_or(f64::NAN))
            .collect()
    }

    /// What went wrong with the processes: one exited, or a log tells of a panic.
    pub fn check(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        for process in &mut self.processes {
            if let Ok(Some(status)) = process.child.try_wait() {
                problems.push(format!("the {} mock exited ({status})", process.platform));
            }
            let log = std::fs::read_to_string(&process.log).unwrap_or_default();
            let panics = log.matches("panicked").count();
            if panics > 0 {
                problems.push(format!(
                    "the {} mock's log tells of {panics} panic(s): {}",
                    process.platform,
                    process.log.display()
                ));
            }
        }
        problems
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for process in &mut self.processes {
            let _ = process.child.kill();
            let _ = process.child.wait();
        }
    }
}

/// The Alibaba mock's config: the defaults for the full run. The short run holds its stores
/// smaller, so that they fill within its 10-second warm-up: growth after it is then a leak, not
/// a bounded store on its way to its cap.
fn alibaba_config(settings: &Settings) -> String {
    let mut config = String::new();
    for (key, _, cap) in QUICK_CAPS.iter().filter(|_| settings.quick) {
        config.push_str(&format!("{key} = {cap}\n"));
    }
    if config.is_empty() {
        config
    } else {
        format!("[alibaba]\n{config}")
    }
}

/// The short run's Alibaba store caps: config key, the gauge that shows it, the cap.
const QUICK_CAPS: [(&str, &str, u64); 3] = [
    ("nonce_capacity", "agentproof_alibaba_nonces", 2000),
    ("max_agent_tasks", "agentproof_alibaba_agent_tasks", 500),
    (
        "max_ai_agent_instances",
        "agentproof_alibaba_ai_agent_instances",
        500,
    ),
];

/// In the short run, the stores must be at the caps it configured at the end of the warm-up:
/// else the growth it reports includes their filling.
pub fn check_quick_caps(warm: &[(String, u64)]) -> Vec<String> {
    QUICK_CAPS
        .iter()
        .filter_map(|(key, gauge, cap)| {
            let held = warm.iter().find(|(name, _)| name == gauge).map(|(_, v)| *v);
            (held != Some(*cap)).then(|| {
                format!(
                    "the Alibaba mock's {gauge} was {held:?} at the end of the warm-up, not the \
                     {cap} of [alibaba] {key}: its growth figure includes a store still filling"
                )
            })
        })
        .collect()
}

fn toml_string(value: &Value) -> String {
    // A JSON string is a valid TOML basic string for the ASCII the mocks print.
    Value::String(value.as_str().unwrap_or_default().to_string()).to_string()
}

/// Polls `GET /__admin/health` until it answers 200.
fn wait_healthy(addr: &str, platform: &str, deadline: Instant) -> Result<()> {
    let request = format!("GET /__admin/health HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    loop {
        let mut conn = Conn::new(addr, Duration::from_secs(2));
        match conn.send(request.as_bytes()) {
            Ok(answer) if answer.status == 200 => return Ok(()),
            Ok(_) | Err(_) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Ok(answer) => bail!(
                "the {platform} mock's health check answered {}",
                answer.status
            ),
            Err(e) => bail!("the {platform} mock's health check failed: {e}"),
        }
    }
}

/// The Alibaba mock's `agentproof_alibaba_*` gauges (its stores' sizes), from `/metrics`.
pub fn alibaba_stores(addr: &str) -> Vec<(String, u64)> {
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let Ok(answer) = Conn::new(addr, Duration::from_secs(5)).send(request.as_bytes()) else {
        return Vec::new();
    };
    gauges(&answer.text(), "agentproof_alibaba_")
}

/// `nonces 100000, agent_tasks 10000, …`.
pub fn stores_text(gauges: &[(String, u64)]) -> String {
    gauges
        .iter()
        .map(|(name, value)| format!("{} {value}", name.trim_start_matches("agentproof_alibaba_")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `name value` of the Prometheus samples whose name starts with `prefix`.
fn gauges(text: &str, prefix: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter(|line| line.starts_with(prefix))
        .filter_map(|line| {
            let name = line.split(['{', ' ']).next()?;
            let value = line.rsplit(' ').next()?.parse().ok()?;
            Some((name.to_string(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn gauges_are_read_by_prefix_labels_or_not() {
        let text = "# HELP agentproof_alibaba_nonces n\n# TYPE agentproof_alibaba_nonces gauge\n\
                    agentproof_alibaba_nonces{platform=\"alibaba\"} 2000\n\
                    agentproof_alibaba_agent_tasks 500\nagentproof_requests_total{x=\"y\"} 9\n";
        assert_eq!(
            gauges(text, "agentproof_alibaba_"),
            vec![
                ("agentproof_alibaba_nonces".to_string(), 2000),
                ("agentproof_alibaba_agent_tasks".to_string(), 500)
            ]
        );
    }

    #[test]
    fn the_quick_run_writes_its_caps_and_insists_on_them_being_reached() {
        let quick = Settings::from(&crate::Args::parse_from(["soak", "--quick"])).unwrap();
        let config = alibaba_config(&quick);
        assert!(config.starts_with("[alibaba]\n") && config.contains("max_agent_tasks = 500\n"));
        let full = Settings::from(&crate::Args::parse_from(["soak"])).unwrap();
        assert_eq!(alibaba_config(&full), "");
        let full_stores: Vec<(String, u64)> = QUICK_CAPS
            .iter()
            .map(|(_, gauge, cap)| (gauge.to_string(), *cap))
            .collect();
        assert!(check_quick_caps(&full_stores).is_empty());
        let mut filling = full_stores.clone();
        filling[1].1 = 120;
        let problems = check_quick_caps(&filling);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("max_agent_tasks"), "{problems:?}");
        assert_eq!(check_quick_caps(&[]).len(), 3, "no gauges at all");
    }
}
