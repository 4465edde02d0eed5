"""The admin API on the metrics listener (Authorization: Bearer <metrics.admin_token>):
GET /admin/allocations[?user=], DELETE /admin/users/{user}/allocations and GET /admin/config,
against allocations made by real clients.

One podium (relay udp:// and tcp:// on 127.0.0.1, users alice and bob, a TURN REST secret,
signaling with api_key and token_secret, metrics with admin_token) holds:
  - coturn's turnutils_uclient over UDP as alice and over TCP (-t) as bob, relaying to a
    turnutils_peer echo peer on 127.0.0.2 for the whole test (their client addresses are read
    from `ss -p`, so the list is compared with what they really hold);
  - raw STUN clients (test_relay_interop.RawClient): carol over UDP with REST credentials
    (USERNAME "expiry:carol"), bob over TCP, bob over UDP, whose local and relayed addresses we
    know, sending Send indications through permissions to the echo peer.
The list is checked entry by entry (transport, client, server, relayed, user, username,
permissions, byte counters, age), filtered with ?user=, then bob's allocations are terminated:
his TCP connections are closed by podium, his UDP allocation answers 437, alice's and carol's
keep relaying, podium_relay_allocations_terminated_total counts them.
GET /admin/config is checked for secrets and fed back to `podium check-config` and to a second
`podium serve`. Two more podiums: admin_token empty (every /admin/ path 404) and no relay
(allocation paths 404).
"""
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
import urllib.error
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, HERE)
import podium_harness  # noqa: E402
from podium_harness import (PEER_HOST, EchoPeer, Podium, metric, scrape,  # noqa: E402
                            stop_process, wait_for)
from test_relay_interop import (CREATE_PERMISSION, ERROR, INDICATION, LIFETIME,  # noqa: E402
                                REFRESH, SUCCESS, XOR_PEER_ADDRESS,
                                XOR_RELAYED_ADDRESS, Message, RawClient, encode,
                                encode_xor_address, rest_password, start_podium,
                                uclient_totals)

SOURCE_DIR = os.environ.get("PODIUM_SOURCE_DIR", os.path.join(HERE, "..", ".."))

STUN_SEND, STUN_DATA_INDICATION, DATA_ATTR = 0x006, 0x007, 0x0013

REALM = "admin-api.test"
RELAY_PORTS = "43200-43299"
ALICE_PW = "alice-Pw-8c1e5f"
BOB_PW = "bob-Pw-3d9a7b"
REST_SECRET = "rest-Secret-5e2b4c"
TOKEN_SECRET = "token-Secret-9f7d1a"
API_KEY = "api-Key-2a6c8e"
ADMIN_TOKEN = "admin-Token-7b3f0d"
SECRETS = {"relay.users.alice": ALICE_PW, "relay.users.bob": BOB_PW,
           "relay.auth_secrets[0]": REST_SECRET, "signaling.token_secret": TOKEN_SECRET,
           "signaling.api_key": API_KEY, "metrics.admin_token": ADMIN_TOKEN}
DEFAULT_LIFETIME = 300  # relay.default_lifetime below, seconds

RELAY_LISTEN = ["udp://127.0.0.1:0", "tcp://127.0.0.1:0"]
# unauthenticated_rate: 0 because every client shares 127.0.0.1, and uclient never retransmits
# a dropped first Allocate over TCP (see test_relay_interop.py).
CONFIG = """
log:
  level: info
metrics:
  listen: 127.0.0.1:0
  admin_token: %(admin_token)s
relay:
  listen: [%(listen)s]
  realm: %(realm)s
  relay_ports: %(ports)s
  users: {alice: %(alice)s, bob: %(bob)s}
  auth_secrets: [%(rest)s]
  allow_peers: [127.0.0.0/8]
  unauthenticated_rate: 0
  default_lifetime: %(lifetime)ds
signaling:
  listen: 127.0.0.1:0
  api_key: %(api_key)s
  token_secret: %(token_secret)s
""" % {"admin_token": ADMIN_TOKEN, "listen": ", ".join(RELAY_LISTEN), "realm": REALM,
       "ports": RELAY_PORTS, "alice": ALICE_PW, "bob": BOB_PW, "rest": REST_SECRET,
       "lifetime": DEFAULT_LIFETIME, "api_key": API_KEY, "token_secret": TOKEN_SECRET}

