#!/usr/bin/env python3
"""The load benchmark behind `scripts/bench`: every figure from one run on this machine.

Starts each mock in its own process (so each one's memory is its own), a bare hyper server
answering a fixed JSON body of the routes' mean answer size (the physical limit of the stack
the mocks stand on), and WireMock 3 standalone serving the same answers as static stubs (the
peer users would pick). Drives them all with wrk (-t1 -c32) through bench/wrk/requests.lua,
measures latency at a fixed rate with bench-latency (coordinated omission corrected), runs
`agentproof load` against the bare server beside wrk, oha and Locust (in alternating rounds), puts `agentproof proxy` in front of the
AUI and DUIX mocks (its added latency at 1,000 req/s and its throughput against the mock's own,
in the same run), and reads each mock's RSS after 1,000,000 requests and with 10,000 idle
keep-alive connections open. Prints one Markdown
table and writes results.json. A benchmark, not a test: it checks that every answer was right
(a fast wrong answer is no figure), never that a figure is high.

Traffic goes to 127.0.0.1 only, bounded in count and time.
"""

import argparse
import csv as csv_module
import json
import math
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = ROOT / "target" / "release"  # --bin-dir sets it
LUA = ROOT / "bench" / "wrk" / "requests.lua"
BARE_MARKER = '"pad":"x'
GOALS = {"ratio": 0.8, "chat_ratio": 0.35, "wiremock": 5.0, "p99_ms": 2.0,
         "rss_1m_mib": 64, "rss_idle_mib": 128, "load_ratio": 0.5,
         "proxy_added_p99_ms": 1.0, "proxy_ratio": 0.5, "load_vs_oha": 0.7, "load_vs_locust": 8.0}
# The routes `agentproof proxy` is measured on (judged whole: request and answer schemas), and
# the fixed rate of its added-latency measurement (open loop).
PROXY_ROUTES = ("aui getRtcAuthToken", "duix checkSig")
PROXY_RATE = 1000
# The load-generator row: each generator on the bare server, in this order within a round.
LOAD_GENERATORS = {"wrk": "wrk -t1 -c32", "oha": "oha -c 32",
                   "agentproof": "agentproof load --scenario http-get --users 32",
                   "locust": "Locust FastHttpUser -u 32, one process"}
# Where scripts/bench installs the peers (--oha and --locust point elsewhere).
TOOLS = ROOT / "bench" / ".tools"
OHA = TOOLS / "bin" / "oha"
LOCUST = TOOLS / "locust" / "bin" / "locust"
LOCUSTFILE = ROOT / "bench" / "locust" / "locustfile.py"


class Settings:
    def __init__(self, quick):
        self.quick = quick
        self.duration = 1 if quick else 10           # seconds per timed wrk run
        self.warmup = 0.5 if quick else 2            # seconds of wrk before a mock's timed run
        self.wiremock_warmup = 2 if quick else 15    # seconds of wrk per route before WireMock's
        self.latency_duration = 1 if quick else 5
        self.mix_requests = 20_000 if quick else 1_000_000
        self.idle_connections = 200 if quick else 10_000
        self.routes = []              # --routes: parts of the names of the routes measured
        self.journal_capacity = None  # --journal-capacity: the mocks' own default when None
        self.load_rounds = 1 if quick else 2  # rounds of the load-generator row


