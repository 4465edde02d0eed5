"""TURN over DTLS (RFC 8656 section 3.1, RFC 7350): the relay's dtls:// listener against coturn's
turnutils_uclient -S (UDP + -S is DTLS), against `openssl s_client -dtls1_2` carrying a raw STUN
client written here, and against hand-made datagrams: garbage, ClientHellos without a cookie
(answered statelessly with a HelloVerifyRequest, RFC 6347 section 4.2.1), and more verified
handshakes than a worker admits (relay.workers 1: the per-worker limit is exact).

A self-signed P-256 certificate is generated with openssl into a temporary directory.
"""
import json
import os
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from podium_harness import make_certificate, metric, stop_process, wait_for  # noqa: E402
from test_admin_api import admin  # noqa: E402
from test_relay_interop import (BINDING, PEER_HOST, REALM, SUCCESS,  # noqa: E402
                                XOR_MAPPED_ADDRESS, XOR_RELAYED_ADDRESS, EchoPeer, MetricsMixin,
                                RawClient, start_podium, uclient, uclient_totals)

# The relay's limits (relay/src/net/dtls_listener.hpp), per worker and dtls:// listener.
MAX_HANDSHAKING = 256
HANDSHAKE_TIMEOUT = 10
ADMIN_TOKEN = "dtls-admin-token"


def dtls_config(cert, key, workers):
    return """log:
  level: debug
metrics:
  listen: 127.0.0.1:0
  admin_token: %s
relay:
  listen: [dtls://127.0.0.1:0]
  realm: %s
  relay_ports: "43400-43599"
  users: {test: test}
  allow_peers: [127.0.0.0/8]
  unauthenticated_rate: 0
  workers: %d
  tls:
    cert: %s
    key: %s
""" % (ADMIN_TOKEN, REALM, workers, cert, key)


def client_hello(cookie=b"", message_seq=0, record_seq=0):
    """A DTLS 1.2 ClientHello (RFC 6347 section 4.2.1, RFC 5246 section 7.4.1.2) in one record:
    ECDHE-ECDSA/RSA AES-GCM suites, P-256, and the signature algorithms a P-256 key needs."""
    extensions = b"".join(struct.pack("!HH", t, len(v)) + v for t, v in [
        (0x000a, struct.pack("!HH", 2, 0x0017)),                      # supported_groups: P-256
        (0x000b, bytes([1, 0])),                                      # ec_point_formats
        (0x000d, struct.pack("!HHHH", 6, 0x0403, 0x0804, 0x0401)),    # signature_algorithms
    ])
    suites = struct.pack("!HHH", 0xc02b, 0xc02f, 0xc02c)
    body = (struct.pack("!H", 0xfefd) + os.urandom(32) + b"\x00"
            + bytes([len(cookie)]) + cookie
            + struct.pack("!H", len(suites)) + suites + b"\x01\x00"
            + struct.pack("!H", len(extensions)) + extensions)
    handshake = (bytes([1]) + struct.pack("!I", len(body))[1:] + struct.pack("!H", message_seq)
                 + b"\x00\x00\x00" + struct.pack("!I", len(body))[1:] + body)
    return (bytes([22]) + struct.pack("!H", 0xfeff) + b"\x00\x00"
            + struct.pack("!Q", record_seq)[2:] + struct.pack("!H", len(handshake)) + handshake)


def hello_verify_cookie(datagram):
    """The cookie of a HelloVerifyRequest (handshake type 3), or None."""
    if len(datagram) < 13 + 12 + 3 or datagram[0] != 22 or datagram[13] != 3:
        return None
    length = datagram[27]
    return datagram[28:28 + length]


