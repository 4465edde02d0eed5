"""A raw STUN/TURN client over UDP (IPv4 or IPv6) that answers long-term credential challenges
itself: test_relay_interop.py's RawClient (written from RFC 8489 / RFC 8656 independently of
podium's code) plus the TURN requests test_relay_ipv6.py and test_relay_mobility.py make."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from test_relay_interop import (ALLOCATE, CREATE_PERMISSION, ERROR, NONCE,  # noqa: E402
                                REALM_ATTR, REQUESTED_TRANSPORT, XOR_PEER_ADDRESS,
                                XOR_RELAYED_ADDRESS, Message, RawClient, decode_xor_address,
                                encode, encode_xor_address)

SEND, DATA_INDICATION = 0x006, 0x007
INDICATION = 1
DATA = 0x0013
IPV4, IPV6 = 1, 2


class Client(RawClient):
    """One UDP 5-tuple to the relay, long-term credentials."""

    def __init__(self, server, user="test", password="test"):
        super().__init__(server, "udp")
        self.user, self.password = user, password

    def adopt_credentials(self, other):
        """Starts from another client's realm, nonce and key (skipping the 401 round)."""
        self.username, self.realm, self.nonce, self.key = (other.username, other.realm,
                                                           other.nonce, other.key)

    def request(self, method, attributes=()):
        """Sends with credentials (after the first 401), retries on 401/438, and checks
        MESSAGE-INTEGRITY. Attribute values may be callables of the transaction id (for XOR
        addresses)."""
        for _ in range(3):
            tid = os.urandom(12)
            attrs = [(t, v(tid) if callable(v) else v) for t, v in attributes]
            if self.nonce is None:
                reply = self.transact(method, attrs, tid=tid)
            else:
                reply = super().request(method, attrs, tid=tid)
            if reply.cls == ERROR and reply.error_code in (401, 438):
                self.realm = reply.get(REALM_ATTR).decode()
                self.nonce = reply.get(NONCE).decode()
                self.login(self.user, self.password)
                continue
            if self.key is not None:
                assert reply.integrity_ok(self.key), reply
            return reply
        raise AssertionError("no authenticated answer")

    def allocate(self, *extra):
        return self.request(ALLOCATE, [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0])), *extra])

    @staticmethod
    def relayed(reply):
        return [decode_xor_address(v, reply.tid) for t, v, _ in reply.attributes
                if t == XOR_RELAYED_ADDRESS]

    def permit(self, host, port=9):
        return self.request(CREATE_PERMISSION,
                            [(XOR_PEER_ADDRESS, lambda tid: encode_xor_address(host, port, tid))])

    def send_indication(self, host, port, payload):
        tid = os.urandom(12)
        self.sock.send(encode(SEND, INDICATION, tid, [(XOR_PEER_ADDRESS,
                                                       encode_xor_address(host, port, tid)),
                                                      (DATA, payload)]))

    def data_indication(self):
        while True:
            message = Message(self._receive())
            if message.method == DATA_INDICATION and message.cls == INDICATION:
                return (decode_xor_address(message.get(XOR_PEER_ADDRESS), message.tid),
                        message.get(DATA))
