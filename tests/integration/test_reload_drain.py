"""SIGHUP reload and graceful drain (issue 7, points 4 and 5) with live allocations and a live
room.

- Reload: while a turnutils_uclient run (UDP and TCP, channels to a turnutils_peer echo peer)
  and a podium-load room (presenter and guests, closed room) stream, the config file is rewritten
  (a new user, a changed password, a deny_peers entry, user_quota, log level debug, a new TLS
  certificate, a new signaling API key) and podium gets SIGHUP. The live runs finish as normal
  runs do (no loss); the new values act on new requests: seen with a raw STUN client written from
  the RFCs (tests/integration/test_relay_interop.py), openssl s_client, the HTTP API and /metrics.
- A file that does not validate (or names a missing or mismatched certificate) is refused:
  podium_config_reloads_total{result="refused"}, the error with its file:line in the log, and
  the running values stay. Keys that need a restart are warned about and keep running values.
- Drain: POST /admin/drain (bearer metrics.admin_token) and SIGTERM: /readyz 503, podium_draining
  1, new Allocates 508, new WHIP/WHEP and POST /api/rooms 503, existing allocations and sessions
  go on, and podium exits 0 by itself when the last one has ended, or at metrics.drain_timeout;
  a second SIGTERM or a SIGINT during a drain stops at once.

Everything binds 127.0.0.1 (echo peers 127.0.0.2 and 127.0.0.3); every process is stopped by
its PID. Relay counters reach /metrics once a second, so metric checks poll.
"""
import calendar
import json
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "lib"))
from podium_harness import make_certificate as harness_certificate  # noqa: E402
from podium_harness import (Podium, die_with_parent, free_port, http_get,  # noqa: E402
                            metric, scrape, wait_for)
from test_relay_interop import (CHANNEL_BIND, CHANNEL_NUMBER, CREATE_PERMISSION,  # noqa: E402
                                ERROR, LIFETIME, REFRESH, SUCCESS, XOR_PEER_ADDRESS, RawClient,
                                encode_xor_address, uclient_totals)

LOAD = os.environ.get("PODIUM_LOAD", "podium-load")
REALM = "example.org"
PEER_HOST = "127.0.0.2"     # the echo peer the live runs use: allowed before and after
DENIED_HOST = "127.0.0.3"   # allowed by allow_peers 127.0.0.0/8 before, denied after the reload
API_KEY = "rooms-key-1"
TOKEN_SECRET = "reload-token-secret"
UCLIENT_MESSAGES = 400      # uclient paces ~30 ms a message here: ~12 s of messages + ~3 s setup
LOAD_SECONDS = 15
LOAD_GUESTS = 4


def have_load():
    return os.path.isfile(LOAD) or shutil.which(LOAD) is not None


# ------------------------------------------------------------------------------------------
# Config, certificates

def config_text(relay_ports, users, cert=None, key=None, level="info", deny_peers=(),
                user_quota=0, api_key=API_KEY, admin_token="", drain_timeout="60s", sfu=True,
                signaling=True, realm=REALM, tls=True):
    listen = ["udp://127.0.0.1:0", "tcp://127.0.0.1:0"] + (["tls://127.0.0.1:0"] if tls else [])
    text = """log:
  level: %s
metrics:
  listen: 127.0.0.1:0
  admin_token: "%s"
  drain_timeout: %s
relay:
  listen: [%s]
  realm: %s
  relay_ports: "%s"
  users: {%s}
  allow_peers: [127.0.0.0/8]
""" % (level, admin_token, drain_timeout, ", ".join(listen), realm, relay_ports,
       ", ".join("%s: %s" % kv for kv in users.items()))
    if deny_peers:
        text += "  deny_peers: [%s]\n" % ", ".join(deny_peers)
    # unauthenticated_rate 0: every client here shares the source address 127.0.0.1.
    text += "  user_quota: %d\n  unauthenticated_rate: 0\n" % user_quota
    if tls:
        text += "  tls:\n    cert: %s\n    key: %s\n" % (cert, key)
    if sfu:
        text += "sfu:\n  listen_ip: 127.0.0.1\n  udp_port: 0\n"
    if signaling:
        text += "signaling:\n  listen: 127.0.0.1:0\n  token_secret: %s\n  api_key: %s\n" % (
            TOKEN_SECRET, api_key)
    return text


def make_certificate(directory, name, days):
    """A self-signed P-256 certificate valid for `days`; returns (cert, key, serial, notAfter
    as Unix time)."""
    cert, key = harness_certificate(directory, days=days, name=name)
    r = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-serial", "-enddate"],
                       check=True, capture_output=True, text=True, timeout=30)
    serial, not_after = parse_x509(r.stdout)
    return cert, key, serial, not_after


def parse_x509(text):
    serial = re.search(r"serial=([0-9A-F]+)", text).group(1)
    end = re.search(r"notAfter=(.+ GMT)", text).group(1)
    return serial, calendar.timegm(time.strptime(end, "%b %d %H:%M:%S %Y GMT"))


