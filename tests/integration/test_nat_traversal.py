"""Real NAT traversal: network namespaces, veth pairs and nftables masquerade.

Each test method runs this file again with `--inner PART` inside a private network and PID
namespace (lib/netns.py: everything started there dies with it, nothing touches the host's
/run/netns). That namespace plays "the internet": a bridge `inet0` with 203.0.113.1/24 (TEST-NET-3)
where podium runs (relay on udp 3478 and 3479 and tcp 3478, SFU, signaling). Each NAT site is two
more namespaces, held by `unshare -n sleep infinity` children (killed by PID at the end) and
entered with `nsenter -t PID -n`:

  client 10.0.N.2/24 --veth-- 10.0.N.1/24 router 203.0.113.(10+N)/24 --veth-- bridge inet0

The router forwards (ip_forward=1), masquerades on its WAN side and, like a home router, drops
inbound traffic that matches no conntrack entry (counted in nftables named counters):

  site 1  "cone":      `masquerade` (Linux keeps the source port: endpoint-independent mapping,
                       conntrack gives port-restricted filtering)
  site 2  "symmetric": `masquerade fully-random` (a new random port per destination)
  site 3  "udp-drop":  masquerade, and every forwarded UDP datagram is dropped (TCP only)

The NAT behaviour is measured first with raw STUN Binding requests from one client socket to the
relay's two UDP ports: the cone keeps one mapping (= the local port), the symmetric NAT gives two.

Part A (test_two_nated_peers_only_through_relay): aiortc peers in site 1 and site 2 (separate
processes; SDP exchanged through their stdin/stdout) with a negotiated data channel:
  1. negative control: STUN only (no TURN): they must NOT connect within NEGATIVE_WINDOW s, although
     both gathered server-reflexive candidates and their direct checks reached (and were dropped
     by) the other NAT; if they connect, the topology is wrong and the test fails;
  2. with podium's TURN (long-term credentials from relay.users) they connect, each side's
     selected pair has a relay candidate at one end, MESSAGES messages flow each way;
  3. /metrics: UDP allocations, permissions, relayed bytes in both directions.

Part B (test_guest_behind_udp_blocking_nat_uses_turn_tcp): an aiortc presenter behind the cone NAT
publishes a 440 Hz Opus sine (WHIP) and two slides on the "slides" channel (docs/protocol.md); an
aiortc guest behind the UDP-dropping NAT learns the ICE servers from the Link header fields of a
WHEP 201 (docs/signaling.md; a first discovery session, deleted at once, because aiortc cannot
add servers after its offer), takes the `turn:...?transport=tcp` one and joins through it: it
decodes the sine (dominant frequency, frame count), receives both slides (SHA-256) and the show,
its selected local candidate is a relay candidate allocated over TCP, the router's UDP drop
counter is > 0 (for a STUN probe from that site, which stays unanswered, and again for the
guest's own host-candidate checks) and the relay counted a TCP allocation and the relayed slide
bytes.

Seen on a 2-core machine: part A ~15 s (10 s of it the negative window; TURN connects in
0.15-0.7 s), part B ~10 s.
"""
import asyncio
import hashlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import netns  # noqa: E402
from podium_harness import die_with_parent  # noqa: E402

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
RESULT_PREFIX = "PODIUM-NAT-RESULT "
LINE_PREFIX = "PODIUM-NAT-LINE "
RUN_TIMEOUT = 105          # each inner run (two runs; ctest's TIMEOUT is 240)
CHILD_LIFETIME = 110       # a peer process exits on its own after this long, whatever happens

SERVER_IP = "203.0.113.1"
STUN_PORTS = (3478, 3479)  # the relay's two UDP listeners (the second one for the NAT probe)
USERS = {"alice": "nat-test-alice-pw", "bob": "nat-test-bob-pw"}
NEGATIVE_WINDOW = 10.0     # s the STUN-only peers get to (not) connect; TURN takes ~1-3 s here
CONNECT_WINDOW = 30.0
MESSAGES = 40              # data channel messages each way (Part A)
MESSAGE_SIZE = 1000
LISTEN_SECONDS = 5.0       # decoded audio the guest records (Part B)
SLIDES = [("s1", 180_000), ("s2", 70_001)]
ROOM = "nat"

CONFIG = """
log:
  level: info
relay:
  listen: [udp://{ip}:{p1}, udp://{ip}:{p2}, tcp://{ip}:{p1}]
  relay_ip: {ip}
  relay_ports: 61000-61999
  ephemeral_secret: true
  users: {{alice: {alice}, bob: {bob}}}
sfu:
  listen_ip: {ip}
  udp_port: 0
signaling:
  listen: {ip}:0
  open_rooms: true
metrics:
  listen: 127.0.0.1:0
""".format(ip=SERVER_IP, p1=STUN_PORTS[0], p2=STUN_PORTS[1], **USERS)

SITES = {1: "cone", 2: "symmetric", 3: "udp-drop"}

def emit(kind, **fields):
    fields["kind"] = kind
    print(LINE_PREFIX + json.dumps(fields), flush=True)


# ----------------------------------------------------------------------------------------------
# Topology (runs in the inner namespace, which is "the internet").

def sh(argv, input=None):
    r = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=15)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stderr.strip()))
    return r.stdout


