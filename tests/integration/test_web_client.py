"""The web client of `podium serve` (signaling/web) in headless Chromium and Firefox ESR.

One run, in a private loopback-only network and PID namespace (lib/netns.py), with podium (relay
on UDP and TCP with a TURN REST secret, so WHIP/WHEP 201s carry Link ICE servers; sfu; signaling
with open_rooms; metrics) and the browsers, driven by tests/browser/web_client.mjs (see there for
the steps, in the order they run). Three slides are generated here with PIL at test time, smooth
gradients with big shapes:
  #1 3200x2400 JPEG with EXIF Orientation 6 (displayed rotated: 2400x3200),
  #2 1600x1200 PNG,
  #3 3000x2000 WebP,
and the presenter page runs with ?max_edge=1280, so each is downscaled in the page. What a slide
should look like: PIL's ImageOps.exif_transpose of the source, resized so that its longest edge is
1280 px.

What is checked, each part a subTest:
- landing: `/` loads, button#start is reached with Tab and activated with Enter, which lands on
  /present/{room}#token=...&guest=...;
- presenter: connected, the three thumbnails reach data-state=stored and "delivered to 2/2", the
  guest count is 2, slide #2 is current after ArrowRight, input#guest-link is the
  /watch/{room}#token=... URL of this origin, #qr holds an <svg>;
- autoplay: the Chromium guest (no autoplay allowance) shows button#play; clicking it starts the
  audio and hides it; the Firefox guest (autoplay allowed by prefs) plays without it;
- slides on the guests (Chromium and Firefox: #1 and #2; the late 390x844 Chromium guest: #2; the
  reconnected guest: #2, then #3 for everyone; the relay guests: #3): img#slide's data-id is the
  presenter's id of that slide, naturalWidth x naturalHeight is the expected downscaled size (the
  longest edge exactly 1280, orientation applied), and the picture on screen (a screenshot
  cropped to the letterboxed content, both downscaled to 64x64) differs from the expected image
  by less than MAX_MAD per channel (mean absolute difference, 0-255) while differing from every
  other slide, and from slide #1 without its EXIF rotation, by more than MIN_MAD_OTHER;
- audio: each guest's inbound-rtp audio packetsReceived grows over 2 s; #speaking was
  data-speaking=true at some point on both guests (Chromium's fake microphone beeps);
- phone: the late guest's picture lies inside its 390x844 viewport;
- cut: nftables drops the Chromium guest's UDP port; the page makes a new WHEP session by itself
  (window.podium.reconnects >= 1, a new sessionUrl), #message went to data-kind "reconnecting"
  and back to "", slide #2 is shown again, then slide #3;
- relay over TCP: Chromium and Firefox guests with ?policy=relay&transport=tcp show slide #3,
  receive audio, and their selected candidate pair's local candidate is a relay candidate with
  relayProtocol tcp; podium_relay_allocations_created_total{transport="tcp"} >= 2 and the TCP
  allocations are active while they are connected;
- console: no console error or warning and no page error in any page of either browser;
- podium exits 0 on SIGTERM.

Screenshots landing.png, presenter.png, guest.png (Chromium, 1280x720) and guest-phone.png
(390x844) go to $PODIUM_TEST_ARTIFACTS, else <build dir>/test-artifacts/web/ (the build dir is
$PODIUM_BUILD_DIR, set by CMake, else the directory of $PODIUM_BINARY); the crops compared go to
crops/ below it. With PODIUM_UPDATE_SCREENSHOTS=1 the four are also copied to docs/screenshots/.

Skipped, with the reason, when not root or when node, npm, /usr/bin/chromium,
/usr/bin/firefox-esr, nft or PIL are missing; PODIUM_REQUIRE_BROWSER=1 turns those into failures.
"""
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, HERE)
import netns  # noqa: E402
from podium_harness import Podium, metric, scrape, wait_for  # noqa: E402
import test_sfu_browsers as sb  # noqa: E402  (Node, prerequisites, npm ci, paths)

SCRIPT = os.path.join(sb.BROWSER_DIR, "web_client.mjs")
RESULT_PREFIX = "PODIUM-WEB-CLIENT-RESULT "
NFT = shutil.which("nft") or "/usr/sbin/nft"
SCREENSHOTS = ("landing.png", "presenter.png", "guest.png", "guest-phone.png")

MAX_EDGE = 1280
# Slides as generated (source size, format, EXIF orientation). Index = slide number - 1.
SLIDES = [
    {"name": "slide1.jpg", "size": (3200, 2400), "format": "JPEG", "orientation": 6},
    {"name": "slide2.png", "size": (1600, 1200), "format": "PNG", "orientation": None},
    {"name": "slide3.webp", "size": (3000, 2000), "format": "WEBP", "orientation": None},
]
COMPARE_SIZE = (64, 64)
# Mean absolute difference per channel (0-255) between the picture on screen and the expected
# image, both at COMPARE_SIZE. Measured here: the right slide 0.4-1.5 (re-encoding, resampling;
# 3.9 once with a message box over the picture), a wrong one 84-131 (slide #1 without its EXIF
# rotation: 84-130); every value is printed.
MAX_MAD = 8.0
MIN_MAD_OTHER = 25.0

