#!/usr/bin/env bash
# Install, from Debian's packages, what Atrium needs and this machine lacks:
#   install-deps.sh run     running atriumd and atrium (the packaged binaries)
#   install-deps.sh build   that, and building them (`make run` uses this)
#   install-deps.sh test    that, and every test (`make test`, `make deps`)
# Quick and quiet when everything is already there.
set -euo pipefail

run=(
  libcivetweb1 libfuse3-3 fuse3 libxml2 libssl3 libsqlite3-0 libjansson4 zlib1g libcurl4
)
build=(
  build-essential pkg-config
  libcivetweb-dev libfuse3-dev libxml2-dev libssl-dev libsqlite3-dev zlib1g-dev
  libjansson-dev libcurl4-openssl-dev
)
# chromium, chromium-driver, python3-selenium: tests/integration/test_cors.py
# drives a real browser's fetch() across origins.
tests=(
  clang libclang-rt-14-dev libcmocka-dev sqlite3 openssl
  awscli python3-boto3 python3-boto python3-pytest s3cmd curl nginx rsync
  util-linux bsdutils systemd man-db groff-base
  chromium chromium-driver python3-selenium
)

case "${1:-test}" in
run) pkgs=("${run[@]}") ;;
build) pkgs=("${run[@]}" "${build[@]}") ;;
test) pkgs=("${run[@]}" "${build[@]}" "${tests[@]}") ;;
*) echo "usage: install-deps.sh [run|build|test]" >&2; exit 2 ;;
esac

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