class Namespace:
    """A network namespace held by `unshare -n sleep infinity`; stopped by PID."""

    def __init__(self, name):
        self.name = name
        self.proc = subprocess.Popen(["unshare", "-n", "sleep", "infinity"],
                                     preexec_fn=die_with_parent)
        own = os.readlink("/proc/self/ns/net")
        deadline = time.monotonic() + 5
        while True:  # unshare execs sleep once the namespace exists
            try:
                if os.readlink("/proc/%d/ns/net" % self.proc.pid) != own:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("namespace %s was not created" % name)
            time.sleep(0.01)
        self.run("ip", "link", "set", "lo", "up")

    @property
    def pid(self):
        return self.proc.pid

    def argv(self, argv):
        return ["nsenter", "-t", str(self.pid), "-n"] + list(argv)

    def run(self, *argv, input=None):
        return sh(self.argv(argv), input=input)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)


NFT_RULES = """
table ip nat {{
  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
    oifname "{wan}" masquerade{mode}
  }}
}}
table inet natfw {{
  counter unsolicited_in {{ }}
  counter udp_dropped {{ }}
  counter tcp_forwarded {{ }}
  chain forward {{
    type filter hook forward priority filter; policy accept;
    meta l4proto tcp counter name "tcp_forwarded"
    {udp_drop}
    iifname "{wan}" ct state established,related accept
    iifname "{wan}" counter name "unsolicited_in" drop
  }}
  chain input {{
    type filter hook input priority filter; policy accept;
    iifname "{wan}" meta l4proto udp ct state new counter name "unsolicited_in" drop
  }}
}}
"""


class NatSite:
    """A client namespace behind a router namespace that NATs it onto the bridge."""

    def __init__(self, index, kind):
        self.index, self.kind = index, kind
        self.public_ip = "203.0.113.%d" % (10 + index)
        self.router_ip = "10.0.%d.1" % index
        self.client_ip = "10.0.%d.2" % index
        self.router = Namespace("router%d" % index)
        self.client = Namespace("client%d" % index)
        wan, lan, eth, port = "n%dwan" % index, "n%dlan" % index, "n%deth" % index, "n%dbr" % index
        self.wan = wan
        sh(["ip", "link", "add", wan, "type", "veth", "peer", "name", port])
        sh(["ip", "link", "set", port, "master", "inet0", "up"])
        sh(["ip", "link", "set", wan, "netns", str(self.router.pid)])
        sh(["ip", "link", "add", eth, "type", "veth", "peer", "name", lan])
        sh(["ip", "link", "set", lan, "netns", str(self.router.pid)])
        sh(["ip", "link", "set", eth, "netns", str(self.client.pid)])
        r = self.router
        r.run("ip", "addr", "add", self.public_ip + "/24", "dev", wan)
        r.run("ip", "link", "set", wan, "up")
        r.run("ip", "addr", "add", self.router_ip + "/24", "dev", lan)
        r.run("ip", "link", "set", lan, "up")
        r.run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        r.run("nft", "-f", "-", input=NFT_RULES.format(
            wan=wan, mode=" fully-random" if kind == "symmetric" else "",
            udp_drop='meta l4proto udp counter name "udp_dropped" drop' if kind == "udp-drop"
            else ""))
        c = self.client
        c.run("ip", "addr", "add", self.client_ip + "/24", "dev", eth)
        c.run("ip", "link", "set", eth, "up")
        c.run("ip", "route", "add", "default", "via", self.router_ip)

    def counters(self):
        """{name: packets} of the router's named nftables counters."""
        data = json.loads(self.router.run("nft", "-j", "list", "counters", "table", "inet",
                                          "natfw"))
        return {item["counter"]["name"]: item["counter"]["packets"]
                for item in data.get("nftables", []) if "counter" in item}

    def stop(self):
        self.client.stop()
        self.router.stop()


class Topology:
    def __init__(self, indexes):
        sh(["ip", "link", "add", "inet0", "type", "bridge"])
        sh(["ip", "addr", "add", SERVER_IP + "/24", "dev", "inet0"])
        sh(["ip", "link", "set", "inet0", "up"])
        self.sites = {}
        try:
            for i in indexes:
                self.sites[i] = NatSite(i, SITES[i])
        except BaseException:
            self.stop()
            raise
        # The bridge ports take a moment to forward (no STP: at once, but wait for carrier).
        time.sleep(0.2)

    def stop(self):
        for site in self.sites.values():
            site.stop()


# ----------------------------------------------------------------------------------------------
# Raw STUN Binding (RFC 8489) for the NAT probe (`--stun-probe`, run inside a client namespace).

MAGIC = 0x2112A442


def stun_binding(sock, server, timeout=3.0):
    """(ip, port) of XOR-MAPPED-ADDRESS for a Binding request from `sock`, or None."""
    tid = os.urandom(12)
    request = struct.pack("!HHI12s", 0x0001, 0, MAGIC, tid)
    deadline = time.monotonic() + timeout
    rto = 0.2
    while time.monotonic() < deadline:
        sock.sendto(request, server)
        sock.settimeout(min(rto, max(0.01, deadline - time.monotonic())))
        rto *= 2
        try:
            while True:
                data, _ = sock.recvfrom(2048)
                if len(data) < 20 or data[8:20] != tid:
                    continue
                kind, length = struct.unpack("!HH", data[:4])
                if kind != 0x0101:
                    return None
                at = 20
                while at + 4 <= 20 + length:
                    atype, alen = struct.unpack("!HH", data[at:at + 4])
                    value = data[at + 4:at + 4 + alen]
                    if atype == 0x0020 and value[1] == 1:
                        port = struct.unpack("!H", value[2:4])[0] ^ (MAGIC >> 16)
                        addr = struct.unpack("!I", value[4:8])[0] ^ MAGIC
                        return socket.inet_ntoa(struct.pack("!I", addr)), port
                    at += 4 + alen + (-alen % 4)
                return None
        except socket.timeout:
            continue
    return None


