//! The container image and the Kubernetes manifests, checked offline (nothing is built or
//! applied here): the Dockerfile as Docker's own parser reads it (PyPI `dockerfile`), every
//! manifest in deploy/ against the Kubernetes schemas (PyPI `kubernetes-validate`, which bundles
//! them), and the command lines of the Jobs, expanded as the kubelet expands `$(VAR)`, run by
//! the real binary (`load ... --dry-run`, `report merge`).
//!
//! The Python side is deploy/tests/manifests.py (it prints JSON facts; the assertions are
//! here), run with the venv of `.ci/setup-python` (at `$AGENTPROOF_VENV`, else
//! `<workspace>/.venv`). A missing venv fails the test, as the other venv tests do.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The Kubernetes version the manifests are validated for: backoffLimitPerIndex is GA there.
const K8S_VERSION: &str = "1.33";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness crate sits in the workspace")
        .to_path_buf()
}

/// `$AGENTPROOF_VENV`, else `<workspace>/.venv`.
fn venv_python() -> PathBuf {
    let venv = std::env::var_os("AGENTPROOF_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv"));
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "no Python venv at {}: run .ci/setup-python (or set AGENTPROOF_VENV)",
        venv.display()
    );
    python
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `deploy/tests/manifests.py ARGS...`, its JSON.
fn facts(args: &[&str]) -> Value {
    let output = Command::new(venv_python())
        .arg(workspace().join("deploy/tests/manifests.py"))
        .args(args)
        .current_dir(workspace())
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "manifests.py {args:?} failed: {}",
        describe(&output)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "manifests.py {args:?}: not JSON ({e}): {}",
            describe(&output)
        )
    })
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

fn instructions<'a>(stage: &'a Value, cmd: &str) -> Vec<&'a Value> {
    stage["instructions"]
        .as_array()
        .expect("instructions")
        .iter()
        .filter(|i| i["cmd"] == cmd)
        .collect()
}

#[test]
fn dockerfile_is_multi_stage_slim_non_root_with_the_agentproof_entrypoint() {
    let dockerfile = workspace().join("Dockerfile");
    let facts = facts(&["dockerfile", &dockerfile.display().to_string()]);
    let stages = facts["stages"].as_array().expect("stages");
    assert!(
        stages.len() >= 2,
        "a multi-stage build needs at least two FROM stages: {stages:?}"
    );
    let last = stages.last().unwrap();

    // The final stage: a slim base, a non-root user, `agentproof` as the entrypoint.
    let base = last["from"].as_str().unwrap();
    assert!(
        base.contains("slim"),
        "the final stage must be FROM a slim image, not {base}"
    );
    let users = instructions(last, "USER");
    let user = users
        .last()
        .expect("the final stage sets no USER (it would run as root)");
    let user = user["value"][0].as_str().unwrap();
    let name = user.split(':').next().unwrap();
    assert!(
        !matches!(name, "root" | "0" | ""),
        "the final stage's USER is {user:?}: it must not be root"
    );
    let entrypoint = instructions(last, "ENTRYPOINT");
    let entrypoint = entrypoint
        .last()
        .expect("the final stage has an ENTRYPOINT");
    assert_eq!(
        entrypoint["json"], true,
        "ENTRYPOINT in exec (JSON) form, so arguments reach agentproof unchanged"
    );
    assert_eq!(strings(&entrypoint["value"]), ["agentproof"]);
    assert!(
        !instructions(last, "CMD").is_empty(),
        "a default CMD (e.g. [\"--help\"])"
    );

    // The binary comes from the build stage, which builds it with the locked dependencies.
    let copies = instructions(last, "COPY");
    let copy = copies
        .iter()
        .find(|c| {
            strings(&c["value"]).first().map(String::as_str) == Some("/usr/local/bin/agentproof")
        })
        .expect("the final stage copies no /usr/local/bin/agentproof");
    let from = strings(&copy["flags"])
        .iter()
        .find_map(|f| f.strip_prefix("--from=").map(str::to_string))
        .expect("the binary is copied --from the build stage");
    let build = stages[..stages.len() - 1]
        .iter()
        .enumerate()
        .find(|(i, s)| s["name"].as_str() == Some(from.as_str()) || from.parse() == Ok(*i))
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("COPY --from={from}: no earlier stage of that name"));
    assert!(
        build["from"].as_str().unwrap().starts_with("rust:"),
        "the build stage is FROM a rust image: {}",
        build["from"]
    );
    let runs: Vec<String> = instructions(build, "RUN")
        .iter()
        .flat_map(|r| strings(&r["value"]))
        .collect();
    assert!(
        runs.iter()
            .any(|r| r.contains("cargo build --release -p harness --locked")
                && r.contains("/usr/local/bin/agentproof")),
        "the build stage runs `cargo build --release -p harness --locked` and puts the binary \
         at /usr/local/bin/agentproof: {runs:?}"
    );
    // And a user that is really there: the final stage creates it.
    let created = instructions(last, "RUN")
        .iter()
        .flat_map(|r| strings(&r["value"]))
        .any(|r| r.contains("useradd") && r.contains(name));
    assert!(created, "the final stage creates the user {name}");
}

