"""Capacity: 100,000 concurrent TURN allocations on one machine (issue #9, point 6).

In a private loopback-only network namespace (lib/netns.py), podium relays from
relay.relay_ip: [127.0.0.1, 127.0.0.2] (one address has at most 64,512 ports in 1024-65535) and
100,000 client UDP sockets each do the real two-step Allocate (lib/turn_capacity.py). A relay
needs one descriptor per UDP allocation and the client one socket per allocation, so:
  - mode "single": when RLIMIT_NOFILE can be raised (to 262144) for the client and podium, one
    podium and one client process hold all 100,000;
  - mode "sharded": when the hard limit is below what one process needs and cannot be raised
    (root without CAP_SYS_RESOURCE, as in some containers: here the hard limit is 20,000), K
    podium processes (relay only, each its own listener and a disjoint slice of relay_ports)
    and K client processes each stay within the hard limit minus a margin for their own
    descriptors (measured on an idle podium), K = ceil(100,000 / that budget), and all K hold
    their share at the same time.
The test prints which mode ran and why. Asserted, with every shard holding its allocations:
  - every Allocate succeeds, each with its own relayed (address, port) (distinct across all
    shards, each inside its podium's slice), both addresses used;
  - podium_relay_allocations_active summed over the podiums reads 100000 (each podium its
    share) and podium_relay_allocation_capacity is addresses x ports (per podium);
  - 100,000 more UDP sockets in the namespace (/proc/net/sockstat, counted once for all
    shards), and (sharded) the podiums hold exactly 100,000 more descriptors;
  - a random sample of 1,000 per shard is alive end to end: CreatePermission, Send indication
    to an echo peer that checks the datagram came from the advertised relayed address, Data
    indication back;
  - memory per allocation (the podiums' summed VmRSS growth and the kernel's Slab growth,
    divided by 100,000; each idle podium's RSS reported apart) stays under a bound several
    times what was measured (docs/benchmarks.md), so a regression fails;
  - Refresh LIFETIME 0 deletes all of them (gauges back to 0, deleted_total 100000, the UDP
    sockets gone) and every podium exits 0 on SIGTERM within 10 s.
Sanitizer builds (ASan/UBSan/TSan runtimes linked) run 20,000 allocations instead, saying so
(sharded: 2 shards here; TSan takes 5 s but 14 KB of RSS per allocation): the full size is the
Release build's test.
PODIUM_CAPACITY_COUNT overrides the count, PODIUM_CAPACITY_SHARDS forces K shards.
Prints the measurements as JSON. bench/capacity runs the same at any size.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import netns  # noqa: E402
from podium_harness import BINARY, sanitizer_runtime  # noqa: E402

PREFIX = "CAPACITY "
FULL = 100000
SANITIZED = sanitizer_runtime(BINARY)
COUNT = int(os.environ.get("PODIUM_CAPACITY_COUNT", "0")) or (20000 if SANITIZED else FULL)
SHARDS = int(os.environ.get("PODIUM_CAPACITY_SHARDS", "0"))
# Regression bounds, about 3x what a Release build measured (docs/benchmarks.md); sanitizer
# builds keep shadow memory and quarantines, so only the Release bound is meaningful.
RSS_BOUND = 32768 if SANITIZED else 8192    # bytes of podium VmRSS per allocation
SLAB_BOUND = 8192                           # bytes of kernel slab per allocation


def inner(count):
    import turn_capacity
    result = turn_capacity.run(count, shards=SHARDS)
    print(PREFIX + json.dumps(result), flush=True)


class Capacity(unittest.TestCase):
    def test_concurrent_allocations(self):
        reason = netns.unavailable_reason()
        if reason:
            self.skipTest(reason)
        if SANITIZED and COUNT < FULL:
            print("\nsanitizer build (%s): %d allocations instead of %d (the runtimes multiply "
                  "memory and CPU per allocation; the full size is the Release build's test)"
                  % (SANITIZED, COUNT, FULL), file=sys.stderr)
        out = netns.run_inner(self, [sys.executable, os.path.abspath(__file__), "--inner",
                                     str(COUNT)], timeout=270, prefix=PREFIX)
        print("\n" + json.dumps(out, indent=1), file=sys.stderr)
        if "skip" in out:
            self.skipTest(out["skip"])
        count = out["count"]
        shards, shard_counts = out["shards"], out["shard_counts"]
        print("mode: %s (%d podium process%s): %s" % (
            out["mode"], shards, "es" if shards > 1 else "", out["mode_reason"]), file=sys.stderr)
        self.assertEqual(count, COUNT, "the full count, never scaled down")
        self.assertEqual(sum(shard_counts), count)
        self.assertEqual(len(shard_counts), shards)
        self.assertGreaterEqual(out["podium_nofile"], max(shard_counts), "podium's RLIMIT_NOFILE")
        if out["mode"] == "sharded":
            self.assertGreater(shards, 1)
            # the margin left for each process's own descriptors covers what they measured
            self.assertLessEqual(max(shard_counts) + out["fd_margin"], out["rlimit_nofile"])
            self.assertLessEqual(4 * max(out["podium_fds_idle"]), out["fd_margin"])
            for held in out["podium_fds_held"]:
                self.assertLess(held, out["podium_nofile"])
            self.assertLess(max(out["client_fds"]), max(shard_counts) + out["fd_margin"])
            self.assertEqual(out["allocated_per_shard"], shard_counts)
            self.assertEqual(out["allocations_gauge_per_podium"], shard_counts)
            self.assertEqual(out["relayed_outside_own_slice"], 0)
            self.assertEqual(out["podium_fds_added"], count, "one descriptor per allocation")
            self.assertEqual(out["sample_per_shard"], [min(1000, c) for c in shard_counts])
            self.assertEqual(out["deleted_total_per_podium"], shard_counts)
            self.assertEqual(out["client_exit_codes"], [0] * shards)
            self.assertEqual(out["exit_codes"], [0] * shards)
        self.assertEqual(out["allocate_failures"], 0, out["allocate_failure_examples"])
        self.assertEqual(out["allocated"], count)
        self.assertEqual(out["distinct_relayed"], count, "relayed addresses must be unique")
        self.assertEqual(sorted(out["per_relay_address"]), sorted(out["relay_addresses"]))
        for address, n in out["per_relay_address"].items():
            self.assertGreater(n, count // (2 * len(out["relay_addresses"])), address)
        self.assertTrue(out["allocations_gauge_settled"], out["allocations_gauge"])
        self.assertEqual(out["allocations_gauge"], count)
        self.assertEqual(out["capacity_gauge"],
                         shards * len(out["relay_addresses"]) * out["relay_ports_per_address"])
        self.assertGreater(min(shard_counts), out["relay_ports_per_address"],
                           "one address would do")
        self.assertGreaterEqual(out["udp_sockets_added"], count)
        self.assertEqual(out["sample_failures"], 0, out["sample_failure_examples"])
        self.assertEqual(out["sample"], sum(min(1000, c) for c in shard_counts))
        self.assertLess(out["rss_bytes_per_allocation"], RSS_BOUND)
        self.assertGreater(out["rss_bytes_per_allocation"], 0)
        self.assertLess(out["slab_bytes_per_allocation"], SLAB_BOUND)
        self.assertEqual(out["delete_failures"], 0, out["delete_failure_examples"])
        self.assertEqual(out["allocations_gauge_after_delete"], 0)
        self.assertEqual(out["deleted_total"], count)
        self.assertLess(out["udp_sockets_after_delete"], 16)
        self.assertIsNone(out["sanitizer_report"])
        self.assertEqual(out["exit_code"], 0)
        self.assertLess(out["exit_seconds"], 10)

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        inner(int(sys.argv[2]))
    else:
        unittest.main()
