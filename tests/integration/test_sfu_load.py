"""podium-load (bench/load/podium_load.cpp: the SFU's own ICE, DTLS and SRTP code in the client
role, libopus) against the real binary in a closed room: guests joined with WHEP and a presenter
with WHIP using a room token, every guest receives every packet, sampled guests decrypt and
decode a loud tone. Both DTLS roles of the SFU: offers with a=setup:actpass (the SFU answers
passive and is the DTLS server) and a=setup:passive (the SFU is the DTLS client).

All traffic is on 127.0.0.1 (podium-load binds its sockets there), so no namespace is needed.
"""
import json
import os
import subprocess
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from podium_harness import Podium, metric, scrape, wait_for  # noqa: E402

LOAD = os.environ.get("PODIUM_LOAD", "podium-load")
CONFIG = """
sfu:
  listen_ip: 127.0.0.1
  udp_port: 0
signaling:
  listen: 127.0.0.1:0
  token_secret: load-test-secret
  api_key: load-test-key
metrics:
  listen: 127.0.0.1:0
"""


def create_room(base):
    req = urllib.request.Request(base + "/api/rooms", method="POST",
                                 headers={"Authorization": "Bearer load-test-key"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def run_load(base, room, token, guests, setup, podium_pid):
    r = subprocess.run([LOAD, "--signaling", base, "--room", room, "--token", token,
                        "--guests", str(guests), "--seconds", "3", "--decode", "5",
                        "--setup", setup, "--podium-pid", str(podium_pid)],
                       capture_output=True, text=True, timeout=60)
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    if r.returncode != 0 or not lines:
        raise AssertionError("podium-load failed (%s): %s" % (r.returncode, r.stderr[-3000:]))
    return json.loads(lines[-1])


class SfuLoadTest(unittest.TestCase):
    def check(self, result, guests):
        self.assertEqual(result["guests_connected"], guests, result)
        self.assertEqual(result["setup_failures"], 0, result)
        self.assertEqual(result["delete_failures"], 0, result)
        self.assertGreaterEqual(result["packets_sent"], 140, result)  # 3 s at 50 packets/s
        self.assertEqual(result["loss_max"], 0.0, result)
        self.assertEqual(result["decode_errors"], 0, result)
        self.assertGreater(result["decoded_frames"], 5 * 140, result)
        self.assertEqual(result["loud_frames"], result["decoded_frames"], result)

    def test_guests_hear_the_presenter_with_both_dtls_roles(self):
        with Podium(CONFIG, expect=("signaling", "sfu", "metrics")) as podium:
            base = podium.url("signaling")
            for setup, guests in (("actpass", 30), ("passive", 10)):
                with self.subTest(setup=setup):
                    room = create_room(base)
                    result = run_load(base, room["room"], room["presenter_token"], guests, setup,
                                      podium.proc.pid)
                    self.check(result, guests)
            samples = scrape(podium)
            self.assertGreaterEqual(metric(samples, "podium_sfu_rtp_packets_total",
                                           direction="out"), 40 * 140)
            self.assertGreaterEqual(metric(samples, "podium_sfu_dtls_handshakes_total"), 42)
            self.assertEqual(metric(samples, "podium_sfu_srtp_errors_total", kind="protect"), 0)
            # podium-load deleted its sessions: the SFU holds nothing any more.
            self.assertTrue(wait_for(lambda: metric(scrape(podium), "podium_sfu_guests") == 0
                                     and metric(scrape(podium), "podium_sfu_rooms") == 0,
                                     timeout=5))
            self.assertGreaterEqual(metric(scrape(podium), "podium_sfu_sessions_closed_total",
                                           reason="deleted"), 42)

    def test_slide_reaches_every_guest_with_both_dtls_roles(self):
        # podium-load --mode slides: SCTP over DTLS with the SFU in either DTLS role (so the
        # SFU opens the guests' channels on odd and on even stream ids), a 2 MB slide in 64 KiB
        # messages, every byte checked on 5 guests.
        with Podium(CONFIG, expect=("signaling", "sfu", "metrics")) as podium:
            base = podium.url("signaling")
            for setup, guests in (("actpass", 20), ("passive", 8)):
                with self.subTest(setup=setup):
                    room = create_room(base)
                    r = subprocess.run([LOAD, "--mode", "slides", "--signaling", base, "--room",
                                        room["room"], "--token", room["presenter_token"],
                                        "--guests", str(guests), "--slide-bytes", "2000000",
                                        "--decode", "5", "--setup", setup, "--timeout", "40",
                                        "--podium-pid", str(podium.proc.pid)],
                                       capture_output=True, text=True, timeout=90)
                    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
                    self.assertTrue(lines, r.stderr[-3000:])
                    result = json.loads(lines[-1])
                    print(json.dumps(result), flush=True)
                    self.assertEqual(r.returncode, 0, result)
                    self.assertEqual(result["guests_complete"], guests, result)
                    self.assertEqual(result["corrupt_bytes"], 0, result)
                    self.assertEqual(result["presenter_errors"], 0, result)
                    self.assertEqual(result["presenter_delivered_report"], guests, result)
                    self.assertEqual(result["delete_failures"], 0, result)
            # Counters reach /metrics with the worker's once-a-second flush.
            self.assertTrue(wait_for(lambda: metric(scrape(podium),
                                                    "podium_sfu_slides_delivered_total") == 28,
                                     timeout=5), metric(scrape(podium),
                                                        "podium_sfu_slides_delivered_total"))
            samples = scrape(podium)
            self.assertEqual(metric(samples, "podium_sfu_slides_received_total"), 2)
            # Uploaded once per room whatever the number of guests.
            self.assertLessEqual(metric(samples, "podium_sfu_datachannel_bytes_total",
                                        direction="in", role="presenter"), 2 * 2000000 + 1000)

    def test_speaking_and_rtcp_while_streaming(self):
        # podium-load's presenter marks every packet -20 dBov with voice (RFC 6464): the SFU's
        # speaking gauge goes to 1 while it streams; RRs go to the presenter every second.
        with Podium(CONFIG, expect=("signaling", "sfu", "metrics")) as podium:
            base = podium.url("signaling")
            room = create_room(base)
            load = subprocess.Popen([LOAD, "--signaling", base, "--room", room["room"], "--token",
                                     room["presenter_token"], "--guests", "3", "--seconds", "4"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                self.assertTrue(wait_for(lambda: metric(scrape(podium),
                                                        "podium_sfu_presenters_speaking") == 1,
                                         timeout=15), "speaking never reported")
                self.assertTrue(wait_for(lambda: metric(scrape(podium),
                                                        "podium_sfu_rtcp_packets_total",
                                                        direction="out") >= 1, timeout=10))
                self.assertEqual(metric(scrape(podium), "podium_sfu_guests"), 3)
                load.wait(30)
            finally:
                if load.poll() is None:
                    load.kill()
                    load.wait()
            self.assertEqual(load.returncode, 0, load.stderr.read())
            self.assertTrue(wait_for(lambda: metric(scrape(podium),
                                                    "podium_sfu_presenters_speaking") == 0,
                                     timeout=5))

    def test_wrong_token_is_refused(self):
        with Podium(CONFIG, expect=("signaling", "sfu", "metrics")) as podium:
            base = podium.url("signaling")
            room = create_room(base)
            r = subprocess.run([LOAD, "--signaling", base, "--room", room["room"], "--token",
                                room["guest_token"], "--guests", "1", "--seconds", "1"],
                               capture_output=True, text=True, timeout=30)
            # The guest token admits the guest but not the presenter: WHIP answers 403.
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("/whip/%s answered 403" % room["room"], r.stderr)


if __name__ == "__main__":
    unittest.main()
