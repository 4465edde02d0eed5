"""Headless Chromium and Firefox ESR on the slides data channel of podium's SFU (docs/protocol.md).

One run, in a private loopback-only network and PID namespace (lib/netns.py), with podium (relay +
sfu + signaling + metrics) and the browsers (tests/browser/sfu_slides.mjs: playwright-core for
Chromium, puppeteer-core for Firefox; page helpers shared with sfu_browsers.mjs through
sfu_common.mjs):
- a Chromium presenter publishes its fake microphone over WHIP with a "slides" data channel;
  three Chromium guests and one Firefox guest play over WHEP and wait for the SFU's "slides"
  channel;
- the presenter sends a 20 MiB image/jpeg slide (deterministic incompressible bytes with JPEG
  framing) in 64 KiB chunks respecting bufferedAmount, then its `show` right after the last chunk;
- a late Chromium guest joins after the show.

What is checked:
1. Every guest (the four, then the late one) received exactly: the slide header (id, size, mime,
   name unchanged), binary messages totalling exactly the size, whose SHA-256 (crypto.subtle in
   the page) equals the source's (computed by node and by the presenter's page), then the show,
   after the last byte; nothing else on the channel, no stray bytes. For the late guest the
   current slide and its show come first (here: they are all it gets).
2. The presenter's upload cost on the wire: the delta of
   podium_sfu_sctp_bytes_total{direction="in",role="presenter"} across the upload, with the four
   guests connected, is between the slide size and 1.05 x the size. The delta of
   podium_sfu_datachannel_bytes_total{direction="in",role="presenter"} is recorded (and is at
   least the size).
3. The presenter was told {"type":"guests","count":4} and {"type":"delivered","id":...,
   "guests":4,"of":4}.
Also: WHIP/WHEP 201, every DELETE 200, podium exits 0 on SIGTERM. The audio is published only so
that the sessions look like real ones; test_sfu_browsers.py tests it. Each of these parts is a
subTest, so one failing does not hide the others.

Printed (also when a check fails): the upload (to the last send, to bufferedAmount 0, to the SFU's
`stored`), when `delivered` came, each guest's first byte, last byte and show relative to the start
of the upload, the late guest's times from its WHEP request, the SFU's slide metrics, and, to tell
where extra upload bytes come from, the presenter's own candidate-pair bytes and the UDP datagrams
each socket in the namespace dropped during the upload (ss -uanm).

Skipped, with the reason, when not root or when node, npm, /usr/bin/chromium or
/usr/bin/firefox-esr are missing; PODIUM_REQUIRE_BROWSER=1 turns those into failures.
"""
import json
import os
import re
import secrets
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, HERE)
import netns  # noqa: E402
from podium_harness import Podium, metric, scrape, wait_for  # noqa: E402
import test_sfu_browsers as sb  # noqa: E402  (Node, prerequisites, npm ci, paths)

SCRIPT = os.path.join(sb.BROWSER_DIR, "sfu_slides.mjs")
RESULT_PREFIX = "PODIUM-SFU-SLIDES-RESULT "
ROOM = "slides"
GUESTS = ["chromium", "chromium", "chromium", "firefox"]
LATE_GUEST = "chromium"
SLIDE = {"id": "s1", "size": 20 * 1024 * 1024, "seed": 20240605, "mime": "image/jpeg",
         "name": "IMG_0042.jpg"}
CHUNK = 65536
MAX_UPLOAD_RATIO = 1.05   # presenter's SCTP bytes in / slide size

# Time limits (seconds). The run normally takes 30-55 s; the worst case stays below the ctest
# TIMEOUT of 300: npm ci 60 + RUN_TIMEOUT + namespace check.
RUN_TIMEOUT = 200         # the namespace run, from the outside
PODIUM_START_TIMEOUT = 10
NODE_TIMEOUT_MS = 185000  # the node script exits by itself after this
READY_MS = 20000          # WHEP answered -> every channel open and guests:N told
UPLOAD_MS = 90000         # the upload and the fan-out to every guest
LATE_MS = 30000           # the late guest's WHEP answer -> its slide and show
HOLD_MS = 20000           # the node script waits at most this for each of our commands
METRICS_WAIT = 6          # SFU counters reach /metrics on the workers' 1 s tick
TICK = 1.2                # one tick and a bit

