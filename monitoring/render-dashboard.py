#!/usr/bin/python3
"""Renders pictures of the Grafana dashboard from data a real Prometheus scraped off a real podium.

    monitoring/render-dashboard.py [--build build/release | --podium PATH --podium-load PATH]
                                   [--duration 180] [--out docs/images/dashboard]
    monitoring/render-dashboard.py --measure [--allocations 1000,5000,10000]
                                   [--tcp-allocations 1000] [--tls-allocations 1000]
                                   [--guests 100,500] [--seconds 20]

Default mode: copies `podium` and `podium-load` into a temporary directory (so a rebuild in the
build directory cannot change them mid-run), starts podium (relay on UDP, TCP and TLS, SFU,
signaling with closed rooms, metrics) and Debian's `prometheus` on 127.0.0.1 with ephemeral
ports, scraping every second and evaluating the repository's monitoring/prometheus/alerts.yml
(the dashboard reads its recording rules). Then `--duration` seconds of traffic that changes over
time:

- TURN: allocations held open and released in steps by the small TURN client in this file (UDP
  and TCP, long-term credentials, one permission each; one batch asks for no lifetime and
  expires after the run's relay.default_lifetime of 30 s); coturn's `turnutils_uclient`
  relaying to a `turnutils_peer` echo server on 127.0.0.2 with REST credentials over UDP, TCP
  and TLS, with 2 to 8 clients; for a while a wrong password (authentication failures) and a
  peer in 10.0.0.0/8 (peer refusals); the rooms API with a wrong key (signaling authentication
  failures);
- SFU: three rooms with a presenter sending Opus and 40, 150 and 20 guests (`podium-load`,
  bench/load/podium_load.cpp), starting and ending at different times;
- slides: `podium-load --mode slides` rooms, one slide of 1-4 MB to 10-40 guests, every ~30 s.

Then, for the panels listed in ROWS, reads each panel's PromQL from
monitoring/grafana/podium-dashboard.json ($job -> podium, $instance -> .+ as Grafana's "All",
$__rate_interval -> --rate-interval), runs it through Prometheus' /api/v1/query_range and draws
one PNG per dashboard row with matplotlib (python3-matplotlib) into --out.

--measure: the sizing numbers of docs/operations.md, printed as tables and JSON. podium runs with
log level warn; VmRSS from /proc/PID/status and open descriptors from /proc/PID/fd. One podium,
idle, then holding N UDP TURN allocations (cumulative steps; each with one permission); a fresh
one holding N TCP allocations, another N TLS ones; a fresh one per SFU room of N guests hearing
a presenter for --seconds (`podium-load --podium-pid`: podium's CPU while streaming; peak RSS
sampled every 0.2 s). Fresh processes because memory freed by one step stays in the process.

Every process started is stopped by its PID; every wait is bounded. Loopback only. Not run by CI.
"""
import argparse
import ctypes
import datetime
import hashlib
import hmac
import importlib.util
import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DASHBOARD = os.path.join(REPO, "monitoring", "grafana", "podium-dashboard.json")
RULES = os.path.join(REPO, "monitoring", "prometheus", "alerts.yml")
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
LISTEN_RE = re.compile(r"^podium: (\w+) listening on (\S+)$")

REALM = "render.example"
USER, PASSWORD = "holder", "holder-password"
REST_SECRET = "render-rest-secret"
API_KEY = "render-api-key"
PEER_HOST = "127.0.0.2"

# Dashboard rows drawn: (file name, title, panel ids of podium-dashboard.json, grid columns).
ROWS = [
    ("relay", "Relay: traffic and allocations", [9, 10, 11, 12, 13, 15, 16, 19], 4),
    ("sfu-sessions", "SFU: rooms, guests, sessions", [21, 22, 23, 24, 25, 26], 3),
    ("sfu-loss-latency", "SFU: loss and latency", [28, 29, 30, 31, 35, 33], 3),
    ("slides", "Slides: delivery (and data channels)", [38, 39, 40, 42, 45, 46], 3),
    ("process", "Process", [51, 52, 53, 54], 4),
]

_PR_SET_PDEATHSIG = 1
_children = []  # every Popen this script started, stopped by PID at the end
_children_lock = threading.Lock()
_stop = threading.Event()


def log(msg):
    sys.stderr.write("render-dashboard: %s\n" % msg)
    sys.stderr.flush()


def _die_with_parent():
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(args, **kw):
    kw.setdefault("preexec_fn", _die_with_parent)
    proc = subprocess.Popen([str(a) for a in args], **kw)
    with _children_lock:
        _children.append(proc)
    return proc


