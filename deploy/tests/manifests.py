#!/usr/bin/env python3
"""Facts about the Dockerfile and the Kubernetes manifests in deploy/, as JSON on stdout.

Called by harness/tests/deploy.rs (which makes the assertions), with the venv of
.ci/setup-python (the PyPI packages `dockerfile` and `kubernetes-validate`). Offline: both
packages ship what they need (the Go Dockerfile parser, the Kubernetes JSON schemas).

  manifests.py dockerfile PATH
      The stages of the Dockerfile as the official parser reads them.
  manifests.py validate DEPLOY_DIR K8S_VERSION
      Every YAML document under DEPLOY_DIR checked against the Kubernetes schemas of that
      version (strict: unknown fields are errors), and the errors with their messages.
  manifests.py commands DEPLOY_DIR NAME=VALUE...
      The container args of the Indexed Job agentproof-load and of the Job agentproof-merge,
      with every $(VAR) expanded as the kubelet does, from the container's environment: the
      ConfigMaps and Secret found in DEPLOY_DIR, then NAME=VALUE for what the cluster supplies
      (JOB_COMPLETION_INDEX) or the guide creates per run (START_AT, RUN_ID).
"""

import json
import re
import sys
from pathlib import Path


def need(module):
    try:
        return __import__(module)
    except ImportError as e:
        sys.exit(
            f"manifests.py: cannot import {module} ({e}): run .ci/setup-python "
            "(it installs .ci/python-requirements.txt into the venv)"
        )


# --- dockerfile ---------------------------------------------------------------------------


def dockerfile_facts(path):
    dockerfile = need("dockerfile")
    stages = []
    for command in dockerfile.parse_file(str(path)):
        instruction = {
            "cmd": command.cmd.upper(),
            "flags": list(command.flags),
            "value": list(command.value),
            "json": command.json,
            "line": command.start_line,
        }
        if instruction["cmd"] == "FROM":
            value = instruction["value"]
            name = value[2] if len(value) >= 3 and value[1].upper() == "AS" else None
            stages.append({"from": value[0], "name": name, "instructions": []})
        elif stages:
            stages[-1]["instructions"].append(instruction)
        # Instructions before the first FROM (ARG) belong to no stage.
    return {"stages": stages}


# --- validate -----------------------------------------------------------------------------


def yaml_files(deploy_dir):
    return sorted(p for p in Path(deploy_dir).rglob("*") if p.suffix in (".yaml", ".yml"))


def documents(deploy_dir):
    """(file, document) for every non-empty YAML document under deploy_dir."""
    yaml = need("yaml")
    for path in yaml_files(deploy_dir):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc is not None:
                    yield path.relative_to(deploy_dir).as_posix(), doc


def validate_one(kv, doc, version):
    """None when valid, else the validator's message."""
    try:
        kv.validate(doc, version, strict=True)
        return None
    except kv.ValidationError as e:
        where = "/".join(str(p) for p in e.path) or "(top)"
        return f"{where}: {e.message}"
    except (kv.SchemaNotFoundError, kv.InvalidSchemaError) as e:
        return e.message
    except Exception as e:  # a document that is not a resource at all
        return f"{type(e).__name__}: {e}"


def validate_facts(deploy_dir, version):
    kv = need("kubernetes_validate")
    resources, errors = [], []
    job = None
    for file, doc in documents(deploy_dir):
        kind = doc.get("kind") if isinstance(doc, dict) else None
        name = (doc.get("metadata") or {}).get("name") if isinstance(doc, dict) else None
        resources.append({"file": file, "kind": kind, "apiVersion": doc.get("apiVersion"), "name": name})
        message = validate_one(kv, doc, version)
        if message:
            errors.append(f"{file}: {kind}/{name}: {message}")
        if kind == "Job" and job is None:
            job = doc
    # The validator must bite: the same Job with a misspelt field and a wrong type is refused.
    mutant_rejected = None
    if job is not None:
        mutant = json.loads(json.dumps(job))
        mutant["spec"]["completionsMode"] = "Indexed"
        mutant["spec"]["parallelism"] = "four"
        mutant_rejected = validate_one(kv, mutant, version) is not None
    return {
        "version": version,
        "resources": resources,
        "errors": errors,
        "mutant_rejected": mutant_rejected,
    }


