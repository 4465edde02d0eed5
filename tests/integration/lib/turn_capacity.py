"""Many concurrent TURN allocations against podium, and what they cost.

Used by tests/integration/test_capacity.py (100,000 allocations, asserted) and bench/capacity
(any size, more detail). Run it inside a private network namespace (lib/netns.py): the client
binds tens of thousands of explicit ports on 127.0.1.x and podium's relayed sockets take most of
the ports of its relay addresses, which must not starve anything else on the machine.

What run() does, in order:
  1. raises RLIMIT_NOFILE for itself and therefore for podium, its child (both hold one fd per
     allocation); raises fs.nr_open / fs.file-max only if they are too small;
  2. starts `podium serve` with relay.relay_ip a list of loopback addresses, relay_ports
     1024-65535, unauthenticated_rate 0 (unlimited: every client shares a few source addresses),
     max_allocations 0 and one static user;
  3. opens N client UDP sockets (127.0.1.x, explicit ports), then has each do the real two-step
     Allocate (401 with REALM and NONCE, then USERNAME/REALM/NONCE/MESSAGE-INTEGRITY), many
     transactions in flight at once, retransmitting after 0.5 s, 1 s, 2 s, ... (RFC 8489
     section 6.2.1, bounded to a few tries); checks the MESSAGE-INTEGRITY of every success;
  4. reads /metrics (podium_relay_allocations_active, podium_relay_allocation_capacity) and the
     memory: podium's VmRSS, the kernel's Slab (/proc/meminfo and /proc/slabinfo), UDP sockets in
     use (/proc/net/sockstat), before and after;
  5. checks a random sample is alive end to end: CreatePermission, a Send indication to an echo
     peer (a plain UDP socket on 127.0.2.1 that checks the datagram came from the advertised
     relayed address) and the Data indication back;
  6. deletes every allocation (Refresh LIFETIME 0) and stops podium with SIGTERM (a graceful
     drain with nothing left to drain), timing its exit.
It returns a dict of everything measured; callers decide what to assert or print.

That is mode "single" (run() when the open-file limit can be raised to what the count needs).
When the hard RLIMIT_NOFILE is lower and cannot be raised (root without CAP_SYS_RESOURCE),
run_sharded() holds the same count with K podiums and K client processes (this file run with
--client-shard, driven by JSON lines on stdin/stdout), each within the hard limit minus a margin
for its own descriptors: the podiums get their own listeners and disjoint slices of
relay_ports, the clients disjoint client ports, all K allocate at once, and every measurement
above is taken with all K holding their share at the same moment (gauges and RSS summed over
the podiums; UDP sockets and slab are per namespace and machine, counted once).
"""
import hashlib
import heapq
import hmac
import json
import os
import queue
import random
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

from podium_harness import Podium, die_with_parent, metric, scrape, stop_process, wait_for

MAGIC = 0x2112A442
ALLOCATE, REFRESH, SEND, DATA, CREATE_PERMISSION = 0x003, 0x004, 0x006, 0x007, 0x008
REQUEST, INDICATION, SUCCESS, ERROR = 0, 1, 2, 3
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE, LIFETIME = 0x0006, 0x0008, 0x0009, 0x000D
XOR_PEER_ADDRESS, DATA_ATTR, REALM_ATTR, NONCE = 0x0012, 0x0013, 0x0014, 0x0015
XOR_RELAYED_ADDRESS, REQUESTED_TRANSPORT = 0x0016, 0x0019

USER, PASSWORD, REALM = "capacity", "capacity-pass", "capacity.test"
PORTS_PER_ADDRESS = 65535 - 1024 + 1  # relay_ports 1024-65535, and the client's ports too
PEER = ("127.0.2.1", 0)
DONE = object()  # a handler's answer: this socket's work is finished


def message_type(method, cls):
    return ((method & 0x00F) | ((method & 0x070) << 1) | ((method & 0xF80) << 2)
            | ((cls & 1) << 4) | ((cls & 2) << 7))


def attribute(atype, value):
    return struct.pack("!HH", atype, len(value)) + value + b"\0" * (-len(value) % 4)


def xor_address(host, port):
    addr = struct.unpack("!I", socket.inet_aton(host))[0] ^ MAGIC
    return struct.pack("!BBHI", 0, 1, port ^ (MAGIC >> 16), addr)


def decode_xor_address(value):
    family, xport, xaddr = struct.unpack("!xBHI", value[:8])
    if family != 1:
        return None
    return socket.inet_ntoa(struct.pack("!I", xaddr ^ MAGIC)), xport ^ (MAGIC >> 16)


def parse(data):
    """(method, class, transaction id, {type: (value, offset)} of the first occurrences, data)
    or None."""
    if len(data) < 20:
        return None
    mtype, length, magic = struct.unpack_from("!HHI", data)
    if magic != MAGIC or length + 20 != len(data):
        return None
    method = (mtype & 0x000F) | ((mtype & 0x00E0) >> 1) | ((mtype & 0x3E00) >> 2)
    cls = ((mtype >> 4) & 1) | ((mtype >> 7) & 2)
    attrs = {}
    offset = 20
    while offset + 4 <= len(data):
        atype, alen = struct.unpack_from("!HH", data, offset)
        if atype not in attrs:
            attrs[atype] = (data[offset + 4:offset + 4 + alen], offset)
        offset += 4 + alen + (-alen % 4)
    return method, cls, data[8:20], attrs, data


