"""IPv6 on the relay (RFC 6156 as folded into RFC 8656): IPv6 listeners, IPv6 relayed addresses,
REQUESTED-ADDRESS-FAMILY, dual-stack allocations (ADDITIONAL-ADDRESS-FAMILY, ADDRESS-ERROR-CODE)
and the peer policy's IPv6 ranges. Everything runs on ::1 and 127.0.0.1.

coturn's turnutils_uclient drives IPv6 over UDP and TCP listeners (-x: an IPv6 relayed address)
and dual allocations (-Z). coturn 4.6.1's client still uses the draft code points for the dual
allocation attributes (0x8032/0x8033); podium accepts them as aliases, and the raw client here
uses RFC 8656's (0x8000/0x8001) to check the exact answers: both relayed addresses, data through
each to a peer of its family, deleting one family with a Refresh, and the error cases.
"""
import os
import re
import socket
import struct
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from podium_harness import Podium, metric, scrape, wait_for  # noqa: E402
from test_relay_interop import LIFETIME, REFRESH, SUCCESS, start_podium  # noqa: E402
from turn_client import IPV4, IPV6, Client  # noqa: E402

REQUESTED_ADDRESS_FAMILY = 0x0017
ADDITIONAL_ADDRESS_FAMILY, ADDRESS_ERROR_CODE = 0x8000, 0x8001
TOOL_TIMEOUT = 60
HAVE_UCLIENT = subprocess.run(["sh", "-c", "command -v turnutils_uclient"],
                              capture_output=True).returncode == 0


def ipv6_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def config(relay_ips, allow_peers=True):
    return """
log:
  level: debug
metrics:
  listen: 127.0.0.1:0
relay:
  listen: ["udp://127.0.0.1:0", "udp://[::1]:0", "tcp://[::1]:0"]
  relay_ip: [%s]
  relay_ports: "40000-40999"
  users: {test: test}
  unauthenticated_rate: 0
%s""" % (", ".join('"%s"' % ip for ip in relay_ips),
         # ::1 is one of the relay's own addresses, refused outside relay_ports unless trusted.
         '  allow_peers: [127.0.0.0/8, "::1/128"]\n  trusted_peers: ["[::1]:0"]\n'
         if allow_peers else "")


def listener(podium, transport, host):
    for url in podium.listeners.get("relay", []):
        m = re.match(r"^%s://\[?([^\]]+?)\]?:(\d+)$" % transport, url)
        if m and m.group(1) == host:
            return host, int(m.group(2))
    raise AssertionError("no %s listener on %s: %r" % (transport, host, podium.listeners))


def family_value(family):
    return bytes([family, 0, 0, 0])


def address_error(reply, atype=ADDRESS_ERROR_CODE):
    value = reply.get(atype)
    if value is None:
        return None
    return value[0], (value[2] & 7) * 100 + value[3]