def stun_probe(site, timeout=3.0):
    """Binding requests from one socket of `site`'s client to both relay UDP ports."""
    code = ("import sys; sys.path.insert(0, %r); import test_nat_traversal as t, socket;"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((%r, 0));"
            "m = [t.stun_binding(s, (t.SERVER_IP, p), %r) for p in t.STUN_PORTS];"
            "t.emit('probe', local_port=s.getsockname()[1], mapped=m)"
            % (HERE, site.client_ip, timeout))
    out = site.client.run(PYTHON, "-c", code)
    lines = [l for l in out.splitlines() if l.startswith(LINE_PREFIX)]
    return json.loads(lines[-1][len(LINE_PREFIX):])


# ----------------------------------------------------------------------------------------------
# Helpers shared by the aiortc processes (each runs inside a client namespace).

def use_host_address(address):
    """aioice gathers host candidates on this address only (the namespace's private one)."""
    import aioice.ice
    aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: [address]


def selected_pair(pc):
    """The nominated ICE pair of `pc` (aiortc 1.4 / aioice internals), as a dict."""
    try:
        connection = pc.sctp.transport.transport._connection
    except AttributeError:
        return None
    pair = connection._nominated.get(1)
    if pair is None:
        return None

    def cand(c):
        return {"type": c.type, "host": c.host, "port": c.port, "transport": c.transport}
    inner = getattr(pair.protocol.transport, "_TurnTransport__inner_protocol", None)
    return {"local": cand(pair.local_candidate), "remote": cand(pair.remote_candidate),
            "turn": repr(inner) if inner is not None else None}


def candidate_types(sdp):
    return sorted(set(re.findall(r"a=candidate:\S+ \d+ \S+ \d+ \S+ \d+ typ (\w+)", sdp)))


class Stdin:
    """JSON lines from the orchestrator on stdin."""

    def __init__(self, loop):
        self.loop = loop

    async def read(self, timeout):
        line = await asyncio.wait_for(self.loop.run_in_executor(None, sys.stdin.readline),
                                      timeout)
        return json.loads(line) if line.strip() else None


async def wait_state(pc, states, timeout):
    """Waits until pc.connectionState is one of `states` or `timeout` s pass."""
    deadline = time.monotonic() + timeout
    while pc.connectionState not in states and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return pc.connectionState


# ----------------------------------------------------------------------------------------------
# Part A peer (`--peer JSON`): offer or answer, a negotiated data channel, MESSAGES each way.

async def peer_main(cfg):
    use_host_address(cfg["addr"])
    from aiortc import (RTCConfiguration, RTCIceServer, RTCPeerConnection,
                        RTCSessionDescription)
    loop = asyncio.get_running_loop()
    stdin = Stdin(loop)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[RTCIceServer(**s) for s in cfg["ice"]]))
    channel = pc.createDataChannel("chat", negotiated=True, id=0)
    got = {"messages": 0, "bytes": 0, "bad": 0}
    all_in = asyncio.Event()

    @channel.on("message")
    def on_message(message):
        if isinstance(message, bytes) and len(message) == MESSAGE_SIZE:
            got["messages"] += 1
            got["bytes"] += len(message)
        else:
            got["bad"] += 1
        if got["messages"] >= MESSAGES:
            all_in.set()

    states = []
    pc.on("connectionstatechange", lambda: states.append(pc.connectionState))
    t0 = time.monotonic()
    if cfg["role"] == "offer":
        await pc.setLocalDescription(await pc.createOffer())
        emit("sdp", sdp=pc.localDescription.sdp, type="offer")
        msg = await stdin.read(30)
        await pc.setRemoteDescription(RTCSessionDescription(msg["sdp"], msg["type"]))
    else:
        msg = await stdin.read(30)
        await pc.setRemoteDescription(RTCSessionDescription(msg["sdp"], msg["type"]))
        await pc.setLocalDescription(await pc.createAnswer())
        emit("sdp", sdp=pc.localDescription.sdp, type="answer")
    t_sdp = time.monotonic()
    result = {"gather_seconds": round(t_sdp - t0, 3),
              "candidate_types": candidate_types(pc.localDescription.sdp)}
    state = await wait_state(pc, ("connected", "failed", "closed"), cfg["window"])
    result["connect_seconds"] = round(time.monotonic() - t_sdp, 3)
    result["state"] = state
    if state == "connected":
        deadline = time.monotonic() + 10
        while channel.readyState != "open" and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        result["channel"] = channel.readyState
        if channel.readyState == "open":
            payload = os.urandom(MESSAGE_SIZE - 4)
            for i in range(MESSAGES):
                channel.send(struct.pack("!I", i) + payload)
            try:
                await asyncio.wait_for(all_in.wait(), 20)
            except asyncio.TimeoutError:
                pass
        result["pair"] = selected_pair(pc)
    result["states"] = states
    result["received"] = got
    emit("result", **result)
    try:  # stay connected until the orchestrator has read the relay's metrics
        await stdin.read(CHILD_LIFETIME)
    except asyncio.TimeoutError:
        pass
    await asyncio.wait_for(pc.close(), 5)