def stop_pid(proc, sig=signal.SIGTERM, timeout=5):
    """Signals one child by its PID and waits; SIGKILL after `timeout`."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass
    return proc.returncode


def stop_all():
    with _children_lock:
        procs = list(reversed(_children))
    for p in procs:
        stop_pid(p, signal.SIGINT if getattr(p, "is_podium", False) else signal.SIGTERM)


def run_tool(args, timeout, name=None):
    """Runs a client to completion (stoppable by PID); returns (exit code, stdout+stderr)."""
    proc = spawn(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_pid(proc)
        out, _ = proc.communicate()
        log("%s timed out after %ss" % (name or args[0], timeout))
    return proc.returncode, out


def http(url, method="GET", headers=None, timeout=5):
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def wait_for(predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ------------------------------------------------------------------------------------------
# podium and Prometheus

class Podium:
    def __init__(self, binary, workdir, config_text, name="podium"):
        self.config_path = os.path.join(workdir, name + ".yaml")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.log_path = os.path.join(workdir, name + ".log")
        self._log = open(self.log_path, "w")
        self.proc = spawn([binary, "serve", "--config", self.config_path],
                          stdout=subprocess.PIPE, stderr=self._log, text=True)
        self.proc.is_podium = True
        self.pid = self.proc.pid
        self.urls = {}
        expect = {c for c in ("metrics", "relay", "sfu", "signaling")
                  if re.search(r"^%s:" % c, config_text, re.M)}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = LISTEN_RE.match(line.strip())
            if m:
                self.urls.setdefault(m.group(1), []).append(m.group(2))
            if line.startswith("podium: open ") or (
                    "signaling" not in expect and expect <= set(self.urls)):
                break
        if not expect <= set(self.urls):
            self.stop()
            raise RuntimeError("podium did not start: %s" % open(self.log_path).read()[-2000:])
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()  # drain

    def url(self, component, scheme=None):
        for u in self.urls.get(component, []):
            if scheme is None or u.startswith(scheme + "://"):
                return u
        raise KeyError(component)

    def port(self, component, scheme=None):
        return int(self.url(component, scheme).rstrip("/").rsplit(":", 1)[1])

    def status_kib(self, field="VmRSS"):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        code = stop_pid(self.proc, signal.SIGINT, timeout=10)
        self._log.close()
        return code


class Prometheus:
    def __init__(self, workdir, target, scrape="1s"):
        self.config_path = os.path.join(workdir, "prometheus.yml")
        # The same instance relabelling as monitoring/prometheus/prometheus.yml: host only.
        with open(self.config_path, "w") as f:
            f.write("""global:
  scrape_interval: %s
  scrape_timeout: %s
  evaluation_interval: %s
rule_files:
  - %s
scrape_configs:
  - job_name: podium
    static_configs:
      - targets: ['%s']
    relabel_configs:
      - source_labels: [__address__]
        regex: '(.+):\\d+'
        target_label: instance
        replacement: '$1'
