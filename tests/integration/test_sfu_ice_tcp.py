"""Headless Chromium reaches podium's SFU over ICE-TCP (RFC 6544, RFC 4571 framing) when every
UDP packet is dropped.

Each test method runs this file again with `--inner SCENARIO` inside a private loopback-only
network and PID namespace (lib/netns.py). There, before anything starts, an nftables table drops
every UDP packet on the output hook, behind a counter: the browsers' UDP checks to the SFU's UDP
candidate, and every other UDP packet, are dropped (sendmsg fails with EPERM), and the counter
shows UDP was really tried. Then podium (sfu + signaling + metrics, no relay) and a Chromium
presenter (WHIP, fake microphone) and guest (WHEP) start, driven by tests/browser/sfu_browsers.mjs
(the same driver as test_sfu_browsers.py), and the inner run prints one JSON result line.

- test_chromium_over_ice_tcp_with_udp_blocked: sfu.tcp_port is set. Both answers carry the
  passive TCP host candidate (`tcptype passive`, priority below the UDP one); both peer
  connections connect; each side's selected candidate pair is TCP on both ends (remote: the SFU's
  tcp_port); the guest's inbound-rtp Opus packetsReceived reaches MIN_PACKETS and grows; the nft
  counter dropped UDP packets; podium's /metrics counted accepted ICE-TCP connections, two bound
  while connected, RFC 4571 frames both ways and RTP out; after the DELETEs the connections are
  closed (reason session_closed) and the gauge is back at 0.
- test_slide_over_ice_tcp_with_udp_blocked: the slides data channel (SCTP over DTLS, RFC 8261)
  over ICE-TCP: a Chromium presenter sends a SLIDE_SIZE slide to two Chromium guests and a late
  one (tests/browser/sfu_slides.mjs); each guest's bytes have the source's SHA-256, all four
  sessions were bound to ICE-TCP connections, and UDP was dropped.
- test_chromium_fails_without_tcp_port: the control. The same blocked namespace without
  sfu.tcp_port: the answers have no TCP candidate, and within POLL_MS the guest receives no
  packet and is not connected (UDP drops counted, no RTP out at the SFU).

Skipped, with the reason, when not root or when node, npm, /usr/bin/chromium or nft are missing;
PODIUM_REQUIRE_BROWSER=1 turns those into failures.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import netns  # noqa: E402
from podium_harness import Podium, metric, scrape, wait_for  # noqa: E402
import test_sfu_browsers  # noqa: E402

Node = test_sfu_browsers.Node
CHROMIUM = test_sfu_browsers.CHROMIUM
PYTHON = test_sfu_browsers.PYTHON
NFT = shutil.which("nft") or "/usr/sbin/nft"

RESULT_PREFIX = "PODIUM-SFU-ICE-TCP-RESULT "
ROOM = "tcp-only"
MIN_PACKETS = 50          # 1 s of Opus at 20 ms

# Time limits (seconds). A run takes ~10 s (the control ~20 s); the worst case stays below the
# ctest TIMEOUT of 240: npm ci 60 + 2 runs x 60 + namespace checks.
RUN_TIMEOUT = 60          # one namespace run, from the outside
PODIUM_START_TIMEOUT = 10
NODE_TIMEOUT_MS = 45000   # the node script exits by itself after this
POLL_MS = 15000           # the guest's stats are polled at most this long
CONTROL_POLL_MS = 10000   # the control: how long a blocked guest gets to connect
HOLD_MS = 12000           # the node script stays connected at most this long for our /metrics
METRICS_WAIT = 6          # SFU counters reach /metrics on the worker's 1 s tick

NFT_TABLE = "podium_udp_block"
NFT_RULES = """
table inet %s {
  chain output {
    type filter hook output priority 0; policy accept;
    meta l4proto udp counter drop
  }
}
""" % NFT_TABLE

CONFIG = """
log:
  level: debug
sfu:
  listen_ip: 127.0.0.1
  udp_port: 0
{tcp_line}
signaling:
  listen: 127.0.0.1:0
  open_rooms: true
metrics:
  listen: 127.0.0.1:0
