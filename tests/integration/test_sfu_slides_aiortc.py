"""Slides data channel (docs/protocol.md) through the SFU with aiortc peers, and a guest that stops
reading: it must not delay the other guests, and must converge on the newest slide afterwards.

Scenario (inside a private loopback-only network and PID namespace, lib/netns.py):
  - podium serve; GUESTS aiortc guests (WHEP), each in its own process (`--guest`) so that one can
    be frozen alone; an aiortc presenter (WHIP, 440 Hz sine + data channel "slides") in the inner
    process.
  - Slide 1 is uploaded and shown; every guest gets its bytes (SHA-256) and then its `show`. The
    delay from the presenter's `show` send to each guest's receipt is that guest's baseline.
  - One guest is frozen with SIGSTOP for FREEZE_SECONDS (its process stops reading entirely).
    Meanwhile the presenter uploads and shows slides 2, 3, 4 (a few hundred kB each, seconds
    apart). For every other guest, the show delay of each of them must stay under its baseline
    + MARGIN_SECONDS (the criterion: a guest that stops reading for 10 s delays the other guests'
    next slide by under 1 s).
  - After SIGCONT the frozen guest must, within CONVERGE_SECONDS, end on the newest slide: the
    last `show` it received names slide 4, and it holds slide 4's bytes intact. With the small
    guest queue of CONFIG it must also catch up as docs/protocol.md says: s4 and its show before
    s3, no show for s2 or s3, and every slide eventually (each once, intact).

Every process shares CLOCK_MONOTONIC, so guests stamp their events with time.monotonic() and
report them as JSON lines on stdout; the presenter stamps its sends the same way.

Layout as in test_sfu_aiortc.py: the test method runs this file again with `--inner` inside the
namespace; the inner run starts podium and the peers, prints one JSON result line, and stops what
it started by PID. `--guest NAME URL` is one guest process (started by the inner run).
"""
import asyncio
import hashlib
import json
import os
import re
import signal
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import netns  # noqa: E402
from podium_harness import die_with_parent  # noqa: E402

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
RESULT_PREFIX = "PODIUM-SFU-SLIDES-RESULT "
EVENT_PREFIX = "PODIUM-SLIDES-GUEST "
RUN_TIMEOUT = 150       # the whole inner run (ctest's TIMEOUT is 180)
GUEST_LIFETIME = 160    # a guest process exits on its own after this long, whatever happens

GUESTS = 4              # guest processes; the first one is frozen
FREEZE_SECONDS = 10.0
# After SIGCONT, for the frozen guest to end on the newest slide. Seen: 0.3 to 5.6 s. The frozen
# guest's socket buffer is full of the presenter's RTP by then, so the first SCTP packets the SFU
# sends when the guest's SACKs come back are often dropped; they go again when the retransmission
# timer fires, whose backed-off RTO is capped at 5 s (usrsctp rto_max in the SFU).
CONVERGE_SECONDS = 20.0
MARGIN_SECONDS = 1.0     # allowed extra show delay for the other guests while one is frozen
CHUNK = 65536            # presenter's binary message size (aiortc advertises 65536)

# (id, size in bytes, seconds after the freeze at which the upload starts; None = before it)
BASELINE_SLIDE = ("s1", 250_000, None)
FREEZE_SLIDES = [("s2", 300_001, 1.0), ("s3", 262_147, 4.0), ("s4", 280_013, 7.0)]

# CONFIG sets sfu.slides.guest_queue to its minimum, 256 KiB, below the size of s2: the frozen
# guest's queue is full with part of s2, so s3 and s4 cannot have started when it comes back, and
# docs/protocol.md's catch-up rule applies: s2 is completed (its bytes have started), then the
# newest shown slide s4 and its show, and s3 only after that, its show (and s2's) skipped. With the
# default 2 MiB everything fits and the guest would simply get s2, s3, s4 in order.

CONFIG = """
log:
  level: info
relay:
  listen: [udp://127.0.0.1:0]
  relay_ip: 127.0.0.1
  ephemeral_secret: true
  allow_peers: [127.0.0.0/8]
sfu:
  listen_ip: 127.0.0.1
  udp_port: 0
  slides:
    guest_queue: 256KiB
signaling:
  listen: 127.0.0.1:0
  open_rooms: true
metrics:
  listen: 127.0.0.1:0
"""

