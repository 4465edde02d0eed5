"""RFC 6062 TCP allocations: coturn's turnutils_uclient in TCP-relay mode (-T: client pairs, one
Connects to the other's relayed address, the other gets a ConnectionAttempt, both ConnectionBind
a data connection) over tcp:// and tls://, the same run against coturn itself, and a raw client
(the STUN encoder of test_relay_interop.py) with a TCP echo peer written here: Connect and
ConnectionBind, a peer connecting in (ConnectionAttempt), and the refusals (400, 403, 446, 447).

Echo peers listen on 127.0.0.2; the relay allows 127.0.0.0/8 as peers.
"""
import os
import socket
import struct
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from podium_harness import (PEER_HOST, Background, free_port, make_certificate,  # noqa: E402
                            wait_for)
from test_relay_interop import (CHANNEL_BIND, CHANNEL_NUMBER,  # noqa: E402
                                CREATE_PERMISSION, ERROR, INDICATION, REFRESH,
                                REQUESTED_TRANSPORT, SUCCESS, XOR_PEER_ADDRESS,
                                XOR_RELAYED_ADDRESS, LIFETIME, MetricsMixin, Message, RawClient,
                                encode_xor_address, relay_config, start_podium, uclient,
                                uclient_totals)

CONNECT, CONNECTION_BIND, CONNECTION_ATTEMPT = 0x00A, 0x00B, 0x00C
CONNECTION_ID = 0x002A
TCP = bytes([6, 0, 0, 0])
UDP = bytes([17, 0, 0, 0])


