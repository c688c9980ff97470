#!/usr/bin/env bash
# Installs everything stopsign needs on a Debian machine: system packages
# (native-module build libraries, fonts, socat, mosquitto, postgresql, chromium, tcpdump) and npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # node-canvas builds against cairo and pango
  build-essential python3 pkg-config libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev
  # Chinese and Latin faces the sign renders with: WenQuanYi Zen Hei (bitmap strikes) and GNU
  # Unifont for LED glass, Noto Sans CJK for e-paper
  fontconfig fonts-wqy-zenhei fonts-unifont fonts-noto-cjk fonts-dejavu-core
  # the passenger button speaks the board; sox measures the speech in tests
  espeak-ng sox
  # pseudo-terminal pairs stand in for the panel's serial line
  socat
  # an external MQTT broker for the tests that run against one
  mosquitto
  # the shared store's second engine; the tests start their own server from its binaries
  postgresql
  # the console is tested in a real browser
  chromium
  # the fleet benchmark counts a sign's bytes on the wire, IP and TCP included
  tcpdump
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=''
  [ "$(id -u)" -eq 0 ] || SUDO='sudo'
  echo "installing system packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v node >/dev/null || ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  echo "Node.js 20 or newer is required" >&2
  exit 1
fi

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.stopsign-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi
