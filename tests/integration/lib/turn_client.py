"""A raw STUN/TURN client over UDP (IPv4 or IPv6) with long-term credentials, written from
RFC 8489 / RFC 8656 independently of podium's code. Used by test_relay_ipv6.py and
test_relay_mobility.py; the encoder and decoder are test_relay_interop.py's."""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from test_relay_interop import (ALLOCATE, CREATE_PERMISSION, ERROR, MAGIC,  # noqa: E402
                                NONCE, REALM_ATTR, REQUEST, REQUESTED_TRANSPORT, USERNAME,
                                XOR_PEER_ADDRESS, XOR_RELAYED_ADDRESS, Message, encode,
                                long_term_key)

SEND, DATA_INDICATION = 0x006, 0x007
INDICATION = 1
DATA = 0x0013
IPV4, IPV6 = 1, 2


def xor_address(host, port, tid):
    """XOR-PEER-ADDRESS / XOR-RELAYED-ADDRESS value (RFC 8489 section 14.2), IPv4 or IPv6."""
    xport = port ^ (MAGIC >> 16)
    if ":" not in host:
        raw = struct.unpack("!I", socket.inet_aton(host))[0] ^ MAGIC
        return struct.pack("!BBHI", 0, IPV4, xport, raw)
    mask = struct.pack("!I", MAGIC) + tid
    raw = bytes(a ^ b for a, b in zip(socket.inet_pton(socket.AF_INET6, host), mask))
    return struct.pack("!BBH", 0, IPV6, xport) + raw


def decode_xor(value, tid):
    family, xport = struct.unpack("!xBH", value[:4])
    port = xport ^ (MAGIC >> 16)
    if family == IPV4:
        raw = struct.unpack("!I", value[4:8])[0] ^ MAGIC
        return socket.inet_ntoa(struct.pack("!I", raw)), port
    mask = struct.pack("!I", MAGIC) + tid
    return socket.inet_ntop(socket.AF_INET6, bytes(a ^ b for a, b in zip(value[4:20], mask))), port


class Client:
    """One UDP 5-tuple to the relay, long-term credentials."""

    def __init__(self, server, user="test", password="test"):
        family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.connect(server)
        self.sock.settimeout(3)
        self.user, self.password = user, password
        self.key = self.realm = self.nonce = None

    def close(self):
        self.sock.close()

    def adopt_credentials(self, other):
        """Starts from another client's realm, nonce and key (skipping the 401 round)."""
        self.realm, self.nonce, self.key = other.realm, other.nonce, other.key

    def request(self, method, attributes):
        """Sends with credentials (after the first 401), retries on 401/438. Attribute values
        may be callables of the transaction id (for XOR addresses)."""
        for _ in range(3):
            tid = os.urandom(12)
            attrs = [(t, v(tid) if callable(v) else v) for t, v in attributes]
            if self.nonce is not None:
                attrs += [(USERNAME, self.user.encode()), (REALM_ATTR, self.realm),
                          (NONCE, self.nonce)]
                self.sock.send(encode(method, REQUEST, tid, attrs, self.key))
            else:
                self.sock.send(encode(method, REQUEST, tid, attrs))
            while True:
                reply = Message(self.sock.recv(4096))
                if reply.tid == tid:
                    break
            if reply.cls == ERROR and reply.error_code in (401, 438):
                self.realm = reply.get(REALM_ATTR)
                self.nonce = reply.get(NONCE)
                self.key = long_term_key(self.user, self.realm.decode(), self.password)
                continue
            if self.key is not None:
                assert reply.integrity_ok(self.key), reply
            return reply
        raise AssertionError("no authenticated answer")

    def allocate(self, *extra):
        return self.request(ALLOCATE, [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0])), *extra])

    @staticmethod
    def relayed(reply):
        return [decode_xor(v, reply.tid) for t, v, _ in reply.attributes
                if t == XOR_RELAYED_ADDRESS]

    def permit(self, host, port=9):
        return self.request(CREATE_PERMISSION,
                            [(XOR_PEER_ADDRESS, lambda tid: xor_address(host, port, tid))])

    def send_indication(self, host, port, payload):
        tid = os.urandom(12)
        self.sock.send(encode(SEND, INDICATION, tid,
                              [(XOR_PEER_ADDRESS, xor_address(host, port, tid)), (DATA, payload)]))

    def data_indication(self):
        while True:
            message = Message(self.sock.recv(4096))
            if message.method == DATA_INDICATION and message.cls == INDICATION:
                return decode_xor(message.get(XOR_PEER_ADDRESS), message.tid), message.get(DATA)