# AIORTC_STREAM_IDS: aiortc 1.4 picks data channel stream ids by ICE role, not DTLS role: as the
# offerer (ICE controlling) it uses odd ids, although the SFU's answer (a=setup:passive) makes it
# the DTLS client, which RFC 8832 section 6 gives the even ids. The SFU refuses a DCEP OPEN of its
# own parity (counted in podium_sfu_datachannel_errors_total{reason="stream_parity"}; the channel
# never opens), and a guest's own channel would take stream 1, the one the SFU (DTLS server) opens
# "slides" on. So both aiortc peers here pick stream 0 explicitly.

CANDIDATE_PORT_RE = re.compile(r"a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host")


def candidate_port(sdp):
    """The UDP port of an aiortc peer's loopback host candidate (its only socket here)."""
    m = CANDIDATE_PORT_RE.search(sdp)
    return int(m.group(1)) if m else None


def udp_drops():
    """{local port: datagrams dropped on that socket (receive buffer full)} from /proc/net/udp,
    which covers this network namespace only: podium's and the peers' sockets."""
    drops = {}
    try:
        with open("/proc/net/udp") as f:
            next(f)
            for line in f:
                fields = line.split()
                port = int(fields[1].split(":")[1], 16)
                drops[port] = drops.get(port, 0) + int(fields[-1])
    except (OSError, ValueError, IndexError):
        pass
    return drops


# ----------------------------------------------------------------------------------------------
# One guest process: WHEP, then reports every slides-channel event as a JSON line on stdout.

async def guest_main(name, url):
    import whip_client
    whip_client.use_loopback()
    from aiortc import RTCPeerConnection, RTCSessionDescription

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    def emit(ev, t=None, **fields):
        fields.update(ev=ev, guest=name, t=time.monotonic() if t is None else t)
        print(EVENT_PREFIX + json.dumps(fields), flush=True)

    pc = RTCPeerConnection()
    pc.addTransceiver("audio", direction="recvonly")
    # An offer has an m=application section only when a channel exists. This one is pre-negotiated
    # (nothing on the wire) and on stream 0: aiortc 1.4 would otherwise take stream 1, the id the
    # SFU gives its own "slides" channel, and then fail an assertion (AssertionError in
    # RTCSctpTransport._data_channel_receive) on the SFU's DCEP OPEN (see AIORTC_STREAM_IDS).
    pc.createDataChannel("guest-probe", negotiated=True, id=0)

    drains = []

    @pc.on("track")
    def on_track(track):
        async def drain():  # aiortc queues every decoded frame until someone reads it
            try:
                while True:
                    await track.recv()
            except Exception:
                pass
        drains.append(asyncio.ensure_future(drain()))

    @pc.on("connectionstatechange")
    def on_state():
        emit("state", state=pc.connectionState)

    @pc.on("datachannel")
    def on_datachannel(channel):
        emit("channel", label=channel.label, id=channel.id)
        if channel.label != "slides":
            return
        st = {"slide": None, "hash": None, "received": 0, "done": {}}

        @channel.on("message")
        def on_message(message):
            t = time.monotonic()
            if not isinstance(message, str):
                slide = st["slide"]
                if slide is None:
                    emit("bytes-without-slide", t, n=len(message))
                    return
                if st["received"] == 0:
                    emit("first-byte", t, id=slide["id"])
                st["hash"].update(message)
                st["received"] += len(message)
                if st["received"] == slide["size"]:
                    digest = st["hash"].hexdigest()
                    st["done"][slide["id"]] = digest
                    emit("complete", t, id=slide["id"], size=st["received"], sha256=digest)
                elif st["received"] > slide["size"]:
                    emit("overrun", t, id=slide["id"], received=st["received"])
                return
            try:
                msg = json.loads(message)
            except ValueError:
                emit("bad-text", t, text=message[:200])
                return
            kind = msg.get("type")
            if kind == "slide":
                if st["slide"] is not None and st["received"] < st["slide"]["size"]:
                    emit("incomplete", t, id=st["slide"]["id"], received=st["received"])
                st["slide"], st["hash"], st["received"] = msg, hashlib.sha256(), 0
                emit("slide", t, id=msg.get("id"), size=msg.get("size"), mime=msg.get("mime"),
                     name=msg.get("name"))
                if msg.get("size") == 0:
                    st["done"][msg.get("id")] = st["hash"].hexdigest()
            elif kind == "show":
                sid = msg.get("id")
                emit("show", t, id=sid, sha256=st["done"].get(sid))
            elif kind == "presenter":
                emit("presenter", t, connected=msg.get("connected"))
            else:
                emit("message", t, msg=msg)

    await pc.setLocalDescription(await pc.createOffer())
    status, _, body = await loop.run_in_executor(None, whip_client.post_offer, url,
                                                 pc.localDescription.sdp)
    if status != 201:
        emit("whep-failed", status=status, body=body[:500])
        await pc.close()
        return 1
    await pc.setRemoteDescription(RTCSessionDescription(body, "answer"))
    emit("answered", port=candidate_port(pc.localDescription.sdp))
    try:
        await asyncio.wait_for(stop.wait(), GUEST_LIFETIME)
    except asyncio.TimeoutError:
        emit("lifetime-over")
    for d in drains:
        d.cancel()
    await asyncio.wait_for(pc.close(), 5)
    return 0


