"""Runs a command in a private, loopback-only network namespace (and its own PID namespace).

WebRTC stacks gather candidates on every interface; inside the namespace only `lo` exists (and is
brought up), so servers and clients started there talk over 127.0.0.1 and nothing else, and fixed
or ephemeral ports cannot clash with the host.

The command also gets a fresh PID namespace with its own /proc and is PID 1 there. When it exits,
or is killed, the kernel kills every process left in the namespace (for instance a browser whose
driver died), so nothing started inside can outlive the test. `unshare --kill-child` kills the
command if unshare dies, and unshare itself gets SIGKILL if the Python process that started it
dies (PR_SET_PDEATHSIG). Needs root.
"""
import os
import shutil
import subprocess

from podium_harness import die_with_parent

def loopback_netns_argv(argv):
    """The argv that runs `argv` in a new loopback-only network namespace and PID namespace."""
    return (["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc",
             "sh", "-c", 'ip link set lo up && exec "$@"', "sh"] + list(argv))


def run_in_loopback_netns(argv, timeout, **kwargs):
    """subprocess.run of `argv` inside the namespaces; on timeout unshare is killed (and with it
    everything inside) and subprocess.TimeoutExpired is raised."""
    return subprocess.run(loopback_netns_argv(argv), timeout=timeout, preexec_fn=die_with_parent,
                          **kwargs)


def unavailable_reason():
    """None when namespaces can be made here, otherwise why not (for a skip message)."""
    if os.geteuid() != 0:
        return "needs root to create a private network namespace (unshare -n)"
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            return "%s is not installed" % tool
    try:
        r = run_in_loopback_netns(["ip", "-o", "link", "show"], timeout=10,
                                  capture_output=True, text=True)
    except (OSError, subprocess.SubprocessError) as e:
        return "cannot create namespaces: %s" % e
    if r.returncode != 0:
        return "cannot create namespaces: %s" % (r.stderr.strip() or r.returncode)
    return None


def run_inner(testcase, argv, timeout, prefix, tail=5000):
    """Runs `argv` (a test file's own `--inner` mode) in the namespaces and returns the JSON of
    the last stdout line starting with `prefix`, plus "outer_seconds". Fails `testcase` with the
    output's tails when the run times out, exits non-zero or prints no result."""
    import json
    import time
    start = time.monotonic()
    try:
        r = run_in_loopback_netns(argv, timeout=timeout, capture_output=True, text=True)
    except subprocess.TimeoutExpired as e:
        testcase.fail("the run did not finish within %d s\nstdout:\n%s\nstderr:\n%s"
                      % (timeout, e.stdout, e.stderr))
    lines = [l for l in r.stdout.splitlines() if l.startswith(prefix)]
    tails = (r.stdout[-5000:], r.stderr[-tail:])
    testcase.assertEqual(r.returncode, 0, "inner run failed:\n%s\n%s" % tails)
    testcase.assertTrue(lines, "no result from the inner run:\n%s\n%s" % tails)
    out = json.loads(lines[-1][len(prefix):])
    out["outer_seconds"] = round(time.monotonic() - start, 2)
    return out
