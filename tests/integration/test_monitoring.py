"""monitoring/ against a real Prometheus (Debian's `prometheus` package) scraping the real podium.

podium (relay with udp/tcp/tls listeners, SFU, signaling with closed rooms, metrics) and
Prometheus run on 127.0.0.1 with ephemeral ports in a temporary directory. Prometheus scrapes
podium every second and evaluates the repository's monitoring/prometheus/alerts.yml every second.
A little traffic gives the metrics samples: turnutils_uclient relaying through the TURN relay to a
turnutils_peer echo on 127.0.0.2 (REST credentials), one run with a wrong password and one to a
peer the policy refuses; rooms API calls (one with a wrong API key); podium-load with a presenter
and three guests (audio) and in slides mode.

Then, through Prometheus' HTTP API:
- every rule of alerts.yml is loaded and its health is "ok";
- every metric name used by the Grafana dashboard (monitoring/grafana/podium-dashboard.json, its
  panel queries and template variables) and by alerts.yml (names parsed out of the PromQL) has
  samples, and every recording rule the dashboard or the alerts read has samples too;
- every dashboard query (with $job, $instance and $__rate_interval filled in) runs and returns
  series; nothing is pending or firing against this healthy podium.
So renaming a metric in podium, in the dashboard or in the rules fails this test. Names are also
checked against docs/metrics.md. Metrics the rules use that podium does not export yet are listed
in PENDING below: they may be absent (their rules never fire), and are checked like any other as
soon as podium exports them.

`promtool check config`, `promtool check rules` and `promtool test rules` run on the repository's
files too. Everything is skipped, with the reason, when prometheus or promtool is missing.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from podium_harness import (PEER_HOST, EchoPeer, Podium, die_with_parent,  # noqa: E402
                            free_port, http_get, make_certificate, metric, scrape,
                            stop_process, wait_for)

SOURCE = os.environ.get("PODIUM_SOURCE_DIR",
                        os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
PROMETHEUS_DIR = os.path.join(SOURCE, "monitoring", "prometheus")
SCRAPE_CONFIG = os.path.join(PROMETHEUS_DIR, "prometheus.yml")
RULES = os.path.join(PROMETHEUS_DIR, "alerts.yml")
RULE_TESTS = os.path.join(PROMETHEUS_DIR, "alerts_test.yml")
DASHBOARD = os.path.join(SOURCE, "monitoring", "grafana", "podium-dashboard.json")
METRICS_DOC = os.path.join(SOURCE, "docs", "metrics.md")

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
LOAD = os.environ.get("PODIUM_LOAD", "podium-load")

# Metrics alerts.yml uses that podium does not export yet (proposed in the rules' comments).
PENDING = {}

JOB = "podium"
SECRET = "monitoring-rest-secret"
API_KEY = "monitoring-api-key"
DEADLINE = 85  # seconds for the whole live class, under ctest's TIMEOUT


def missing_tools():
    why = [p + " is not installed (Debian package prometheus)"
           for p in (PROMETHEUS, PROMTOOL) if not os.access(p, os.X_OK)]
    return "; ".join(why)


# ------------------------------------------------------------------------------------------
# Metric names out of PromQL.

_FUNCTION_OR_KEYWORD = {"and", "or", "unless", "bool", "offset", "inf", "nan", "by", "without",
                        "on", "ignoring", "group_left", "group_right"}
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_HISTOGRAM_SUFFIX = re.compile(r"_(bucket|sum|count)$")


def metric_names(expr):
    """Metric names (and recording-rule names) a PromQL expression selects.

    String literals, label matchers `{...}`, ranges `[...]` and the label lists of by/without/
    on/ignoring/group_left/group_right are removed first; what remains of the identifiers are
    either function names (followed by `(`), keywords, or series names. Anything else raises, so
    a construct this parser does not know cannot hide a metric."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    names = set()
    for m in _IDENTIFIER.finditer(e):
        word = m.group(0)
        if re.match(r"\s*\(", e[m.end():]) or word.lower() in _FUNCTION_OR_KEYWORD:
            continue
        if m.start() > 0 and (e[m.start() - 1].isdigit() or e[m.start() - 1] == "."):
            continue  # the exponent or unit of a number: 1e6, 5m
        if not (word.startswith(("podium_", "process_")) or word == "up" or ":" in word):
            raise AssertionError("unexpected identifier %r in %r" % (word, expr))
        names.add(word)
    return names