""" % (scrape, scrape, scrape, RULES, target))
        self.log_path = os.path.join(workdir, "prometheus.log")
        self._log = open(self.log_path, "w")
        for _ in range(3):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
            s.close()
            self.base = "http://127.0.0.1:%d" % self.port
            self.proc = spawn([PROMETHEUS, "--config.file=" + self.config_path,
                               "--storage.tsdb.path=" + os.path.join(workdir, "tsdb"),
                               "--web.listen-address=127.0.0.1:%d" % self.port,
                               "--storage.tsdb.retention.time=1d", "--log.level=warn"],
                              stdout=self._log, stderr=subprocess.STDOUT, cwd=workdir)
            if wait_for(lambda: self.proc.poll() is not None or self._ready(), 30) \
                    and self.proc.poll() is None:
                return
            stop_pid(self.proc)
        raise RuntimeError("prometheus did not start: " + open(self.log_path).read()[-2000:])

    def _ready(self):
        try:
            return http(self.base + "/-/ready", timeout=1)[0] == 200
        except OSError:
            return False

    def api(self, path, **params):
        url = self.base + "/api/v1/" + path + "?" + urllib.parse.urlencode(params)
        status, body = http(url, timeout=30)
        data = json.loads(body)
        if status != 200 or data.get("status") != "success":
            raise RuntimeError("GET %s: %s %s" % (url, status, body[:500]))
        return data["data"]

    def stop(self):
        stop_pid(self.proc)
        self._log.close()


# ------------------------------------------------------------------------------------------
# A small TURN client (RFC 8489 long-term credentials, RFC 8656 Allocate/Refresh/
# CreatePermission) that holds many allocations open: one socket per allocation, requests sent
# in batches and answered in any order.

MAGIC = 0x2112A442
ALLOCATE, REFRESH, CREATE_PERMISSION = 0x003, 0x004, 0x008
A_USERNAME, A_MESSAGE_INTEGRITY, A_ERROR_CODE, A_LIFETIME = 0x0006, 0x0008, 0x0009, 0x000D
A_XOR_PEER, A_REALM, A_NONCE, A_XOR_RELAYED, A_TRANSPORT = 0x0012, 0x0014, 0x0015, 0x0016, 0x0019


def _attr(kind, value):
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def _xor_address(host, port):
    ip = struct.unpack("!I", socket.inet_aton(host))[0]
    return struct.pack("!BBHI", 0, 1, port ^ (MAGIC >> 16), ip ^ MAGIC)


def stun_request(method, attrs, key=None):
    tid = os.urandom(12)
    body = b"".join(_attr(k, v) for k, v in attrs)
    if key is not None:  # MESSAGE-INTEGRITY over the message with its length already counted
        header = struct.pack("!HHI12s", method, len(body) + 24, MAGIC, tid)
        body += _attr(A_MESSAGE_INTEGRITY, hmac.new(key, header + body, hashlib.sha1).digest())
    return struct.pack("!HHI12s", method, len(body), MAGIC, tid) + body, tid


def stun_parse(data):
    """(message type, transaction id, {attribute: value}, total length) or None."""
    if len(data) < 20:
        return None
    kind, length, magic, tid = struct.unpack("!HHI12s", data[:20])
    if magic != MAGIC or len(data) < 20 + length:
        return None
    attrs, pos = {}, 20
    while pos + 4 <= 20 + length:
        k, n = struct.unpack("!HH", data[pos:pos + 4])
        attrs.setdefault(k, data[pos + 4:pos + 4 + n])
        pos += 4 + n + (-n % 4)
    return kind, tid, attrs, 20 + length


def error_code(attrs):
    v = attrs.get(A_ERROR_CODE)
    return (v[2] & 7) * 100 + v[3] if v and len(v) >= 4 else None


class TurnAllocation:
    def __init__(self, transport, server):
        self.transport = transport
        if transport == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", 0))
            self.sock.connect(server)
        else:
            self.sock = socket.create_connection(server, timeout=5)
            if transport == "tls":  # a self-signed test certificate: no verification
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                self.sock = context.wrap_socket(self.sock)
        self.sock.setblocking(False)
        self.buffer = b""
        self.realm = self.nonce = self.key = None
        self.active = False
        self.last_error = "no answer"

    def fileno(self):
        return self.sock.fileno()

    def send(self, data):
        if self.transport == "udp":
            self.sock.send(data)
        else:
            self.sock.setblocking(True)
            self.sock.sendall(data)
            self.sock.setblocking(False)

    def messages(self):
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                if self.transport == "udp":
                    m = stun_parse(chunk)
                    if m:
                        yield m
                    continue
                self.buffer += chunk
                while True:
                    m = stun_parse(self.buffer)
                    if not m:
                        break
                    self.buffer = self.buffer[m[3]:]
                    yield m
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return

    def auth(self):
        return [(A_USERNAME, USER.encode()), (A_REALM, self.realm), (A_NONCE, self.nonce)]

    def close(self):
        self.sock.close()


def transact(allocs, build, timeout=8.0):
    """Sends build(a) -> (bytes, tid) on every allocation's socket and collects the answers:
    {alloc: (type, attrs)}. UDP requests are retransmitted (same transaction) every 0.5 s."""
    requests = {a: build(a) for a in allocs}
    by_fd = {a.fileno(): a for a in allocs}
    answers = {}
    poller = select.poll()
    for a in allocs:
        poller.register(a.fileno(), select.POLLIN)
    deadline = time.monotonic() + timeout
    next_send = 0.0
    while len(answers) < len(allocs) and time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_send:
            for a in allocs:
                if a not in answers and (a.transport == "udp" or next_send == 0.0):
                    try:
                        a.send(requests[a][0])
                    except OSError:
                        pass
            next_send = now + 0.5
        for fd, _ in poller.poll(50):
            a = by_fd[fd]
            for kind, tid, attrs, _ in a.messages():
                if tid == requests[a][1] and a not in answers:
                    answers[a] = (kind, attrs)
                    poller.unregister(fd)
                    break
    return answers


class TurnHolder:
    """Allocations held open by batches; allocate() and delete() are thread-safe enough for
    the one traffic thread that uses each holder."""

    def __init__(self, server_udp, server_tcp=None, server_tls=None, peer=(PEER_HOST, 9)):
        self.servers = {"udp": server_udp, "tcp": server_tcp, "tls": server_tls}
        self.peer = peer
        self.allocations = []
        self.failures = {}  # why allocations could not be made: count

    def allocate(self, count, transport="udp", lifetime=None, permission=True, batch=250):
        made = []
        for start in range(0, count, batch):
            group = [TurnAllocation(transport, self.servers[transport])
                     for _ in range(min(batch, count - start))]
            # 1. Without credentials: 401 with REALM and NONCE.
            first = transact(group, lambda a: stun_request(
                ALLOCATE, [(A_TRANSPORT, b"\x11\0\0\0")]))
            for a, (kind, attrs) in first.items():
                if error_code(attrs) == 401:
                    a.realm, a.nonce = attrs.get(A_REALM), attrs.get(A_NONCE)
                    a.key = hashlib.md5(b"%s:%s:%s" % (USER.encode(), a.realm,
                                                         PASSWORD.encode())).digest()
            ready = [a for a in group if a.key]
            # 2. With them (a stale nonce is retried with the fresh one).
            extra = [(A_LIFETIME, struct.pack("!I", lifetime))] if lifetime else []
            for _ in range(2):
                answers = transact(ready, lambda a: stun_request(
                    ALLOCATE, [(A_TRANSPORT, b"\x11\0\0\0")] + extra + a.auth(), a.key))
                retry = []
                for a, (kind, attrs) in answers.items():
                    if kind == 0x0103:
                        a.active = True
                    elif error_code(attrs) == 438:
                        a.nonce = attrs.get(A_NONCE)
                        retry.append(a)
                    else:
                        a.last_error = "error %s" % error_code(attrs)
                ready = retry
                if not ready:
                    break
            ok = [a for a in group if a.active]
            for a in group:
                if not a.active:
                    self.failures[a.last_error] = self.failures.get(a.last_error, 0) + 1
            if permission and ok:
                peer = _xor_address(*self.peer)
                transact(ok, lambda a: stun_request(
                    CREATE_PERMISSION, [(A_XOR_PEER, peer)] + a.auth(), a.key))
            for a in group:
                if not a.active:
                    a.close()
            made += ok
        self.allocations += made
        return made

    def delete(self, allocations=None):
        """Refresh with LIFETIME 0 (podium_relay_allocations_deleted_total)."""
        allocations = list(self.allocations if allocations is None else allocations)
        for start in range(0, len(allocations), 250):
            group = allocations[start:start + 250]
            transact(group, lambda a: stun_request(
                REFRESH, [(A_LIFETIME, b"\0\0\0\0")] + a.auth(), a.key), timeout=3)
        self.forget(allocations)

    def forget(self, allocations):
        """Closes the sockets (an expired allocation's, or a TCP one's: podium ends it)."""
        gone = set(map(id, allocations))
        for a in allocations:
            a.close()
        self.allocations = [a for a in self.allocations if id(a) not in gone]


# ------------------------------------------------------------------------------------------
# Traffic

def podium_config(relay_ports, tls=None, log_level="info", default_lifetime="10m"):
    tls_listen = ", tls://127.0.0.1:0" if tls else ""
    tls_keys = "  tls:\n    cert: %s\n    key: %s\n" % tls if tls else ""
    # unauthenticated_rate: 0 because every client here has the source address 127.0.0.1.
    return """log:
  level: %s
