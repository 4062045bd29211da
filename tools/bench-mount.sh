# Sourced by tools/bench-fuse.sh and tools/bench-readdir.sh: what every
# benchmark of the mount needs. Before sourcing, set BENCH (the script's
# name, for messages) and ATRIUMD. Gives say/die, checks the daemon and
# FUSE, makes TMP (under BENCH_TMPDIR, default /var/tmp: one file system
# for the mount's data and the plain directory) with MNT = TMP/mnt, and a
# trap that stops the atriumd it started (SIGTERM by PID, SIGKILL after
# 10 s), detaches the mount if it outlived it, and removes TMP.
# start_atriumd [ARGS...] starts `atriumd --data TMP/data --mount MNT
# --auth simple` on a free loopback port (PORT) and waits until it is
# healthy and mounted.
PY=/usr/bin/python3

say() { echo "$BENCH: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[ -x "$ATRIUMD" ] || die "$ATRIUMD is missing (make all)"
[ -e /dev/fuse ] || die "/dev/fuse is missing: no FUSE on this machine"
command -v curl >/dev/null || die "curl is missing"
"$ATRIUMD" --help 2>&1 | grep -q -- '--mount' || die "$ATRIUMD has no --mount"

TMP=$(mktemp -d -p "${BENCH_TMPDIR:-/var/tmp}" "atrium-$BENCH.XXXXXX")
MNT=$TMP/mnt
PID=
PORT=

mounted() { grep -qF " $MNT " /proc/self/mountinfo; }

# shellcheck disable=SC2317  # reached through the trap
cleanup() {
	if [ -n "$PID" ]; then
		kill -TERM "$PID" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$PID" 2>/dev/null; then
			say "atriumd ignored SIGTERM for 10 s: SIGKILL"
			kill -KILL "$PID" 2>/dev/null || true
		fi
		wait "$PID" 2>/dev/null || true
	fi
	if mounted; then
		say "the mount outlived atriumd: detaching it"
		timeout 10 fusermount3 -u -z "$MNT" 2>/dev/null || timeout 10 umount -l "$MNT" || true
	fi
	if mounted; then
		say "ERROR: $MNT is still mounted; leaving $TMP in place"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_atriumd() {
	PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$TMP/data"
	"$ATRIUMD" --data "$TMP/data" --port "$PORT" --auth simple --bind 127.0.0.1 \
		--mount "$MNT" "$@" >"$TMP/atriumd.log" 2>&1 &
	PID=$!
	local ok= code
	for _ in $(seq 200); do
		kill -0 "$PID" 2>/dev/null || break
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
			"http://127.0.0.1:$PORT/api/v1/health" || true)
		if [ "$code" = 200 ] && mounted; then ok=1; break; fi
		sleep 0.1
	done
	if [ -z "$ok" ]; then
		tail -n 30 "$TMP/atriumd.log" >&2 || true
		die "atriumd did not become healthy with $MNT mounted"
	fi
}