#[test]
fn dockerignore_keeps_builds_and_secrets_out_of_the_context() {
    let ignore = std::fs::read_to_string(workspace().join(".dockerignore")).expect(".dockerignore");
    let lines: Vec<&str> = ignore.lines().map(str::trim).collect();
    for needed in ["target/", ".venv/", ".git"] {
        assert!(lines.contains(&needed), ".dockerignore lacks {needed}");
    }
}

#[test]
fn every_manifest_is_valid_kubernetes() {
    let deploy = workspace().join("deploy");
    let facts = facts(&["validate", &deploy.display().to_string(), K8S_VERSION]);
    let errors = strings(&facts["errors"]);
    assert!(
        errors.is_empty(),
        "manifests invalid for Kubernetes {K8S_VERSION}:\n{}",
        errors.join("\n")
    );
    assert_eq!(
        facts["mutant_rejected"], true,
        "the validator must refuse a Job with a misspelt field: is it checking at all?"
    );
    let resources: Vec<(String, String)> = facts["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or_default().to_string(),
                r["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for (kind, name) in [
        ("ConfigMap", "agentproof-load"),
        ("Secret", "agentproof-credentials"),
        ("PersistentVolumeClaim", "agentproof-results"),
        ("Job", "agentproof-load"),
        ("Job", "agentproof-merge"),
    ] {
        assert!(
            resources.contains(&(kind.to_string(), name.to_string())),
            "deploy/ has no {kind} {name}: {resources:?}"
        );
    }
}

/// The command facts with worker `index`'s sample values.
fn commands(index: u32) -> Value {
    let deploy = workspace().join("deploy");
    facts(&[
        "commands",
        &deploy.display().to_string(),
        &format!("JOB_COMPLETION_INDEX={index}"),
        "START_AT=2026-12-02T12:00:00Z",
        "RUN_ID=run1",
    ])
}

fn agentproof(args: &[String], env: &serde_json::Map<String, Value>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agentproof"));
    command.args(args);
    for (name, value) in env {
        command.env(name, value.as_str().unwrap());
    }
    command.output().expect("the binary runs")
}

#[test]
fn the_jobs_are_an_indexed_load_of_four_workers_and_their_merge() {
    let facts = commands(2);
    let load = &facts["jobs"]["agentproof-load"];
    let merge = &facts["jobs"]["agentproof-merge"];
    assert_eq!(load["completionMode"], "Indexed");
    let workers = load["completions"].as_u64().expect("completions");
    assert_eq!(workers, 4);
    assert_eq!(load["parallelism"], load["completions"]);
    let per_index = load["backoffLimitPerIndex"].as_u64();
    assert!(
        matches!(per_index, Some(0 | 1)),
        "backoffLimitPerIndex 0 or 1: {per_index:?}"
    );
    for job in [load, merge] {
        let name = &job["name"];
        assert_eq!(job["restartPolicy"], "Never", "{name}");
        assert_eq!(job["pod_security"]["runAsNonRoot"], true, "{name}");
        assert_eq!(
            job["container_security"]["allowPrivilegeEscalation"], false,
            "{name}"
        );
        assert_eq!(
            job["container_security"]["readOnlyRootFilesystem"], true,
            "{name}"
        );
        for kind in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                assert!(
                    job["resources"][kind][resource].is_string(),
                    "{name}: resources.{kind}.{resource} missing"
                );
            }
        }
        assert_eq!(
            job["mounts"]["/results"], "results",
            "{name}: /results mounted"
        );
        assert_eq!(job["claims"]["results"], "agentproof-results", "{name}");
        if *name == "agentproof-load" {
            assert_eq!(
                job["mounts"]["/etc/agentproof/journeys"], "journeys",
                "the workers read journey files from the ConfigMap agentproof-journeys"
            );
        }
        assert!(
            strings(&job["unresolved"]).is_empty(),
            "{name}: $(VAR) with no value in the container's environment: {}",
            job["unresolved"]
        );
    }
    assert_eq!(load["image"], merge["image"], "one image for both jobs");
    assert_eq!(
        strings(&facts["claims"]["agentproof-results"]),
        ["ReadWriteMany"],
        "the workers on several nodes write the results volume at once"
    );

    // The worker count in the args is the Job's.
    let raw = strings(&load["raw_args"]);
    let worker = raw.iter().position(|a| a == "--worker").expect("--worker");
    assert_eq!(
        raw[worker + 1],
        format!("$(JOB_COMPLETION_INDEX)/{workers}")
    );
    let args = strings(&load["args"]);
    let report_dir = args.iter().position(|a| a == "--report-dir").unwrap();
    assert_eq!(args[report_dir + 1], "/results/run1/worker-2");

    // The merge reads exactly the folders the workers write.
    let merge_args = strings(&merge["args"]);
    assert_eq!(merge_args[..2], ["report", "merge"]);
    let out = merge_args.iter().position(|a| a == "--out").expect("--out");
    let folders: Vec<String> = (0..workers)
        .map(|i| format!("/results/run1/worker-{i}"))
        .collect();
    assert_eq!(merge_args[2..out], folders[..]);
    assert_eq!(merge_args[out + 1], "/results/run1/merged");
}

