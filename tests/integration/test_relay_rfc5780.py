"""RFC 5780 NAT behaviour discovery on the relay's UDP listener (relay.rfc5780).

With `relay.rfc5780: {alternate_ip: 127.0.0.2, alternate_port: a}` next to
`udp://127.0.0.1:p`, the relay answers Binding requests on all four of 127.0.0.{1,2} x {p, a},
adds OTHER-ADDRESS and RESPONSE-ORIGIN, and honours CHANGE-REQUEST by answering from the changed
address. Checked with a raw STUN client written here from RFC 8489 / RFC 5780 (looking at where
each answer really came from) and with coturn's turnutils_natdiscovery. Without the key, the
relay adds neither attribute and answers a CHANGE-REQUEST with 420 (Unknown Attribute) listing it,
as RFC 5780 section 7.2 expects from a server that cannot change its address.

(127.0.0.2 is on Linux's loopback without configuration.)
"""
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from podium_harness import Podium, free_port  # noqa: E402

MAGIC = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111
CHANGE_REQUEST = 0x0003
ERROR_CODE = 0x0009
UNKNOWN_ATTRIBUTES = 0x000A
XOR_MAPPED_ADDRESS = 0x0020
RESPONSE_ORIGIN = 0x802B
OTHER_ADDRESS = 0x802C
PRIMARY, ALTERNATE = "127.0.0.1", "127.0.0.2"


def config(port, extra=""):
    return """
metrics:
  listen: 127.0.0.1:0
relay:
  listen: [udp://%s:%d]
  relay_ip: 127.0.0.1
  users: {test: test}
%s""" % (PRIMARY, port, extra)


def binding(change_ip=False, change_port=False, with_change=False):
    tid = os.urandom(12)
    body = b""
    if with_change or change_ip or change_port:
        flags = (4 if change_ip else 0) | (2 if change_port else 0)
        body = struct.pack("!HHI", CHANGE_REQUEST, 4, flags)
    return tid, struct.pack("!HHI", BINDING_REQUEST, len(body), MAGIC) + tid + body


def parse(data):
    kind, length, magic = struct.unpack_from("!HHI", data)
    assert magic == MAGIC
    tid = data[8:20]
    attrs = {}
    offset = 20
    while offset + 4 <= 20 + length:
        atype, alen = struct.unpack_from("!HH", data, offset)
        attrs.setdefault(atype, data[offset + 4:offset + 4 + alen])
        offset += 4 + ((alen + 3) & ~3)
    return kind, tid, attrs


def address(value, xor=False):
    family, port = struct.unpack_from("!xBH", value)
    assert family == 1, family
    raw = value[4:8]
    if xor:
        port ^= MAGIC >> 16
        raw = bytes(b ^ m for b, m in zip(raw, struct.pack("!I", MAGIC)))
    return socket.inet_ntoa(raw), port


class Client:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(2)

    def ask(self, server, **kw):
        """Returns (source of the answer, message type, attributes); retries like RFC 8489."""
        tid, request = binding(**kw)
        for _ in range(3):
            self.sock.sendto(request, server)
            try:
                while True:
                    data, source = self.sock.recvfrom(2048)
                    kind, got, attrs = parse(data)
                    if got == tid:
                        return source, kind, attrs
            except socket.timeout:
                continue
        raise AssertionError("no answer from %s:%d to %r" % (server + (kw,)))

    def close(self):
        self.sock.close()


