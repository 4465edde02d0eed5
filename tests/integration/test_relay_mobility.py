"""RFC 8016 mobility on the relay (relay.mobility): an allocation requested with an empty
MOBILITY-TICKET gets a ticket; a Refresh carrying it from another 5-tuple moves the allocation
there, keeping its relayed address, permissions and peers.

coturn's turnutils_uclient -M requests tickets and, after allocating, reconnects from a new
socket and refreshes with the ticket before relaying. A raw client checks the details: the
relayed address stays, data follows the client to its new 5-tuple and stops reaching the old
one, each move returns a new ticket and retires the old one (400), another user cannot use a
ticket (441), TCP and a relay without relay.mobility answer 405. The relay runs two worker
threads, and the kernel spreads 5-tuples over them: the raw client keeps moving until podium's
log shows a move between two workers (the allocation's relayed socket changes thread).
"""
import os
import re
import socket
import struct
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from podium_harness import Podium, metric, scrape, wait_for  # noqa: E402
from turn_client import Client  # noqa: E402
from test_relay_interop import LIFETIME, REFRESH, SUCCESS, start_podium  # noqa: E402

MOBILITY_TICKET = 0x8030
PEER_HOST = "127.0.0.2"  # not one of the relay's own addresses
HAVE_UCLIENT = subprocess.run(["sh", "-c", "command -v turnutils_uclient"],
                              capture_output=True).returncode == 0


def config(mobility=True):
    return """
log:
  level: debug
metrics:
  listen: 127.0.0.1:0
relay:
  listen: ["udp://127.0.0.1:0", "tcp://127.0.0.1:0"]
  relay_ip: 127.0.0.1
  relay_ports: "41000-41999"
  users: {test: test, other: other}
  allow_peers: [127.0.0.0/8]
  unauthenticated_rate: 0
  workers: 2
  mobility: %s
""" % ("true" if mobility else "false")


def moves(podium, result):
    return metric(scrape(podium), "podium_relay_mobility_refreshes_total", result=result)


