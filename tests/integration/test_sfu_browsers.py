"""Headless Chromium and Firefox ESR as presenter (WHIP) and guests (WHEP) of podium's SFU.

Scenarios, one test method each:
- test_chromium_presenter_three_chromium_guests: one Chromium presenter (fake microphone) and
  three Chromium guests, each in its own page of one browser.
- test_firefox_presenter_chromium_guest, test_chromium_presenter_firefox_guest: the two browsers
  talking to each other through the SFU, both ways.
- test_chromium_guest_through_relay_only: a Chromium guest with iceTransportPolicy 'relay' and
  the iceServers of the Link header fields (RFC 9725 section 4.4) of the presenter's WHIP
  response: its only path to the SFU is podium's own TURN relay. Its selected candidate pair's
  local candidate is of type relay (udp), and podium's relay counted the allocation and packets.
- test_relay_guest_reaches_sfu_outside_relay_ports: the same with the SFU's port below
  relay.relay_ports; an expected failure (a known bug, see the method and SCENARIOS).

What is checked for every guest: inbound-rtp audio packetsReceived reaches MIN_PACKETS and grows,
and the audio is not silence: the largest inbound-rtp audioLevel seen while polling is above 0
(both Chromium 156 and Firefox ESR 153 have it; without audioLevel the test would fall back to
totalAudioEnergy > 0, then to the peak of a Web Audio AnalyserNode on the received track, and it
prints which one it used). The analyser works in Chromium only: Firefox has no sound device here,
so its AudioContext stays 'suspended'. Also: WHIP/WHEP answered 201 with a Location, and the
Link header fields carry a turn: URI of the relay with a REST credential valid for the
configured secret; the selected candidate pair's remote side is the SFU's port.
On podium's /metrics while everyone is connected: podium_sfu_rtp_packets_total{direction="out"}
> 0, podium_sfu_guests == the number of guests, podium_sfu_presenters == 1; after the pages
DELETE their sessions (200 each), both gauges are back at 0 and the SFU counted at least as many
RTP packets out as the guests received and in as the presenter sent.

Layout as in test_relay_chromium.py: each test method runs this file again with `--inner
SCENARIO` inside a private loopback-only network and PID namespace (lib/netns.py), where podium
(relay + sfu + signaling + metrics) and the browsers (tests/browser/sfu_browsers.mjs, through
playwright-core for Chromium and puppeteer-core for Firefox) run; the inner run prints one JSON
result line and stops what it started (the browsers close, podium gets SIGTERM, and whatever is
left dies with the PID namespace). node_modules comes from `npm ci` on the lock file, outside the
namespace, when it is missing or stale.

Skipped, with the reason, when not root or when node, npm, /usr/bin/chromium (every test) or
/usr/bin/firefox-esr (the Firefox tests) are missing; PODIUM_REQUIRE_BROWSER=1 turns those into
failures.
"""
import base64
import hashlib
import hmac
import json
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import netns  # noqa: E402
from podium_harness import Podium, metric, scrape, wait_for  # noqa: E402