# ----------------------------------------------------------------------------------------------
# Part B presenter (`--presenter JSON`): WHIP, 440 Hz sine, slides channel, SLIDES uploaded.

async def presenter_main(cfg):
    use_host_address(cfg["addr"])
    import whip_client
    from aiortc import RTCPeerConnection, RTCSessionDescription
    loop = asyncio.get_running_loop()
    stdin = Stdin(loop)
    pc = RTCPeerConnection()
    pc.addTrack(whip_client.make_sine_track(440.0))
    channel = pc.createDataChannel("slides", id=0)  # even id: see docs/protocol.md (aiortc 1.4)
    messages = []
    channel.on("message", lambda m: messages.append(json.loads(m) if isinstance(m, str)
                                                    else {"type": "<binary>"}))
    await pc.setLocalDescription(await pc.createOffer())
    status, headers, body = await loop.run_in_executor(None, whip_client.post_offer, cfg["url"],
                                                       pc.localDescription.sdp)
    if status != 201:
        emit("error", error="WHIP %s: %s" % (status, body[:300]))
        return 1
    await pc.setRemoteDescription(RTCSessionDescription(body, "answer"))

    async def until(pred, timeout):
        deadline = time.monotonic() + timeout
        while not pred() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return pred()

    if not await until(lambda: channel.readyState == "open", 20):
        emit("error", error="slides channel not open (%s)" % pc.connectionState)
        return 1
    emit("open", pair=selected_pair(pc))
    if not await until(lambda: any(m.get("type") == "guests" and m.get("count", 0) >= 1
                                   for m in messages), 60):
        emit("error", error="no guest joined", messages=messages[-10:])
        return 1
    sent = {}
    for sid, size in SLIDES:
        data = os.urandom(size)
        sent[sid] = {"size": size, "sha256": hashlib.sha256(data).hexdigest()}
        channel.send(json.dumps({"type": "slide", "id": sid, "size": size,
                                 "mime": "image/jpeg", "name": sid + ".jpg"}))
        for offset in range(0, size, 16384):
            channel.send(data[offset:offset + 16384])
        channel.send(json.dumps({"type": "show", "id": sid}))
    emit("sent", slides=sent)
    await until(lambda: any(m.get("type") == "delivered" and m.get("id") == SLIDES[-1][0]
                            and m.get("guests", 0) >= 1 for m in messages), 40)
    emit("result", slides=sent, errors=[m for m in messages if m.get("type") == "error"],
         delivered=[m for m in messages if m.get("type") == "delivered"][-2:])
    try:
        await stdin.read(CHILD_LIFETIME)
    except asyncio.TimeoutError:
        pass
    await asyncio.wait_for(pc.close(), 5)
    return 0


# ----------------------------------------------------------------------------------------------
# Part B guest (`--guest JSON`): WHEP with the ICE servers of the Link header fields.

LINK_RE = re.compile(r'^\s*<([^>]*)>\s*;(.*)$')
PARAM_RE = re.compile(r'(\S+?)="([^"]*)"')


def parse_links(headers):
    links = headers.get("link") or []
    if isinstance(links, str):
        links = [links]
    servers = []
    for link in links:
        m = LINK_RE.match(link)
        if not m:
            continue
        params = dict(PARAM_RE.findall(m.group(2)))
        if params.get("rel") == "ice-server":
            servers.append({"urls": m.group(1), "username": params.get("username"),
                            "credential": params.get("credential")})
    return servers


def guest_pc(ice):
    from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[RTCIceServer(**s) for s in ice]))
    pc.addTransceiver("audio", direction="recvonly")
    # The offer needs an m=application section; stream 0 (docs/protocol.md, aiortc 1.4).
    pc.createDataChannel("control", negotiated=True, id=0)
    return pc