def dashboard_queries():
    """(where, PromQL) of every panel target and query variable of the dashboard."""
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    queries = []

    def panels(items):
        for p in items:
            yield p
            yield from panels(p.get("panels", []))
    for p in panels(dashboard["panels"]):
        for t in p.get("targets", []):
            queries.append(("panel %r" % p.get("title"), t["expr"]))
    for v in dashboard["templating"]["list"]:
        if v.get("type") != "query":
            continue
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", q)
        queries.append(("variable $%s" % v["name"], m.group(1) if m else q))
    return queries


def rule_names_in_file():
    """Alert and record names in alerts.yml (read as text: no YAML module needed)."""
    with open(RULES) as f:
        text = f.read()
    return (re.findall(r"^\s*-\s*alert:\s*(\S+)\s*$", text, re.M),
            re.findall(r"^\s*-\s*record:\s*(\S+)\s*$", text, re.M))


def rule_expressions_in_file():
    """The `expr:` values of alerts.yml (plain scalars and `|`/`>` blocks), read as text."""
    with open(RULES) as f:
        lines = f.read().splitlines()
    exprs = []
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)expr:\s*(.*?)\s*$", line)
        if not m:
            continue
        indent, value = len(m.group(1)), m.group(2)
        if value in ("|", "|-", ">", ">-"):
            block = []
            for nxt in lines[i + 1:]:
                if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                    break
                block.append(nxt)
            exprs.append("\n".join(block))
        else:
            exprs.append(value[1:-1] if value[:1] in "'\"" and value[-1:] == value[:1] else value)
    return exprs


def documented_metrics():
    with open(METRICS_DOC) as f:
        return set(re.findall(r"^\|\s*`((?:podium|process)_[a-z0-9_]+)(?:\{[^}`]*\})?`", f.read(),
                              re.M))


def fill_variables(expr):
    return (expr.replace("$__rate_interval", "1m").replace("${job}", ".+").replace("$job", ".+")
            .replace("${instance}", ".+").replace("$instance", ".+"))


# ------------------------------------------------------------------------------------------

class Prometheus:
    """/usr/bin/prometheus on 127.0.0.1:<ephemeral port> with our own config; stopped by PID."""

    def __init__(self, directory, config_text, timeout=20):
        self.dir = directory
        self.config_path = os.path.join(directory, "prometheus.yml")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.log_path = os.path.join(directory, "prometheus.log")
        self._log = open(self.log_path, "w")
        for attempt in range(3):  # the port was free a moment ago; retry if someone took it
            self.port = free_port(kind="tcp")
            self.base = "http://127.0.0.1:%d" % self.port
            self.proc = subprocess.Popen(
                [PROMETHEUS, "--config.file=" + self.config_path,
                 "--storage.tsdb.path=" + os.path.join(directory, "tsdb"),
                 "--web.listen-address=127.0.0.1:%d" % self.port,
                 "--storage.tsdb.retention.time=1h", "--log.level=info"],
                stdout=self._log, stderr=subprocess.STDOUT, cwd=directory,
                preexec_fn=die_with_parent)
            if wait_for(lambda: self.proc.poll() is not None or self._ready(), timeout=timeout,
                        interval=0.1) and self.proc.poll() is None:
                return
            self.stop()
            if "address already in use" not in self.log():
                break
        raise RuntimeError("prometheus did not start:\n" + self.log()[-3000:])

    def _ready(self):
        try:
            return http_get(self.base + "/-/ready", timeout=1)[0] == 200
        except OSError:
            return False

    def api(self, path, **params):
        url = self.base + "/api/v1/" + path
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        status, body, _ = http_get(url, timeout=10)
        data = json.loads(body)
        if status != 200 or data.get("status") != "success":
            raise AssertionError("GET %s: %s %s" % (url, status, body[:1000]))
        return data["data"]

    def query(self, expr):
        return self.api("query", query=expr)["result"]

    def log(self):
        self._log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self, timeout=10):
        stop_process(self.proc, timeout)
        if not self._log.closed:
            self._log.close()