def served_certificate(port):
    """(serial, notAfter) of the certificate a new TLS handshake with 127.0.0.1:port gets."""
    hello = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                            "-servername", "x"], stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=15)
    r = subprocess.run(["openssl", "x509", "-noout", "-serial", "-enddate"], input=hello.stdout,
                       capture_output=True, text=True, timeout=15)
    if r.returncode != 0:
        raise AssertionError("no certificate from s_client: %s" % hello.stderr[-2000:])
    return parse_x509(r.stdout)


# ------------------------------------------------------------------------------------------
# Clients

def tls_binding(sock):
    """A STUN Binding request on an established TLS connection; True when answered."""
    tid = os.urandom(12)
    sock.sendall(struct.pack("!HHI", 0x0001, 0, 0x2112A442) + tid)
    data = b""
    while len(data) < 20 or len(data) < 20 + struct.unpack("!H", data[2:4])[0]:
        chunk = sock.recv(512)
        if not chunk:
            return False
        data += chunk
    return data[:2] == b"\x01\x01" and data[8:20] == tid


class Proc:
    """A helper process with its output in a file, stopped by PID (SIGTERM, then SIGKILL)."""

    def __init__(self, args, directory, name):
        self.args = [str(a) for a in args]
        self.path = os.path.join(directory, name + ".out")
        self._out = open(self.path, "w")
        self.proc = subprocess.Popen(self.args, stdout=self._out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
        self.ended = None  # time.monotonic() when first seen exited (see poll())

    def poll(self):
        code = self.proc.poll()
        if code is not None and self.ended is None:
            self.ended = time.monotonic()
        return code

    def wait(self, timeout):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError("%s did not finish in %ss:\n%s" % (
                self.args[0], timeout, self.output()[-3000:]))
        self.poll()
        return self.proc.returncode, self.output()

    def output(self):
        self._out.flush()
        with open(self.path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


def uclient_args(port, user, password, *extra):
    return (["turnutils_uclient", "-L", "127.0.0.1", "-p", port, "-u", user, "-w", password]
            + list(extra) + ["127.0.0.1"])


def load_result(output):
    lines = [l for l in output.splitlines() if l.startswith("{")]
    if not lines:
        raise AssertionError("no podium-load result in:\n" + output[-3000:])
    return json.loads(lines[-1])


def http(method, url, token=None, body=None, content_type=None, timeout=5):
    """(status, body text) without raising on HTTP errors."""
    headers = {}
    if token is not None:
        headers["Authorization"] = "Bearer " + token
    if content_type:
        headers["Content-Type"] = content_type
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def allocate(server, transport, user, password):
    """A RawClient with an allocation attempt made; the caller closes it."""
    client = RawClient(server, transport)
    try:
        return client, client.allocate(user, password)
    except BaseException:
        client.close()
        raise


def peer_attr(host, port):
    return (XOR_PEER_ADDRESS, encode_xor_address(host, port))


# ------------------------------------------------------------------------------------------

class ReloadDrainBase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="podium-reload-")
        self.addCleanup(self.tmp.cleanup)

    # --- processes (cleanups run in reverse: helpers before podium's temporary directory)

    def start_podium(self, text, expect=("metrics", "relay")):
        podium = Podium(text, expect=expect)

        def stop():
            podium.stop(check=False)  # SIGINT (at once) if it still runs; closes its log
            podium.__exit__(None, None, None)
        self.addCleanup(stop)
        return podium

    def start(self, args, name):
        proc = Proc(args, self.tmp.name, name)
        self.addCleanup(proc.stop)
        return proc

    def echo_peer(self, host):
        port = free_port(host)
        self.start(["turnutils_peer", "-L", host, "-p", port], "peer-" + host)
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.settimeout(0.2)
        try:
            for _ in range(25):
                probe.sendto(b"ready?", (host, port))
                try:
                    if probe.recv(100) == b"ready?":
                        return port
                except socket.timeout:
                    pass
        finally:
            probe.close()
        raise AssertionError("turnutils_peer on %s:%d does not echo" % (host, port))

    def raw(self, server, transport, user, password):
        client, response = allocate(server, transport, user, password)
        self.addCleanup(client.close)
        return client, response

    # --- podium's state

    def value(self, podium, name, **labels):
        return metric(scrape(podium), name, **labels)

    def grew(self, podium, before, name, by=1, **labels):
        want = metric(before, name, **labels) + by
        ok = wait_for(lambda: self.value(podium, name, **labels) >= want, timeout=8)
        self.assertTrue(ok, "%s%r did not grow by %s (was %s, now %s)" % (
            name, labels, by, metric(before, name, **labels), self.value(podium, name, **labels)))

    def settles(self, podium, name, value, timeout=8, **labels):
        ok = wait_for(lambda: self.value(podium, name, **labels) == value, timeout=timeout)
        self.assertTrue(ok, "%s%r is %s, expected %s" % (
            name, labels, self.value(podium, name, **labels), value))

    def reload(self, podium, text, result="ok"):
        """Rewrites podium's config file (atomically) and sends SIGHUP; waits for the reload
        counter. Returns the log's length before the reload (to read what came after)."""
        before = self.value(podium, "podium_config_reloads_total", result=result)
        other = self.value(podium, "podium_config_reloads_total",
                           result="refused" if result == "ok" else "ok")
        mark = len(podium.stderr())
        tmp = podium.config_path + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, podium.config_path)
        podium.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: self.value(podium, "podium_config_reloads_total",
                                                    result=result) == before + 1, timeout=5),
                        "reload not counted as %s:\n%s" % (result, podium.stderr()[mark:]))
        self.assertEqual(self.value(podium, "podium_config_reloads_total",
                                    result="refused" if result == "ok" else "ok"), other)
        line = "configuration reloaded from" if result == "ok" else "reload refused"
        self.assertTrue(wait_for(lambda: line in podium.stderr()[mark:], timeout=3))
        return mark

    def assert_alive(self, podium):
        self.assertIsNone(podium.proc.poll(), "podium died:\n" + podium.stderr()[-3000:])

    def create_room(self, podium, key=API_KEY):
        status, body = http("POST", podium.url("signaling") + "/api/rooms", token=key)
        self.assertEqual(status, 201, body)
        return json.loads(body)

    def wait_streaming(self, podium, guests, procs):
        """Until the SFU has the guests and the presenter and forwards packets."""
        def streaming():
            for p in procs:
                if p.poll() is not None:
                    raise AssertionError("%s ended early:\n%s" % (p.args[0], p.output()[-3000:]))
            s = scrape(podium)
            return (metric(s, "podium_sfu_guests") == guests
                    and metric(s, "podium_sfu_presenters") == 1
                    and metric(s, "podium_sfu_rtp_packets_total", direction="out") >= guests * 25)
        self.assertTrue(wait_for(streaming, timeout=20), "the room never streamed")

    def check_uclient(self, run, messages, what):
        code, out = run.wait(60)
        self.assertEqual(code, 0, "%s: %s" % (what, out[-3000:]))
        sent, received, lost = uclient_totals(out)
        self.assertEqual(sent, messages, "%s: %s" % (what, out[-3000:]))
        self.assertEqual(received, sent, "%s: %s" % (what, out[-3000:]))
        self.assertEqual(lost, 0, "%s: %s" % (what, out[-3000:]))
        print("%s: %d sent, %d received, %d lost" % (what, sent, received, lost), flush=True)
        return out

    def check_load(self, run, guests, seconds):
        code, out = run.wait(seconds + 40)
        self.assertEqual(code, 0, out[-3000:])
        result = load_result(out)
        print("podium-load: " + json.dumps(result), flush=True)
        self.assertEqual(result["guests_connected"], guests, result)
        self.assertEqual(result["setup_failures"], 0, result)
        self.assertEqual(result["delete_failures"], 0, result)
        self.assertGreaterEqual(result["packets_sent"], int(seconds * 50 * 0.9), result)
        self.assertEqual(result["loss_max"], 0.0, result)
        self.assertEqual(result["decode_errors"], 0, result)
        self.assertGreater(result["decoded_frames"], 0, result)
        self.assertEqual(result["loud_frames"], result["decoded_frames"], result)
        return result


