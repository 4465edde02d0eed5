"""The web client's own pages when the browsers' UDP is blocked, in a closed-rooms deployment.

One run in a private loopback-only namespace (lib/netns.py). Inside it the browsers' UDP is
blocked: the namespace's ephemeral port range is moved to 20000-29999 and nftables drops every
UDP datagram from or to those ports. Browsers bind their UDP sockets to ephemeral ports, so every
path they could take over UDP (host candidates to the SFU, TURN over UDP) is dead, while podium's
own UDP (the SFU's port, the relay's listener and relayed addresses, all outside that range)
still flows. TCP is untouched. podium runs with closed rooms (API key, token secret).

tests/browser/web_client_network.mjs then checks, with Chromium on the pages podium serves
(docs/web-client.md):
1. the landing page shows the API-key field (closed rooms, from GET /api/client-config); with the
   key typed in and the start button pressed it opens the presenter page of a new room
   (keyboard only: Tab, type, Tab, Enter);
2. a guest page for a room that does not exist says so (#message data-kind="no-room");
3. a guest page for a room created through the API, before its presenter connects, says the
   presenter has not started (data-kind="waiting"), on its own after falling back to TURN;
4. the presenter page (no query options: the automatic path) connects through TURN over TCP after
   its direct attempt fails, uploads a photo and shows it; the waiting guest's message clears and
   it displays that slide (same id, same size as the presenter's) and receives audio;
4b. the presenter's WHIP session is ended on the server (DELETE): the page reconnects on its own,
   does not upload its first photo again (podium_sfu_slides_received_total stays 1 until a second
   photo is added) and the guest then displays the second photo;
5. both pages' selected candidate pairs are relayed over TCP, the presenter page says
   "Via TURN · TCP", and the nftables drop counters show the browsers' UDP was really refused.
No console errors or warnings in any page.

Skipped, with the reason, when not root or when node, npm, nft or /usr/bin/chromium are missing;
PODIUM_REQUIRE_BROWSER=1 turns those into failures.
"""
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, HERE)
import netns  # noqa: E402
from podium_harness import Podium, http_get, metric, parse_metrics, wait_for  # noqa: E402
import test_sfu_browsers as sb  # noqa: E402  (Node, prerequisites, npm ci, paths)

SCRIPT = os.path.join(sb.BROWSER_DIR, "web_client_network.mjs")
RESULT_PREFIX = "PODIUM-WEB-NETWORK-RESULT "
RUN_TIMEOUT = 150
NODE_TIMEOUT_MS = 100000
BLOCKED_PORTS = "20000-29999"

CONFIG = """
relay:
  listen: [udp://127.0.0.1:0, tcp://127.0.0.1:0]
  relay_ip: 127.0.0.1
  relay_ports: 40000-40999
  auth_secrets: [{secret}]
sfu:
  listen_ip: 127.0.0.1
  udp_port: 41000
signaling:
  listen: 127.0.0.1:0
  open_rooms: false
  api_key: {api_key}
  token_secret: {token_secret}
metrics:
  listen: 127.0.0.1:0
"""


def sh(*argv):
    subprocess.run(list(argv), check=True, timeout=10, capture_output=True, text=True)


def block_browser_udp():
    """Ephemeral ports -> 20000-29999, and UDP from or to them dropped (with counters)."""
    low, high = BLOCKED_PORTS.split("-")
    with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as f:
        f.write("%s %s" % (low, high))
    sh("nft", "add", "table", "inet", "podiumtest")
    sh("nft", "add", "chain", "inet", "podiumtest", "out",
       "{ type filter hook output priority 0; policy accept; }")
    sh("nft", "add", "rule", "inet", "podiumtest", "out", "udp", "sport", BLOCKED_PORTS,
       "counter", "drop")
    sh("nft", "add", "rule", "inet", "podiumtest", "out", "udp", "dport", BLOCKED_PORTS,
       "counter", "drop")


def dropped_packets():
    r = subprocess.run(["nft", "-j", "list", "table", "inet", "podiumtest"], capture_output=True,
                       text=True, timeout=10)
    total = 0
    for item in json.loads(r.stdout).get("nftables", []):
        for expr in item.get("rule", {}).get("expr", []):
            if "counter" in expr:
                total += expr["counter"]["packets"]
    return total