class PipeSocket:
    """The socket interface RawClient needs, over `openssl s_client`'s stdin and stdout: each
    write to stdin becomes one DTLS record; decrypted records appear on stdout."""

    def __init__(self, proc, timeout):
        self.proc = proc
        self.timeout = timeout

    def gettimeout(self):
        return self.timeout

    def settimeout(self, timeout):
        self.timeout = timeout

    def sendall(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def recv(self, n):
        ready, _, _ = select.select([self.proc.stdout], [], [], self.timeout)
        if not ready:
            raise socket.timeout("no record from the relay")
        return os.read(self.proc.stdout.fileno(), n)

    def close(self):
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()  # EOF: s_client sends close_notify and exits


class DtlsRawClient(RawClient):
    """RawClient over DTLS 1.2 through `openssl s_client` (one 5-tuple, one DTLS session)."""

    def __init__(self, server, timeout=5.0):
        self.proc = subprocess.Popen(
            ["openssl", "s_client", "-dtls1_2", "-connect", "%s:%d" % server, "-quiet",
             "-no_ign_eof", "-nocommands"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.transport = "dtls"  # RawClient reads it as a stream: STUN framing on stdout
        self.sock = PipeSocket(self.proc, timeout)
        self.username = self.key = self.realm = self.nonce = None

    def close(self):
        self.sock.close()
        try:
            self.proc.wait(timeout=5)
        finally:
            stop_process(self.proc, 3)
            self.proc.stdout.close()


class DtlsCase(MetricsMixin, unittest.TestCase):
    WORKERS = 2

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="podium-dtls-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.cert, cls.key = make_certificate(cls.tmp.name)
        cls.podium = start_podium(cls, dtls_config(cls.cert, cls.key, cls.WORKERS))
        cls.dtls = cls.podium.wait_host_port("relay", "dtls")

    def tearDown(self):
        self.assertIsNone(self.podium.proc.poll(),
                          "podium died:\n" + self.podium.stderr()[-3000:])

    def relay_over_dtls(self, *args):
        """uclient -S: zero loss, every message relayed both ways, allocations over DTLS.

        coturn 4.6.1's uclient picks DTLS 1.0 or 1.2 at random for each connection attempt and
        retries on failure; the relay speaks DTLS 1.2 only (RFC 8996), so some attempts fail
        (handshakes{result="failed"}) before each client connects with DTLS 1.2."""
        before = self.snapshot()
        code, out = uclient(self.dtls[1], "-S", "-u", "test", "-w", "test", *args)
        self.assertEqual(code, 0, out[-3000:])
        self.assertRegex(out, r"client session connected with cipher \S+, method=DTLSv1\.2")
        sent, received, lost = uclient_totals(out)
        self.assertGreater(sent, 0)
        self.assertEqual(lost, 0, out[-3000:])
        self.assertEqual(received, sent, out[-3000:])
        self.grew(before, "podium_relay_allocations_created_total", transport="dtls")
        self.unchanged(before, "podium_relay_allocations_created_total", transport="udp")
        self.grew(before, "podium_relay_dtls_handshakes_total", result="ok")
        self.grew(before, "podium_relay_dtls_hello_verify_requests_total")
        self.grew(before, "podium_relay_packets_total", by=sent, direction="client_to_peer")
        self.grew(before, "podium_relay_packets_total", by=sent, direction="peer_to_client")
        self.unchanged(before, "podium_relay_dropped_packets_total")
        return out


class UclientDtlsTest(DtlsCase):
    PACE = ("-m", 2, "-n", 100, "-z", 10)

    def test_uclient_dtls_channels_between_clients(self):
        self.relay_over_dtls(*self.PACE, "-y")

    def test_uclient_dtls_send_between_clients(self):
        self.relay_over_dtls(*self.PACE, "-s", "-y")

    def test_uclient_dtls_to_echo_peer(self):
        with EchoPeer() as peer:
            self.relay_over_dtls(*self.PACE, "-s", "-e", PEER_HOST, "-r", peer.port)

    def test_uclient_dtls_larger_messages(self):
        # 1200-byte payloads: records near the path MTU, ChannelData over DTLS.
        self.relay_over_dtls("-m", 1, "-n", 50, "-z", 10, "-l", 1200, "-y")

    def test_binding_allocate_and_close_notify(self):
        """STUN Binding and an authenticated Allocate through openssl s_client; ending the DTLS
        session (close_notify) deletes the allocation, as closing a TCP connection would."""
        before = self.snapshot()
        # uclient's probe allocations of other tests may still be there (UDP-like: nothing ends
        # them but their lifetime, since uclient leaves without a close_notify).
        active = metric(before, "podium_relay_allocations_active", transport="dtls")
        client = DtlsRawClient(self.dtls)
        try:
            r = client.transact(BINDING, [])
            self.assertEqual((r.method, r.cls), (BINDING, SUCCESS), r)
            host, port = r.xor_address(XOR_MAPPED_ADDRESS)
            self.assertEqual(host, "127.0.0.1")
            r = client.allocate("test", "test")
            self.assertEqual(r.cls, SUCCESS, r)
            self.assertIsNotNone(r.xor_address(XOR_RELAYED_ADDRESS))
            self.settles_at("podium_relay_allocations_active", active + 1, transport="dtls")
            self.grew(before, "podium_relay_binding_requests_total", transport="dtls")
            # The admin-free view of the 5-tuple: the allocation's client is s_client's port.
            self.assertIn("from 127.0.0.1:%d over dtls" % port, self.podium.stderr())
        finally:
            client.close()
        self.settles_at("podium_relay_allocations_active", active, transport="dtls")
        self.grew(before, "podium_relay_connections_closed_total", transport="dtls",
                  reason="peer_closed")

    def test_admin_terminate_ends_the_dtls_session(self):
        """DELETE /admin/users/test/allocations ends the allocation and its DTLS session: the
        client gets a close_notify (s_client exits by itself)."""
        base = self.podium.url("metrics")
        before = self.snapshot()
        client = DtlsRawClient(self.dtls)
        try:
            r = client.allocate("test", "test")
            self.assertEqual(r.cls, SUCCESS, r)
            status, body, _ = admin(base, "GET", "/admin/allocations", token=ADMIN_TOKEN)
            self.assertEqual(status, 200, body)
            mine = [a for a in json.loads(body)["allocations"] if a["transport"] == "dtls"]
            self.assertEqual(len(mine), 1, body)
            status, body, _ = admin(base, "DELETE", "/admin/users/test/allocations",
                                    token=ADMIN_TOKEN)
            self.assertEqual(status, 200, body)
            self.assertEqual(client.proc.wait(timeout=5), 0)
        finally:
            client.close()
        self.grew(before, "podium_relay_connections_closed_total", transport="dtls",
                  reason="terminated")
        self.settles_at("podium_relay_allocations_active", 0, transport="dtls")


class HostileDatagramsTest(DtlsCase):
    """One worker, so the per-worker limits are the relay's limits."""
    WORKERS = 1

    def socket(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(2)
        self.addCleanup(s.close)
        return s

    def test_1_garbage_and_cookieless_hellos_leave_no_state(self):
        before = self.snapshot()
        s = self.socket()
        for payload in (b"", b"\x00", os.urandom(40), b"\x16" + os.urandom(60),
                        struct.pack("!HHI", 1, 0, 0x2112A442) + os.urandom(12),
                        client_hello()[:30], b"\x17\xfe\xfd" + os.urandom(100)):
            s.sendto(payload, self.dtls)
        self.grew(before, "podium_relay_dtls_refused_datagrams_total", by=6,
                  reason="not_client_hello")
        # A ClientHello without a cookie: a HelloVerifyRequest, and no session.
        s.sendto(client_hello(), self.dtls)
        data, _ = s.recvfrom(2048)
        cookie = hello_verify_cookie(data)
        self.assertTrue(cookie, "no HelloVerifyRequest: %r" % data[:40])
        # A forged cookie is treated like none (RFC 6347 section 4.2.1): a new HelloVerifyRequest.
        s.sendto(client_hello(b"\x00" * len(cookie), 1, 1), self.dtls)
        data, _ = s.recvfrom(2048)
        self.assertTrue(hello_verify_cookie(data))
        # Many cookieless ClientHellos from one address and from many: answered, nothing kept.
        others = [self.socket() for _ in range(50)]
        for _ in range(20):
            s.sendto(client_hello(), self.dtls)
        for o in others:
            o.sendto(client_hello(), self.dtls)
        self.grew(before, "podium_relay_dtls_hello_verify_requests_total", by=2 + 20 + 50)
        self.unchanged(before, "podium_relay_dtls_sessions")
        self.unchanged(before, "podium_relay_dtls_handshakes_total")
        self.settles_at("podium_relay_dtls_sessions", 0)

    def test_2_verified_handshakes_are_bounded_and_time_out(self):
        """Clients that echo the cookie get a session; a worker keeps at most MAX_HANDSHAKING
        unfinished handshakes, refuses more, and drops them HANDSHAKE_TIMEOUT s later."""
        before = self.snapshot()
        extra = 20
        sockets = [self.socket() for _ in range(MAX_HANDSHAKING + extra)]
        for s in sockets:
            s.sendto(client_hello(), self.dtls)
        cookies = []
        for s in sockets:
            data, _ = s.recvfrom(2048)
            cookies.append(hello_verify_cookie(data))
        self.assertTrue(all(cookies))
        started = time.monotonic()
        for s, cookie in zip(sockets, cookies):
            s.sendto(client_hello(cookie, 1, 1), self.dtls)
        # The first MAX_HANDSHAKING get the server's first flight (ServerHello, handshake type 2).
        answered = 0
        for s in sockets[:MAX_HANDSHAKING]:
            data, _ = s.recvfrom(4096)
            answered += data[0] == 22 and data[13] == 2
        self.assertEqual(answered, MAX_HANDSHAKING)
        self.settles_at("podium_relay_dtls_sessions", MAX_HANDSHAKING)
        self.grew(before, "podium_relay_dtls_refused_datagrams_total", by=extra,
                  reason="session_limit")
        # Unfinished handshakes end after the timeout (retransmitted flights meanwhile).
        self.settles_at("podium_relay_dtls_sessions", 0, timeout=HANDSHAKE_TIMEOUT + 8)
        self.assertGreaterEqual(time.monotonic() - started, HANDSHAKE_TIMEOUT - 1)
        self.grew(before, "podium_relay_dtls_handshakes_total", by=MAX_HANDSHAKING,
                  result="timeout")
        self.grew(before, "podium_relay_connections_closed_total", by=MAX_HANDSHAKING,
                  transport="dtls", reason="idle_timeout")
        self.unchanged(before, "podium_relay_dtls_handshakes_total", result="ok")

    def test_3_still_serves_afterwards(self):
        out = self.relay_over_dtls("-m", 1, "-n", 50, "-z", 10, "-y")
        self.assertIn("Total lost packets 0", out)
        self.assertTrue(wait_for(lambda: self.podium.proc.poll() is None, timeout=1))


if __name__ == "__main__":
    unittest.main()