# Time limits (seconds). The run normally takes about 60-80 s; the worst case stays below the
# ctest TIMEOUT of 300: npm ci 60 + RUN_TIMEOUT + namespace check.
RUN_TIMEOUT = 200
PODIUM_START_TIMEOUT = 10
NODE_TIMEOUT_MS = 185000
HOLD_MS = 20000
METRICS_WAIT = 6

CONFIG = """
log:
  level: info
relay:
  listen: [udp://127.0.0.1:0, tcp://127.0.0.1:0]
  relay_ip: 127.0.0.1
  auth_secrets: [{secret}]
  allow_peers: [127.0.0.0/8]
sfu:
  listen_ip: 127.0.0.1
  udp_port: 0
signaling:
  listen: 127.0.0.1:0
  open_rooms: true
metrics:
  listen: 127.0.0.1:0
"""

NFT_TABLE = "podium_web_test"


def artifacts_dir():
    d = os.environ.get("PODIUM_TEST_ARTIFACTS")
    if not d:
        build = os.environ.get("PODIUM_BUILD_DIR") or os.path.dirname(
            os.path.abspath(os.environ.get("PODIUM_BINARY") or os.getcwd()))
        d = os.path.join(build, "test-artifacts", "web")
    return os.path.abspath(d)


# ---------------------------------------------------------------------------------------------
# Fixtures (PIL).