def photo(path, background=(30, 90, 160)):
    """A 2000x1500 JPEG: smooth, distinct, quick to encode."""
    from PIL import Image, ImageDraw
    image = Image.new("RGB", (2000, 1500), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((300, 300, 900, 900), fill=(250, 200, 30))
    draw.rectangle((1100, 700, 1800, 1300), fill=(190, 20, 70))
    image.save(path, "JPEG", quality=90)


def create_room(signaling, api_key):
    request = urllib.request.Request(signaling + "/api/rooms", method="POST", data=b"",
                                     headers={"Authorization": "Bearer " + api_key})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def inner():
    out = {}
    block_browser_udp()
    secret, api_key, token_secret = (secrets.token_hex(16) for _ in range(3))
    config = CONFIG.format(secret=secret, api_key=api_key, token_secret=token_secret)
    work = os.path.join("/tmp", "podium-web-network-%d" % os.getpid())
    os.makedirs(work, exist_ok=True)
    start = time.monotonic()
    try:
        image = os.path.join(work, "photo.jpg")
        photo(image)
        image2 = os.path.join(work, "photo2.jpg")
        photo(image2, (20, 140, 60))
        with Podium(config, expect=("metrics", "relay", "sfu", "signaling")) as p:
            signaling = p.url("signaling").rstrip("/")
            room = create_room(signaling, api_key)
            options = dict(
                signaling=signaling, apiKey=api_key, image=image, image2=image2, chromium=sb.CHROMIUM,
                presenterUrl="%s/present/%s#token=%s&guest=%s" % (
                    signaling, room["room"], room["presenter_token"], room["guest_token"]),
                guestUrl="%s/watch/%s#token=%s" % (signaling, room["room"], room["guest_token"]),
                missingUrl="%s/watch/no-such-room" % signaling, timeoutMs=NODE_TIMEOUT_MS)
            r = subprocess.run([sb.NODE, SCRIPT, json.dumps(options)], cwd=sb.BROWSER_DIR,
                               capture_output=True, text=True, timeout=NODE_TIMEOUT_MS / 1000 + 20)
            out["node_exit"] = r.returncode
            out["node_stderr"] = r.stderr[-8000:]
            lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
            out["browser"] = json.loads(lines[-1]) if lines else None
            out["udp_dropped"] = dropped_packets()
            # SFU counters reach /metrics on the media thread's once-a-second flush.
            slides = lambda: metric(parse_metrics(http_get(p.url("metrics") + "/metrics")[1]),
                                    "podium_sfu_slides_received_total")
            wait_for(lambda: slides() >= 2, timeout=3)
            time.sleep(1.2)  # and one more flush: a third upload would show now
            out["slides_received"] = slides()
            code, _ = p.stop(timeout=10, check=False)
            out["podium_exit"] = code
            out["podium_stderr"] = p.stderr()[-6000:]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["seconds"] = round(time.monotonic() - start, 1)
    print(RESULT_PREFIX + json.dumps(out), flush=True)
    return 0


class WebClientNetworkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = sb.missing_prerequisite({"chromium"})
        if not why and shutil.which("nft") is None:
            why = "nft is not installed (package nftables)"
        sb.skip_without(why)
        print("\n" + sb.ensure_node_modules(), file=sys.stderr)

    def test_pages_fall_back_to_turn_over_tcp_in_a_closed_room(self):
        out = netns.run_inner(self, [sb.PYTHON, os.path.abspath(__file__), "--inner"],
                              RUN_TIMEOUT, RESULT_PREFIX)
        b = out.get("browser") or {}
        context = json.dumps({k: v for k, v in out.items() if k != "podium_stderr"}, indent=1)
        context = context[-20000:] + "\npodium stderr:\n" + out["podium_stderr"]
        print("\nweb client, browsers' UDP blocked: %s s; UDP datagrams dropped %d; timings %s"
              % (out["seconds"], out["udp_dropped"], json.dumps(b.get("timings"))),
              file=sys.stderr)
        self.assertIsNone(b.get("error"), context)
        self.assertEqual(out["node_exit"], 0, context)
        with self.subTest("landing asks for the API key, then opens the presenter page"):
            self.assertTrue(b["landing"]["keyFieldShown"], context)
            self.assertRegex(b["landing"]["url"], r"/present/[A-Za-z0-9_-]+#token=", context)
        with self.subTest("a room that does not exist is said so"):
            self.assertEqual(b["missing"]["kind"], "no-room", context)
            self.assertIn("does not exist", b["missing"]["text"], context)
        with self.subTest("a guest before the presenter waits"):
            self.assertEqual(b["waiting"]["kind"], "waiting", context)
            self.assertIn("not started", b["waiting"]["text"], context)
        with self.subTest("the guest shows the presenter's slide and hears it"):
            g = b["guest"]
            self.assertEqual(g["kind"], "", context)
            self.assertEqual(g["slideId"], b["presenter"]["current"], context)
            self.assertEqual(g["naturalWidth"], 2000, context)
            self.assertGreater(g["packetsReceived"], 25, context)
        with self.subTest("both pages went through TURN over TCP"):
            self.assertEqual(b["presenter"]["route"], {"route": "relay", "protocol": "tcp"},
                             context)
            self.assertEqual(b["presenter"]["label"], "Via TURN · TCP", context)
            self.assertEqual(b["guest"]["route"], {"route": "relay", "protocol": "tcp"}, context)
            self.assertGreater(out["udp_dropped"], 0, context)
        with self.subTest("a presenter whose session ends reconnects and uploads nothing twice"):
            r = b["presenterReconnect"]
            self.assertEqual(r["deleted"], 200, context)
            self.assertGreaterEqual(r["reconnects"], 1, context)
            self.assertNotEqual(r["sessionUrl"], r["first"], context)
            self.assertEqual(r["guestSlide"], r["second"], context)
            # Two photos, each received once: the first was not uploaded again after the
            # reconnect (the SFU's `deck` listed it).
            self.assertEqual(out["slides_received"], 2, context)
        with self.subTest("no console errors or warnings"):
            # Chromium reports every HTTP error status of a fetch() as a console error of the
            # page. Two 404s are the expected outcome of what this test does: the one that tells
            # the guest page its room does not exist, and the presenter page's DELETE of its old
            # session when it reconnects (the test had already deleted that session). Nothing
            # else is allowed.
            expected = [("[%s] error: Failed to load resource: the server responded with a "
                         "status of 404 (Not Found)") % page for page in ("missing", "presenter")]
            self.assertEqual([m for m in b["console"] if m not in expected], [], context)
        self.assertEqual(out["podium_exit"], 0, context)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        sys.exit(inner())
    unittest.main()
