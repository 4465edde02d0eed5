"""WHIP (RFC 9725) and WHEP on the signaling listener, against the real SFU in `podium serve`.

The offers are real ones (Chromium, Firefox, aiortc) from tests/unit/sfu/data/sdp/. What is
checked is the HTTP contract of docs/signaling.md: status codes, Location, ETag/If-Match, the
ICE server Link header fields, room tokens, CORS and the request metrics.
"""
import base64
import hashlib
import hmac
import http.client
import os
import re
import socket
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from podium_harness import Podium, metric, run, scrape  # noqa: E402

SOURCE_DIR = os.environ.get("PODIUM_SOURCE_DIR",
                            os.path.join(os.path.dirname(__file__), "..", ".."))
SDP_DIR = os.path.join(SOURCE_DIR, "tests", "unit", "sfu", "data", "sdp")

RELAY = """
relay:
  listen: [udp://127.0.0.1:0, tcp://127.0.0.1:0]
  ephemeral_secret: true
"""
SFU = """
sfu:
  listen_ip: 127.0.0.1
  udp_port: 0
"""
CLOSED_SIGNALING = """
signaling:
  listen: 127.0.0.1:0
  token_secret: s3cret
  api_key: k3y
"""
OPEN_SIGNALING = """
signaling:
  listen: 127.0.0.1:0
  open_rooms: true
"""
METRICS = """
metrics:
  listen: 127.0.0.1:0
"""
CLOSED = RELAY + SFU + CLOSED_SIGNALING + METRICS
OPEN = RELAY + SFU + OPEN_SIGNALING

SDP = "application/sdp"
SDPFRAG = "application/trickle-ice-sdpfrag"
LINK_RE = re.compile(r'^<([^>]*)>; rel="ice-server"(.*)$')
TURN_PARAMS_RE = re.compile(
    r'^; username="([^"]*)"; credential="([^"]*)"; credential-type="password"$')


def offer(name):
    with open(os.path.join(SDP_DIR, name), newline="") as f:
        return f.read()


def ice_credentials(sdp):
    """The first a=ice-ufrag / a=ice-pwd of an SDP."""
    return (re.search(r"^a=ice-ufrag:(\S+)", sdp, re.M).group(1),
            re.search(r"^a=ice-pwd:(\S+)", sdp, re.M).group(1))


def video_only(sdp):
    """The offer with its audio and data channel sections removed: a camera alone."""
    head, *sections = re.split(r"\r\n(?=m=)", sdp.rstrip("\r\n"))
    video = [s for s in sections if s.startswith("m=video")]
    mids = [re.search(r"^a=mid:(\S+)", s, re.M).group(1) for s in video]
    head = re.sub(r"^a=group:BUNDLE .*$", "a=group:BUNDLE " + " ".join(mids), head, flags=re.M)
    return "\r\n".join([head] + video) + "\r\n"


def trickle(ufrag, pwd, port=40000):
    """A trickle-ICE fragment (RFC 8840) for mid 0 with one host candidate."""
    return ("a=ice-ufrag:%s\r\na=ice-pwd:%s\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"
            "a=candidate:1 1 udp 2122260223 127.0.0.1 %d typ host\r\n" % (ufrag, pwd, port))


class Reply:
    def __init__(self, status, body, headers):
        self.status, self.body, self.headers = status, body, headers

    def header(self, name):
        return self.headers.get(name)

    def all(self, name):
        return self.headers.get_all(name) or []

    def __repr__(self):
        return "Reply(%s, %r, %r)" % (self.status, self.body[:200], self.headers.items())


def request(base, method, path, body=None, content_type=None, token=None, headers=None):
    url = urllib.parse.urlsplit(base)
    h = dict(headers or {})
    if content_type:
        h["Content-Type"] = content_type
    if token:
        h["Authorization"] = "Bearer " + token
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
    try:
        conn.request(method, path, body=body.encode() if isinstance(body, str) else body,
                     headers=h)
        r = conn.getresponse()
        return Reply(r.status, r.read().decode("utf-8", "replace"), r.headers)
    finally:
        conn.close()


