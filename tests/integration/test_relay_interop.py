"""The TURN/STUN relay against coturn's real clients (turnutils_stunclient, turnutils_uclient,
turnutils_peer) and against a small raw STUN client written here from RFC 8489/8656 (independent
of Podium's own STUN code).

Every assertion on what a client saw is paired with one on Podium's /metrics. Relay counters are
flushed to /metrics once a second, so metric checks poll for a few seconds.

All servers bind 127.0.0.1 with port 0. Echo peers listen on 127.0.0.2 (the relay refuses its
own addresses outside its relay port range). Loads are paced (`-z 5`, a few hundred packets):
these tests share two cores with the rest of ctest.
"""
import base64
import hashlib
import hmac
import os
import re
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from podium_harness import (PEER_HOST, EchoPeer, Podium, metric, scrape,  # noqa: E402
                            wait_for)

REALM = "example.org"
SECRET = "interop-rest-secret"
TOOL_TIMEOUT = 60  # seconds for one turnutils run


def relay_config(relay_ports, extra="", allow_peers=True, listen=("udp", "tcp")):
    # unauthenticated_rate: 0 because every client here shares the source address 127.0.0.1,
    # and a dropped first Allocate over TCP is never retransmitted by uclient.
    return """
log:
  level: debug
metrics:
  listen: 127.0.0.1:0
relay:
  listen: [%s]
  realm: %s
  relay_ports: "%s"
  users: {test: test, other: other}
  auth_secrets: [%s]
  unauthenticated_rate: 0
%s%s""" % (", ".join("%s://127.0.0.1:0" % t for t in listen), REALM, relay_ports, SECRET,
           "  allow_peers: [127.0.0.0/8]\n" if allow_peers else "", extra)


# ------------------------------------------------------------------------------------------
# A minimal STUN/TURN encoder and decoder (RFC 8489, RFC 8656), independent of Podium's code.

MAGIC = 0x2112A442
BINDING, ALLOCATE, REFRESH, CREATE_PERMISSION, CHANNEL_BIND = 0x001, 0x003, 0x004, 0x008, 0x009
REQUEST, INDICATION, SUCCESS, ERROR = 0, 1, 2, 3

MAPPED_ADDRESS = 0x0001
USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
UNKNOWN_ATTRIBUTES = 0x000A
LIFETIME = 0x000D
XOR_PEER_ADDRESS = 0x0012
REALM_ATTR = 0x0014
NONCE = 0x0015
XOR_RELAYED_ADDRESS = 0x0016
REQUESTED_TRANSPORT = 0x0019
CHANNEL_NUMBER = 0x000C
XOR_MAPPED_ADDRESS = 0x0020
FINGERPRINT = 0x8028


def message_type(method, cls):
    # RFC 8489 section 5: M11..M7 C1 M6..M4 C0 M3..M0.
    return ((method & 0x00F) | ((method & 0x070) << 1) | ((method & 0xF80) << 2)
            | ((cls & 1) << 4) | ((cls & 2) << 7))


def split_type(mtype):
    method = (mtype & 0x000F) | ((mtype & 0x00E0) >> 1) | ((mtype & 0x3E00) >> 2)
    cls = ((mtype >> 4) & 1) | ((mtype >> 7) & 2)
    return method, cls


def encode_attribute(atype, value):
    return struct.pack("!HH", atype, len(value)) + value + b"\0" * (-len(value) % 4)


def encode(method, cls, tid, attributes, key=None):
    """A STUN message; with `key`, MESSAGE-INTEGRITY (HMAC-SHA1) last. No FINGERPRINT."""
    body = b"".join(encode_attribute(t, v) for t, v in attributes)
    mtype = message_type(method, cls)
    if key is not None:
        # The length field covers MESSAGE-INTEGRITY itself (24 bytes) when the HMAC is computed.
        header = struct.pack("!HHI", mtype, len(body) + 24, MAGIC) + tid
        mac = hmac.new(key, header + body, hashlib.sha1).digest()
        body += encode_attribute(MESSAGE_INTEGRITY, mac)
    return struct.pack("!HHI", mtype, len(body), MAGIC) + tid + body


class Message:
    def __init__(self, data):
        if len(data) < 20:
            raise ValueError("short STUN message")
        mtype, length, magic = struct.unpack("!HHI", data[:8])
        if magic != MAGIC or len(data) != 20 + length or mtype & 0xC000:
            raise ValueError("not a STUN message: %r" % data[:20])
        self.raw = data
        self.method, self.cls = split_type(mtype)
        self.tid = data[8:20]
        self.attributes = []  # (type, value, offset of the attribute header)
        offset = 20
        while offset + 4 <= len(data):
            atype, alen = struct.unpack("!HH", data[offset:offset + 4])
            self.attributes.append((atype, data[offset + 4:offset + 4 + alen], offset))
            offset += 4 + alen + (-alen % 4)

    def get(self, atype):
        for t, v, _ in self.attributes:
            if t == atype:
                return v
        return None

    def types(self):
        return [t for t, _, _ in self.attributes]

    @property
    def error_code(self):
        v = self.get(ERROR_CODE)
        return None if v is None else (v[2] & 7) * 100 + v[3]

    @property
    def reason(self):
        v = self.get(ERROR_CODE)
        return None if v is None else v[4:].decode("utf-8", "replace")

    def xor_address(self, atype):
        return decode_xor_address(self.get(atype), self.tid)

    def integrity_ok(self, key):
        """Checks MESSAGE-INTEGRITY with `key` (RFC 8489 section 14.5)."""
        for t, v, offset in self.attributes:
            if t == MESSAGE_INTEGRITY:
                header = self.raw[:2] + struct.pack("!H", offset + 24 - 20) + self.raw[4:20]
                mac = hmac.new(key, header + self.raw[20:offset], hashlib.sha1).digest()
                return hmac.compare_digest(mac, v)
        return False

    def __repr__(self):
        return "<STUN method=%#x class=%d error=%s attrs=%s>" % (
            self.method, self.cls, self.error_code, ["%#06x" % t for t in self.types()])


