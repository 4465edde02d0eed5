"""aiortc presenter (WHIP) sending a 440 Hz sine through the SFU to an aiortc guest (WHEP) that
decodes it: the dominant frequency is 440 +/- 5 Hz and at most 1% of the 20 ms frames are missing
over 10 s. Also: the presenter is replaced by a second one mid-stream and the guest's RTP sequence
numbers continue without a gap.

Layout as in test_relay_chromium.py: the test method runs this file again with `--inner` inside a
private loopback-only network namespace (lib/netns.py); the inner run starts podium and both
aiortc peers, prints one JSON result line, and stops what it started.
"""
import asyncio
import json
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import netns  # noqa: E402

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
RESULT_PREFIX = "PODIUM-SFU-AIORTC-RESULT "
LISTEN_SECONDS = 10.0
RUN_TIMEOUT = 90

CONFIG = """
log:
  level: info
relay:
  listen: [udp://127.0.0.1:0]
  relay_ip: 127.0.0.1
  ephemeral_secret: true
  allow_peers: [127.0.0.0/8]
sfu:
  listen_ip: 127.0.0.1
  udp_port: 0
signaling:
  listen: 127.0.0.1:0
  open_rooms: true
metrics:
  listen: 127.0.0.1:0
"""


async def inner():
    from podium_harness import Podium
    import whip_client
    whip_client.use_loopback()

    result = {}
    with Podium(CONFIG, expect=("signaling", "sfu", "metrics")) as podium:
        try:
            await run_peers(podium, result)
        except BaseException:
            print("podium stderr:\n" + podium.stderr(), file=sys.stderr, flush=True)
            raise
    print(RESULT_PREFIX + json.dumps(result), flush=True)


async def run_peers(podium, result):
    from podium_harness import metric, scrape
    import whip_client
    from aiortc import RTCPeerConnection, RTCSessionDescription
    import numpy
    if True:
        base = podium.url("signaling")

        async def publish(track):
            pc = RTCPeerConnection()
            pc.addTrack(track)
            await pc.setLocalDescription(await pc.createOffer())
            status, headers, body = await asyncio.get_running_loop().run_in_executor(
                None, whip_client.post_offer, base + "/whip/demo", pc.localDescription.sdp)
            if status != 201:
                raise AssertionError("WHIP %s: %s" % (status, body))
            await pc.setRemoteDescription(RTCSessionDescription(body, "answer"))
            return pc, headers

        guest = RTCPeerConnection()
        guest.addTransceiver("audio", direction="recvonly")
        frames = []
        got_track = asyncio.get_running_loop().create_future()

        @guest.on("track")
        def on_track(track):
            if not got_track.done():
                got_track.set_result(track)

        await guest.setLocalDescription(await guest.createOffer())
        status, headers, body = whip_client.post_offer(base + "/whep/demo", guest.localDescription.sdp)
        if status != 201:
            raise AssertionError("WHEP %s: %s" % (status, body))
        await guest.setRemoteDescription(RTCSessionDescription(body, "answer"))

        presenter, _ = await publish(whip_client.make_sine_track(440.0))
        track = await asyncio.wait_for(got_track, 20)

        # Warm up (ICE, DTLS, jitter buffer), then record LISTEN_SECONDS of decoded audio.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            frame = await asyncio.wait_for(track.recv(), 10)
            if numpy.abs(frame.to_ndarray()).max() > 1000:
                break
        start = time.monotonic()
        samples = []
        sample_rate = 48000
        while time.monotonic() - start < LISTEN_SECONDS:
            frame = await asyncio.wait_for(track.recv(), 5)
            sample_rate = frame.sample_rate
            data = frame.to_ndarray().reshape(-1)
            channels = len(frame.layout.channels)
            frames.append(frame.samples)
            samples.append(data[::channels] if channels > 1 else data)
        elapsed = time.monotonic() - start
        pcm = numpy.concatenate(samples)
        result["dominant_hz"] = whip_client.dominant_frequency(pcm, sample_rate)
        result["frames"] = len(frames)
        result["expected_frames"] = int(round(elapsed / 0.02))
        result["sample_rate"] = sample_rate

        # Presenter replacement: a second presenter takes over; the guest's sequence numbers must
        # continue. aiortc's receiver exposes RTP stats (packetsLost is computed from sequence
        # numbers, so a gap would show up as loss).
        stats_before = await guest.getStats()
        second, _ = await publish(whip_client.make_sine_track(440.0))
        await asyncio.sleep(1.0)
        await presenter.close()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 4:
            await asyncio.wait_for(track.recv(), 5)
        stats_after = await guest.getStats()

        def inbound(stats):
            for s in stats.values():
                if s.type == "inbound-rtp":
                    return {"packetsReceived": s.packetsReceived, "packetsLost": s.packetsLost}
            return None

        result["inbound_before"] = inbound(stats_before)
        result["inbound_after"] = inbound(stats_after)
        samples_metrics = scrape(podium)
        result["rtp_in"] = metric(samples_metrics, "podium_sfu_rtp_packets_total", direction="in")
        result["rtp_out"] = metric(samples_metrics, "podium_sfu_rtp_packets_total", direction="out")
        result["replaced"] = metric(samples_metrics, "podium_sfu_sessions_closed_total",
                                    reason="replaced")
        await second.close()
        await guest.close()
        code, _ = podium.stop()
        result["exit_code"] = code


class SfuAiortcTest(unittest.TestCase):
    def test_sine_reaches_guest(self):
        reason = netns.unavailable_reason()
        if reason:
            self.skipTest(reason)
        r = netns.run_in_loopback_netns([PYTHON, os.path.abspath(__file__), "--inner"],
                                        timeout=RUN_TIMEOUT, capture_output=True, text=True,
                                        env=dict(os.environ))
        lines = [l for l in r.stdout.splitlines() if l.startswith(RESULT_PREFIX)]
        self.assertTrue(lines, "no result; stdout=%s\nstderr=%s" % (r.stdout[-3000:], r.stderr[-5000:]))
        result = json.loads(lines[-1][len(RESULT_PREFIX):])
        print(result)
        self.assertAlmostEqual(result["dominant_hz"], 440.0, delta=5.0)
        missing = result["expected_frames"] - result["frames"]
        self.assertLessEqual(missing, 0.01 * result["expected_frames"], result)
        self.assertGreater(result["rtp_out"], 0)
        self.assertGreaterEqual(result["replaced"], 1)
        after = result["inbound_after"]
        self.assertIsNotNone(after)
        self.assertEqual(after["packetsLost"], 0, result)
        self.assertEqual(result["exit_code"], 0)


if __name__ == "__main__":
    if "--inner" in sys.argv:
        asyncio.run(asyncio.wait_for(inner(), RUN_TIMEOUT - 10))
    else:
        unittest.main()