# ------------------------------------------------------------------------------------------

class ReloadTest(ReloadDrainBase):
    def test_reload_keeps_live_allocations_and_room(self):
        if not have_load():
            self.skipTest("podium-load not built")
        cert1, key1, serial1, expiry1 = make_certificate(self.tmp.name, "one", 2)
        cert2, key2, serial2, expiry2 = make_certificate(self.tmp.name, "two", 5)
        self.assertNotEqual(serial1, serial2)
        users = {"alice": "pw", "carol": "pw-c"}
        before_text = config_text("46000-46199", users, cert1, key1)
        podium = self.start_podium(before_text, expect=("metrics", "relay", "sfu", "signaling"))
        udp = podium.wait_host_port("relay", "udp")
        tcp = podium.wait_host_port("relay", "tcp")
        tls = podium.wait_host_port("relay", "tls")
        signaling = podium.url("signaling")
        peer = self.echo_peer(PEER_HOST)
        denied_peer = self.echo_peer(DENIED_HOST)

        # Before: the first certificate, its expiry on /metrics; 127.0.0.3 is an allowed peer.
        self.assertEqual(served_certificate(tls[1]), (serial1, expiry1))
        self.assertEqual(
            self.value(podium, "podium_relay_tls_certificate_expiry_timestamp_seconds"), expiry1)
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        tls_conn = context.wrap_socket(socket.create_connection(tls, timeout=5))
        self.addCleanup(tls_conn.close)
        self.assertTrue(tls_binding(tls_conn))
        old_der = tls_conn.getpeercert(binary_form=True)
        # carol: an allocation of an unchanged user, held across the reload by the raw client.
        carol, r = self.raw(tcp, "tcp", "carol", "pw-c")
        self.assertEqual(r.cls, SUCCESS, r)
        r = carol.request(CREATE_PERMISSION, [peer_attr(DENIED_HOST, denied_peer)])
        self.assertEqual(r.cls, SUCCESS, r)
        r = carol.request(CHANNEL_BIND, [(CHANNEL_NUMBER, struct.pack("!HH", 0x4001, 0)),
                                         peer_attr(PEER_HOST, peer)])
        self.assertEqual(r.cls, SUCCESS, r)
        carol.send_channel_data(0x4001, b"before")
        self.assertEqual(carol.receive_channel_data(), (0x4001, b"before"))
        room = self.create_room(podium)
        self.assertEqual(http("POST", signaling + "/api/rooms", token="rooms-key-2")[0], 401)
        self.assertNotIn(" debug ", podium.stderr())

        # The live runs: alice over UDP and over TCP to the echo peer (channels), and a room.
        live_udp = self.start(uclient_args(udp[1], "alice", "pw", "-c", "-n", UCLIENT_MESSAGES,
                                           "-z", 20, "-e", PEER_HOST, "-r", peer),
                              "uclient-udp")
        live_tcp = self.start(uclient_args(tcp[1], "alice", "pw", "-t", "-c", "-n",
                                           UCLIENT_MESSAGES, "-z", 20, "-e", PEER_HOST, "-r",
                                           peer), "uclient-tcp")
        load = self.start([LOAD, "--signaling", signaling, "--room", room["room"], "--token",
                           room["presenter_token"], "--guests", LOAD_GUESTS, "--decode", 2,
                           "--seconds", LOAD_SECONDS, "--podium-pid", podium.proc.pid], "load")
        self.wait_streaming(podium, LOAD_GUESTS, [live_udp, live_tcp, load])
        self.assertTrue(wait_for(lambda: self.value(podium, "podium_relay_packets_total",
                                                    direction="peer_to_client") >= 40
                                 and self.value(podium, "podium_relay_allocations_active",
                                                transport="tcp") >= 2, timeout=10),
                        "the uclient runs did not start relaying")
        before = scrape(podium)

        # The new file: bob, alice's new password, 127.0.0.3 denied, a quota of 2 per user,
        # debug logging, the second certificate, a new API key.
        after_text = config_text("46000-46199", {"alice": "pw-new", "bob": "pw2",
                                                 "carol": "pw-c"}, cert2, key2, level="debug",
                                 deny_peers=["%s/32" % DENIED_HOST], user_quota=2,
                                 api_key="rooms-key-2")
        mark = self.reload(podium, after_text)
        self.assertNotIn("needs a restart", podium.stderr()[mark:])
        for run in (live_udp, live_tcp, load):
            self.assertIsNone(run.poll(), "%s ended before the reload" % run.args[0])
        reloaded = scrape(podium)
        # Nothing was dropped by the reload itself.
        for name in ("podium_relay_allocations_active", "podium_sfu_sessions", "podium_sfu_guests"):
            self.assertEqual(metric(reloaded, name), metric(before, name), name)
        self.assertEqual(metric(reloaded, "podium_sfu_sessions_closed_total"),
                         metric(before, "podium_sfu_sessions_closed_total"))

        with self.subTest("tls certificate"):
            # New handshakes get the new certificate; the gauge follows; the connection made
            # before the reload goes on with the old one.
            self.assertEqual(served_certificate(tls[1]), (serial2, expiry2))
            self.assertEqual(
                self.value(podium, "podium_relay_tls_certificate_expiry_timestamp_seconds"),
                expiry2)
            self.assertNotEqual(expiry1, expiry2)
            self.assertTrue(tls_binding(tls_conn))
            self.assertEqual(tls_conn.getpeercert(binary_form=True), old_der)

        with self.subTest("api key"):
            status, body = http("POST", signaling + "/api/rooms", token="rooms-key-2")
            self.assertEqual(status, 201, body)
            status, body = http("POST", signaling + "/api/rooms", token=API_KEY)
            self.assertEqual(status, 401, body)

        with self.subTest("credentials"):
            # alice's old password: refused for a new allocation.
            snap = scrape(podium)
            client, r = allocate(udp, "udp", "alice", "pw")
            client.close()
            self.assertEqual((r.cls, r.error_code), (ERROR, 401), r)
            self.grew(podium, snap, "podium_relay_auth_failures_total", reason="bad_integrity")
            # Her new one authenticates; her live allocations are over the new quota of 2, so
            # the answer is 486 (checked after authentication), and they keep running.
            snap = scrape(podium)
            client, r = allocate(udp, "udp", "alice", "pw-new")
            client.close()
            self.assertEqual((r.cls, r.error_code), (ERROR, 486), r)
            self.grew(podium, snap, "podium_relay_quota_refusals_total", quota="user")
            self.assertEqual(self.value(podium, "podium_relay_auth_failures_total",
                                        reason="bad_integrity"),
                             metric(snap, "podium_relay_auth_failures_total",
                                    reason="bad_integrity"))
            # bob exists now: a short uclient run (TCP: its allocations end with it).
            bob = self.start(uclient_args(tcp[1], "bob", "pw2", "-t", "-c", "-n", 20, "-z", 20,
                                          "-e", PEER_HOST, "-r", peer), "uclient-bob")
            self.check_uclient(bob, 20, "bob")

        with self.subTest("user quota"):
            # bob's uclient allocations go with its TCP connections, a moment after it exits:
            # his first raw allocation is retried until they have.
            def first():
                client, r = allocate(tcp, "tcp", "bob", "pw2")
                if r.cls == SUCCESS:
                    return client
                client.close()
                self.assertEqual(r.error_code, 486, r)
                return None
            clients = [wait_for(first, timeout=5)]
            self.assertIsNotNone(clients[0], "bob cannot allocate after his uclient run")
            self.addCleanup(clients[0].close)
            snap = scrape(podium)
            client, r = self.raw(tcp, "tcp", "bob", "pw2")
            self.assertEqual(r.cls, SUCCESS, r)
            clients.append(client)
            # The third is over the reloaded quota of 2.
            client, r = self.raw(tcp, "tcp", "bob", "pw2")
            self.assertEqual((r.cls, r.error_code), (ERROR, 486), r)
            clients.append(client)
            self.grew(podium, snap, "podium_relay_quota_refusals_total", quota="user")
            for client in clients:
                client.close()

        with self.subTest("peer policy"):
            # carol's allocation from before the reload: refreshes, relays on its channel, and
            # a permission for the newly denied 127.0.0.3 is refused.
            snap = scrape(podium)
            r = carol.request(REFRESH, [(LIFETIME, struct.pack("!I", 600))])
            self.assertEqual((r.method, r.cls), (REFRESH, SUCCESS), r)
            r = carol.request(CREATE_PERMISSION, [peer_attr(DENIED_HOST, denied_peer)])
            self.assertEqual((r.cls, r.error_code), (ERROR, 403), r)
            r = carol.request(CREATE_PERMISSION, [peer_attr(PEER_HOST, peer)])
            self.assertEqual(r.cls, SUCCESS, r)
            carol.send_channel_data(0x4001, b"after")
            self.assertEqual(carol.receive_channel_data(), (0x4001, b"after"))
            # A new allocation (bob's) gets the same refusal.
            client, r = self.raw(udp, "udp", "bob", "pw2")
            self.assertEqual(r.cls, SUCCESS, r)
            r = client.request(CREATE_PERMISSION, [peer_attr(DENIED_HOST, denied_peer)])
            self.assertEqual((r.cls, r.error_code), (ERROR, 403), r)
            client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
            client.close()
            self.grew(podium, snap, "podium_relay_peer_refusals_total", by=2,
                      reason="denied_by_config")

        with self.subTest("live runs"):
            # The allocations and the room from before the reload finish as a normal run does.
            self.check_uclient(live_udp, UCLIENT_MESSAGES, "live UDP run")
            self.check_uclient(live_tcp, UCLIENT_MESSAGES, "live TCP run")
            self.check_load(load, LOAD_GUESTS, LOAD_SECONDS)
            samples = scrape(podium)
            self.assertEqual(metric(samples, "podium_sfu_sessions_closed_total"),
                             metric(samples, "podium_sfu_sessions_closed_total",
                                    reason="deleted"))

        with self.subTest("log level"):
            # info before the reload: no debug lines; debug after it (bob's channel, deletes).
            log = podium.stderr()
            self.assertNotIn(" debug ", log[:mark])
            self.assertRegex(log[mark:], r"(?m)^\S+ debug +relay: allocation=\S+: channel "
                                         r"0x[0-9a-f]+ bound to 127\.0\.0\.2:\d+$")
        self.assert_alive(podium)
        self.assertEqual(self.value(podium, "podium_config_reloads_total", result="ok"), 1)
        self.assertEqual(self.value(podium, "podium_config_reloads_total", result="refused"), 0)


