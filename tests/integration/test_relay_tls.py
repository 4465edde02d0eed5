"""The relay's tls:// listener with coturn's turnutils_uclient -S, and `podium check-config`
on a TLS section whose certificate file is missing.

A self-signed P-256 certificate is generated with openssl into a temporary directory.
"""
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from podium_harness import make_certificate, run  # noqa: E402
from test_relay_interop import (PEER_HOST, REALM, EchoPeer, MetricsMixin,  # noqa: E402
                                start_podium, uclient, uclient_totals)


def tls_config(cert, key):
    return """log:
  level: debug
metrics:
  listen: 127.0.0.1:0
relay:
  listen: [tls://127.0.0.1:0]
  realm: %s
  relay_ports: "43000-43199"
  users: {test: test}
  allow_peers: [127.0.0.0/8]
  unauthenticated_rate: 0
  tls:
    cert: %s
    key: %s
""" % (REALM, cert, key)


class TlsRelayTest(MetricsMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="podium-tls-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.cert, cls.key = make_certificate(cls.tmp.name)
        cls.podium = start_podium(cls, tls_config(cls.cert, cls.key))
        cls.tls = cls.podium.wait_host_port("relay", "tls")

    def tearDown(self):
        self.assertIsNone(self.podium.proc.poll(),
                          "podium died:\n" + self.podium.stderr()[-3000:])

    def relay_over_tls(self, *args):
        """uclient -S -t: zero loss, Podium relayed every message both ways, allocations over
        TLS, all gone afterwards.

        coturn 4.6.1's uclient reads TLS with one SSL_read per message (uclient.c recv_buffer):
        when the relay puts two messages in one TLS record (Podium queues what arrives while a
        write is in flight and writes it at once, as TLS over TCP allows), uclient counts one of
        them as lost. It loses more against coturn's own server (2-13% at -m 2 -z 5). Hence a
        slow pace, and one more run if uclient reports loss although Podium's counters show that
        it relayed every message."""
        for attempt in (1, 2):
            before = self.snapshot()
            code, out = uclient(self.tls[1], "-S", "-t", "-u", "test", "-w", "test", *args)
            self.assertEqual(code, 0, out[-3000:])
            self.assertRegex(out, r"client session connected with cipher \S+, method=TLSv1\.[23]")
            sent, received, lost = uclient_totals(out)
            self.assertGreater(sent, 0)
            self.grew(before, "podium_relay_allocations_created_total", transport="tls")
            self.unchanged(before, "podium_relay_allocations_created_total", transport="tcp")
            self.unchanged(before, "podium_relay_allocations_created_total", transport="udp")
            self.grew(before, "podium_relay_packets_total", by=sent, direction="client_to_peer")
            self.grew(before, "podium_relay_packets_total", by=sent, direction="peer_to_client")
            self.unchanged(before, "podium_relay_dropped_packets_total")
            # Every allocation, uclient's abandoned probe included, goes with its connection.
            self.settles_at("podium_relay_allocations_active", 0, transport="tls")
            if lost == 0:
                break
            sys.stderr.write("note: uclient -S lost %d of %d although podium relayed them all "
                             "(attempt %d)\n" % (lost, sent, attempt))
        self.assertEqual(lost, 0, out[-3000:])
        self.assertEqual(received, sent, out[-3000:])

    PACE = ("-m", 1, "-n", 100, "-z", 20)

    def test_uclient_tls_send_between_clients(self):
        self.relay_over_tls(*self.PACE, "-s", "-y")

    def test_uclient_tls_channels_between_clients(self):
        self.relay_over_tls(*self.PACE, "-y")

    def test_uclient_tls_send_to_echo_peer(self):
        with EchoPeer() as peer:
            self.relay_over_tls(*self.PACE, "-s", "-e", PEER_HOST, "-r", peer.port)

    def test_plain_tcp_to_the_tls_port_gets_no_stun_answer(self):
        # A STUN Binding request in clear text to the TLS port is not a TLS ClientHello: the
        # relay must not answer it as STUN (and must survive it).
        import socket
        import struct
        with socket.create_connection(self.tls, timeout=3) as s:
            s.sendall(struct.pack("!HHI", 0x0001, 0, 0x2112A442) + os.urandom(12))
            s.settimeout(3)
            try:
                data = s.recv(100)
            except (socket.timeout, ConnectionResetError):
                data = b""
            self.assertFalse(data[:2] == b"\x01\x01", "answered STUN in clear text: %r" % data)
        # Still serving TLS afterwards.
        self.relay_over_tls("-m", 1, "-n", 20, "-z", 20, "-s", "-y")


    def test_stun_binding_over_tls(self):
        # The relay is also a STUN server on its TLS listener (RFC 8489 section 6.2.3).
        import socket
        import ssl
        import struct
        before = self.snapshot()
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        tid = os.urandom(12)
        with socket.create_connection(self.tls, timeout=3) as raw:
            with context.wrap_socket(raw) as s:
                s.sendall(struct.pack("!HHI", 0x0001, 0, 0x2112A442) + tid)
                data = b""
                while len(data) < 20 or len(data) < 20 + struct.unpack("!H", data[2:4])[0]:
                    chunk = s.recv(512)
                    self.assertTrue(chunk, "connection closed")
                    data += chunk
                local = s.getsockname()
        self.assertEqual(data[:2], b"\x01\x01")  # Binding success response
        self.assertEqual(data[8:20], tid)
        # XOR-MAPPED-ADDRESS (0x0020) reflects our TLS socket's address.
        offset, mapped = 20, None
        while offset + 4 <= len(data):
            atype, length = struct.unpack("!HH", data[offset:offset + 4])
            if atype == 0x0020:
                value = data[offset + 4:offset + 4 + length]
                port = struct.unpack("!H", value[2:4])[0] ^ 0x2112
                ip = struct.unpack("!I", value[4:8])[0] ^ 0x2112A442
                mapped = (socket.inet_ntoa(struct.pack("!I", ip)), port)
            offset += 4 + length + (-length % 4)
        self.assertEqual(mapped, local)
        self.grew(before, "podium_relay_binding_requests_total", transport="tls")


class TlsConfigTest(unittest.TestCase):
    def test_missing_certificate_file_is_a_config_error(self):
        with tempfile.TemporaryDirectory(prefix="podium-tls-") as d:
            cert, key = make_certificate(d)
            missing = os.path.join(d, "missing-cert.pem")
            path = os.path.join(d, "podium.yaml")
            text = tls_config(missing, key)
            with open(path, "w") as f:
                f.write(text)
            # Where the value of relay.tls.cert is in the file (1-based line and column).
            lines = text.splitlines()
            line = next(i for i, l in enumerate(lines) if l.strip().startswith("cert:")) + 1
            column = lines[line - 1].index(missing) + 1

            r = run(["check-config", path])
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertEqual(r.stdout, "")
            self.assertEqual(
                r.stderr.strip(),
                "%s:%d:%d: relay.tls.cert: cannot read certificate file %s: "
                "No such file or directory" % (path, line, column, missing))

            # serve refuses the same file before binding anything.
            r = run(["serve", "--config", path])
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertRegex(r.stderr, r"^%s:%d:%d: relay\.tls\.cert: " % (
                re.escape(path), line, column))
            self.assertNotIn("listening", r.stdout)

            # With the certificate present, the same file is valid.
            with open(path, "w") as f:
                f.write(tls_config(cert, key))
            r = run(["check-config", path])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("OK", r.stdout)


if __name__ == "__main__":
    unittest.main()
