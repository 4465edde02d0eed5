"""relay.proxy_protocol: the relay's tcp:// and tls:// listeners behind a load balancer that puts a
PROXY protocol v2 header (HAProxy's "The PROXY protocol, Versions 1 & 2", section 2.2) in front
of each connection.

- Raw TCP and TLS clients send a v2 header claiming another source address, then STUN: the
  XOR-MAPPED-ADDRESS is the claimed address (IPv4 and IPv6), and LOCAL keeps the socket's.
- coturn's turnutils_uclient -t goes through a small Python TCP proxy started here that
  prepends a v2 header with the client's real address, as a load balancer would: allocations
  relay to a turnutils_peer, and GET /admin/allocations lists as `client` the addresses the
  proxy put in its headers (never the proxy's own outgoing addresses).
- No header, garbage, a v1 (text) header, a TLS ClientHello without header, and a header
  claiming the 5-tuple of a live connection are refused and counted under
  podium_relay_connections_closed_total{reason="proxy_protocol_error"}.
- A reload (SIGHUP) that turns the option off keeps it on (restart-only) and says so.
- Without relay.proxy_protocol (the default) the same header is bad framing (framing_error).

Everything binds 127.0.0.1 (peers 127.0.0.2) with port 0; the proxy runs in threads of this
process and is closed by the test.
"""
import json
import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from podium_harness import (PEER_HOST, EchoPeer, http_get, make_certificate,  # noqa: E402
                            metric, stop_process, wait_for)
from test_relay_interop import (BINDING, REALM, SUCCESS, TOOL_TIMEOUT,  # noqa: E402
                                XOR_MAPPED_ADDRESS, Message, MetricsMixin, RawClient,
                                start_podium, uclient_totals)

ADMIN_TOKEN = "proxy-protocol-admin-token"
SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
CLOSED = "podium_relay_connections_closed_total"


def config(cert, key, proxy_protocol, relay_ports):
    # One worker: the duplicate 5-tuple check is per worker (SO_REUSEPORT spreads connections).
    return """log:
  level: debug
metrics:
  listen: 127.0.0.1:0
  admin_token: %s
relay:
  listen: [tcp://127.0.0.1:0, tls://127.0.0.1:0]
  realm: %s
  relay_ports: "%s"
  users: {test: test}
  allow_peers: [127.0.0.0/8]
  unauthenticated_rate: 0
  workers: 1
%s  tls:
    cert: %s
    key: %s
""" % (ADMIN_TOKEN, REALM, relay_ports,
       "  proxy_protocol: true\n" if proxy_protocol else "", cert, key)


def proxy_header(source, destination, command=1):
    """A PROXY protocol v2 header: PROXY (command 1) or LOCAL (0), TCP over IPv4 or IPv6 by the
    family of `source` (host, port); `destination` likewise."""
    if command == 0:
        return SIGNATURE + bytes([0x20, 0x00]) + struct.pack("!H", 0)
    family = socket.AF_INET6 if ":" in source[0] else socket.AF_INET
    block = (socket.inet_pton(family, source[0]) + socket.inet_pton(family, destination[0])
             + struct.pack("!HH", source[1], destination[1]))
    # A TLV (PP2_TYPE_AUTHORITY) and a NOOP the relay must skip.
    block += b"\x02\x00\x0bexample.org" + b"\x04\x00\x00"
    return SIGNATURE + bytes([0x21, 0x21 if family == socket.AF_INET6 else 0x11]) + \
        struct.pack("!H", len(block)) + block


def decode_xor_mapped(message):
    """XOR-MAPPED-ADDRESS as (host, port), IPv4 or IPv6 (RFC 8489 section 14.2)."""
    value = message.get(XOR_MAPPED_ADDRESS)
    family, xport = struct.unpack("!xBH", value[:4])
    port = xport ^ 0x2112
    mask = struct.pack("!I", 0x2112A442) + message.tid
    raw = bytes(a ^ b for a, b in zip(value[4:], mask))
    if family == 1:
        return socket.inet_ntop(socket.AF_INET, raw[:4]), port
    return socket.inet_ntop(socket.AF_INET6, raw[:16]), port