def encode_xor_address(host, port, tid=None):
    """An XOR-*-ADDRESS value (RFC 8489 section 14.2), IPv4 or IPv6 (which needs the
    transaction id)."""
    xport = port ^ (MAGIC >> 16)
    if ":" not in host:
        addr = struct.unpack("!I", socket.inet_aton(host))[0] ^ MAGIC
        return struct.pack("!BBHI", 0, 1, xport, addr)
    mask = struct.pack("!I", MAGIC) + tid
    raw = bytes(a ^ b for a, b in zip(socket.inet_pton(socket.AF_INET6, host), mask))
    return struct.pack("!BBH", 0, 2, xport) + raw


def decode_xor_address(value, tid):
    if value is None:
        return None
    family, xport = struct.unpack("!xBH", value[:4])
    port = xport ^ (MAGIC >> 16)
    if family == 1:
        addr = struct.unpack("!I", value[4:8])[0] ^ MAGIC
        return socket.inet_ntoa(struct.pack("!I", addr)), port
    mask = struct.pack("!I", MAGIC) + tid
    raw = bytes(a ^ b for a, b in zip(value[4:20], mask))
    return socket.inet_ntop(socket.AF_INET6, raw), port


def long_term_key(username, realm, password):
    return hashlib.md5(("%s:%s:%s" % (username, realm, password)).encode()).digest()


def rest_password(secret, username):
    return base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
                            ).decode()


class RawClient:
    """One 5-tuple to the relay (UDP or TCP) with long-term credential handling."""

    def __init__(self, server, transport="udp", timeout=3.0):
        self.transport = transport
        if transport == "udp":
            family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
            self.sock = socket.socket(family, socket.SOCK_DGRAM)
            self.sock.connect(server)
        else:
            self.sock = socket.create_connection(server, timeout=timeout)
        self.sock.settimeout(timeout)
        self.username = self.key = self.realm = self.nonce = None

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def local_address(self):
        return self.sock.getsockname()

    def _receive(self):
        if self.transport == "udp":
            return self.sock.recv(65536)
        header = self._read_exactly(20)
        length = struct.unpack("!H", header[2:4])[0]
        return header + self._read_exactly(length)

    def _read_exactly(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("relay closed the connection")
            data += chunk
        return data

    def send_channel_data(self, channel, payload):
        frame = struct.pack("!HH", channel, len(payload)) + payload
        if self.transport == "tcp":
            frame += b"\0" * (-len(frame) % 4)  # RFC 8656 section 12.5: padded over streams
        self.sock.sendall(frame)

    def receive_channel_data(self):
        """The next ChannelData message as (channel, payload); STUN messages are skipped."""
        while True:
            if self.transport == "udp":
                data = self.sock.recv(65536)
                if data[0] & 0xC0 == 0x40:
                    channel, length = struct.unpack("!HH", data[:4])
                    return channel, data[4:4 + length]
                continue
            head = self._read_exactly(4)
            if head[0] & 0xC0 == 0x40:
                channel, length = struct.unpack("!HH", head)
                body = self._read_exactly(length + (-length % 4))
                return channel, body[:length]
            # A STUN message: skip the rest of its header and its body.
            self._read_exactly(16 + struct.unpack("!H", head[2:4])[0])

    def transact(self, method, attributes, key=None, tid=None):
        """Sends a request and returns the response with the same transaction id. UDP requests
        are retransmitted (same transaction id) a few times, as RFC 8489 section 6.2.1 says."""
        tid = tid or os.urandom(12)
        data = encode(method, REQUEST, tid, attributes, key)
        attempts = 4 if self.transport == "udp" else 1
        for attempt in range(attempts):
            self.sock.sendall(data)
            deadline = time.monotonic() + self.sock.gettimeout()
            while time.monotonic() < deadline:
                try:
                    response = Message(self._receive())
                except socket.timeout:
                    break
                if response.tid == tid:
                    return response
        raise AssertionError("no response to method %#x after %d attempts" % (method, attempts))

    def credentials(self):
        return [(USERNAME, self.username.encode()), (REALM_ATTR, self.realm.encode()),
                (NONCE, self.nonce.encode())]

    def challenge(self, method=ALLOCATE, attributes=None):
        """An unauthenticated request: expects 401 with REALM and NONCE; remembers them."""
        r = self.transact(method, attributes or [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))])
        if r.cls != ERROR or r.error_code != 401:
            raise AssertionError("expected a 401 challenge, got %r" % r)
        self.realm = r.get(REALM_ATTR).decode()
        self.nonce = r.get(NONCE).decode()
        return r

    def login(self, username, password):
        self.username = username
        self.key = long_term_key(username, self.realm or REALM, password)

    def request(self, method, attributes=(), tid=None):
        """An authenticated request with the current USERNAME/REALM/NONCE and key."""
        return self.transact(method, list(attributes) + self.credentials(), key=self.key, tid=tid)

    def allocate(self, username, password, attributes=None, tid=None):
        """401 round trip, then the authenticated Allocate; returns the final response."""
        self.challenge()
        self.login(username, password)
        attributes = attributes or [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))]
        return self.request(ALLOCATE, attributes, tid=tid)