CONFIG = """
log:
  level: info
relay:
  listen: [udp://127.0.0.1:0]
  relay_ip: 127.0.0.1
  auth_secrets: [{secret}]
sfu:
  listen_ip: 127.0.0.1
  udp_port: 0
signaling:
  listen: 127.0.0.1:0
  open_rooms: true
metrics:
  listen: 127.0.0.1:0
"""


def slide_metrics(samples):
    def by(name, label):
        return {dict(l).get(label): v for (n, l), v in samples.items() if n == name and v}

    m = {"guests": metric(samples, "podium_sfu_guests"),
         "presenters": metric(samples, "podium_sfu_presenters"),
         "slides_received": metric(samples, "podium_sfu_slides_received_total"),
         "slides_delivered": metric(samples, "podium_sfu_slides_delivered_total"),
         "delivery_count": metric(samples, "podium_sfu_slide_delivery_seconds_count"),
         "delivery_sum": metric(samples, "podium_sfu_slide_delivery_seconds_sum"),
         "protocol_errors": by("podium_sfu_slide_protocol_errors_total", "reason"),
         "closed": by("podium_sfu_sessions_closed_total", "reason"),
         "dropped": by("podium_sfu_dropped_datagrams_total", "reason")}
    for kind, name in (("sctp", "podium_sfu_sctp_bytes_total"),
                       ("dc", "podium_sfu_datachannel_bytes_total")):
        for direction in ("in", "out"):
            for role in ("presenter", "guest"):
                m["%s_%s_%s" % (kind, direction, role)] = metric(
                    samples, name, direction=direction, role=role)
    # Whatever else the SFU exports about slides, SCTP or data channels, for the report.
    m["raw"] = {n + json.dumps(dict(sorted(l))): v for (n, l), v in samples.items()
                if re.search(r"slide|sctp|datachannel|data_channel", n)
                and not n.endswith("_bucket")}
    return m


# ---------------------------------------------------------------------------------------------
# Inside the namespace (python3 test_sfu_slides_browsers.py --inner).