@unittest.skipUnless(ipv6_available(), "no IPv6 on loopback")
class DualStackRelay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.podium = start_podium(cls, config(["127.0.0.1", "::1"]))  # a class cleanup stops it
        cls.udp4 = listener(cls.podium, "udp", "127.0.0.1")
        cls.udp6 = wait_for(lambda: cls._find("udp", "::1"), timeout=5)
        cls.tcp6 = wait_for(lambda: cls._find("tcp", "::1"), timeout=5)

    @classmethod
    def _find(cls, transport, host):
        try:
            return listener(cls.podium, transport, host)
        except AssertionError:
            return None

    def created(self, transport):
        return metric(scrape(self.podium), "podium_relay_allocations_created_total",
                      transport=transport)

    def uclient(self, *args):
        proc = subprocess.run(["turnutils_uclient", "-u", "test", "-w", "test", "-n", "50",
                               "-m", "2", "-l", "120", "-z", "5", "-y", "-c", *args],
                              capture_output=True, text=True, timeout=TOOL_TIMEOUT)
        out = proc.stdout + proc.stderr
        self.assertEqual(proc.returncode, 0, out)
        sent = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)", out)
        self.assertTrue(sent, out)
        lost = re.search(r"Total lost packets (\d+)", out)
        self.assertIsNotNone(lost, out)
        self.assertNotRegex(out, r"error \d{3}", out)
        return int(sent[-1][0]), int(sent[-1][1]), int(lost.group(1))

    @unittest.skipUnless(HAVE_UCLIENT, "turnutils_uclient not installed")
    def test_uclient_ipv6_relayed_over_ipv6_udp_and_tcp(self):
        for transport, (host, port), flags in (("udp", self.udp6, []), ("tcp", self.tcp6, ["-t"])):
            with self.subTest(transport=transport):
                before = self.created(transport)
                sent, received, lost = self.uclient(*flags, "-x", "-p", str(port), host)
                # -y: 2 pairs of clients relay to each other's IPv6 relayed address, 50 each.
                self.assertEqual(sent, 100)
                self.assertEqual(received, 100)
                self.assertEqual(lost, 0)
                self.assertTrue(wait_for(lambda: self.created(transport) >= before + 2, 5))

    @unittest.skipUnless(HAVE_UCLIENT, "turnutils_uclient not installed")
    def test_uclient_dual_allocation(self):
        # -Z: ADDITIONAL-ADDRESS-FAMILY (coturn's draft code point). Its Refreshes carry
        # REQUESTED-ADDRESS-FAMILY IPv4 or IPv6 at random: a single-family allocation answers
        # one of them with 443, which the no-"error" check catches.
        host, port = self.udp4
        for _ in range(3):
            sent, received, lost = self.uclient("-Z", "-p", str(port), host)
            self.assertEqual((sent, received, lost), (100, 100, 0))

    def test_dual_allocation_relays_each_family(self):
        client = Client(self.udp4)
        peer4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        try:
            peer4.bind(("127.0.0.2", 0))
            peer6.bind(("::1", 0))
            for s in (peer4, peer6):
                s.settimeout(3)
            reply = client.allocate((ADDITIONAL_ADDRESS_FAMILY, family_value(IPV6)))
            self.assertEqual(reply.cls, SUCCESS, reply)
            relayed = client.relayed(reply)
            self.assertEqual(len(relayed), 2, relayed)
            self.assertEqual(relayed[0][0], "127.0.0.1")
            self.assertEqual(relayed[1][0], "::1")
            self.assertIsNone(reply.get(ADDRESS_ERROR_CODE))
            self.assertEqual(client.permit(*peer4.getsockname()[:2]).cls, SUCCESS)
            self.assertEqual(client.permit(*peer6.getsockname()[:2]).cls, SUCCESS)
            # Each peer hears from the relayed address of its own family, and answers reach
            # the client as Data indications naming the peer.
            for peer, relayed_address in ((peer4, relayed[0]), (peer6, relayed[1])):
                local = peer.getsockname()[:2]
                client.send_indication(local[0], local[1], b"hello " + local[0].encode())
                data, source = peer.recvfrom(100)
                self.assertEqual(data, b"hello " + local[0].encode())
                self.assertEqual(source[:2], relayed_address)
                peer.sendto(b"back", source)
                (from_host, from_port), payload = client.data_indication()
                self.assertEqual((from_host, from_port, payload), (local[0], local[1], b"back"))
            # Refresh LIFETIME 0 + REQUESTED-ADDRESS-FAMILY IPv6 deletes only the IPv6 side
            # (RFC 8656 section 7.3): IPv6 peers are now a 443, IPv4 ones still work.
            reply = client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0)),
                                             (REQUESTED_ADDRESS_FAMILY, family_value(IPV6))])
            self.assertEqual(reply.cls, SUCCESS, reply)
            self.assertEqual(client.permit(*peer6.getsockname()[:2]).error_code, 443)
            self.assertEqual(client.permit(*peer4.getsockname()[:2]).cls, SUCCESS)
            local = peer4.getsockname()
            client.send_indication(local[0], local[1], b"still")
            self.assertEqual(peer4.recvfrom(100)[0], b"still")
            reply = client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
            self.assertEqual(reply.cls, SUCCESS, reply)
        finally:
            client.close()
            peer4.close()
            peer6.close()

    def test_requested_family_and_errors(self):
        cases = [
            # (attributes, expected error or None, expected relayed families)
            ([(REQUESTED_ADDRESS_FAMILY, family_value(IPV6))], None, [IPV6]),
            ([(REQUESTED_ADDRESS_FAMILY, family_value(IPV4))], None, [IPV4]),
            ([], None, [IPV4]),
            # ADDITIONAL-ADDRESS-FAMILY must be IPv6 and does not combine with
            # REQUESTED-ADDRESS-FAMILY (section 7.2).
            ([(ADDITIONAL_ADDRESS_FAMILY, family_value(IPV4))], 400, None),
            ([(ADDITIONAL_ADDRESS_FAMILY, family_value(IPV6)),
              (REQUESTED_ADDRESS_FAMILY, family_value(IPV4))], 400, None),
            ([(REQUESTED_ADDRESS_FAMILY, family_value(7))], 400, None),
        ]
        for attributes, error, families in cases:
            with self.subTest(attributes=attributes):
                client = Client(self.udp6)
                try:
                    reply = client.allocate(*attributes)
                    if error is not None:
                        self.assertEqual(reply.error_code, error, reply)
                        continue
                    self.assertEqual(reply.cls, SUCCESS, reply)
                    got = [IPV6 if ":" in h else IPV4 for h, _ in client.relayed(reply)]
                    self.assertEqual(got, families)
                    # A peer of the other family is a 443 (section 9.2).
                    other = "127.0.0.1" if families == [IPV6] else "::1"
                    self.assertEqual(client.permit(other).error_code, 443)
                    client.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
                finally:
                    client.close()