async def guest_main(cfg):
    use_host_address(cfg["addr"])
    import numpy
    import whip_client
    from aiortc import RTCSessionDescription
    loop = asyncio.get_running_loop()
    stdin = Stdin(loop)
    base = cfg["base"]

    # 1. Discovery: a WHEP session only to read the Link header fields; deleted at once.
    probe = guest_pc([])
    await probe.setLocalDescription(await probe.createOffer())
    status, headers, body = await loop.run_in_executor(None, whip_client.post_offer, cfg["url"],
                                                       probe.localDescription.sdp)
    await probe.close()
    if status != 201:
        emit("error", error="discovery WHEP %s: %s" % (status, body[:300]))
        return 1
    servers = parse_links(headers)
    deleted = await loop.run_in_executor(None, whip_client.delete, base + headers["location"])
    tcp = [s for s in servers if s["urls"].startswith("turn:") and s["urls"].endswith(
        "?transport=tcp")]
    emit("links", servers=[s["urls"] for s in servers], discovery_delete=deleted)
    if not tcp or not tcp[0]["username"] or not tcp[0]["credential"]:
        emit("error", error="no turn:?transport=tcp Link with a credential: %r" % servers)
        return 1

    # 2. The real session, through TURN over TCP.
    pc = guest_pc(tcp[:1])
    slides = {"current": None, "hash": None, "received": 0, "done": {}, "shows": [],
              "other": []}
    track_future = loop.create_future()

    @pc.on("track")
    def on_track(track):
        if not track_future.done():
            track_future.set_result(track)

    @pc.on("datachannel")
    def on_datachannel(channel):
        if channel.label != "slides":
            return

        @channel.on("message")
        def on_message(message):
            if isinstance(message, bytes):
                if slides["current"] is None:
                    slides["other"].append("bytes without slide")
                    return
                slides["hash"].update(message)
                slides["received"] += len(message)
                if slides["received"] == slides["current"]["size"]:
                    slides["done"][slides["current"]["id"]] = slides["hash"].hexdigest()
                return
            msg = json.loads(message)
            if msg.get("type") == "slide":
                slides["current"], slides["hash"], slides["received"] = msg, hashlib.sha256(), 0
            elif msg.get("type") == "show":
                slides["shows"].append(msg.get("id"))
            elif msg.get("type") != "presenter":
                slides["other"].append(msg)

    t0 = time.monotonic()
    await pc.setLocalDescription(await pc.createOffer())
    result = {"gather_seconds": round(time.monotonic() - t0, 3),
              "candidate_types": candidate_types(pc.localDescription.sdp)}
    status, headers, body = await loop.run_in_executor(None, whip_client.post_offer, cfg["url"],
                                                       pc.localDescription.sdp)
    if status != 201:
        emit("error", error="WHEP %s: %s" % (status, body[:300]))
        return 1
    await pc.setRemoteDescription(RTCSessionDescription(body, "answer"))
    t_answer = time.monotonic()
    result["state"] = await wait_state(pc, ("connected", "failed", "closed"), CONNECT_WINDOW)
    result["connect_seconds"] = round(time.monotonic() - t_answer, 3)
    emit("state", state=result["state"])
    if result["state"] == "connected":
        result["pair"] = selected_pair(pc)
        track = await asyncio.wait_for(track_future, 10)
        deadline = time.monotonic() + 20  # warm up until the sine is audible
        while time.monotonic() < deadline:
            frame = await asyncio.wait_for(track.recv(), 10)
            if numpy.abs(frame.to_ndarray()).max() > 1000:
                break
        samples, frames, rate = [], 0, 48000
        start = time.monotonic()
        while time.monotonic() - start < LISTEN_SECONDS:
            frame = await asyncio.wait_for(track.recv(), 5)
            rate = frame.sample_rate
            data = frame.to_ndarray().reshape(-1)
            channels = len(frame.layout.channels)
            samples.append(data[::channels] if channels > 1 else data)
            frames += 1
        elapsed = time.monotonic() - start
        result["frames"] = frames
        result["expected_frames"] = int(round(elapsed / 0.02))
        result["dominant_hz"] = whip_client.dominant_frequency(numpy.concatenate(samples), rate)

        async def drain():  # aiortc queues every decoded frame until someone reads it
            try:
                while True:
                    await track.recv()
            except Exception:
                pass
        drainer = asyncio.ensure_future(drain())
        last = SLIDES[-1][0]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
                last in slides["shows"] and len(slides["done"]) >= len(SLIDES)):
            await asyncio.sleep(0.05)
        result["pair_end"] = selected_pair(pc)
    result["slides"] = {"done": slides["done"], "shows": slides["shows"],
                        "other": slides["other"][:10]}
    emit("result", **result)
    try:
        await stdin.read(CHILD_LIFETIME)
    except asyncio.TimeoutError:
        pass
    if result["state"] == "connected":
        drainer.cancel()
    await loop.run_in_executor(None, whip_client.delete, base + headers["location"])
    await asyncio.wait_for(pc.close(), 5)
    return 0


# ----------------------------------------------------------------------------------------------
# The inner run (PID 1 of the namespaces): topology, podium, the peer processes.