def integrity_ok(data, attrs, key):
    found = attrs.get(MESSAGE_INTEGRITY)
    if found is None:
        return False
    value, offset = found
    header = data[:2] + struct.pack("!H", offset + 24 - 20) + data[4:20]
    return hmac.compare_digest(hmac.digest(key, header + data[20:offset], "sha1"), value)


def error_code(attrs):
    found = attrs.get(ERROR_CODE)
    return None if found is None else (found[0][2] & 7) * 100 + found[0][3]


class Client:
    """N UDP sockets connected to the relay, one epoll, and a pipelined transaction engine."""

    def __init__(self, count, server, log, first=0):
        """`first`: this client's first global index (its sockets bind the ports of indexes
        first..first+count-1), so several clients' sockets never collide."""
        self.server = server
        self.log = log
        self.key = hashlib.md5(("%s:%s:%s" % (USER, REALM, PASSWORD)).encode()).digest()
        self.random = random.Random(os.urandom(16))
        self.epoll = select.epoll()
        self.socks = []
        self.by_fd = {}
        for i in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            g = first + i
            s.bind(("127.0.1.%d" % (1 + g // PORTS_PER_ADDRESS), 1024 + g % PORTS_PER_ADDRESS))
            s.setblocking(False)
            s.connect(server)
            self.epoll.register(s.fileno(), select.EPOLLIN)
            self.by_fd[s.fileno()] = i
            self.socks.append(s)
        self.nonce = [None] * count   # per socket: the NONCE its last 401/438 carried
        self.tid = [None] * count     # the transaction (or indication) awaiting an answer
        self.relayed = [None] * count
        self._body_cache = {}
        self.extra = {}               # fd -> callable(fd) for other sockets (the echo peer)
        self.retransmissions = 0

    def close(self):
        self.epoll.close()
        for s in self.socks:
            s.close()

    def request(self, i, method, attributes, authenticated=True):
        """A request with a fresh transaction id (remembered in self.tid[i]); with credentials
        (USERNAME, REALM, this socket's NONCE, MESSAGE-INTEGRITY) when `authenticated`."""
        tid = self.random.randbytes(12)
        self.tid[i] = tid
        body = b"".join(attribute(t, v) for t, v in attributes)
        if authenticated:
            nonce = self.nonce[i]
            creds = self._body_cache.get(nonce)
            if creds is None:
                creds = (attribute(USERNAME, USER.encode()) + attribute(REALM_ATTR, REALM.encode())
                         + attribute(NONCE, nonce))
                self._body_cache[nonce] = creds
            body += creds
            header = struct.pack("!HHI", message_type(method, REQUEST), len(body) + 24,
                                 MAGIC) + tid
            return header + body + b"\x00\x08\x00\x14" + hmac.digest(self.key, header + body,
                                                                      "sha1")
        return struct.pack("!HHI", message_type(method, REQUEST), len(body), MAGIC) + tid + body

    def run(self, indexes, start, on_message, window=1000, rto=0.5, tries=6, deadline=None):
        """Drives every socket in `indexes` to completion, at most `window` at a time.
        start(i) -> first datagram; on_message(i, data) -> next datagram to send (a new
        transaction: retransmission count restarts), DONE, None (not for us: ignored) or a
        failure reason (str). A socket whose datagram went unanswered `tries` times (timeouts
        0.5 s, 1 s, 2 s, ... capped at 4 s) fails with "timeout". Returns {index: reason}."""
        pending = list(reversed(indexes))
        active = {}        # index -> [bytes, tries so far, generation]
        timers = []        # (due, generation, index)
        failures = {}
        generation = 0
        epoll, socks, by_fd, extra = self.epoll, self.socks, self.by_fd, self.extra

        def send(i, data, attempt):
            nonlocal generation
            generation += 1
            active[i] = [data, attempt, generation]
            try:
                socks[i].send(data)
            except (BlockingIOError, ConnectionRefusedError):
                pass  # counts as lost: the timer retransmits
            heapq.heappush(timers, (time.monotonic() + min(4.0, rto * (1 << attempt)),
                                    generation, i))

        while pending or active:
            while pending and len(active) < window:
                i = pending.pop()
                send(i, start(i), 0)
            if deadline is not None and time.monotonic() > deadline:
                for i in list(active) + pending:
                    failures[i] = "run deadline"
                break
            wait = max(0.0, timers[0][0] - time.monotonic()) if timers else 0.1
            for fd, _ in epoll.poll(min(wait, 0.1)):
                i = by_fd.get(fd)
                if i is None:
                    extra[fd](fd)
                    continue
                sock = socks[i]
                while True:
                    try:
                        data = sock.recv(4096)
                    except (BlockingIOError, ConnectionRefusedError):
                        break
                    if i not in active:
                        continue  # late duplicate after completion
                    outcome = on_message(i, data)
                    if outcome is None:
                        continue
                    if outcome is DONE:
                        del active[i]
                    elif isinstance(outcome, str):
                        failures[i] = outcome
                        del active[i]
                    else:
                        send(i, outcome, 0)
            now = time.monotonic()
            while timers and timers[0][0] <= now:
                _, gen, i = heapq.heappop(timers)
                entry = active.get(i)
                if entry is None or entry[2] != gen:
                    continue  # answered or superseded
                if entry[1] + 1 >= tries:
                    failures[i] = "timeout"
                    del active[i]
                else:
                    self.retransmissions += 1
                    send(i, entry[0], entry[1] + 1)
        return failures

    # ---- the phases -------------------------------------------------------------------------

    def _authenticated(self, i, method, attributes, parsed, on_success):
        """Shared answer handling: 401/438 with a NONCE -> the same request again with
        credentials; success with valid MESSAGE-INTEGRITY -> on_success(attrs)."""
        method_in, cls, tid, attrs, data = parsed
        if tid != self.tid[i] or method_in != method:
            return None
        if cls == ERROR:
            code = error_code(attrs)
            nonce = attrs.get(NONCE)
            if code in (401, 438) and nonce is not None:
                if code == 401 and self.nonce[i] is not None and method != ALLOCATE:
                    return "401 with credentials"
                self.nonce[i] = nonce[0]
                return self.request(i, method, attributes)
            return "error %s" % code
        if cls != SUCCESS:
            return "unexpected class %d" % cls
        if not integrity_ok(data, attrs, self.key):
            return "bad MESSAGE-INTEGRITY in the success response"
        return on_success(attrs)

    def allocate(self, indexes, window):
        transport = [(REQUESTED_TRANSPORT, b"\x11\0\0\0")]

        def start(i):
            return self.request(i, ALLOCATE, transport, authenticated=False)

        def on_message(i, data):
            parsed = parse(data)
            if parsed is None:
                return "unparsable answer"

            def success(attrs):
                found = attrs.get(XOR_RELAYED_ADDRESS)
                if found is None:
                    return "no XOR-RELAYED-ADDRESS"
                self.relayed[i] = decode_xor_address(found[0])
                return DONE
            return self._authenticated(i, ALLOCATE, transport, parsed, success)
        return self.run(indexes, start, on_message, window=window)

    def delete(self, indexes, window):
        zero = [(LIFETIME, b"\0\0\0\0")]

        def start(i):
            return self.request(i, REFRESH, zero)

        def on_message(i, data):
            parsed = parse(data)
            if parsed is None:
                return "unparsable answer"
            return self._authenticated(i, REFRESH, zero, parsed, lambda attrs: DONE)
        return self.run(indexes, start, on_message, window=window)

    def verify(self, indexes, window):
        """CreatePermission for the echo peer, then a Send indication whose DATA the peer echoes
        back to its source (which must be the advertised relayed address); the Data indication
        must carry the same bytes. The indication is re-sent on timeout like a request."""
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer.bind(PEER)
        peer.setblocking(False)
        peer_addr = peer.getsockname()
        peer_attr = [(XOR_PEER_ADDRESS, xor_address(*peer_addr))]
        self.epoll.register(peer.fileno(), select.EPOLLIN)
        wrong_source = []
        expected_source = {}

        def echo(fd):
            while True:
                try:
                    data, source = peer.recvfrom(4096)
                except BlockingIOError:
                    return
                if len(data) >= 8:
                    i = struct.unpack_from("!I", data)[0]
                    if expected_source.get(i) != source:
                        wrong_source.append((i, source))
                        continue
                peer.sendto(data, source)
        self.extra[peer.fileno()] = echo
        payload = {}

        def send_indication(i):
            token = struct.pack("!I", i) + self.random.randbytes(12)
            payload[i] = token
            expected_source[i] = self.relayed[i]
            tid = self.random.randbytes(12)
            self.tid[i] = ("data", tid)
            body = peer_attr_bytes + attribute(DATA_ATTR, token)
            return struct.pack("!HHI", message_type(SEND, INDICATION), len(body), MAGIC) + tid + body
        peer_attr_bytes = attribute(*peer_attr[0])

        def start(i):
            return self.request(i, CREATE_PERMISSION, peer_attr)

        def on_message(i, data):
            parsed = parse(data)
            if parsed is None:
                return "unparsable answer"
            method, cls, _, attrs, _ = parsed
            if method == DATA and cls == INDICATION:
                found_peer, found_data = attrs.get(XOR_PEER_ADDRESS), attrs.get(DATA_ATTR)
                if found_peer is None or found_data is None:
                    return "Data indication without XOR-PEER-ADDRESS or DATA"
                if decode_xor_address(found_peer[0]) != peer_addr:
                    return "Data indication from %s" % (decode_xor_address(found_peer[0]),)
                return DONE if found_data[0] == payload.get(i) else None
            if isinstance(self.tid[i], tuple):
                return None  # a late answer to the CreatePermission
            return self._authenticated(i, CREATE_PERMISSION, peer_attr, parsed,
                                       lambda attrs: send_indication(i))
        try:
            failures = self.run(indexes, start, on_message, window=window)
        finally:
            self.epoll.unregister(peer.fileno())
            del self.extra[peer.fileno()]
            peer.close()
        for i, source in wrong_source[:5]:
            failures.setdefault(i, "peer got the Send from %s, not %s" % (source, self.relayed[i]))
        return failures


# ---- measurements -----------------------------------------------------------------------------

def read_kib(path, field):
    with open(path) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def slabinfo():
    """{cache: bytes} (num_objs x objsize) from /proc/slabinfo, or {} when unreadable."""
    out = {}
    try:
        with open("/proc/slabinfo") as f:
            for line in f:
                if line.startswith(("slabinfo", "#")):
                    continue
                parts = line.split()
                out[parts[0]] = int(parts[2]) * int(parts[3])
    except OSError:
        pass
    return out


def sockstat_udp():
    """(sockets in use, buffer memory pages) of UDP in this network namespace."""
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("UDP:"):
                parts = line.split()
                return int(parts[parts.index("inuse") + 1]), int(parts[parts.index("mem") + 1])
    return 0, 0


def snapshot(pid):
    return {"rss_kib": read_kib("/proc/%d/status" % pid, "VmRSS"),
            "slab_kib": read_kib("/proc/meminfo", "Slab"),
            "slabinfo": slabinfo(),
            "udp": sockstat_udp(),
            "cpu": cpu_seconds(pid),
            "time": time.monotonic()}


FD_MARGIN = 1024  # podium's and the client's other fds: listeners, epoll, logs, metrics


def raise_fd_limits(need):
    """Raises RLIMIT_NOFILE (soft and hard) to `need` for this process and its children, and
    fs.nr_open / fs.file-max when they are below it. None on success, else why not (raising
    the hard limit needs CAP_SYS_RESOURCE, which a container may not grant even to root)."""
    try:
        with open("/proc/sys/fs/nr_open") as f:
            nr_open = int(f.read())
        if nr_open < need:
            with open("/proc/sys/fs/nr_open", "w") as f:
                f.write(str(need))
        with open("/proc/sys/fs/file-max") as f:
            file_max = int(f.read())
        if file_max < 4 * need:
            with open("/proc/sys/fs/file-max", "w") as f:
                f.write(str(4 * need))
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < need:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(need, hard)))
    except (OSError, ValueError) as e:
        return "cannot raise the open-file limits to %d: %s" % (need, e)
    return None


def relay_layout(count):
    """(relay addresses, relay ports per address): at least two addresses, and a port range
    that one address alone could not satisfy (all of 1024-65535 once `count` needs it), so the
    allocations must spread over the list. A margin covers ports podium's listeners hold."""
    addresses = max(2, -(-(count + 64) // PORTS_PER_ADDRESS))
    if count > PORTS_PER_ADDRESS:
        return addresses, PORTS_PER_ADDRESS
    return addresses, min(PORTS_PER_ADDRESS, -(-count // addresses) + 256)


def podium_config(addresses, ports, first_port=1024):
    return """
metrics:
  listen: 127.0.0.1:0
relay:
  listen: [udp://127.0.0.1:0]
  realm: %s
  relay_ip: [%s]
  relay_ports: %d-%d
  users: {%s: %s}
  allow_peers: [127.0.0.0/8]
  unauthenticated_rate: 0
  max_allocations: 0
""" % (REALM, ", ".join(addresses), first_port, first_port + ports - 1, USER, PASSWORD)


def run(count, sample=1000, window=1000, log=None, shards=0):
    """The whole measurement (see the module doc); returns a dict ("mode" and "mode_reason" say
    how it ran). One podium and one client process ("single") when RLIMIT_NOFILE can be raised
    to what `count` needs (or already allows it); otherwise, or when `shards` is given, `count`
    is split over K podiums and K client processes that each stay within the hard limit and
    hold their share at the same time ("sharded", run_sharded())."""
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    reason = raise_fd_limits(max(262144, count + FD_MARGIN))
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if not shards and (reason is None or hard >= count + FD_MARGIN):
        if reason:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # enough already
        why = "RLIMIT_NOFILE %d covers %d allocations plus a margin of %d in one process" % (
            resource.getrlimit(resource.RLIMIT_NOFILE)[0], count, FD_MARGIN)
        log("mode: single (one podium, one client process): " + why)
        result = _run_single(count, sample, window, log)
        result.update(mode="single", mode_reason=why, shards=1, shard_counts=[count])
        return result
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if shards:
        reason = "%d shards requested%s" % (shards, "; " + reason if reason else "")
    return run_sharded(count, shards, reason, sample, window, log)


def _run_single(count, sample, window, log):
    result = {"requested": count, "count": count}
    result["rlimit_nofile"] = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    n_addresses, ports = relay_layout(count)
    addresses = ["127.0.0.%d" % (1 + k) for k in range(n_addresses)]
    result["relay_addresses"] = addresses
    result["relay_ports"] = "1024-%d" % (1024 + ports - 1)
    result["relay_ports_per_address"] = ports
    with Podium(podium_config(addresses, ports), timeout=30) as podium:
        with open("/proc/%d/limits" % podium.proc.pid) as f:
            line = next(l for l in f if l.startswith("Max open files"))
        result["podium_nofile"] = int(line.split()[3])
        server = podium.wait_host_port("relay", "udp")
        t0 = time.monotonic()
        client = Client(count, server, log)
        result["client_sockets_seconds"] = round(time.monotonic() - t0, 2)
        log("%d client sockets in %.1f s" % (count, result["client_sockets_seconds"]))
        try:
            samples = scrape(podium)
            result["capacity_gauge"] = metric(samples, "podium_relay_allocation_capacity")
            before = snapshot(podium.proc.pid)
            client_cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            failures = client.allocate(range(count), window)
            after = snapshot(podium.proc.pid)
            client_cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            result["allocate_seconds"] = round(after["time"] - before["time"], 2)
            result["allocate_failures"] = len(failures)
            result["allocate_failure_examples"] = sorted(
                {v for v in failures.values()})[:5]
            result["retransmissions"] = client.retransmissions
            result["allocated"] = sum(1 for r in client.relayed if r is not None)
            log("%d allocated in %.1f s, %d failed %s" % (
                result["allocated"], result["allocate_seconds"], len(failures),
                result["allocate_failure_examples"]))
            relayed = [r for r in client.relayed if r is not None]
            result["distinct_relayed"] = len(set(relayed))
            per_address = {}
            for host, _ in relayed:
                per_address[host] = per_address.get(host, 0) + 1
            result["per_relay_address"] = per_address
            result["podium_cpu_seconds"] = round(after["cpu"] - before["cpu"], 2)
            result["client_cpu_seconds"] = round(
                client_cpu1.ru_utime + client_cpu1.ru_stime
                - client_cpu0.ru_utime - client_cpu0.ru_stime, 2)
            active = wait_for(lambda: metric(scrape(podium), "podium_relay_allocations_active")
                              == result["allocated"] and result["allocated"], timeout=10)
            samples = scrape(podium)
            result["allocations_gauge"] = metric(samples, "podium_relay_allocations_active")
            result["allocations_gauge_settled"] = bool(active)
            allocated = max(1, result["allocated"])
            result["rss_before_kib"] = before["rss_kib"]
            result["rss_after_kib"] = after["rss_kib"]
            result["rss_bytes_per_allocation"] = round(
                (after["rss_kib"] - before["rss_kib"]) * 1024 / allocated, 1)
            result["slab_bytes_per_allocation"] = round(
                (after["slab_kib"] - before["slab_kib"]) * 1024 / allocated, 1)
            caches = {}
            for name, size in after["slabinfo"].items():
                delta = size - before["slabinfo"].get(name, 0)
                if abs(delta) >= allocated // 2:
                    caches[name] = round(delta / allocated, 1)
            result["slab_caches_bytes_per_allocation"] = dict(
                sorted(caches.items(), key=lambda kv: -kv[1]))
            result["slabinfo_bytes_per_allocation"] = round(sum(caches.values()), 1)
            result["udp_sockets_added"] = after["udp"][0] - before["udp"][0]
            result["udp_buffer_pages_before"] = before["udp"][1]
            result["udp_buffer_pages_after"] = after["udp"][1]
            # podium's process_open_fds lists /proc/self/fd on every scrape: the kernel then
            # caches a proc inode and dentry per fd, part of what the allocations cost while
            # Prometheus watches.
            scraped = snapshot(podium.proc.pid)
            result["slab_bytes_per_allocation_after_scrape"] = round(
                (scraped["slab_kib"] - before["slab_kib"]) * 1024 / allocated, 1)
            caches = {}
            for name, size in scraped["slabinfo"].items():
                delta = size - after["slabinfo"].get(name, 0)
                if abs(delta) >= allocated // 2:
                    caches[name] = round(delta / allocated, 1)
            result["slab_caches_added_by_scrape"] = caches

            done = [i for i, r in enumerate(client.relayed) if r is not None]
            chosen = random.Random(7).sample(done, min(sample, len(done)))
            t1 = time.monotonic()
            failures = client.verify(chosen, window=min(window, 200))
            result["sample"] = len(chosen)
            result["sample_seconds"] = round(time.monotonic() - t1, 2)
            result["sample_failures"] = len(failures)
            result["sample_failure_examples"] = sorted(set(failures.values()))[:5]
            log("sample of %d: %d failed %s" % (len(chosen), len(failures),
                                                 result["sample_failure_examples"]))

            t2 = time.monotonic()
            cpu2 = cpu_seconds(podium.proc.pid)
            failures = client.delete(done, window)
            result["delete_seconds"] = round(time.monotonic() - t2, 2)
            result["delete_podium_cpu_seconds"] = round(cpu_seconds(podium.proc.pid) - cpu2, 2)
            result["delete_failures"] = len(failures)
            result["delete_failure_examples"] = sorted(set(failures.values()))[:5]
            log("deleted in %.1f s, %d failed" % (result["delete_seconds"], len(failures)))
            wait_for(lambda: metric(scrape(podium), "podium_relay_allocations_active") == 0,
                     timeout=10)
            samples = scrape(podium)
            result["allocations_gauge_after_delete"] = metric(
                samples, "podium_relay_allocations_active")
            result["deleted_total"] = metric(samples, "podium_relay_allocations_deleted_total")
            result["rss_after_delete_kib"] = read_kib("/proc/%d/status" % podium.proc.pid,
                                                      "VmRSS")
            result["udp_sockets_after_delete"] = sockstat_udp()[0] - before["udp"][0]
        finally:
            client.close()
        code, took = podium.stop(signal.SIGTERM, timeout=20, check=False)
        result["exit_code"] = code
        result["exit_seconds"] = round(took, 2)
        report = podium.sanitizer_report()
        result["sanitizer_report"] = report[:2000] if report else None
    return result


# ---- sharded: K podiums and K client processes, each within the hard limit --------------------

def sharded_layout(shard_count, shards):
    """(relay addresses, ports per address) for each of `shards` podiums holding `shard_count`
    allocations, their relay_ports disjoint slices of 1024-65535: relay_layout() (one address
    alone cannot hold a shard) narrowed to a slice, with more addresses if a slice is short."""
    width = PORTS_PER_ADDRESS // shards
    addresses, ports = relay_layout(shard_count)
    if ports > width:
        addresses, ports = max(2, -(-(shard_count + 256) // width)), width
    return addresses, ports


class ClientShard:
    """A client process (this file run with --client-shard) holding `count` sockets, with its
    own RLIMIT_NOFILE (inherited, within the hard limit). Commands and answers are JSON lines
    on its stdin and stdout; its stderr is ours."""

    def __init__(self, index, count, first, server, window):
        self.index, self.count = index, count
        config = {"count": count, "first": first, "server": list(server), "window": window}
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--client-shard", json.dumps(config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            preexec_fn=die_with_parent)
        self.replies = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.replies.put(json.loads(line))
        self.replies.put(None)

    def send(self, command, **fields):
        self.proc.stdin.write(json.dumps(dict(fields, cmd=command)) + "\n")
        self.proc.stdin.flush()

    def reply(self, deadline):
        try:
            answer = self.replies.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise RuntimeError("client shard %d: no answer in time" % self.index) from None
        if answer is None:
            raise RuntimeError("client shard %d exited (%s)" % (self.index, self.proc.wait(5)))
        return answer


def _everyone(clients, timeout, command=None, **fields):
    """Sends `command` to every client shard (they work at the same time), then collects one
    answer from each."""
    if command:
        for c in clients:
            c.send(command, **fields)
    deadline = time.monotonic() + timeout
    return [c.reply(deadline) for c in clients]


def _client_shard_main(config):
    """The client process of one shard: opens its sockets, answers "ready", then runs the
    commands its parent sends (allocate, verify, delete, exit) and answers each."""
    def log(text):
        print("client shard %d: %s" % (config["first"], text), file=sys.stderr, flush=True)

    def answer(fields):
        sys.stdout.write(json.dumps(fields) + "\n")
        sys.stdout.flush()
    count, window = config["count"], config["window"]
    t0 = time.monotonic()
    client = Client(count, tuple(config["server"]), log, first=config["first"])
    answer({"ready": True, "seconds": round(time.monotonic() - t0, 2),
            "fds": len(os.listdir("/proc/self/fd")),
            "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0]})
    for line in sys.stdin:
        command = json.loads(line)
        cmd = command["cmd"]
        t = time.monotonic()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        if cmd == "allocate":
            failures = client.allocate(range(count), window)
            out = {"relayed": client.relayed, "retransmissions": client.retransmissions}
        elif cmd == "verify":
            done = [i for i, r in enumerate(client.relayed) if r is not None]
            chosen = random.Random(command["seed"]).sample(done, min(command["sample"],
                                                                     len(done)))
            failures = client.verify(chosen, window=min(window, 200))
            out = {"sample": len(chosen)}
        elif cmd == "delete":
            done = [i for i, r in enumerate(client.relayed) if r is not None]
            failures = client.delete(done, window)
            out = {}
        elif cmd == "exit":
            client.close()
            answer({"closed": True})
            return
        else:
            raise ValueError(cmd)
        now = resource.getrusage(resource.RUSAGE_SELF)
        out.update(seconds=round(time.monotonic() - t, 2),
                   cpu=round(now.ru_utime + now.ru_stime - usage.ru_utime - usage.ru_stime, 2),
                   failures=len(failures), examples=sorted(set(failures.values()))[:5])
        answer(out)


def _snapshot_all(pids):
    return {"rss_kib": [read_kib("/proc/%d/status" % pid, "VmRSS") for pid in pids],
            "cpu": [cpu_seconds(pid) for pid in pids],
            "slab_kib": read_kib("/proc/meminfo", "Slab"),
            "slabinfo": slabinfo(),
            "udp": sockstat_udp(),
            "time": time.monotonic()}


def _grown_caches(before, after, allocated):
    caches = {}
    for name, size in after.items():
        delta = size - before.get(name, 0)
        if abs(delta) >= allocated // 2:
            caches[name] = round(delta / allocated, 1)
    return dict(sorted(caches.items(), key=lambda kv: -kv[1]))


def _fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def run_sharded(count, shards, reason, sample=1000, window=1000, log=None, phase_timeout=300):
    """`count` allocations held at the same time by K podiums (`podium serve`, relay only, each
    its own listener and a disjoint slice of relay_ports, the same relay_ip list) and K client
    processes, when one process cannot hold them all (`reason`). K is `shards`, or the fewest
    whose share fits the hard RLIMIT_NOFILE minus a margin for each process's own descriptors
    (measured on an idle podium). Everything is measured with all K shards allocated at once:
    the gauges summed over the podiums, UDP sockets in the namespace (counted once), the sum
    of the podiums' VmRSS growth and the kernel's Slab growth, each divided by `count`; each
    idle podium's RSS is reported apart (fixed cost per process). Returns the same fields as
    the single-process run (summed) plus per-shard detail."""
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    result = {"requested": count, "count": count, "mode": "sharded", "rlimit_nofile": hard}
    with Podium(podium_config(["127.0.0.1", "127.0.0.2"], 256), timeout=30) as probe:
        probe.wait_host_port("relay", "udp")  # every thread and listener is up
        time.sleep(0.2)
        probe_fds = _fds(probe.proc.pid)
    margin = max(FD_MARGIN, 4 * probe_fds)
    budget = hard - margin
    if budget < 1000:
        return {"skip": "%s, and the hard RLIMIT_NOFILE %d leaves fewer than 1,000 descriptors "
                        "per process" % (reason, hard)}
    k = shards or -(-count // budget)
    shard_counts = [count // k + (1 if j < count % k else 0) for j in range(k)]
    if max(shard_counts) > budget:
        return {"skip": "%d shards of up to %d allocations do not fit the per-process budget %d"
                        % (k, max(shard_counts), budget)}
    n_addresses, ports = sharded_layout(max(shard_counts), k)
    width = PORTS_PER_ADDRESS // k
    addresses = ["127.0.0.%d" % (1 + a) for a in range(n_addresses)]
    slices = [(1024 + j * width, 1024 + j * width + ports - 1) for j in range(k)]
    why = ("%s. One process holds at most %d descriptors here (hard RLIMIT_NOFILE %d minus a "
           "margin of %d for its own; an idle podium has %d open), so %d podium processes and "
           "%d client processes hold %s allocations each, all at the same time"
           % (reason, budget, hard, margin, probe_fds, k, k,
              "/".join(str(c) for c in sorted(set(shard_counts)))))
    log("mode: sharded (K=%d): %s" % (k, why))
    result.update(mode_reason=why, shards=k, shard_counts=shard_counts, fd_margin=margin,
                  fd_budget_per_process=budget, podium_fds_probe=probe_fds,
                  relay_addresses=addresses, relay_ports_per_address=ports,
                  relay_ports=["%d-%d" % s for s in slices])
    podiums, clients = [], []
    try:
        for j in range(k):
            podiums.append(Podium(podium_config(addresses, ports, slices[j][0]), timeout=30))
        pids = [p.proc.pid for p in podiums]
        nofile = []
        for pid in pids:
            with open("/proc/%d/limits" % pid) as f:
                nofile.append(int(next(l for l in f if l.startswith("Max open files"))
                                  .split()[3]))
        result["podium_nofile"] = min(nofile)
        servers = [p.wait_host_port("relay", "udp") for p in podiums]
        # `window` transactions in flight in all, as in the single run: more only overflows
        # the podiums' receive queues (lost datagrams, retransmissions) on a small machine.
        result["window_per_shard"] = shard_window = max(50, -(-window // k))
        t0 = time.monotonic()
        first = 0
        for j in range(k):
            clients.append(ClientShard(j, shard_counts[j], first, servers[j], shard_window))
            first += shard_counts[j]
        ready = _everyone(clients, phase_timeout)
        result["client_sockets_seconds"] = round(time.monotonic() - t0, 2)
        result["client_fds"] = [r["fds"] for r in ready]
        result["client_nofile"] = min(r["nofile"] for r in ready)
        log("%d client sockets in %d processes in %.1f s" % (
            count, k, result["client_sockets_seconds"]))
        result["podium_fds_idle"] = [_fds(pid) for pid in pids]
        result["capacity_gauge"] = sum(metric(scrape(p), "podium_relay_allocation_capacity")
                                       for p in podiums)

        before = _snapshot_all(pids)
        answers = _everyone(clients, phase_timeout, "allocate")
        after = _snapshot_all(pids)
        result["allocate_seconds"] = round(after["time"] - before["time"], 2)
        result["allocate_seconds_per_shard"] = [a["seconds"] for a in answers]
        result["allocate_failures"] = sum(a["failures"] for a in answers)
        result["allocate_failure_examples"] = sorted(
            {e for a in answers for e in a["examples"]})[:5]
        result["retransmissions"] = sum(a["retransmissions"] for a in answers)
        result["client_cpu_seconds"] = round(sum(a["cpu"] for a in answers), 2)
        relayed, outside = [], 0
        for j, a in enumerate(answers):
            for r in a["relayed"]:
                if r is None:
                    continue
                relayed.append(tuple(r))
                if not slices[j][0] <= r[1] <= slices[j][1]:
                    outside += 1
        result["allocated"] = len(relayed)
        result["allocated_per_shard"] = [sum(1 for r in a["relayed"] if r) for a in answers]
        result["relayed_outside_own_slice"] = outside
        log("%d allocated by %d shards in %.1f s, %d failed %s, %d retransmissions" % (
            result["allocated"], k, result["allocate_seconds"], result["allocate_failures"],
            result["allocate_failure_examples"], result["retransmissions"]))
        result["distinct_relayed"] = len(set(relayed))
        per_address = {}
        for host, _ in relayed:
            per_address[host] = per_address.get(host, 0) + 1
        result["per_relay_address"] = per_address
        del relayed, answers
        result["podium_cpu_seconds"] = round(sum(after["cpu"]) - sum(before["cpu"]), 2)
        result["podium_cpu_seconds_per_shard"] = [
            round(b - a, 2) for a, b in zip(before["cpu"], after["cpu"])]

        # Every shard holds its allocations now: the gauges, summed, at one moment.
        def gauges():
            return [metric(scrape(p), "podium_relay_allocations_active") for p in podiums]
        settled = wait_for(lambda: sum(gauges()) == result["allocated"] and result["allocated"],
                           timeout=10)
        per_podium = gauges()
        result["allocations_gauge_per_podium"] = per_podium
        result["allocations_gauge"] = sum(per_podium)
        result["allocations_gauge_settled"] = bool(settled)
        allocated = max(1, result["allocated"])
        result["podium_idle_rss_kib"] = before["rss_kib"]
        result["rss_before_kib"] = sum(before["rss_kib"])
        result["rss_after_kib"] = sum(after["rss_kib"])
        result["rss_after_kib_per_podium"] = after["rss_kib"]
        result["rss_bytes_per_allocation"] = round(
            (result["rss_after_kib"] - result["rss_before_kib"]) * 1024 / allocated, 1)
        result["slab_bytes_per_allocation"] = round(
            (after["slab_kib"] - before["slab_kib"]) * 1024 / allocated, 1)
        caches = _grown_caches(before["slabinfo"], after["slabinfo"], allocated)
        result["slab_caches_bytes_per_allocation"] = caches
        result["slabinfo_bytes_per_allocation"] = round(sum(caches.values()), 1)
        held = sockstat_udp()
        result["udp_sockets_added"] = held[0] - before["udp"][0]
        result["udp_buffer_pages_before"] = before["udp"][1]
        result["udp_buffer_pages_after"] = after["udp"][1]
        # (The scrapes above listed every podium's /proc/self/fd: see the single run.)
        scraped = _snapshot_all(pids)
        result["slab_bytes_per_allocation_after_scrape"] = round(
            (scraped["slab_kib"] - before["slab_kib"]) * 1024 / allocated, 1)
        result["slab_caches_added_by_scrape"] = _grown_caches(
            after["slabinfo"], scraped["slabinfo"], allocated)
        result["podium_fds_held"] = [_fds(pid) for pid in pids]
        result["podium_fds_added"] = (sum(result["podium_fds_held"])
                                      - sum(result["podium_fds_idle"]))
        log("held: gauges %s (sum %d), +%d UDP sockets, podium RSS +%.0f B and slab +%.0f B "
            "per allocation" % (per_podium, result["allocations_gauge"],
                                result["udp_sockets_added"], result["rss_bytes_per_allocation"],
                                result["slab_bytes_per_allocation"]))

        t1 = time.monotonic()
        for j, c in enumerate(clients):
            c.send("verify", sample=min(sample, shard_counts[j]), seed=7 + j)
        answers = _everyone(clients, phase_timeout)
        result["sample_seconds"] = round(time.monotonic() - t1, 2)
        result["sample_per_shard"] = [a["sample"] for a in answers]
        result["sample"] = sum(result["sample_per_shard"])
        result["sample_failures"] = sum(a["failures"] for a in answers)
        result["sample_failure_examples"] = sorted(
            {e for a in answers for e in a["examples"]})[:5]
        log("sample of %d (%s per shard): %d failed %s" % (
            result["sample"], result["sample_per_shard"][0], result["sample_failures"],
            result["sample_failure_examples"]))

        t2 = time.monotonic()
        cpu2 = [cpu_seconds(pid) for pid in pids]
        answers = _everyone(clients, phase_timeout, "delete")
        result["delete_seconds"] = round(time.monotonic() - t2, 2)
        result["delete_podium_cpu_seconds"] = round(
            sum(cpu_seconds(pid) for pid in pids) - sum(cpu2), 2)
        result["delete_failures"] = sum(a["failures"] for a in answers)
        result["delete_failure_examples"] = sorted(
            {e for a in answers for e in a["examples"]})[:5]
        log("deleted in %.1f s, %d failed" % (result["delete_seconds"],
                                              result["delete_failures"]))
        wait_for(lambda: sum(gauges()) == 0, timeout=10)
        samples = [scrape(p) for p in podiums]
        result["allocations_gauge_after_delete_per_podium"] = [
            metric(s, "podium_relay_allocations_active") for s in samples]
        result["allocations_gauge_after_delete"] = sum(
            result["allocations_gauge_after_delete_per_podium"])
        result["deleted_total_per_podium"] = [
            metric(s, "podium_relay_allocations_deleted_total") for s in samples]
        result["deleted_total"] = sum(result["deleted_total_per_podium"])
        result["rss_after_delete_kib"] = sum(read_kib("/proc/%d/status" % pid, "VmRSS")
                                             for pid in pids)
        result["udp_sockets_after_delete"] = sockstat_udp()[0] - before["udp"][0]

        _everyone(clients, 30, "exit")
        result["client_exit_codes"] = [c.proc.wait(10) for c in clients]

        # SIGTERM to every podium at once (one signal each: a second one would stop at once).
        t3 = time.monotonic()
        for p in podiums:
            p.signal(signal.SIGTERM)
        took = []
        for p in podiums:
            try:
                p.proc.wait(max(0.1, t3 + 20 - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            took.append(round(time.monotonic() - t3, 2))
            p.stop(signal.SIGKILL, timeout=5, check=False)  # only if it has not exited
        result["exit_codes"] = [p.proc.returncode for p in podiums]
        result["exit_code"] = next((c for c in result["exit_codes"] if c != 0), 0)
        result["exit_seconds"] = max(took)
        reports = [r for r in (p.sanitizer_report() for p in podiums) if r]
        result["sanitizer_report"] = reports[0][:2000] if reports else None
    finally:
        for c in clients:
            stop_process(c.proc)
        for p in podiums:
            if p.proc.poll() is None:
                p.stop(check=False)
            p.dir.cleanup()
    return result


if __name__ == "__main__" and sys.argv[1:2] == ["--client-shard"]:
    _client_shard_main(json.loads(sys.argv[2]))