metrics:
  listen: 127.0.0.1:0
  admin_token: render-admin-token
relay:
  listen: [udp://127.0.0.1:0, tcp://127.0.0.1:0%s]
  realm: %s
  relay_ports: %s
  users: {%s: %s}
  auth_secrets: [%s]
  allow_peers: [127.0.0.0/8]
  unauthenticated_rate: 0
  default_lifetime: %s
%ssfu:
  listen_ip: 127.0.0.1
  udp_port: 0
  max_sessions: 20000
signaling:
  listen: 127.0.0.1:0
  token_secret: render-token-secret
  api_key: %s
""" % (log_level, tls_listen, REALM, relay_ports, USER, PASSWORD, REST_SECRET, default_lifetime,
       tls_keys, API_KEY)


def make_certificate(workdir):
    cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "90", "-subj",
                    "/CN=localhost", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def create_room(signaling, key=API_KEY):
    status, body = http(signaling + "/api/rooms", "POST",
                        {"Authorization": "Bearer " + key})
    return json.loads(body) if status == 201 else None


class Traffic:
    """The schedule: each entry starts in its own thread at its time (scaled to --duration)."""

    def __init__(self, podium, load_binary, duration, workdir):
        self.podium = podium
        self.load = load_binary
        self.scale = duration / 180.0
        self.duration = duration
        self.workdir = workdir
        self.signaling = podium.url("signaling")
        self.udp = ("127.0.0.1", podium.port("relay", "udp"))
        self.tcp = ("127.0.0.1", podium.port("relay", "tcp"))
        self.tls_port = podium.port("relay", "tls") if any(
            u.startswith("tls://") for u in podium.urls["relay"]) else None
        self.holder = TurnHolder(self.udp, self.tcp)
        self.peer = None
        self.errors = []
        self.notes = []

    def at(self, t):
        """Seconds since the start for a time given on the 180 s reference schedule."""
        return t * self.scale

    def sleep_until(self, t):
        delay = self.start + t - time.monotonic()
        return not _stop.wait(delay) if delay > 0 else not _stop.is_set()

    # --- TURN ---
    def held_allocations(self):
        h = self.holder
        steps = [
            (5, lambda: self.keep("A", h.allocate(150, "udp", lifetime=3600))),
            (20, lambda: self.keep("B", h.allocate(30, "tcp", lifetime=3600))),
            (45, lambda: self.keep("C", h.allocate(250, "udp"))),  # relay.default_lifetime
            (80, lambda: h.forget(self.kept.pop("C", []))),  # expired by now: close the sockets
            (95, lambda: self.keep("D", h.allocate(200, "udp", lifetime=3600))),
            (120, lambda: h.delete(self.kept.pop("B", []))),
            (140, lambda: h.delete(self.kept.pop("D", []))),
            (155, lambda: h.delete(self.kept.pop("A", []))),
        ]
        for t, step in steps:
            if not self.sleep_until(self.at(t)):
                return
            step()

    def keep(self, name, allocations):
        self.kept[name] = allocations
        self.notes.append("held %d allocations (%s)" % (len(allocations), name))

    def uclient(self, port, *args, timeout=60):
        return run_tool(["turnutils_uclient", "-p", port] + list(args) + ["127.0.0.1"],
                        timeout, "turnutils_uclient")

    def relayed_stream(self):
        """uclient to the echo peer, 2-8 clients, UDP, then TCP, then TLS, ~20 s per run."""
        runs = [(2, []), (4, []), (8, ["-t"]), (6, []), (8, []), (4, ["-t"]), (2, [])]
        t = self.at(10)
        i = 0
        while t < self.at(160) and self.sleep_until(t):
            clients, extra = runs[i % len(runs)]
            messages = max(50, int(1000 * self.scale))
            code, out = self.uclient(self.udp[1] if "-t" not in extra else self.tcp[1],
                                     *extra, "-W", REST_SECRET, "-u", "render", "-m", clients,
                                     "-n", messages, "-z", 20, "-l", 400, "-e", PEER_HOST,
                                     "-r", self.peer_port, timeout=120)
            if code != 0:
                self.errors.append("uclient stream: " + out[-500:])
            i += 1
            t = time.monotonic() - self.start + 1

    def tls_stream(self):
        if not self.tls_port or not self.sleep_until(self.at(60)):
            return
        code, out = self.uclient(self.tls_port, "-S", "-t", "-W", REST_SECRET, "-u", "render",
                                 "-m", 2, "-n", max(50, int(500 * self.scale)), "-z", 20,
                                 "-l", 400, "-e", PEER_HOST, "-r", self.peer_port, timeout=90)
        if code != 0:
            self.notes.append("uclient over TLS exited %s" % code)

    def bad_credentials(self):
        t = self.at(70)
        while t < self.at(110) and self.sleep_until(t):
            self.uclient(self.udp[1], "-u", USER, "-w", "wrong", "-m", 1, "-n", 1, "-y",
                         timeout=20)
            t += 2 * self.scale

    def refused_peers(self):
        t = self.at(100)
        while t < self.at(130) and self.sleep_until(t):
            self.uclient(self.udp[1], "-u", USER, "-w", PASSWORD, "-s", "-m", 10, "-n", 5,
                         "-e", "10.255.255.1", "-r", 9, timeout=20)
            t += 2 * self.scale

    def bad_api_key(self):
        t = self.at(80)
        while t < self.at(100) and self.sleep_until(t):
            create_room(self.signaling, "not-the-key")
            t += 0.4

    # --- SFU ---
    def podium_load(self, *args, timeout):
        code, out = run_tool([self.load] + [str(a) for a in args], timeout, "podium-load")
        lines = [l for l in out.splitlines() if l.startswith("{")]
        if code != 0 or not lines:
            self.errors.append("podium-load %s: %s" % (" ".join(map(str, args[:2])),
                                                        out[-500:]))
            return None
        return json.loads(lines[-1])

    def talk(self, start, guests, seconds):
        def run():
            if not self.sleep_until(self.at(start)):
                return
            room = create_room(self.signaling)
            result = self.podium_load("--signaling", self.signaling, "--room", room["room"],
                                      "--token", room["presenter_token"], "--guests", guests,
                                      "--seconds", max(5, seconds * self.scale), "--decode", 2,
                                      timeout=seconds * self.scale + 120)
            if result:
                self.notes.append("room with %d guests: loss_max %.4f" % (
                    result["guests_connected"], result["loss_max"]))
        return run

    def slides(self):
        runs = [(25, 10, 1_000_000), (55, 30, 2_000_000), (85, 20, 3_000_000),
                (115, 40, 1_500_000), (140, 15, 4_000_000)]
        for start, guests, size in runs:
            if not self.sleep_until(self.at(start)):
                return
            room = create_room(self.signaling)
            result = self.podium_load("--mode", "slides", "--signaling", self.signaling,
                                      "--room", room["room"], "--token", room["presenter_token"],
                                      "--guests", guests, "--slide-bytes", size, "--decode", 2,
                                      "--timeout", 60, timeout=120)
            if result:
                self.notes.append("slide of %d bytes to %d guests: last %.1f s" % (
                    size, result["guests_complete"], result["last_guest_seconds"]))

    def run(self):
        self.kept = {}
        self.peer_port = free_udp_port(PEER_HOST)
        self.peer = spawn(["turnutils_peer", "-L", PEER_HOST, "-p", self.peer_port],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.start = time.monotonic()
        jobs = [self.held_allocations, self.relayed_stream, self.tls_stream,
                self.bad_credentials, self.refused_peers, self.bad_api_key, self.slides,
                self.talk(15, 40, 125), self.talk(50, 150, 70), self.talk(90, 20, 60)]
        threads = [threading.Thread(target=self.guard(j), daemon=True) for j in jobs]
        for th in threads:
            th.start()
        end = self.start + self.duration
        for th in threads:
            th.join(max(1, end + 180 - time.monotonic()))
        if any(th.is_alive() for th in threads):
            self.errors.append("some traffic did not end in time")
            _stop.set()
        remaining = self.start + self.duration - time.monotonic()
        if remaining > 0:
            _stop.wait(remaining)
        self.holder.delete()
        stop_pid(self.peer)
        if self.holder.failures:
            self.notes.append("allocations not made: %s" % self.holder.failures)

    def guard(self, job):
        def run():
            try:
                job()
            except Exception as e:  # reported at the end
                self.errors.append("%s: %r" % (getattr(job, "__name__", "job"), e))
        return run


def free_udp_port(host):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ------------------------------------------------------------------------------------------
# Drawing

def load_panels():
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    panels = {}

    def walk(items):
        for p in items:
            panels[p["id"]] = p
            walk(p.get("panels", []))
    walk(dashboard["panels"])
    return panels


def fill(expr, rate_interval):
    return (expr.replace("$__rate_interval", rate_interval)
            .replace('job=~"$job"', 'job=~"podium"').replace('instance=~"$instance"',
                                                              'instance=~".+"'))


def legend(fmt, labels, fallback):
    if not fmt:
        return fallback
    text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), fmt)
    return " ".join(text.split()) or fallback


def _si(v, base=1000.0, prefixes=("", "k", "M", "G", "T")):
    a = abs(v)
    i = 0
    while a >= base and i < len(prefixes) - 1:
        a /= base
        v /= base
        i += 1
    return ("%.0f" if abs(v) >= 100 else "%.3g") % v, prefixes[i]


def formatter(unit):
    def fmt(v, _pos=None):
        if unit == "percentunit":
            return "%g%%" % float("%.3g" % (v * 100))
        if unit == "s":
            if v == 0:
                return "0"
            a = abs(v)
            if a < 1e-3:
                return "%g µs" % float("%.3g" % (v * 1e6))
            if a < 1:
                return "%g ms" % float("%.3g" % (v * 1e3))
            return "%g s" % float("%.3g" % v)
        if unit == "bytes":
            n, p = _si(v, 1024.0, ("B", "KiB", "MiB", "GiB", "TiB"))
            return "%s %s" % (n, p)
        n, p = _si(v)
        suffix = {"bps": "b/s", "pps": "p/s", "ops": "/s", "reqps": " req/s"}.get(unit, "")
        if unit == "bps":
            return "%s %s%s" % (n, p, suffix)
        if unit == "pps":
            return "%s%s %s" % (n, p, suffix)
        return "%s%s%s" % (n, p, suffix)
    return fmt


def query_panel(prom, panel, start, end, step, rate_interval):
    """[(legend, {timestamp: value})] of every target, in the panel's order."""
    series = []
    for target in panel.get("targets", []):
        expr = fill(target["expr"], rate_interval)
        data = prom.api("query_range", query=expr, start="%.3f" % start, end="%.3f" % end,
                        step="%gs" % step)
        for s in sorted(data["result"], key=lambda s: sorted(s["metric"].items())):
            points = {round(float(t), 3): float(v) for t, v in s["values"]}
            points = {t: v for t, v in points.items() if v == v and abs(v) != float("inf")}
            if points:
                series.append((legend(target.get("legendFormat"), s["metric"], panel["title"]),
                               points))
    return series


def overrides(panel, name):
    """Grafana fieldConfig overrides matched by series name: {property id: value}."""
    props = {}
    for o in panel.get("fieldConfig", {}).get("overrides", []):
        m = o.get("matcher", {})
        if m.get("id") == "byName" and m.get("options") == name:
            props.update({p["id"]: p["value"] for p in o.get("properties", [])})
    return props


def unit_locator(unit):
    """Ticks at round numbers of the unit the labels use (powers of 1024 for bytes)."""
    from matplotlib.ticker import Locator, MaxNLocator

    if unit != "bytes":
        return MaxNLocator(5, integer=(unit == "short"), min_n_ticks=3)

    class BinaryLocator(Locator):
        def __call__(self):
            lo, hi = self.axis.get_view_interval()
            scale = 1.0
            while hi / scale >= 1024:
                scale *= 1024
            inner = MaxNLocator(5, min_n_ticks=3).tick_values(lo / scale, hi / scale)
            return [t * scale for t in inner]
    return BinaryLocator()


def draw_row(prom, panels, row, start, end, step, rate_interval, out_dir, scraped, t0):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    name, title, ids, columns = row
    rows = (len(ids) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(4.8 * columns, 3.6 * rows + 0.6),
                             squeeze=False, layout="constrained")
    colors = plt.get_cmap("tab10").colors
    for ax in axes.flat[len(ids):]:
        ax.set_visible(False)
    for ax, pid in zip(axes.flat, ids):
        panel = panels[pid]
        defaults = panel.get("fieldConfig", {}).get("defaults", {})
        custom = defaults.get("custom", {})
        unit = defaults.get("unit", "short")
        stacked = custom.get("stacking", {}).get("mode", "none") != "none"
        fill_alpha = custom.get("fillOpacity", 0) / 100.0
        series = query_panel(prom, panel, start, end, step, rate_interval)
        ax.set_title(panel["title"], fontsize=10, loc="left", fontweight="bold")
        right = None
        below = {}  # stacking: the running sum under the next series
        handles = []
        for label, points in series:
            props = overrides(panel, label)
            target = ax
            if props.get("custom.axisPlacement") == "right":
                right = right or ax.twinx()
                target = right
                right.yaxis.set_major_formatter(FuncFormatter(formatter(props.get("unit", unit))))
                right.yaxis.set_major_locator(unit_locator(props.get("unit", unit)))
                right.tick_params(labelsize=8)
            if not any(points.values()):
                continue  # as Grafana's legend option "hide series with only zeros"
            # Every step of the range: where a query had no value the line breaks (NaN), as
            # Grafana's spanNulls: false draws it.
            ts = [start + i * step for i in range(int((end - start) / step) + 1)]
            nan = float("nan")
            values = [points.get(round(t, 3), nan) for t in ts]
            xs = [(t - t0) / 60.0 for t in ts]
            base = [below.get(t, 0.0) if stacked else 0.0 for t in ts]
            ys = [b + v for b, v in zip(base, values)]
            if stacked:
                below.update((t, y) for t, y in zip(ts, ys) if y == y)
            color = colors[len(handles) % len(colors)]
            line, = target.plot(xs, ys, linewidth=1.2, color=color, label=label)
            if fill_alpha:
                target.fill_between(xs, base, ys, color=color, alpha=fill_alpha, linewidth=0)
            handles.append(line)
        if not series:
            ax.text(0.5, 0.5, "No data", ha="center", va="center", transform=ax.transAxes,
                    color="0.5")
        ax.set_xlim(0, (end - t0) / 60.0)
        ax.set_ylim(bottom=0)
        if right:
            right.set_ylim(bottom=0)
        if not handles and series and unit == "percentunit":
            ax.set_ylim(0, 0.01)
        ax.yaxis.set_major_formatter(FuncFormatter(formatter(unit)))
        ax.yaxis.set_major_locator(unit_locator(unit))
        ax.tick_params(labelsize=8)
        ax.grid(True, color="0.9")
        ax.set_xlabel("minutes since the start of the run", fontsize=8)
        for side in ("top",) + (() if right else ("right",)):
            ax.spines[side].set_visible(False)
        if handles:
            ax.legend(handles=handles, fontsize=7, frameon=False, loc="upper left",
                      bbox_to_anchor=(0, -0.16), ncol=3 if len(handles) > 4 else 2,
                      handlelength=1.2, columnspacing=1.0)
        elif series:
            ax.text(0.99, 0.97, "all series 0", ha="right", va="top", transform=ax.transAxes,
                    fontsize=7, color="0.5")
    fig.suptitle("Podium dashboard: %s" % title, fontsize=13, fontweight="bold", x=0.01,
                 ha="left")
    fig.supxlabel("rendered by monitoring/render-dashboard.py from data scraped %s" % scraped,
                  fontsize=8, color="0.35", x=0.01, ha="left")
    path = os.path.join(out_dir, name + ".png")
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


# ------------------------------------------------------------------------------------------

def copy_binaries(args, workdir):
    podium = args.podium or os.path.join(args.build, "podium")
    load = args.podium_load or os.path.join(args.build, "podium-load")
    out = []
    for path in (podium, load):
        if not os.access(path, os.X_OK):
            sys.exit("render-dashboard: %s is missing: build it (cmake --build BUILD --target "
                     "podium podium-load) or pass --podium/--podium-load" % path)
        copy = os.path.join(workdir, os.path.basename(path))
        shutil.copy2(path, copy)
        out.append(copy)
    return out


def render(args, workdir, podium_bin, load_bin):
    for tool in ("turnutils_uclient", "turnutils_peer", "openssl"):
        if not shutil.which(tool):
            sys.exit("render-dashboard: %s is not installed (deploy/install-deps.sh)" % tool)
    if not os.access(PROMETHEUS, os.X_OK):
        sys.exit("render-dashboard: prometheus is not installed (Debian package prometheus)")
    if importlib.util.find_spec("matplotlib") is None:  # fail before the run, not after it
        sys.exit("render-dashboard: matplotlib is missing (Debian package python3-matplotlib)")
    began = time.monotonic()
    # Allocations that ask for no lifetime (and are not refreshed) expire during the run.
    podium = Podium(podium_bin, workdir, podium_config(args.relay_ports, make_certificate(workdir),
                                                      default_lifetime="30s"))
    log("podium %d: %s" % (podium.pid, ", ".join(u for v in podium.urls.values() for u in v)))
    metrics = podium.url("metrics").split("://", 1)[1].rstrip("/")
    prom = Prometheus(workdir, metrics)
    log("prometheus %d on %s" % (prom.proc.pid, prom.base))
    if not wait_for(lambda: prom.api("query", query='up{job="podium"} == 1')["result"], 20):
        raise RuntimeError("Prometheus never scraped podium")
    time.sleep(args.lead)
    t0 = round(time.time() - args.lead, 3)
    log("traffic for %d s" % args.duration)
    traffic = Traffic(podium, load_bin, args.duration, workdir)
    traffic.run()
    time.sleep(args.tail)
    end = round(time.time(), 3)
    scraped = datetime.datetime.fromtimestamp(t0, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")
    for note in traffic.notes:
        log(note)
    for error in traffic.errors:
        log("traffic error: " + error)
    alerts = prom.api("alerts")["alerts"]
    for a in alerts:
        log("alert %s is %s" % (a["labels"]["alertname"], a["state"]))
    os.makedirs(args.out, exist_ok=True)
    panels = load_panels()
    step = max(1, round((end - t0) / 400))
    for row in ROWS:
        path = draw_row(prom, panels, row, t0, end, step, args.rate_interval, args.out, scraped,
                        t0)
        log("wrote %s" % os.path.relpath(path, os.getcwd()))
    log("podium exit code %s" % podium.stop())
    prom.stop()
    log("took %.0f s" % (time.monotonic() - began))
    return 1 if traffic.errors else 0


def measure(args, workdir, podium_bin, load_bin):
    """Sizing: RSS and descriptors idle, per TURN allocation and per SFU guest."""
    limit = raise_nofile()
    results = {"nproc": os.cpu_count(), "nofile": limit}
    config = podium_config(args.relay_ports, None, log_level="warn")

    # TURN allocations: one podium, allocations added step by step and held.
    steps = sorted(int(n) for n in args.allocations.split(",") if n)
    podium = Podium(podium_bin, workdir, config, "measure-relay")
    holder = TurnHolder(("127.0.0.1", podium.port("relay", "udp")))
    time.sleep(3)
    idle = {"rss_kib": podium.status_kib(), "fds": podium.fds(),
            "threads": int(podium.status_kib("Threads"))}
    results["idle"] = idle
    log("idle: %s" % idle)
    rows = []
    for n in steps:
        holder.allocate(n - len(holder.allocations), "udp", lifetime=3600)
        time.sleep(3)
        row = {"allocations": len(holder.allocations), "rss_kib": podium.status_kib(),
               "fds": podium.fds()}
        row["kib_per_allocation"] = (row["rss_kib"] - idle["rss_kib"]) / max(1, row["allocations"])
        row["fds_per_allocation"] = (row["fds"] - idle["fds"]) / max(1, row["allocations"])
        rows.append(row)
        log("allocations: %s" % row)
    if holder.failures:
        log("allocations not made: %s" % holder.failures)
    holder.delete()
    results["allocations"] = rows
    podium.stop()

    # TCP and TLS allocations (a client connection and a relayed UDP socket each), each in a
    # fresh podium.
    rows = []
    tls_config = podium_config(args.relay_ports, make_certificate(workdir), log_level="warn")
    for transport, n in [("tcp", int(n)) for n in args.tcp_allocations.split(",") if n] + \
            [("tls", int(n)) for n in args.tls_allocations.split(",") if n]:
        podium = Podium(podium_bin, workdir, tls_config, "measure-%s-%d" % (transport, n))
        holder = TurnHolder(("127.0.0.1", podium.port("relay", "udp")),
                            ("127.0.0.1", podium.port("relay", "tcp")),
                            ("127.0.0.1", podium.port("relay", "tls")))
        time.sleep(3)
        before = {"rss_kib": podium.status_kib(), "fds": podium.fds()}
        holder.allocate(n, transport, lifetime=3600)
        time.sleep(3)
        row = {"transport": transport, "allocations": len(holder.allocations),
               "idle_rss_kib": before["rss_kib"], "rss_kib": podium.status_kib(),
               "fds": podium.fds()}
        row["kib_per_allocation"] = ((row["rss_kib"] - before["rss_kib"])
                                     / max(1, row["allocations"]))
        row["fds_per_allocation"] = (row["fds"] - before["fds"]) / max(1, row["allocations"])
        rows.append(row)
        log("%s allocations: %s" % (transport, row))
        if holder.failures:
            log("allocations not made: %s" % holder.failures)
        holder.delete()
        podium.stop()
    results["stream_allocations"] = rows

    # SFU: a fresh podium per room size (freed memory is not given back to the system, so a
    # second room in the same process would reuse it).
    rows = []
    for n in sorted(int(n) for n in args.guests.split(",") if n):
        podium = Podium(podium_bin, workdir, config, "measure-sfu-%d" % n)
        time.sleep(2)
        before = podium.status_kib()
        peak = [before]
        done = threading.Event()

        fds = [podium.fds()]

        def sample():
            while not done.wait(0.2):
                try:
                    peak[0] = max(peak[0], podium.status_kib())
                    fds.append(podium.fds())
                except OSError:
                    return
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        room = create_room(podium.url("signaling"))
        code, out = run_tool([load_bin, "--signaling", podium.url("signaling"), "--room",
                              room["room"], "--token", room["presenter_token"], "--guests", n,
                              "--seconds", args.seconds, "--podium-pid", podium.pid],
                             args.seconds + 180, "podium-load")
        done.set()
        sampler.join()
        lines = [l for l in out.splitlines() if l.startswith("{")]
        if code != 0 or not lines:
            raise RuntimeError("podium-load failed: " + out[-1000:])
        r = json.loads(lines[-1])
        row = {"guests": r["guests_connected"], "idle_rss_kib": before, "peak_rss_kib": peak[0],
               "kib_per_guest": (peak[0] - before) / max(1, r["guests_connected"]),
               "load_kib_per_guest_after_setup": r["podium_rss_mib_per_guest"] * 1024,
               "cpu_seconds": r["podium_cpu_seconds"], "seconds": args.seconds,
               "cpu_cores": r["podium_cpu_seconds"] / args.seconds,
               "cpu_us_per_guest_packet": r["podium_cpu_us_per_guest_packet"],
               "loss_max": r["loss_max"], "idle_fds": fds[0], "peak_fds": max(fds)}
        row["cpu_percent_of_core_per_guest"] = 100 * row["cpu_cores"] / max(1, row["guests"])
        rows.append(row)
        log("guests: %s" % row)
        podium.stop()
    results["guests"] = rows

    print("| TURN allocations held | podium RSS | KiB per allocation | open fds "
          "| fds per allocation |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    print("| 0 | %.1f MiB | | %d | |" % (idle["rss_kib"] / 1024, idle["fds"]))
    for r in results["allocations"]:
        print("| %d | %.1f MiB | %.2f | %d | %.2f |" % (
            r["allocations"], r["rss_kib"] / 1024, r["kib_per_allocation"], r["fds"],
            r["fds_per_allocation"]))
    for r in results["stream_allocations"]:
        print("| %d over %s (fresh podium: %.1f MiB idle) | %.1f MiB | %.2f | %d | %.2f |" % (
            r["allocations"], r["transport"].upper(), r["idle_rss_kib"] / 1024,
            r["rss_kib"] / 1024, r["kib_per_allocation"], r["fds"], r["fds_per_allocation"]))
    print()
    print("| guests | podium RSS idle | peak | KiB per guest | podium CPU | % of a core per guest "
          "| µs per guest-packet | worst loss |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results["guests"]:
        print("| %d | %.1f MiB | %.1f MiB | %.0f | %.3f cores | %.4f | %.2f | %.4f |" % (
            r["guests"], r["idle_rss_kib"] / 1024, r["peak_rss_kib"] / 1024, r["kib_per_guest"],
            r["cpu_cores"], r["cpu_percent_of_core_per_guest"], r["cpu_us_per_guest_packet"],
            r["loss_max"]))
    print()
    print(json.dumps(results))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--build", default=os.path.join(REPO, "build", "release"),
                        help="build directory with podium and podium-load (default %(default)s)")
    parser.add_argument("--podium", help="the podium binary (default BUILD/podium)")
    parser.add_argument("--podium-load", help="the podium-load binary (default BUILD/podium-load)")
    parser.add_argument("--duration", type=float, default=180,
                        help="seconds of traffic; the schedule scales with it (default 180)")
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "images", "dashboard"),
                        help="where the PNGs go (default docs/images/dashboard)")
    parser.add_argument("--rate-interval", default="10s",
                        help="what $__rate_interval becomes (default 10s)")
    parser.add_argument("--lead", type=float, default=10, help="idle seconds before the traffic")
    parser.add_argument("--tail", type=float, default=15, help="idle seconds after it")
    # Below Linux's ephemeral range (32768-60999), which this script's own client sockets use.
    parser.add_argument("--relay-ports", default="10000-30999",
                        help="relay.relay_ports for the run (default %(default)s)")
    parser.add_argument("--measure", action="store_true", help="measure sizing instead")
    parser.add_argument("--allocations", default="1000,5000,10000",
                        help="--measure: TURN allocations to hold, in steps")
    parser.add_argument("--tcp-allocations", default="1000",
                        help="--measure: TCP allocations to hold (a fresh podium)")
    parser.add_argument("--tls-allocations", default="1000",
                        help="--measure: TLS allocations to hold (a fresh podium)")
    parser.add_argument("--guests", default="100,500", help="--measure: SFU room sizes")
    parser.add_argument("--seconds", type=int, default=20,
                        help="--measure: seconds of audio per room")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    args.out = os.path.abspath(args.out)

    def interrupted(signum, _frame):
        _stop.set()
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, interrupted)
    raise_nofile()
    workdir = tempfile.mkdtemp(prefix="podium-render-")
    try:
        podium_bin, load_bin = copy_binaries(args, workdir)
        if args.measure:
            return measure(args, workdir, podium_bin, load_bin)
        return render(args, workdir, podium_bin, load_bin)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        _stop.set()
        stop_all()
        if args.keep:
            log("kept %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