"""

SCENARIOS = {
    "tcp": {"tcp": True, "pollMs": POLL_MS},
    "control": {"tcp": False, "pollMs": CONTROL_POLL_MS},
    "slides": {"tcp": True},
}

SLIDES_SCRIPT = os.path.join(test_sfu_browsers.BROWSER_DIR, "sfu_slides.mjs")
SLIDE = {"id": "t1", "size": 4 * 1024 * 1024, "seed": 6544, "mime": "image/jpeg",
         "name": "ice-tcp.jpg"}
SLIDES_NODE_TIMEOUT_MS = 50000
SLIDES_UPLOAD_MS = 30000


def missing_prerequisite():
    why = test_sfu_browsers.missing_prerequisite({"chromium"})
    if why:
        return why
    if not os.access(NFT, os.X_OK):
        return "nft not found (%s; package nftables)" % NFT
    return None


# ---------------------------------------------------------------------------------------------
# Inside the namespace (python3 test_sfu_ice_tcp.py --inner tcp|control).

def block_udp():
    """Loads the table that drops (and counts) every UDP packet sent in this namespace."""
    r = subprocess.run([NFT, "-f", "-"], input=NFT_RULES, capture_output=True, text=True,
                       timeout=10)
    if r.returncode != 0:
        raise RuntimeError("nft -f failed: %s" % r.stderr.strip())


def udp_drops():
    """(packets, bytes) the drop rule counted."""
    r = subprocess.run([NFT, "list", "table", "inet", NFT_TABLE], capture_output=True, text=True,
                       timeout=10)
    m = re.search(r"udp counter packets (\d+) bytes (\d+) drop", r.stdout)
    if not m:
        raise RuntimeError("no counter in:\n" + r.stdout + r.stderr)
    return int(m.group(1)), int(m.group(2))


def tcp_metrics(samples):
    labelled = lambda name, key: {dict(l).get(key): v for (n, l), v in samples.items()
                                  if n == name and v}
    return {
        "accepted": metric(samples, "podium_sfu_tcp_connections_total", result="accepted"),
        "refused": metric(samples, "podium_sfu_tcp_connections_total", result="refused"),
        "bound": metric(samples, "podium_sfu_tcp_connections", state="bound"),
        "pending": metric(samples, "podium_sfu_tcp_connections", state="pending"),
        "closed": labelled("podium_sfu_tcp_connections_closed_total", "reason"),
        "frames_in": metric(samples, "podium_sfu_tcp_frames_total", direction="in"),
        "frames_out": metric(samples, "podium_sfu_tcp_frames_total", direction="out"),
        "frames_dropped": metric(samples, "podium_sfu_tcp_frames_dropped_total"),
        "guests": metric(samples, "podium_sfu_guests"),
        "presenters": metric(samples, "podium_sfu_presenters"),
        "rtp_in": metric(samples, "podium_sfu_rtp_packets_total", direction="in"),
        "rtp_out": metric(samples, "podium_sfu_rtp_packets_total", direction="out"),
        "dtls_handshakes": metric(samples, "podium_sfu_dtls_handshakes_total"),
        "sessions_closed": labelled("podium_sfu_sessions_closed_total", "reason"),
        "dropped": labelled("podium_sfu_dropped_datagrams_total", "reason"),
        # Every result's series, zeros included (to tell "none" from "not exported").
        "ice_checks": {dict(l).get("result"): v for (n, l), v in samples.items()
                       if n == "podium_sfu_ice_checks_total"},
    }


def inner(scenario):
    spec = SCENARIOS[scenario]
    out = {"scenario": scenario}
    out["interfaces"] = [re.split(r":\s*", l)[1] for l in subprocess.run(
        ["ip", "-o", "link", "show"], capture_output=True, text=True, timeout=5).stdout.splitlines()
        if l.strip()]
    block_udp()
    out["udp_drops_before"] = udp_drops()
    start = time.monotonic()
    tcp_line = "  tcp_port: 0" if spec["tcp"] else ""
    with Podium(CONFIG.format(tcp_line=tcp_line), expect=("metrics", "sfu", "signaling"),
                timeout=PODIUM_START_TIMEOUT) as p:
        try:
            (drive_slides if scenario == "slides" else drive)(p, spec, out)
        except BaseException:
            print("podium stderr:\n" + p.stderr()[-20000:], file=sys.stderr, flush=True)
            raise
        code, took = p.stop(timeout=10, check=False)
        out["podium_exit"] = code
        out["podium_stderr"] = p.stderr()[-20000:]
    out["udp_drops"] = udp_drops()
    out["seconds"] = round(time.monotonic() - start, 2)
    print(RESULT_PREFIX + json.dumps(out), flush=True)
    return 0


def drive(p, spec, out):
    out["listeners"] = p.listeners
    options = dict(presenter="chromium", guests=[{"browser": "chromium"}],
                   signaling=p.url("signaling"), room=ROOM, chromium=CHROMIUM,
                   minPackets=MIN_PACKETS, pollMs=spec["pollMs"], holdMs=HOLD_MS,
                   timeoutMs=NODE_TIMEOUT_MS)
    node = Node(options)
    deadline = time.monotonic() + NODE_TIMEOUT_MS / 1000.0 + 2
    try:
        first = node.next_phase(deadline - time.monotonic())
        out["connected"] = first if first and first.get("phase") == "connected" else None
        if out["connected"] is not None:
            if spec["tcp"]:
                def bound():
                    m = tcp_metrics(scrape(p))
                    out["metrics_connected"] = m
                    return m["bound"] >= 2 and m["rtp_out"] > 0 and m["frames_out"] > 0
                wait_for(bound, timeout=METRICS_WAIT, interval=0.25)
            else:
                out["metrics_connected"] = tcp_metrics(scrape(p))
            node.say("close")
            closed = node.next_phase(deadline - time.monotonic())
        else:
            closed = first
        out["closed"] = closed

        def settled():
            m = tcp_metrics(scrape(p))
            out["metrics_after"] = m
            return m["guests"] == 0 and m["presenters"] == 0 and m["bound"] == 0 \
                and m["pending"] == 0
        wait_for(settled, timeout=METRICS_WAIT, interval=0.25)
    finally:
        test_sfu_browsers.stop_node(node, deadline, out)


def drive_slides(p, spec, out):
    """sfu_slides.mjs: ready -> upload, uploaded -> late, late -> close; /metrics at each."""
    out["listeners"] = p.listeners
    options = dict(signaling=p.url("signaling"), room=ROOM, guests=["chromium", "chromium"],
                   lateGuest="chromium", slide=SLIDE, chromium=CHROMIUM, readyMs=15000,
                   uploadMs=SLIDES_UPLOAD_MS, lateMs=15000, holdMs=HOLD_MS,
                   timeoutMs=SLIDES_NODE_TIMEOUT_MS)
    node = Node(options, script=SLIDES_SCRIPT)
    deadline = time.monotonic() + SLIDES_NODE_TIMEOUT_MS / 1000.0 + 2
    say = {"ready": "upload", "uploaded": "late", "late": "close"}
    try:
        while True:
            msg = node.next_phase(deadline - time.monotonic())
            phase = msg and msg.get("phase")
            if phase not in say:
                out["closed"] = msg
                break
            sessions = {"ready": 3, "uploaded": 3, "late": 4}[phase]

            def bound():
                m = tcp_metrics(scrape(p))
                out["metrics_" + phase] = m
                return m["bound"] >= sessions
            wait_for(bound, timeout=METRICS_WAIT, interval=0.25)
            node.say(say[phase])

        def settled():
            m = tcp_metrics(scrape(p))
            out["metrics_after"] = m
            return m["guests"] == 0 and m["presenters"] == 0 and m["bound"] == 0
        wait_for(settled, timeout=METRICS_WAIT, interval=0.25)
    finally:
        test_sfu_browsers.stop_node(node, deadline, out)


# ---------------------------------------------------------------------------------------------
# The test.

class SfuIceTcpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = missing_prerequisite()
        test_sfu_browsers.skip_without(why)
        print("\n" + test_sfu_browsers.ensure_node_modules(), file=sys.stderr)

    def run_scenario(self, scenario):
        out = netns.run_inner(self, [PYTHON, os.path.abspath(__file__), "--inner", scenario],
                              RUN_TIMEOUT, RESULT_PREFIX)
        brief = {k: v for k, v in out.items() if k != "podium_stderr"}
        context = json.dumps(brief, indent=1)[-25000:] + "\npodium stderr (tail):\n" \
            + out["podium_stderr"][-6000:]
        self.assertEqual(out["interfaces"], ["lo"], "the namespace must be loopback-only")
        self.assertEqual(out["podium_exit"], 0, "podium exit status after SIGTERM\n" + context)
        self.assertFalse(out["node_timeout"], context)
        self.assertEqual(out["node_exit"], 0, context)
        self.assertEqual(out["udp_drops_before"], [0, 0], context)
        return out, context

    def test_chromium_over_ice_tcp_with_udp_blocked(self):
        out, context = self.run_scenario("tcp")
        c = out.get("connected")
        self.assertIsNotNone(c, "the browsers never got to the connected phase:\n" + context)
        closed = out.get("closed") or {}
        self.assertIsNone(closed.get("error"), "in the browsers:\n" + context)
        tcp_url = [u for u in out["listeners"]["sfu"] if u.startswith("tcp://")]
        udp_url = [u for u in out["listeners"]["sfu"] if u.startswith("udp://")]
        self.assertEqual(len(tcp_url), 1, context)
        tcp_port = int(tcp_url[0].rsplit(":", 1)[1])
        udp_port = int(udp_url[0].rsplit(":", 1)[1])

        # The answers: the UDP host candidate first, then the passive TCP one (RFC 6544 4.5),
        # of lower priority.
        for exchange in [c["presenter"]["whip"], c["guests"][0]["whep"]]:
            self.assertEqual(exchange["status"], 201, context)
            cands = exchange["answerCandidates"]
            udp = [l for l in cands if " udp " in l and " 127.0.0.1 %d typ host" % udp_port in l]
            tcp = [l for l in cands if l.endswith(" 127.0.0.1 %d typ host tcptype passive"
                                                  % tcp_port) and " tcp " in l]
            self.assertTrue(udp and tcp, "answer candidates %r\n%s" % (cands, context))
            self.assertLess(int(tcp[0].split()[3]), int(udp[0].split()[3]), cands)
            # The browser offered TCP active candidates (RFC 6544 section 4.5, port 9).
            self.assertTrue(any(" tcp " in l and "tcptype active" in l
                                for l in exchange["offerCandidates"]),
                            "no tcptype active candidate offered\n" + context)

        # Both peer connections run over one TCP connection each to the SFU's tcp_port.
        for who, side in (("presenter", c["presenter"]), ("guest", c["guests"][0])):
            pair = side["selected"]
            self.assertIsNotNone(pair, "%s: no selected candidate pair\n%s" % (who, context))
            self.assertEqual(pair["state"], "succeeded", who + "\n" + context)
            self.assertEqual(pair["local"]["protocol"], "tcp", who + "\n" + context)
            self.assertEqual(pair["remote"]["protocol"], "tcp", who + "\n" + context)
            self.assertEqual(pair["remote"]["port"], tcp_port, who + "\n" + context)
        self.assertGreater(c["presenter"]["last"]["outbound"]["packetsSent"], MIN_PACKETS,
                           context)
        self.assertEqual(c["presenter"]["last"]["connection"], "connected", context)

        # Opus reached the guest, and kept arriving.
        g = c["guests"][0]
        inbound = g["last"].get("inbound")
        self.assertIsNotNone(inbound, "guest has no inbound-rtp audio stats\n" + context)
        self.assertEqual(g["last"]["connection"], "connected", context)
        self.assertIsNotNone(g["firstPackets"], "guest received no packet\n" + context)
        self.assertGreaterEqual(inbound["packetsReceived"], MIN_PACKETS, context)
        self.assertGreater(inbound["packetsReceived"], g["firstPackets"], context)
        self.assertEqual((inbound.get("codec") or "").lower(), "audio/opus",
                         "the guest's inbound-rtp codec\n" + context)

        # UDP was tried and dropped; the SFU's ICE-TCP metrics moved.
        self.assertGreater(out["udp_drops"][0], 0, "no UDP packet was dropped\n" + context)
        mc = out.get("metrics_connected") or {}
        self.assertGreaterEqual(mc.get("accepted", 0), 2, context)
        self.assertEqual(mc.get("bound"), 2, context)
        self.assertGreater(mc.get("frames_in", 0), 0, context)
        self.assertGreater(mc.get("frames_out", 0), 0, context)
        self.assertGreater(mc.get("rtp_out", 0), 0, context)
        self.assertEqual(mc.get("dtls_handshakes"), 2, context)

        # DELETE closed both sessions, and with them their connections.
        self.assertEqual(closed.get("closeCommand"), "close", context)
        for label, status in closed["deletes"].items():
            self.assertEqual(status, 200, "DELETE of %s\n%s" % (label, context))
        ma = out.get("metrics_after") or {}
        self.assertEqual((ma.get("bound"), ma.get("pending")), (0, 0), context)
        self.assertGreaterEqual(ma["closed"].get("session_closed", 0), 2, context)
        self.assertEqual(ma["sessions_closed"].get("deleted"), 2, context)
        self.assertEqual(ma["frames_dropped"], 0, context)
        # Every RTP packet the guest counted came in an RFC 4571 frame from the SFU, and every
        # one the presenter sent went in one to it (plus STUN, DTLS, RTCP frames).
        self.assertGreaterEqual(ma["frames_out"], inbound["packetsReceived"], context)
        self.assertGreaterEqual(ma["frames_in"],
                                c["presenter"]["last"]["outbound"]["packetsSent"], context)
        self.assertGreaterEqual(ma["rtp_out"], inbound["packetsReceived"], context)
        self.assertEqual(closed.get("cleanupErrors"), [], context)
        print("\ntcp: chromium %s; selected pairs %s / %s; guest received %d packets; UDP dropped "
              "%d packets; ICE-TCP accepted %d, frames in/out %d/%d, closed %s; rtp in/out %d/%d; "
              "run %.1f s (inner %.1f s)"
              % (c["browsers"]["chromium"]["version"], c["presenter"]["selected"]["local"],
                 c["guests"][0]["selected"]["remote"], inbound["packetsReceived"],
                 out["udp_drops"][0], ma["accepted"], ma["frames_in"], ma["frames_out"],
                 ma["closed"], ma["rtp_in"], ma["rtp_out"], out["outer_seconds"], out["seconds"]),
              file=sys.stderr)

    def test_slide_over_ice_tcp_with_udp_blocked(self):
        out, context = self.run_scenario("slides")
        closed = out.get("closed") or {}
        brief = {k: v for k, v in closed.items() if k not in ("ready", "fanout")}
        context = json.dumps(brief, indent=1)[-20000:] + context[-12000:]
        self.assertIsNone(closed.get("error"), "in the browsers:\n" + context)
        source = closed["source"]["sha256"]
        statuses = closed["fanout"]["statuses"] + closed["late"]["run"]["statuses"]
        self.assertEqual(len(statuses), 3, context)
        for i, st in enumerate(statuses):
            got = st["slides"].get(SLIDE["id"])
            self.assertIsNotNone(got, "guest %d: no slide\n%s" % (i, context))
            self.assertEqual(got["received"], SLIDE["size"], context)
            self.assertEqual(got["sha256"], source, "guest %d: bytes differ\n%s" % (i, context))
            self.assertTrue(any(s["id"] == SLIDE["id"] and s["complete"] for s in st["shows"]),
                            context)
        for label, status in closed["deletes"].items():
            self.assertEqual(status, 200, "DELETE of %s\n%s" % (label, context))
        # Presenter and two guests, then the late one, each on its own ICE-TCP connection.
        self.assertEqual(out["metrics_ready"]["bound"], 3, context)
        self.assertEqual(out["metrics_late"]["bound"], 4, context)
        self.assertGreater(out["udp_drops"][0], 0, context)
        ma = out["metrics_after"]
        self.assertEqual((ma["bound"], ma["pending"]), (0, 0), context)
        upload_ms = closed["fanout"]["at"] - closed["ready"]["at"]
        print("\nslides: %d MiB to 2 guests in %.1f s (late guest %d ms); ICE-TCP frames in/out "
              "%d/%d, dropped at a full write queue %d; closed %s; UDP dropped %d; run %.1f s"
              % (SLIDE["size"] >> 20, upload_ms / 1000.0, closed["late"]["run"]["ms"],
                 ma["frames_in"], ma["frames_out"], ma["frames_dropped"], ma["closed"],
                 out["udp_drops"][0], out["outer_seconds"]), file=sys.stderr)

    def test_chromium_fails_without_tcp_port(self):
        out, context = self.run_scenario("control")
        self.assertEqual([u for u in out["listeners"]["sfu"] if u.startswith("tcp://")], [],
                         context)
        c = out.get("connected")
        self.assertIsNotNone(c, "the driver did not get past negotiation:\n" + context)
        for exchange in [c["presenter"]["whip"], c["guests"][0]["whep"]]:
            self.assertEqual(exchange["status"], 201, context)
            self.assertFalse([l for l in exchange["answerCandidates"] if " tcp " in l], context)
        g = c["guests"][0]
        packets = (g["last"].get("inbound") or {}).get("packetsReceived", 0)
        self.assertEqual(packets, 0, "a blocked guest received audio\n" + context)
        self.assertNotEqual(g["last"]["connection"], "connected", context)
        self.assertNotEqual(c["presenter"]["last"]["connection"], "connected", context)
        self.assertGreater(out["udp_drops"][0], 0, context)
        mc = out.get("metrics_connected") or {}
        self.assertEqual(mc.get("rtp_out"), 0, context)
        # Not one ICE check reached the SFU, on any path: the blocked UDP was the only one.
        checks = mc.get("ice_checks") or {}
        self.assertIn("accepted", checks, "podium_sfu_ice_checks_total not exported\n" + context)
        self.assertEqual(sum(checks.values()), 0, "checks reached the SFU\n" + context)
        print("\ncontrol: after %d ms the guest is %s/%s with %d packets; UDP dropped %d packets; "
              "run %.1f s" % (c["pollMs"], g["last"]["ice"], g["last"]["connection"], packets,
                              out["udp_drops"][0], out["outer_seconds"]), file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        sys.exit(inner(sys.argv[2]))
    unittest.main()