# ----------------------------------------------------------------------------------------------
# The inner run: podium, the guest processes and the presenter.

class GuestProcess:
    """A `--guest` process; its events are collected from stdout. Stopped by PID."""

    def __init__(self, name, proc, stderr_path):
        self.name = name
        self.proc = proc
        self.stderr_path = stderr_path
        self.events = []
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, name, url, tmpdir):
        stderr_path = os.path.join(tmpdir, name + ".stderr")
        with open(stderr_path, "w") as err:
            proc = await asyncio.create_subprocess_exec(
                PYTHON, os.path.abspath(__file__), "--guest", name, url,
                stdout=asyncio.subprocess.PIPE, stderr=err, preexec_fn=die_with_parent)
        return cls(name, proc, stderr_path)

    async def _read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                return
            line = line.decode(errors="replace").rstrip("\n")
            if line.startswith(EVENT_PREFIX):
                self.events.append(json.loads(line[len(EVENT_PREFIX):]))

    def find(self, ev, **fields):
        for e in self.events:
            if e["ev"] == ev and all(e.get(k) == v for k, v in fields.items()):
                return e
        return None

    def alive(self):
        return self.proc.returncode is None

    def stderr_tail(self, n=3000):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    async def stop(self):
        if self.proc.returncode is None:
            for sig in (signal.SIGCONT, signal.SIGTERM):
                try:
                    os.kill(self.proc.pid, sig)
                except ProcessLookupError:
                    pass
            try:
                await asyncio.wait_for(self.proc.wait(), 8)
            except asyncio.TimeoutError:
                try:
                    os.kill(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                await asyncio.wait_for(self.proc.wait(), 5)
        try:
            await asyncio.wait_for(self.reader, 2)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            self.reader.cancel()
        return self.proc.returncode


async def wait_until(predicate, timeout, interval=0.02):
    """Polls `predicate` until truthy or `timeout` s pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        await asyncio.sleep(interval)


class Presenter:
    def __init__(self):
        self.pc = None
        self.port = None
        self.channel = None
        self.messages = []  # (t, decoded JSON) from the SFU
        self.sent = {}      # id -> {"size", "sha256", "t_announce", "t_show"}

    async def connect(self, url):
        import whip_client
        from aiortc import RTCPeerConnection, RTCSessionDescription
        self.pc = RTCPeerConnection()
        self.pc.addTrack(whip_client.make_sine_track(440.0))
        self.channel = self.pc.createDataChannel("slides", id=0)  # see AIORTC_STREAM_IDS
        opened = asyncio.get_running_loop().create_future()

        @self.channel.on("open")
        def on_open():
            if not opened.done():
                opened.set_result(time.monotonic())

        @self.channel.on("message")
        def on_message(message):
            t = time.monotonic()
            if isinstance(message, str):
                try:
                    self.messages.append((t, json.loads(message)))
                except ValueError:
                    self.messages.append((t, {"type": "<invalid JSON>", "text": message[:200]}))
            else:
                self.messages.append((t, {"type": "<binary>", "size": len(message)}))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        status, _, body = await asyncio.get_running_loop().run_in_executor(
            None, whip_client.post_offer, url, self.pc.localDescription.sdp)
        if status != 201:
            raise AssertionError("WHIP %s: %s" % (status, body))
        await self.pc.setRemoteDescription(RTCSessionDescription(body, "answer"))
        self.port = candidate_port(self.pc.localDescription.sdp)
        try:
            await asyncio.wait_for(opened, 20)
        except asyncio.TimeoutError:
            raise AssertionError("the presenter's slides channel did not open within 20 s "
                                 "(connection %s)" % self.pc.connectionState) from None

    def last(self, kind, **fields):
        for t, m in reversed(self.messages):
            if m.get("type") == kind and all(m.get(k) == v for k, v in fields.items()):
                return m
        return None

    async def upload_and_show(self, sid, size):
        data = os.urandom(size)
        info = {"size": size, "sha256": hashlib.sha256(data).hexdigest()}
        self.sent[sid] = info
        info["t_announce"] = time.monotonic()
        self.channel.send(json.dumps({"type": "slide", "id": sid, "size": size,
                                      "mime": "image/jpeg", "name": "IMG_%s.jpg" % sid}))
        for offset in range(0, size, CHUNK):
            if self.channel.bufferedAmount > (1 << 20):
                await wait_until(lambda: self.channel.bufferedAmount <= (1 << 19), 20, 0.005)
            self.channel.send(data[offset:offset + CHUNK])
        info["t_show"] = time.monotonic()
        self.channel.send(json.dumps({"type": "show", "id": sid}))
        return info

    async def close(self):
        if self.pc is not None:
            await asyncio.wait_for(self.pc.close(), 5)


async def inner():
    from podium_harness import Podium
    import whip_client
    whip_client.use_loopback()

    result = {}
    guests = []
    presenter = Presenter()
    with tempfile.TemporaryDirectory(prefix="podium-slides-") as tmpdir, \
            Podium(CONFIG, expect=("signaling", "sfu", "metrics")) as podium:
        try:
            try:
                await scenario(podium, presenter, guests, tmpdir, result)
            finally:
                for g in guests:
                    await g.stop()
                await presenter.close()
        except BaseException:
            print("podium stderr:\n" + podium.stderr()[-6000:], file=sys.stderr, flush=True)
            for g in guests:
                print("guest %s events: %s\nstderr:\n%s" % (g.name, json.dumps(g.events[-40:]),
                                                             g.stderr_tail()),
                      file=sys.stderr, flush=True)
            print("presenter received: %s" % json.dumps(presenter.messages[-40:]),
                  file=sys.stderr, flush=True)
            raise
        code, _ = podium.stop()
        result["exit_code"] = code
    print(RESULT_PREFIX + json.dumps(result), flush=True)


async def scenario(podium, presenter, guests, tmpdir, result):
    from podium_harness import metric, scrape
    base = podium.url("signaling")

    # Guests first (each its own process), then the presenter.
    for i in range(GUESTS):
        guests.append(await GuestProcess.start("g%d" % i, base + "/whep/demo", tmpdir))
    frozen, normal = guests[0], guests[1:]
    await presenter.connect(base + "/whip/demo")

    def all_ready():
        return all(g.find("channel", label="slides") for g in guests)
    if not await wait_until(all_ready, 40):
        raise AssertionError("not every guest got the SFU's slides channel: %s"
                             % {g.name: (g.alive(), g.events[-3:]) for g in guests})
    if not await wait_until(lambda: (presenter.last("guests") or {}).get("count") == GUESTS, 10):
        raise AssertionError("presenter never saw guests=%d: %s" % (GUESTS, presenter.messages))

    # Slide 1: the baseline, every guest reading.
    sid, size, _ = BASELINE_SLIDE
    await presenter.upload_and_show(sid, size)
    if not await wait_until(lambda: all(g.find("show", id=sid) for g in guests), 20):
        raise AssertionError("slide %s not shown on every guest within 20 s" % sid)

    drops = {"before freeze": udp_drops()}

    # Freeze one guest; show the next slides on schedule while it does not read.
    t_freeze = time.monotonic()
    os.kill(frozen.proc.pid, signal.SIGSTOP)
    result["t_freeze"] = t_freeze
    for sid, size, at in FREEZE_SLIDES:
        await asyncio.sleep(max(0.0, t_freeze + at - time.monotonic()))
        await presenter.upload_and_show(sid, size)
        # Not a measurement (the guests stamp their own receipt): just keeps the schedule honest.
        await wait_until(lambda: all(g.find("show", id=sid) for g in normal), 2.5)
    await asyncio.sleep(max(0.0, t_freeze + FREEZE_SECONDS - time.monotonic()))
    drops["frozen"] = udp_drops()
    t_cont = time.monotonic()
    os.kill(frozen.proc.pid, signal.SIGCONT)
    result["t_cont"] = t_cont
    result["frozen_for"] = t_cont - t_freeze

    newest = FREEZE_SLIDES[-1][0]
    await wait_until(lambda: frozen.find("show", id=newest), CONVERGE_SECONDS)
    # Let the rest of the deck (older slides sent in the background) and any stray shows arrive,
    # so that "the last show" is really the last: until every guest has every slide, at most 10 s.
    all_ids = [BASELINE_SLIDE[0]] + [s[0] for s in FREEZE_SLIDES]
    await wait_until(lambda: all(g.find("complete", id=s) for g in guests for s in all_ids), 10)
    await asyncio.sleep(1.0)

    drops["end"] = udp_drops()
    ports = {"sfu": podium.host_port("sfu")[1], "presenter": presenter.port}
    ports.update({g.name: (g.find("answered") or {}).get("port") for g in guests})
    # Datagrams each socket dropped (receive buffer full), cumulative at each point: the frozen
    # guest drops what arrives while it is stopped; anyone else dropping points at lost packets
    # and SCTP retransmission timeouts.
    result["udp_drops"] = {who: {when: d.get(port) for when, d in drops.items()}
                           for who, port in ports.items()}
    samples = scrape(podium)
    result["protocol_errors"] = metric(samples, "podium_sfu_slide_protocol_errors_total")
    result["datachannel_errors"] = metric(samples, "podium_sfu_datachannel_errors_total")
    result["sctp_errors"] = metric(samples, "podium_sfu_sctp_errors_total")
    result["metrics"] = {  # for the printout: what the SFU counted, non-zero samples only
        "%s{%s}" % (n, ",".join("%s=%s" % kv for kv in sorted(l))): v
        for (n, l), v in sorted(samples.items(), key=lambda kv: (kv[0][0], sorted(kv[0][1])))
        if v and n in ("podium_sfu_slides_skipped_total", "podium_sfu_sctp_errors_total",
                       "podium_sfu_datachannel_errors_total", "podium_sfu_send_errors_total",
                       "podium_sfu_dropped_datagrams_total", "podium_sfu_consent_expiries_total",
                       "podium_sfu_slide_protocol_errors_total")}
    result["sent"] = presenter.sent
    result["presenter_errors"] = [m for _, m in presenter.messages if m.get("type") == "error"]
    result["presenter_last"] = {k: presenter.last(k) for k in ("guests",)}
    result["presenter_delivered"] = {s: presenter.last("delivered", id=s) for s in all_ids}
    result["presenter_stored"] = {s: presenter.last("stored", id=s) for s in all_ids}
    for s in all_ids:  # when the presenter heard the SFU had the whole slide
        presenter.sent[s]["t_stored"] = next((t for t, m in presenter.messages
                                              if m.get("type") == "stored" and m.get("id") == s),
                                             None)
    result["frozen"] = frozen.name
    result["guests"] = {}
    for g in guests:
        g_events = [e for e in g.events if e["ev"] in ("slide", "first-byte", "complete", "show",
                                                     "overrun", "incomplete", "message",
                                                     "bytes-without-slide", "bad-text")]
        result["guests"][g.name] = {"events": g_events, "alive": g.alive()}


# ----------------------------------------------------------------------------------------------
# The test proper (outside the namespace): runs the inner scenario and checks its result.

def summarize(result):
    """Per-guest show delays and the frozen guest's convergence, from the raw events."""
    sent = result["sent"]
    out = {"delays": {}}
    for name, g in result["guests"].items():
        out["delays"][name] = {}
        for sid, info in sent.items():
            show = next((e for e in g["events"] if e["ev"] == "show" and e["id"] == sid), None)
            delay = None if show is None else round(show["t"] - info["t_show"], 4)
            out["delays"][name][sid] = delay
    frozen = result["guests"][result["frozen"]]
    newest = FREEZE_SLIDES[-1][0]
    show_newest = next((e for e in frozen["events"] if e["ev"] == "show" and e["id"] == newest),
                       None)
    out["frozen_converged_after_cont"] = (None if show_newest is None
                                          else round(show_newest["t"] - result["t_cont"], 4))
    out["frozen_order"] = [(e["ev"], e["id"]) for e in frozen["events"]
                           if e["ev"] in ("slide", "show") and e["t"] > result["t_cont"]]
    return out


def print_report(result, summary, took):
    sent = result["sent"]

    def rel(t, t0):
        return "-" if t is None else "%.3f" % (t - t0)

    print("\nrun took %.1f s; guest %s frozen for %.2f s (SIGSTOP at +%.3f s before %s's announce)"
          % (took, result["frozen"], result["frozen_for"],
             sent[FREEZE_SLIDES[0][0]]["t_announce"] - result["t_freeze"], FREEZE_SLIDES[0][0]))
    print("timeline per slide, seconds after the presenter's announce; delay = show received - "
          "show sent:")
    for sid, info in sent.items():
        t0 = info["t_announce"]
        print("  %s (%d B): show sent +%s, stored (at presenter) +%s"
              % (sid, info["size"], rel(info["t_show"], t0), rel(info.get("t_stored"), t0)))
        for name, g in result["guests"].items():
            def at(ev):
                e = next((e for e in g["events"] if e["ev"] == ev and e["id"] == sid), None)
                return None if e is None else e["t"]
            delay = summary["delays"][name][sid]
            print("    %s%s first byte +%s, complete +%s, show +%s: delay %s"
                  % (name, " (frozen)" if name == result["frozen"] else "",
                     rel(at("first-byte"), t0), rel(at("complete"), t0), rel(at("show"), t0),
                     "-" if delay is None else "%.3f s" % delay))
    print("show delays, s: %s" % json.dumps(summary["delays"]))
    print("frozen guest: newest show %s s after SIGCONT; after SIGCONT: %s"
          % (summary["frozen_converged_after_cont"], summary["frozen_order"]))
    print("presenter: errors=%s; last delivered=%s"
          % (result["presenter_errors"],
             json.dumps({s: (m or {}).get("guests") for s, m in
                         result["presenter_delivered"].items()})))
    print("SFU metrics (non-zero): %s" % json.dumps(result["metrics"]))
    print("UDP receive-buffer drops per socket (/proc/net/udp, cumulative): %s"
          % json.dumps(result["udp_drops"]))
    sys.stdout.flush()


class SfuSlidesAiortcTest(unittest.TestCase):
    def test_frozen_guest_does_not_delay_others(self):
        reason = netns.unavailable_reason()
        if reason:
            self.skipTest(reason)
        started = time.monotonic()
        r = netns.run_in_loopback_netns([PYTHON, os.path.abspath(__file__), "--inner"],
                                        timeout=RUN_TIMEOUT + 15, capture_output=True, text=True,
                                        env=dict(os.environ))
        lines = [l for l in r.stdout.splitlines() if l.startswith(RESULT_PREFIX)]
        self.assertTrue(lines, "no result; stdout=%s\nstderr=%s"
                        % (r.stdout[-3000:], r.stderr[-20000:]))
        result = json.loads(lines[-1][len(RESULT_PREFIX):])
        summary = summarize(result)
        print_report(result, summary, time.monotonic() - started)

        sent = result["sent"]
        guests = result["guests"]
        frozen = result["frozen"]
        baseline_id = BASELINE_SLIDE[0]
        freeze_ids = [s[0] for s in FREEZE_SLIDES]
        newest = freeze_ids[-1]

        def completes(name, sid):
            return [e for e in guests[name]["events"] if e["ev"] == "complete" and e["id"] == sid]

        for name, g in guests.items():
            bad = [e for e in g["events"] if e["ev"] in ("overrun", "incomplete", "message",
                                                        "bytes-without-slide", "bad-text")]
            self.assertEqual(bad, [], "guest %s saw protocol trouble" % name)
            for sid, info in sent.items():
                self.assertLessEqual(len(completes(name, sid)), 1,
                                     "guest %s got slide %s more than once" % (name, sid))
                for c in completes(name, sid):  # whatever arrived is intact
                    self.assertEqual(c["sha256"], info["sha256"], "guest %s slide %s" % (name, sid))
            # Slide 1 (before the freeze) reached everyone, bytes before the show.
            show = next(e for e in g["events"] if e["ev"] == "show" and e["id"] == baseline_id)
            self.assertEqual(show["sha256"], sent[baseline_id]["sha256"],
                             "guest %s: show %s before its bytes were complete"
                             % (name, baseline_id))

        for name, g in guests.items():
            if name == frozen:
                continue
            baseline = summary["delays"][name][baseline_id]
            for sid in freeze_ids:
                show = next((e for e in g["events"] if e["ev"] == "show" and e["id"] == sid), None)
                self.assertIsNotNone(show, "guest %s never got show %s" % (name, sid))
                self.assertEqual(show["sha256"], sent[sid]["sha256"],
                                 "guest %s: show %s without its bytes intact" % (name, sid))
                delay = summary["delays"][name][sid]
                self.assertLess(delay, baseline + MARGIN_SECONDS,
                                "guest %s: show %s took %.3f s, baseline %.3f s (guest %s frozen)"
                                % (name, sid, delay, baseline, frozen))
            shown = [e["id"] for e in g["events"] if e["ev"] == "show"]
            self.assertEqual(shown, [baseline_id] + freeze_ids, "guest %s show order" % name)

        # The frozen guest ends on the newest slide, with its bytes, within CONVERGE_SECONDS.
        fg = guests[frozen]
        self.assertTrue(fg["alive"], "the frozen guest's process died")
        shows = [e for e in fg["events"] if e["ev"] == "show"]
        self.assertTrue(shows, "the frozen guest got no show at all")
        self.assertEqual(shows[-1]["id"], newest,
                         "the frozen guest's last show is %s, not the newest %s"
                         % (shows[-1]["id"], newest))
        self.assertEqual(shows[-1]["sha256"], sent[newest]["sha256"],
                         "the frozen guest's newest slide bytes are not intact at its show")
        self.assertIsNotNone(summary["frozen_converged_after_cont"])
        self.assertLess(summary["frozen_converged_after_cont"], CONVERGE_SECONDS)
        # Catch-up order (see CONFIG's guest_queue): after SIGCONT the only show is the newest,
        # and it comes before any byte of s3, which still arrives later (the whole deck, once).
        after = [e for e in fg["events"] if e["t"] > result["t_cont"]]
        self.assertEqual([e["id"] for e in after if e["ev"] == "show"], [newest],
                         "shows after SIGCONT: %s" % summary["frozen_order"])
        show_at = next(i for i, e in enumerate(after) if e["ev"] == "show")
        skipped = freeze_ids[-2]
        s3_at = next((i for i, e in enumerate(after) if e.get("id") == skipped), None)
        self.assertTrue(s3_at is None or s3_at > show_at, "%s started before the newest show: %s"
                        % (skipped, summary["frozen_order"]))
        for sid in sent:
            self.assertEqual(len(completes(frozen, sid)), 1,
                             "the frozen guest did not get slide %s (once)" % sid)
        # Nothing the frozen guest received is stamped inside the freeze.
        during = [e for e in fg["events"]
                  if result["t_freeze"] + 0.2 < e["t"] < result["t_cont"] - 0.2]
        self.assertEqual(during, [], "the frozen guest was not frozen")

        self.assertEqual(result["presenter_errors"], [])
        self.assertEqual(result["protocol_errors"], 0)
        self.assertEqual(result["datachannel_errors"], 0)
        self.assertEqual(result["sctp_errors"], 0)
        self.assertEqual(result["exit_code"], 0)


if __name__ == "__main__":
    if "--guest" in sys.argv:
        i = sys.argv.index("--guest")
        sys.exit(asyncio.run(guest_main(sys.argv[i + 1], sys.argv[i + 2])))
    elif "--inner" in sys.argv:
        asyncio.run(asyncio.wait_for(inner(), RUN_TIMEOUT))
    else:
        unittest.main()