def main():
    global BIN_DIR, OHA, LOCUST
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a few seconds per step: keeps the command working (CI), no figure to quote")
    parser.add_argument("--out", default=str(ROOT / "target" / "bench"),
                        help="folder for request files, logs and results.json (default target/bench)")
    parser.add_argument("--wiremock-jar", default=os.environ.get("BENCH_WIREMOCK_JAR"),
                        help="WireMock 3 standalone jar (scripts/bench installs one)")
    parser.add_argument("--bin-dir", default=str(BIN_DIR),
                        help="where agentproof and the bench/ binaries are (default target/release)")
    parser.add_argument("--only", choices=["proxy", "routes", "load"],
                        help="run one step alone: `proxy` measures agentproof proxy against the mocks "
                             "it stands in front of (their own throughput in the same run); `routes` "
                             "each mock against the bare server (wrk), no latency, WireMock or memory; "
                             "`load` the load generators (agentproof load, wrk, oha, Locust) on the "
                             "bare server")
    parser.add_argument("--routes", default="",
                        help="with --only routes: the routes measured, comma-separated parts of their "
                             "names (`checkSig,GetAgent`; default every route)")
    parser.add_argument("--seconds", type=float,
                        help="seconds per timed run (default 10, --quick 1): focused runs")
    parser.add_argument("--journal-capacity", type=int,
                        help="the mocks' [limits] journal_capacity (default theirs, 1000; 0 turns the "
                             "journal off): what the journal costs")
    parser.add_argument("--load-rounds", type=int,
                        help="rounds of the load-generator row, each running agentproof load, wrk, "
                             "oha and Locust once (default 2, --quick 1)")
    parser.add_argument("--oha", default=str(OHA),
                        help="the oha binary (default bench/.tools/bin/oha, where scripts/bench "
                             "installs it)")
    parser.add_argument("--locust", default=str(LOCUST),
                        help="the locust command (default bench/.tools/locust/bin/locust, the venv "
                             "scripts/bench makes)")
    args = parser.parse_args()
    BIN_DIR = Path(args.bin_dir).resolve()
    OHA, LOCUST = Path(args.oha), Path(args.locust)
    settings = Settings(args.quick)
    if args.seconds:
        settings.duration = args.seconds
    settings.routes = [r.strip() for r in args.routes.split(",") if r.strip()]
    settings.journal_capacity = args.journal_capacity
    if args.load_rounds:
        settings.load_rounds = max(1, args.load_rounds)
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    raise_fd_limit()
    bench = Bench(settings, out, args.wiremock_jar)
    try:
        if args.only == "proxy":
            bench.run_proxy_only()
        elif args.only == "routes":
            bench.run_routes_only()
        elif args.only == "load":
            bench.run_load_only()
        else:
            bench.run()
    finally:
        bench.stop_all()
    (out / "results.json").write_text(json.dumps(bench.results, indent=2))
    print(bench.table())
    print(f"\nresults: {out / 'results.json'}")