def raw_status(base, head, body):
    """Sends a request as bytes and returns the response status, even when the server answers
    (and closes) before reading the whole body."""
    url = urllib.parse.urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=15) as s:
        try:
            s.sendall(head + body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", data)
    return int(m.group(1)) if m else None


def create_room(base, name=None):
    import json
    body = json.dumps({"room": name}) if name else None
    r = request(base, "POST", "/api/rooms", body, token="k3y")
    assert r.status == 201, r
    return json.loads(r.body)


def mint_token(podium, room, role):
    r = run(["token", "--config", podium.config_path, "--room", room, "--role", role])
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


class WhipWhepTest(unittest.TestCase):
    def post(self, base, endpoint, room, sdp, token=None, content_type=SDP):
        return request(base, "POST", "/%s/%s" % (endpoint, room), sdp, content_type, token)

    def assertCreated(self, r, endpoint, room):
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.header("Content-Type"), SDP)
        self.assertTrue(r.body.startswith("v=0\r\n"), r.body[:100])
        self.assertRegex(r.header("Location"), r"^/%s/%s/[A-Za-z0-9._~-]+$" % (endpoint, room))
        self.assertRegex(r.header("ETag"), r'^"[^"]+"$')
        self.assertIn("ETag", r.header("Access-Control-Expose-Headers"))
        self.assertEqual(r.header("Access-Control-Allow-Origin"), "*")
        return r.header("Location"), r.header("ETag")

    def check_links(self, podium, r, session_path):
        """RFC 9725 section 4.4: one Link per relay URI; turn: ones carry a REST credential."""
        relay = {url.split("://", 1)[0]: url.split("://", 1)[1]
                 for url in podium.listeners["relay"]}
        links = r.all("Link")
        uris = {}
        for link in links:
            m = LINK_RE.match(link)
            self.assertIsNotNone(m, link)
            uris[m.group(1)] = m.group(2)
        udp, tcp = relay["udp"], relay["tcp"]
        self.assertEqual(set(uris), {"stun:" + udp, "turn:%s?transport=udp" % udp,
                                     "turn:%s?transport=tcp" % tcp}, links)
        self.assertEqual(uris["stun:" + udp], "")
        credentials = set()
        for uri in ("turn:%s?transport=udp" % udp, "turn:%s?transport=tcp" % tcp):
            m = TURN_PARAMS_RE.match(uris[uri])
            self.assertIsNotNone(m, uris[uri])
            credentials.add(m.groups())
        self.assertEqual(len(credentials), 1, "one credential per response")
        username, password = credentials.pop()
        endpoint, _, session = session_path.split("/")[1:]
        expiry, user = username.split(":", 1)
        self.assertEqual(user, "%s-%s" % (endpoint, session))
        self.assertAlmostEqual(int(expiry), time.time() + 86400, delta=60)
        self.assertRegex(password, r"^[A-Za-z0-9+/]+=*$")
        return username, password

    def test_whip_and_whep_sessions(self):
        with Podium(CLOSED, expect=("metrics", "relay", "sfu", "signaling")) as p:
            base = p.url("signaling")
            room = create_room(base)
            name, presenter, guest = room["room"], room["presenter_token"], room["guest_token"]

            whip_offer = offer("chromium_156_whip_offer.sdp")
            r = self.post(base, "whip", name, whip_offer, presenter)
            whip, whip_etag = self.assertCreated(r, "whip", name)
            self.check_links(p, r, whip)

            whep_offer = offer("firefox_153_whep_offer.sdp")
            r = self.post(base, "whep", name, whep_offer, guest)
            whep, etag = self.assertCreated(r, "whep", name)
            self.check_links(p, r, whep)
            answer_ufrag, _ = ice_credentials(r.body)
            ufrag, pwd = ice_credentials(whep_offer)
            # A presenter token also admits a guest.
            r = self.post(base, "whep", name, offer("aiortc_1_4_whep_offer.sdp"), presenter)
            aiortc, _ = self.assertCreated(r, "whep", name)

            # Trickle ICE (RFC 9725 section 4.3.2): 204, If-Match naming the ICE session.
            r = request(base, "PATCH", whep, trickle(ufrag, pwd), SDPFRAG, guest,
                        {"If-Match": etag})
            self.assertEqual(r.status, 204, r)
            self.assertEqual(r.body, "")
            r = request(base, "PATCH", whep, trickle(ufrag, pwd), "application/sdp", guest,
                        {"If-Match": etag})
            self.assertEqual(r.status, 415, r)
            # ICE restart (section 4.3.3): new credentials need If-Match (412 without, as
            # section 4.3.2 says for a tag that does not match), then 200 with the SFU's new ones.
            restart = trickle("rst1", "0123456789abcdefghijklmn", 40001)
            r = request(base, "PATCH", whep, restart, SDPFRAG, guest)
            self.assertEqual(r.status, 412, r)
            r = request(base, "PATCH", whep, restart, SDPFRAG, guest, {"If-Match": "*"})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("Content-Type"), SDPFRAG)
            new_ufrag = re.search(r"^a=ice-ufrag:(\S+)", r.body, re.M)
            self.assertIsNotNone(new_ufrag, r.body)
            self.assertNotEqual(new_ufrag.group(1), answer_ufrag)
            self.assertRegex(r.body, r"(?m)^a=ice-pwd:\S+")
            new_etag = r.header("ETag")
            self.assertRegex(new_etag, r'^"[^"]+"$')
            self.assertNotEqual(new_etag, etag)
            # The old ICE session's tag no longer matches; the new one does.
            r = request(base, "PATCH", whep, trickle("rst1", "0123456789abcdefghijklmn", 40002),
                        SDPFRAG, guest, {"If-Match": etag})
            self.assertEqual(r.status, 412, r)
            r = request(base, "PATCH", whep, trickle("rst1", "0123456789abcdefghijklmn", 40002),
                        SDPFRAG, guest, {"If-Match": new_etag})
            self.assertEqual(r.status, 204, r)

            # Methods: the endpoint URL takes POST, a session URL PATCH and DELETE.
            r = request(base, "GET", whep, token=guest)
            self.assertEqual((r.status, r.header("Allow")), (405, "PATCH, DELETE, OPTIONS"))
            r = request(base, "PUT", "/whip/" + name, whip_offer, SDP, presenter)
            self.assertEqual((r.status, r.header("Allow")), (405, "POST, OPTIONS"))
            self.assertEqual(request(base, "POST", "/whip/%s/a/b" % name, whip_offer, SDP,
                                     presenter).status, 404)

            # DELETE ends a session once (RFC 9725 section 4.2); the token is still required.
            self.assertEqual(request(base, "DELETE", whep).status, 401)
            r = request(base, "DELETE", whep, token=guest)
            self.assertEqual((r.status, r.body), (200, ""))
            self.assertEqual(request(base, "DELETE", whep, token=guest).status, 404)
            r = request(base, "PATCH", whep, trickle(ufrag, pwd), SDPFRAG, guest,
                        {"If-Match": new_etag})
            self.assertEqual(r.status, 404, r)
            # A guest token may not end the presenter's session; a session is found only in
            # its own room.
            self.assertEqual(request(base, "DELETE", whip, token=guest).status, 403)
            other = create_room(base)
            session = whip.rsplit("/", 1)[1]
            self.assertEqual(request(base, "DELETE", "/whip/%s/%s" % (other["room"], session),
                                     token=other["presenter_token"]).status, 404)
            self.assertEqual(request(base, "DELETE", whip, token=presenter).status, 200)
            self.assertEqual(request(base, "DELETE", aiortc, token=guest).status, 200)
            self.assertEqual(request(base, "DELETE", "/whep/%s/no-such-session" % name,
                                     token=guest).status, 404)

            m = scrape(p)
            name_ = "podium_signaling_sessions_requests_total"
            self.assertEqual(metric(m, name_, endpoint="whip", method="post", result="ok"), 1)
            self.assertEqual(metric(m, name_, endpoint="whep", method="post", result="ok"), 2)
            self.assertEqual(metric(m, name_, endpoint="whep", method="patch", result="ok"), 3)
            self.assertEqual(metric(m, name_, endpoint="whep", method="patch",
                                    result="client_error"), 4)
            self.assertEqual(metric(m, name_, endpoint="whep", method="delete", result="ok"), 2)
            self.assertEqual(metric(m, name_, endpoint="whip", method="delete", result="ok"), 1)
            self.assertEqual(metric(m, name_, result="server_error"), 0)
            self.assertEqual(p.stop()[0], 0, p.stderr())

    def test_refusals(self):
        with Podium(CLOSED, expect=("metrics", "relay", "sfu", "signaling")) as p:
            base = p.url("signaling")
            room = create_room(base)
            name, presenter, guest = room["room"], room["presenter_token"], room["guest_token"]
            whip_offer = offer("chromium_156_whip_offer.sdp")

            # RFC 9725 section 4.5: Bearer room tokens. None: 401; a bad one: 403.
            r = self.post(base, "whip", name, whip_offer)
            self.assertEqual((r.status, r.header("WWW-Authenticate")), (401, "Bearer"), r)
            self.assertEqual(self.post(base, "whip", name, whip_offer, guest).status, 403)
            self.assertEqual(self.post(base, "whip", name, whip_offer,
                                       presenter[:-2] + "xx").status, 403)
            other = create_room(base)
            self.assertEqual(self.post(base, "whip", name, whip_offer,
                                       other["presenter_token"]).status, 403)
            self.assertEqual(self.post(base, "whep", name, offer("chromium_156_whep_offer.sdp"),
                                       "garbage").status, 403)
            # Unknown and invalid rooms.
            unknown = mint_token(p, "nobody-here", "guest")
            r = self.post(base, "whep", "nobody-here", offer("chromium_156_whep_offer.sdp"),
                          unknown)
            self.assertEqual((r.status, r.body), (404, '{"error":"no such room"}\n'))
            self.assertEqual(self.post(base, "whip", "bad%20room", whip_offer, presenter).status,
                             404)
            # Media types and bodies.
            r = self.post(base, "whip", name, whip_offer, presenter, "text/plain")
            self.assertEqual(r.status, 415, r)
            self.assertEqual(self.post(base, "whip", name, whip_offer, presenter, None).status,
                             415)
            self.assertEqual(self.post(base, "whip", name, "", presenter).status, 400)
            r = self.post(base, "whip", name, "this is not SDP\r\n", presenter)
            self.assertEqual(r.status, 400, r)
            self.assertTrue(r.header("Content-Type").startswith("text/plain"), r)
            self.assertGreater(len(r.body.strip()), 0)
            r = self.post(base, "whip", name, video_only(whip_offer), presenter)
            self.assertEqual(r.status, 400, r)
            self.assertGreater(len(r.body.strip()), 0)
            # Bodies over signaling.max_sdp_bytes (64 KiB) are refused by the HTTP server.
            big = whip_offer + "a=x-padding:%s\r\n" % ("p" * 1000) * 70
            self.assertGreater(len(big), 70 * 1024)
            head = ("POST /whip/%s HTTP/1.1\r\nHost: podium\r\nContent-Type: application/sdp\r\n"
                    "Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n"
                    % (name, presenter, len(big))).encode()
            self.assertEqual(raw_status(base, head, big.encode()), 413)
            # The media parameters case-insensitively, with parameters: still application/sdp.
            r = self.post(base, "whip", name, whip_offer, presenter,
                          "Application/SDP; charset=utf-8")
            self.assertEqual(r.status, 201, r)

            m = scrape(p)
            failures = "podium_signaling_auth_failures_total"
            self.assertEqual(metric(m, failures, reason="missing_token"), 1)
            self.assertEqual(metric(m, failures, reason="wrong_role"), 1)
            self.assertEqual(metric(m, failures, reason="bad_signature"), 1)
            self.assertEqual(metric(m, failures, reason="wrong_room"), 1)
            self.assertEqual(metric(m, failures, reason="malformed"), 1)
            self.assertEqual(metric(m, "podium_signaling_sessions_requests_total",
                                    endpoint="whip", method="post", result="client_error"), 10)

    def test_offline_tokens_open_the_room(self):
        """Tokens minted by `podium token` work without POST /api/rooms: the presenter's first
        publish makes the room known, and then its guests are admitted."""
        with Podium(CLOSED, expect=("metrics", "relay", "sfu", "signaling")) as p:
            base = p.url("signaling")
            guest = mint_token(p, "offline", "guest")
            whep_offer = offer("chromium_156_whep_offer.sdp")
            self.assertEqual(self.post(base, "whep", "offline", whep_offer, guest).status, 404)
            r = self.post(base, "whip", "offline", offer("firefox_153_whip_offer.sdp"),
                          mint_token(p, "offline", "presenter"))
            self.assertCreated(r, "whip", "offline")
            self.assertCreated(self.post(base, "whep", "offline", whep_offer, guest), "whep",
                               "offline")
            # GET /api/rooms/{room} knows it too.
            self.assertEqual(request(base, "GET", "/api/rooms/offline").status, 200)

    def test_second_presenter_replaces_the_first(self):
        with Podium(OPEN, expect=("relay", "sfu", "signaling")) as p:
            base = p.url("signaling")
            first, _ = self.assertCreated(
                self.post(base, "whip", "demo", offer("chromium_156_whip_offer.sdp")), "whip",
                "demo")
            viewer, _ = self.assertCreated(
                self.post(base, "whep", "demo", offer("firefox_153_whep_offer.sdp")), "whep",
                "demo")
            second, _ = self.assertCreated(
                self.post(base, "whip", "demo", offer("aiortc_1_4_whip_offer.sdp")), "whip",
                "demo")
            self.assertNotEqual(first, second)
            self.assertEqual(request(base, "DELETE", first).status, 404)  # closed by the SFU
            self.assertEqual(request(base, "DELETE", viewer).status, 200)  # guests stay
            self.assertEqual(request(base, "DELETE", second).status, 200)

    def test_preflight(self):
        with Podium(OPEN, expect=("relay", "sfu", "signaling")) as p:
            base = p.url("signaling")
            for path in ("/whip/demo", "/whep/demo", "/whep/demo/some-session"):
                r = request(base, "OPTIONS", path, headers={
                    "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization,content-type,if-match"})
                self.assertEqual(r.status, 204, r)
                self.assertEqual(r.header("Access-Control-Allow-Origin"), "*")
                methods = {m.strip() for m in r.header("Access-Control-Allow-Methods").split(",")}
                self.assertLessEqual({"POST", "PATCH", "DELETE", "OPTIONS"}, methods)
                allowed = {h.strip().lower()
                           for h in r.header("Access-Control-Allow-Headers").split(",")}
                self.assertLessEqual({"authorization", "content-type", "if-match"}, allowed)
                self.assertIn("Location", r.header("Access-Control-Expose-Headers"))
                # No TURN credentials without a token.
                self.assertEqual(r.all("Link"), [])
            self.assertEqual(r.header("Accept-Patch"), SDPFRAG)

    def test_capacity(self):
        config = RELAY + SFU + "  max_sessions: 1\n" + OPEN_SIGNALING
        with Podium(config, expect=("relay", "sfu", "signaling")) as p:
            base = p.url("signaling")
            first, _ = self.assertCreated(
                self.post(base, "whip", "demo", offer("chromium_156_whip_offer.sdp")), "whip",
                "demo")
            r = self.post(base, "whep", "demo", offer("chromium_156_whep_offer.sdp"))
            self.assertEqual((r.status, r.header("Retry-After")), (503, "5"), r)
            self.assertEqual(request(base, "DELETE", first).status, 200)
            r = self.post(base, "whep", "demo", offer("chromium_156_whep_offer.sdp"))
            self.assertCreated(r, "whep", "demo")

    def test_without_sfu(self):
        with Podium(RELAY + OPEN_SIGNALING, expect=("relay", "signaling")) as p:
            base = p.url("signaling")
            r = self.post(base, "whip", "demo", offer("chromium_156_whip_offer.sdp"))
            self.assertEqual(r.status, 503, r)
            self.assertIsNotNone(r.header("Retry-After"))
            self.assertEqual(r.body.strip(), "no SFU in this process")
            self.assertEqual(request(base, "DELETE", "/whep/demo/x").status, 503)

    def test_link_credentials_verify(self):
        """The TURN credential in Link is base64(HMAC-SHA1(secret, username)) with the relay's
        secret and relay.credential_ttl (draft-uberti-behave-turn-rest)."""
        config = """
relay:
  listen: [udp://127.0.0.1:0, tcp://127.0.0.1:0]
  auth_secrets: [turn-secret]
  credential_ttl: 1h
""" + SFU + OPEN_SIGNALING
        with Podium(config, expect=("relay", "sfu", "signaling")) as p:
            r = self.post(p.url("signaling"), "whep", "demo", offer("chromium_156_whep_offer.sdp"))
            self.assertEqual(r.status, 201, r)
            turn = [link for link in r.all("Link") if link.startswith("<turn:")]
            self.assertEqual(len(turn), 2, r.all("Link"))
            m = TURN_PARAMS_RE.match(LINK_RE.match(turn[0]).group(2))
            username, password = m.groups()
            self.assertAlmostEqual(int(username.split(":")[0]), time.time() + 3600, delta=60)
            expected = base64.b64encode(hmac.new(b"turn-secret", username.encode(),
                                                 hashlib.sha1).digest()).decode()
            self.assertEqual(password, expected)


if __name__ == "__main__":
    unittest.main()