def make_slide(index, spec):
    """Slide `index` as stored in its file (before any EXIF rotation): a smooth two-colour
    gradient in its own direction and palette, with big shapes placed asymmetrically."""
    from PIL import Image, ImageDraw
    w, h = spec["size"]
    palettes = [((200, 30, 40), (20, 60, 210)), ((20, 170, 60), (230, 210, 40)),
                ((240, 130, 20), (90, 20, 120))]
    a, b = palettes[index]
    ramp = Image.linear_gradient("L")  # 256x256, black at the top to white at the bottom
    if index == 0:
        ramp = ramp.rotate(90)          # left-right
    elif index == 2:
        ramp = Image.new("L", (2, 2))   # diagonal: bilinear between four corners
        ramp.putdata([0, 128, 128, 255])
    ramp = ramp.resize((w, h), Image.BILINEAR)
    img = Image.composite(Image.new("RGB", (w, h), b), Image.new("RGB", (w, h), a), ramp)
    d = ImageDraw.Draw(img)
    u = min(w, h) // 12
    if index == 0:
        d.ellipse((u, u, 5 * u, 5 * u), fill=(255, 240, 60))           # top left
        d.rectangle((w - 6 * u, h - 4 * u, w - u, h - u), fill=(20, 20, 20))  # bottom right
        d.rectangle((w // 2 - u, u, w // 2, h - u), fill=(250, 250, 250))    # a bar
    elif index == 1:
        d.polygon([(w - u, u), (w - u, 7 * u), (w - 7 * u, u)], fill=(255, 255, 255))
        d.rectangle((u, h - 5 * u, 5 * u, h - u), fill=(10, 10, 90))
        d.ellipse((w // 2 - 2 * u, h // 2 - 2 * u, w // 2 + 2 * u, h // 2 + 2 * u),
                  fill=(200, 0, 160))
    else:
        d.ellipse((w // 2, u, w - u, h // 2), fill=(0, 220, 230))
        d.rectangle((u, h // 2, w // 3, h - u), fill=(250, 250, 250))
        d.rectangle((0, h - 2 * u, w, h - u), fill=(0, 0, 0))
    return img


def make_fixtures(directory):
    """Writes the slides into `directory`; returns (paths, expected images, and for slide #1 the
    picture without its EXIF rotation, downscaled like the rest)."""
    from PIL import Image, ImageOps
    paths, expected = [], []
    for i, spec in enumerate(SLIDES):
        img = make_slide(i, spec)
        path = os.path.join(directory, spec["name"])
        if spec["format"] == "JPEG":
            exif = Image.Exif()
            if spec["orientation"]:
                exif[0x0112] = spec["orientation"]
            img.save(path, "JPEG", quality=92, exif=exif.tobytes())
        elif spec["format"] == "WEBP":
            img.save(path, "WEBP", quality=90)
        else:
            img.save(path, "PNG")
        paths.append(path)
        with Image.open(path) as f:
            expected.append(downscale(ImageOps.exif_transpose(f).convert("RGB")))
    with Image.open(paths[0]) as f:
        unrotated = downscale(f.convert("RGB"))
    return paths, expected, unrotated


def downscale(img, edge=MAX_EDGE):
    from PIL import Image
    w, h = img.size
    s = edge / max(w, h)
    return img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS)


def expected_size(spec, edge=MAX_EDGE):
    """(exact w, exact h) after orientation and scaling to `edge` (floats)."""
    w, h = spec["size"]
    if spec["orientation"] in (5, 6, 7, 8):
        w, h = h, w
    s = edge / max(w, h)
    return w * s, h * s


def mad(a, b):
    """Max over channels of the mean absolute difference, both images at COMPARE_SIZE."""
    from PIL import Image, ImageChops, ImageStat
    a = a.convert("RGB").resize(COMPARE_SIZE, Image.BOX)
    b = b.convert("RGB").resize(COMPARE_SIZE, Image.BOX)
    return round(max(ImageStat.Stat(ImageChops.difference(a, b)).mean), 2)


def compare_crops(crops, expected, unrotated):
    """For every crop the guests made: its mean absolute difference to each expected slide."""
    from PIL import Image
    out = []
    for c in crops:
        entry = {k: c.get(k) for k in ("label", "browser", "slide", "tag", "ok", "ms", "clip",
                                        "crop", "want", "error")}
        view = c.get("view") or {}
        entry["img"] = view.get("img")
        entry["viewport"] = [view.get("vw"), view.get("vh")]
        if c.get("ok") and c.get("crop") and os.path.exists(c["crop"]):
            with Image.open(c["crop"]) as shot:
                shot = shot.convert("RGB")
                entry["cropSize"] = shot.size
                # The crop is 2 px inside the picture's edges: take the same share off the
                # expected image.
                content = (view.get("img") or {}).get("content") or {}
                entry["mad"] = []
                for e in expected:
                    fx = 2.0 / content["width"] if content.get("width") else 0
                    fy = 2.0 / content["height"] if content.get("height") else 0
                    ew, eh = e.size
                    e = e.crop((round(fx * ew), round(fy * eh), ew - round(fx * ew),
                                eh - round(fy * eh)))
                    entry["mad"].append(mad(shot, e))
                entry["madUnrotated1"] = mad(shot, unrotated)
        out.append(entry)
    return out


# ---------------------------------------------------------------------------------------------
# Inside the namespace (python3 test_web_client.py --inner ARTIFACTS_DIR).

def nft(script):
    r = subprocess.run([NFT, "-f", "-"], input=script, capture_output=True, text=True, timeout=10)
    return r.returncode, r.stderr.strip()


def cut_port(port):
    """Drops every UDP datagram from or to `port`, silently, as a broken network would. Only in
    the input hook: on loopback a datagram passes output, then input, and a drop in output would
    make the sender's sendto() fail with EPERM, which no real network cut does."""
    return nft("""
table inet %(t)s {
  chain input {
    type filter hook input priority 0; policy accept;
    udp dport %(p)d counter drop
    udp sport %(p)d counter drop
  }
}
""" % {"t": NFT_TABLE, "p": port})


def nft_counters():
    r = subprocess.run([NFT, "list", "table", "inet", NFT_TABLE], capture_output=True, text=True,
                       timeout=10)
    return [int(n) for n in re.findall(r"counter packets (\d+)", r.stdout)]


def relay_metrics(samples):
    by = lambda name, label: {dict(l).get(label): v for (n, l), v in samples.items()  # noqa
                              if n == name and v}
    return {"created": by("podium_relay_allocations_created_total", "transport"),
            "active": by("podium_relay_allocations_active", "transport"),
            "packets": by("podium_relay_packets_total", "direction"),
            "auth_failures": by("podium_relay_auth_failures_total", "reason"),
            "peer_refusals": by("podium_relay_peer_refusals_total", "reason"),
            "sfu_guests": metric(samples, "podium_sfu_guests"),
            "sfu_presenters": metric(samples, "podium_sfu_presenters")}


def inner(artifacts):
    out = {"artifacts": artifacts}
    out["interfaces"] = [re.split(r":\s*", l)[1] for l in subprocess.run(
        ["ip", "-o", "link", "show"], capture_output=True, text=True, timeout=5).stdout.splitlines()
        if l.strip()]
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="podium-web-") as tmp:
        paths, expected, unrotated = make_fixtures(tmp)
        out["fixtures"] = {"seconds": round(time.monotonic() - start, 2),
                           "bytes": [os.path.getsize(p) for p in paths],
                           "expected": [e.size for e in expected]}
        with Podium(CONFIG.format(secret=secrets.token_hex(16)),
                    expect=("metrics", "relay", "sfu", "signaling"),
                    timeout=PODIUM_START_TIMEOUT) as p:
            try:
                drive(p, out, paths, artifacts)
            except BaseException:
                print("podium stderr:\n" + p.stderr()[-20000:], file=sys.stderr, flush=True)
                raise
            code, took = p.stop(timeout=10, check=False)
            out["podium_exit"] = code
            out["podium_stop_seconds"] = round(took, 2)
            out["podium_stderr"] = p.stderr()[-30000:]
            # The whole logs beside the screenshots, for whoever reads a failure.
            with open(os.path.join(artifacts, "podium.log"), "w") as f:
                f.write(p.stderr())
        closed = out.get("closed") or {}
        out["compared"] = compare_crops(closed.get("crops") or [], expected, unrotated)
    out["seconds"] = round(time.monotonic() - start, 2)
    print(RESULT_PREFIX + json.dumps(out), flush=True)
    return 0


def drive(p, out, paths, artifacts):
    out["listeners"] = p.listeners
    wait_for(lambda: len(p.listeners.get("relay", [])) >= 2, timeout=PODIUM_START_TIMEOUT)
    options = dict(signaling=p.url("signaling"), slides=paths, shotsDir=artifacts,
                   cropsDir=os.path.join(artifacts, "crops"), maxEdge=MAX_EDGE,
                   chromium=sb.CHROMIUM, firefox=sb.FIREFOX, holdMs=HOLD_MS,
                   timeoutMs=NODE_TIMEOUT_MS)
    node = sb.Node(options, script=SCRIPT)
    deadline = time.monotonic() + NODE_TIMEOUT_MS / 1000.0 + 2
    out["metrics_start"] = relay_metrics(scrape(p))
    try:
        while True:
            msg = node.next_phase(deadline - time.monotonic())
            phase = msg and msg.get("phase")
            if phase is None or phase == "closed":
                out["closed"] = msg
                break
            if phase == "cut":
                code, err = cut_port(int(msg["port"]))
                out["cut"] = {"port": msg["port"], "nft_exit": code, "nft_stderr": err,
                              "at": time.time()}
                node.say("cut-done")
            elif phase == "relay":
                def tcp_allocations():
                    m = relay_metrics(scrape(p))
                    out["metrics_relay"] = m
                    return m["created"].get("tcp", 0) >= 2 and m["active"].get("tcp", 0) >= 2
                wait_for(tcp_allocations, timeout=METRICS_WAIT, interval=0.25)
                node.say("relay-done")
            else:
                out.setdefault("unexpected_phases", []).append(msg)
        if "cut" in out:
            out["cut"]["dropped"] = nft_counters()
            nft("delete table inet %s\n" % NFT_TABLE)
        out["metrics_end"] = relay_metrics(scrape(p))
    finally:
        code, timed_out = node.stop(timeout=max(deadline - time.monotonic(), 1))
        out["node_exit"] = code
        out["node_timeout"] = timed_out
        out["node_stderr"] = "\n".join(node.stderr_lines)[-12000:]
        with open(os.path.join(artifacts, "browsers.log"), "w") as f:
            f.write("\n".join(node.stderr_lines) + "\n")


# ---------------------------------------------------------------------------------------------
# The test.

def missing_prerequisite():
    why = sb.missing_prerequisite({"chromium", "firefox"})
    if why:
        return why
    if not os.access(NFT, os.X_OK):
        return "nft not found (%s, package nftables)" % NFT
    r = subprocess.run([sb.PYTHON, "-c", "import PIL.Image, PIL.features as f; "
                        "assert f.check('webp') and f.check('jpg')"], capture_output=True)
    if r.returncode != 0:
        return "%s has no PIL with JPEG and WebP (package python3-pil)" % sb.PYTHON
    return None


class WebClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = missing_prerequisite()
        sb.skip_without(why)
        print("\n" + sb.ensure_node_modules(), file=sys.stderr)

    def run_inner(self, artifacts):
        return netns.run_inner(self, [sb.PYTHON, os.path.abspath(__file__), "--inner", artifacts],
                               RUN_TIMEOUT, RESULT_PREFIX, tail=8000)

    def test_web_client(self):
        t0 = time.monotonic()
        artifacts = artifacts_dir()
        os.makedirs(os.path.join(artifacts, "crops"), exist_ok=True)
        for name in SCREENSHOTS:  # a stale file must not pass for this run's
            if os.path.exists(os.path.join(artifacts, name)):
                os.unlink(os.path.join(artifacts, name))
        out = self.run_inner(artifacts)
        with open(os.path.join(artifacts, "result.json"), "w") as f:
            json.dump(out, f, indent=1)
        closed = out.get("closed") or {}
        steps = closed.get("steps") or {}
        brief = {k: v for k, v in out.items() if k not in ("podium_stderr", "node_stderr")}
        context = ("\n" + json.dumps(brief, indent=1)[-20000:] + "\nnode stderr (tail):\n"
                   + (out.get("node_stderr") or "")[-5000:] + "\npodium stderr (tail):\n"
                   + (out.get("podium_stderr") or "")[-4000:])
        try:
            self.report(out)
        except Exception as e:  # noqa: BLE001  the report must not hide the checks
            print("web_client: report incomplete: %r" % e, file=sys.stderr)
        self.assertEqual(out["interfaces"], ["lo"], "the namespace must be loopback-only")

        with self.subTest("the browsers ran every step"):
            self.assertTrue(closed.get("steps"), "no final result from the node script" + context)
            self.assertIsNone(closed.get("error"), "in the browsers:" + context)
            self.assertEqual(out["node_exit"], 0, context)
            self.assertFalse(out["node_timeout"], context)
            self.assertEqual(out.get("unexpected_phases"), None, context)

        with self.subTest("landing page, keyboard only"):
            landing = steps.get("landing") or {}
            self.assertTrue(landing.get("start"), "no button#start" + context)
            self.assertEqual((landing.get("tabs") or [None])[-1], "button#start", context)
            self.assertRegex(landing.get("landedOn") or "",
                             r"^http://127\.0\.0\.1:\d+/present/[A-Za-z0-9_-]{1,64}#"
                             r"token=[^&]+&guest=[^&]+$", context)

        with self.subTest("presenter page"):
            self.check_presenter(steps, context)

        with self.subTest("presenter: the first slide added is current, ArrowRight goes on"):
            up, show = steps.get("upload") or {}, steps.get("show") or {}
            self.assertEqual(up.get("currentAfterUpload"), 0,
                             "the first added slide should be the current one" + context)
            nxt = show.get("next") or {}
            self.assertTrue(nxt.get("ok"), "slide #2 never current" + context)
            self.assertEqual(len(nxt.get("presses") or []), 1,
                             "ArrowRight once from slide #1 should show slide #2" + context)
            self.assertTrue(((steps.get("cut") or {}).get("next") or {}).get("ok"),
                            "ArrowRight from slide #2 should show slide #3" + context)

        with self.subTest("autoplay: Chromium guest gets #play, Firefox plays"):
            auto = steps.get("autoplay") or {}
            ch, ff = auto.get("chromium") or {}, auto.get("firefox") or {}
            self.assertIs(ch.get("userActivationBefore"), False,
                          "the Chromium guest page had a user activation before any click"
                          + context)
            self.assertTrue(ch.get("shown"), "Chromium guest: button#play never shown" + context)
            self.assertTrue(ch.get("clicked"), context)
            self.assertIs(ch.get("after"), True, "audioPlaying after clicking #play" + context)
            self.assertIs(ch.get("hiddenAfter"), True, "#play still shown after the click"
                          + context)
            if ff.get("shown"):
                self.assertIs(ff.get("after"), True, context)

        compared = out.get("compared") or []
        ids = (steps.get("upload") or {}).get("ids") or [None, None, None]
        for tag in ("slide1", "slide2", "reconnected-slide2", "slide3", "relay-slide3"):
            for c in [c for c in compared if c["tag"] == tag]:
                with self.subTest("%s shows %s" % (c["label"], tag)):
                    self.check_slide(c, ids, context)
        with self.subTest("every slide view expected was checked"):
            seen = sorted("%s/%s" % (c["label"], c["tag"]) for c in compared)
            want = sorted(["guest-chromium/slide1", "guest-firefox/slide1",
                           "guest-chromium/slide2", "guest-firefox/slide2",
                           "guest-late-phone/slide2", "guest-chromium/reconnected-slide2",
                           "guest-chromium/slide3", "guest-firefox/slide3",
                           "guest-late-phone/slide3", "guest-relay-tcp-chromium/relay-slide3",
                           "guest-relay-tcp-firefox/relay-slide3"])
            self.assertEqual(seen, want, context)

        audio = steps.get("audio") or {}
        for label in ("guest-chromium", "guest-firefox"):
            with self.subTest("audio packets: " + label):
                self.check_packets(audio.get(label), label, context)
        with self.subTest("speaking indicator: guest-chromium"):
            sp = (audio.get("guest-chromium") or {}).get("speaking") or {}
            self.assertTrue(sp.get("seen"), "#speaking never data-speaking=true" + context)
        with self.subTest("speaking indicator: guest-firefox"):
            sp = (audio.get("guest-firefox") or {}).get("speaking") or {}
            self.assertTrue(sp.get("seen"), "#speaking never data-speaking=true" + context)

        with self.subTest("phone viewport: the picture fits"):
            view = (steps.get("late") or {}).get("view") or {}
            img = view.get("img") or {}
            self.assertEqual([view.get("vw"), view.get("vh")], [390, 844], context)
            for box in ("rect", "content"):
                r = img.get(box) or {}
                self.assertTrue(r, "no %s" % box + context)
                self.assertGreaterEqual(r["x"], -0.5, box + context)
                self.assertGreaterEqual(r["y"], -0.5, box + context)
                self.assertLessEqual(r["x"] + r["width"], 390.5, box + context)
                self.assertLessEqual(r["y"] + r["height"], 844.5, box + context)
            self.assertGreater((img.get("content") or {}).get("width", 0), 380, context)

        with self.subTest("cut connection: the guest reconnects by itself"):
            self.check_cut(out, steps, context)

        relay = steps.get("relay") or {}
        for label in ("guest-relay-tcp-chromium", "guest-relay-tcp-firefox"):
            with self.subTest("relay over TCP: audio and selected pair: " + label):
                a = (relay.get("audio") or {}).get(label)
                self.check_packets(a, label, context)
                local = ((a or {}).get("pair") or {}).get("local") or {}
                self.assertEqual(local.get("candidateType"), "relay", label + context)
                self.assertEqual(local.get("relayProtocol"), "tcp", label + context)
            with self.subTest("relay over TCP: one WHEP session: " + label):
                # A guest that keeps making new sessions is not connected, whatever it shows.
                page = (closed.get("pages") or {}).get(label) or {}
                posts = [r for r in page.get("responses") or []
                         if r["method"] == "POST" and r["path"].startswith("/whep/")]
                self.assertEqual(len(posts), 1, "%s: %d WHEP sessions%s"
                                 % (label, len(posts), context))

        with self.subTest("relay over TCP: podium's relay metrics"):
            m = out.get("metrics_relay") or {}
            self.assertGreaterEqual(m.get("created", {}).get("tcp", 0), 2, context)
            self.assertGreaterEqual(m.get("active", {}).get("tcp", 0), 2, context)
            self.assertGreater(m.get("packets", {}).get("peer_to_client", 0), 0, context)

        with self.subTest("WHIP/WHEP: 201 with the relay's ICE servers as Link fields"):
            posts = [(label, r) for label, page in (closed.get("pages") or {}).items()
                     for r in page.get("responses") or []
                     if r["method"] == "POST" and re.match(r"^/(whip|whep)/", r["path"])]
            self.assertTrue(any(r["path"].startswith("/whip/") for _, r in posts), context)
            self.assertGreaterEqual(len([1 for _, r in posts if r["path"].startswith("/whep/")]),
                                    6, context)
            for label, r in posts:
                what = "%s POST %s" % (label, r["path"])
                self.assertEqual(r["status"], 201, what + context)
                self.assertRegex(r["link"] or "", r'<turn:127\.0\.0\.1:\d+\?transport=udp>;'
                                 r'[^,]*rel="ice-server"', what)
                self.assertRegex(r["link"] or "", r'<turn:127\.0\.0\.1:\d+\?transport=tcp>;'
                                 r'[^,]*rel="ice-server"', what)

        with self.subTest("screenshots"):
            shots = closed.get("screenshots") or {}
            for name in SCREENSHOTS:
                path = os.path.join(artifacts, name)
                self.assertTrue(os.path.exists(path), "missing %s" % path + context)
                self.assertEqual(shots.get(name), path, context)
            from PIL import Image
            with Image.open(os.path.join(artifacts, "guest.png")) as im:
                self.assertEqual(im.size, (1280, 720))
            with Image.open(os.path.join(artifacts, "guest-phone.png")) as im:
                self.assertEqual(im.size, (390, 844))
            if os.environ.get("PODIUM_UPDATE_SCREENSHOTS") == "1":
                docs = os.path.join(sb.SOURCE_DIR, "docs", "screenshots")
                os.makedirs(docs, exist_ok=True)
                for name in SCREENSHOTS:
                    shutil.copyfile(os.path.join(artifacts, name), os.path.join(docs, name))
                print("screenshots copied to %s" % docs, file=sys.stderr)

        with self.subTest("no console errors or warnings"):
            bad = ["%s (%s): %s: %s%s" % (label, page["browser"], m["type"], m["text"],
                                          " [%s:%s]" % (m.get("source"), m.get("line"))
                                          if m.get("source") else "")
                   for label, page in (closed.get("pages") or {}).items()
                   for m in page.get("console") or []]
            self.assertEqual(bad, [], "console messages:\n" + "\n".join(bad))

        with self.subTest("podium exits 0 on SIGTERM"):
            self.assertEqual(out.get("podium_exit"), 0, context)
            self.assertEqual(closed.get("cleanupErrors"), [], context)

        print("web_client: screenshots %s; total %.1f s (inner %.1f s, browsers %.1f s)"
              % (", ".join(os.path.join(artifacts, n) for n in SCREENSHOTS),
                 time.monotonic() - t0, out.get("seconds", 0),
                 (closed.get("elapsedMs") or 0) / 1000.0), file=sys.stderr)

    # ---- checks ----

    def check_presenter(self, steps, context):
        pres = steps.get("presenter") or {}
        up = steps.get("upload") or {}
        show = steps.get("show") or {}
        self.assertTrue((pres.get("connected") or {}).get("ok"), "not connected" + context)
        landing = steps.get("landing") or {}
        link = pres.get("guestLink") or ""
        self.assertRegex(link, r"^http://127\.0\.0\.1:\d+/watch/%s#token=%s$"
                         % (re.escape(landing.get("room") or "?"),
                            re.escape(landing.get("guest") or "?")), context)
        view = (pres.get("connected") or {}).get("view") or {}
        self.assertTrue(view.get("guestLinkReadonly"), "input#guest-link not readonly" + context)
        self.assertTrue(view.get("qrSvg"), "#qr has no <svg>" + context)
        self.assertTrue((steps.get("guestCount") or {}).get("ok"), "#guest-count never 2"
                        + context)
        self.assertTrue((up.get("stored") or {}).get("ok"), "not all stored" + context)
        self.assertEqual(len(set(up.get("ids") or [])), 3, "slide ids" + context)
        self.assertTrue((up.get("delivered") or {}).get("ok"), "not delivered to 2/2" + context)
        pv = show.get("presenterView") or {}
        for t in pv.get("thumbs") or []:
            self.assertRegex(t.get("delivery") or "", r"delivered to 2\s*/\s*2", context)
        self.assertEqual(pv.get("guestCount"), "2", context)
        self.assertEqual((pv.get("state") or {}).get("current"), (up.get("ids") or [0, 1])[1],
                         "window.podium.state.current" + context)

    def check_slide(self, c, ids, context):
        what = "%s %s" % (c["label"], c["tag"])
        i = c["slide"]
        self.assertTrue(c.get("ok"), "%s: never shown (%s)%s" % (what, c.get("error"), context))
        img = c.get("img") or {}
        self.assertEqual(img.get("id"), ids[i], what + context)
        ew, eh = expected_size(SLIDES[i])
        nw, nh = img.get("nw"), img.get("nh")
        self.assertEqual(max(nw, nh), MAX_EDGE, "%s: natural size %sx%s" % (what, nw, nh))
        self.assertLessEqual(abs(nw - ew), 1, "%s: natural size %sx%s, expected %.1fx%.1f"
                             % (what, nw, nh, ew, eh))
        self.assertLessEqual(abs(nh - eh), 1, "%s: natural size %sx%s, expected %.1fx%.1f"
                             % (what, nw, nh, ew, eh))
        self.assertEqual(img.get("objectFit"), "contain", what)
        mads = c.get("mad")
        self.assertTrue(mads, what + ": no pixels compared" + context)
        self.assertLess(mads[i], MAX_MAD, "%s: the picture differs from slide #%d: %s"
                        % (what, i + 1, mads))
        for j, m in enumerate(mads):
            if j != i:
                self.assertGreater(m, MIN_MAD_OTHER, "%s: looks like slide #%d too: %s"
                                   % (what, j + 1, mads))
        self.assertGreater(c.get("madUnrotated1"), MIN_MAD_OTHER if i != 0 else MAX_MAD,
                           "%s: matches slide #1 without its EXIF rotation" % what)

    def check_packets(self, a, label, context):
        self.assertTrue(a, "%s: no audio sample%s" % (label, context))
        self.assertIsNone(a.get("error"), "%s: %s%s" % (label, a.get("error"), context))
        self.assertIsNotNone(a.get("before"), "%s: no inbound-rtp audio%s" % (label, context))
        self.assertIsNotNone(a.get("after"), "%s: no inbound-rtp audio 2 s later (a new peer "
                             "connection?)%s" % (label, context))
        self.assertGreater(a["after"] - a["before"], 50,
                           "%s: packetsReceived %s -> %s in %s s%s"
                           % (label, a["before"], a["after"], a.get("seconds"), context))

    def check_cut(self, out, steps, context):
        cut = steps.get("cut") or {}
        nftr = out.get("cut") or {}
        self.assertEqual(nftr.get("nft_exit"), 0, "nft: %s%s" % (nftr.get("nft_stderr"), context))
        self.assertGreater(sum(nftr.get("dropped") or [0]), 0, "nft dropped nothing" + context)
        rec = cut.get("recovered") or {}
        self.assertTrue(rec.get("ok"), "no reconnection within 40 s" + context)
        pod = (rec.get("view") or {}).get("podium") or {}
        self.assertGreaterEqual(pod.get("reconnects") or 0, 1, context)
        self.assertNotEqual(pod.get("sessionUrl"), (cut.get("before") or {}).get("sessionUrl"),
                            context)
        kinds = [m["v"] for m in ((cut.get("history") or {}).get("message") or [])
                 [cut.get("messageIndex") or 0:]]
        self.assertTrue(any(k.startswith("reconnecting") for k in kinds),
                        "#message never data-kind=reconnecting after the cut: %s%s"
                        % (kinds, context))
        last_reconnecting = max(i for i, k in enumerate(kinds) if k.startswith("reconnecting"))
        self.assertTrue(any(k.split(" ")[0] == "" or k.startswith(" ")
                            for k in kinds[last_reconnecting + 1:]),
                        "#message not back to data-kind='' : %s" % kinds)
        old = ((cut.get("before") or {}).get("pair") or {}).get("local") or {}
        new = ((cut.get("after") or {}).get("pair") or {}).get("local") or {}
        self.assertNotEqual(new.get("port"), old.get("port"), "same local port after" + context)

    # ---- report ----

    def report(self, out):
        closed = out.get("closed") or {}
        steps = closed.get("steps") or {}
        p = lambda *a: print(*a, file=sys.stderr)  # noqa: E731
        p("")
        b = closed.get("browsers") or {}
        p("web_client: %s" % ", ".join("%s %s (launch %.1f s)" % (k, v["version"],
                                                                 v["launchMs"] / 1000.0)
                                       for k, v in b.items()))
        landing = steps.get("landing") or {}
        p("landing: Tab x%d -> %s, Enter -> %s in %.1f s"
          % (len(landing.get("tabs") or []), (landing.get("tabs") or [None])[-1],
             landing.get("landedOn"), (landing.get("ms") or 0) / 1000.0))
        up = steps.get("upload") or {}
        p("upload: fixtures %s bytes; states seen %s; stored %s; delivered 2/2 %s; current "
          "after upload: index %s; ArrowRight presses %s"
          % (out.get("fixtures", {}).get("bytes"),
             ", ".join("%s@%.1fs" % (s["key"], s["at"] / 1000.0) for s in up.get("seen") or []),
             up.get("stored"), {k: v for k, v in (up.get("delivered") or {}).items()
                                if k in ("ok", "ms")},
             up.get("currentAfterUpload"),
             ((steps.get("show") or {}).get("next") or {}).get("presses")))
        auto = steps.get("autoplay") or {}
        p("autoplay: %s" % json.dumps(auto))
        for c in out.get("compared") or []:
            img = c.get("img") or {}
            p("  %-26s %-18s id %s natural %sx%s crop %s  MAD vs #1/#2/#3 %s, vs unrotated #1 "
              "%s (%.1f s)" % (c["label"], c["tag"], img.get("id"), img.get("nw"), img.get("nh"),
                               c.get("cropSize"), c.get("mad"), c.get("madUnrotated1"),
                               (c.get("ms") or 0) / 1000.0))
        for label, a in (steps.get("audio") or {}).items():
            sp = a.get("speaking") or {}
            p("audio %s: packetsReceived %s -> %s in %.1f s, audioLevel %s; speaking seen %s "
              "(after %.1f s), history %s"
              % (label, a.get("before"), a.get("after"), a.get("seconds") or 0,
                 a.get("audioLevel"), sp.get("seen"), (sp.get("waitedMs") or 0) / 1000.0,
                 [h["v"] for h in sp.get("history") or []][:12]))
        late = steps.get("late") or {}
        limg = (late.get("view") or {}).get("img") or {}
        p("late phone guest: slide #2 after %.1f s; img box %s, content %s; #play %s"
          % ((late.get("ms") or 0) / 1000.0, limg.get("rect"), limg.get("content"),
             late.get("play")))
        cut = steps.get("cut") or {}
        rec = cut.get("recovered") or {}
        kinds = [(m["v"], m["t"] - cut.get("t0", 0))
                 for m in ((cut.get("history") or {}).get("message") or [])
                 [cut.get("messageIndex") or 0:]]
        p("cut: port %s (nft dropped %s); recovered %s after %.1f s: reconnects %s, session %s "
          "-> %s; #message %s; local port after %s"
          % ((out.get("cut") or {}).get("port"), (out.get("cut") or {}).get("dropped"),
             rec.get("ok"), (rec.get("ms") or 0) / 1000.0,
             (((rec.get("view") or {}).get("podium")) or {}).get("reconnects"),
             (cut.get("before") or {}).get("sessionUrl"),
             (((rec.get("view") or {}).get("podium")) or {}).get("sessionUrl"),
             ["%s@%+.1fs" % (k, t / 1000.0) for k, t in kinds],
             (((cut.get("after") or {}).get("pair") or {}).get("local") or {}).get("port")))
        pcs = [(m["v"], m["t"] - cut.get("t0", 0)) for m in
               ((cut.get("history") or {}).get("pc") or []) if m["t"] >= cut.get("t0", 0) - 1000]
        p("cut: the guest's session and peer connection state: %s"
          % ["%s@%+.1fs" % (k, t / 1000.0) for k, t in pcs])
        relay = steps.get("relay") or {}
        p("relay guests' #play: %s" % json.dumps(relay.get("play")))
        for label, a in (relay.get("audio") or {}).items():
            p("relay %s: packetsReceived %s -> %s; local %s"
              % (label, a.get("before"), a.get("after"), (a.get("pair") or {}).get("local")))
        p("relay metrics while the TCP guests were connected: %s" % out.get("metrics_relay"))
        for label, page in (closed.get("pages") or {}).items():
            for m in page.get("console") or []:
                p("console %s: %s %s" % (label, m["type"], m["text"][:300]))
        p("podium exit %s (stop %.2f s); run %.1f s"
          % (out.get("podium_exit"), out.get("podium_stop_seconds") or 0,
             out.get("outer_seconds") or 0))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        sys.exit(inner(sys.argv[2]))
    unittest.main()