#[test]
fn the_load_job_command_line_is_accepted_by_agentproof_for_every_worker() {
    let workers = commands(0)["jobs"]["agentproof-load"]["completions"]
        .as_u64()
        .unwrap();
    for index in 0..workers {
        let facts = commands(index as u32);
        let load = &facts["jobs"]["agentproof-load"];
        let mut args = strings(&load["args"]);
        args.push("--dry-run".to_string());
        // The Secret template's placeholders stand in for the credentials, read from the
        // environment as the pod reads them.
        let env = load["secret_env"].as_object().expect("secret_env");
        assert!(
            env.contains_key("AGENTPROOF_CHECK_AUI_USER"),
            "the Secret holds AGENTPROOF_CHECK_AUI_USER: {env:?}"
        );
        let output = agentproof(&args, env);
        assert_eq!(
            output.status.code(),
            Some(0),
            "agentproof {args:?}: {}",
            describe(&output)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let scenario = &facts["configmaps"]["agentproof-load"]["SCENARIO"];
        assert!(
            stdout.contains(&format!("scenario {}", scenario.as_str().unwrap())),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!("worker {index} of {workers}")),
            "{stdout}"
        );
        for secret in env.values() {
            let secret = secret.as_str().unwrap();
            let secret = secret.split_once(':').map_or(secret, |(_, s)| s);
            assert!(
                !stdout.contains(secret),
                "the plan prints a credential: {stdout}"
            );
        }
    }
}

#[test]
fn the_merge_job_command_line_is_accepted_by_agentproof() {
    let facts = commands(0);
    let args = strings(&facts["jobs"]["agentproof-merge"]["args"]);
    let help = agentproof(
        &[args[0].clone(), args[1].clone(), "--help".to_string()],
        &serde_json::Map::new(),
    );
    assert!(help.status.success(), "{}", describe(&help));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--allow-partial"));
    // `report merge` has no dry run: with no worker folders there it must get past the
    // argument parsing and fail on the first folder (exit 2), not on its usage.
    let output = agentproof(&args, &serde_json::Map::new());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(
        !stderr.contains("Usage:") && stderr.contains("/results/run1/worker-0"),
        "the merge job's arguments are not what `agentproof report merge` takes: {}",
        describe(&output)
    );
}