def closed_by_relay(sock, timeout=5.0):
    """True when the relay closes (or resets) the connection within `timeout` without
    answering anything."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(4096)
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return data == b""


class ProxyV2Forwarder:
    """A TCP load balancer in miniature: accepts on 127.0.0.1, connects to the relay, sends a
    PROXY v2 header with the client's real address (source) and the address it accepted on
    (destination), then copies bytes both ways. Records the addresses it announced and the local
    addresses of its own connections to the relay."""

    def __init__(self, relay):
        self.relay = relay
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.announced = set()  # "host:port" put in headers
        self.outgoing = set()   # "host:port" of the forwarder's own sockets to the relay
        self.sockets = []
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                client, address = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.relay, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            local = upstream.getsockname()
            with self.lock:
                self.announced.add("%s:%d" % address)
                self.outgoing.add("%s:%d" % local)
                self.sockets += [client, upstream]
            upstream.sendall(proxy_header(address, client.getsockname()))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.stopping = True
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        self.thread.join(5)
        with self.lock:
            for s in self.sockets:
                s.close()


class ProxyProtocolTest(MetricsMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="podium-proxy-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.cert, cls.key = make_certificate(cls.tmp.name)
        cls.podium = start_podium(cls, config(cls.cert, cls.key, True, "43400-43599"))
        cls.tcp = cls.podium.wait_host_port("relay", "tcp")
        cls.tls = cls.podium.wait_host_port("relay", "tls")

    def tearDown(self):
        self.assertIsNone(self.podium.proc.poll(),
                          "podium died:\n" + self.podium.stderr()[-3000:])

    def admin_allocations(self):
        status, body, _ = http_get(self.podium.url("metrics") + "/admin/allocations",
                                   headers={"Authorization": "Bearer " + ADMIN_TOKEN})
        self.assertEqual(status, 200, body)
        return json.loads(body)["allocations"]

    def binding_after(self, header, split=False):
        """A raw TCP connection: `header` (in two writes when `split`), then a Binding request;
        returns (XOR-MAPPED-ADDRESS, the client's own local address)."""
        with RawClient(self.tcp, "tcp") as client:
            if split:
                client.sock.sendall(header[:7])
                time.sleep(0.1)
                client.sock.sendall(header[7:20])
                time.sleep(0.1)
                client.sock.sendall(header[20:])
            else:
                client.sock.sendall(header)
            r = client.transact(BINDING, [])
            self.assertEqual((r.method, r.cls), (BINDING, SUCCESS), r)
            return decode_xor_mapped(r), client.local_address()

    # (a) raw TCP

    def test_tcp_binding_sees_the_address_from_the_header(self):
        before = self.snapshot()
        mapped, local = self.binding_after(proxy_header(("198.51.100.7", 40000), self.tcp))
        self.assertEqual(mapped, ("198.51.100.7", 40000))
        self.assertNotEqual(mapped, local)
        # Split across reads (signature, then the fixed part, then addresses and TLVs).
        mapped, _ = self.binding_after(proxy_header(("198.51.100.8", 40001), self.tcp),
                                       split=True)
        self.assertEqual(mapped, ("198.51.100.8", 40001))
        self.grew(before, "podium_relay_binding_requests_total", by=2, transport="tcp")
        self.unchanged(before, CLOSED, reason="proxy_protocol_error")

    def test_tcp_binding_with_an_ipv6_client_behind_the_balancer(self):
        mapped, _ = self.binding_after(proxy_header(("2001:db8::7", 40002), ("2001:db8::1", 3478)))
        self.assertEqual(mapped, ("2001:db8::7", 40002))

    def test_local_command_keeps_the_connections_address(self):
        mapped, local = self.binding_after(proxy_header(None, None, command=0))
        self.assertEqual(mapped, local)

    # (b) TLS: the header in clear, then the TLS handshake

    def test_tls_binding_sees_the_address_from_the_header(self):
        before = self.snapshot()
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection(self.tls, timeout=5)
        raw.sendall(proxy_header(("198.51.100.9", 40003), self.tls))
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.settimeout(5)
            tid = os.urandom(12)
            # Binding request: type 0x0001, no attributes.
            tls.sendall(struct.pack("!HHI", 0x0001, 0, 0x2112A442) + tid)
            data = b""
            while len(data) < 20 or len(data) < 20 + struct.unpack("!H", data[2:4])[0]:
                chunk = tls.recv(4096)
                self.assertTrue(chunk, "relay closed the TLS connection")
                data += chunk
        response = Message(data)
        self.assertEqual((response.method, response.cls, response.tid), (BINDING, SUCCESS, tid))
        self.assertEqual(decode_xor_mapped(response), ("198.51.100.9", 40003))
        self.grew(before, "podium_relay_binding_requests_total", transport="tls")
        self.unchanged(before, CLOSED, reason="tls_handshake_failed")

    # (c) coturn's client through a PROXY v2 forwarder

    def test_uclient_through_a_proxy_v2_forwarder(self):
        before = self.snapshot()
        forwarder = ProxyV2Forwarder(self.tcp)
        self.addCleanup(forwarder.close)
        with EchoPeer() as peer:
            cmd = ["turnutils_uclient", "-t", "-p", str(forwarder.port), "-u", "test", "-w",
                   "test", "-m", "2", "-n", "300", "-z", "5", "-e", PEER_HOST, "-r",
                   str(peer.port), "127.0.0.1"]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True)
            self.addCleanup(stop_process, proc)
            # While uclient runs: the admin API's view of the allocations.
            seen = set()
            deadline = time.monotonic() + TOOL_TIMEOUT
            while proc.poll() is None and time.monotonic() < deadline:
                for allocation in self.admin_allocations():
                    if allocation["transport"] == "tcp":
                        seen.add(allocation["client"])
                time.sleep(0.1)
            out, _ = proc.communicate(timeout=TOOL_TIMEOUT)
        self.assertEqual(proc.returncode, 0, out[-3000:])
        sent, received, lost = uclient_totals(out)
        self.assertGreater(sent, 0, out[-3000:])
        self.assertEqual(lost, 0, out[-3000:])
        self.assertEqual(received, sent, out[-3000:])
        self.grew(before, "podium_relay_allocations_created_total", by=2, transport="tcp")
        self.grew(before, "podium_relay_packets_total", by=sent, direction="client_to_peer")
        self.grew(before, "podium_relay_packets_total", by=sent, direction="peer_to_client")
        with forwarder.lock:
            announced, outgoing = set(forwarder.announced), set(forwarder.outgoing)
        # uclient's 2 clients (and its probe connection) came through the forwarder.
        self.assertGreaterEqual(len(announced), 2, announced)
        self.assertGreaterEqual(len(seen), 2, seen)
        self.assertTrue(seen <= announced, "admin clients %s, announced %s" % (seen, announced))
        self.assertFalse(seen & outgoing, "admin API shows the forwarder's own addresses")
        self.unchanged(before, CLOSED, reason="proxy_protocol_error")
        self.settles_at("podium_relay_allocations_active", 0, transport="tcp")

    # (d) refused

    def test_missing_garbage_and_v1_headers_are_refused(self):
        before = self.snapshot()
        attempts = {
            "no header (STUN first)": struct.pack("!HHI", 0x0001, 0, 0x2112A442) + os.urandom(12),
            "garbage": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "v1 header": b"PROXY TCP4 198.51.100.7 192.0.2.1 40000 3478\r\n",
            "version 3": SIGNATURE + bytes([0x31, 0x11, 0, 12]) + bytes(12),
            "oversize": SIGNATURE + bytes([0x21, 0x11, 0x10, 0x00]) + bytes(64),
        }
        for name, data in attempts.items():
            with socket.create_connection(self.tcp, timeout=5) as s:
                s.sendall(data)
                self.assertTrue(closed_by_relay(s), name)
        # tls:// without a header: the ClientHello is not a PROXY header.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(self.tls, timeout=5) as raw:
            with self.assertRaises((ssl.SSLError, OSError)):
                with context.wrap_socket(raw, server_hostname="localhost") as tls:
                    tls.sendall(b"x")
                    tls.recv(10)
        self.grew(before, CLOSED, by=len(attempts), transport="tcp",
                  reason="proxy_protocol_error")
        self.grew(before, CLOSED, by=1, transport="tls", reason="proxy_protocol_error")
        self.unchanged(before, CLOSED, reason="framing_error")
        self.unchanged(before, "podium_relay_binding_requests_total")

    def test_a_second_connection_with_the_same_five_tuple_is_refused(self):
        header = proxy_header(("198.51.100.20", 41000), self.tcp)
        with RawClient(self.tcp, "tcp") as first:
            first.sock.sendall(header)
            r = first.allocate("test", "test")
            self.assertEqual(r.cls, SUCCESS, r)
            before = self.snapshot()
            with socket.create_connection(self.tcp, timeout=5) as second:
                second.sendall(header)
                self.assertTrue(closed_by_relay(second))
            self.grew(before, CLOSED, transport="tcp", reason="proxy_protocol_error")
            # The first connection and its allocation are untouched.
            clients = [a["client"] for a in self.admin_allocations()]
            self.assertIn("198.51.100.20:41000", clients)
            r = first.transact(BINDING, [])
            self.assertEqual(decode_xor_mapped(r), ("198.51.100.20", 41000))
        self.settles_at("podium_relay_allocations_active", 0, transport="tcp")


    # Restart-only

    def test_reload_keeps_the_running_value(self):
        with open(self.podium.config_path) as f:
            original = f.read()
        def write(text):
            with open(self.podium.config_path, "w") as f:
                f.write(text)
        self.addCleanup(write, original)
        write(original.replace("  proxy_protocol: true\n", ""))
        self.podium.signal(signal.SIGHUP)
        warning = "reload: relay.proxy_protocol changed but needs a restart"
        self.assertTrue(wait_for(lambda: warning in self.podium.stderr(), timeout=5),
                        self.podium.stderr()[-2000:])
        mapped, _ = self.binding_after(proxy_header(("198.51.100.30", 40030), self.tcp))
        self.assertEqual(mapped, ("198.51.100.30", 40030))


