"""podium serve: starts on free ports, serves /metrics, /healthz and /readyz, stops on signals."""
import os
import re
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from podium_harness import Podium, http_get  # noqa: E402

CONFIG = """
log:
  level: debug
metrics:
  listen: 127.0.0.1:0
relay:
  listen: [udp://127.0.0.1:0, tcp://127.0.0.1:0]
  realm: test.podium
  users: {alice: secret}
  allow_peers: [127.0.0.0/8]
signaling:
  listen: 127.0.0.1:0
  open_rooms: true
"""


def metric_value(text, name):
    m = re.search(r"^%s(?:\{[^}]*\})? ([0-9.e+-]+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


class ServeTest(unittest.TestCase):
    def test_metrics_health_and_sigterm(self):
        with Podium(CONFIG, expect=("metrics", "relay", "signaling")) as p:
            base = p.url("metrics")
            status, body, headers = http_get(base + "/metrics")
            self.assertEqual(status, 200)
            self.assertIn("text/plain", headers["Content-Type"])
            for name in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                         "process_open_fds", "process_start_time_seconds"):
                self.assertIsNotNone(metric_value(body, name), name)
            self.assertGreater(metric_value(body, "process_resident_memory_bytes"), 1e6)
            self.assertRegex(body, r'podium_build_info\{version="[0-9.]+"\} 1')
            self.assertEqual(http_get(base + "/healthz")[0], 200)
            self.assertEqual(http_get(base + "/readyz")[0], 200)
            self.assertEqual(http_get(base + "/nope")[0], 404)
            # The signaling listener serves the web client.
            status, body, _ = http_get(p.url("signaling") + "/")
            self.assertEqual(status, 200)
            self.assertIn("<title>Podium</title>", body)
            code, took = p.stop(signal.SIGTERM)
            self.assertEqual(code, 0, p.stderr())
            self.assertLess(took, 5)
            self.assertIn("shutting down", p.stderr())

    def test_sigint_exits_zero(self):
        with Podium(CONFIG, expect=("metrics", "relay", "signaling")) as p:
            code, took = p.stop(signal.SIGINT)
            self.assertEqual(code, 0, p.stderr())
            self.assertLess(took, 5)

    def test_json_logs_carry_component(self):
        config = CONFIG.replace("level: debug", "level: info\n  format: json")
        with Podium(config, expect=("metrics", "relay", "signaling")) as p:
            p.stop()
            lines = [l for l in p.stderr().splitlines() if l.strip()]
            self.assertTrue(lines)
            import json
            for line in lines:
                record = json.loads(line)
                self.assertIn(record["level"], ("info", "warning", "warn", "error"))
                self.assertIn("component", record)
                self.assertIn("msg", record)

    def test_relay_only_config_runs_only_the_relay(self):
        config = """
relay:
  listen: [udp://127.0.0.1:0]
  users: {alice: secret}
"""
        with Podium(config, expect=("relay",)) as p:
            self.assertEqual(set(p.listeners), {"relay"})
            self.assertEqual(p.stop()[0], 0)

    def test_port_in_use_is_a_clear_error(self):
        with Podium(CONFIG, expect=("metrics", "relay", "signaling")) as first:
            host, port = first.host_port("metrics")
            config = "metrics:\n  listen: 127.0.0.1:%d\n" % port
            path = os.path.join(first.dir.name, "clash.yaml")
            with open(path, "w") as f:
                f.write(config)
            from podium_harness import run
            r = run(["serve", "--config", path])
            self.assertEqual(r.returncode, 1)
            self.assertIn("cannot start metrics", r.stderr)
            self.assertIn("in use", r.stderr)


@unittest.skipUnless(os.geteuid() == 0, "needs root for a private network namespace")
class EmbeddedDefaultTest(unittest.TestCase):
    """Without --config: everything on 127.0.0.1, TURN/STUN 3478 UDP+TCP, HTTP 8080, metrics 9464.
    Runs in a private loopback-only network namespace so the fixed ports cannot clash."""

    def test_embedded_default_ports(self):
        script = r'''
set -e
ip link set lo up
"$PODIUM_BINARY" serve > out.txt 2> err.txt &
pid=$!
for i in $(seq 100); do grep -q "podium: open" out.txt 2>/dev/null && break; sleep 0.1; done
cat out.txt
curl -sf http://127.0.0.1:9464/healthz
curl -sf http://127.0.0.1:8080/ | grep -q "<title>Podium</title>"
ss -lnu | grep -q "127.0.0.1:3478"
ss -lnt | grep -q "127.0.0.1:3478"
kill -TERM $pid
wait $pid
echo "exit=$?"
'''
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run(["unshare", "-n", "bash", "-c", script], cwd=d, capture_output=True,
                               text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("podium: relay listening on udp://127.0.0.1:3478", r.stdout)
        self.assertIn("podium: relay listening on tcp://127.0.0.1:3478", r.stdout)
        self.assertIn("podium: metrics listening on http://127.0.0.1:9464", r.stdout)
        self.assertIn("podium: signaling listening on http://127.0.0.1:8080", r.stdout)
        self.assertIn("exit=0", r.stdout)


if __name__ == "__main__":
    unittest.main()
