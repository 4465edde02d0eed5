"""Headless Chromium with iceTransportPolicy 'relay' through podium, over UDP and ?transport=tcp,
delivers a data-channel message and audio between two peer connections.

Each transport is one run: podium (relay on udp:// and tcp:// 127.0.0.1:0, REST auth_secrets,
metrics) and Chromium (driven by tests/browser/relay_chromium.mjs through playwright-core) start
together in a private loopback-only network namespace, see lib/netns.py. The credential is a TURN
REST one computed here: username `EXPIRY:chromium`, password base64(HMAC-SHA1(secret, username)).

playwright-core is installed by `npm ci` from tests/browser/package-lock.json when node_modules is
missing or does not match the lock file. That happens outside the namespace (it needs the npm
registry); the browser runs inside it.

Layout: the test methods run this same file again with `--inner TRANSPORT` inside the namespace;
the inner run starts podium and the browser, gathers everything into one JSON line, stops what it
started, and the test method asserts on that JSON.

Skipped, with the reason, when not root or when node, npm or /usr/bin/chromium are missing; set
PODIUM_REQUIRE_BROWSER=1 to make those a failure instead (for CI images that must have them).
"""
import base64
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import netns  # noqa: E402
from podium_harness import Podium, http_get, metric, parse_metrics, wait_for  # noqa: E402