# uclient: each of its 2 clients sends UCLIENT_MESSAGES messages, 50 ms apart: about 14 s of
# relaying, which must outlast tests 1-4 even when uclient -t takes 5 s to start (seen: with
# 100 messages bob's uclient then finished before test 2 looked at it).
UCLIENT_MESSAGES = 200
ENTRY_KEYS = {"id", "user", "username", "transport", "client", "server", "relayed", "relayed_additional",
              "age_seconds", "expires_in_seconds", "permissions", "channels", "bytes_to_peer",
              "bytes_to_client"}


def admin(base, method, path, token=ADMIN_TOKEN, scheme="Bearer", timeout=5):
    """(status, body text, headers) of one admin API request; no exception on HTTP errors."""
    headers = {}
    if token is not None:
        headers["Authorization"] = "%s %s" % (scheme, token)
    req = urllib.request.Request(base + path, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace"), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace"), e.headers


def addr(host_port):
    return "%s:%d" % host_port


def _proc_net_address(text):
    """"0100007F:0D96" (an address in /proc/net/{tcp,udp}[6]) -> "127.0.0.1:3478"."""
    host, port = text.split(":")
    raw = bytes.fromhex(host)
    # The kernel prints each 32-bit word of the address in host (little-endian) order.
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    if len(raw) == 4:
        return "%s:%d" % (socket.inet_ntop(socket.AF_INET, raw), int(port, 16))
    return "[%s]:%d" % (socket.inet_ntop(socket.AF_INET6, raw), int(port, 16))


TCP_ESTABLISHED = "01"  # the st column of /proc/net/tcp (include/net/tcp_states.h)


def sockets_of(pid, proto, remote):
    """Local addresses ("IP:PORT") of the sockets process `pid` has to `remote` ("IP:PORT"),
    TCP ones only while ESTABLISHED (after the server's FIN they are CLOSE_WAIT until the client
    gets round to closing them).
    Read from /proc (the process's socket inodes and its network namespace's tables) rather
    than `ss -p`, which walks every process's descriptors and can take seconds when another
    test holds tens of thousands of them."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue  # closed meanwhile
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    except OSError:
        return set()  # the process has exited
    found = set()
    for table in (proto, proto + "6"):
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            # sl local_address rem_address st queues timer retrnsmt uid timeout inode ...
            if len(fields) <= 9 or fields[9] not in inodes:
                continue
            if proto == "tcp" and fields[3] != TCP_ESTABLISHED:
                continue
            if _proc_net_address(fields[2]) == remote:
                found.add(_proc_net_address(fields[1]))
    return found


def send_indication(client, peer, payload):
    client.sock.sendall(encode(STUN_SEND, INDICATION, os.urandom(12),
                               [(XOR_PEER_ADDRESS, encode_xor_address(*peer)),
                                (DATA_ATTR, payload)]))


def receive_data(client, payload, timeout=3.0):
    """Waits for the Data indication carrying `payload` (the echo of a Send indication)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            m = Message(client._receive())
        except socket.timeout:
            continue
        if m.method == STUN_DATA_INDICATION and m.get(DATA_ATTR) == payload:
            return True
    return False


class Uclient:
    """turnutils_uclient in the background to the echo peer; output into a file."""

    def __init__(self, directory, name, port, *args):
        self.path = os.path.join(directory, name + ".log")
        self.out = open(self.path, "w")
        cmd = (["turnutils_uclient", "-p", str(port)] + [str(a) for a in args]
               + ["127.0.0.1"])
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT,
                                     preexec_fn=podium_harness.die_with_parent)

    def output(self):
        self.out.flush()
        with open(self.path, errors="replace") as f:
            return f.read()

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        stop_process(self.proc)
        self.out.close()


@unittest.skipUnless(shutil.which("turnutils_uclient") and shutil.which("turnutils_peer")
                     and shutil.which("ss"), "needs coturn's turnutils_uclient/peer and ss")
