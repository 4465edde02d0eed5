"""deploy/: what CI can check of the deployment bundle without Docker or a Kubernetes cluster.

- systemd: `systemd-analyze verify` of deploy/systemd/podium.service (a copy naming the built
  binary; after the .deb is installed, the installed unit as is), `systemd-analyze security`
  below an exposure threshold, the hardening directives, and the system calls and socket families
  the real podium uses (strace, with traffic, a SIGHUP reload and a SIGTERM drain) against the
  unit's SystemCallFilter=@system-service, RestrictAddressFamilies= and MemoryDenyWriteExecute=.
- Prometheus: `promtool check config` and `check rules` on monitoring/prometheus/ and on the
  compose file's deploy/docker/prometheus.yml.
- YAML: yamllint (Debian's, deploy/yamllint.yaml) on every YAML file in deploy/, then structure:
  every Kubernetes manifest has apiVersion/kind/metadata.name; every env var, Secret key,
  ConfigMap key, port name and label selector a manifest names exists; the compose file's
  volumes and the Grafana provisioning paths exist and match.
- Configs: `podium check-config` on every shipped config with exactly the environment its
  deployment provides: deploy/podium.yaml with the variables the .deb's postinst writes and with
  the compose file's; the Kubernetes ConfigMap's relay.yaml and media.yaml with each workload's
  env (downward API status.hostIP, Secret values); timeouts above drain_timeout, file limits
  above the allocation limit, every listener exposed.
- Dockerfile (not built here: no Docker): the build stage installs exactly the build list of
  deploy/install-deps.sh, the runtime stage every library the .deb depends on, and its
  HEALTHCHECK command succeeds against a live podium and fails without one.
- .deb: `cpack -G DEB` from the build tree ($PODIUM_BUILD_DIR) into a temporary directory, its
  files, conffiles and Depends; then, as root and when no podium package is installed, `dpkg -i`,
  /etc/default/podium generated (mode 0600, every variable), `podium check-config
  /etc/podium/podium.yaml` with that environment, `dpkg -L`, the unit enabled, `dpkg --purge`
  and every file gone: the machine is left as it was found. Skipped, with the reason, when not
  root, when a podium package is already installed, or when systemd runs as init (postinst would
  start podium.service on public ports and apply the sysctl file to this host).
"""
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from podium_harness import BINARY, Podium, http_get, sanitizer_runtime  # noqa: E402

SOURCE = os.environ.get("PODIUM_SOURCE_DIR",
                        os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD_DIR = os.environ.get("PODIUM_BUILD_DIR", "")


# The sanitizer runtime the podium under test links (ASan, UBSan, TSan builds), or None.
# Those builds are not what ships: their syscalls (the sanitizer's own) and shared libraries
# (libasan, libubsan, ...) say nothing about the unit's filter or the Docker runtime stage.
SANITIZED = sanitizer_runtime()
DEPLOY = os.path.join(SOURCE, "deploy")
UNIT = os.path.join(DEPLOY, "systemd", "podium.service")
PROD_CONFIG = os.path.join(DEPLOY, "podium.yaml")
POSTINST = os.path.join(DEPLOY, "debian", "postinst")
DOCKERFILE = os.path.join(DEPLOY, "docker", "Dockerfile")
COMPOSE = os.path.join(DEPLOY, "docker", "compose.yaml")
K8S = os.path.join(DEPLOY, "kubernetes")
MONITORING = os.path.join(SOURCE, "monitoring")

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
YAMLLINT = shutil.which("yamllint")
STRACE = shutil.which("strace")

NODE_IP = "192.0.2.10"   # what status.hostIP would be
DEADLINE = 150           # seconds for the whole file, under ctest's TIMEOUT
STARTED = time.monotonic()

# Base libraries of debian:bookworm-slim (the Dockerfile's runtime stage need not install them).
BASE_IMAGE_LIBS = {"libc6", "libgcc-s1", "libstdc++6"}

# Paths the .deb (or its maintainer scripts) create; all absent before and after the test.
INSTALLED_PATHS = [
    "/usr/bin/podium",
    "/etc/podium/podium.yaml",
    "/etc/podium",
    "/etc/default/podium",
    "/lib/systemd/system/podium.service",
    "/usr/lib/sysctl.d/60-podium.conf",
    "/usr/share/podium",
    "/usr/share/doc/podium",
    "/etc/systemd/system/multi-user.target.wants/podium.service",
    "/etc/systemd/system/podium.service",
    "/var/lib/systemd/deb-systemd-helper-enabled/podium.service.dsh-also",
    "/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/podium.service",
    "/var/lib/systemd/deb-systemd-helper-masked/podium.service",
]

# Directories whose whole contents must be the same before the install and after the purge.
SNAPSHOT_DIRS = ["/etc/systemd/system", "/var/lib/systemd/deb-systemd-helper-enabled",
                 "/var/lib/systemd/deb-systemd-helper-masked", "/etc/default", "/etc/podium",
                 "/usr/lib/sysctl.d", "/etc/sysctl.d", "/usr/share/podium", "/usr/share/doc/podium"]


def read(path):
    with open(path) as f:
        return f.read()


def sh(args, timeout=30, env=None, check=False):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    if check and p.returncode != 0:
        raise AssertionError("%s: exit %s\n%s%s" % (" ".join(args), p.returncode, p.stdout,
                                                    p.stderr))
    return p


def placeholders(text):
    """${NAME}s in the values of a podium config (not in comments; `$${` is a literal)."""
    names = set()

    def walk(node):
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            names.update(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}", node))

    walk(yaml.safe_load(text))
    return names


def check_config(path, env):
    """`podium check-config PATH` with exactly `env` as the environment."""
    return sh([BINARY, "check-config", path], env=dict(env), timeout=15)


def load_k8s():
    """{file name: [documents]} of deploy/kubernetes/*.yaml."""
    docs = {}
    for name in sorted(os.listdir(K8S)):
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(K8S, name)) as f:
                docs[name] = [d for d in yaml.safe_load_all(f) if d is not None]
    return docs