class Mobility(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.podium = start_podium(cls, config())  # stopped by a class cleanup
        cls.udp = cls.podium.wait_host_port("relay", "udp")
        cls.tcp = cls.podium.wait_host_port("relay", "tcp")

    @unittest.skipUnless(HAVE_UCLIENT, "turnutils_uclient not installed")
    def test_uclient_moves_and_relays(self):
        before = moves(self.podium, "moved")
        proc = subprocess.run(["turnutils_uclient", "-u", "test", "-w", "test", "-M", "-y", "-c",
                               "-n", "40", "-m", "4", "-z", "5", "-p", str(self.udp[1]),
                               self.udp[0]], capture_output=True, text=True, timeout=60)
        out = proc.stdout + proc.stderr
        self.assertEqual(proc.returncode, 0, out)
        self.assertNotRegex(out, r"error \d{3}", out)
        totals = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)", out)
        self.assertEqual(totals[-1], ("160", "160"), out)
        self.assertIn("Total lost packets 0 ", out)
        # Each of uclient's 4 relaying clients moved to a new socket first.
        self.assertTrue(wait_for(lambda: moves(self.podium, "moved") >= before + 4, 5),
                        moves(self.podium, "moved") - before)

    def test_raw_client_moves_between_sockets_and_workers(self):
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer.bind((PEER_HOST, 0))
        peer.settimeout(3)
        peer_host, peer_port = peer.getsockname()
        clients = [Client(self.udp)]
        try:
            first = clients[0]
            reply = first.allocate((MOBILITY_TICKET, b""))
            self.assertEqual(reply.cls, SUCCESS, reply)
            ticket = reply.get(MOBILITY_TICKET)
            self.assertTrue(ticket, reply)
            relayed = Client.relayed(reply)[0]
            self.assertEqual(first.permit(peer_host, peer_port).cls, SUCCESS)

            crossed = False
            for attempt in range(30):
                old = clients[-1]
                new = Client(self.udp)
                new.adopt_credentials(old)
                clients.append(new)
                reply = new.request(REFRESH, [(MOBILITY_TICKET, ticket),
                                              (LIFETIME, struct.pack("!I", 600))])
                self.assertEqual(reply.cls, SUCCESS, reply)
                fresh = reply.get(MOBILITY_TICKET)
                self.assertTrue(fresh and fresh != ticket, reply)
                # The old ticket is retired (400) and the old 5-tuple has no allocation (437).
                stale = Client(self.udp)
                stale.adopt_credentials(old)
                clients.append(stale)
                reply = stale.request(REFRESH, [(MOBILITY_TICKET, ticket)])
                self.assertEqual(reply.error_code, 400, reply)
                self.assertEqual(old.request(REFRESH, []).error_code, 437)
                ticket = fresh
                # Data follows the client: from the new socket through the same relayed
                # address, and the peer's answer reaches the new socket only.
                payload = b"move %d" % attempt
                new.send_indication(peer_host, peer_port, payload)
                data, source = peer.recvfrom(100)
                self.assertEqual((data, source), (payload, relayed))
                peer.sendto(b"back %d" % attempt, source)
                self.assertEqual(new.data_indication(), ((peer_host, peer_port),
                                                         b"back %d" % attempt))
                old.sock.settimeout(0.05)
                with self.assertRaises(socket.timeout):
                    old.sock.recv(4096)
                log = self.podium.stderr()
                crossed = bool(re.search(r"\(worker (\d)\) to .* \(worker (?!\1)\d\)", log))
                if crossed and attempt >= 2:
                    break
            self.assertTrue(crossed, "30 moves, none between workers")

            # Another user with the current ticket: 441 (the allocation stays put).
            intruder = Client(self.udp, user="other", password="other")
            clients.append(intruder)
            intruder.request(REFRESH, [])  # learn realm and nonce (437 on its own 5-tuple)
            self.assertEqual(intruder.request(REFRESH, [(MOBILITY_TICKET, ticket)]).error_code,
                             441)
            current = clients[-3]
            reply = current.request(REFRESH, [(MOBILITY_TICKET, ticket)])
            self.assertEqual(reply.cls, SUCCESS, reply)
            self.assertEqual(reply.get(MOBILITY_TICKET), ticket)  # its own 5-tuple: unchanged
            self.assertEqual(current.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))]).cls,
                             SUCCESS)
            self.assertTrue(wait_for(
                lambda: metric(scrape(self.podium), "podium_relay_mobility_tickets") == 0, 5))
            self.assertTrue(wait_for(lambda: moves(self.podium, "wrong_credentials") >= 1, 5))
            self.assertTrue(wait_for(lambda: moves(self.podium, "invalid_ticket") >= 1, 5))
        finally:
            for client in clients:
                client.close()
            peer.close()

    def test_tcp_allocation_cannot_have_a_ticket(self):
        # A TCP allocation ends with its connection, so it cannot move: 405.
        with socket.create_connection(self.tcp, timeout=3) as sock:
            client = Client(self.udp)
            client.sock.close()
            client.sock = sock
            reply = client.allocate((MOBILITY_TICKET, b""))
            self.assertEqual(reply.error_code, 405, reply)


class MobilityOff(unittest.TestCase):
    def test_ticket_requests_are_forbidden(self):
        with Podium(config(mobility=False), expect=("metrics", "relay")) as podium:
            client = Client(podium.wait_host_port("relay", "udp"))
            try:
                reply = client.allocate((MOBILITY_TICKET, b""))
                self.assertEqual(reply.error_code, 405, reply)
                reply = client.allocate()
                self.assertEqual(reply.cls, SUCCESS, reply)
                self.assertIsNone(reply.get(MOBILITY_TICKET))
            finally:
                client.close()


if __name__ == "__main__":
    unittest.main()