class AdminAllocationsTest(unittest.TestCase):
    """One podium for the class; the tests run in name order and build on each other."""

    @classmethod
    def setUpClass(cls):
        cls.t0 = time.monotonic()
        cls.tmp = tempfile.TemporaryDirectory(prefix="podium-admin-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.peer = EchoPeer()
        cls.addClassCleanup(cls.peer.stop)
        cls.peer_addr = (PEER_HOST, cls.peer.port)
        cls.podium = start_podium(cls, CONFIG)
        cls.udp = cls.podium.wait_host_port("relay", "udp")
        cls.tcp = cls.podium.wait_host_port("relay", "tcp")
        cls.base = cls.podium.url("metrics")
        cls.terminated_before = metric(scrape(cls.podium),
                                       "podium_relay_allocations_terminated_total")

        common = ["-m", 1, "-n", UCLIENT_MESSAGES, "-z", 50, "-e", PEER_HOST, "-r", cls.peer.port]
        cls.uc_alice = Uclient(cls.tmp.name, "alice", cls.udp[1], "-u", "alice", "-w", ALICE_PW,
                               *common)
        cls.addClassCleanup(cls.uc_alice.stop)
        cls.uc_bob = Uclient(cls.tmp.name, "bob", cls.tcp[1], "-t", "-u", "bob", "-w", BOB_PW,
                             *common)
        cls.addClassCleanup(cls.uc_bob.stop)

        cls.raw = {}  # name -> (RawClient, relayed address, expected user, expected username)
        carol_name = "%d:carol" % (int(time.time()) + 3600)
        for name, server, transport, username, password, user in (
                ("carol", cls.udp, "udp", carol_name, rest_password(REST_SECRET, carol_name),
                 "carol"),
                ("bob_tcp", cls.tcp, "tcp", "bob", BOB_PW, "bob"),
                ("bob_udp", cls.udp, "udp", "bob", BOB_PW, "bob")):
            client = RawClient(server, transport)
            cls.addClassCleanup(client.close)
            r = client.allocate(username, password)
            if r.cls != SUCCESS:
                raise AssertionError("%s: Allocate failed: %r" % (name, r))
            cls.raw[name] = (client, r.xor_address(XOR_RELAYED_ADDRESS), user, username)
        # Permissions: carol 2 (the echo peer and a silent one), bob_tcp 1, bob_udp none.
        for name, peers in (("carol", [cls.peer_addr, ("127.0.0.3", 9)]),
                            ("bob_tcp", [cls.peer_addr])):
            client = cls.raw[name][0]
            for peer in peers:
                r = client.request(CREATE_PERMISSION, [(XOR_PEER_ADDRESS,
                                                        encode_xor_address(*peer))])
                if r.cls != SUCCESS:
                    raise AssertionError("%s: CreatePermission failed: %r" % (name, r))

    @classmethod
    def tearDownClass(cls):
        print("admin API test class: %.1f s" % (time.monotonic() - cls.t0), flush=True)

    def tearDown(self):
        self.assertIsNone(self.podium.proc.poll(),
                          "podium died:\n" + self.podium.stderr()[-3000:])

    # --- helpers

    def listing(self, query=""):
        status, body, headers = admin(self.base, "GET", "/admin/allocations" + query)
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get_content_type(), "application/json")
        doc = json.loads(body)
        self.assertEqual(set(doc), {"count", "allocations"})
        self.assertEqual(doc["count"], len(doc["allocations"]))
        for entry in doc["allocations"]:
            self.assertEqual(set(entry), ENTRY_KEYS, entry)
        return doc["allocations"]

    def by_client(self, entries):
        return {(e["transport"], e["client"]): e for e in entries}

    def raw_entry(self, entries, name):
        client = self.raw[name][0]
        key = (client.transport, addr(client.local_address()))
        found = [e for e in entries if (e["transport"], e["client"]) == key]
        self.assertEqual(len(found), 1, "%s %s in %s" % (name, key, entries))
        return found[0]

    def uclient_entries(self, entries):
        raw_keys = {(c.transport, addr(c.local_address())) for c, _, _, _ in self.raw.values()}
        return [e for e in entries if (e["transport"], e["client"]) not in raw_keys]

    def relay_echo(self, name, sizes):
        client = self.raw[name][0]
        for i, size in enumerate(sizes):
            payload = bytes([0x41 + i]) * size
            send_indication(client, self.peer_addr, payload)
            self.assertTrue(receive_data(client, payload), "%s: no echo of %d bytes" % (name, size))

    # --- tests

    def test_1_list_has_exactly_the_allocations_made(self):
        # uclient's allocations appear once each of its clients relays (TCP ones start ~1-3 s
        # later than UDP ones).
        def uclients_relaying():
            entries = self.uclient_entries(self.listing())
            users = {e["username"] for e in entries if e["bytes_to_peer"] > 0}
            return {"alice", "bob"} <= users and entries
        self.assertTrue(wait_for(uclients_relaying, timeout=10), self.listing())
        entries = self.listing()
        print("%d allocations listed, %.1f s after start" % (len(entries),
                                                             time.monotonic() - self.t0))
        self.assertEqual(len({e["id"] for e in entries}), len(entries), "ids not unique")
        ages = [e["age_seconds"] for e in entries]
        self.assertEqual(ages, sorted(ages, reverse=True), "not oldest first")

        for name, (client, relayed, user, username) in self.raw.items():
            with self.subTest(raw=name):
                e = self.raw_entry(entries, name)
                self.assertEqual(e["server"], addr(self.udp if client.transport == "udp"
                                                   else self.tcp))
                self.assertEqual(e["relayed"], addr(relayed))
                self.assertEqual((e["user"], e["username"]), (user, username))
                self.assertEqual(e["permissions"], {"carol": 2, "bob_tcp": 1, "bob_udp": 0}[name])
                self.assertEqual(e["channels"], 0)
                self.assertEqual((e["bytes_to_peer"], e["bytes_to_client"]), (0, 0))
                self.assertGreaterEqual(e["age_seconds"], 0)
                self.assertLessEqual(e["expires_in_seconds"], DEFAULT_LIFETIME)
                self.assertGreaterEqual(e["expires_in_seconds"],
                                        DEFAULT_LIFETIME - e["age_seconds"] - 2)
        self.assertEqual(self.raw_entry(entries, "carol")["username"].split(":")[1], "carol")

        # The rest are uclient's: alice over UDP to the UDP listener, bob over TCP to the TCP
        # listener, one for each socket uclient has open to the relay (ss -p), and nothing else
        # except alice's first "probe" allocation, which uclient abandons (its socket closed).
        rest = self.uclient_entries(entries)
        for e in rest:
            expected = ("udp", addr(self.udp)) if e["username"] == "alice" else \
                ("tcp", addr(self.tcp))
            self.assertIn(e["username"], ("alice", "bob"), e)
            self.assertEqual(e["user"], e["username"], e)
            self.assertEqual((e["transport"], e["server"]), expected, e)
            self.assertRegex(e["relayed"], r"^127\.0\.0\.1:432\d\d$", e)
        for name, uc, transport, listener in (("alice", self.uc_alice, "udp", self.udp),
                                              ("bob", self.uc_bob, "tcp", self.tcp)):
            with self.subTest(uclient=name):
                live = sockets_of(uc.proc.pid, transport, addr(listener))
                listed = {e["client"] for e in rest if e["username"] == name}
                self.assertTrue(live, "uclient %s has no socket to the relay" % name)
                self.assertLessEqual(live, listed, "uclient %s sockets not all listed" % name)
                extra = [e for e in rest if e["username"] == name and e["client"] not in live]
                self.assertLessEqual(len(extra), 1 if name == "alice" else 0, extra)
                for e in extra:
                    self.assertEqual((e["permissions"], e["channels"], e["bytes_to_peer"]),
                                     (0, 0, 0), e)
                live_entries = [e for e in rest if e["client"] in live]
                self.assertTrue(all(e["channels"] >= 1 and e["permissions"] >= 1
                                    for e in live_entries), live_entries)
                print("uclient %s: %d live allocations, %d abandoned" % (
                    name, len(live_entries), len(extra)))

        # ?user= filters by user or by the USERNAME as sent.
        ids = lambda es: sorted(e["id"] for e in es)  # noqa: E731
        carol_username = self.raw["carol"][3]
        for query, want in (("bob", [e for e in entries if e["user"] == "bob"]),
                            ("alice", [e for e in entries if e["user"] == "alice"]),
                            ("carol", [self.raw_entry(entries, "carol")]),
                            (carol_username, [self.raw_entry(entries, "carol")]),
                            (carol_username.replace(":", "%3A"), [self.raw_entry(entries,
                                                                                 "carol")]),
                            ("nobody", [])):
            with self.subTest(user=query):
                got = self.listing("?user=" + query)
                self.assertEqual(ids(got), ids(want))
        self.assertEqual(len(self.listing("?user=bob")),
                         2 + len([e for e in rest if e["username"] == "bob"]))
        type(self).first_listing = (time.monotonic(), entries)

    def test_2_counters_and_age_grow(self):
        t_first, first = self.first_listing
        self.relay_echo("carol", [100, 100, 100])
        self.relay_echo("bob_tcp", [50, 70])
        expected = {"carol": (300, 300), "bob_tcp": (120, 120), "bob_udp": (0, 0)}

        def counted():
            entries = self.listing()
            return all((self.raw_entry(entries, n)["bytes_to_peer"],
                        self.raw_entry(entries, n)["bytes_to_client"]) == v
                       for n, v in expected.items()) and entries
        entries = wait_for(counted, timeout=3)
        entries = entries or self.listing()
        for name, (to_peer, to_client) in expected.items():
            e = self.raw_entry(entries, name)
            self.assertEqual((e["bytes_to_peer"], e["bytes_to_client"]), (to_peer, to_client),
                             "%s: payload bytes" % name)
        self.assertEqual(self.raw_entry(entries, "carol")["permissions"], 2)
        self.assertEqual(self.raw_entry(entries, "bob_tcp")["permissions"], 1)

        # age_seconds grows with time (whole seconds), expires_in_seconds shrinks.
        time.sleep(max(0.0, 2.0 - (time.monotonic() - t_first)))
        elapsed = time.monotonic() - t_first
        entries = self.listing()
        old = self.by_client(first)
        for name in self.raw:
            e = self.raw_entry(entries, name)
            before = old[(e["transport"], e["client"])]
            grew = e["age_seconds"] - before["age_seconds"]
            self.assertGreaterEqual(grew, int(elapsed) - 1, (name, before, e, elapsed))
            self.assertLessEqual(grew, int(elapsed) + 1, (name, before, e, elapsed))
            self.assertLess(e["expires_in_seconds"], before["expires_in_seconds"], name)
        # uclient's live allocations relay all the time: their counters grow too.
        for name in ("alice", "bob"):
            was = sum(e["bytes_to_peer"] for e in first if e["username"] == name)
            now = sum(e["bytes_to_peer"] for e in entries if e["username"] == name)
            self.assertGreater(now, was, "uclient %s bytes_to_peer" % name)
            print("uclient %s bytes_to_peer %d -> %d in %.1f s" % (name, was, now, elapsed))

    def test_3_unauthorized_delete_changes_nothing(self):
        before = self.listing()
        for token, scheme in ((None, None), ("wrong-token", "Bearer"),
                              (ADMIN_TOKEN + "x", "Bearer"), (ADMIN_TOKEN[:-1], "Bearer"),
                              (ADMIN_TOKEN, "Basic"), ("", "Bearer")):
            with self.subTest(token=token, scheme=scheme):
                for method, path in (("DELETE", "/admin/users/bob/allocations"),
                                     ("GET", "/admin/allocations"), ("GET", "/admin/config"),
                                     ("GET", "/admin/nothing-here")):
                    status, body, headers = admin(self.base, method, path, token=token,
                                                  scheme=scheme)
                    self.assertEqual(status, 401, (method, path, body))
                    self.assertEqual(headers.get("WWW-Authenticate"), "Bearer", (method, path))
                    self.assertNotIn(ALICE_PW, body)
        after = self.listing()
        self.assertLessEqual({e["id"] for e in before if e["user"] == "bob"},
                             {e["id"] for e in after})
        self.assertEqual(metric(scrape(self.podium), "podium_relay_allocations_terminated_total"),
                         self.terminated_before)
        # Methods: 405 with Allow (POST /admin/drain is not sent: it would drain this podium).
        for method, path, allow in (("GET", "/admin/drain", "POST"),
                                    ("POST", "/admin/allocations", "GET"),
                                    ("DELETE", "/admin/allocations", "GET"),
                                    ("PUT", "/admin/users/bob/allocations", "GET, DELETE"),
                                    ("POST", "/admin/users/bob/allocations", "GET, DELETE"),
                                    ("DELETE", "/admin/config", "GET")):
            with self.subTest(method=method, path=path):
                status, body, headers = admin(self.base, method, path)
                self.assertEqual(status, 405, body)
                self.assertEqual(headers.get("Allow"), allow)
        status, body, _ = admin(self.base, "GET", "/admin/nothing-here")
        self.assertEqual(status, 404, body)
        self.assertEqual(len(self.listing("?user=bob")),
                         len([e for e in before if e["user"] == "bob"]))

    def test_4_terminate_bob(self):
        entries = self.listing()
        bob = [e for e in entries if e["user"] == "bob"]
        others = [e for e in entries if e["user"] != "bob"]
        bob_tcp_uclient = sockets_of(self.uc_bob.proc.pid, "tcp", addr(self.tcp))
        self.assertTrue(bob_tcp_uclient)
        alice_sent = sum(e["bytes_to_peer"] for e in entries if e["user"] == "alice")
        bob_raw = self.raw["bob_tcp"][0]
        self.assertEqual(len(bob), 2 + len(bob_tcp_uclient), bob)
        # The checks below need alice's uclient still relaying (it runs ~10 s).
        self.assertIsNone(self.uc_alice.proc.poll(), "alice's uclient ended too early")

        start = time.monotonic()
        status, body, headers = admin(self.base, "DELETE", "/admin/users/bob/allocations")
        took = time.monotonic() - start
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get_content_type(), "application/json")
        self.assertEqual(json.loads(body), {"user": "bob", "terminated": len(bob)})
        print("DELETE bob: %d allocations terminated in %.3f s" % (len(bob), took))

        # bob's raw TCP connection: closed by podium (EOF) within 1 s of the answer.
        bob_raw.sock.settimeout(0.1)
        eof, junk = None, b""
        while time.monotonic() - start < 1.0 + took and eof is None:
            try:
                data = bob_raw.sock.recv(4096)
            except socket.timeout:
                continue
            except ConnectionResetError:
                eof = "reset"
                break
            if not data:
                eof = "eof"
                print("bob's raw TCP connection: EOF %.3f s after the DELETE was sent"
                      % (time.monotonic() - start))
            junk += data
        self.assertEqual(eof, "eof", "bob's TCP connection was not closed (got %r, %r)"
                         % (eof, junk))
        # uclient's TCP connections were closed by podium too (FIN received: no longer
        # ESTABLISHED on uclient's side).
        self.assertTrue(wait_for(lambda: not sockets_of(self.uc_bob.proc.pid, "tcp",
                                                        addr(self.tcp)), timeout=1.0,
                                 interval=0.1),
                        "uclient -t still connected: %s" % sockets_of(self.uc_bob.proc.pid,
                                                                      "tcp", addr(self.tcp)))

        after = self.listing()
        self.assertEqual([e for e in after if e["user"] == "bob"], [])
        self.assertEqual(self.listing("?user=bob"), [])
        self.assertEqual(sorted(e["id"] for e in others), sorted(e["id"] for e in after))
        # bob's UDP allocation is gone: Refresh gets 437 Allocation Mismatch.
        client = self.raw["bob_udp"][0]
        r = client.request(REFRESH, [(LIFETIME, struct.pack("!I", 600))])
        self.assertEqual((r.method, r.cls, r.error_code), (REFRESH, ERROR, 437), r)
        # carol still relays, alice's uclient too.
        self.relay_echo("carol", [200])
        e = self.raw_entry(self.listing(), "carol")
        self.assertEqual((e["bytes_to_peer"], e["bytes_to_client"]), (500, 500))
        self.assertTrue(wait_for(lambda: sum(e["bytes_to_peer"] for e in self.listing()
                                             if e["user"] == "alice") > alice_sent, timeout=3),
                        "alice's uclient stopped relaying")
        # The counter, the second DELETE and an unknown user.
        self.assertTrue(wait_for(lambda: metric(scrape(self.podium),
                                                "podium_relay_allocations_terminated_total")
                                 == self.terminated_before + len(bob), timeout=3),
                        "podium_relay_allocations_terminated_total: %s, expected %s" % (
                            metric(scrape(self.podium),
                                   "podium_relay_allocations_terminated_total"),
                            self.terminated_before + len(bob)))
        for user in ("bob", "nobody"):
            status, body, _ = admin(self.base, "DELETE", "/admin/users/%s/allocations" % user)
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body), {"user": user, "terminated": 0}, user)
        self.assertEqual(metric(scrape(self.podium), "podium_relay_allocations_terminated_total"),
                         self.terminated_before + len(bob))
        # Terminating is not a ban: bob can allocate again.
        with RawClient(self.tcp, "tcp") as again:
            r = again.allocate("bob", BOB_PW)
            self.assertEqual(r.cls, SUCCESS, r)
            self.assertEqual(len(self.listing("?user=bob")), 1)
            r = again.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
            self.assertEqual(r.cls, SUCCESS, r)

    def test_5_uclients_finish(self):
        # alice's uclient relayed through the whole test without loss; bob's saw its
        # connections end (its sends after the DELETE fail: "send dropped").
        code = self.uc_alice.wait(30)
        out = self.uc_alice.output()
        self.assertEqual(code, 0, out[-3000:])
        a_sent, a_received, a_lost = uclient_totals(out)
        self.assertEqual(a_sent, 2 * UCLIENT_MESSAGES, out[-3000:])
        self.assertEqual((a_received, a_lost), (a_sent, 0), out[-3000:])
        self.uc_bob.wait(30)
        out = self.uc_bob.output()
        sent, received, lost = uclient_totals(out)
        dropped = re.findall(r"total send dropped (\d+)", out)
        print("uclient alice: sent %d received %d lost %d; uclient bob: sent %d received %d, "
              "send dropped %s" % (a_sent, a_received, a_lost, sent, received,
                                   dropped[-1] if dropped else "?"))
        self.assertLess(received, 2 * UCLIENT_MESSAGES, out[-3000:])
        self.assertTrue(dropped and int(dropped[-1]) > 0, out[-3000:])

    def test_6_config_redacted(self):
        status, body, headers = admin(self.base, "GET", "/admin/config")
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get("Content-Type"), "application/yaml; charset=utf-8")
        for key, value in SECRETS.items():
            self.assertNotIn(value, body, key)
            self.assertNotIn(value, str(headers), key)
        doc = yaml.safe_load(body)
        self.assertEqual(body.count("<redacted>"), len(SECRETS), body)
        self.assertEqual(doc["relay"]["users"], {"alice": "<redacted>", "bob": "<redacted>"})
        self.assertEqual(doc["relay"]["auth_secrets"], ["<redacted>"])
        self.assertEqual(doc["signaling"]["token_secret"], "<redacted>")
        self.assertEqual(doc["signaling"]["api_key"], "<redacted>")
        self.assertEqual(doc["metrics"]["admin_token"], "<redacted>")
        # Non-secret values as configured.
        self.assertEqual(doc["relay"]["realm"], REALM)
        self.assertEqual(doc["relay"]["listen"], RELAY_LISTEN)
        self.assertEqual(str(doc["relay"]["relay_ports"]), RELAY_PORTS)
        self.assertEqual(doc["relay"]["allow_peers"], ["127.0.0.0/8"])
        self.assertEqual(doc["relay"]["unauthenticated_rate"], 0)
        self.assertEqual(doc["relay"]["default_lifetime"], "5m")
        self.assertEqual(doc["metrics"]["listen"], "127.0.0.1:0")
        self.assertEqual(doc["signaling"]["listen"], "127.0.0.1:0")
        self.assertEqual(doc["signaling"]["open_rooms"], False)
        self.assertEqual(set(doc), {"log", "metrics", "relay", "signaling"})
        # Every key docs/configuration.md documents for these sections (those without a
        # default that are not set here are left out), and no undocumented one.
        optional = {"relay": {"relay_ip", "external_ip", "tls", "rfc5780"}, "signaling": {"public_url"}}
        documented = documented_keys()
        unknown_to_binary = []
        for section in doc:
            with self.subTest(section=section):
                self.assertLessEqual(set(doc[section]), documented[section],
                                     "undocumented keys in " + section)
                missing = documented[section] - optional.get(section, set()) - set(doc[section])
                # A key this podium binary does not know (docs ahead of an older build) is
                # reported, not failed.
                unknown_to_binary += [section + "." + k for k in missing
                                      if not binary_knows(self.tmp.name, section, k)]
                missing -= {k.split(".", 1)[1] for k in unknown_to_binary
                            if k.startswith(section + ".")}
                self.assertEqual(missing, set(), "documented keys missing in " + section)
        if unknown_to_binary:
            print("documented but unknown to this podium binary: %s" % unknown_to_binary)

        # Fed back: `podium check-config` accepts it, and a podium serving it answers the same
        # configuration (the admin token is now the string "<redacted>").
        path = os.path.join(self.tmp.name, "redacted.yaml")
        with open(path, "w") as f:
            f.write(body)
        r = podium_harness.run(["check-config", path])
        print("check-config on GET /admin/config: exit %d: %s" % (
            r.returncode, (r.stdout + r.stderr).strip()))
        self.assertEqual(r.returncode, 0, "check-config refused the redacted config:\n%s%s\n%s"
                         % (r.stdout, r.stderr, body))
        with Podium(body, expect=("relay", "metrics")) as again:
            status, body2, _ = admin(again.url("metrics"), "GET", "/admin/config",
                                     token="<redacted>")
            self.assertEqual(status, 200, body2)
            code, _ = again.stop()
            self.assertEqual(code, 0, again.stderr()[-3000:])
        strip = lambda text: text.split("\n", 1)[1]  # noqa: E731 (the comment names the file)
        self.assertEqual(strip(body2), strip(body))


