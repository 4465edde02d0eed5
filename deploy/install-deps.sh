#!/usr/bin/env bash
# Installs the Debian 12 packages Podium's build, tests and benchmarks need.
# Non-interactive and idempotent: when everything is present it prints nothing and takes well
# under a second; `apt-get update` runs only when something is missing.
#   deploy/install-deps.sh            build + tests + benchmarks
#   deploy/install-deps.sh --build    only what building podium needs
set -euo pipefail

build=(
  g++ make cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-system1.81-dev libboost-json1.81-dev
  libssl-dev libsrtp2-dev libusrsctp-dev libisal-dev libopus-dev libidn-dev
  prometheus-cpp-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
)
tests=(
  libgtest-dev libgmock-dev
  clang-14 libclang-rt-14-dev clang-format
  coturn python3 python3-aiortc python3-numpy
  chromium firefox-esr
  iproute2 nftables curl procps util-linux
  prometheus
  python3-matplotlib python3-munkres  # render-dashboard.py; munkres keeps apt off scipy/boost1.74
  zbar-tools python3-pil
  # integration.deploy: systemd-analyze, yamllint, dpkg-shlibdeps (cpack -G DEB), strace
  systemd yamllint dpkg-dev strace
)

wanted=("${build[@]}")
[[ "${1:-}" == "--build" ]] || wanted+=("${tests[@]}")

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$pkg")
done
# Node.js with npm drives the browser tests; any install that provides both will do.
if [[ "${1:-}" != "--build" ]] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's coturn and prometheus packages may start system services: Podium's tests start
  # their own instances on loopback, so stop the packaged ones if an init system started them.
  for svc in coturn prometheus; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
      systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
  done
fi
