"""Rooms API on the signaling listener: POST /api/rooms, API key, CORS, `podium token`."""
import json
import os
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from podium_harness import Podium, http_get, run  # noqa: E402

OPEN = """
signaling:
  listen: 127.0.0.1:0
  public_url: https://podium.example.com
  open_rooms: true
"""
CLOSED = """
signaling:
  listen: 127.0.0.1:0
  token_secret: s3cret
  api_key: k3y
metrics:
  listen: 127.0.0.1:0
"""


def request(url, method="GET", body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


class RoomsApiTest(unittest.TestCase):
    def test_open_rooms_need_no_key(self):
        with Podium(OPEN, expect=("signaling",)) as p:
            base = p.url("signaling")
            status, body, headers = request(base + "/api/rooms", "POST")
            self.assertEqual(status, 201, body)
            room = json.loads(body)
            self.assertEqual(set(room) - {"expires"},
                             {"room", "presenter_token", "guest_token", "presenter_url",
                              "guest_url"})
            self.assertTrue(room["presenter_url"].startswith(
                "https://podium.example.com/present/%s#token=" % room["room"]))
            self.assertTrue(room["guest_url"].startswith(
                "https://podium.example.com/watch/%s#token=" % room["room"]))
            self.assertEqual(headers["Location"], "/api/rooms/" + room["room"])
            self.assertEqual(headers["Access-Control-Allow-Origin"], "*")
            self.assertEqual(request(base + "/api/rooms/" + room["room"])[0], 200)
            # A chosen name, once; bad names and bodies are a 400.
            status, body, _ = request(base + "/api/rooms", "POST", b'{"room": "demo"}')
            self.assertEqual((status, json.loads(body)["room"]), (201, "demo"))
            self.assertEqual(request(base + "/api/rooms", "POST", b'{"room": "demo"}')[0], 409)
            self.assertEqual(request(base + "/api/rooms", "POST", b'{"room": "a b"}')[0], 400)
            self.assertEqual(request(base + "/api/rooms", "POST", b'not json')[0], 400)
            self.assertEqual(request(base + "/api/rooms", "GET")[0], 405)
            self.assertEqual(p.stop()[0], 0)

    def test_web_client_pages_and_settings(self):
        """The pages of docs/web-client.md, for any room name, with their security headers."""
        with Podium(OPEN, expect=("signaling",)) as p:
            base = p.url("signaling")
            for path, marker in (("/", 'id="start"'), ("/present/r1", 'id="thumbs"'),
                                 ("/watch/r1", 'id="slide"')):
                status, body, headers = request(base + path)
                self.assertEqual(status, 200, path)
                self.assertIn(marker, body, path)
                self.assertTrue(headers["Content-Type"].startswith("text/html"), path)
                self.assertIn("default-src 'self'", headers["Content-Security-Policy"], path)
                self.assertEqual(headers["Referrer-Policy"], "no-referrer", path)
                self.assertTrue(headers["ETag"].startswith('"'), path)
                status, body, _ = request(base + path, headers={"If-None-Match": headers["ETag"]})
                self.assertEqual((status, body), (304, ""), path)
            for path in ("/app/whip.js", "/app/qr.js", "/app/present.js", "/app/watch.js"):
                status, body, headers = request(base + path)
                self.assertEqual(status, 200, path)
                self.assertTrue(headers["Content-Type"].startswith("text/javascript"), path)
            self.assertTrue(request(base + "/app/style.css")[2]["Content-Type"]
                            .startswith("text/css"))
            # Deeper paths are not pages.
            self.assertEqual(request(base + "/watch/r1/x")[0], 404)
            self.assertEqual(request(base + "/present/")[0], 200)  # the page says "no room"
            status, body, _ = request(base + "/api/client-config")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body), {"max_image_edge": 2560, "open_rooms": True})
            self.assertEqual(p.stop()[0], 0)
        closed = CLOSED.replace("  api_key: k3y\n", "  api_key: k3y\n  max_image_edge: 1024\n")
        with Podium(closed, expect=("signaling",)) as p:
            status, body, _ = request(p.url("signaling") + "/api/client-config")
            self.assertEqual(json.loads(body), {"max_image_edge": 1024, "open_rooms": False})

    def test_preflight(self):
        with Podium(OPEN, expect=("signaling",)) as p:
            status, _, headers = request(p.url("signaling") + "/api/rooms", "OPTIONS", headers={
                "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type"})
            self.assertEqual(status, 204)
            self.assertIn("POST", headers["Access-Control-Allow-Methods"])
            self.assertIn("Authorization", headers["Access-Control-Allow-Headers"])
            self.assertEqual(headers["Access-Control-Allow-Origin"], "*")

    def test_closed_rooms_need_the_api_key(self):
        with Podium(CLOSED, expect=("signaling", "metrics")) as p:
            base = p.url("signaling")
            status, body, headers = request(base + "/api/rooms", "POST")
            self.assertEqual(status, 401)
            self.assertEqual(headers["WWW-Authenticate"], "Bearer")
            self.assertEqual(request(base + "/api/rooms", "POST",
                                     headers={"Authorization": "Bearer wrong"})[0], 401)
            status, body, _ = request(base + "/api/rooms", "POST",
                                      headers={"Authorization": "Bearer k3y"})
            self.assertEqual(status, 201, body)
            room = json.loads(body)["room"]
            self.assertEqual(request(base + "/api/rooms/" + room)[0], 200)
            self.assertEqual(request(base + "/api/rooms/unknown")[0], 404)
            metrics = http_get(p.url("metrics") + "/metrics")[1]
            self.assertIn('podium_signaling_auth_failures_total{reason="missing_api_key"} 1', metrics)
            self.assertIn('podium_signaling_auth_failures_total{reason="bad_api_key"} 1', metrics)
            self.assertIn("podium_signaling_rooms_created_total 1", metrics)

    def test_token_cli(self):
        with Podium(CLOSED, expect=("signaling", "metrics")) as p:
            r = run(["token", "--config", p.config_path, "--room", "demo", "--role", "guest",
                     "--ttl", "2h"])
            self.assertEqual(r.returncode, 0, r.stderr)
            token = r.stdout.strip()
            self.assertRegex(token, r"^v1\.demo\.guest\.[0-9]+\.[A-Za-z0-9_-]+$")
            self.assertEqual(run(["token", "--config", p.config_path, "--room", "demo",
                                  "--role", "admin"]).returncode, 2)
            self.assertEqual(run(["token", "--config", p.config_path, "--room", "a b",
                                  "--role", "guest"]).returncode, 2)


if __name__ == "__main__":
    unittest.main()
