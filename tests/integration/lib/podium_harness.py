"""Starts the real podium binary for integration tests and stops it by PID.

Every server binds 127.0.0.1 with port 0; the ports podium actually bound are read from the
`podium: <component> listening on <url>` lines it prints on stdout.
"""
import ctypes
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

BINARY = os.environ.get("PODIUM_BINARY", "podium")
_PR_SET_PDEATHSIG = 1


def die_with_parent():
    """Runs in the child before exec: if the test process dies (ctest timeout), so does podium."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


LISTEN_RE = re.compile(r"^podium: (\w+) listening on (\S+)$")


# What the sanitizer runtimes print when they find something.
SANITIZER_MARKERS = ("WARNING: ThreadSanitizer", "ERROR: AddressSanitizer",
                     "ERROR: LeakSanitizer", "runtime error: ")


class Podium:
    """A running `podium serve`. Use as a context manager or call stop()."""

    def __init__(self, config_text=None, args=None, env=None, expect=("metrics",), timeout=15):
        self.dir = tempfile.TemporaryDirectory(prefix="podium-test-")
        cmd = [BINARY, "serve"]
        if config_text is not None:
            self.config_path = os.path.join(self.dir.name, "podium.yaml")
            with open(self.config_path, "w") as f:
                f.write(config_text)
            cmd += ["--config", self.config_path]
        cmd += list(args or [])
        self.stderr_path = os.path.join(self.dir.name, "stderr.log")
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, text=True,
                                     env={**os.environ, **(env or {})},
                                     preexec_fn=die_with_parent)
        self.listeners = {}  # component -> [url, ...]
        self.stdout_lines = []
        self._ready = threading.Event()
        self._expect = set(expect)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        if not self._ready.wait(timeout):
            self.stop(check=False)
            raise RuntimeError("podium did not start: stdout=%r stderr=%r"
                               % (self.stdout_lines, self.stderr()))

    def _read_stdout(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.stdout_lines.append(line)
            m = LISTEN_RE.match(line)
            if m:
                self.listeners.setdefault(m.group(1), []).append(m.group(2))
            if self._expect.issubset(self.listeners) and (
                    "signaling" not in self._expect or line.startswith("podium: open ")
                    or not line.startswith("podium: signaling")):
                self._ready.set()
        self._ready.set()

    def url(self, component, scheme=None):
        for url in self.listeners.get(component, []):
            if scheme is None or url.startswith(scheme + "://"):
                return url
        raise KeyError((component, scheme))

    def host_port(self, component, scheme=None):
        rest = self.url(component, scheme).split("://", 1)[1].rstrip("/")
        host, port = rest.rsplit(":", 1)
        return host.strip("[]"), int(port)

    def wait_host_port(self, component, scheme, timeout=5):
        """host_port() once that listener has been announced: readiness only waits for the first
        line of each expected component, and the relay prints one line per listener."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.host_port(component, scheme)
            except KeyError:
                if time.monotonic() >= deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.05)

    def stderr(self):
        if not self._stderr.closed:  # stop() closes it
            self._stderr.flush()
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=None, timeout=5, check=True):
        """Sends `sig` and waits; kills after `timeout` s. Returns (exit code, seconds taken).
        The default is SIGINT, which stops podium at once; SIGTERM starts a graceful drain that
        waits (up to metrics.drain_timeout) for allocations and sessions a test may have left
        behind (test_reload_drain.py tests it)."""
        # (The default is resolved here: in the class body `signal` is the method above.)
        if sig is None:
            sig = signal.SIGINT
        start = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                if check:
                    raise AssertionError("podium did not exit within %ss after %s" % (timeout, sig))
        took = time.monotonic() - start
        self._stderr.close()
        # The reader sees EOF once podium has exited; then its pipe can be closed.
        self._reader.join(2)
        if not self._reader.is_alive():
            self.proc.stdout.close()
        if check:
            self.assert_no_sanitizer_report()
        return self.proc.returncode, took

    def sanitizer_report(self):
        """The first sanitizer report (ASan, UBSan, TSan, LSan) in podium's stderr, or None: in a
        sanitizer build a report is a failure wherever the test looked."""
        text = self.stderr()
        for marker in SANITIZER_MARKERS:
            at = text.find(marker)
            if at >= 0:
                return text[max(0, at - 200):at + 4000]
        return None

    def assert_no_sanitizer_report(self):
        report = self.sanitizer_report()
        if report is not None:
            raise AssertionError("podium's stderr has a sanitizer report:\n" + report)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if self.proc.poll() is None:
            self.stop(check=False)
        try:
            if exc_type is None:
                self.assert_no_sanitizer_report()
        finally:
            self.dir.cleanup()