@unittest.skipUnless(ipv6_available(), "no IPv6 on loopback")
class SingleFamilyRelay(unittest.TestCase):
    def test_ipv4_only_relay_names_the_missing_family(self):
        with Podium(config(["127.0.0.1"]), expect=("metrics", "relay")) as podium:
            client = Client(listener(podium, "udp", "127.0.0.1"))
            try:
                reply = client.allocate((REQUESTED_ADDRESS_FAMILY, family_value(IPV6)))
                self.assertEqual(reply.error_code, 440, reply)
                # A dual-stack request still gets its IPv4 address, and ADDRESS-ERROR-CODE
                # says why there is no IPv6 one (440: no such address configured).
                reply = client.allocate((ADDITIONAL_ADDRESS_FAMILY, family_value(IPV6)))
                self.assertEqual(reply.cls, SUCCESS, reply)
                self.assertEqual(len(client.relayed(reply)), 1)
                self.assertEqual(address_error(reply), (IPV6, 440))
            finally:
                client.close()

    def test_default_peer_policy_refuses_ipv6_special_ranges(self):
        # Without allow_peers, link-local, unique-local, multicast and unspecified IPv6 peers
        # are refused (403), and so is ::1, the relay's own address here; a global unicast
        # address is permitted. An IPv4-mapped address is an IPv4 peer: on an IPv6 allocation
        # that is a 443.
        with Podium(config(["127.0.0.1", "::1"], allow_peers=False),
                    expect=("metrics", "relay")) as podium:
            client = Client(listener(podium, "udp", "127.0.0.1"))
            try:
                reply = client.allocate((REQUESTED_ADDRESS_FAMILY, family_value(IPV6)))
                self.assertEqual(reply.cls, SUCCESS, reply)
                for peer in ("::1", "fe80::1", "fd00::1", "ff02::1", "::"):
                    with self.subTest(peer=peer):
                        self.assertEqual(client.permit(peer).error_code, 403)
                self.assertEqual(client.permit("::ffff:8.8.8.8").error_code, 443)
                self.assertEqual(client.permit("2001:4860::8888").cls, SUCCESS)
                reasons = ("relay_own_address", "link_local", "unique_local", "multicast",
                           "unspecified")

                def counted():
                    samples = scrape(podium)
                    return all(metric(samples, "podium_relay_peer_refusals_total", reason=r) >= 1
                               for r in reasons)
                self.assertTrue(wait_for(counted, 5))
            finally:
                client.close()


if __name__ == "__main__":
    unittest.main()