def udp_snapshot():
    """The namespace's UDP counters (/proc/net/snmp) and, per UDP socket, its owner, receive
    buffer and drop count (ss -uanmp skmem d): where datagrams were lost, for the report."""
    snap = {"snmp": {}, "sockets": []}
    try:
        with open("/proc/net/snmp") as f:
            rows = [l.split() for l in f if l.startswith("Udp:")]
        snap["snmp"] = dict(zip(rows[0][1:], map(int, rows[1][1:])))
        ss = subprocess.run(["ss", "-uanmp"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, IndexError, ValueError, subprocess.SubprocessError) as e:
        snap["error"] = str(e)
        return snap
    for m in re.finditer(r"^\S+\s+\d+\s+\d+\s+(\S+)\s+\S+\s*(.*)\n\s+skmem:\(([^)]*)\)", ss, re.M):
        mem = dict(re.findall(r"([a-z]+)(\d+)", m.group(3)))
        owner = re.search(r'\(\("([^"]+)"', m.group(2))
        snap["sockets"].append({"local": m.group(1), "owner": owner.group(1) if owner else "?",
                                "rb": int(mem.get("rb", 0)), "drops": int(mem.get("d", 0))})
    return snap


def inner():
    out = {"guests_expected": len(GUESTS)}
    out["interfaces"] = [re.split(r":\s*", l)[1] for l in subprocess.run(
        ["ip", "-o", "link", "show"], capture_output=True, text=True, timeout=5).stdout.splitlines()
        if l.strip()]
    start = time.monotonic()
    with Podium(CONFIG.format(secret=secrets.token_hex(16)),
                expect=("metrics", "relay", "sfu", "signaling"), timeout=PODIUM_START_TIMEOUT) as p:
        try:
            drive(p, out)
        except BaseException:
            print("podium stderr:\n" + p.stderr()[-20000:], file=sys.stderr, flush=True)
            raise
        code, took = p.stop(timeout=10, check=False)
        out["podium_exit"] = code
        out["podium_stop_seconds"] = round(took, 2)
        out["podium_stderr"] = p.stderr()[-30000:]
    out["seconds"] = round(time.monotonic() - start, 2)
    print(RESULT_PREFIX + json.dumps(out), flush=True)
    return 0


def drive(p, out):
    """Runs the node script against `p`; between its phases reads /metrics, then tells it to go
    on. Phases and what we say after each: ready -> upload, uploaded -> late, late -> close."""
    out["listeners"] = p.listeners
    options = dict(signaling=p.url("signaling"), room=ROOM, guests=GUESTS, lateGuest=LATE_GUEST,
                   slide=SLIDE, chunkBytes=CHUNK, chromium=sb.CHROMIUM, firefox=sb.FIREFOX,
                   readyMs=READY_MS, uploadMs=UPLOAD_MS, lateMs=LATE_MS, holdMs=HOLD_MS,
                   timeoutMs=NODE_TIMEOUT_MS)
    node = sb.Node(options, script=SCRIPT)
    deadline = time.monotonic() + NODE_TIMEOUT_MS / 1000.0 + 2
    size = SLIDE["size"]
    try:
        while True:
            msg = node.next_phase(deadline - time.monotonic())
            phase = msg and msg.get("phase")
            if phase is None or phase == "closed":
                out["closed"] = msg
                break
            out[phase] = msg
            if phase == "ready":
                # The baseline once the connection set-up traffic has reached /metrics.
                time.sleep(TICK)
                out["metrics_before"] = slide_metrics(scrape(p))
                out["udp_before"] = udp_snapshot()
                node.say("upload")
            elif phase == "uploaded":
                before = out["metrics_before"]

                def counted():
                    m = slide_metrics(scrape(p))
                    out["metrics_uploaded"] = m
                    return (m["dc_in_presenter"] - before["dc_in_presenter"] >= size
                            and m["sctp_in_presenter"] - before["sctp_in_presenter"] >= size
                            and m["slides_received"] > before["slides_received"])
                wait_for(counted, timeout=METRICS_WAIT, interval=0.25)
                time.sleep(TICK)  # the SACKs and the messages that followed the last byte
                out["metrics_uploaded"] = slide_metrics(scrape(p))
                out["udp_uploaded"] = udp_snapshot()
                node.say("late")
            elif phase == "late":
                time.sleep(TICK)
                out["metrics_late"] = slide_metrics(scrape(p))
                node.say("close")
            else:
                out.setdefault("unexpected_phases", []).append(phase)
        m = slide_metrics(scrape(p))
        out["metrics_after"] = m
    finally:
        sb.stop_node(node, deadline, out)


# ---------------------------------------------------------------------------------------------
# The test.

def received_sequence(status):
    """A guest's channel as (type, id or byte count) tuples: binary runs are merged."""
    return [("bytes", e["bytes"]) if e["type"] == "bytes" else (e["type"], e.get("id"))
            for e in status["events"]]


def audio_sent(closed):
    """The presenter's outbound-rtp audio packetsSent at the end (None if not sampled)."""
    audio = closed["presenter"].get("audio")
    return ((audio.get("outbound") or {}).get("packetsSent")) if isinstance(audio, dict) else None


class SfuSlidesBrowsersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = sb.missing_prerequisite({"chromium", "firefox"})
        sb.skip_without(why)
        print("\n" + sb.ensure_node_modules(), file=sys.stderr)

    def run_inner(self):
        return netns.run_inner(self, [sb.PYTHON, os.path.abspath(__file__), "--inner"],
                               RUN_TIMEOUT, RESULT_PREFIX)

    def check_guest(self, what, status, source, context):
        size, sid = SLIDE["size"], SLIDE["id"]
        self.assertEqual(status["label"], "slides", what + "\n" + context)
        self.assertIsNotNone(status["openedAt"], what + ": slides channel never opened\n" + context)
        got = status["slides"].get(sid)
        self.assertIsNotNone(got, "%s: no slide header for %s\n%s" % (what, sid, context))
        self.assertEqual({k: got[k] for k in ("size", "mime", "name")},
                         {k: SLIDE[k] for k in ("size", "mime", "name")}, what + "\n" + context)
        self.assertEqual(got["received"], size, what + "\n" + context)
        self.assertEqual(got["sha256"], source, "%s: bytes differ from the source\n%s"
                         % (what, context))
        self.assertEqual(status["strayBytes"], 0, what + ": bytes beyond the slide\n" + context)
        self.assertEqual(status["errors"], [], what + "\n" + context)
        self.assertEqual(status["badText"], [], what + "\n" + context)
        # Exactly: header, the bytes, show; the show after the last byte.
        self.assertEqual(received_sequence(status),
                         [("slide", sid), ("bytes", size), ("show", sid)],
                         "%s: what arrived on the channel\n%s" % (what, context))
        show = [s for s in status["shows"] if s["id"] == sid]
        self.assertEqual(len(show), 1, what + "\n" + context)
        self.assertTrue(show[0]["complete"], what + ": show before the last byte\n" + context)
        self.assertGreaterEqual(show[0]["at"], got["lastByteAt"], what + "\n" + context)

    def test_slide_to_four_guests_and_a_late_one(self):
        out = self.run_inner()
        brief = {k: v for k, v in out.items() if k not in ("podium_stderr",)}
        for phase in ("ready", "uploaded", "late"):
            brief.pop(phase, None)  # each phase repeats the one before; "closed" has it all
        context = json.dumps(brief, indent=1)[-30000:] + "\npodium stderr (tail):\n" \
            + (out.get("podium_stderr") or "")[-6000:]
        self.report(out)
        self.assertEqual(out["interfaces"], ["lo"], "the namespace must be loopback-only")
        closed = out.get("closed") or {}
        self.assertIsNone(closed.get("error"), "in the browsers:\n" + context)
        self.assertEqual(out["node_exit"], 0, context)
        self.assertFalse(out["node_timeout"], context)
        n = len(GUESTS)
        size, sid = SLIDE["size"], SLIDE["id"]
        source = closed["source"]["sha256"]
        mb, mu = out["metrics_before"], out["metrics_uploaded"]

        # The parts below are independent: each subTest reports its own failure.
        with self.subTest("signaling and ready"):
            self.assertEqual(closed["presenter"]["whip"]["status"], 201, context)
            for g in closed["guests"] + [closed["late"]]:
                self.assertEqual(g["whep"]["status"], 201, context)
            pst = closed["ready"]["presenter"]
            self.assertIsNotNone(pst["openedAt"], "presenter's channel never opened\n" + context)
            self.assertEqual(mb["guests"], n, context)
            self.assertEqual(mb["presenters"], 1, context)

        with self.subTest("guests count told to the presenter"):
            counts = [m["count"] for m in closed["ready"]["presenter"]["fromSfu"]
                      if m["type"] == "guests"]
            self.assertIn(n, counts, "no {type: guests, count: %d} to the presenter\n%s"
                          % (n, context))

        with self.subTest("every guest has the slide, byte-identical, then its show"):
            up = closed["upload"]
            self.assertEqual(up["sha256"], source, "the presenter page's bytes are not the "
                             "source\n" + context)
            self.assertLessEqual(up["chunk"], CHUNK, context)
            statuses = closed["fanout"]["statuses"]
            self.assertEqual(len(statuses), n, context)
            for g, st in zip(closed["guests"], statuses):
                self.check_guest("%s (%s)" % (g["label"], g["browser"]), st, source, context)

        with self.subTest("delivered N of N told to the presenter"):
            final = closed["fanout"]["presenter"]["fromSfu"]
            self.assertTrue(any(m["type"] == "delivered" and m["id"] == sid and m["guests"] == n
                                and m["of"] == n for m in final),
                            "no {type: delivered, guests: %d, of: %d}\n%s" % (n, n, context))
            self.assertFalse([m for m in final if m["type"] == "error"], context)

        with self.subTest("the presenter uploads the slide once"):
            sctp_in = mu["sctp_in_presenter"] - mb["sctp_in_presenter"]
            dc_in = mu["dc_in_presenter"] - mb["dc_in_presenter"]
            self.assertEqual(mu["guests"], n, "guests while uploading\n" + context)
            self.assertGreaterEqual(dc_in, size, "datachannel bytes in from the presenter\n"
                                    + context)
            self.assertGreaterEqual(sctp_in, size, "SCTP bytes in from the presenter\n" + context)
            self.assertLessEqual(sctp_in, MAX_UPLOAD_RATIO * size,
                                 "the presenter uploaded %.4f x the slide (SCTP bytes in on "
                                 "/metrics); see the report above for where datagrams were "
                                 "dropped\n%s" % (sctp_in / size, context))

        with self.subTest("the late guest gets the current slide and its show first"):
            late = closed["late"]
            self.check_guest("late guest (%s)" % late["browser"], late["run"]["statuses"][0],
                             source, context)

        with self.subTest("leaving"):
            for label, status in closed["deletes"].items():
                self.assertEqual(status, 200, "DELETE of %s\n%s" % (label, context))
            self.assertEqual(out["podium_exit"], 0, "podium exit status after SIGTERM\n"
                             + context)
            self.assertEqual(closed.get("cleanupErrors"), [], context)

    def report(self, out):
        """Prints the timings and byte counts, section by section, as far as the run got."""
        print("", file=sys.stderr)
        for section in (self.report_upload, self.report_guests, self.report_bytes):
            try:
                for line in section(out):
                    print(line, file=sys.stderr)
            except (KeyError, TypeError, IndexError, ValueError, ZeroDivisionError) as e:
                print("slides: (%s incomplete: %r)" % (section.__name__, e), file=sys.stderr)

    @staticmethod
    def report_upload(out):
        closed, sid, size = out["closed"], SLIDE["id"], SLIDE["size"]
        up = closed["upload"]
        t0 = up["startedAt"]
        final = closed["fanout"]["presenter"]["fromSfu"]
        stored = [m["t"] for m in final if m["type"] == "stored" and m["id"] == sid]
        deliv = ["%d/%d at %s" % (m["guests"], m["of"], secs(m["t"] - t0))
                 for m in final if m["type"] == "delivered" and m["id"] == sid]
        yield ("slides: %s; %d MiB %s in %d messages of %d bytes (max-message-size %s), %d "
               "bufferedAmount waits (max buffered %d)"
               % (", ".join("%s %s" % (k, v["version"]) for k, v in closed["browsers"].items()),
                  size >> 20, SLIDE["mime"], up["messages"], up["chunk"], up["maxMessageSize"],
                  up["waits"], up["maxBuffered"]))
        end = stored[0] if stored else (up["drainedAt"] or up["sentAt"])
        yield ("upload: last send %s, bufferedAmount 0 at %s, stored %s (%.1f MB/s); delivered %s"
               % (secs(up["sentAt"] - t0), secs(up["drainedAt"] - t0) if up["drainedAt"]
                  else "never", secs(stored[0] - t0) if stored else "never",
                  size / 1e3 / max(end - t0, 1), "; ".join(deliv) or "never"))

    @staticmethod
    def report_guests(out):
        closed, sid = out["closed"], SLIDE["id"]
        t0 = closed["upload"]["startedAt"]

        def times(st, since):
            got = st["slides"].get(sid) or {}
            shows = [x["at"] - since for x in st["shows"] if x["id"] == sid]
            at = lambda k: secs(got[k] - since) if got.get(k) else "never"  # noqa: E731
            return ("first byte %s, last byte %s, show %s, %s messages (max %d bytes), channel "
                    "id %s" % (at("firstByteAt"), at("lastByteAt"),
                               secs(shows[0]) if shows else "never", got.get("messages"),
                               st["maxMessage"], st["channelId"]))
        for g, st in zip(closed["guests"], closed["fanout"]["statuses"]):
            yield "  %s (%s): %s" % (g["label"], g["browser"], times(st, t0))
        late = closed["late"]
        st = late["run"]["statuses"][0]
        told = late["run"]["presenter"]["fromSfu"]
        yield ("  late (%s), from its page's WHEP request: channel open %s, %s; the presenter "
               "was then told guests %s, delivered %s"
               % (late["browser"], secs(st["openedAt"] - late["joinedAt"])
                  if st["openedAt"] else "never", times(st, late["joinedAt"]),
                  [m["count"] for m in told if m["type"] == "guests"],
                  ["%d/%d" % (m["guests"], m["of"]) for m in told
                   if m["type"] == "delivered" and m["id"] == sid]))

    @staticmethod
    def report_bytes(out):
        closed, size = out["closed"], SLIDE["size"]
        mb, mu, ml = out["metrics_before"], out["metrics_uploaded"], out.get("metrics_late") or {}
        sctp_in = mu["sctp_in_presenter"] - mb["sctp_in_presenter"]
        dc_in = mu["dc_in_presenter"] - mb["dc_in_presenter"]
        yield ("SFU during the upload: presenter SCTP in %d bytes = %.4f x the slide (limit "
               "%.2f), datachannel in %d (%.4f x); guests SCTP out %d, datachannel out %d; "
               "slides received %d, delivered %d, delivery histogram count %d sum %.2f s (after "
               "the late guest: delivered %s, count %s); protocol errors %s"
               % (sctp_in, sctp_in / size, MAX_UPLOAD_RATIO, dc_in, dc_in / size,
                  mu["sctp_out_guest"] - mb["sctp_out_guest"],
                  mu["dc_out_guest"] - mb["dc_out_guest"], mu["slides_received"],
                  mu["slides_delivered"], mu["delivery_count"], mu["delivery_sum"],
                  ml.get("slides_delivered"), ml.get("delivery_count"), mu["protocol_errors"]))
        # The presenter's own view, and where datagrams were dropped meanwhile (a socket whose
        # receive buffer overflowed loses what the other side sent: SACKs, for the presenter).
        pres = closed["presenter"]
        wb, wa = pres.get("wireBefore") or {}, pres.get("wireAfter") or {}
        sent = (wa.get("pair") or {}).get("bytesSent", 0) - (wb.get("pair") or {}).get(
            "bytesSent", 0)
        ports = {l.split()[5] for l in pres["whip"]["offerCandidates"] if " udp " in l}
        before = {(s["local"], s["owner"]): s["drops"] for s in out["udp_before"]["sockets"]}
        drops = {}
        for s in out["udp_uploaded"]["sockets"]:
            d = s["drops"] - before.get((s["local"], s["owner"]), 0)
            if d:
                who = "presenter" if s["local"].rsplit(":", 1)[-1] in ports else s["owner"]
                drops["%s %s" % (who, s["local"])] = d
        yield ("presenter's candidate pair: %d bytes sent during the upload (%.4f x, with DTLS "
               "and audio); UDP datagrams dropped on full receive buffers meanwhile: %s; audio "
               "packets sent %s; run %.1f s (browsers %.1f s)"
               % (sent, sent / size, drops or "none", audio_sent(closed), out["outer_seconds"],
                  closed["elapsedMs"] / 1000.0))


def secs(ms):
    return "%.2f s" % (ms / 1000.0)


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--inner":
        sys.exit(inner())
    unittest.main()