class Rfc5780On(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = free_port(PRIMARY)
        cls.alt_port = free_port(PRIMARY)
        while cls.alt_port == cls.port:
            cls.alt_port = free_port(PRIMARY)
        cls.podium = Podium(config(cls.port, "  rfc5780: {alternate_ip: %s, alternate_port: %d}\n"
                                   % (ALTERNATE, cls.alt_port)), expect=("metrics", "relay"))

    @classmethod
    def tearDownClass(cls):
        cls.podium.stop()

    def setUp(self):
        self.client = Client()
        self.addCleanup(self.client.close)

    def test_other_address_and_response_origin(self):
        p, a = self.port, self.alt_port
        local = self.client.sock.getsockname()
        for server, other in (((PRIMARY, p), (ALTERNATE, a)), ((ALTERNATE, a), (PRIMARY, p)),
                              ((PRIMARY, a), (ALTERNATE, p)), ((ALTERNATE, p), (PRIMARY, a))):
            with self.subTest(server=server):
                source, kind, attrs = self.client.ask(server)
                self.assertEqual(kind, BINDING_SUCCESS)
                self.assertEqual(source, server)
                self.assertEqual(address(attrs[XOR_MAPPED_ADDRESS], xor=True), local)
                self.assertEqual(address(attrs[RESPONSE_ORIGIN]), server)
                self.assertEqual(address(attrs[OTHER_ADDRESS]), other)

    def test_change_request(self):
        p, a = self.port, self.alt_port
        cases = [
            (dict(with_change=True), (PRIMARY, p)),
            (dict(change_port=True), (PRIMARY, a)),
            (dict(change_ip=True), (ALTERNATE, p)),
            (dict(change_ip=True, change_port=True), (ALTERNATE, a)),
        ]
        for flags, expected in cases:
            with self.subTest(flags=flags):
                source, kind, attrs = self.client.ask((PRIMARY, p), **flags)
                self.assertEqual(kind, BINDING_SUCCESS)
                self.assertEqual(source, expected)
                self.assertEqual(address(attrs[RESPONSE_ORIGIN]), expected)
                # OTHER-ADDRESS is relative to where the request arrived, not the answer.
                self.assertEqual(address(attrs[OTHER_ADDRESS]), (ALTERNATE, a))
        # From the alternate pair, "change both" leads back to the primary one.
        source, kind, attrs = self.client.ask((ALTERNATE, a), change_ip=True, change_port=True)
        self.assertEqual((kind, source), (BINDING_SUCCESS, (PRIMARY, p)))

    def test_turnutils_natdiscovery(self):
        tool = shutil.which("turnutils_natdiscovery")
        if tool is None:
            self.skipTest("turnutils_natdiscovery (package coturn) is not installed")
        result = subprocess.run([tool, "-m", "-f", "-p", str(self.port), PRIMARY],
                                capture_output=True, text=True, timeout=30)
        out = result.stdout + result.stderr
        self.assertEqual(result.returncode, 0, out)
        self.assertIn("NAT with Endpoint Independent Mapping!", out)
        self.assertIn("NAT with Endpoint Independent Filtering!", out)
        origins = set(re.findall(r"Response origin: : (\S+)", out))
        others = set(re.findall(r"Other addr: : (\S+)", out))
        p, a = self.port, self.alt_port
        # Mapping test II asks the alternate IP on the primary port; filtering test II asks
        # for "change IP and port" and got it from the alternate pair.
        self.assertLessEqual({"%s:%d" % (PRIMARY, p), "%s:%d" % (ALTERNATE, p),
                              "%s:%d" % (ALTERNATE, a)}, origins, out)
        self.assertIn("%s:%d" % (ALTERNATE, a), others, out)


class Rfc5780Off(unittest.TestCase):
    def test_without_alternate_address(self):
        port = free_port(PRIMARY)
        with Podium(config(port), expect=("metrics", "relay")):
            client = Client()
            self.addCleanup(client.close)
            source, kind, attrs = client.ask((PRIMARY, port))
            self.assertEqual((kind, source), (BINDING_SUCCESS, (PRIMARY, port)))
            self.assertIn(XOR_MAPPED_ADDRESS, attrs)
            self.assertNotIn(OTHER_ADDRESS, attrs)
            self.assertNotIn(RESPONSE_ORIGIN, attrs)
            for flags in (dict(with_change=True), dict(change_ip=True, change_port=True)):
                with self.subTest(flags=flags):
                    source, kind, attrs = client.ask((PRIMARY, port), **flags)
                    self.assertEqual((kind, source), (BINDING_ERROR, (PRIMARY, port)))
                    _, code_class, number = struct.unpack_from("!HBB", attrs[ERROR_CODE])
                    self.assertEqual(code_class * 100 + number, 420)
                    self.assertEqual(struct.unpack("!H", attrs[UNKNOWN_ATTRIBUTES][:2])[0],
                                     CHANGE_REQUEST)


if __name__ == "__main__":
    unittest.main()
