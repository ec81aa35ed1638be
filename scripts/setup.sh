#!/usr/bin/env bash
# Installs what xdplab needs when it is missing and builds what must be built.
# Idempotent and quick when everything is in place; run by `npm test`, `npm run example`
# and .ci/run. Debian packages need root (apt-get); npm packages come from the registry.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

# 1. Debian packages (clang/libbpf/libxdp for bpf/ and native/, tools for live mode and oracles).
DEB_PKGS=(clang llvm libbpf-dev libxdp-dev libelf-dev zlib1g-dev bpftool iproute2 ethtool nftables tcpdump tcpreplay tshark xdp-tools make gcc pkg-config iputils-ping)
missing=()
for p in "${DEB_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: ${missing[*]} — run as root or: sudo apt-get install ${missing[*]}"
    exit 3
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer no without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
  timeout 600 apt-get update -qq
  timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. npm packages (lockfile-exact). npm 11 does not run dependencies' install scripts:
#    koffi ships prebuilt binaries, nothing else needs a script.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 3. TypeScript → dist/ (bin/xdplab runs dist/bin/main.js). tsc emits even on type errors;
#    the type check itself is part of the tests.
say "compiling TypeScript"
node node_modules/typescript/bin/tsc -p tsconfig.json || say "tsc reported type errors (see above)"

# 4. C parts: packet I/O helpers for live mode, the XDP shim, the native worker.
for d in native/pktio native/loader native/xskprobe bpf native; do
  if [ -f "$d/Makefile" ]; then
    say "building $d"
    make -s -C "$d"
  fi
done
if [ -f native/xskfwd/Makefile ]; then say "building native/xskfwd"; make -s -C native/xskfwd; fi  # bare AF_XDP forwarder (bench/live.ts)
say "ready"