# ------------------------------------------------------------------------------------------
# coturn's tools

def uclient(server_port, *args, timeout=TOOL_TIMEOUT):
    """Runs turnutils_uclient against 127.0.0.1:server_port. Returns (exit code, output)."""
    cmd = ["turnutils_uclient", "-p", str(server_port)] + [str(a) for a in args] + ["127.0.0.1"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout


def uclient_totals(output):
    """(messages sent, messages received, packets lost) from uclient's final report."""
    sent = re.findall(r"start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)", output)
    lost = re.findall(r"Total lost packets (\d+) \(([0-9.]+)%\)", output)
    if not sent or not lost:
        raise AssertionError("no uclient report in:\n" + output[-3000:])
    return int(sent[-1][0]), int(sent[-1][1]), int(lost[-1][0])


class MetricsMixin:
    """Before/after comparisons of one Podium's /metrics."""

    def snapshot(self):
        return scrape(self.podium)

    def grew(self, before, name, by=1, timeout=8.0, **labels):
        """Waits until metric `name{labels}` is at least `by` above its value in `before`."""
        want = metric(before, name, **labels) + by
        now = wait_for(lambda: metric(self.snapshot(), name, **labels) >= want and True,
                       timeout=timeout)
        self.assertTrue(now, "%s%r did not grow by %s (was %s, now %s)" % (
            name, labels, by, metric(before, name, **labels),
            metric(self.snapshot(), name, **labels)))

    def settles_at(self, name, value, timeout=8.0, **labels):
        self.assertTrue(any(n == name for n, _ in self.snapshot()), "no metric " + name)
        ok = wait_for(lambda: metric(self.snapshot(), name, **labels) == value, timeout=timeout)
        self.assertTrue(ok, "%s%r is %s, expected %s" % (
            name, labels, metric(self.snapshot(), name, **labels), value))

    def unchanged(self, before, name, **labels):
        self.assertTrue(any(n == name for n, _ in before), "no metric " + name)
        self.assertEqual(metric(self.snapshot(), name, **labels), metric(before, name, **labels),
                         "%s%r changed" % (name, labels))


def start_podium(test_class, config):
    """Starts Podium for a test class; a class cleanup stops it (runs even when the rest of
    setUpClass fails) and fails the class if it did not exit cleanly."""
    podium = Podium(config, expect=("relay", "metrics"))

    def stop():
        try:
            code, _ = podium.stop()
            log = podium.stderr()
        finally:
            podium.__exit__(None, None, None)
        if code != 0:
            raise AssertionError("podium exited with %s:\n%s" % (code, log[-3000:]))
    test_class.addClassCleanup(stop)
    return podium


class PodiumClass(MetricsMixin, unittest.TestCase):
    """One Podium for the whole class (tests in a class run one after another)."""

    CONFIG = None

    @classmethod
    def setUpClass(cls):
        cls.podium = start_podium(cls, cls.CONFIG)
        cls.udp = cls.podium.wait_host_port("relay", "udp")
        cls.tcp = cls.podium.wait_host_port("relay", "tcp")

    def tearDown(self):
        # A crashed relay should fail the test that crashed it, with its log.
        self.assertIsNone(self.podium.proc.poll(),
                          "podium died:\n" + self.podium.stderr()[-3000:])


# ------------------------------------------------------------------------------------------

class StunBindingTest(PodiumClass):
    CONFIG = relay_config("42000-42099")

    def test_stunclient_udp_reflexive_address(self):
        before = self.snapshot()
        r = subprocess.run(["turnutils_stunclient", "-p", str(self.udp[1]), "127.0.0.1"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=15)
        self.assertEqual(r.returncode, 0, r.stdout)
        m = re.search(r"UDP reflexive addr: (\d+\.\d+\.\d+\.\d+):(\d+)", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        self.assertEqual(m.group(1), "127.0.0.1")
        self.assertGreater(int(m.group(2)), 0)
        self.grew(before, "podium_relay_binding_requests_total", transport="udp")
        self.grew(before, "podium_relay_responses_total", method="Binding", code="200")

    def test_raw_binding_over_tcp(self):
        before = self.snapshot()
        with RawClient(self.tcp, "tcp") as client:
            # Two requests on one connection: framing of consecutive messages works.
            for _ in range(2):
                r = client.transact(BINDING, [])
                self.assertEqual((r.method, r.cls), (BINDING, SUCCESS), r)
                self.assertEqual(r.xor_address(XOR_MAPPED_ADDRESS), client.local_address())
        self.grew(before, "podium_relay_binding_requests_total", by=2, transport="tcp")

    def test_raw_binding_over_udp(self):
        with RawClient(self.udp, "udp") as client:
            r = client.transact(BINDING, [])
            self.assertEqual((r.method, r.cls), (BINDING, SUCCESS), r)
            self.assertEqual(r.xor_address(XOR_MAPPED_ADDRESS), client.local_address())


class UclientRelayTest(PodiumClass):
    """turnutils_uclient relaying between its own clients (-y) and to an echo peer (-e)."""

    CONFIG = relay_config("42100-42499")

    def relay_ok(self, port, args, transport, expect_leftover):
        """Runs uclient; asserts zero loss, relayed packets in both directions, allocations
        created over `transport`, and that they are gone afterwards except `expect_leftover`."""
        before = self.snapshot()
        code, out = uclient(port, *args)
        self.assertEqual(code, 0, out[-3000:])
        sent, received, lost = uclient_totals(out)
        self.assertGreater(sent, 0, out[-3000:])
        self.assertEqual(lost, 0, out[-3000:])
        self.assertEqual(received, sent, out[-3000:])
        self.grew(before, "podium_relay_packets_total", by=sent, direction="client_to_peer")
        self.grew(before, "podium_relay_packets_total", by=sent, direction="peer_to_client")
        self.grew(before, "podium_relay_allocations_created_total", transport=transport)
        self.unchanged(before, "podium_relay_dropped_packets_total")
        # uclient deletes its allocations (Refresh LIFETIME 0) when done, except its first
        # "probe" allocation (coturn startuclient.c start_connection) which it abandons: over UDP
        # that one stays until its lifetime ends (see AllocationExpiryTest); over TCP/TLS it
        # goes with the connection.
        created = lambda s: metric(s, "podium_relay_allocations_created_total")  # noqa: E731
        deleted = lambda s: metric(s, "podium_relay_allocations_deleted_total")  # noqa: E731

        def settled():
            now = self.snapshot()
            active = metric(now, "podium_relay_allocations_active", transport=transport)
            return active == metric(before, "podium_relay_allocations_active",
                                    transport=transport) + expect_leftover
        self.assertTrue(wait_for(settled), "allocations_active{%s} did not settle: %s" % (
            transport, metric(self.snapshot(), "podium_relay_allocations_active",
                              transport=transport)))
        now = self.snapshot()
        if transport == "udp":
            self.assertEqual(deleted(now) - deleted(before),
                             created(now) - created(before) - expect_leftover)
        return sent

    LT = ["-u", "test", "-w", "test"]
    REST = ["-W", SECRET, "-u", "someuser"]
    PACE = ["-m", 2, "-n", 200, "-z", 5]  # 2 clients (pairs with -y), 200 messages each, 5 ms

    # Send indications (-s: CreatePermission, Send/Data indications).

    def test_udp_long_term_send_between_clients(self):
        self.relay_ok(self.udp[1], self.LT + ["-m", 4, "-n", 200, "-z", 5, "-s", "-y"], "udp",
                      expect_leftover=1)

    def test_udp_rest_send_to_echo_peer(self):
        before = self.snapshot()
        with EchoPeer() as peer:
            self.relay_ok(self.udp[1], self.REST + self.PACE + ["-s", "-e", PEER_HOST,
                                                                "-r", peer.port], "udp",
                          expect_leftover=1)
        self.unchanged(before, "podium_relay_auth_failures_total", reason="bad_integrity")

    def test_tcp_rest_send_between_clients(self):
        self.relay_ok(self.tcp[1], ["-t"] + self.REST + self.PACE + ["-s", "-y"], "tcp",
                      expect_leftover=0)

    def test_tcp_long_term_send_to_echo_peer(self):
        with EchoPeer() as peer:
            self.relay_ok(self.tcp[1], ["-t"] + self.LT + self.PACE + ["-s", "-e", PEER_HOST,
                                                                       "-r", peer.port], "tcp",
                          expect_leftover=0)

    # Channels (ChannelBind, ChannelData): uclient's default mode. uclient picks channel numbers
    # at random from 0x4000-0x7FFF (RFC 5766's range; RFC 8656 narrowed it to 0x4FFF).

    def test_udp_rest_channels_between_clients(self):
        self.relay_ok(self.udp[1], self.REST + self.PACE + ["-y"], "udp", expect_leftover=1)

    def test_udp_long_term_channels_to_echo_peer(self):
        with EchoPeer() as peer:
            self.relay_ok(self.udp[1], self.LT + self.PACE + ["-e", PEER_HOST, "-r", peer.port],
                          "udp", expect_leftover=1)

    def test_tcp_long_term_channels_between_clients(self):
        self.relay_ok(self.tcp[1], ["-t"] + self.LT + self.PACE + ["-y"], "tcp",
                      expect_leftover=0)

    def test_tcp_rest_channels_to_echo_peer(self):
        with EchoPeer() as peer:
            self.relay_ok(self.tcp[1], ["-t"] + self.REST + self.PACE + ["-e", PEER_HOST, "-r",
                                                                         peer.port], "tcp",
                          expect_leftover=0)

    # Wrong credentials.

    def test_wrong_password_is_refused(self):
        for transport, port, extra in (("udp", self.udp[1], []), ("tcp", self.tcp[1], ["-t"])):
            with self.subTest(transport=transport):
                before = self.snapshot()
                code, out = uclient(port, *extra, "-u", "test", "-w", "not-the-password", "-m", 1,
                                    "-n", 10, "-z", 5, "-y", timeout=30)
                self.assertIn("Cannot complete Allocation", out)
                self.assertNotEqual(code, 0, out[-3000:])
                self.grew(before, "podium_relay_auth_failures_total", reason="bad_integrity")
                self.unchanged(before, "podium_relay_allocations_created_total")
                self.unchanged(before, "podium_relay_responses_total", method="Allocate",
                               code="200")

    def test_wrong_rest_secret_is_refused(self):
        before = self.snapshot()
        code, out = uclient(self.udp[1], "-W", "not-the-secret", "-u", "someuser", "-m", 1, "-n",
                            10, "-z", 5, "-y", timeout=30)
        self.assertIn("Cannot complete Allocation", out)
        self.assertNotEqual(code, 0, out[-3000:])
        self.grew(before, "podium_relay_auth_failures_total", reason="bad_integrity")
        self.unchanged(before, "podium_relay_allocations_created_total")


class ChannelDataTest(PodiumClass):
    """ChannelBind and ChannelData (RFC 8656 sections 11-12) with the raw client and an echo
    peer, over UDP and TCP (where frames are padded to 4 bytes)."""

    CONFIG = relay_config("42740-42759")

    def test_channel_data_round_trip(self):
        with EchoPeer() as peer:
            for transport in ("udp", "tcp"):
                with self.subTest(transport=transport):
                    before = self.snapshot()
                    server = self.udp if transport == "udp" else self.tcp
                    with RawClient(server, transport) as client:
                        r = client.allocate("test", "test")
                        self.assertEqual(r.cls, SUCCESS, r)
                        # Not channel numbers: 400.
                        for bad in (0x3FFF, 0x8000):
                            r = client.request(CHANNEL_BIND, [
                                (CHANNEL_NUMBER, struct.pack("!HH", bad, 0)),
                                (XOR_PEER_ADDRESS, encode_xor_address(PEER_HOST, peer.port))])
                            self.assertEqual((r.cls, r.error_code), (ERROR, 400), r)
                        # RFC 8656's range and the top of RFC 5766's, to two peer ports (the
                        # second is a port nobody listens on: its channel just stays quiet).
                        for channel, port in ((0x4001, peer.port), (0x7FFF, peer.port + 1)):
                            r = client.request(CHANNEL_BIND, [
                                (CHANNEL_NUMBER, struct.pack("!HH", channel, 0)),
                                (XOR_PEER_ADDRESS, encode_xor_address(PEER_HOST, port))])
                            self.assertEqual((r.method, r.cls), (CHANNEL_BIND, SUCCESS), r)
                            self.assertTrue(r.integrity_ok(client.key))
                        self.settles_at("podium_relay_channels_active", 2)
                        # A bound channel to another peer, or a bound peer on another channel:
                        # 400 (section 11.2).
                        for channel, port in ((0x4001, peer.port + 2), (0x4002, peer.port)):
                            r = client.request(CHANNEL_BIND, [
                                (CHANNEL_NUMBER, struct.pack("!HH", channel, 0)),
                                (XOR_PEER_ADDRESS, encode_xor_address(PEER_HOST, port))])
                            self.assertEqual((r.cls, r.error_code), (ERROR, 400), r)
                        # Lengths 1..7 exercise the padding over TCP.
                        payloads = [os.urandom(n) for n in (1, 2, 3, 4, 5, 7, 100, 1200)]
                        for payload in payloads:
                            client.send_channel_data(0x4001, payload)
                            self.assertEqual(client.receive_channel_data(), (0x4001, payload))
                        r = client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
                        self.assertEqual(r.cls, SUCCESS, r)
                    n = len(payloads)
                    self.grew(before, "podium_relay_packets_total", by=n,
                              direction="client_to_peer")
                    self.grew(before, "podium_relay_packets_total", by=n,
                              direction="peer_to_client")
                    self.grew(before, "podium_relay_bytes_total",
                              by=sum(map(len, payloads)), direction="peer_to_client")
                    self.settles_at("podium_relay_channels_active", 0)
                    self.settles_at("podium_relay_allocations_active", 0)


class RawProtocolTest(PodiumClass):
    """Error paths of RFC 8489/8656 with the raw client."""

    CONFIG = relay_config("42500-42599")

    def assert_error(self, response, code, method=ALLOCATE, key=None):
        self.assertEqual((response.method, response.cls), (method, ERROR), response)
        self.assertEqual(response.error_code, code, response)
        if key is not None:
            self.assertTrue(response.integrity_ok(key), "bad MESSAGE-INTEGRITY on %r" % response)

    def test_allocate_with_valid_rest_credential_succeeds(self):
        # The control for the expired case: the same encoder with a future expiry works.
        with RawClient(self.udp) as client:
            username = "%d:raw-user" % (time.time() + 600)
            r = client.allocate(username, rest_password(SECRET, username))
            self.assertEqual((r.method, r.cls), (ALLOCATE, SUCCESS), r)
            self.assertTrue(r.integrity_ok(client.key))
            relayed = r.xor_address(XOR_RELAYED_ADDRESS)
            self.assertEqual(relayed[0], "127.0.0.1")
            self.assertTrue(42500 <= relayed[1] <= 42599, relayed)
            self.assertEqual(r.xor_address(XOR_MAPPED_ADDRESS), client.local_address())
            r = client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
            self.assertEqual((r.method, r.cls), (REFRESH, SUCCESS), r)

    def test_expired_rest_credential_gets_401(self):
        before = self.snapshot()
        with RawClient(self.udp) as client:
            username = "%d:raw-user" % (time.time() - 3600)
            r = client.allocate(username, rest_password(SECRET, username))
            self.assert_error(r, 401)
            # A 401 carries a fresh NONCE and the REALM so the client could retry.
            self.assertEqual(r.get(REALM_ATTR), REALM.encode())
            self.assertTrue(r.get(NONCE))
        self.grew(before, "podium_relay_auth_failures_total", reason="expired_credential")
        self.unchanged(before, "podium_relay_allocations_created_total")

    def test_made_up_nonce_gets_438(self):
        before = self.snapshot()
        with RawClient(self.udp) as client:
            client.realm, client.nonce = REALM, "obviously-not-a-podium-nonce"
            client.login("test", "test")
            r = client.request(ALLOCATE, [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))])
            self.assert_error(r, 438)
            fresh = r.get(NONCE)
            self.assertTrue(fresh)
            self.assertEqual(r.get(REALM_ATTR), REALM.encode())
            # The fresh nonce from the 438 works.
            client.nonce = fresh.decode()
            r = client.request(ALLOCATE, [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))])
            self.assertEqual(r.cls, SUCCESS, r)
            client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
        self.grew(before, "podium_relay_auth_failures_total", reason="invalid_nonce")
        self.grew(before, "podium_relay_responses_total", method="Allocate", code="438")

    def test_second_allocate_on_same_five_tuple_gets_437(self):
        before = self.snapshot()
        with RawClient(self.udp) as client:
            tid = os.urandom(12)
            r = client.allocate("test", "test", tid=tid)
            self.assertEqual(r.cls, SUCCESS, r)
            # A retransmission (same transaction id) gets the same success again...
            again = client.request(ALLOCATE, [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))],
                                   tid=tid)
            self.assertEqual(again.cls, SUCCESS, again)
            self.assertEqual(again.xor_address(XOR_RELAYED_ADDRESS),
                             r.xor_address(XOR_RELAYED_ADDRESS))
            # ... a new transaction is a 437 Allocation Mismatch.
            r = client.request(ALLOCATE, [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))])
            self.assert_error(r, 437, key=client.key)
            client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
        self.grew(before, "podium_relay_responses_total", method="Allocate", code="437")
        self.grew(before, "podium_relay_allocations_created_total", by=1, transport="udp")

    def test_refresh_lifetime_zero_deletes(self):
        for transport in ("udp", "tcp"):
            with self.subTest(transport=transport):
                before = self.snapshot()
                server = self.udp if transport == "udp" else self.tcp
                with RawClient(server, transport) as client:
                    r = client.allocate("test", "test")
                    self.assertEqual(r.cls, SUCCESS, r)
                    r = client.request(CREATE_PERMISSION,
                                       [(XOR_PEER_ADDRESS, encode_xor_address(PEER_HOST, 9))])
                    self.assertEqual((r.method, r.cls), (CREATE_PERMISSION, SUCCESS), r)
                    r = client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
                    self.assertEqual((r.method, r.cls), (REFRESH, SUCCESS), r)
                    self.assertEqual(struct.unpack("!I", r.get(LIFETIME))[0], 0)
                    self.assertTrue(r.integrity_ok(client.key))
                    r = client.request(CREATE_PERMISSION,
                                       [(XOR_PEER_ADDRESS, encode_xor_address(PEER_HOST, 9))])
                    self.assert_error(r, 437, method=CREATE_PERMISSION, key=client.key)
                    r = client.request(REFRESH, [(LIFETIME, struct.pack("!I", 600))])
                    self.assert_error(r, 437, method=REFRESH, key=client.key)
                self.grew(before, "podium_relay_allocations_deleted_total")
                self.grew(before, "podium_relay_responses_total", method="CreatePermission",
                          code="437")
                self.settles_at("podium_relay_allocations_active",
                                metric(before, "podium_relay_allocations_active",
                                       transport=transport), transport=transport)

    def test_requested_transport_unsupported_gets_442(self):
        before = self.snapshot()
        with RawClient(self.udp) as client:
            # 132 is SCTP: neither UDP nor TCP (RFC 8656 section 7.2 step 3, RFC 6062 5.1).
            r = client.allocate("test", "test", [(REQUESTED_TRANSPORT, bytes([132, 0, 0, 0]))])
            self.assert_error(r, 442, key=client.key)
            # TCP allocations (RFC 6062) need a TCP or TLS control connection: 400 over UDP
            # (as coturn answers; test_relay_tcp_allocations.py covers TCP allocations).
            r = client.request(ALLOCATE, [(REQUESTED_TRANSPORT, bytes([6, 0, 0, 0]))])
            self.assert_error(r, 400, key=client.key)
        self.grew(before, "podium_relay_responses_total", method="Allocate", code="442")
        self.unchanged(before, "podium_relay_allocations_created_total")

    def test_unknown_comprehension_required_attribute_gets_420(self):
        before = self.snapshot()
        with RawClient(self.udp) as client:
            attributes = [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0])), (0x0031, b"\0\0\0\0")]
            # Unauthenticated, and again with credentials: 420 either way, never an allocation.
            r = client.transact(ALLOCATE, attributes)
            self.assert_error(r, 420)
            unknown = r.get(UNKNOWN_ATTRIBUTES)
            self.assertIsNotNone(unknown, r)
            self.assertIn(0x0031, struct.unpack("!%dH" % (len(unknown) // 2), unknown))
            client.challenge()
            client.login("test", "test")
            r = client.request(ALLOCATE, attributes)
            self.assert_error(r, 420)
            self.assertIn(0x0031, struct.unpack("!%dH" % (len(r.get(UNKNOWN_ATTRIBUTES)) // 2),
                                                r.get(UNKNOWN_ATTRIBUTES)))
            # A comprehension-optional unknown attribute (>= 0x8000) is ignored.
            r = client.request(ALLOCATE, [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0])),
                                          (0x8031, b"\0\0\0\0")])
            self.assertEqual(r.cls, SUCCESS, r)
            client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
        self.grew(before, "podium_relay_responses_total", by=2, method="Allocate", code="420")
        self.grew(before, "podium_relay_allocations_created_total", by=1)


    def test_other_users_credentials_on_an_allocation_get_441(self):
        before = self.snapshot()
        with RawClient(self.udp) as client:
            self.assertEqual(client.allocate("test", "test").cls, SUCCESS)
            # Same 5-tuple, valid credentials of another user (RFC 8656 section 5): 441.
            client.login("other", "other")
            r = client.request(REFRESH, [(LIFETIME, struct.pack("!I", 600))])
            self.assert_error(r, 441, method=REFRESH, key=client.key)
            client.login("test", "test")
            client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
        self.grew(before, "podium_relay_auth_failures_total", reason="wrong_credentials")

    def test_ipv6_peer_on_an_ipv4_allocation_gets_443(self):
        with RawClient(self.udp) as client:
            self.assertEqual(client.allocate("test", "test").cls, SUCCESS)
            # XOR-PEER-ADDRESS family 2 (IPv6, RFC 8489 section 14.2) for 2001:db8::1.
            tid = os.urandom(12)
            raw = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
            mask = struct.pack("!I", MAGIC) + tid
            xored = bytes(a ^ b for a, b in zip(raw, mask))
            peer = struct.pack("!BBH", 0, 2, 5000 ^ (MAGIC >> 16)) + xored
            r = client.request(CREATE_PERMISSION, [(XOR_PEER_ADDRESS, peer)], tid=tid)
            self.assert_error(r, 443, method=CREATE_PERMISSION, key=client.key)
            client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])

    def test_unauthenticated_answer_is_small(self):
        # No amplification: the 401 carries ERROR-CODE (without a reason phrase), REALM and NONCE
        # and nothing else.
        with RawClient(self.udp) as client:
            request = encode(ALLOCATE, REQUEST, os.urandom(12),
                             [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))])
            r = client.challenge()
            self.assertEqual(sorted(r.types()), sorted([ERROR_CODE, REALM_ATTR, NONCE]))
            self.assertLess(len(r.raw), 4 * len(request))