class BadReloadTest(ReloadDrainBase):
    def test_bad_reload_is_refused(self):
        cert, key, serial, expiry = make_certificate(self.tmp.name, "one", 2)
        other_cert, other_key, _, _ = make_certificate(self.tmp.name, "other", 3)
        users = {"alice": "pw"}
        text = config_text("46200-46299", users, cert, key, sfu=False, signaling=False)
        podium = self.start_podium(text)
        udp = podium.wait_host_port("relay", "udp")
        tls = podium.wait_host_port("relay", "tls")
        changed = {"alice": "pw-changed"}

        def line_of(text, needle):
            lines = text.splitlines()
            row = next(i for i, l in enumerate(lines) if needle in l)
            return row + 1, lines[row].index(needle) + 1

        missing = os.path.join(self.tmp.name, "missing-cert.pem")
        bogus = config_text("46200-46299", changed, cert, key, level="bogus", sfu=False,
                            signaling=False)
        no_cert = config_text("46200-46299", changed, missing, key, sfu=False, signaling=False)
        mismatch = config_text("46200-46299", changed, other_cert, key, sfu=False,
                               signaling=False)
        path = re.escape(podium.config_path)
        cases = [
            ("unknown log level", bogus,
             r"%s:%d:%d: log\.level: unknown log level 'bogus'" % ((path,) + line_of(bogus,
                                                                                    "bogus"))),
            ("missing certificate", no_cert,
             r"%s:%d:%d: relay\.tls\.cert: cannot read certificate file %s: No such file" % (
                 (path,) + line_of(no_cert, missing) + (re.escape(missing),))),
            ("key does not match the certificate", mismatch,
             r"relay\.tls\.key %s does not match the certificate %s" % (
                 re.escape(key), re.escape(other_cert))),
        ]
        for n, (what, bad, error) in enumerate(cases, 1):
            with self.subTest(what):
                mark = self.reload(podium, bad, result="refused")
                self.assertEqual(self.value(podium, "podium_config_reloads_total",
                                            result="refused"), n)
                log = podium.stderr()[mark:]
                self.assertRegex(log, r"(?m)^\S+ error podium: reload refused, the running "
                                      r"config stays: " + error)
                self.assertNotIn("configuration reloaded", log)
                # Nothing changed: alice's password, the certificate, its gauge.
                client, r = allocate(udp, "udp", "alice", "pw")
                self.assertEqual(r.cls, SUCCESS, r)
                client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
                client.close()
                client, r = allocate(udp, "udp", "alice", "pw-changed")
                client.close()
                self.assertEqual((r.cls, r.error_code), (ERROR, 401), r)
                self.assertEqual(served_certificate(tls[1])[0], serial)
                self.assertEqual(self.value(
                    podium, "podium_relay_tls_certificate_expiry_timestamp_seconds"), expiry)
                self.assert_alive(podium)

        with self.subTest("restart-only keys are warned about and keep their values"):
            # A valid file again, with a new realm, workers count and listen address: the reload
            # is applied (alice's new password works) but those stay the running ones, also in
            # what the peer policy derives from them (the relay's own address stays refused).
            good = config_text("46200-46299", changed, cert, key, sfu=False, signaling=False,
                               realm="other.example")
            good = good.replace("relay:\n", "relay:\n  workers: 1\n")
            good = good.replace("udp://127.0.0.1:0, tcp://127.0.0.1:0",
                                "udp://127.0.0.9:0, tcp://127.0.0.9:0")
            mark = self.reload(podium, good, result="ok")
            log = podium.stderr()[mark:]
            for key_name in ("relay.listen", "relay.realm", "relay.workers"):
                self.assertRegex(log, r"(?m)^\S+ warning podium: reload: %s changed but needs a "
                                      r"restart; the running value stays$" % re.escape(key_name))
            client, r = allocate(udp, "udp", "alice", "pw-changed")
            self.assertEqual(r.cls, SUCCESS, r)
            self.assertEqual(client.realm, REALM)  # the challenge's REALM: the running one
            r = client.request(CREATE_PERMISSION, [peer_attr("127.0.0.1", 5000)])
            self.assertEqual((r.cls, r.error_code), (ERROR, 403), r)  # relay_own_address
            client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
            client.close()
            self.assertEqual(self.value(podium, "podium_config_reloads_total", result="ok"), 1)
            self.assertEqual(self.value(podium, "podium_config_reloads_total",
                                        result="refused"), 3)


