"""The 2-minute CI version of bench/soak (issue 9, point 5): allocation churn (raw STUN clients
over UDP and TCP: Allocate, CreatePermission or ChannelBind, data through an echo peer, Refresh,
then Refresh 0 or dropped to expire) and a room where podium-load guests join and leave (audio
and slides), against one `podium serve`, for 2 minutes.

Asserts on the script's JSON result: podium stayed alive with one PID and exited 0; RSS at the
end of the load within max(8 MiB, 10%) of RSS after the warm-up; after the load the allocation,
permission, channel and SFU gauges at 0, open fds within 16 of the idle baseline, threads equal
to it (plus usrsctp's one lazily started thread); podium's allocation counters equal what the
clients did; no client errors. The thresholds themselves are in bench/soak (its docstring);
this test also checks the numbers here so that a failure names the one that broke.

All traffic is on 127.0.0.1 (echo peer 127.0.0.2); bench/soak stops what it starts by PID.
"""
import json
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.environ.get("PODIUM_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
SOAK = os.path.join(REPO, "bench", "soak")
LOAD = os.environ.get("PODIUM_LOAD", "podium-load")
MINUTES = 2


def find(program):
    return program if os.path.isfile(program) else shutil.which(program)


class SoakTest(unittest.TestCase):
    def test_two_minutes_of_churn_and_room(self):
        if not find("turnutils_peer"):
            self.skipTest("turnutils_peer (package coturn) is not installed")
        load = find(LOAD)
        if not load:
            self.skipTest("podium-load is not built (PODIUM_LOAD)")
        binary = find(os.environ.get("PODIUM_BINARY", "podium"))
        self.assertTrue(binary, "no podium binary (PODIUM_BINARY)")
        # --lifetime 10: dropped allocations expire within 20 s after the load, so the drain
        # fits in the ctest timeout; relay ports apart from other tests' and from the bench's.
        cmd = [sys.executable, SOAK, "--minutes", str(MINUTES), "--podium", binary,
               "--podium-load", load, "--lifetime", "10", "--sample", "2",
               "--relay-ports", "47000-47499", "--json"]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=MINUTES * 60 + 100)
        sys.stderr.write(r.stderr)
        lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
        self.assertTrue(lines, "no JSON from bench/soak (exit %s):\n%s" % (r.returncode,
                                                                         r.stderr[-3000:]))
        result = json.loads(lines[-1])
        print(json.dumps({k: result[k] for k in ("load_seconds", "rss_mib", "fds", "threads",
                                                  "cpu_percent_during_load", "allocations",
                                                  "gauges_max", "room")}), flush=True)
        checks = result["checks"]
        log = result.get("podium_log_tail", "")

        self.assertTrue(checks["no_crash"]["ok"], (checks["no_crash"], log))
        self.assertEqual(checks["no_crash"]["exit_code"], 0)
        self.assertGreaterEqual(result["load_seconds"], MINUTES * 60 - 2)

        # Memory: after the warm-up, no growth beyond max(8 MiB, 10%). Not in a sanitizer build,
        # whose RSS grows with the quarantine of freed memory (bench/soak says so in its result).
        rss = result["rss_mib"]
        if not checks["rss_growth"].get("not_judged"):
            self.assertLessEqual(rss["end"], rss["start"] + max(8.0, 0.1 * rss["start"]), rss)

        # Back to idle once the load stopped.
        for name, value in checks["gauges_zero_after"]["after"].items():
            self.assertEqual(value, 0, (name, checks["gauges_zero_after"]))
        fds = result["fds"]
        self.assertLessEqual(fds["idle_after"], fds["idle_before"] + 16, fds)
        self.assertGreater(fds["max"], fds["idle_before"] + 50, "the churn held no sockets?")
        self.assertTrue(checks["threads_back"]["ok"], checks["threads_back"])

        # The load happened, and every client got what it asked for.
        a = result["allocations"]
        self.assertEqual(a["errors"], 0, checks["allocation_clients"])
        self.assertGreaterEqual(a["allocations"], 20 * MINUTES * 60, a)  # ~30/s asked for
        self.assertGreater(a["udp"], 0, a)
        self.assertGreater(a["tcp"], 0, a)
        self.assertGreater(a["channel_binds"], 0, a)
        self.assertGreater(a["permissions"], 0, a)
        self.assertGreater(a["deleted"], 0, a)
        self.assertGreater(a["dropped_udp"], 0, a)
        self.assertLessEqual(a["echo_loss"], 0.01, a)
        self.assertEqual(a["echo_corrupt"], 0, a)
        self.assertGreater(result["gauges_max"]["allocations"], 0)
        self.assertTrue(checks["relay_counters"]["ok"], checks["relay_counters"])

        room = result["room"]
        self.assertEqual(room["failed_runs"], 0, checks["room_clients"])
        self.assertGreaterEqual(room["audio_runs"], 5, room)
        self.assertGreaterEqual(room["slides_runs"], 2, room)
        self.assertEqual(room["guests_connected"], room["guests"], room)
        self.assertEqual(room["decode_errors"], 0, room)
        self.assertLessEqual(room["loss_max"], 0.05, room)
        self.assertGreater(result["gauges_max"]["sfu_guests"], 0)

        # And the script's own verdict agrees (also covers any check added there later).
        self.assertTrue(result["ok"], {k: v for k, v in checks.items() if not v["ok"]})
        self.assertEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()