class Child:
    """A `--peer`/`--presenter`/`--guest` process in a namespace, talking JSON lines."""

    def __init__(self, name, proc, stderr_path):
        self.name, self.proc, self.stderr_path = name, proc, stderr_path
        self.lines = asyncio.Queue()
        self.seen = []
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, name, namespace, mode, cfg, tmpdir):
        stderr_path = os.path.join(tmpdir, name + ".stderr")
        with open(stderr_path, "w") as err:
            proc = await asyncio.create_subprocess_exec(
                *namespace.argv([PYTHON, os.path.abspath(__file__), mode, json.dumps(cfg)]),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
                preexec_fn=die_with_parent)
        return cls(name, proc, stderr_path)

    async def _read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                await self.lines.put(None)
                return
            line = line.decode(errors="replace").rstrip("\n")
            if line.startswith(LINE_PREFIX):
                msg = json.loads(line[len(LINE_PREFIX):])
                self.seen.append(msg)
                await self.lines.put(msg)

    async def expect(self, kind, timeout):
        """The next line of `kind` (an "error" line or the process's end fails)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = await asyncio.wait_for(self.lines.get(),
                                             max(0.01, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                raise AssertionError("%s: no %r line within %d s; stderr:\n%s"
                                     % (self.name, kind, timeout, self.stderr_tail())) from None
            if msg is None or msg["kind"] == "error":
                raise AssertionError("%s: %s; stderr:\n%s"
                                     % (self.name, msg or "exited", self.stderr_tail()))
            if msg["kind"] == kind:
                return msg

    def send(self, obj):
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())

    def stderr_tail(self, n=3000):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    async def stop(self):
        """Says bye (the process closes its peer connection and exits), then kills by PID."""
        if self.proc.returncode is None:
            try:
                self.send({"bye": True})
                self.proc.stdin.close()
            except (BrokenPipeError, ConnectionResetError, RuntimeError):
                pass
            try:
                await asyncio.wait_for(self.proc.wait(), 8)
            except asyncio.TimeoutError:
                self.proc.kill()
                await asyncio.wait_for(self.proc.wait(), 5)
        self.reader.cancel()
        return self.proc.returncode


def relay_metrics(samples):
    from podium_harness import metric
    out = {}
    for name, labels in (("podium_relay_allocations_created_total", "transport"),
                         ("podium_relay_allocations_active", "transport"),
                         ("podium_relay_bytes_total", "direction"),
                         ("podium_relay_packets_total", "direction"),
                         ("podium_relay_peer_refusals_total", "reason"),
                         ("podium_relay_dropped_packets_total", "reason"),
                         ("podium_relay_auth_failures_total", "reason")):
        values = {dict(l).get(labels, ""): v for (n, l), v in samples.items() if n == name and v}
        out[name] = values
    out["podium_relay_permissions_active"] = metric(samples, "podium_relay_permissions_active")
    out["podium_relay_channels_active"] = metric(samples, "podium_relay_channels_active")
    out["podium_relay_binding_requests_total"] = metric(samples,
                                                        "podium_relay_binding_requests_total")
    return out


async def run_pair(topology, tmpdir, name, ice_offer, ice_answer, window, podium=None,
                   expect_bytes=0):
    """Peer in site 1 (offer) and peer in site 2 (answer); returns both results and, when
    `podium` is given, the relay's metrics while they are still connected."""
    from podium_harness import scrape, wait_for
    a, b = topology.sites[1], topology.sites[2]
    offer = await Child.start(name + "-offer", a.client, "--peer",
                              {"role": "offer", "addr": a.client_ip, "ice": ice_offer,
                               "window": window}, tmpdir)
    answer = await Child.start(name + "-answer", b.client, "--peer",
                               {"role": "answer", "addr": b.client_ip, "ice": ice_answer,
                                "window": window}, tmpdir)
    out = {}
    try:
        sdp = await offer.expect("sdp", 30)
        answer.send(sdp)
        sdp = await answer.expect("sdp", 30)
        offer.send(sdp)
        out["offer"] = await offer.expect("result", window + 40)
        out["answer"] = await answer.expect("result", window + 40)
        if podium is not None:
            # Relay counters reach /metrics once a second.
            def flushed():
                s = relay_metrics(scrape(podium))
                by = s["podium_relay_bytes_total"]
                return s if min(by.get("client_to_peer", 0),
                                by.get("peer_to_client", 0)) >= expect_bytes else None
            out["metrics"] = wait_for(flushed, 5) or relay_metrics(scrape(podium))
    finally:
        out["exit"] = {"offer": await offer.stop(), "answer": await answer.stop()}
    return out


async def part_a(topology, podium, tmpdir, result):
    result["probe"] = {SITES[i]: dict(stun_probe(topology.sites[i]),
                                      public_ip=topology.sites[i].public_ip)
                       for i in (1, 2)}
    stun = {"urls": "stun:%s:%d" % (SERVER_IP, STUN_PORTS[0])}
    before = {i: topology.sites[i].counters() for i in (1, 2)}
    t = time.monotonic()
    result["negative"] = await run_pair(topology, tmpdir, "stun-only", [stun], [stun],
                                        NEGATIVE_WINDOW)
    result["negative"]["seconds"] = round(time.monotonic() - t, 2)
    after = {i: topology.sites[i].counters() for i in (1, 2)}
    result["negative"]["unsolicited_dropped"] = {
        SITES[i]: after[i].get("unsolicited_in", 0) - before[i].get("unsolicited_in", 0)
        for i in (1, 2)}

    def turn(user):
        return {"urls": "turn:%s:%d?transport=udp" % (SERVER_IP, STUN_PORTS[0]),
                "username": user, "credential": USERS[user]}
    t = time.monotonic()
    result["relayed"] = await run_pair(topology, tmpdir, "turn", [stun, turn("alice")],
                                       [stun, turn("bob")], CONNECT_WINDOW, podium,
                                       expect_bytes=MESSAGES * MESSAGE_SIZE)
    result["relayed"]["seconds"] = round(time.monotonic() - t, 2)