class DrainTest(ReloadDrainBase):
    def test_drain_via_admin_api(self):
        if not have_load():
            self.skipTest("podium-load not built")
        cert, key, _, _ = make_certificate(self.tmp.name, "one", 2)
        users = {"alice": "pw", "carol": "pw-c"}
        text = config_text("46300-46399", users, cert, key, admin_token="old-admin-token")
        podium = self.start_podium(text, expect=("metrics", "relay", "sfu", "signaling"))
        metrics_url = podium.url("metrics")
        udp = podium.wait_host_port("relay", "udp")
        tcp = podium.wait_host_port("relay", "tcp")
        signaling = podium.url("signaling")
        peer = self.echo_peer(PEER_HOST)
        # The admin token is reloadable too.
        self.reload(podium, config_text("46300-46399", users, cert, key,
                                        admin_token="drain-admin-token"))
        self.assertEqual(http_get(metrics_url + "/readyz")[0], 200)
        self.assertEqual(self.value(podium, "podium_draining"), 0)
        room = self.create_room(podium)

        # Live: carol's raw TCP allocation (checked during the drain), alice's uclient over TCP
        # (its allocations end with its connections), and a room.
        carol, r = self.raw(tcp, "tcp", "carol", "pw-c")
        self.assertEqual(r.cls, SUCCESS, r)
        messages = 250
        live = self.start(uclient_args(tcp[1], "alice", "pw", "-t", "-c", "-n", messages, "-z",
                                       20, "-e", PEER_HOST, "-r", peer), "uclient-live")
        seconds = 10
        load = self.start([LOAD, "--signaling", signaling, "--room", room["room"], "--token",
                           room["presenter_token"], "--guests", 3, "--decode", 1,
                           "--seconds", seconds], "load")
        self.wait_streaming(podium, 3, [live, load])
        self.assertTrue(wait_for(lambda: self.value(podium, "podium_relay_allocations_active",
                                                    transport="tcp") >= 2, timeout=10))

        with self.subTest("admin API authorization"):
            for token in (None, "old-admin-token", "drain-admin-token-but-longer"):
                status, body = http("POST", metrics_url + "/admin/drain", token=token)
                self.assertEqual(status, 401, (token, body))
            status, body = http("GET", metrics_url + "/admin/drain", token="drain-admin-token")
            self.assertEqual(status, 405, body)
            self.assertEqual(self.value(podium, "podium_draining"), 0)
            self.assertEqual(http_get(metrics_url + "/readyz")[0], 200)

        time.sleep(1.2)  # relay counters reach /metrics once a second
        before = scrape(podium)
        status, body = http("POST", metrics_url + "/admin/drain", token="drain-admin-token")
        drain_started = time.monotonic()
        self.assertEqual(status, 202, body)
        answer = json.loads(body)
        self.assertEqual(set(answer), {"draining", "allocations", "sessions", "deadline_seconds"})
        self.assertIs(answer["draining"], True)
        self.assertGreaterEqual(answer["allocations"], 2, answer)  # carol's and alice's
        self.assertEqual(answer["sessions"], 4, answer)             # 3 guests and a presenter
        self.assertTrue(55 <= answer["deadline_seconds"] <= 60, answer)

        with self.subTest("not ready, draining"):
            self.assertEqual(http_get(metrics_url + "/readyz")[0], 503)
            self.assertEqual(http_get(metrics_url + "/healthz")[0], 200)
            self.assertEqual(self.value(podium, "podium_draining"), 1)
            self.assertRegex(podium.stderr(), r"draining \(POST /admin/drain\): \d+ allocations "
                                              r"and 4 sessions may run up to 60s")
            # A second POST is harmless: still draining, same deadline.
            status, body = http("POST", metrics_url + "/admin/drain", token="drain-admin-token")
            self.assertEqual(status, 202, body)

        with self.subTest("new allocations are refused with 508"):
            client, r = allocate(udp, "udp", "alice", "pw")
            client.close()
            self.assertEqual((r.cls, r.error_code), (ERROR, 508), r)
            refused = self.start(uclient_args(udp[1], "alice", "pw", "-c", "-n", 5, "-z", 20,
                                              "-e", PEER_HOST, "-r", peer), "uclient-refused")
            code, out = refused.wait(30)
            self.assertNotEqual(code, 0, out[-3000:])
            self.grew(podium, before, "podium_relay_responses_total", by=2, method="Allocate",
                      code="508")
            self.assertEqual(self.value(podium, "podium_relay_allocations_created_total"),
                             metric(before, "podium_relay_allocations_created_total"))

        with self.subTest("new sessions and rooms are refused with 503"):
            # Real offers (podium-load's guest, then its presenter) in the room that streams.
            refused = self.start([LOAD, "--signaling", signaling, "--room", room["room"],
                                  "--token", room["presenter_token"], "--guests", 1,
                                  "--seconds", 1], "load-refused")
            code, out = refused.wait(30)
            self.assertNotEqual(code, 0, out[-3000:])
            for endpoint in ("whep", "whip"):
                self.assertRegex(out, r"/%s/%s answered 503: the SFU is draining" % (
                    endpoint, re.escape(room["room"])))
            self.grew(podium, before, "podium_signaling_sessions_requests_total",
                      endpoint="whep", method="post", result="server_error")
            status, body = http("POST", signaling + "/api/rooms", token=API_KEY)
            self.assertEqual(status, 503, body)
            self.assertIn("draining", body)

        with self.subTest("an existing allocation refreshes, adds permissions and relays"):
            r = carol.request(REFRESH, [(LIFETIME, struct.pack("!I", 600))])
            self.assertEqual((r.method, r.cls), (REFRESH, SUCCESS), r)
            r = carol.request(CREATE_PERMISSION, [peer_attr(PEER_HOST, peer + 1)])
            self.assertEqual(r.cls, SUCCESS, r)
            r = carol.request(CHANNEL_BIND, [(CHANNEL_NUMBER, struct.pack("!HH", 0x4002, 0)),
                                             peer_attr(PEER_HOST, peer)])
            self.assertEqual(r.cls, SUCCESS, r)
            for payload in (b"drain", os.urandom(500)):
                carol.send_channel_data(0x4002, payload)
                self.assertEqual(carol.receive_channel_data(), (0x4002, payload))
            # carol leaves: the drain now waits for the uclient run and the room only.
            r = carol.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
            self.assertEqual(r.cls, SUCCESS, r)
            carol.close()
        self.assert_alive(podium)

        # The live runs finish; podium exits 0 by itself right after the last of them.
        deadline = time.monotonic() + 60
        podium_exit = None
        while time.monotonic() < deadline:
            live.poll()
            load.poll()
            if podium_exit is None and podium.proc.poll() is not None:
                podium_exit = time.monotonic()
            if podium_exit and live.ended and load.ended:
                break
            time.sleep(0.02)
        self.assertIsNotNone(podium_exit, "podium still runs 60 s into the drain:\n"
                             + podium.stderr()[-3000:])
        self.assertIsNotNone(live.ended)
        self.assertIsNotNone(load.ended)
        self.assertEqual(podium.proc.returncode, 0, podium.stderr()[-3000:])
        clients_end = max(live.ended, load.ended)
        print("drain: clients ended %.2f s after POST /admin/drain, podium exited %.2f s after "
              "them" % (clients_end - drain_started, podium_exit - clients_end), flush=True)
        self.assertLess(podium_exit - clients_end, 2.0)
        self.assertLess(podium_exit - drain_started, 30.0)
        with self.subTest("the live runs did not notice"):
            self.check_uclient(live, messages, "live TCP run")
            self.check_load(load, 3, seconds)
        log = podium.stderr()
        self.assertIn("shutting down (drained)", log)
        self.assertNotIn("drain timeout", log)