def k8s_objects():
    return [d for name, ds in load_k8s().items() if name != "kustomization.yaml" for d in ds]


def find(objects, kind, name=None):
    found = [o for o in objects if o["kind"] == kind
             and (name is None or o["metadata"]["name"] == name)]
    if not found:
        raise AssertionError("no %s %s in deploy/kubernetes" % (kind, name or ""))
    return found


def duration_seconds(text):
    """30s, 1m30s, 45 -> seconds (the subset of podium's and systemd's syntax used here)."""
    text = str(text).strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    total, rest = 0, text
    for number, unit in re.findall(r"(\d+)(h|min|m|s)", text):
        total += int(number) * {"h": 3600, "min": 60, "m": 60, "s": 1}[unit]
        rest = rest.replace(number + unit, "", 1)
    if rest:
        raise ValueError("duration " + text)
    return total


def unit_settings(text):
    """[Section] Key=Value lines -> {Key: [values]} (all sections)."""
    settings = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def dockerfile_stages():
    """[[instruction lines with continuations joined], ...] per FROM stage."""
    stages, lines, current = [], [], ""
    for raw in read(DOCKERFILE).splitlines():
        if raw.lstrip().startswith("#") and not current:
            continue
        if raw.endswith("\\"):
            current += raw[:-1] + " "
            continue
        current += raw
        if current.strip():
            lines.append(current.strip())
        current = ""
    for line in lines:
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def apt_packages(stage):
    """Packages named by `apt-get install` in a stage's RUN lines."""
    packages = []
    for line in stage:
        if not line.startswith("RUN "):
            continue
        for command in line[4:].split("&&"):
            words = command.split()
            if "apt-get" in words and "install" in words:
                packages += [w for w in words[words.index("install") + 1:]
                             if not w.startswith("-")]
    return packages


def install_deps_build_list():
    text = read(os.path.join(DEPLOY, "install-deps.sh"))
    body = re.search(r"^build=\((.*?)^\)", text, re.S | re.M).group(1)
    return [w for line in body.splitlines() for w in line.split("#", 1)[0].split()]


def postinst_variables():
    """NAME -> a value of the right kind, for every variable postinst writes."""
    names = re.findall(r"^\s*add (PODIUM_[A-Z_]+) ", read(POSTINST), re.M)
    values = {}
    for name in names:
        if name.endswith("_IP"):
            values[name] = "192.0.2.7"
        elif name.endswith("_URL"):
            values[name] = "http://192.0.2.7:8080"
        else:
            values[name] = "0123456789abcdef" * 4
    return values


def tearDownModule():
    took = time.monotonic() - STARTED
    if took > DEADLINE:
        raise AssertionError("test_deploy.py took %.0f s, more than %d s" % (took, DEADLINE))