async def part_b(topology, podium, tmpdir, result):
    from podium_harness import scrape, wait_for
    base = podium.url("signaling").rstrip("/")
    cone, blocked = topology.sites[1], topology.sites[3]
    before = blocked.counters()
    # UDP from the guest's site really goes nowhere: STUN to the relay is not answered.
    result["probe_udp_drop"] = stun_probe(blocked, timeout=1.0)
    probed = blocked.counters()
    result["probe_udp_drop"]["udp_dropped"] = (probed.get("udp_dropped", 0)
                                               - before.get("udp_dropped", 0))
    guest = await Child.start("guest", blocked.client, "--guest",
                              {"addr": blocked.client_ip, "base": base,
                               "url": "%s/whep/%s" % (base, ROOM)}, tmpdir)
    presenter = await Child.start("presenter", cone.client, "--presenter",
                                  {"addr": cone.client_ip, "url": "%s/whip/%s" % (base, ROOM)},
                                  tmpdir)
    try:
        result["links"] = await guest.expect("links", 30)
        result["presenter_open"] = await presenter.expect("open", 30)
        result["guest"] = await guest.expect("result", CONNECT_WINDOW + 70)
        result["presenter"] = await presenter.expect("result", 45)

        def tcp_allocation():
            s = relay_metrics(scrape(podium))
            return s if s["podium_relay_allocations_active"].get("tcp") else None
        result["metrics"] = wait_for(tcp_allocation, 5) or relay_metrics(scrape(podium))
        result["ss_guest"] = blocked.client.run("ss", "-tn", "state", "established")
    finally:
        result["exit"] = {"guest": await guest.stop(), "presenter": await presenter.stop()}
    after = blocked.counters()
    # What the router counted from the guest's session on (after the probe).
    result["router_counters"] = {k: after.get(k, 0) - probed.get(k, 0) for k in after}


async def inner(part):
    from podium_harness import Podium
    result = {"part": part}
    t0 = time.monotonic()
    topology = Topology((1, 2) if part == "p2p" else (1, 3))
    result["topology_seconds"] = round(time.monotonic() - t0, 2)
    try:
        with tempfile.TemporaryDirectory(prefix="podium-nat-") as tmpdir, \
                Podium(CONFIG, expect=("relay", "signaling", "sfu", "metrics")) as podium:
            try:
                if part == "p2p":
                    await part_a(topology, podium, tmpdir, result)
                else:
                    await part_b(topology, podium, tmpdir, result)
            except BaseException:
                print("podium stderr:\n" + podium.stderr()[-6000:], file=sys.stderr, flush=True)
                for f in sorted(os.listdir(tmpdir)):
                    with open(os.path.join(tmpdir, f), errors="replace") as fh:
                        print("--- %s:\n%s" % (f, fh.read()[-3000:]), file=sys.stderr,
                              flush=True)
                raise
            code, _ = podium.stop()
            result["exit_code"] = code
    finally:
        topology.stop()
    result["inner_seconds"] = round(time.monotonic() - t0, 2)
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# ----------------------------------------------------------------------------------------------
# The tests (outside the namespaces).

def unavailable_reason():
    reason = netns.unavailable_reason()
    if reason:
        return reason
    for tool in ("nft", "nsenter", "ss"):
        if shutil.which(tool) is None and not os.path.exists("/usr/sbin/" + tool):
            return "%s is not installed" % tool
    return None


def has_relay(pair):
    return pair is not None and "relay" in (pair["local"]["type"], pair["remote"]["type"])