class UnauthenticatedRateLimitTest(PodiumClass):
    """relay.unauthenticated_rate bounds the 401s one source address gets per second."""

    CONFIG = relay_config("42760-42779").replace("unauthenticated_rate: 0",
                                                 "unauthenticated_rate: 5")

    def test_flood_of_unauthenticated_allocates_is_cut(self):
        before = self.snapshot()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.connect(self.udp)
        sock.settimeout(0.5)
        try:
            for _ in range(100):
                sock.send(encode(ALLOCATE, REQUEST, os.urandom(12),
                                 [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))]))
            answers = 0
            try:
                while True:
                    sock.recv(2048)
                    answers += 1
            except socket.timeout:
                pass
        finally:
            sock.close()
        # A burst of about the rate passes; the rest is dropped and counted.
        self.assertGreaterEqual(answers, 1)
        self.assertLess(answers, 30)
        self.grew(before, "podium_relay_dropped_packets_total", by=50, reason="rate_limited")
        # An authenticated client from the same address is still served.
        time.sleep(1.5)
        with RawClient(self.udp) as client:
            r = client.allocate("test", "test")
            self.assertEqual(r.cls, SUCCESS, r)
            client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])


class StaleNonceTest(PodiumClass):
    CONFIG = relay_config("42600-42619", "  nonce_lifetime: 1s\n")

    def test_expired_nonce_gets_438_stale(self):
        before = self.snapshot()
        with RawClient(self.udp) as client:
            client.challenge()
            client.login("test", "test")
            time.sleep(2.2)  # nonce_lifetime 1s; expiry has a one-second resolution
            r = client.request(ALLOCATE, [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))])
            self.assertEqual((r.cls, r.error_code), (ERROR, 438), r)
            self.assertNotEqual(r.get(NONCE).decode(), client.nonce)
        self.grew(before, "podium_relay_auth_failures_total", reason="stale_nonce")
        self.unchanged(before, "podium_relay_allocations_created_total")