# ------------------------------------------------------------------------------------------
class SystemdUnit(unittest.TestCase):
    def setUp(self):
        self.text = read(UNIT)
        self.settings = unit_settings(self.text)

    def one(self, key):
        values = self.settings.get(key)
        self.assertTrue(values, key + " is not set")
        return values[-1]

    def test_verify(self):
        if not SYSTEMD_ANALYZE:
            self.skipTest("systemd-analyze is not installed (Debian package systemd)")
        # verify checks that the binaries exist: name the built podium (DebianPackage verifies
        # the installed unit as it is).
        with tempfile.TemporaryDirectory(prefix="podium-unit-") as tmp:
            copy = os.path.join(tmp, "podium.service")
            with open(copy, "w") as f:
                f.write(self.text.replace("/usr/bin/podium", os.path.abspath(BINARY)))
            p = sh([SYSTEMD_ANALYZE, "verify", copy])
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertNotIn("podium.service", p.stderr, p.stderr)
            # Exposure 0-10 shown, threshold in tenths: the unit is at 1.9 ("OK").
            p = sh([SYSTEMD_ANALYZE, "security", "--offline=true", "--threshold=25", copy])
            self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr)

    def test_hardening(self):
        expect = {
            "DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
            "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
            "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
            "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes",
            "CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
            "AmbientCapabilities": "CAP_NET_BIND_SERVICE",
            "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX AF_NETLINK",
            "SystemCallFilter": "@system-service", "Restart": "on-failure",
            "ExecStart": "/usr/bin/podium serve --config /etc/podium/podium.yaml",
            "EnvironmentFile": "-/etc/default/podium",
        }
        for key, value in expect.items():
            self.assertEqual(self.one(key), value, key)
        self.assertIn("/bin/kill -HUP $MAINPID", self.settings["ExecReload"])
        self.assertNotIn("CAP_NET_ADMIN", self.one("CapabilityBoundingSet"))

    def test_limits_fit_the_config(self):
        config = yaml.safe_load(read(PROD_CONFIG))
        drain = duration_seconds(config["metrics"]["drain_timeout"])
        self.assertGreater(duration_seconds(self.one("TimeoutStopSec")), drain)
        # Worst case two descriptors per allocation (relayed socket + TCP client connection).
        self.assertGreaterEqual(int(self.one("LimitNOFILE")),
                                2 * config["relay"]["max_allocations"] + 10000)

    def test_syscalls_fit_the_filter(self):
        """The syscalls and socket families of a real podium (relay, SFU, signaling, metrics;
        HTTP, STUN, a SIGHUP reload, a SIGTERM drain) are all allowed by the unit."""
        if not SYSTEMD_ANALYZE or not STRACE:
            self.skipTest("needs systemd-analyze and strace")
        if SANITIZED:
            self.skipTest("a sanitizer build (%s) is not the binary the unit runs" % SANITIZED)
        allowed = self.syscall_group("@system-service")
        with tempfile.TemporaryDirectory(prefix="podium-strace-") as tmp:
            config = os.path.join(tmp, "podium.yaml")
            with open(config, "w") as f:
                f.write("metrics:\n  listen: 127.0.0.1:0\n  drain_timeout: 5s\n"
                        "relay:\n  listen: [udp://127.0.0.1:0, tcp://127.0.0.1:0]\n"
                        "  ephemeral_secret: true\n"
                        "sfu:\n  listen_ip: 127.0.0.1\n  udp_port: 0\n"
                        "signaling:\n  listen: 127.0.0.1:0\n  open_rooms: true\n")
            trace = os.path.join(tmp, "trace")
            proc = subprocess.Popen([STRACE, "-f", "-qq", "-o", trace, BINARY, "serve",
                                     "--config", config], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            podium_pid = None  # signals go to podium: strace would detach on them
            try:
                urls = {}
                deadline = time.monotonic() + 20
                while "signaling" not in urls and time.monotonic() < deadline:
                    line = proc.stdout.readline()
                    if not line:
                        break
                    m = re.match(r"podium: (\w+) listening on (\S+)", line)
                    if m:
                        urls.setdefault(m.group(1), m.group(2))
                if "signaling" not in urls:
                    proc.kill()
                    _, err = proc.communicate()
                    if "ptrace" in err or "Operation not permitted" in err:
                        self.skipTest("strace cannot trace here: " + err.strip()[:200])
                    self.fail("podium under strace did not start: %r %s" % (urls, err))
                with open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)) as f:
                    podium_pid = int(f.read().split()[0])
                for path in ("/healthz", "/readyz", "/metrics"):
                    self.assertEqual(http_get(urls["metrics"] + path, timeout=10)[0], 200)
                status, _, _ = http_get(urls["signaling"] + "/", timeout=10)
                self.assertEqual(status, 200)
                host, port = urls["relay"].split("://")[1].rsplit(":", 1)
                binding = bytes.fromhex("0001 0000 2112a442".replace(" ", "")) + os.urandom(12)
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.settimeout(10)
                    s.sendto(binding, (host, int(port)))
                    self.assertEqual(s.recvfrom(2048)[0][:2], b"\x01\x01")
                os.kill(podium_pid, signal.SIGHUP)
                time.sleep(0.5)
                os.kill(podium_pid, signal.SIGTERM)
                proc.wait(20)
            finally:
                if proc.poll() is None:
                    if podium_pid:
                        os.kill(podium_pid, signal.SIGKILL)
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
                proc.stderr.close()
            self.assertEqual(proc.returncode, 0)
            text = read(trace)
        used = set(re.findall(r"^\d+ +(?:<\.\.\. )?([a-z0-9_]+)\(", text, re.M))
        self.assertGreater(len(used), 20)
        self.assertEqual(sorted(used - allowed), [], "syscalls outside @system-service")
        families = set(re.findall(r"\bsocket\((AF_[A-Z0-9]+)", text))
        self.assertEqual(sorted(families - set(self.one("RestrictAddressFamilies").split())), [])
        # MemoryDenyWriteExecute=yes refuses writable+executable mappings and mprotect to exec.
        self.assertEqual(self.one("MemoryDenyWriteExecute"), "yes")
        self.assertEqual(re.findall(r"^.*(?:mmap\(.*PROT_WRITE\|PROT_EXEC|mmap\(.*PROT_EXEC\|"
                                    r"PROT_WRITE|mprotect\(.*PROT_EXEC).*$", text, re.M), [])

    def syscall_group(self, group, seen=None):
        seen = set() if seen is None else seen
        out = set()
        p = sh([SYSTEMD_ANALYZE, "syscall-filter", group], check=True)
        for line in p.stdout.splitlines()[1:]:
            word = line.strip()
            if not word or word.startswith("#"):
                continue
            if word.startswith("@"):
                if word not in seen:
                    seen.add(word)
                    out |= self.syscall_group(word, seen)
            else:
                out.add(word)
        return out