def http_get(url, timeout=5, headers=None):
    """Returns (status, body text, headers) without raising on HTTP errors."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace"), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace"), dict(e.headers)


def run(args, timeout=15, **kw):
    """Runs podium with `args`; returns CompletedProcess (text)."""
    return subprocess.run([BINARY] + list(args), capture_output=True, text=True,
                          timeout=timeout, **kw)


# --- Helpers for tests that drive external clients (coturn's turnutils, raw sockets) ---

_SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text format -> {(name, frozenset(labels.items())): value}."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE_RE.match(line)
        if m:
            labels = frozenset(_LABEL_RE.findall(m.group(2) or ""))
            samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def metric(samples, name, **labels):
    """The sum of the samples of `name` whose labels include `labels` (0 if there are none)."""
    want = set(labels.items())
    return sum(v for (n, l), v in samples.items() if n == name and want <= l)


def scrape(podium):
    """Parsed /metrics of a running Podium (needs a metrics listener)."""
    status, body, _ = http_get(podium.url("metrics") + "/metrics")
    if status != 200:
        raise AssertionError("GET /metrics: %s" % status)
    return parse_metrics(body)


def wait_for(predicate, timeout=8.0, interval=0.2):
    """Polls `predicate` until it returns a truthy value; returns the last value (falsy on
    timeout). Relay counters are flushed to /metrics once a second, so allow a few seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def free_port(host="127.0.0.1", kind="udp"):
    """A port that was free on `host` a moment ago (bind to port 0, read it, close)."""
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def stop_process(proc, timeout=3):
    """SIGTERM, then SIGKILL after `timeout` s; returns the exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def make_certificate(directory, days=1, name=""):
    """A self-signed P-256 certificate for CN=localhost valid for `days`, made by the openssl
    CLI in `directory`; returns (cert path, key path)."""
    prefix = name + "-" if name else ""
    cert = os.path.join(directory, prefix + "cert.pem")
    key = os.path.join(directory, prefix + "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", str(days), "-subj",
                    "/CN=localhost", "-keyout", key, "-out", cert], check=True,
                   capture_output=True, timeout=30)
    return cert, key


class Background:
    """A helper process (e.g. turnutils_peer) stopped by PID: SIGTERM, then SIGKILL."""

    def __init__(self, args, **kw):
        self.args = list(args)
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, **kw)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=3):
        return stop_process(self.proc, timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


PEER_HOST = "127.0.0.2"


class EchoPeer(Background):
    """turnutils_peer (coturn's UDP echo server) on 127.0.0.2:PORT, checked to answer before
    use; stopped by PID like any Background."""

    def __init__(self):
        import socket
        self.port = free_port(PEER_HOST)
        super().__init__(["turnutils_peer", "-L", PEER_HOST, "-p", str(self.port)])
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.settimeout(0.2)
        try:
            for _ in range(25):
                probe.sendto(b"ready?", (PEER_HOST, self.port))
                try:
                    if probe.recv(100) == b"ready?":
                        return
                except socket.timeout:
                    pass
            self.stop()
            raise RuntimeError("turnutils_peer on %s:%d does not echo" % (PEER_HOST, self.port))
        finally:
            probe.close()


def sanitizer_runtime(binary=BINARY):
    """The sanitizer runtime `binary` links (libasan, libubsan, libtsan: a sanitizer build), or
    None (also when ldd cannot tell)."""
    import shutil
    try:
        out = subprocess.run(["ldd", shutil.which(binary) or binary], capture_output=True,
                             text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.findall(r"\b(lib(?:asan|ubsan|tsan)\.so[.\d]*)", out)
    return found[0] if found else None
