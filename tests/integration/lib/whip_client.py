"""WHIP/WHEP over HTTP for aiortc-based integration tests (runs inside a loopback-only namespace).

aioice skips 127.0.0.1 when gathering; inside the namespace that is the only address, so
`use_loopback()` makes aioice gather it (see ../shared/TESTING-NOTES.md).
"""
import fractions
import math
import time
import urllib.request

import numpy


def use_loopback():
    import aioice.ice
    aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]


def post_offer(url, sdp, token=None, timeout=10):
    """POSTs an SDP offer; returns (status, headers dict (lists for repeated), body)."""
    headers = {"Content-Type": "application/sdp"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, data=sdp.encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, _headers(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, _headers(e.headers), e.read().decode()


def delete(url, token=None, timeout=10):
    headers = {"Authorization": "Bearer " + token} if token else {}
    req = urllib.request.Request(url, method="DELETE", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def _headers(message):
    out = {}
    for key in set(message.keys()):
        values = message.get_all(key)
        out[key.lower()] = values if len(values) > 1 else values[0]
    return out


def make_sine_track(frequency=440.0, sample_rate=48000, samples_per_frame=960, amplitude=0.3):
    """An aiortc audio track producing a continuous sine at `frequency`, paced in real time."""
    import av
    from aiortc.mediastreams import MediaStreamTrack
    import asyncio

    class SineTrack(MediaStreamTrack):
        kind = "audio"

        def __init__(self):
            super().__init__()
            self._start = None
            self._pts = 0

        async def recv(self):
            if self._start is None:
                self._start = time.time()
            else:
                wait = self._start + self._pts / sample_rate - time.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            t = (numpy.arange(samples_per_frame) + self._pts) / sample_rate
            samples = (amplitude * 32767 * numpy.sin(2 * math.pi * frequency * t)).astype(numpy.int16)
            frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = sample_rate
            frame.pts = self._pts
            frame.time_base = fractions.Fraction(1, sample_rate)
            self._pts += samples_per_frame
            return frame

    return SineTrack()


def dominant_frequency(samples, sample_rate):
    """The frequency (Hz) of the largest FFT bin of a mono int16/float signal (Hann window)."""
    x = numpy.asarray(samples, dtype=numpy.float64)
    x = x - x.mean()
    spectrum = numpy.abs(numpy.fft.rfft(x * numpy.hanning(len(x))))
    return float(numpy.argmax(spectrum)) * sample_rate / len(x)