def documented_keys():
    """{section: {key, ...}} from the tables of docs/configuration.md (`tls.cert` -> `tls`)."""
    with open(os.path.join(SOURCE_DIR, "docs", "configuration.md")) as f:
        text = f.read()
    keys = {}
    for m in re.finditer(r"^## `(\w+)`\n(.*?)(?=^## )", text, re.M | re.S):
        keys[m.group(1)] = {k.split(".")[0] for k in re.findall(r"^\| `([\w.]+)` \|",
                                                                 m.group(2), re.M)}
    return keys


def binary_knows(directory, section, key):
    """False when `podium check-config` says `section.key` is an unknown key."""
    path = os.path.join(directory, "probe.yaml")
    base = "metrics: {}\nsignaling: {open_rooms: true}\n" \
           "relay: {listen: [udp://127.0.0.1:0], users: {a: b}}\n"
    with open(path, "w") as f:
        f.write(base.replace(section + ": {", section + ": {" + key + ": 0, ", 1)
                if section + ": {" in base else base + section + ":\n  " + key + ": 0\n")
    r = podium_harness.run(["check-config", path])
    return "unknown key" not in r.stdout + r.stderr


class AdminApiOffTest(unittest.TestCase):
    """metrics.admin_token empty: every /admin/ path is 404, with or without a token."""

    def test_admin_api_off_is_404(self):
        config = CONFIG.replace("admin_token: " + ADMIN_TOKEN, 'admin_token: ""')
        with Podium(config, expect=("relay", "metrics")) as podium:
            base = podium.url("metrics")
            for token in (None, ADMIN_TOKEN, ""):
                for method, path in (("GET", "/admin/allocations"),
                                     ("GET", "/admin/allocations?user=bob"),
                                     ("DELETE", "/admin/users/bob/allocations"),
                                     ("GET", "/admin/config"), ("POST", "/admin/drain"),
                                     ("GET", "/admin/")):
                    with self.subTest(token=token, method=method, path=path):
                        status, body, headers = admin(base, method, path, token=token)
                        self.assertEqual(status, 404, body)
                        self.assertIsNone(headers.get("WWW-Authenticate"))
                        self.assertNotIn(ALICE_PW, body)
            self.assertEqual(metric(scrape(podium), "podium_draining"), 0)
            code, _ = podium.stop()
            self.assertEqual(code, 0, podium.stderr()[-3000:])


class AdminApiWithoutRelayTest(unittest.TestCase):
    """No relay in the process: the allocation paths are 404, the config is there."""

    def test_allocation_paths_404_without_relay(self):
        config = re.sub(r"\nrelay:\n(  .*\n)+", "\n", CONFIG)
        self.assertNotIn("relay", config)
        with Podium(config, expect=("signaling", "metrics")) as podium:
            base = podium.url("metrics")
            for method, path in (("GET", "/admin/allocations"),
                                 ("DELETE", "/admin/users/bob/allocations")):
                with self.subTest(method=method, path=path):
                    status, body, _ = admin(base, method, path)
                    self.assertEqual(status, 404, body)
                    status, body, headers = admin(base, method, path, token=None)
                    self.assertEqual(status, 401, body)
            status, body, _ = admin(base, "GET", "/admin/config")
            self.assertEqual(status, 200, body)
            doc = yaml.safe_load(body)
            self.assertEqual(set(doc), {"log", "metrics", "signaling"})
            self.assertNotIn(API_KEY, body)
            code, _ = podium.stop()
            self.assertEqual(code, 0, podium.stderr()[-3000:])


if __name__ == "__main__":
    unittest.main()