class NatTraversalTest(unittest.TestCase):
    def run_part(self, part):
        reason = unavailable_reason()
        if reason:
            self.skipTest(reason)
        result = netns.run_inner(self, [PYTHON, os.path.abspath(__file__), "--inner", part],
                                 RUN_TIMEOUT + 10, RESULT_PREFIX, tail=20000)
        print("\n" + json.dumps(result, indent=1, sort_keys=True)[:12000])
        self.assertEqual(result["exit_code"], 0)
        return result

    def test_two_nated_peers_only_through_relay(self):
        r = self.run_part("p2p")
        cone, sym = r["probe"]["cone"], r["probe"]["symmetric"]
        # The NATs are what they claim to be.
        for probe in (cone, sym):
            self.assertTrue(all(probe["mapped"]), "STUN probe unanswered: %s" % probe)
            self.assertEqual({m[0] for m in probe["mapped"]}, {probe["public_ip"]}, probe)
        self.assertEqual([m[1] for m in cone["mapped"]], [cone["local_port"]] * 2,
                         "cone NAT: one mapping that keeps the port expected: %s" % cone)
        self.assertNotEqual(sym["mapped"][0][1], sym["mapped"][1][1],
                            "symmetric NAT: a mapping per destination expected: %s" % sym)

        # 1. Negative control: STUN only, no connection, although both had srflx candidates and
        # their direct checks reached the other NAT (dropped there as unsolicited).
        neg = r["negative"]
        for side in ("offer", "answer"):
            self.assertIn("srflx", neg[side]["candidate_types"], neg[side])
            self.assertNotIn("relay", neg[side]["candidate_types"], neg[side])
            self.assertNotEqual(neg[side]["state"], "connected",
                                "the peers connected without TURN: the NATs do not block "
                                "direct traffic, the topology is wrong: %s" % neg)
            self.assertEqual(neg[side]["received"]["messages"], 0)
        for kind, dropped in neg["unsolicited_dropped"].items():
            self.assertGreater(dropped, 0, "no direct check reached the %s NAT: %s" % (kind, neg))

        # 2. Through the relay: connected, relay candidate in the selected pair, data both ways.
        rel = r["relayed"]
        for side in ("offer", "answer"):
            s = rel[side]
            self.assertEqual(s["state"], "connected", s)
            self.assertIn("relay", s["candidate_types"], s)
            self.assertTrue(has_relay(s["pair"]), "selected pair without relay: %s" % s["pair"])
            self.assertEqual(s["received"], {"messages": MESSAGES,
                                             "bytes": MESSAGES * MESSAGE_SIZE, "bad": 0}, s)
        self.assertLess(max(rel["offer"]["connect_seconds"], rel["answer"]["connect_seconds"]),
                        NEGATIVE_WINDOW / 2,
                        "TURN connection took too long for the negative window to mean much")

        # 3. The relay's counters.
        m = rel["metrics"]
        self.assertGreaterEqual(m["podium_relay_allocations_created_total"].get("udp", 0), 2, m)
        self.assertGreaterEqual(m["podium_relay_allocations_active"].get("udp", 0), 2, m)
        self.assertGreaterEqual(m["podium_relay_permissions_active"], 1, m)
        for direction in ("client_to_peer", "peer_to_client"):
            self.assertGreaterEqual(m["podium_relay_bytes_total"].get(direction, 0),
                                    MESSAGES * MESSAGE_SIZE, m)
        # The only peers refused are the other side's private host candidate (10.0.N.2: the
        # relay's default deny list), for which each aioice client asks for a permission.
        self.assertLessEqual(set(m["podium_relay_peer_refusals_total"]), {"private_network"}, m)
        self.assertEqual(set(m["podium_relay_auth_failures_total"]) - {"missing_credentials"},
                         set(), m)
        self.assertEqual(rel["exit"], {"offer": 0, "answer": 0})
        self.assertEqual(neg["exit"], {"offer": 0, "answer": 0})

    def test_guest_behind_udp_blocking_nat_uses_turn_tcp(self):
        r = self.run_part("sfu")
        self.assertIn("turn:%s:%d?transport=tcp" % (SERVER_IP, STUN_PORTS[0]),
                      r["links"]["servers"])
        self.assertEqual(r["links"]["discovery_delete"], 200)
        self.assertEqual(r["probe_udp_drop"]["mapped"], [None, None],
                         "STUN over UDP got through the UDP-dropping NAT")
        self.assertGreater(r["probe_udp_drop"]["udp_dropped"], 0, r["probe_udp_drop"])
        g = r["guest"]
        self.assertEqual(g["state"], "connected", g)
        self.assertEqual(g["candidate_types"], ["host", "relay"], g)
        for pair in (g["pair"], g["pair_end"]):
            self.assertEqual(pair["local"]["type"], "relay", pair)
            self.assertEqual(pair["turn"], "turn/tcp", pair)
            self.assertEqual(pair["remote"]["host"], SERVER_IP, pair)
        # Audio: the sine, and (TCP is lossless) nearly every 20 ms frame.
        self.assertAlmostEqual(g["dominant_hz"], 440.0, delta=5.0)
        self.assertGreaterEqual(g["frames"], 0.95 * g["expected_frames"], g)
        # Slides: both intact, and the last show names the last slide.
        sent = r["presenter"]["slides"]
        self.assertEqual(g["slides"]["done"], {sid: sent[sid]["sha256"] for sid in sent}, g)
        self.assertEqual(g["slides"]["shows"][-1:], [SLIDES[-1][0]], g)
        self.assertEqual(g["slides"]["other"], [], g)
        self.assertEqual(r["presenter"]["errors"], [])
        # The router dropped the guest's UDP (its host candidate's checks to the SFU) and
        # forwarded its TCP; the relay had a TCP allocation that
        # carried at least the slides to the guest.
        self.assertGreater(r["router_counters"]["udp_dropped"], 0, r["router_counters"])
        self.assertGreater(r["router_counters"]["tcp_forwarded"], 0, r["router_counters"])
        m = r["metrics"]
        self.assertGreaterEqual(m["podium_relay_allocations_created_total"].get("tcp", 0), 1, m)
        self.assertGreaterEqual(m["podium_relay_allocations_active"].get("tcp", 0), 1, m)
        self.assertGreaterEqual(m["podium_relay_bytes_total"].get("peer_to_client", 0),
                                sum(size for _, size in SLIDES), m)
        self.assertGreater(m["podium_relay_bytes_total"].get("client_to_peer", 0), 0, m)
        self.assertEqual(m["podium_relay_peer_refusals_total"], {}, m)
        self.assertIn("%s:%d" % (SERVER_IP, STUN_PORTS[0]), r["ss_guest"])
        self.assertEqual(r["exit"], {"guest": 0, "presenter": 0})


def child_main(mode, cfg):
    """Entry of a child process: bounded by CHILD_LIFETIME whatever happens."""
    die_with_parent()
    target = {"--peer": peer_main, "--presenter": presenter_main, "--guest": guest_main}[mode]
    return asyncio.run(asyncio.wait_for(target(cfg), CHILD_LIFETIME)) or 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] in ("--peer", "--presenter", "--guest"):
        sys.exit(child_main(sys.argv[1], json.loads(sys.argv[2])))
    elif "--inner" in sys.argv:
        asyncio.run(asyncio.wait_for(inner(sys.argv[sys.argv.index("--inner") + 1]),
                                     RUN_TIMEOUT))
    else:
        unittest.main()