# ------------------------------------------------------------------------------------------
class PrometheusConfig(unittest.TestCase):
    def setUp(self):
        if not os.access(PROMTOOL, os.X_OK):
            self.skipTest("promtool is not installed (Debian package prometheus)")

    def test_monitoring_config_and_rules(self):
        p = sh([PROMTOOL, "check", "config", os.path.join(MONITORING, "prometheus",
                                                         "prometheus.yml")])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = sh([PROMTOOL, "check", "rules", os.path.join(MONITORING, "prometheus", "alerts.yml")])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_compose_prometheus_config(self):
        """As compose.yaml mounts it: monitoring/prometheus/ under podium/ next to it."""
        with tempfile.TemporaryDirectory(prefix="podium-prom-") as tmp:
            shutil.copy(os.path.join(DEPLOY, "docker", "prometheus.yml"), tmp)
            shutil.copytree(os.path.join(MONITORING, "prometheus"), os.path.join(tmp, "podium"))
            p = sh([PROMTOOL, "check", "config", os.path.join(tmp, "prometheus.yml")])
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("SUCCESS", p.stdout + p.stderr)
            self.assertRegex(p.stdout + p.stderr, r"podium/alerts\.yml")
        compose = yaml.safe_load(read(COMPOSE))
        mounts = compose["services"]["prometheus"]["volumes"]
        self.assertIn("./prometheus.yml:/etc/prometheus/prometheus.yml:ro", mounts)
        self.assertIn("../../monitoring/prometheus:/etc/prometheus/podium:ro", mounts)


