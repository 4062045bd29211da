#!/usr/bin/env bash
# Install, from Debian's packages, what Atrium needs and this machine lacks:
#   install-deps.sh run     running atriumd and atrium (the packaged binaries)
#   install-deps.sh build   that, and building them (`make run` uses this)
#   install-deps.sh test    that, and every test (`make test`, `make deps`)
#   install-deps.sh s3rver  only s3rver from npm into build/npm (`make
#                           integration` asks for it before its tests)
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
# drives a real browser's fetch() across origins, test_console.py the web
# console. strace: test_durability.py reads which syncs a write makes.
tests=(
  clang libclang-rt-14-dev libcmocka-dev sqlite3 openssl
  awscli python3-boto3 python3-boto python3-pytest s3cmd curl nginx rsync
  util-linux bsdutils systemd man-db groff-base
  chromium chromium-driver python3-selenium
  strace
)

case "${1:-test}" in
run) pkgs=("${run[@]}") ;;
build) pkgs=("${run[@]}" "${build[@]}") ;;
test) pkgs=("${run[@]}" "${build[@]}" "${tests[@]}") ;;
s3rver) pkgs=() ;;
*) echo "usage: install-deps.sh [run|build|test|s3rver]" >&2; exit 2 ;;
esac

missing=()
for p in ${pkgs[@]+"${pkgs[@]}"}; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]} (run as root to install)" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# s3rver, pinned, from the npm registry into the work tree (build/npm, not
# a global install): tests/integration/test_ufs_s3.py starts it as a remote.
S3RVER_VERSION=3.7.1
if [ "${1:-test}" = test ] || [ "${1:-test}" = s3rver ]; then
  dir="$(cd "$(dirname "$0")/.." && pwd)/build/npm"
  have=$(node -p "require('$dir/node_modules/s3rver/package.json').version" 2>/dev/null || true)
  if [ "$have" != "$S3RVER_VERSION" ]; then
    # Debian's npm only where no node is there already (a node from
    # elsewhere brings its own npm, and Debian's would conflict with it).
    if ! command -v npm >/dev/null && ! command -v node >/dev/null && [ "$(id -u)" -eq 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm \
        >/dev/null || true
    fi
    if ! command -v npm >/dev/null; then
      echo "install-deps: npm is absent: the s3rver tests will be skipped" >&2
    else
      echo "install-deps: installing s3rver@$S3RVER_VERSION into $dir" >&2
      mkdir -p "$dir"
      npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
        "s3rver@$S3RVER_VERSION" >/dev/null
    fi
  fi
fi
