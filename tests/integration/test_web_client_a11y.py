"""Accessibility of the web client's pages: axe-core's WCAG 2.x A/AA rules (and its best
practices) find no violation on podium's own pages in Chromium, in the states people see them:
the landing page, the presenter page with slides stored and two guests, at desktop and phone
size, the guest page showing a slide at desktop and phone size, and the guest page of a room whose
presenter has not started. The browser reaches podium as http://localhost:PORT while podium
listens on (and announces) 127.0.0.1, so the whole flow also shows that the pages build every URL
from the host name they were reached by. (integration.web_client covers the "Click to hear the presenter"
prompt by keyboard and click.) axe checks, among others, colour contrast, labels and names of every
control, landmarks, headings, language and focusable elements (docs/web-client.md).

One run in a private loopback-only namespace (lib/netns.py), tests/browser/web_client_a11y.mjs.
Skipped, with the reason, when not root or when node, npm or /usr/bin/chromium are missing;
PODIUM_REQUIRE_BROWSER=1 turns those into failures.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, HERE)
import netns  # noqa: E402
from podium_harness import Podium  # noqa: E402
import test_sfu_browsers as sb  # noqa: E402  (Node, prerequisites, npm ci, paths)

SCRIPT = os.path.join(sb.BROWSER_DIR, "web_client_a11y.mjs")
RESULT_PREFIX = "PODIUM-WEB-A11Y-RESULT "
RUN_TIMEOUT = 120

CONFIG = """
relay:
  listen: [udp://127.0.0.1:0, tcp://127.0.0.1:0]
  relay_ip: 127.0.0.1
  ephemeral_secret: true
sfu:
  listen_ip: 127.0.0.1
  udp_port: 0
signaling:
  listen: 127.0.0.1:0
  open_rooms: true
"""


def inner():
    from PIL import Image, ImageDraw
    work = tempfile.mkdtemp(prefix="podium-a11y-")
    out = {}
    try:
        images = []
        for i, colour in enumerate([(30, 90, 160), (160, 60, 30)]):
            image = Image.new("RGB", (1600, 1200), colour)
            ImageDraw.Draw(image).ellipse((400, 300, 1000, 900), fill=(250, 200, 30))
            path = os.path.join(work, "slide%d.jpg" % i)
            image.save(path, "JPEG", quality=85)
            images.append(path)
        with Podium(CONFIG, expect=("relay", "sfu", "signaling")) as p:
            # Reached as "localhost", not as the 127.0.0.1 podium listens on and prints: every
            # URL the pages build (API, WHIP/WHEP, the guest link) must follow the page's host.
            signaling = p.url("signaling").rstrip("/").replace("127.0.0.1", "localhost")
            options = dict(signaling=signaling, images=images,
                           chromium=sb.CHROMIUM, timeoutMs=90000)
            r = subprocess.run([sb.NODE, SCRIPT, json.dumps(options)], cwd=sb.BROWSER_DIR,
                               capture_output=True, text=True, timeout=110)
            out["node_exit"] = r.returncode
            out["node_stderr"] = r.stderr[-5000:]
            lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
            out["browser"] = json.loads(lines[-1]) if lines else None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(RESULT_PREFIX + json.dumps(out), flush=True)
    return 0


class WebClientA11yTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = sb.missing_prerequisite({"chromium"})
        sb.skip_without(why)
        print("\n" + sb.ensure_node_modules(), file=sys.stderr)

    def test_no_axe_violations(self):
        out = netns.run_inner(self, [sb.PYTHON, os.path.abspath(__file__), "--inner"],
                              RUN_TIMEOUT, RESULT_PREFIX)
        b = out.get("browser") or {}
        context = json.dumps(out, indent=1)[-20000:]
        self.assertIsNone(b.get("error"), context)
        pages = b["pages"]
        print("\naxe on %d page states: %s" % (len(pages), ", ".join(
            "%s %d rules passed, %d violations" % (p["name"], p["passes"], len(p["violations"]))
            for p in pages)), file=sys.stderr)
        self.assertEqual(len(pages), 6, context)
        for page in pages:
            with self.subTest(page["name"]):
                self.assertGreater(page["passes"], 10, context)
                self.assertEqual(page["violations"], [], json.dumps(page, indent=1))
        self.assertEqual(b["console"], [], context)
        self.assertRegex(b["guestLink"], r"^http://localhost:\d+/watch/[\w-]+#token=", context)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        sys.exit(inner())
    unittest.main()
