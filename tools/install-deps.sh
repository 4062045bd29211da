#!/usr/bin/env bash
# Install, from Debian's packages, whatever Atrium needs to build, run and test
# and this machine lacks. Quick and quiet when everything is already there.
set -euo pipefail

pkgs=(
  build-essential pkg-config clang libclang-rt-14-dev
  libcivetweb-dev libfuse3-dev fuse3 libxml2-dev libssl-dev libsqlite3-dev
  libcmocka-dev zlib1g-dev libjansson-dev sqlite3 libcurl4-openssl-dev openssl
  awscli python3-boto3 python3-boto python3-pytest s3cmd curl
  nginx rsync
  # tests/integration/test_cors.py: a real browser's fetch() across origins
  chromium chromium-driver python3-selenium
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root to install)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