class TcpEchoPeer:
    """A TCP echo server on 127.0.0.2 (a thread per connection); closed by stop()."""

    def __init__(self):
        self.listener = socket.create_server((PEER_HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.listener.settimeout(0.2)
        self.running = True
        self.accepted = 0
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            t = threading.Thread(target=self._echo, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    def _echo(self, conn):
        conn.settimeout(0.2)
        with conn:
            while self.running:
                try:
                    data = conn.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not data:
                    return
                conn.sendall(data)

    def stop(self):
        self.running = False
        self.listener.close()
        for t in self.threads:
            t.join(timeout=2)


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def closed_by_remote(sock, timeout=5.0):
    """True when the remote end closes (EOF or reset) within `timeout` s; data is discarded."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


def tcp_config(tls_section=""):
    return relay_config("44600-44699", extra=tls_section, listen=("udp", "tcp", "tls"))


class TcpAllocationTest(MetricsMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="podium-tcp-alloc-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cert, key = make_certificate(cls.tmp.name)
        cls.podium = start_podium(cls, tcp_config("  tls:\n    cert: %s\n    key: %s\n" % (
            cert, key)))
        cls.udp = cls.podium.wait_host_port("relay", "udp")
        cls.tcp = cls.podium.wait_host_port("relay", "tcp")
        cls.tls = cls.podium.wait_host_port("relay", "tls")
        cls.echo = TcpEchoPeer()
        cls.addClassCleanup(cls.echo.stop)

    def tearDown(self):
        self.assertIsNone(self.podium.proc.poll(),
                          "podium died:\n" + self.podium.stderr()[-3000:])

    # -- helpers ------------------------------------------------------------------------------

    def control(self):
        """A TCP control connection with a TCP allocation; returns (client, relayed address)."""
        ctl = RawClient(self.tcp, "tcp", timeout=5)
        self.addCleanup(ctl.close)
        r = ctl.allocate("test", "test", [(REQUESTED_TRANSPORT, TCP)])
        self.assertEqual(r.cls, SUCCESS, r)
        return ctl, r.xor_address(XOR_RELAYED_ADDRESS)

    def permit(self, ctl, host, port=1):
        r = ctl.request(CREATE_PERMISSION, [(XOR_PEER_ADDRESS, encode_xor_address(host, port))])
        self.assertEqual(r.cls, SUCCESS, r)

    def connection_bind(self, connection_id, expect=SUCCESS):
        data = RawClient(self.tcp, "tcp", timeout=5)
        self.addCleanup(data.close)
        attrs = [(CONNECTION_ID, struct.pack("!I", connection_id))]
        data.challenge(CONNECTION_BIND, attrs)
        data.login("test", "test")
        r = data.request(CONNECTION_BIND, attrs)
        self.assertEqual(r.cls, expect, r)
        return data, r

    def next_indication(self, ctl):
        while True:
            m = Message(ctl._receive())
            if m.cls == INDICATION:
                return m

    # -- coturn's uclient -T ------------------------------------------------------------------

    def run_uclient(self, port, *extra, clients=4, messages=50):
        code, out = uclient(port, "-T", "-u", "test", "-w", "test", "-m", clients, "-l", 170,
                            "-n", messages, "-z", 5, *extra)
        self.assertEqual(code, 0, out[-3000:])
        sent, received, lost = uclient_totals(out)
        self.assertEqual((sent, received, lost), (clients * messages, clients * messages, 0),
                         out[-3000:])

    def test_uclient_tcp_relay(self):
        before = self.snapshot()
        self.run_uclient(self.tcp[1])
        # Two pairs: each made one Connect and got one ConnectionAttempt; four data connections.
        self.grew(before, "podium_relay_tcp_connections_total", 2, direction="connect",
                  result="connected")
        self.grew(before, "podium_relay_tcp_connections_total", 2, direction="attempt",
                  result="offered")
        self.grew(before, "podium_relay_tcp_connection_binds_total", 4, result="bound")
        self.grew(before, "podium_relay_bytes_total", 4 * 50 * 170, direction="client_to_peer")
        self.grew(before, "podium_relay_bytes_total", 4 * 50 * 170, direction="peer_to_client")
        self.grew(before, "podium_relay_responses_total", 2, method="Connect", code="200")
        self.grew(before, "podium_relay_responses_total", 4, method="ConnectionBind", code="200")
        self.settles_at("podium_relay_tcp_peer_connections_active", 0)

    def test_uclient_tcp_relay_over_tls(self):
        before = self.snapshot()
        self.run_uclient(self.tls[1], "-S", clients=2)
        self.grew(before, "podium_relay_tcp_connection_binds_total", 2, result="bound")
        self.grew(before, "podium_relay_allocations_created_total", 2, transport="tls")

    def test_uclient_tcp_relay_against_coturn(self):
        """The same uclient -T run against coturn: what this test asks of Podium is what the
        reference server does."""
        tmp = self.tmp.name
        port = free_port(kind="tcp")
        server = Background([
            "turnserver", "-n", "--lt-cred-mech", "--user", "test:test", "--realm", "example.org",
            "-L", "127.0.0.1", "--relay-ip", "127.0.0.1", "-p", str(port), "--no-tls",
            "--no-dtls", "--no-cli", "--allow-loopback-peers", "--min-port", "44700",
            "--max-port", "44799", "--pidfile", os.path.join(tmp, "turn.pid"), "--userdb",
            os.path.join(tmp, "turndb"), "--log-file", os.path.join(tmp, "turn.log"),
            "--simple-log", "--no-stdout-log"])
        self.addCleanup(server.stop)

        def listening():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return True
            except OSError:
                return False
        self.assertTrue(wait_for(listening, timeout=10), "coturn did not start")
        self.run_uclient(port, clients=2)

    # -- raw client -----------------------------------------------------------------------------

    def test_connect_and_connection_bind_echo(self):
        before = self.snapshot()
        ctl, relayed = self.control()
        self.assertEqual(relayed[0], "127.0.0.1")
        self.permit(ctl, PEER_HOST)
        r = ctl.request(CONNECT, [(XOR_PEER_ADDRESS, encode_xor_address(PEER_HOST,
                                                                        self.echo.port))])
        self.assertEqual(r.cls, SUCCESS, r)
        self.assertTrue(r.integrity_ok(ctl.key))
        connection_id = struct.unpack("!I", r.get(CONNECTION_ID))[0]
        # A second Connect to the same peer transport address: 446.
        r = ctl.request(CONNECT, [(XOR_PEER_ADDRESS, encode_xor_address(PEER_HOST,
                                                                        self.echo.port))])
        self.assertEqual((r.cls, r.error_code), (ERROR, 446), r)

        data, r = self.connection_bind(connection_id)
        self.assertTrue(r.integrity_ok(data.key))
        # Raw bytes both ways, more than the relay buffers at once (backpressure, no loss).
        payload = os.urandom(3 * 1024 * 1024)
        sender = threading.Thread(target=data.sock.sendall, args=(payload,), daemon=True)
        sender.start()
        data.sock.settimeout(20)
        echoed = read_exactly(data.sock, len(payload))
        sender.join(timeout=10)
        self.assertEqual(echoed, payload)
        self.settles_at("podium_relay_tcp_peer_connections_active", 1)
        self.grew(before, "podium_relay_bytes_total", len(payload), direction="peer_to_client")
        # The same id cannot be bound twice.
        self.connection_bind(connection_id, expect=ERROR)

        # Refresh with LIFETIME 0 ends the allocation and with it the data connection.
        r = ctl.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
        self.assertEqual(r.cls, SUCCESS, r)
        self.assertTrue(closed_by_remote(data.sock), "data connection still open")
        self.settles_at("podium_relay_tcp_peer_connections_active", 0)

    def test_connection_attempt_from_peer(self):
        before = self.snapshot()
        ctl, relayed = self.control()
        self.permit(ctl, PEER_HOST)
        peer = socket.socket()
        self.addCleanup(peer.close)
        peer.bind((PEER_HOST, 0))
        peer.settimeout(5)
        peer.connect(relayed)
        attempt = self.next_indication(ctl)
        self.assertEqual(attempt.method, CONNECTION_ATTEMPT, attempt)
        self.assertEqual(attempt.xor_address(XOR_PEER_ADDRESS), peer.getsockname())
        connection_id = struct.unpack("!I", attempt.get(CONNECTION_ID))[0]
        # Bytes the peer sends before the ConnectionBind wait for it.
        peer.sendall(b"early bytes|")
        data, _ = self.connection_bind(connection_id)
        data.sock.settimeout(5)
        self.assertEqual(read_exactly(data.sock, 12), b"early bytes|")
        data.sock.sendall(b"to the peer")
        self.assertEqual(read_exactly(peer, 11), b"to the peer")
        self.grew(before, "podium_relay_tcp_connections_total", 1, direction="attempt",
                  result="offered")
        # The peer closing ends the client data connection too (section 5.5).
        peer.close()
        self.assertTrue(closed_by_remote(data.sock), "data connection still open")
        self.settles_at("podium_relay_tcp_peer_connections_active", 0)

    def test_connection_attempt_without_permission_is_refused(self):
        before = self.snapshot()
        ctl, relayed = self.control()
        self.permit(ctl, PEER_HOST)  # 127.0.0.2 only
        stranger = socket.socket()
        self.addCleanup(stranger.close)
        stranger.bind(("127.0.0.3", 0))
        stranger.settimeout(5)
        stranger.connect(relayed)
        self.assertTrue(closed_by_remote(stranger), "a peer without permission stayed connected")
        self.grew(before, "podium_relay_tcp_connections_total", 1, direction="attempt",
                  result="refused")
        # No ConnectionAttempt reached the client: nothing arrives on its control connection
        # (a ConnectionAttempt indication would, at once: the permitted case sees it in ms).
        ctl.sock.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            ctl._receive()
        ctl.sock.settimeout(5)
        r = ctl.request(REFRESH, [(LIFETIME, struct.pack("!I", 600))])
        self.assertEqual(r.cls, SUCCESS, r)

    def test_refusals(self):
        before = self.snapshot()
        # A TCP allocation over UDP: 400 (RFC 6062 section 5.1).
        with RawClient(self.udp, "udp") as udp:
            r = udp.allocate("test", "test", [(REQUESTED_TRANSPORT, TCP)])
            self.assertEqual((r.cls, r.error_code), (ERROR, 400), r)
        ctl, _ = self.control()
        peer = encode_xor_address(PEER_HOST, self.echo.port)
        # Connect without a permission: 403.
        r = ctl.request(CONNECT, [(XOR_PEER_ADDRESS, peer)])
        self.assertEqual((r.cls, r.error_code), (ERROR, 403), r)
        self.grew(before, "podium_relay_tcp_connections_total", 1, direction="connect",
                  result="refused")
        # Connect to a port nobody listens on: 447.
        self.permit(ctl, PEER_HOST)
        closed = free_port(PEER_HOST, kind="tcp")
        r = ctl.request(CONNECT, [(XOR_PEER_ADDRESS, encode_xor_address(PEER_HOST, closed))])
        self.assertEqual((r.cls, r.error_code), (ERROR, 447), r)
        self.grew(before, "podium_relay_tcp_connections_total", 1, direction="connect",
                  result="failed")
        # No channels on a TCP allocation: 400.
        r = ctl.request(CHANNEL_BIND, [(CHANNEL_NUMBER, struct.pack("!HH", 0x4000, 0)),
                                       (XOR_PEER_ADDRESS, peer)])
        self.assertEqual((r.cls, r.error_code), (ERROR, 400), r)
        # ConnectionBind with an id nobody issued: 400, and the relay carries on.
        self.connection_bind(0x00ABCDEF, expect=ERROR)
        self.grew(before, "podium_relay_tcp_connection_binds_total", 1, result="unknown_id")
        # Connect on a UDP allocation: 400.
        with RawClient(self.udp, "udp") as udp:
            r = udp.allocate("test", "test", [(REQUESTED_TRANSPORT, UDP)])
            self.assertEqual(r.cls, SUCCESS, r)
            self.assertEqual(udp.request(CREATE_PERMISSION, [(XOR_PEER_ADDRESS, peer)]).cls,
                             SUCCESS)
            r = udp.request(CONNECT, [(XOR_PEER_ADDRESS, peer)])
            self.assertEqual((r.cls, r.error_code), (ERROR, 400), r)
            udp.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])

    def test_control_connection_close_ends_data_connections(self):
        ctl, _ = self.control()
        self.permit(ctl, PEER_HOST)
        r = ctl.request(CONNECT, [(XOR_PEER_ADDRESS, encode_xor_address(PEER_HOST,
                                                                        self.echo.port))])
        self.assertEqual(r.cls, SUCCESS, r)
        data, _ = self.connection_bind(struct.unpack("!I", r.get(CONNECTION_ID))[0])
        data.sock.sendall(b"ping")
        data.sock.settimeout(5)
        self.assertEqual(read_exactly(data.sock, 4), b"ping")
        ctl.close()  # RFC 8656 section 5: the allocation ends with its connection
        self.assertTrue(closed_by_remote(data.sock), "data connection outlived its allocation")
        self.settles_at("podium_relay_tcp_peer_connections_active", 0)

    def test_pipe_ends_when_its_client_is_gone_and_the_peer_reads_nothing(self):
        # A peer that accepts and never reads: podium's write of the client's bytes to it never
        # finishes. The client then resets its data connection, which podium learns when it
        # passes the peer's next bytes on. The pipe must end within StreamConnection's flush
        # timeout (5 s), not wait for the stalled peer forever.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        listener.bind((PEER_HOST, 0))
        listener.listen(1)
        ctl, _ = self.control()
        self.permit(ctl, PEER_HOST)
        r = ctl.request(CONNECT, [(XOR_PEER_ADDRESS, encode_xor_address(
            PEER_HOST, listener.getsockname()[1]))])
        self.assertEqual(r.cls, SUCCESS, r)
        listener.settimeout(5)
        peer, _ = listener.accept()
        self.addCleanup(peer.close)
        data, _ = self.connection_bind(struct.unpack("!I", r.get(CONNECTION_ID))[0])
        self.settles_at("podium_relay_tcp_peer_connections_active", 1)

        # Send until nothing more goes for a second: the peer's buffer, podium's write to it
        # and the client connection's buffers are full.
        data.sock.setblocking(False)
        sent, stalled_since, deadline = 0, None, time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                sent += data.sock.send(b"\0" * 65536)
                stalled_since = None
            except BlockingIOError:
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 1.0:
                    break
                time.sleep(0.05)
        self.assertIsNotNone(stalled_since, "the client never stalled (%d bytes sent)" % sent)
        data.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        data.sock.close()  # a reset

        # The peer writes; podium's write to the reset client fails, and the peer connection
        # closes (the peer's send then fails) within the 5 s bound.
        start, gone = time.monotonic(), False
        while not gone and time.monotonic() - start < 12:
            try:
                peer.send(b"x")
                time.sleep(0.2)
            except OSError:
                gone = True
        took = time.monotonic() - start
        print("%d bytes stalled; the peer connection closed %.1f s after the client's reset"
              % (sent, took), flush=True)
        self.assertTrue(gone, "the pipe outlived its client by %.0f s" % took)
        self.assertLess(took, 9.0)
        self.settles_at("podium_relay_tcp_peer_connections_active", 0)


if __name__ == "__main__":
    unittest.main()