class AllocationExpiryTest(PodiumClass):
    """An abandoned UDP allocation (like uclient's probe allocation, which uclient never deletes)
    ends when its lifetime runs out, and allocations_active returns to 0."""

    CONFIG = relay_config("42620-42639", "  default_lifetime: 2s\n  max_lifetime: 2s\n")

    def test_abandoned_udp_allocations_expire(self):
        before = self.snapshot()
        for _ in range(2):
            with RawClient(self.udp) as client:
                # Asks for 777 s like uclient does; max_lifetime caps it at 2 s.
                r = client.allocate("test", "test", [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0])),
                                                     (LIFETIME, struct.pack("!I", 777))])
                self.assertEqual(r.cls, SUCCESS, r)
                self.assertEqual(struct.unpack("!I", r.get(LIFETIME))[0], 2)
            # The socket is closed without a Refresh: the allocation is abandoned.
        self.grew(before, "podium_relay_allocations_created_total", by=2, transport="udp")
        self.settles_at("podium_relay_allocations_active", 0, timeout=10, transport="udp")
        self.grew(before, "podium_relay_allocations_expired_total", by=2)
        self.unchanged(before, "podium_relay_allocations_deleted_total")


class PeerPolicyTest(PodiumClass):
    """Without relay.allow_peers the default policy refuses loopback, private, link-local..."""

    CONFIG = relay_config("42640-42699", allow_peers=False)

    def test_uclient_to_loopback_peer_is_refused(self):
        # The "peer" is a socket of ours, so we can check that nothing at all reaches it.
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer.bind((PEER_HOST, 0))
        peer.setblocking(False)
        port = peer.getsockname()[1]
        cases = [("udp", self.udp[1], [], "channel bind: error 403"),
                 ("udp", self.udp[1], ["-s"], "create permission error 403"),
                 ("tcp", self.tcp[1], ["-t"], "channel bind: error 403"),
                 ("tcp", self.tcp[1], ["-t", "-s"], "create permission error 403")]
        try:
            for transport, server_port, extra, refused in cases:
                with self.subTest(transport=transport, args=extra):
                    before = self.snapshot()
                    code, out = uclient(server_port, *extra, "-u", "test", "-w", "test", "-m", 1,
                                        "-n", 20, "-z", 5, "-e", PEER_HOST, "-r", port,
                                        timeout=30)
                    self.assertNotEqual(code, 0, out[-3000:])
                    self.assertIn(refused, out)
                    self.grew(before, "podium_relay_peer_refusals_total", reason="loopback")
                    self.grew(before, "podium_relay_responses_total", code="403")
                    self.unchanged(before, "podium_relay_packets_total")
            time.sleep(0.5)
            with self.assertRaises(BlockingIOError):
                peer.recvfrom(2048)
        finally:
            peer.close()

    def test_raw_permissions_to_internal_addresses_are_refused(self):
        before = self.snapshot()
        with RawClient(self.udp) as client:
            r = client.allocate("test", "test")
            self.assertEqual(r.cls, SUCCESS, r)
            for host, reason in (("169.254.169.254", "link_local"),
                                 ("10.1.2.3", "private_network"),
                                 ("127.0.0.2", "loopback")):
                with self.subTest(peer=host):
                    r = client.request(CREATE_PERMISSION,
                                       [(XOR_PEER_ADDRESS, encode_xor_address(host, 80))])
                    self.assertEqual((r.method, r.cls, r.error_code),
                                     (CREATE_PERMISSION, ERROR, 403), r)
                    self.assertTrue(r.integrity_ok(client.key))
                    self.grew(before, "podium_relay_peer_refusals_total", reason=reason)
            # ChannelBind to refused peers is refused too.
            for channel, host in ((0x4001, "169.254.169.254"), (0x4002, PEER_HOST)):
                r = client.request(CHANNEL_BIND, [(CHANNEL_NUMBER, struct.pack("!HH", channel, 0)),
                                                  (XOR_PEER_ADDRESS, encode_xor_address(host, 80))])
                self.assertEqual((r.method, r.cls, r.error_code), (CHANNEL_BIND, ERROR, 403), r)
            # A refused permission sends nothing: a Send indication to it is dropped.
            client.sock.send(encode(0x006, INDICATION, os.urandom(12), [
                (XOR_PEER_ADDRESS, encode_xor_address("10.1.2.3", 80)), (0x0013, b"hello")]))
            client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
        self.grew(before, "podium_relay_peer_refusals_total", by=2, reason="link_local")
        self.grew(before, "podium_relay_peer_refusals_total", by=2, reason="loopback")
        self.grew(before, "podium_relay_responses_total", by=2, method="ChannelBind", code="403")
        self.grew(before, "podium_relay_dropped_packets_total", reason="no_permission")
        self.unchanged(before, "podium_relay_packets_total", direction="client_to_peer")
        self.assertEqual(metric(self.snapshot(), "podium_relay_permissions_active"), 0)