class WithoutProxyProtocolTest(MetricsMixin, unittest.TestCase):
    """(e) The default: a PROXY header is not STUN, so it is bad framing."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="podium-noproxy-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.cert, cls.key = make_certificate(cls.tmp.name)
        cls.podium = start_podium(cls, config(cls.cert, cls.key, False, "43600-43699"))
        cls.tcp = cls.podium.wait_host_port("relay", "tcp")

    def test_header_is_framing_error_without_the_option(self):
        before = self.snapshot()
        with socket.create_connection(self.tcp, timeout=5) as s:
            s.sendall(proxy_header(("198.51.100.7", 40000), self.tcp)
                      + struct.pack("!HHI", 0x0001, 0, 0x2112A442) + os.urandom(12))
            self.assertTrue(closed_by_relay(s))
        self.grew(before, CLOSED, transport="tcp", reason="framing_error")
        self.unchanged(before, CLOSED, reason="proxy_protocol_error")
        # A plain client is served as before.
        with RawClient(self.tcp, "tcp") as client:
            r = client.transact(BINDING, [])
            self.assertEqual(decode_xor_mapped(r), client.local_address())
        self.assertEqual(metric(self.snapshot(), CLOSED, reason="proxy_protocol_error"), 0)


if __name__ == "__main__":
    unittest.main()