# ------------------------------------------------------------------------------------------
class Yaml(unittest.TestCase):
    def yaml_files(self):
        files = []
        for root, _, names in os.walk(DEPLOY):
            files += [os.path.join(root, n) for n in names if n.endswith((".yaml", ".yml"))]
        return sorted(files)

    def test_lint(self):
        files = self.yaml_files()
        self.assertGreater(len(files), 10)
        for path in files:  # always: it parses
            with open(path) as f:
                list(yaml.safe_load_all(f))
        if not YAMLLINT:
            self.skipTest("yamllint is not installed (Debian package yamllint); parsed only")
        p = sh([YAMLLINT, "-s", "-f", "parsable", "-c", os.path.join(DEPLOY, "yamllint.yaml")]
               + files)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_kubernetes_manifests(self):
        docs = load_k8s()
        names = [n for n in docs if n != "kustomization.yaml"]
        kustomization = docs["kustomization.yaml"][0]
        self.assertEqual(sorted(kustomization["resources"]), sorted(names))
        objects = k8s_objects()
        for o in objects + [kustomization]:
            self.assertTrue(o.get("apiVersion") and o.get("kind"), o)
            self.assertTrue(o.get("metadata", {}).get("name"), o)
        for o in objects:
            if o["kind"] != "Namespace":
                self.assertEqual(o["metadata"].get("namespace"), "podium", o["metadata"])
        kinds = sorted(o["kind"] for o in objects)
        self.assertEqual(kinds, ["ConfigMap", "DaemonSet", "Deployment", "Namespace",
                                 "PodMonitor", "Secret", "Service"])
        self.assertEqual(find(objects, "PodMonitor")[0]["apiVersion"], "monitoring.coreos.com/v1")

    def test_kubernetes_references(self):
        objects = k8s_objects()
        secret = find(objects, "Secret", "podium")[0]["stringData"]
        configmaps = {c["metadata"]["name"]: c["data"] for c in find(objects, "ConfigMap")}
        workloads = find(objects, "DaemonSet") + find(objects, "Deployment")
        relay = find(objects, "DaemonSet", "podium-relay")[0]
        self.assertTrue(relay["spec"]["template"]["spec"]["hostNetwork"])
        media = find(objects, "Deployment", "podium-media")[0]
        self.assertEqual(media["spec"]["replicas"], 1)  # rooms live in one process
        self.assertEqual(media["spec"]["strategy"]["type"], "Recreate")
        roles = set()
        for w in workloads:
            name = w["metadata"]["name"]
            spec = w["spec"]["template"]["spec"]
            labels = w["spec"]["template"]["metadata"]["labels"]
            self.assertEqual(w["spec"]["selector"]["matchLabels"].items() - labels.items(), set())
            self.assertTrue(spec["hostNetwork"], name)
            roles.add(spec["nodeSelector"]["podium.example.org/role"])
            self.assertTrue(spec["securityContext"]["runAsNonRoot"], name)
            self.assertGreater(spec["securityContext"]["runAsUser"], 0)
            (container,) = spec["containers"]
            sc = container["securityContext"]
            self.assertEqual(sc["capabilities"], {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})
            self.assertTrue(sc["readOnlyRootFilesystem"], name)
            self.assertFalse(sc["allowPrivilegeEscalation"], name)
            ports = {p["name"]: p for p in container["ports"]}
            self.assertEqual(container["readinessProbe"]["httpGet"],
                             {"path": "/readyz", "port": "metrics"})
            self.assertEqual(container["livenessProbe"]["httpGet"],
                             {"path": "/healthz", "port": "metrics"})
            self.assertEqual(ports["metrics"]["containerPort"], 9464)
            for env in container["env"]:
                source = env["valueFrom"]
                if "secretKeyRef" in source:
                    self.assertEqual(source["secretKeyRef"]["name"], "podium")
                    self.assertIn(source["secretKeyRef"]["key"], secret)
                else:
                    self.assertEqual(source["fieldRef"]["fieldPath"], "status.hostIP")
            (volume,) = spec["volumes"]
            for item in volume["configMap"]["items"]:
                self.assertIn(item["key"], configmaps[volume["configMap"]["name"]])
        self.assertEqual(roles, {"relay", "media"})  # one label key: never both on a node
        service = find(objects, "Service", "podium-signaling")[0]
        media_labels = media["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(service["spec"]["selector"].items() - media_labels.items(), set())
        media_ports = {p["name"] for p in media["spec"]["template"]["spec"]["containers"][0]
                       ["ports"]}
        self.assertIn(service["spec"]["ports"][0]["targetPort"], media_ports)
        monitor = find(objects, "PodMonitor")[0]["spec"]
        for w in workloads:
            labels = w["spec"]["template"]["metadata"]["labels"]
            self.assertEqual(monitor["selector"]["matchLabels"].items() - labels.items(), set())
            self.assertEqual(labels[monitor["jobLabel"]], "podium")  # alerts.yml's job

    def test_compose(self):
        compose = yaml.safe_load(read(COMPOSE))
        services = compose["services"]
        self.assertEqual(sorted(services), ["grafana", "podium", "prometheus"])
        podium = services["podium"]
        self.assertEqual(podium["network_mode"], "host")
        build = podium["build"]
        context = os.path.normpath(os.path.join(os.path.dirname(COMPOSE), build["context"]))
        self.assertEqual(context, os.path.normpath(SOURCE))
        self.assertTrue(os.path.isfile(os.path.join(context, build["dockerfile"])))
        # Every ${PODIUM_*} of the image's config is required from .env (${VAR:?...}).
        for name in placeholders(read(PROD_CONFIG)):
            self.assertRegex(str(podium["environment"].get(name)), r"^\$\{%s:\?" % name)
        for service in services.values():
            for volume in service.get("volumes", []):
                source = volume.split(":")[0]
                if source.startswith("."):
                    self.assertTrue(os.path.exists(os.path.join(os.path.dirname(COMPOSE),
                                                                source)), volume)
        grafana = services["grafana"]
        dashboards_mount = [v.split(":")[1] for v in grafana["volumes"]
                            if v.startswith("../../monitoring/grafana:")]
        provider = yaml.safe_load(read(os.path.join(
            DEPLOY, "docker", "grafana", "provisioning", "dashboards", "podium.yaml")))
        self.assertEqual([p["options"]["path"] for p in provider["providers"]], dashboards_mount)
        home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
        self.assertTrue(os.path.isfile(home.replace(dashboards_mount[0],
                                                    os.path.join(MONITORING, "grafana"))))
        datasource = yaml.safe_load(read(os.path.join(
            DEPLOY, "docker", "grafana", "provisioning", "datasources", "prometheus.yaml")))
        (ds,) = datasource["datasources"]
        self.assertTrue(ds["isDefault"])  # what the dashboard's DS_PROMETHEUS variable selects
        self.assertEqual(ds["url"], "http://prometheus:9090")
        config = yaml.safe_load(read(PROD_CONFIG))
        drain = duration_seconds(config["metrics"]["drain_timeout"])
        self.assertGreater(duration_seconds(podium["stop_grace_period"]), drain)
        limit = unit_settings(read(UNIT))["LimitNOFILE"][-1]
        self.assertEqual(podium["ulimits"]["nofile"], {"soft": int(limit), "hard": int(limit)})


# ------------------------------------------------------------------------------------------
class ShippedConfigs(unittest.TestCase):
    def assert_ok(self, path, env, runs):
        p = check_config(path, env)
        self.assertEqual(p.returncode, 0, "%s with %s: %s" % (path, sorted(env), p.stderr))
        self.assertIn("OK (runs: %s)" % runs, p.stdout)

    def test_production_config_with_postinst_environment(self):
        env = postinst_variables()
        self.assertEqual(set(env), placeholders(read(PROD_CONFIG)))
        self.assert_ok(PROD_CONFIG, env, "relay sfu signaling metrics")
        # Any one of them missing is an error naming it (what happens without the file).
        for name in env:
            p = check_config(PROD_CONFIG, {k: v for k, v in env.items() if k != name})
            self.assertEqual(p.returncode, 1)
            self.assertIn("environment variable %s is not set" % name, p.stderr)

    def test_production_config_with_compose_environment(self):
        compose = yaml.safe_load(read(COMPOSE))
        env = {name: "192.0.2.7" if name.endswith("_IP") else
               "https://podium.example.org" if name.endswith("_URL") else "s3cret"
               for name in compose["services"]["podium"]["environment"]}
        self.assert_ok(PROD_CONFIG, env, "relay sfu signaling metrics")

    def test_production_config_listeners_are_exposed(self):
        config = yaml.safe_load(read(PROD_CONFIG))
        stage = dockerfile_stages()[-1]
        exposed = set(next(line for line in stage if line.startswith("EXPOSE ")).split()[1:])
        wanted = {"%s/%s" % (url.rsplit(":", 1)[1], url.split("://")[0])
                  for url in config["relay"]["listen"]}
        wanted |= {"%s/udp" % config["sfu"]["udp_port"], config["relay"]["relay_ports"] + "/udp",
                   config["signaling"]["listen"].rsplit(":", 1)[1] + "/tcp",
                   config["metrics"]["listen"].rsplit(":", 1)[1] + "/tcp"}
        self.assertEqual(wanted - exposed, set())

    def test_kubernetes_configs_with_each_workloads_environment(self):
        objects = k8s_objects()
        secret = find(objects, "Secret", "podium")[0]["stringData"]
        configmap = find(objects, "ConfigMap", "podium-config")[0]["data"]
        expect = {"podium-relay": "relay metrics",
                  "podium-media": "relay sfu signaling metrics"}
        checked = set()
        with tempfile.TemporaryDirectory(prefix="podium-k8s-") as tmp:
            for w in find(objects, "DaemonSet") + find(objects, "Deployment"):
                name = w["metadata"]["name"]
                spec = w["spec"]["template"]["spec"]
                (container,) = spec["containers"]
                env = {}
                for e in container["env"]:
                    source = e["valueFrom"]
                    env[e["name"]] = (secret[source["secretKeyRef"]["key"]]
                                      if "secretKeyRef" in source else NODE_IP)
                (volume,) = spec["volumes"]
                (mount,) = container["volumeMounts"]
                (item,) = volume["configMap"]["items"]
                self.assertEqual(container["args"],
                                 ["serve", "--config",
                                  os.path.join(mount["mountPath"], item["path"])])
                text = configmap[item["key"]]
                self.assertEqual(placeholders(text) - set(env), set(), name)
                path = os.path.join(tmp, item["key"])
                with open(path, "w") as f:
                    f.write(text)
                self.assert_ok(path, env, expect[name])
                config = yaml.safe_load(text)
                self.assertGreater(spec["terminationGracePeriodSeconds"],
                                   duration_seconds(config["metrics"]["drain_timeout"]))
                self.assertEqual(config["metrics"]["listen"], "${PODIUM_NODE_IP}:9464")
                ports = {(p["containerPort"], p["protocol"]) for p in container["ports"]}
                for url in config["relay"]["listen"]:
                    self.assertIn((int(url.rsplit(":", 1)[1]), url.split("://")[0].upper()),
                                  ports)
                if "sfu" in config:
                    self.assertEqual(config["sfu"]["announced_ip"], "${PODIUM_NODE_IP}")
                    self.assertIn((config["sfu"]["udp_port"], "UDP"), ports)
                    self.assertIn((8080, "TCP"), ports)
                checked.add(name)
        self.assertEqual(checked, set(expect))


# ------------------------------------------------------------------------------------------
class Dockerfile(unittest.TestCase):
    def test_build_stage_installs_the_install_deps_build_list(self):
        stages = dockerfile_stages()
        self.assertEqual(len(stages), 2)
        for stage in stages:
            self.assertEqual(stage[0].split()[1], "debian:bookworm-slim")
        self.assertEqual(sorted(apt_packages(stages[0])), sorted(install_deps_build_list()))

    def test_runtime_stage(self):
        stage = dockerfile_stages()[-1]
        user = next(line for line in stage if line.startswith("USER ")).split()[1]
        self.assertNotIn(user.split(":")[0], ("0", "root"))
        self.assertTrue(re.fullmatch(r"\d+:\d+", user), "numeric for runAsNonRoot: " + user)
        self.assertIn("COPY deploy/podium.yaml /etc/podium/podium.yaml", stage)
        entry = json.loads(next(line for line in stage if line.startswith("ENTRYPOINT "))[11:])
        cmd = json.loads(next(line for line in stage if line.startswith("CMD "))[4:])
        self.assertEqual(entry + cmd, ["/usr/bin/podium", "serve", "--config",
                                       "/etc/podium/podium.yaml"])

    def healthcheck(self):
        line = next(line for line in dockerfile_stages()[-1] if line.startswith("HEALTHCHECK "))
        return json.loads(line[line.index(" CMD ") + 5:])

    def test_healthcheck_against_a_live_podium(self):
        command = self.healthcheck()
        self.assertIn("/dev/tcp/127.0.0.1/9464", command[-1])
        self.assertIn("/healthz", command[-1])
        config = "metrics:\n  listen: 127.0.0.1:0\n"
        with Podium(config) as podium:
            port = podium.host_port("metrics")[1]
            live = [command[0], command[1], command[2].replace("/9464", "/%d" % port)]
            p = sh(live, timeout=10)
            self.assertEqual(p.returncode, 0, p.stderr)
        p = sh(live, timeout=10)  # podium stopped: unhealthy
        self.assertNotEqual(p.returncode, 0)


# ------------------------------------------------------------------------------------------
class DebianPackage(unittest.TestCase):
    deb = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="podium-deb-")
        cls.why_not = None
        if not BUILD_DIR or not os.path.isfile(os.path.join(BUILD_DIR, "CPackConfig.cmake")):
            cls.why_not = "PODIUM_BUILD_DIR has no CPackConfig.cmake: %r" % BUILD_DIR
        elif not shutil.which("cpack") or not shutil.which("dpkg-shlibdeps"):
            cls.why_not = "cpack or dpkg-shlibdeps (Debian package dpkg-dev) is missing"
        if cls.why_not:
            return
        p = sh(["cpack", "-G", "DEB", "-B", cls.tmp.name, "--config",
                os.path.join(BUILD_DIR, "CPackConfig.cmake")], timeout=120)
        if p.returncode != 0:
            raise AssertionError("cpack: %s%s" % (p.stdout, p.stderr))
        debs = [n for n in os.listdir(cls.tmp.name) if n.endswith(".deb")]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(cls.tmp.name, debs[0])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        if self.why_not:
            self.skipTest(self.why_not)

    def field(self, name):
        return sh(["dpkg-deb", "-f", self.deb, name], check=True).stdout.strip()

    def test_contents(self):
        listing = sh(["dpkg-deb", "-c", self.deb], check=True).stdout
        files = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
        for path in ["/usr/bin/podium", "/etc/podium/podium.yaml",
                     "/lib/systemd/system/podium.service", "/usr/lib/sysctl.d/60-podium.conf",
                     "/usr/share/podium/monitoring/prometheus/prometheus.yml",
                     "/usr/share/podium/monitoring/prometheus/alerts.yml",
                     "/usr/share/podium/monitoring/grafana/podium-dashboard.json",
                     "/usr/share/doc/podium/README.md", "/usr/share/doc/podium/configuration.md",
                     "/usr/share/doc/podium/deploy.md"]:
            self.assertIn(path, files)
        self.assertEqual(self.field("Package"), "podium")
        with tempfile.TemporaryDirectory(prefix="podium-control-") as control:
            sh(["dpkg-deb", "-e", self.deb, control], check=True)
            self.assertEqual(read(os.path.join(control, "conffiles")).split(),
                             ["/etc/podium/podium.yaml"])
            for script in ("postinst", "prerm", "postrm"):
                mode = os.stat(os.path.join(control, script)).st_mode
                self.assertTrue(mode & stat.S_IXUSR, script)
        with tempfile.TemporaryDirectory(prefix="podium-data-") as data:
            sh(["dpkg-deb", "-x", self.deb, data], check=True)
            self.assertEqual(read(os.path.join(data, "etc/podium/podium.yaml")), read(PROD_CONFIG))
            self.assertEqual(read(os.path.join(data, "lib/systemd/system/podium.service")),
                             read(UNIT))
            p = sh([os.path.join(data, "usr/bin/podium"), "version"], check=True)
            self.assertTrue(p.stdout.startswith("podium "), p.stdout)

    def test_depends_are_the_docker_runtime_libraries(self):
        if SANITIZED:
            self.skipTest("a sanitizer build (%s) links libraries the product does not" % SANITIZED)
        depends = {d.strip().split()[0] for d in self.field("Depends").split(",")}
        for lib in ("libssl3", "libsrtp2-1", "libusrsctp2", "libyaml-cpp0.7"):
            self.assertIn(lib, depends)
        runtime = set(apt_packages(dockerfile_stages()[-1]))
        # Names in Depends may be virtual (libspdlog1.10-fmt9): resolve them to the installed
        # package that provides them.
        provided = {}
        p = sh(["dpkg-query", "-W", "-f", "${Package}\t${Provides}\n"], check=True)
        for line in p.stdout.splitlines():
            package, _, provides = line.partition("\t")
            for name in provides.split(","):
                if name.strip():
                    provided[name.strip().split()[0]] = package.split(":")[0]
        missing = {d for d in depends - BASE_IMAGE_LIBS
                   if d not in runtime and provided.get(d) not in runtime}
        self.assertEqual(missing, set(), "the Dockerfile's runtime stage lacks them")

    # --- install, check, purge ---

    def dpkg(self, *args):
        """dpkg, waiting (up to 60 s) while another dpkg/apt holds the lock."""
        deadline = time.monotonic() + 60
        while True:
            p = sh(["dpkg"] + list(args), timeout=120)
            if "lock" not in p.stderr or time.monotonic() > deadline:
                return p
            time.sleep(1)

    def test_install_check_purge(self):
        if os.geteuid() != 0:
            self.skipTest("dpkg -i needs root")
        if not shutil.which("dpkg"):
            self.skipTest("no dpkg")
        if os.path.isdir("/run/systemd/system"):
            self.skipTest("systemd runs here: postinst would start podium.service on 0.0.0.0 and "
                          "apply 60-podium.conf to this host")
        status = sh(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "podium"]).stdout
        if status.strip() and not status.startswith("un"):
            self.skipTest("a podium package is installed (%s): not touching it" % status.strip())
        present = [p for p in INSTALLED_PATHS if os.path.lexists(p)]
        if present:
            self.skipTest("podium files already exist, not touching them: %s" % present)
        before = self.snapshot()
        installed = False
        try:
            p = self.dpkg("-i", self.deb)
            installed = True
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.check_installed()
        finally:
            if installed:
                p = self.dpkg("--purge", "podium")
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        status = sh(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "podium"]).stdout
        self.assertFalse(status.startswith("ii"), status)
        self.assertEqual([p for p in INSTALLED_PATHS if os.path.lexists(p)], [])
        self.assertEqual(self.snapshot(), before)

    @staticmethod
    def snapshot():
        """What the package or its scripts could leave behind outside its own paths."""
        entries = set()
        for top in SNAPSHOT_DIRS:
            for root, dirs, files in os.walk(top):
                for name in dirs + files:
                    path = os.path.join(root, name)
                    target = os.readlink(path) if os.path.islink(path) else ""
                    entries.add((path, target))
        return entries

    def check_installed(self):
        listed = set(sh(["dpkg", "-L", "podium"], check=True).stdout.split())
        for path in ["/usr/bin/podium", "/etc/podium/podium.yaml",
                     "/lib/systemd/system/podium.service", "/usr/lib/sysctl.d/60-podium.conf",
                     "/usr/share/podium/monitoring/grafana/podium-dashboard.json",
                     "/usr/share/doc/podium/README.md"]:
            self.assertIn(path, listed)
            self.assertTrue(os.path.exists(path), path)
        conffiles = sh(["dpkg-query", "-W", "-f", "${Conffiles}", "podium"], check=True).stdout
        self.assertIn("/etc/podium/podium.yaml", conffiles)
        # postinst: /etc/default/podium, root only, every variable the config reads.
        st = os.stat("/etc/default/podium")
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid), (0o600, 0, 0))
        env = {}
        for line in read("/etc/default/podium").splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                env[key] = value
        self.assertEqual(set(env), placeholders(read("/etc/podium/podium.yaml")))
        for key in ("PODIUM_TURN_SECRET", "PODIUM_TOKEN_SECRET", "PODIUM_API_KEY",
                    "PODIUM_ADMIN_TOKEN"):
            self.assertRegex(env[key], r"^[0-9a-f]{64}$")
        self.assertEqual(len({env[k] for k in env if not k.endswith(("_IP", "_URL"))}), 4)
        p = sh(["/usr/bin/podium", "check-config", "/etc/podium/podium.yaml"], env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("OK (runs: relay sfu signaling metrics)", p.stdout)
        # Enabled (deb-systemd-helper), and the installed unit verifies as it is.
        if shutil.which("deb-systemd-helper"):
            self.assertTrue(os.path.islink(
                "/etc/systemd/system/multi-user.target.wants/podium.service"))
        if SYSTEMD_ANALYZE:
            p = sh([SYSTEMD_ANALYZE, "verify", "/lib/systemd/system/podium.service"])
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # An upgrade (same version again) keeps the generated secrets.
        before = read("/etc/default/podium")
        p = self.dpkg("-i", self.deb)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(read("/etc/default/podium"), before)


if __name__ == "__main__":
    unittest.main()