class UserQuotaTest(PodiumClass):
    CONFIG = relay_config("42700-42719", "  user_quota: 1\n")

    def test_second_allocation_of_a_user_gets_486(self):
        before = self.snapshot()
        with RawClient(self.udp) as first, RawClient(self.udp) as second, \
                RawClient(self.tcp, "tcp") as third:
            r = first.allocate("test", "test")
            self.assertEqual(r.cls, SUCCESS, r)
            r = second.allocate("test", "test")
            self.assertEqual((r.cls, r.error_code), (ERROR, 486), r)
            self.assertTrue(r.integrity_ok(second.key))
            # The quota is per user: another user still gets one.
            r = third.allocate("other", "other")
            self.assertEqual(r.cls, SUCCESS, r)
            self.grew(before, "podium_relay_quota_refusals_total", quota="user")
            # Deleting the first frees the user's slot.
            first.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
            r = second.request(ALLOCATE, [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))])
            self.assertEqual(r.cls, SUCCESS, r)
            second.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
            third.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
        self.grew(before, "podium_relay_responses_total", method="Allocate", code="486")
        self.unchanged(before, "podium_relay_quota_refusals_total", quota="total")
        self.settles_at("podium_relay_allocations_active", 0)


class TotalQuotaTest(PodiumClass):
    CONFIG = relay_config("42720-42739", "  max_allocations: 1\n")

    def test_allocation_beyond_the_total_gets_508(self):
        before = self.snapshot()
        with RawClient(self.udp) as first, RawClient(self.udp) as second:
            r = first.allocate("test", "test")
            self.assertEqual(r.cls, SUCCESS, r)
            r = second.allocate("other", "other")
            self.assertEqual((r.cls, r.error_code), (ERROR, 508), r)
            self.assertTrue(r.integrity_ok(second.key))
            # uclient cannot allocate either.
            code, out = uclient(self.udp[1], "-u", "other", "-w", "other", "-m", 1, "-n", 5,
                                "-z", 5, "-y", timeout=30)
            self.assertIn("error 508", out)
            self.assertNotEqual(code, 0, out[-3000:])
            first.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
        self.grew(before, "podium_relay_quota_refusals_total", by=2, quota="total")
        self.grew(before, "podium_relay_responses_total", method="Allocate", code="508")
        self.grew(before, "podium_relay_allocations_created_total", by=1)
        self.settles_at("podium_relay_allocations_active", 0)


if __name__ == "__main__":
    unittest.main()