def podium_config(cert, key):
    # unauthenticated_rate: 0 because every client here shares the source address 127.0.0.1.
    return """
log:
  level: info
metrics:
  listen: 127.0.0.1:0
relay:
  listen: [udp://127.0.0.1:0, tcp://127.0.0.1:0, tls://127.0.0.1:0]
  realm: monitoring.test
  relay_ports: "44100-44199"
  users: {test: test}
  auth_secrets: [%s]
  allow_peers: [127.0.0.0/8]
  unauthenticated_rate: 0
  tls:
    cert: %s
    key: %s
sfu:
  listen_ip: 127.0.0.1
  udp_port: 0
signaling:
  listen: 127.0.0.1:0
  token_secret: monitoring-token-secret
  api_key: %s
""" % (SECRET, cert, key, API_KEY)


def prometheus_config(metrics_hostport):
    return """
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %s
scrape_configs:
  - job_name: %s
    static_configs:
      - targets: ['%s']
""" % (RULES, JOB, metrics_hostport)


def uclient(server_port, *args, timeout=30):
    cmd = ["turnutils_uclient", "-p", str(server_port)] + [str(a) for a in args] + ["127.0.0.1"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout


def rooms_api(base, key):
    req = urllib.request.Request(base + "/api/rooms", method="POST",
                                 headers={"Authorization": "Bearer " + key})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None


def podium_load(*args, timeout=40):
    r = subprocess.run([LOAD] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout)
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    if r.returncode != 0 or not lines:
        raise AssertionError("podium-load %s failed (%s): %s" % (args, r.returncode,
                                                                 r.stderr[-3000:]))
    return json.loads(lines[-1])


# ------------------------------------------------------------------------------------------

@unittest.skipIf(missing_tools(), missing_tools())
class PromtoolTest(unittest.TestCase):
    """The repository's files through promtool, as an operator would check them."""

    def promtool(self, *args):
        r = subprocess.run([PROMTOOL] + list(args), capture_output=True, text=True, timeout=60,
                           cwd=SOURCE)
        self.assertEqual(r.returncode, 0, "promtool %s:\n%s%s" % (" ".join(args), r.stdout,
                                                                    r.stderr))
        return r.stdout + r.stderr

    def test_check_config(self):
        out = self.promtool("check", "config", SCRAPE_CONFIG)
        self.assertIn("1 rule files found", out)

    def test_check_rules(self):
        alerts, records = rule_names_in_file()
        out = self.promtool("check", "rules", RULES)
        self.assertIn("SUCCESS: %d rules found" % (len(alerts) + len(records)), out)

    def test_rule_unit_tests(self):
        self.promtool("test", "rules", RULE_TESTS)

    def test_every_alert_has_firing_and_silent_cases(self):
        # promtool's file is YAML; its structure is simple enough to read with regular
        # expressions: each `alertname:` is followed by `exp_alerts: []` (silent) or a list.
        with open(RULE_TESTS) as f:
            text = f.read()
        firing, silent = set(), set()
        for name, exp in re.findall(r"alertname:\s*(\S+)\s*\n\s*exp_alerts:(.*)", text):
            (silent if exp.strip() == "[]" else firing).add(name)
        alerts, _ = rule_names_in_file()
        self.assertEqual(sorted(set(alerts) - firing), [], "alerts without a firing test")
        self.assertEqual(sorted(set(alerts) - silent), [], "alerts without a silent test")

    def test_names_used_are_documented(self):
        # Static half of the live check: a name the dashboard or the rules use must be in
        # docs/metrics.md (histograms by their base name), be a recording rule, `up`, or pending.
        documented = documented_metrics()
        self.assertGreater(len(documented), 50, "docs/metrics.md tables not parsed")
        _, records = rule_names_in_file()
        used = {}
        for where, q in dashboard_queries():
            for n in metric_names(q):
                used.setdefault(n, where)
        exprs = rule_expressions_in_file()
        self.assertEqual(len(exprs), len(rule_names_in_file()[0]) + len(records))
        for expr in exprs:
            for n in metric_names(expr):
                used.setdefault(n, "alerts.yml")
        unknown = []
        for name, where in sorted(used.items()):
            base = _HISTOGRAM_SUFFIX.sub("", name)
            if not (name in documented or base in documented or name in records or name == "up"
                    or name in PENDING):
                unknown.append("%s (%s)" % (name, where))
        self.assertEqual(unknown, [], "metric names used but not in docs/metrics.md")
        self.assertEqual(sorted(n for n in used if ":" in n and n not in records), [],
                         "recording rules used but not defined in alerts.yml")

    def test_parser(self):
        self.assertEqual(metric_names(
            'histogram_quantile(0.99, sum by (job, le) (rate(podium_x_seconds_bucket'
            '{job=~"$job", le=~"1|1e\\\\+06"}[$__rate_interval]))) > 1e6 and on (instance) '
            'instance:podium_y:rate5m{quantile="0.5"} / process_max_fds or up == 0'),
            {"podium_x_seconds_bucket", "instance:podium_y:rate5m", "process_max_fds", "up"})
        with self.assertRaises(AssertionError):
            metric_names("rate(node_cpu_seconds_total[5m])")


@unittest.skipIf(missing_tools(), missing_tools())
class LivePrometheusTest(unittest.TestCase):
    """podium + Prometheus + a little traffic, then the API checks."""

    @classmethod
    def setUpClass(cls):
        if not shutil.which(LOAD) and not os.access(LOAD, os.X_OK):
            raise unittest.SkipTest("podium-load not found (PODIUM_LOAD=%s)" % LOAD)
        for tool in ("turnutils_uclient", "turnutils_peer", "openssl"):
            if not shutil.which(tool):
                raise unittest.SkipTest(tool + " is not installed")
        cls.started = time.monotonic()
        cls.tmp = tempfile.TemporaryDirectory(prefix="podium-monitoring-")
        cls.addClassCleanup(cls.tmp.cleanup)
        # 90 days: far from the certificate-expiry alerts' thresholds.
        cert, key = make_certificate(cls.tmp.name, days=90)
        cls.podium = Podium(podium_config(cert, key),
                            expect=("relay", "sfu", "signaling", "metrics"))
        cls.addClassCleanup(cls.podium.__exit__, None, None, None)
        host, port = cls.podium.host_port("metrics")
        cls.instance = "%s:%d" % (host, port)
        cls.prometheus = Prometheus(cls.tmp.name, prometheus_config(cls.instance))
        cls.addClassCleanup(cls.prometheus.stop)

        # Every counter gets a first sample before the traffic, so rates see it grow.
        if not wait_for(lambda: cls.prometheus.query('up{job="%s"} == 1' % JOB), timeout=10):
            raise AssertionError("Prometheus never scraped podium:\n" + cls.prometheus.log())
        cls.traffic()
        # Counters reach /metrics with podium's once-a-second flush; then one more scrape and
        # one more rule evaluation.
        if not wait_for(lambda: cls.prometheus.query(
                "podium_sfu_slide_guest_queue_bytes_count > 0 and on() "
                "podium_relay_packets_total{direction=\"peer_to_client\"} > 0 and on() "
                "podium_signaling_auth_failures_total > 0"), timeout=15):
            raise AssertionError("the traffic never showed in Prometheus")
        time.sleep(2.5)

    @classmethod
    def traffic(cls):
        podium = cls.podium
        udp = podium.wait_host_port("relay", "udp")
        base = podium.url("signaling")

        # TURN in the background (uclient waits a few seconds at the end of a run).
        turn_errors = []

        def turn():
            try:
                peer = EchoPeer()
                try:
                    code, out = uclient(udp[1], "-W", SECRET, "-u", "monitoring", "-m", 2, "-n",
                                        20, "-z", 5, "-e", PEER_HOST, "-r", peer.port)
                    if code != 0:
                        turn_errors.append("uclient to the echo peer: " + out[-2000:])
                finally:
                    peer.stop()
                # A wrong password (auth failures) and a peer the policy refuses (10.0.0.0/8).
                code, out = uclient(udp[1], "-u", "test", "-w", "wrong", "-m", 1, "-n", 5, "-y")
                if "Cannot complete Allocation" not in out:
                    turn_errors.append("uclient with a wrong password: " + out[-2000:])
                code, out = uclient(udp[1], "-u", "test", "-w", "test", "-m", 1, "-n", 5, "-e",
                                    "10.255.255.1", "-r", 9)
                if "403" not in out:
                    turn_errors.append("uclient to a refused peer: " + out[-2000:])
            except Exception as e:  # reported below
                turn_errors.append(repr(e))
        turn_thread = threading.Thread(target=turn)
        turn_thread.start()

        try:
            # Rooms API, once with a wrong key (signaling auth failure, 401).
            status, _ = rooms_api(base, "not-the-key")
            assert status == 401, status
            status, room = rooms_api(base, API_KEY)
            assert status == 201, status
            result = podium_load("--signaling", base, "--room", room["room"], "--token",
                                 room["presenter_token"], "--guests", 3, "--seconds", 2)
            assert result["guests_connected"] == 3 and result["loss_max"] == 0, result
            # Slides: the per-guest queue is sampled once a second, so repeat until a sample
            # was taken while guests were connected.
            for _ in range(4):
                status, room = rooms_api(base, API_KEY)
                assert status == 201, status
                result = podium_load("--mode", "slides", "--signaling", base, "--room",
                                     room["room"], "--token", room["presenter_token"],
                                     "--guests", 4, "--slide-bytes", 2000000, "--timeout", 20)
                assert result["guests_complete"] == 4, result
                if wait_for(lambda: metric(scrape(podium),
                                           "podium_sfu_slide_guest_queue_bytes_count") > 0,
                            timeout=1.5):
                    break
        finally:
            turn_thread.join(60)
        if turn_errors:
            raise AssertionError("\n".join(turn_errors))

    def remaining(self):
        return max(1.0, DEADLINE - (time.monotonic() - self.started))

    def used_names(self):
        """{name: where} for every metric and recording rule the dashboard and rules use."""
        used = {}
        for where, q in dashboard_queries():
            for n in metric_names(q):
                used.setdefault(n, where)
        for group in self.rule_groups():
            for rule in group["rules"]:
                for n in metric_names(rule["query"]):
                    used.setdefault(n, "rule " + rule["name"])
        return used

    def rule_groups(self):
        return self.prometheus.api("rules")["groups"]

    def test_rules_are_loaded_and_healthy(self):
        alerts, records = rule_names_in_file()

        def evaluated():
            rules = [r for g in self.rule_groups() for r in g["rules"]]
            return rules if rules and all(r.get("health") != "unknown" for r in rules) else None
        rules = wait_for(evaluated, timeout=min(10, self.remaining()))
        self.assertTrue(rules, "rules never evaluated:\n" + self.prometheus.log()[-3000:])
        self.assertEqual(sorted(r["name"] for r in rules if r["type"] == "alerting"),
                         sorted(alerts))
        self.assertEqual(sorted(r["name"] for r in rules if r["type"] == "recording"),
                         sorted(records))
        bad = ["%s: %s %s" % (r["name"], r.get("health"), r.get("lastError", ""))
               for r in rules if r.get("health") != "ok" or r.get("lastError")]
        self.assertEqual(bad, [])

    def test_every_metric_used_has_samples(self):
        used = self.used_names()
        # A parser that finds nothing proves nothing.
        for known in ("podium_relay_allocations_active", "podium_sfu_slide_delivery_seconds_bucket",
                      "podium_sfu_datachannel_bytes_total", "process_resident_memory_bytes",
                      "podium_build_info", "up", "instance:podium_sfu_packet_loss:ratio_rate5m"):
            self.assertIn(known, used)
        self.assertGreater(len(used), 60)
        missing, pending_present = [], []
        for name, where in sorted(used.items()):
            has = self.prometheus.query('count({__name__="%s"})' % name)
            if name in PENDING:
                if has:
                    pending_present.append(name)
                else:
                    print("note: %s is not exported yet (%s)" % (name, PENDING[name]))
                continue
            if not has:
                missing.append("%s (used by %s)" % (name, where))
        self.assertEqual(missing, [], "metrics without samples in Prometheus")
        if pending_present:
            print("note: now exported, remove from PENDING: %s" % pending_present)

    def test_dashboard_queries_return_series(self):
        empty = []
        for where, q in dashboard_queries():
            expr = fill_variables(q)
            if not self.prometheus.query(expr):
                empty.append("%s: %s" % (where, expr))
        self.assertEqual(empty, [], "dashboard queries without data")

    def test_traffic_is_visible(self):
        q = self.prometheus.query

        def value(expr):
            r = q(expr)
            return float(r[0]["value"][1]) if r else None
        self.assertGreater(value('sum(podium_relay_packets_total{job="podium"})'), 0)
        self.assertGreater(value('sum(podium_relay_allocations_created_total)'), 0)
        self.assertGreater(value('sum(podium_relay_peer_refusals_total'
                                 '{reason="private_network"})'), 0)
        self.assertGreater(value('sum(podium_relay_auth_failures_total'
                                 '{reason="bad_integrity"})'), 0)
        self.assertGreater(value('sum(podium_signaling_auth_failures_total'
                                 '{reason="bad_api_key"})'), 0)
        self.assertGreater(value('podium_sfu_rtp_packets_total{direction="out"}'), 0)
        self.assertGreater(value('podium_sfu_forwarding_latency_seconds_count'), 0)
        self.assertGreater(value('podium_sfu_slide_delivery_seconds_count'), 0)
        self.assertGreater(value('podium_sfu_dtls_handshakes_total'), 0)
        # Recording rules computed from it: no loss, a latency quantile, a DTLS failure ratio of 0.
        loss = q("instance:podium_sfu_packet_loss:ratio_rate5m")
        self.assertEqual(sorted(s["metric"]["direction"] for s in loss), ["in", "out"])
        self.assertTrue(all(float(s["value"][1]) == 0 for s in loss), loss)
        self.assertEqual(value('instance:podium_sfu_dtls_handshake_failures:ratio_rate5m'), 0)
        p99 = value('instance:podium_sfu_forwarding_latency_seconds:quantile_rate5m'
                    '{quantile="0.99"}')
        self.assertTrue(0 < p99 < 0.1, p99)
        # The rule is evaluated every second, after the scrape that saw the failure: wait for
        # the evaluation rather than race it.
        rule = 'sum(instance:podium_relay_auth_failures:rate5m{reason="bad_integrity"})'
        wait_for(lambda: (value(rule) or 0) > 0, timeout=10)
        self.assertGreater(value(rule), 0)

    def test_nothing_fires_on_a_healthy_podium(self):
        alerts = self.prometheus.api("alerts")["alerts"]
        self.assertEqual(["%s %s %s" % (a["labels"]["alertname"], a["state"], a["value"])
                          for a in alerts], [])

    def test_within_time(self):
        self.assertLess(time.monotonic() - self.started, DEADLINE)


if __name__ == "__main__":
    unittest.main()