# --- commands -----------------------------------------------------------------------------

VAR = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(text, env, unresolved):
    """Kubernetes' $(VAR) expansion: $$ is a literal $, an undefined $(VAR) stays as it is."""

    def one(match):
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        if name in env:
            return env[name]
        unresolved.add(name)
        return match.group(0)

    return VAR.sub(one, text)


def container_env(container, sources, samples):
    """The container's environment as the kubelet builds it: envFrom in order, then env."""
    env, missing = {}, []
    for source in container.get("envFrom") or []:
        ref = source.get("configMapRef") or source.get("secretRef")
        kind = "ConfigMap" if "configMapRef" in source else "Secret"
        data = sources.get((kind, ref["name"]))
        if data is None:
            # Made per run by the guide (agentproof-run): the samples stand in for it.
            missing.append(f"{kind}/{ref['name']}")
            continue
        env.update({source.get("prefix", "") + k: v for k, v in data.items()})
    for var in container.get("env") or []:
        if "value" in var:
            env[var["name"]] = var["value"]
        elif var["name"] in samples:
            env[var["name"]] = samples[var["name"]]
    for name, value in samples.items():
        env.setdefault(name, value)
    return env, missing


def job_facts(job, sources, samples):
    spec = job["spec"]
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    env, missing = container_env(container, sources, samples)
    unresolved = set()
    args = [expand(a, env, unresolved) for a in (container.get("command") or []) + container["args"]]
    secret = {}
    for source in container.get("envFrom") or []:
        if "secretRef" in source:
            secret.update(sources.get(("Secret", source["secretRef"]["name"])) or {})
    return {
        "name": job["metadata"]["name"],
        "completionMode": spec.get("completionMode"),
        "completions": spec.get("completions"),
        "parallelism": spec.get("parallelism"),
        "backoffLimitPerIndex": spec.get("backoffLimitPerIndex"),
        "backoffLimit": spec.get("backoffLimit"),
        "restartPolicy": pod.get("restartPolicy"),
        "image": container.get("image"),
        "pod_security": pod.get("securityContext") or {},
        "container_security": container.get("securityContext") or {},
        "resources": container.get("resources") or {},
        "mounts": {m["mountPath"]: m["name"] for m in container.get("volumeMounts") or []},
        "claims": {
            v["name"]: v["persistentVolumeClaim"]["claimName"]
            for v in pod.get("volumes") or []
            if "persistentVolumeClaim" in v
        },
        "raw_args": container["args"],
        "args": args,
        "unresolved": sorted(unresolved),
        "envFrom_made_per_run": missing,
        "secret_env": secret,
    }


def commands_facts(deploy_dir, samples):
    sources, jobs, claims = {}, {}, {}
    for _, doc in documents(deploy_dir):
        kind, name = doc.get("kind"), doc["metadata"]["name"]
        if kind == "ConfigMap":
            sources[(kind, name)] = {k: str(v) for k, v in (doc.get("data") or {}).items()}
        elif kind == "Secret":
            sources[(kind, name)] = {k: str(v) for k, v in (doc.get("stringData") or {}).items()}
        elif kind == "Job":
            jobs[name] = doc
        elif kind == "PersistentVolumeClaim":
            claims[name] = doc["spec"].get("accessModes") or []
    return {
        "samples": samples,
        "configmaps": {n: d for (k, n), d in sources.items() if k == "ConfigMap"},
        "claims": claims,
        "jobs": {name: job_facts(job, sources, samples) for name, job in jobs.items()},
    }


def main(argv):
    if len(argv) >= 2 and argv[0] == "dockerfile":
        facts = dockerfile_facts(argv[1])
    elif len(argv) == 3 and argv[0] == "validate":
        facts = validate_facts(argv[1], argv[2])
    elif len(argv) >= 2 and argv[0] == "commands":
        samples = dict(a.split("=", 1) for a in argv[2:])
        facts = commands_facts(argv[1], samples)
    else:
        sys.exit(__doc__)
    json.dump(facts, sys.stdout, indent=2, sort_keys=True)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