def raise_fd_limit():
    """10,000 idle connections need as many descriptors, here and in the mocks we start."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url, what, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"bench: {what} did not become healthy at {url} within {seconds} s")


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Bench:
    def __init__(self, settings, out, wiremock_jar):
        self.s = settings
        self.out = out
        self.req = out / "req"
        self.wiremock_jar = wiremock_jar
        self.processes = {}
        self.results = {"machine": machine(), "quick": settings.quick, "routes": {}, "goals": GOALS}

    # ---- processes -------------------------------------------------------------------------

    def start(self, name, command, **kwargs):
        log = open(self.out / f"{name}.log", "w")
        self.processes[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **kwargs)
        return self.processes[name]

    def stop(self, name):
        process = self.processes.pop(name, None)
        if process and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()

    def stop_all(self):
        for name in list(self.processes):
            self.stop(name)

    def start_mocks(self, tag):
        """One process each: alibaba; aui with its own Alibaba mock called in-process (as
        `agentproof mock` runs the two); duix; and `aui_socket`, an AUI server whose upstream is
        the alibaba process over a socket (as in front of the real cloud). Both AUI servers sign
        bearer tokens with one key, so one login serves both."""
        info = {}
        ports = {p: free_port() for p in ("alibaba", "aui", "aui_socket", "duix")}
        binary = str(BIN_DIR / "agentproof")
        limits = ""
        if self.s.journal_capacity is not None:
            limits = f"[limits]\njournal_capacity = {self.s.journal_capacity}\n"
        a_info = self.out / f"{tag}-alibaba.json"
        a_config = self.out / f"{tag}-alibaba.toml"
        a_config.write_text(limits)
        self.start(f"{tag}-alibaba", [binary, "mock", "--only", "alibaba", "--alibaba-port",
                                      str(ports["alibaba"]), "--llm-port", "0",
                                      "--info-file", str(a_info), "--config", str(a_config)])
        wait_healthy(f"http://127.0.0.1:{ports['alibaba']}/__admin/health", "the Alibaba mock")
        info.update(json.loads(a_info.read_text()))
        alibaba = info["alibaba"]
        aui = limits + f"[aui]\njwt_secret = \"bench-{secrets.token_hex(16)}\"\n"
        configs = {
            "aui": aui,
            "aui_socket": aui +
                "[aui.upstream]\n"
                f"endpoint = \"{alibaba['url']}\"\n"
                f"access_key_id = \"{alibaba['access_key_id']}\"\n"
                f"access_key_secret = \"{alibaba['access_key_secret']}\"\n",
        }
        commands = {
            "aui": ["--only", "aui,alibaba", "--aui-port", str(ports["aui"]),
                    "--alibaba-port", "0", "--llm-port", "0"],
            "aui_socket": ["--only", "aui", "--aui-port", str(ports["aui_socket"])],
            "duix": ["--only", "duix", "--duix-port", str(ports["duix"]), "--webhook-port", "0"],
        }
        for name, args in commands.items():
            path = self.out / f"{tag}-{name}.json"
            config = self.out / f"{tag}-{name}.toml"
            config.write_text(configs.get(name, limits))
            self.start(f"{tag}-{name}", [binary, "mock", *args, "--info-file", str(path),
                                         "--config", str(config)])
            wait_healthy(f"http://127.0.0.1:{ports[name]}/__admin/health", f"the {name} mock")
            # The aui process's own Alibaba mock is not the one the bench signs for.
            info[name] = json.loads(path.read_text())[name.removesuffix("_socket")]
        info_file = self.out / f"{tag}-info.json"
        info_file.write_text(json.dumps(info))
        return info, info_file

    def write_requests(self, info_file, records):
        """Pre-signs requests (fresh nonces and timestamps) just before they are needed."""
        subprocess.run([str(BIN_DIR / "bench-requests"), "--info", str(info_file), "--out",
                        str(self.req), "--records", str(records)], check=True)
        return json.loads((self.req / "routes.json").read_text())

    # ---- wrk -------------------------------------------------------------------------------

    def wrk(self, url, file, mode, seconds, marker=None, limit=None):
        env = dict(os.environ, BENCH_FILE=str(file), BENCH_MODE=mode)
        if marker:
            env["BENCH_MARKER"] = marker
        if limit:
            env["BENCH_LIMIT"] = str(limit)
        command = ["wrk", "-t1", "-c32", f"-d{max(math.ceil(seconds), 1)}s", "--timeout", "20s", "-s",
                   str(LUA), url]
        run = subprocess.run(command, env=env, capture_output=True, text=True)
        line = next((l for l in run.stdout.splitlines() if l.startswith("BENCH ")), None)
        if run.returncode != 0 or line is None:
            sys.exit(f"bench: wrk failed on {url}:\n{run.stdout}\n{run.stderr}")
        result = json.loads(line[len("BENCH "):])
        result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
        result["stderr"] = run.stderr.strip()
        return result

    def throughput(self, url, route, what, marker=None):
        """A checking run (every answer read), a warm-up, then the timed run. `marker` replaces
        the route's (the bare server answers its own body to everything)."""
        file = self.req / f"{route['file']}.req"
        check_file = self.req / f"{route['file']}.check.req" if route["mode"] == "once" else file
        check = self.wrk(url, check_file, route["mode"], 1, marker=marker or route["marker"])
        if check["bad"] or check["good"] == 0 or check["status_errors"]:
            sys.exit(f"bench: {what} answered {route['name']} wrongly ({check['bad']} of "
                     f"{check['good'] + check['bad']}):\n{check['stderr']}")
        if route["mode"] == "static" and self.s.warmup:
            self.wrk(url, file, "static", self.s.warmup)
        timed = self.wrk(url, file, route["mode"], self.s.duration)
        if timed["exhausted"]:
            sys.exit(f"bench: {file} ran out during {what}'s run: write more records")
        errors = timed["status_errors"] + timed["socket_errors"]
        if errors:
            # The timed run reads no bodies (that would slow wrk): say what kind of error it was,
            # and what the server logged, so that a rare failure can be told apart afterwards.
            sys.exit(f"bench: {timed['status_errors']} non-2xx answers and {timed['socket_errors']} "
                     f"socket errors {timed['socket']} from {what} on {route['name']} "
                     f"({timed['requests']:,} requests); the servers' logs are in {self.out}")
        print(f"  {what:<9} {route['name']:<32} {timed['rps']:>10,.0f} req/s", flush=True)
        return timed["rps"]

    # ---- the steps -------------------------------------------------------------------------

    def run(self):
        print("bench: starting the mocks and the bare server", flush=True)
        info, info_file = self.start_mocks("run")
        routes = self.write_requests(info_file, 2_000)
        bare = self.start_bare()
        self.results["bare_body_bytes"] = routes["bare_body_bytes"]
        self.measure_bare_static(bare)
        self.measure_mocks(info, info_file, routes, bare)
        self.measure_latency(info, info_file, routes, bare)
        self.measure_wiremock(routes)
        self.measure_load_generator(bare)
        self.measure_proxy(info, routes)
        self.stop_all()
        self.measure_memory()

    def run_proxy_only(self):
        print("bench: starting the mocks (proxy step alone)", flush=True)
        info, info_file = self.start_mocks("run")
        routes = self.write_requests(info_file, 2_000)
        for route in routes["routes"]:
            if route["name"] in PROXY_ROUTES:
                rps = self.throughput(info[route["platform"]]["url"], route, "mock")
                self.results["routes"][route["name"]] = {"platform": route["platform"], "rps": rps}
        self.measure_proxy(info, routes)

    def run_routes_only(self):
        """Each mock against the bare server, wrk only: a focused run of one change."""
        print("bench: starting the mocks and the bare server (routes alone)", flush=True)
        info, info_file = self.start_mocks("run")
        routes = self.write_requests(info_file, 2_000)
        bare = self.start_bare()
        self.results["bare_body_bytes"] = routes["bare_body_bytes"]
        self.measure_bare_static(bare)
        self.measure_mocks(info, info_file, routes, bare)

    def run_load_only(self):
        """The load generators on the bare server, wrk first (the table's baseline)."""
        print("bench: starting the bare server (load generators alone)", flush=True)
        info, info_file = self.start_mocks("run")
        routes = self.write_requests(info_file, 2_000)
        self.stop_all()
        bare = self.start_bare()
        self.results["bare_body_bytes"] = routes["bare_body_bytes"]
        self.measure_bare_static(bare)
        self.measure_load_generator(bare)

    def start_bare(self):
        port = free_port()
        self.start("bare", [str(BIN_DIR / "bare-hyper"), "--port", str(port), "--body-file",
                            str(self.req / "bare-body.json")])
        bare = f"http://127.0.0.1:{port}"
        wait_healthy(bare + "/", "the bare server")
        return bare

    def measure_bare_static(self, bare):
        print("bench: throughput (wrk -t1 -c32)", flush=True)
        get = self.req / "bare-get.req"
        request = f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        get.write_bytes(f"{len(request)}\n".encode() + request)
        route = {"name": "bare GET /", "file": "bare-get", "mode": "static", "marker": BARE_MARKER}
        self.bare_static = self.throughput(bare, route, "bare")
        self.results["bare"] = {"static_rps": self.bare_static}

    def records_for(self, rps, seconds):
        return int(rps * seconds * 1.3) + 5_000

    def measure_mocks(self, info, info_file, routes, bare):
        for route in routes["routes"]:
            if self.s.routes and not any(part in route["name"] for part in self.s.routes):
                continue
            url = info[route["platform"]]["url"]
            if route["mode"] == "once":
                # Fresh signatures for this run: sized for the bare server, the fastest reader.
                self.write_requests(info_file, self.records_for(self.bare_static, self.s.duration))
                rps = self.throughput(url, route, "mock")
                # The baseline sent the same file (the nonces mean nothing to it): wrk pays the
                # same Lua call per request.
                baseline = self.throughput(bare, route, "bare", BARE_MARKER)
                self.results["bare"].setdefault("once_rps", {})[route["name"]] = baseline
            else:
                rps = self.throughput(url, route, "mock")
                baseline = self.bare_static
            self.results["routes"][route["name"]] = {
                "platform": route["platform"], "rps": rps, "baseline_rps": baseline,
                "ratio": rps / baseline}

    def latency(self, addr, file, mode, rate):
        run = subprocess.run([str(BIN_DIR / "bench-latency"), "--addr", addr, "--file", str(file),
                              "--mode", mode, "--rate", str(int(rate)), "--duration",
                              str(self.s.latency_duration)], capture_output=True, text=True)
        line = next((l for l in run.stdout.splitlines() if l.startswith("LATENCY ")), None)
        if run.returncode != 0 or line is None:
            sys.exit(f"bench: bench-latency failed on {addr}:\n{run.stdout}\n{run.stderr}")
        return json.loads(line[len("LATENCY "):])

    def measure_latency(self, info, info_file, routes, bare):
        rate = self.bare_static / 2
        self.results["latency_rate"] = rate
        print(f"bench: latency at {rate:,.0f} req/s (half the bare server's saturation), "
              "from each request's due time", flush=True)
        self.results["bare"]["latency"] = self.latency(bare.removeprefix("http://"),
                                                       self.req / "bare-get.req", "static", rate)
        needed = int(rate * self.s.latency_duration) + 1_000
        for route in routes["routes"]:
            if route["mode"] == "once":
                self.write_requests(info_file, needed)
            addr = info[route["platform"]]["url"].removeprefix("http://")
            entry = self.results["routes"][route["name"]]
            file = self.req / f"{route['file']}.req"
            entry["latency"] = self.latency(addr, file, route["mode"], rate)
            # Half the route's own capacity too: what a user sees from a mock not overloaded.
            own = entry["rps"] / 2
            if route["mode"] == "once":
                self.write_requests(info_file, int(own * self.s.latency_duration) + 1_000)
            entry["latency_own"] = dict(self.latency(addr, file, route["mode"], own), rate=own)
            print(f"  {route['name']:<32} {fmt_latency(entry['latency'])}; at {own:,.0f} req/s "
                  f"{fmt_latency(entry['latency_own'])}", flush=True)

    def measure_wiremock(self, routes):
        if not self.wiremock_jar or not Path(self.wiremock_jar).is_file():
            print("bench: no WireMock jar (scripts/bench installs one): its rows are skipped", flush=True)
            return
        port = free_port()
        self.start("wiremock", ["java", "-jar", self.wiremock_jar, "--port", str(port),
                                "--root-dir", str(self.req / "wiremock"), "--no-request-journal",
                                "--disable-request-logging", "--disable-banner"])
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url + "/__admin/health", "WireMock", seconds=120)
        print(f"bench: WireMock {self.wiremock_version(url)}, after a JIT warm-up of "
              f"{self.s.wiremock_warmup} s per route", flush=True)
        for route in routes["routes"]:
            # WireMock ignores nonces: the check file serves as its warm-up, again and again.
            self.wrk(url, self.req / (route["file"] + (".check.req" if route["mode"] == "once" else ".req")),
                     "cycle" if route["mode"] == "once" else "static", self.s.wiremock_warmup)
        for route in routes["routes"]:
            mode = "cycle" if route["mode"] == "once" else "static"
            peer = dict(route, mode=mode)
            if mode == "cycle":
                peer["file"] = route["file"] + ".check"
            rps = self.throughput(url, peer, "WireMock")
            entry = self.results["routes"][route["name"]]
            entry["wiremock_rps"] = rps
            entry["vs_wiremock"] = entry["rps"] / rps
        self.stop("wiremock")

    def wiremock_version(self, url):
        try:
            with urllib.request.urlopen(url + "/__admin/version", timeout=5) as answer:
                return json.loads(answer.read()).get("version", "3")
        except (OSError, ValueError):
            return "3"

    def measure_load_generator(self, bare):
        """agentproof load beside wrk, oha and Locust on the bare server: 32 connections (users),
        the same seconds each, in rounds that alternate the generators so that what else the
        machine runs weighs on all of them alike. The ratios are the figures; the req/s are
        this machine's."""
        seconds = max(3, math.ceil(self.s.duration))
        rounds = self.s.load_rounds
        print(f"bench: load generators on the bare server (32 connections, {seconds} s each, "
              f"{rounds} round{'s' if rounds > 1 else ''})", flush=True)
        generators = list(LOAD_GENERATORS)
        if self.s.quick and not OHA.exists():
            # scripts/bench --quick does not build oha (minutes of CI on 2 cores); the version
            # is pinned, so its part of the row does not rot unseen between full runs.
            print(f"  oha: not installed at {OHA} (--quick does not build it): left out", flush=True)
            generators.remove("oha")
        runs = {name: [] for name in generators}
        measure = {"agentproof": self.load_agentproof, "wrk": self.load_wrk, "oha": self.load_oha,
                   "locust": self.load_locust}
        for round_ in range(rounds):
            for name in generators:
                rps = measure[name](bare, seconds, round_)
                runs[name].append(rps)
                print(f"  round {round_ + 1}: {LOAD_GENERATORS[name]:<48} {rps:>10,.0f} req/s", flush=True)
        mean = {name: sum(values) / len(values) for name, values in runs.items()}
        ours = mean["agentproof"]
        self.results["load"] = {
            "seconds": seconds, "rounds": rounds, "connections": 32,
            "rps": ours, "wrk_rps": mean["wrk"], "locust_rps": mean["locust"],
            # `ratio` is agentproof load against wrk, as before the peers joined the row.
            "ratio": ours / mean["wrk"], "vs_locust": ours / mean["locust"],
            "per_round": runs,
            "versions": {"locust": self.tool_version([str(LOCUST), "--version"])},
        }
        if "oha" in mean:
            self.results["load"].update(oha_rps=mean["oha"], vs_oha=ours / mean["oha"])
            self.results["load"]["versions"]["oha"] = self.tool_version([str(OHA), "--version"])

    def load_agentproof(self, bare, seconds, round_):
        report = self.out / f"load-report-{round_ + 1}"
        run = subprocess.run([str(BIN_DIR / "agentproof"), "load", "--scenario", "http-get",
                              "--target", f"http={bare}/", "--users", "32", "--run-time",
                              f"{seconds}s", "--report-dir", str(report)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"bench: agentproof load failed:\n{run.stdout}\n{run.stderr}")
        series = json.loads((report / "report.json").read_text())["series"]
        # Whole seconds only: the first holds the users' start, the last is cut by the end.
        steady = [s["requests"] for s in series[1:-1]] or [s["requests"] for s in series]
        return sum(steady) / len(steady)

    def load_wrk(self, bare, seconds, _round):
        timed = self.wrk(bare, self.req / "bare-get.req", "static", seconds)
        if timed["status_errors"] or timed["socket_errors"]:
            sys.exit(f"bench: wrk saw {timed['status_errors']} non-2xx answers and "
                     f"{timed['socket_errors']} socket errors {timed['socket']} from the bare server")
        return timed["rps"]

    def load_oha(self, bare, seconds, _round):
        """oha -c 32 -z Ns, its JSON summary; every answer must be a 200. The requests still
        in flight when the time is up are cut (oha counts them as errors of their own kind)."""
        need_tool(OHA, "oha", "cargo install --locked --root bench/.tools oha")
        run = subprocess.run([str(OHA), "-c", "32", "-z", f"{seconds}s", "--no-tui",
                              "--output-format", "json", bare + "/"],
                             capture_output=True, text=True, timeout=seconds + 60)
        if run.returncode != 0:
            sys.exit(f"bench: oha failed:\n{run.stdout}\n{run.stderr}")
        result = json.loads(run.stdout)
        statuses = result.get("statusCodeDistribution", {})
        errors = {k: v for k, v in result.get("errorDistribution", {}).items()
                  if "deadline" not in k}
        if set(statuses) != {"200"} or errors:
            sys.exit(f"bench: oha saw answers other than 200 {statuses} or errors {errors}")
        return result["summary"]["requestsPerSec"]

    def load_locust(self, bare, seconds, round_):
        """Locust, one process, FastHttpUser, headless: 32 users all started in the first second,
        stopped after `seconds` (the process is killed if it overstays)."""
        need_tool(LOCUST, "Locust", "scripts/bench (a venv in bench/.tools/locust)")
        assert bare.startswith("http://127.0.0.1:"), "Locust only ever drives the local bare server"
        csv = self.out / f"locust-{round_ + 1}"
        run = subprocess.run([str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "--users", "32",
                              "--spawn-rate", "32", "--run-time", f"{seconds}s", "--stop-timeout", "0",
                              "--host", bare, "--only-summary", "--csv", str(csv),
                              "--loglevel", "WARNING"],
                             capture_output=True, text=True, timeout=seconds + 60)
        if run.returncode != 0:
            sys.exit(f"bench: Locust failed:\n{run.stdout}\n{run.stderr}")
        with open(f"{csv}_stats.csv", newline="") as f:
            total = next(row for row in csv_module.DictReader(f) if row["Name"] == "Aggregated")
        if int(total["Failure Count"]) or not int(total["Request Count"]):
            sys.exit(f"bench: Locust saw {total['Failure Count']} failures of "
                     f"{total['Request Count']} requests:\n{run.stderr}")
        return float(total["Requests/s"])

    def tool_version(self, command):
        run = subprocess.run(command, capture_output=True, text=True)
        # `oha 1.16.0`; `locust 2.47.0 from /path (Python 3.11.7)`: the name and the version.
        text = (run.stdout.strip() or run.stderr.strip()) if run.returncode == 0 else ""
        return " ".join(text.split()[:2]) or "unknown"

    def measure_proxy(self, info, routes):
        """agentproof proxy in front of each mock of PROXY_ROUTES: throughput through it against
        the mock's own (measured earlier in this run), and latency at PROXY_RATE req/s, open
        loop, through it and straight to the mock, back to back."""
        print(f"bench: agentproof proxy: throughput through it, and latency at {PROXY_RATE:,} req/s "
              "(open loop) through it and straight to the mock", flush=True)
        self.results["proxy"] = {}
        for route in routes["routes"]:
            if route["name"] not in PROXY_ROUTES or route["mode"] != "static":
                continue
            upstream = info[route["platform"]]["url"]
            port = free_port()
            name = f"proxy-{route['platform']}"
            self.start(name, [str(BIN_DIR / "agentproof"), "proxy", "--upstream",
                              f"{route['platform']}={upstream}", "--listen", f"127.0.0.1:{port}",
                              "--report-dir", str(self.out / f"{name}-report")])
            proxied = f"http://127.0.0.1:{port}"
            wait_healthy(proxied + "/__proxy/health", "agentproof proxy")
            rps = self.throughput(proxied, route, "proxy")
            file = self.req / f"{route['file']}.req"
            through = self.latency(proxied.removeprefix("http://"), file, "static", PROXY_RATE)
            direct = self.latency(upstream.removeprefix("http://"), file, "static", PROXY_RATE)
            judged = self.proxy_status(proxied)
            self.stop(name)
            own = self.results["routes"][route["name"]]["rps"]
            entry = {"rps": rps, "upstream_rps": own, "ratio": rps / own, "latency": through,
                     "direct_latency": direct,
                     "added_p50_us": through["p50_us"] - direct["p50_us"],
                     "added_p99_us": through["p99_us"] - direct["p99_us"],
                     "judged": judged.get("exchanges"), "broken": judged.get("failed"),
                     "unjudged": judged.get("unjudged")}
            self.results["proxy"][route["name"]] = entry
            print(f"  {route['name']:<32} {rps:,.0f} req/s through the proxy, {own:,.0f} straight "
                  f"({entry['ratio']:.2f}x); at {PROXY_RATE:,} req/s {fmt_latency(through)} through it, "
                  f"{fmt_latency(direct)} straight: p99 {entry['added_p99_us'] / 1000:+.2f} ms", flush=True)

    def proxy_status(self, url):
        try:
            with urllib.request.urlopen(url + "/__proxy/status.json", timeout=10) as answer:
                return json.loads(answer.read())
        except (OSError, ValueError):
            return {}

    def load_lines(self):
        """The load-generator row: each generator's req/s and agentproof load's ratio to it."""
        load, goals = self.results["load"], self.results["goals"]
        met = lambda ratio, goal: f"goal ≥ {goal:g}x: {'met' if ratio >= goal else 'NOT met'}"
        rows = [("agentproof", load["rps"], None, ""),
                ("wrk", load["wrk_rps"], load["ratio"], "")]
        if "oha_rps" in load:
            rows.append(("oha", load["oha_rps"], load["vs_oha"], met(load["vs_oha"], goals["load_vs_oha"])))
        rows.append(("locust", load["locust_rps"], load["vs_locust"],
                     met(load["vs_locust"], goals["load_vs_locust"])))
        lines = [f"Load generators on the bare server: {load['connections']} connections (users), "
                 f"{load['seconds']} s each, mean of {load['rounds']} round(s) run in turn; "
                 + ", ".join(load["versions"].values()) + ".",
                 "", "| generator | req/s | agentproof load × it | goal |", "| --- | ---: | ---: | --- |"]
        for name, rps, ratio, goal in rows:
            shown = "" if ratio is None else f"**{ratio:.2f}**"
            lines.append(f"| {LOAD_GENERATORS[name]} | {rps:,.0f} | {shown} | {goal} |")
        return lines

    def proxy_lines(self):
        proxy = self.results.get("proxy")
        if not proxy:
            return []
        lines = ["", f"agentproof proxy in front of the mock (judging every exchange), against the mock alone, "
                     f"same run; latency open loop at {PROXY_RATE:,} req/s from each request's due time:", "",
                 "| route | req/s through the proxy | req/s straight | × straight | p50 / p99 / max through the proxy "
                 "| p50 / p99 / max straight | added p50 / p99 |",
                 "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, e in proxy.items():
            lines.append(f"| {name} | {e['rps']:,.0f} | {e['upstream_rps']:,.0f} | {e['ratio']:.2f} | "
                         f"{fmt_latency(e['latency'])} | {fmt_latency(e['direct_latency'])} | "
                         f"{e['added_p50_us'] / 1000:+.2f} / {e['added_p99_us'] / 1000:+.2f} ms |")
        return lines

    def measure_memory(self):
        n = self.s.mix_requests
        print(f"bench: memory: fresh mocks, RSS after {n:,} requests of a mix each, then with "
              f"{self.s.idle_connections:,} idle keep-alive connections", flush=True)
        info, info_file = self.start_mocks("mem")
        routes = {r["file"]: r for r in self.write_requests(info_file, n // 2 + 100)["routes"]}
        mixes = {
            "aui": ["aui-rtc", "aui-rtc", "aui-rtc", "aui-chat"],   # the token storm's 3:1
            "duix": ["duix-checksig", "duix-concurrent"],
        }
        memory = {}
        for platform in ("alibaba", "aui", "duix"):
            url = info[platform]["url"]
            pid = self.processes[f"mem-{platform}"].pid
            started = rss_mib(pid)
            if platform == "alibaba":
                served = sum(self.drain(url, self.req / f"{f}.req") for f in ("alibaba-v3", "alibaba-v1"))
            else:
                served = self.cycle(url, mixes[platform], n)
            after = rss_mib(pid)
            idle = self.with_idle_connections(url, pid)
            memory[platform] = {"rss_start_mib": started, "requests": served,
                                "rss_after_mix_mib": after, "rss_idle_mib": idle}
            print(f"  {platform:<8} start {started:.1f} MiB, after {served:,} requests "
                  f"{after:.1f} MiB, with idle connections {idle:.1f} MiB", flush=True)
        self.results["memory"] = memory
        self.results["idle_connections"] = self.s.idle_connections

    def drain(self, url, file):
        """Each record of a `once` file sent, to its end; the requests answered."""
        expected = self.results["routes"]["alibaba GetAgent (V3)"]["rps"]
        records = sum(1 for _ in records_of(file))
        result = self.wrk(url, file, "once", records / expected * 1.5 + 2)
        if result["status_errors"] or result["socket_errors"]:
            sys.exit(f"bench: errors while draining {file.name}")
        return result["requests"]

    def cycle(self, url, files, count):
        mix = self.req / ("mix-" + "-".join(sorted(set(files))) + ".req")
        with open(mix, "wb") as out:
            for name in files:
                out.write((self.req / f"{name}.req").read_bytes())
        served = 0
        while served < count:
            # wrk loses the requests in flight when a thread stops: ask for a few more.
            result = self.wrk(url, mix, "cycle", 5 if not self.s.quick else 1, limit=count - served + 64)
            if result["status_errors"] or result["socket_errors"] or result["requests"] == 0:
                sys.exit(f"bench: errors or no answer in the {mix.name} mix")
            served += result["requests"]
        return served

    def with_idle_connections(self, url, pid):
        holder = subprocess.Popen([str(BIN_DIR / "idle-conns"), "--addr", url.removeprefix("http://"),
                                   "--count", str(self.s.idle_connections)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = holder.stdout.readline()
        if not ready.startswith("ready"):
            holder.kill()
            sys.exit(f"bench: could not open {self.s.idle_connections} idle connections to {url}")
        rss = rss_mib(pid)
        holder.stdin.close()
        holder.wait(30)
        return rss

    # ---- the table -------------------------------------------------------------------------

    def table(self):
        r = self.results
        m = r["machine"]
        rate = r.get("latency_rate", 0)
        if "bare" not in r:  # --only proxy
            return "\n".join([f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']:.0f} GiB, {m['kernel']}; "
                              f"wrk -t1 -c32, {self.s.duration} s per run."] + self.proxy_lines())
        lines = [
            f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']:.0f} GiB, {m['kernel']}; "
            f"wrk -t1 -c32, {self.s.duration} s per run{' (--quick: not figures to quote)' if r['quick'] else ''}.",
            f"Bare hyper server: {r['bare']['static_rps']:,.0f} req/s from a cached request; from the "
            "Alibaba request files (those rows' baseline) "
            + ", ".join(f"{v:,.0f}" for v in r["bare"].get("once_rps", {}).values())
            + f" req/s; body {r['bare_body_bytes']} bytes.",
            "",
            f"| route | req/s | × bare | WireMock req/s | × WireMock | p50 / p99 / max at {rate:,.0f} req/s "
            "| p50 / p99 / max at half its own req/s |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        bare_lat = r["bare"].get("latency")
        if bare_lat:
            lines.append(f"| bare hyper (baseline) | {r['bare']['static_rps']:,.0f} | 1.00 | | | {fmt_latency(bare_lat)} "
                         f"| {fmt_latency(bare_lat)} |")
        for name, e in r["routes"].items():
            wiremock = f"{e['wiremock_rps']:,.0f}" if "wiremock_rps" in e else "n/a"
            vs = f"{e['vs_wiremock']:.1f}" if "vs_wiremock" in e else "n/a"
            lines.append(f"| {name} | {e['rps']:,.0f} | {e['ratio']:.2f} | {wiremock} | {vs} | "
                         f"{fmt_latency(e.get('latency'))} | {fmt_latency(e.get('latency_own'))} |")
        if "load" in r:
            lines += [""] + self.load_lines()
        lines += self.proxy_lines()
        if "memory" in r:
            lines += ["", f"| mock | RSS at start | requests | RSS after | RSS with {r['idle_connections']:,} idle connections |",
                      "| --- | ---: | ---: | ---: | ---: |"]
            for platform, e in r["memory"].items():
                lines.append(f"| {platform} | {e['rss_start_mib']:.1f} MiB | {e['requests']:,} | "
                             f"{e['rss_after_mix_mib']:.1f} MiB | {e['rss_idle_mib']:.1f} MiB |")
        return "\n".join(lines)


def need_tool(path, name, how):
    if not Path(path).exists():
        sys.exit(f"bench: {name} is not at {path}: install it with {how}, or run scripts/bench")


def fmt_latency(latency):
    if not latency:
        return "n/a"
    ms = lambda us: f"{us / 1000:.2f}"
    failed = f" ({latency['failed']} failed)" if latency["failed"] else ""
    return f"{ms(latency['p50_us'])} / {ms(latency['p99_us'])} / {ms(latency['max_us'])} ms{failed}"


def records_of(file):
    with open(file, "rb") as f:
        while True:
            length = f.readline()
            if not length:
                return
            f.seek(int(length), os.SEEK_CUR)
            yield length


def machine():
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem_kib / 1024 / 1024,
            "kernel": os.uname().release}


if __name__ == "__main__":
    main()