class DrainSignalTest(ReloadDrainBase):
    def relay_podium(self, ports, **kw):
        text = config_text(ports, {"carol": "pw-c"}, tls=False, sfu=False, signaling=False, **kw)
        podium = self.start_podium(text)
        return podium, podium.wait_host_port("relay", "tcp")

    def hold_allocation(self, tcp):
        client, r = self.raw(tcp, "tcp", "carol", "pw-c")
        self.assertEqual(r.cls, SUCCESS, r)
        return client

    def wait_exit(self, podium, since, limit):
        try:
            podium.proc.wait(limit)
        except subprocess.TimeoutExpired:
            self.fail("podium still runs %s s later:\n%s" % (limit, podium.stderr()[-3000:]))
        return podium.proc.returncode, time.monotonic() - since

    def test_sigterm_drain_times_out(self):
        podium, tcp = self.relay_podium("46400-46419", drain_timeout="2s")
        client = self.hold_allocation(tcp)
        start = time.monotonic()
        podium.signal(signal.SIGTERM)
        time.sleep(0.5)
        self.assertEqual(http_get(podium.url("metrics") + "/readyz")[0], 503)
        # The held allocation still works while the drain waits for it.
        r = client.request(REFRESH, [(LIFETIME, struct.pack("!I", 600))])
        self.assertEqual(r.cls, SUCCESS, r)
        code, took = self.wait_exit(podium, start, 10)
        print("exit %.2f s after SIGTERM (drain_timeout 2s)" % took, flush=True)
        self.assertEqual(code, 0, podium.stderr()[-3000:])
        self.assertTrue(1.5 <= took <= 5.0, took)
        log = podium.stderr()
        self.assertRegex(log, r"(?m)^\S+ warning podium: drain timeout: 1 allocations and 0 "
                              r"sessions are cut$")
        self.assertIn("shutting down (drain timeout)", log)

    def test_reloaded_drain_timeout(self):
        # drain_timeout is reloadable: 60s at start, 2s after SIGHUP.
        podium, tcp = self.relay_podium("46420-46439", drain_timeout="60s")
        self.hold_allocation(tcp)
        self.reload(podium, config_text("46420-46439", {"carol": "pw-c"}, tls=False, sfu=False,
                                         signaling=False, drain_timeout="2s"))
        start = time.monotonic()
        podium.signal(signal.SIGTERM)
        code, took = self.wait_exit(podium, start, 10)
        print("exit %.2f s after SIGTERM (drain_timeout 2s)" % took, flush=True)
        self.assertEqual(code, 0, podium.stderr()[-3000:])
        self.assertTrue(1.5 <= took <= 5.0, took)
        self.assertIn("drain timeout: 1 allocations", podium.stderr())

    def test_second_signal_during_drain_stops_at_once(self):
        for n, (second, reason) in enumerate(((signal.SIGTERM, "second SIGTERM"),
                                              (signal.SIGINT, "SIGINT"))):
            with self.subTest(second=reason):
                ports = "%d-%d" % (46440 + 20 * n, 46459 + 20 * n)
                podium, tcp = self.relay_podium(ports, drain_timeout="60s")
                self.hold_allocation(tcp)
                podium.signal(signal.SIGTERM)
                time.sleep(0.7)
                self.assert_alive(podium)  # draining: waits for the allocation
                self.assertEqual(self.value(podium, "podium_draining"), 1)
                start = time.monotonic()
                podium.signal(second)
                code, took = self.wait_exit(podium, start, 5)
                print("%s: exit %.3f s after the signal" % (reason, took), flush=True)
                self.assertEqual(code, 0, podium.stderr()[-3000:])
                self.assertLess(took, 1.0)
                self.assertIn("shutting down (%s)" % reason, podium.stderr())

    def test_sigterm_without_allocations_exits_at_once_and_sigint_alone_too(self):
        for sig, reason in ((signal.SIGTERM, "drained"), (signal.SIGINT, "SIGINT")):
            with self.subTest(reason):
                podium, _ = self.relay_podium("46480-46489", drain_timeout="60s")
                start = time.monotonic()
                podium.signal(sig)
                code, took = self.wait_exit(podium, start, 5)
                print("%s: exit %.3f s after the signal" % (reason, took), flush=True)
                self.assertEqual(code, 0, podium.stderr()[-3000:])
                self.assertLess(took, 1.0)
                self.assertIn("shutting down (%s)" % reason, podium.stderr())

    def test_admin_api_off_without_token(self):
        podium, _ = self.relay_podium("46490-46499")
        url = podium.url("metrics") + "/admin/drain"
        for token in (None, "anything"):
            status, body = http("POST", url, token=token)
            self.assertEqual(status, 404, body)
        self.assertEqual(self.value(podium, "podium_draining"), 0)
        self.assertEqual(http_get(podium.url("metrics") + "/readyz")[0], 200)


if __name__ == "__main__":
    unittest.main()