SOURCE_DIR = os.environ.get("PODIUM_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
BROWSER_DIR = os.path.join(SOURCE_DIR, "tests", "browser")
SCRIPT = os.path.join(BROWSER_DIR, "relay_chromium.mjs")
CHROMIUM = os.environ.get("PODIUM_CHROMIUM", "/usr/bin/chromium")
NODE = shutil.which("node") or "/usr/bin/node"
NPM = shutil.which("npm") or "/usr/bin/npm"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

MESSAGE = "hello through podium"
MIN_PACKETS = 50
RESULT_PREFIX = "PODIUM-RELAY-CHROMIUM-RESULT "

# Time limits (seconds). The whole test normally takes ~15 s; the worst case stays below the
# ctest TIMEOUT of 180: npm ci 60 + 2 runs x 50.
NPM_CI_TIMEOUT = 60
RUN_TIMEOUT = 50          # one namespace run, from the outside
PODIUM_START_TIMEOUT = 10
PAGE_TIMEOUT_MS = 20000   # in the page: getUserMedia to the last audio packet counted
NODE_TIMEOUT = 42         # the node script also gives up by itself after PAGE_TIMEOUT_MS + 20 s
METRICS_WAIT = 5          # podium's workers flush packet counters once a second

# allow_peers is not what lets the two relayed addresses reach each other: podium always allows
# peers that are its own relay address on a relay port. It is kept as a real deployment would.
CONFIG = """
log:
  level: debug
metrics:
  listen: 127.0.0.1:0
relay:
  listen: [udp://127.0.0.1:0, tcp://127.0.0.1:0]
  realm: example.org
  auth_secrets: [{secret}]
  allow_peers: [127.0.0.0/8]
"""


def rest_credential(secret, user="chromium", ttl=600):
    """TURN REST API credential: (EXPIRY:user, base64(HMAC-SHA1(secret, username)))."""
    username = "%d:%s" % (int(time.time()) + ttl, user)
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


# ---------------------------------------------------------------------------------------------
# Outside the namespace: node_modules from the lock file.

def node_modules_mismatch():
    """None when tests/browser/node_modules holds exactly the lock file's versions, else why not."""
    with open(os.path.join(BROWSER_DIR, "package-lock.json")) as f:
        lock = json.load(f)
    for path, meta in lock.get("packages", {}).items():
        if not path.startswith("node_modules/"):
            continue
        try:
            with open(os.path.join(BROWSER_DIR, path, "package.json")) as f:
                installed = json.load(f).get("version")
        except (OSError, ValueError):
            return "%s is missing" % path
        if installed != meta.get("version"):
            return "%s is %s, the lock file says %s" % (path, installed, meta.get("version"))
    return None


def ensure_node_modules():
    """Runs `npm ci` in tests/browser when node_modules does not match package-lock.json.
    Serialised with a lock file so concurrent test processes do not install at once."""
    lock_path = os.path.join(tempfile.gettempdir(),
                             "podium-npm-%s.lock" % hashlib.sha1(BROWSER_DIR.encode()).hexdigest()[:12])
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        why = node_modules_mismatch()
        if why is None:
            return "node_modules is current"
        start = time.monotonic()
        r = subprocess.run([NPM, "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR,
                           capture_output=True, text=True, timeout=NPM_CI_TIMEOUT)
        if r.returncode != 0:
            raise AssertionError("npm ci failed (%s):\n%s\n%s" % (why, r.stdout, r.stderr))
        still = node_modules_mismatch()
        if still is not None:
            raise AssertionError("after npm ci: %s" % still)
        return "npm ci (%s) took %.1f s" % (why, time.monotonic() - start)


def missing_prerequisite():
    for path, what in ((NODE, "node"), (NPM, "npm"), (CHROMIUM, "chromium")):
        if not os.access(path, os.X_OK):
            return "%s not found (%s)" % (what, path)
    return netns.unavailable_reason()


# ---------------------------------------------------------------------------------------------
# Inside the namespace (python3 test_relay_chromium.py --inner udp|tcp).

def inner(transport):
    out = {"transport": transport}
    out["interfaces"] = subprocess.run(["ip", "-o", "link", "show"], capture_output=True,
                                       text=True, timeout=5).stdout.split("\n")
    out["interfaces"] = [re.split(r":\s*", l)[1] for l in out["interfaces"] if l.strip()]
    secret = secrets.token_hex(16)
    username, password = rest_credential(secret)
    out["username"] = username
    start = time.monotonic()
    with Podium(CONFIG.format(secret=secret), expect=("metrics", "relay"),
                timeout=PODIUM_START_TIMEOUT) as p:
        # Ready means one line per component; the second relay listener may still be on its way.
        wait_for(lambda: len(p.listeners.get("relay", [])) >= 2, timeout=PODIUM_START_TIMEOUT)
        out["podium_stdout"] = list(p.stdout_lines)
        host, port = p.host_port("relay", transport)
        metrics_url = p.url("metrics") + "/metrics"
        out["metrics_before"] = http_get(metrics_url)[1]
        options = {"turnUrl": "turn:%s:%d?transport=%s" % (host, port, transport),
                   "username": username, "credential": password, "chromium": CHROMIUM,
                   "minPackets": MIN_PACKETS, "timeoutMs": PAGE_TIMEOUT_MS, "message": MESSAGE}
        out["turn_url"] = options["turnUrl"]
        node = subprocess.Popen([NODE, SCRIPT, json.dumps(options)], cwd=BROWSER_DIR,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            stdout, stderr = node.communicate(timeout=NODE_TIMEOUT)
        except subprocess.TimeoutExpired:
            # SIGTERM lets playwright close Chromium; then SIGKILL. Whatever survives dies with
            # the PID namespace when this process exits.
            node.send_signal(signal.SIGTERM)
            try:
                stdout, stderr = node.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                node.kill()
                stdout, stderr = node.communicate()
            out["node_timeout"] = True
        out["node_exit"] = node.returncode
        out["node_stderr"] = stderr[-6000:]
        lines = [l for l in stdout.splitlines() if l.startswith("{")]
        out["browser"] = json.loads(lines[-1]) if lines else None
        out["browser_seconds"] = round(time.monotonic() - start, 2)

        # Packet counters reach /metrics on the workers' 1 s tick.
        def relayed():
            out["metrics_after"] = http_get(metrics_url)[1]
            return metric(parse_metrics(out["metrics_after"]), "podium_relay_packets_total",
                          direction="peer_to_client") > 0
        wait_for(relayed, timeout=METRICS_WAIT)
        code, took = p.stop(timeout=10, check=False)
        out["podium_exit"] = code
        out["podium_stop_seconds"] = round(took, 2)
        out["podium_stderr"] = p.stderr()[-6000:]
    out["seconds"] = round(time.monotonic() - start, 2)
    print(RESULT_PREFIX + json.dumps(out), flush=True)
    return 0


# ---------------------------------------------------------------------------------------------
# The test.

class RelayChromiumTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = missing_prerequisite()
        if why:
            if os.environ.get("PODIUM_REQUIRE_BROWSER") == "1":
                raise AssertionError("PODIUM_REQUIRE_BROWSER=1 but " + why)
            raise unittest.SkipTest(why)
        print("\n" + ensure_node_modules(), file=sys.stderr)

    def run_transport(self, transport):
        start = time.monotonic()
        try:
            r = netns.run_in_loopback_netns([PYTHON, os.path.abspath(__file__), "--inner", transport],
                                            timeout=RUN_TIMEOUT, capture_output=True, text=True)
        except subprocess.TimeoutExpired as e:
            self.fail("the %s run did not finish within %d s\nstdout:\n%s\nstderr:\n%s"
                      % (transport, RUN_TIMEOUT, e.stdout, e.stderr))
        lines = [l for l in r.stdout.splitlines() if l.startswith(RESULT_PREFIX)]
        self.assertEqual(r.returncode, 0, "inner run failed:\n%s\n%s" % (r.stdout, r.stderr))
        self.assertTrue(lines, "no result from the inner run:\n%s\n%s" % (r.stdout, r.stderr))
        out = json.loads(lines[-1][len(RESULT_PREFIX):])
        out["outer_seconds"] = round(time.monotonic() - start, 2)
        return out

    def check(self, transport):
        other = {"udp": "tcp", "tcp": "udp"}[transport]
        out = self.run_transport(transport)
        b = out["browser"]
        context = json.dumps({k: v for k, v in out.items()
                              if k not in ("metrics_before", "metrics_after")}, indent=1)
        self.assertEqual(out["interfaces"], ["lo"], "the namespace must be loopback-only")
        self.assertIsNotNone(b, "the browser script printed no result:\n" + context)
        self.assertIsNone(b["error"], "in the page:\n" + context)
        self.assertEqual(out["node_exit"], 0, context)

        # Only relay candidates were gathered (iceTransportPolicy 'relay'), from podium.
        for pc in ("pc1", "pc2"):
            self.assertTrue(b["candidates"][pc], "%s gathered no candidate\n%s" % (pc, context))
            for c in b["candidates"][pc]:
                self.assertIn(" typ relay ", c, context)

        # The selected pair is relay/relay on both sides, over the configured client transport.
        for pc in ("pc1", "pc2"):
            pair = b["selected"][pc]
            self.assertIsNotNone(pair, "%s has no selected candidate pair\n%s" % (pc, context))
            self.assertEqual(pair["state"], "succeeded", context)
            self.assertEqual(pair["local"]["candidateType"], "relay", context)
            self.assertEqual(pair["remote"]["candidateType"], "relay", context)
            self.assertEqual(pair["local"]["relayProtocol"], transport, context)
            self.assertEqual(pair["local"]["url"], out["turn_url"], context)
            self.assertEqual(pair["local"]["address"], "127.0.0.1", context)
            self.assertGreater(pair["bytesReceived"], 0, context)
        # Each side's remote candidate is the other side's relayed address.
        self.assertEqual(b["selected"]["pc1"]["remote"]["port"], b["selected"]["pc2"]["local"]["port"])
        self.assertEqual(b["selected"]["pc2"]["remote"]["port"], b["selected"]["pc1"]["local"]["port"])

        # The data channel message and the audio arrived on pc2.
        self.assertEqual(b["message"], MESSAGE, context)
        self.assertEqual(b["trackKind"], "audio", context)
        self.assertGreater(b["packetsReceived"], MIN_PACKETS, context)

        # Podium counted the allocations on the right transport and relayed packets both ways.
        before, after = parse_metrics(out["metrics_before"]), parse_metrics(out["metrics_after"])
        created = "podium_relay_allocations_created_total"
        grew = (metric(after, created, transport=transport)) \
            - (metric(before, created, transport=transport))
        self.assertGreaterEqual(grew, 2, "one allocation per peer connection\n" + out["metrics_after"])
        self.assertEqual(metric(after, created, transport=other), metric(before, created, transport=other),
                         "no allocation over %s expected\n%s" % (other, out["metrics_after"]))
        p2c = metric(after, "podium_relay_packets_total", direction="peer_to_client")
        c2p = metric(after, "podium_relay_packets_total", direction="client_to_peer")
        self.assertGreater(p2c, 0, out["metrics_after"])
        self.assertGreater(c2p, 0, out["metrics_after"])
        auth_failures = {dict(k[1]).get("reason"): v for k, v in after.items()
                         if k[0] == "podium_relay_auth_failures_total" and v}

        self.assertEqual(out["podium_exit"], 0, "podium exit status after SIGTERM\n" + context)

        print("\n%s: Chromium %s; relay pair %s:%d <-> %s:%d (relayProtocol %s); message at %d ms, "
              "%d audio packets at %d ms (page); launch %.1f s; allocations +%d over %s; packets "
              "peer_to_client %d client_to_peer %d; auth failures %s; podium stop %.2f s; run %.1f s"
              % (transport, b["browserVersion"],
                 b["selected"]["pc1"]["local"]["address"], b["selected"]["pc1"]["local"]["port"],
                 b["selected"]["pc2"]["local"]["address"], b["selected"]["pc2"]["local"]["port"],
                 b["selected"]["pc1"]["local"]["relayProtocol"], b["messageAtMs"],
                 b["packetsReceived"], b["audioAtMs"], b["launchMs"] / 1000.0, grew, transport,
                 p2c, c2p, auth_failures or "{}", out["podium_stop_seconds"], out["outer_seconds"]),
              file=sys.stderr)

    def test_udp(self):
        self.check("udp")

    def test_tcp(self):
        self.check("tcp")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        sys.exit(inner(sys.argv[2]))
    unittest.main()