SOURCE_DIR = os.environ.get("PODIUM_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
BROWSER_DIR = os.path.join(SOURCE_DIR, "tests", "browser")
SCRIPT = os.path.join(BROWSER_DIR, "sfu_browsers.mjs")
CHROMIUM = os.environ.get("PODIUM_CHROMIUM", "/usr/bin/chromium")
FIREFOX = os.environ.get("PODIUM_FIREFOX", "/usr/bin/firefox-esr")
NODE = shutil.which("node") or "/usr/bin/node"
NPM = shutil.which("npm") or "/usr/bin/npm"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

RESULT_PREFIX = "PODIUM-SFU-BROWSERS-RESULT "
ROOM = "demo"
MIN_PACKETS = 50          # 1 s of Opus at 20 ms
LOUD = 0.01               # analyser peak (full scale 1.0) that is not silence

# Time limits (seconds). A run normally takes 5-11 s (the whole file ~45 s); the worst case
# stays below the ctest TIMEOUT of 300: npm ci 60 + 5 runs x 45 + namespace checks.
RUN_TIMEOUT = 45          # one namespace run, from the outside
PODIUM_START_TIMEOUT = 10
NODE_TIMEOUT_MS = 36000   # the node script exits by itself after this
POLL_MS = 15000           # guests' stats are polled at most this long
HOLD_MS = 10000           # the node script stays connected at most this long for our /metrics
METRICS_WAIT = 6          # SFU gauges and counters reach /metrics on the workers' 1 s tick

CONFIG = """
log:
  level: debug
relay:
  listen: [udp://127.0.0.1:0]
  relay_ip: 127.0.0.1
  auth_secrets: [{secret}]
sfu:
  listen_ip: 127.0.0.1
  udp_port: {sfu_port}
signaling:
  listen: 127.0.0.1:0
  open_rooms: true
metrics:
  listen: 127.0.0.1:0
"""

# The relay refuses peers on its own IP address (relay_own_address) unless the port is one of
# relay.relay_ports, and loopback peers by default. `podium serve` puts its SFU's media address
# into relay.trusted_peers, so a relay-only guest reaches the SFU whatever its port: relay_guest
# uses an ephemeral port, relay_guest_low_port one below relay_ports (40000), and the config has
# no allow_peers.
SCENARIOS = {
    "chromium3": {"presenter": "chromium", "guests": [{"browser": "chromium"}] * 3},
    "firefox_to_chromium": {"presenter": "firefox", "guests": [{"browser": "chromium"}]},
    "chromium_to_firefox": {"presenter": "chromium", "guests": [{"browser": "firefox"}]},
    "relay_guest": {"presenter": "chromium", "guests": [{"browser": "chromium", "relay": True}]},
    "relay_guest_low_port": {"presenter": "chromium",
                             "guests": [{"browser": "chromium", "relay": True}],
                             "sfu_port": 40000},
}

# Reused from test_relay_chromium.py: npm ci from the lock file, serialised across processes.
import test_relay_chromium  # noqa: E402
ensure_node_modules = test_relay_chromium.ensure_node_modules


def missing_prerequisite(browsers):
    tools = [(NODE, "node"), (NPM, "npm")]
    tools += [(CHROMIUM, "chromium")] if "chromium" in browsers else []
    tools += [(FIREFOX, "firefox-esr")] if "firefox" in browsers else []
    for path, what in tools:
        if not os.access(path, os.X_OK):
            return "%s not found (%s)" % (what, path)
    return netns.unavailable_reason()


def browsers_of(scenario):
    s = SCENARIOS[scenario]
    return {s["presenter"]} | {g["browser"] for g in s["guests"]}


# ---------------------------------------------------------------------------------------------
# Inside the namespace (python3 test_sfu_browsers.py --inner SCENARIO).

def stop_node(node, deadline, out):
    """Stops the Node driver (by the scenario's deadline, at least 1 s) and records how it ended
    in `out`: node_exit, node_timeout and the tail of its stderr."""
    code, timed_out = node.stop(timeout=max(deadline - time.monotonic(), 1))
    out["node_exit"] = code
    out["node_timeout"] = timed_out
    out["node_stderr"] = "\n".join(node.stderr_lines)[-8000:]


def skip_without(why):
    """Skips the calling test (or, from setUpClass, the class) when a prerequisite is missing
    (`why` says which; None or "" when nothing is). With PODIUM_REQUIRE_BROWSER=1, as in CI, a
    missing prerequisite fails instead."""
    if not why:
        return
    if os.environ.get("PODIUM_REQUIRE_BROWSER") == "1":
        raise AssertionError("PODIUM_REQUIRE_BROWSER=1 but " + why)
    raise unittest.SkipTest(why)


class Node:
    """A node driver (`script`, default sfu_browsers.mjs) with a reader thread: JSON lines on
    stdout go to a queue, commands go to its stdin."""

    def __init__(self, options, script=SCRIPT):
        self.proc = subprocess.Popen([NODE, script, json.dumps(options)], cwd=BROWSER_DIR,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.stderr_lines = []
        self.stdout_done = threading.Event()
        threading.Thread(target=self._read, args=(self.proc.stdout, self._line, self.stdout_done),
                         daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr_lines.append,
                                                  threading.Event()), daemon=True).start()

    @staticmethod
    def _read(stream, sink, done):
        for line in stream:
            sink(line.rstrip("\n"))
        done.set()

    def _line(self, line):
        if line.startswith("{"):
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                self.stderr_lines.append("unparsable stdout line: " + line[:300])

    def next_phase(self, timeout):
        """The next JSON line, or None after `timeout` s or once the script's stdout closed."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.stdout_done.is_set() and self.lines.empty():
                    return None
                if time.monotonic() >= deadline:
                    return None

    def say(self, line):
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except OSError:
            pass

    def stop(self, timeout):
        """Waits for the exit; SIGTERM then SIGKILL. Returns (exit code, timed out)."""
        try:
            return self.proc.wait(timeout=timeout), False
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=5), True
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait(), True


def sfu_metrics(samples):
    return {
        "guests": metric(samples, "podium_sfu_guests"),
        "presenters": metric(samples, "podium_sfu_presenters"),
        "rtp_in": metric(samples, "podium_sfu_rtp_packets_total", direction="in"),
        "rtp_out": metric(samples, "podium_sfu_rtp_packets_total", direction="out"),
        "dtls_handshakes": metric(samples, "podium_sfu_dtls_handshakes_total"),
        "send_errors": metric(samples, "podium_sfu_send_errors_total"),
        "srtp_errors": metric(samples, "podium_sfu_srtp_errors_total"),
        "dtls_failures": metric(samples, "podium_sfu_dtls_handshake_failures_total"),
        "dropped": {dict(l).get("reason"): v for (n, l), v in samples.items()
                    if n == "podium_sfu_dropped_datagrams_total" and v},
        "closed": {dict(l).get("reason"): v for (n, l), v in samples.items()
                   if n == "podium_sfu_sessions_closed_total" and v},
        "relay_allocations": metric(samples, "podium_relay_allocations_created_total"),
        "relay_peer_to_client": metric(samples, "podium_relay_packets_total",
                                       direction="peer_to_client"),
        "relay_client_to_peer": metric(samples, "podium_relay_packets_total",
                                       direction="client_to_peer"),
        "relay_auth_failures": {dict(l).get("reason"): v for (n, l), v in samples.items()
                                if n == "podium_relay_auth_failures_total" and v},
        "relay_peer_refusals": {dict(l).get("reason"): v for (n, l), v in samples.items()
                                if n == "podium_relay_peer_refusals_total" and v},
    }


def inner(scenario):
    spec = SCENARIOS[scenario]
    n_guests = len(spec["guests"])
    out = {"scenario": scenario, "guests_expected": n_guests}
    out["interfaces"] = [re.split(r":\s*", l)[1] for l in subprocess.run(
        ["ip", "-o", "link", "show"], capture_output=True, text=True, timeout=5).stdout.splitlines()
        if l.strip()]
    secret = secrets.token_hex(16)
    out["secret"] = secret
    start = time.monotonic()
    config = CONFIG.format(secret=secret, sfu_port=spec.get("sfu_port", 0))
    with Podium(config, expect=("metrics", "relay", "sfu", "signaling"),
                timeout=PODIUM_START_TIMEOUT) as p:
        try:
            drive(p, spec, out)
        except BaseException:
            print("podium stderr:\n" + p.stderr()[-20000:], file=sys.stderr, flush=True)
            raise
        code, took = p.stop(timeout=10, check=False)
        out["podium_exit"] = code
        out["podium_stop_seconds"] = round(took, 2)
        out["podium_stderr"] = p.stderr()[-20000:]
    out["seconds"] = round(time.monotonic() - start, 2)
    print(RESULT_PREFIX + json.dumps(out), flush=True)
    return 0


def drive(p, spec, out):
    """Runs the node script against the running podium `p`, reading /metrics meanwhile."""
    n_guests = len(spec["guests"])
    out["listeners"] = p.listeners
    options = dict(presenter=spec["presenter"], guests=spec["guests"],
                   signaling=p.url("signaling"), room=ROOM, chromium=CHROMIUM,
                   firefox=FIREFOX, minPackets=MIN_PACKETS, pollMs=POLL_MS, holdMs=HOLD_MS,
                   timeoutMs=NODE_TIMEOUT_MS)
    node = Node(options)
    deadline = time.monotonic() + NODE_TIMEOUT_MS / 1000.0 + 2
    try:
        first = node.next_phase(deadline - time.monotonic())
        out["connected"] = first if first and first.get("phase") == "connected" else None
        if out["connected"] is not None:
            # Everyone is connected and holding: the SFU's view of it.
            def all_there():
                m = sfu_metrics(scrape(p))
                out["metrics_connected"] = m
                return m["guests"] == n_guests and m["presenters"] == 1 and m["rtp_out"] > 0
            wait_for(all_there, timeout=METRICS_WAIT, interval=0.25)
            node.say("close")
            closed = node.next_phase(deadline - time.monotonic())
        else:
            closed = first
        out["closed"] = closed
        if closed is not None and closed.get("deletes"):
            # Every packet a guest counted was sent by the SFU, every packet the presenter
            # sent was received by it (loopback: no loss); the counters catch up on the tick.
            received = sum(g["last"]["inbound"]["packetsReceived"]
                           for g in out["connected"]["guests"] if g["last"].get("inbound"))
            sent = out["connected"]["presenter"]["last"]["outbound"]["packetsSent"]

            def all_gone():
                m = sfu_metrics(scrape(p))
                out["metrics_after"] = m
                return m["guests"] == 0 and m["presenters"] == 0 and \
                    m["rtp_out"] >= received and m["rtp_in"] >= sent
            wait_for(all_gone, timeout=METRICS_WAIT, interval=0.25)
    finally:
        stop_node(node, deadline, out)


# ---------------------------------------------------------------------------------------------
# The test.

def rest_credential_ok(secret, username, credential):
    """TURN REST API: credential == base64(HMAC-SHA1(secret, username)), username EXPIRY:user."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    expiry = int(username.split(":", 1)[0]) if re.match(r"^\d+:", username) else 0
    return base64.b64encode(digest).decode() == credential and expiry > time.time()


class SfuBrowsersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = missing_prerequisite({"chromium"})
        skip_without(why)
        print("\n" + ensure_node_modules(), file=sys.stderr)

    def run_scenario(self, scenario):
        why = missing_prerequisite(browsers_of(scenario))
        skip_without(why)
        start = time.monotonic()
        try:
            r = netns.run_in_loopback_netns(
                [PYTHON, os.path.abspath(__file__), "--inner", scenario],
                timeout=RUN_TIMEOUT, capture_output=True, text=True)
        except subprocess.TimeoutExpired as e:
            self.fail("the %s run did not finish within %d s\nstdout:\n%s\nstderr:\n%s"
                      % (scenario, RUN_TIMEOUT, e.stdout, e.stderr))
        lines = [l for l in r.stdout.splitlines() if l.startswith(RESULT_PREFIX)]
        tails = (r.stdout[-5000:], r.stderr[-5000:])
        self.assertEqual(r.returncode, 0, "inner run failed:\n%s\n%s" % tails)
        self.assertTrue(lines, "no result from the inner run:\n%s\n%s" % tails)
        out = json.loads(lines[-1][len(RESULT_PREFIX):])
        out["outer_seconds"] = round(time.monotonic() - start, 2)
        return out

    def check(self, scenario, out=None):
        out = out or self.run_scenario(scenario)
        spec = SCENARIOS[scenario]
        n = len(spec["guests"])
        c = out.get("connected")
        closed = out.get("closed") or {}
        brief = {k: v for k, v in out.items() if k not in ("podium_stderr", "secret")}
        context = json.dumps(brief, indent=1)[-25000:] + "\npodium stderr (tail):\n" \
            + out["podium_stderr"][-6000:]
        self.assertEqual(out["interfaces"], ["lo"], "the namespace must be loopback-only")
        self.assertIsNotNone(c, "the browsers never got connected:\n" + context)
        self.assertIsNone(closed.get("error"), "in the browsers:\n" + context)
        self.assertEqual(out["node_exit"], 0, context)
        self.assertFalse(out["node_timeout"], context)
        sfu_port = int(out["listeners"]["sfu"][0].rsplit(":", 1)[1])
        turn_port = int(out["listeners"]["relay"][0].rsplit(":", 1)[1])

        # WHIP: 201, a session URL, and the relay's ICE servers as Link header fields whose TURN
        # credential is a valid REST credential for the configured secret.
        whip = c["presenter"]["whip"]
        self.assertEqual(whip["status"], 201, context)
        self.assertRegex(whip["location"], r"^/whip/%s/\S+$" % ROOM, context)
        for exchange in [whip] + [g["whep"] for g in c["guests"]]:
            turn = [s for s in exchange["iceServers"] if s["urls"].startswith("turn:")]
            self.assertTrue(turn, "no turn: Link header field: %r\n%s"
                            % (exchange["linkHeader"], context))
            self.assertIn("turn:127.0.0.1:%d?transport=udp" % turn_port,
                          [s["urls"] for s in turn], context)
            for s in turn:
                self.assertTrue(rest_credential_ok(out["secret"], s["username"], s["credential"]),
                                "Link credential is not a REST credential of the secret: %r" % s)

        # The presenter sent audio, to the SFU's port.
        self.assertGreater(c["presenter"]["last"]["outbound"]["packetsSent"], MIN_PACKETS, context)
        self.assertIsNotNone(c["presenter"]["selected"], context)
        self.assertEqual(c["presenter"]["selected"]["remote"]["port"], sfu_port, context)

        audio_checks = []
        for i, g in enumerate(c["guests"]):
            what = "guest%d (%s%s)" % (i, g["browser"], ", relay only" if g["relay"] else "")
            self.assertEqual(g["whep"]["status"], 201, what + "\n" + context)
            self.assertRegex(g["whep"]["location"], r"^/whep/%s/\S+$" % ROOM, context)
            inbound = g["last"].get("inbound")
            self.assertIsNotNone(inbound, "%s has no inbound-rtp audio stats\n%s" % (what, context))
            # Packets arrived and kept arriving.
            self.assertIsNotNone(g["firstPackets"], "%s received no packet\n%s" % (what, context))
            self.assertGreaterEqual(inbound["packetsReceived"], MIN_PACKETS, what + "\n" + context)
            self.assertGreater(inbound["packetsReceived"], g["firstPackets"],
                               "%s: packetsReceived did not grow\n%s" % (what, context))
            self.assertIn("opus", (inbound.get("codec") or "opus").lower(), context)
            # Not silence.
            if g["audioLevelMax"] is not None:
                self.assertGreater(g["audioLevelMax"], 0,
                                   "%s: audioLevel stayed 0\n%s" % (what, context))
                used = "audioLevel max %.3f" % g["audioLevelMax"]
            elif inbound.get("totalAudioEnergy") is not None:
                self.assertGreater(inbound["totalAudioEnergy"], 0, what + "\n" + context)
                used = "totalAudioEnergy %.3g" % inbound["totalAudioEnergy"]
            else:
                self.assertGreater(g["last"]["peakMax"], LOUD,
                                   "%s: no audioLevel, no totalAudioEnergy, analyser silent\n%s"
                                   % (what, context))
                used = "analyser peak %.3f" % g["last"]["peakMax"]
            audio_checks.append("%s: %d packets (first %d at %s ms), %s, analyser peak %.3f "
                                "(%d/%d loud frames), lost %s"
                                % (what, inbound["packetsReceived"], g["firstPackets"],
                                   g["firstPacketsAtMs"], used, g["last"]["peakMax"],
                                   g["last"]["loudFrames"], g["last"]["analyserFrames"],
                                   inbound.get("packetsLost")))
            # The path: the SFU's port on loopback; through the relay when it must be.
            pair = g["selected"]
            self.assertIsNotNone(pair, "%s: no selected candidate pair\n%s" % (what, context))
            self.assertEqual(pair["remote"]["port"], sfu_port, what + "\n" + context)
            if g["relay"]:
                self.assertEqual(pair["local"]["candidateType"], "relay", what + "\n" + context)
                self.assertEqual(pair["local"]["relayProtocol"], "udp", context)
                self.assertTrue(g["whep"]["offerCandidates"], context)
                for cand in g["whep"]["offerCandidates"]:
                    self.assertIn(" typ relay ", cand, context)
            else:
                self.assertNotEqual(pair["local"]["candidateType"], "relay", context)

        # The SFU's view while everyone was connected, and after the DELETEs.
        mc = out.get("metrics_connected") or {}
        self.assertGreater(mc.get("rtp_out", 0), 0, context)
        self.assertEqual(mc.get("guests"), n, context)
        self.assertEqual(mc.get("presenters"), 1, context)
        self.assertEqual(closed.get("closeCommand"), "close", context)
        for label, status in closed["deletes"].items():
            self.assertEqual(status, 200, "DELETE of %s\n%s" % (label, context))
        ma = out.get("metrics_after") or {}
        self.assertEqual(ma.get("guests"), 0, context)
        self.assertEqual(ma.get("presenters"), 0, context)
        sum_in = sum(g["last"]["inbound"]["packetsReceived"] for g in c["guests"])
        sent = c["presenter"]["last"]["outbound"]["packetsSent"]
        self.assertGreaterEqual(ma.get("rtp_out", 0), sum_in,
                                "SFU counted fewer packets out than the guests got\n" + context)
        self.assertGreaterEqual(ma.get("rtp_in", 0), sent,
                                "SFU counted fewer packets in than the presenter sent\n" + context)
        if any(g.get("relay") for g in spec["guests"]):
            self.assertGreaterEqual(mc["relay_allocations"], 1, context)
            self.assertGreater(mc["relay_peer_to_client"], 0, context)
            self.assertGreater(mc["relay_client_to_peer"], 0, context)
        self.assertEqual(out["podium_exit"], 0, "podium exit status after SIGTERM\n" + context)
        self.assertEqual(closed.get("cleanupErrors"), [], context)

        versions = ", ".join("%s %s" % (k, v["version"]) for k, v in c["browsers"].items())
        launch = ", ".join("%s %.1f s" % (k, v["launchMs"] / 1000.0)
                           for k, v in c["browsers"].items())
        print("\n%s: %s; presenter %s sent %d; %s; SFU rtp in/out %d/%d while connected, %d/%d "
              "at the end (guests received %d), guests %d, dtls handshakes %d, dropped %s, "
              "closed %s; relay allocations %d, packets p2c %d c2p %d, auth failures %s, peer "
              "refusals %s; launch %s; negotiated at %d ms, polled %d ms; podium stop %.2f s; "
              "run %.1f s"
              % (scenario, versions, c["presenter"]["browser"], sent, "; ".join(audio_checks),
                 mc["rtp_in"], mc["rtp_out"], ma["rtp_in"], ma["rtp_out"], sum_in, mc["guests"],
                 mc["dtls_handshakes"], ma["dropped"], ma["closed"], mc["relay_allocations"],
                 mc["relay_peer_to_client"], mc["relay_client_to_peer"], mc["relay_auth_failures"],
                 mc["relay_peer_refusals"], launch, c["negotiatedAtMs"], c["pollMs"],
                 out["podium_stop_seconds"], out["outer_seconds"]),
              file=sys.stderr)
        return out

    def test_chromium_presenter_three_chromium_guests(self):
        self.check("chromium3")

    def test_firefox_presenter_chromium_guest(self):
        self.check("firefox_to_chromium")

    def test_chromium_presenter_firefox_guest(self):
        self.check("chromium_to_firefox")

    def test_chromium_guest_through_relay_only(self):
        self.check("relay_guest")

    def test_relay_guest_reaches_sfu_outside_relay_ports(self):
        """The SFU on the relay's own IP with a port outside relay.relay_ports: reachable through
        the relay because `podium serve` trusts exactly the SFU's media address (once this was
        refused with 403 and podium_relay_peer_refusals_total{reason="relay_own_address"})."""
        out = self.run_scenario("relay_guest_low_port")
        refusals = (out.get("metrics_connected") or {}).get("relay_peer_refusals")
        print("\nrelay_guest_low_port: SFU on %s, relay peer refusals %s"
              % (out["listeners"]["sfu"][0], refusals), file=sys.stderr)
        self.check("relay_guest_low_port", out)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        sys.exit(inner(sys.argv[2]))
    unittest.main()
