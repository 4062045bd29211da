#!/usr/bin/env bash
# `make bench`: Atrium's S3 PUT/GET against nginx (static files + WebDAV PUT)
# on loopback, same machine, same load generator, same parameters, side by
# side — the ratios DESIGN.md "Performance budget" sets. A benchmark, never a
# test: it exits non-zero only when a server cannot be started or a run has
# errors, never because a ratio is below budget.
#
# It starts its own nginx and atriumd on free loopback ports, each with its
# own directory under one temporary directory, and a trap removes both and
# stops exactly the PIDs it started, on every exit path.
#
# Knobs (environment):
#   BENCH_SECONDS   measured seconds per run (default 5)
#   BENCH_WARMUP    unmeasured seconds before each run (default 1)
#   BENCH_REPEAT    runs per server and case, alternating servers; the table
#                   shows the run with the median ops/s (default 1)
#   BENCH_CONCS     concurrency levels (default "1 16")
#   BENCH_SIZES     object sizes, atrium-bench syntax (default "4k 1M")
#   BENCH_TARGETS   which servers (default "nginx atrium")
#   BENCH_AUTH      sigv4 (default: atriumd checks SigV4 and every request of
#                   both servers is signed, UNSIGNED-PAYLOAD, as awscli and boto3
#                   send it; nginx ignores the signature) or simple (no signing)
#   BENCH_HEADER    extra request header sent to both, e.g. 'Authorization: AWS bench:'
#   BENCH_TMPDIR    parent of the temporary directory (default /var/tmp)
#   BENCH_OUT       also append the raw result lines to this file
#   ATRIUMD, NGINX, ATRIUM_BENCH   binaries (default bin/atriumd, /usr/sbin/nginx,
#                   bin/atrium-bench)
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${BENCH_SECONDS:-5}
WARMUP=${BENCH_WARMUP:-1}
REPEAT=${BENCH_REPEAT:-1}
CONCS=${BENCH_CONCS:-"1 16"}
SIZES=${BENCH_SIZES:-"4k 1M"}
TARGETS=${BENCH_TARGETS:-"nginx atrium"}
HEADER=${BENCH_HEADER:-}
AUTH=${BENCH_AUTH:-sigv4}
case $AUTH in sigv4|simple) ;; *) echo "bench: BENCH_AUTH must be sigv4 or simple" >&2; exit 2 ;; esac
ATRIUMD=${ATRIUMD:-bin/atriumd}
NGINX=${NGINX:-/usr/sbin/nginx}
LOADGEN=${ATRIUM_BENCH:-bin/atrium-bench}
BUCKET=benchbucket

say() { echo "bench: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[ -x "$LOADGEN" ] || die "$LOADGEN is missing (make bin/atrium-bench)"
command -v curl >/dev/null || die "curl is missing"

TMP=$(mktemp -d -p "${BENCH_TMPDIR:-/var/tmp}" atrium-bench.XXXXXX)
PIDS=()
# shellcheck disable=SC2317  # reached through the trap
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		# Give each server 5 s to stop cleanly, then insist.
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Poll URL until it answers with status $2 (or any status when $2 is "any"),
# while PID $3 lives; at most ~15 s.
wait_http() {
	local url=$1 want=$2 pid=$3 code
	for _ in $(seq 150); do
		kill -0 "$pid" 2>/dev/null || return 1
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)
		if [ "$code" != 000 ] && { [ "$want" = any ] || [ "$code" = "$want" ]; }; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

start_nginx() {
	local d=$TMP/nginx port user=''
	port=$("$LOADGEN" --free-port)
	mkdir -p "$d/www/$BUCKET" "$d/tmp"
	# Workers of a root master drop to "nobody" unless told otherwise, and
	# nobody cannot write the private temp directory.
	[ "$(id -u)" -eq 0 ] && user='user root root;'
	cat >"$d/nginx.conf" <<-EOF
	$user
	worker_processes auto;
	pid $d/nginx.pid;
	error_log $d/error.log warn;
	events { worker_connections 4096; }
	http {
	    access_log off;
	    sendfile on;
	    tcp_nopush on;
	    tcp_nodelay on;
	    keepalive_timeout 300s;
	    keepalive_requests 100000000;
	    default_type application/octet-stream;
	    client_body_temp_path $d/tmp/body;
	    proxy_temp_path $d/tmp/proxy;
	    fastcgi_temp_path $d/tmp/fastcgi;
	    uwsgi_temp_path $d/tmp/uwsgi;
	    scgi_temp_path $d/tmp/scgi;
	    server {
	        listen 127.0.0.1:$port;
	        root $d/www;
	        location / {
	            dav_methods PUT;
	            create_full_put_path on;
	            client_max_body_size 0;
	        }
	    }
	}
	EOF
	"$NGINX" -c "$d/nginx.conf" -p "$d" -e "$d/error.log" -g 'daemon off;' 2>"$d/stderr.log" &
	PIDS+=("$!")
	if ! wait_http "http://127.0.0.1:$port/" any $!; then
		tail -n 20 "$d/error.log" "$d/stderr.log" >&2 || true
		return 1
	fi
	NGINX_PORT=$port
}

start_atrium() {
	local d=$TMP/atrium port pid
	[ -x "$ATRIUMD" ] || { say "$ATRIUMD is missing"; return 1; }
	port=$("$LOADGEN" --free-port)
	mkdir -p "$d/data"
	"$ATRIUMD" --data "$d/data" --port "$port" --auth "$AUTH" --bind 127.0.0.1 \
		--credentials "$TMP/credentials" 2>"$d/atriumd.log" >&2 &
	pid=$!
	PIDS+=("$pid")
	if ! wait_http "http://127.0.0.1:$port/api/v1/health" 200 $pid; then
		say "atriumd did not become healthy; last log lines:"
		tail -n 20 "$d/atriumd.log" >&2 || true
		return 1
	fi
	if ! curl -fsS -o /dev/null -X PUT "${SIGN[@]}" "http://127.0.0.1:$port/$BUCKET"; then
		say "atriumd: creating bucket $BUCKET failed"
		return 1
	fi
	ATRIUM_PORT=$port
}

# The bench user: a fixed key pair in files of the run's own directory
# (mode 0600: atriumd refuses credentials others can read).
(umask 077
 echo "BENCHACCESSKEY000001 benchbenchbenchbenchbenchbenchbenchbench bench" >"$TMP/credentials"
 echo "BENCHACCESSKEY000001 benchbenchbenchbenchbenchbenchbenchbench" >"$TMP/keys")
SIGN=()
SIGNARGS=()
if [ "$AUTH" = sigv4 ]; then
	SIGN=(--aws-sigv4 "aws:amz:us-east-1:s3" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD"
	      --user "BENCHACCESSKEY000001:benchbenchbenchbenchbenchbenchbenchbench")
	SIGNARGS=(--sigv4-file "$TMP/keys")
fi

declare -A PORT RES RUNS FAILED
LIVE=()
RC=0
for t in $TARGETS; do
	case $t in
	nginx)  start_nginx && PORT[nginx]=$NGINX_PORT ;;
	atrium) start_atrium && PORT[atrium]=$ATRIUM_PORT ;;
	*) die "unknown target '$t' in BENCH_TARGETS" ;;
	esac
	if [ -n "${PORT[$t]:-}" ]; then
		LIVE+=("$t")
		say "$t listening on 127.0.0.1:${PORT[$t]}"
	else
		say "ERROR: $t could not be started: its columns will read n/a"
		RC=1
	fi
done
[ ${#LIVE[@]} -gt 0 ] || die "no server could be started"

keys_for() { case $1 in *[mMgG]*) echo 64 ;; *) echo 1000 ;; esac; }

# One atrium-bench run; its result line is added to RUNS["op size conc target"].
run() {
	local target=$1 op=$2 size=$3 conc=$4 keys line k="$2 $3 $4 $1"

	keys=$(keys_for "$size")
	local args=(-p "${PORT[$target]}" -o "$op" -s "$size" -k "$keys" -c "$conc"
		-P "/$BUCKET/s$size-" -t "$target" "${SIGNARGS[@]}")
	[ -n "$HEADER" ] && args+=(-x "$HEADER")
	# Settle the previous run's dirty pages so it does not bill this one.
	sync -f "$TMP" 2>/dev/null || sync
	if line=$("$LOADGEN" "${args[@]}" -d "$SECS" -w "$WARMUP"); then
		RUNS[$k]+="$line"$'\n'
	else
		FAILED[$k]=1
		RC=1
	fi
	echo "$line"
	[ -z "${BENCH_OUT:-}" ] || echo "$line" >>"$BENCH_OUT"
}

# Every key exists before anything is timed, so measured PUTs are all
# overwrites and GETs never miss; counted, not timed.
preload() {
	local target=$1 size=$2 keys
	keys=$(keys_for "$size")
	local args=(-p "${PORT[$target]}" -o PUT -s "$size" -k "$keys" -c 4 -n "$keys"
		-P "/$BUCKET/s$size-" -t "$target-preload" "${SIGNARGS[@]}")
	[ -n "$HEADER" ] && args+=(-x "$HEADER")
	"$LOADGEN" "${args[@]}" >/dev/null
}

say "$(nproc) CPUs, $(uname -r), $("$NGINX" -v 2>&1 | sed 's/.*: //'), ${SECS}s per run (+${WARMUP}s warm-up), auth $AUTH"
for size in $SIZES; do
	for t in "${LIVE[@]}"; do
		preload "$t" "$size" || { say "ERROR: preloading $t with $size objects failed"; RC=1; }
	done
	# PUT before GET; the two servers alternate run by run so that drift on
	# a shared machine hits both alike.
	for op in PUT GET; do
		for conc in $CONCS; do
			for _ in $(seq "$REPEAT"); do
				for t in "${LIVE[@]}"; do
					run "$t" "$op" "$size" "$conc"
				done
			done
		done
	done
done

# The run with the median ops/s stands for each case; any failed run fails it.
for k in "${!RUNS[@]}" "${!FAILED[@]}"; do
	if [ -n "${FAILED[$k]:-}" ]; then
		RES[$k]=FAIL
		continue
	fi
	RES[$k]=$(printf '%s' "${RUNS[$k]}" | sed 's/.* ops=\([^ ]*\) .*/\1 &/' | sort -g -k1,1 |
		awk '{ l[NR] = $0 } END { m = l[int((NR + 1) / 2)]; sub(/^[^ ]* /, "", m); print m }')
done

# field NAME LINE: the value of NAME= in an atrium-bench result line.
field() { local v; v=$(sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"); echo "${v:-n/a}"; }
cell() {
	local line=${RES["$1"]:-}
	case $line in
	'') echo n/a ;;
	FAIL) echo FAIL ;;
	*) case $2 in
	   lat) echo "$(field p50_us "$line")/$(field p99_us "$line")" ;;
	   *) field "$2" "$line" ;;
	   esac ;;
	esac
}
budget() {  # DESIGN.md "Performance budget", as a percentage of nginx
	case "$1 $2" in
	GET\ 4k) echo 80 ;;
	GET\ *) echo 95 ;;
	PUT\ *) echo 90 ;;
	esac
}

echo
printf '%-4s %-5s %4s | %11s %11s | %11s %12s | %17s %17s | %7s %s\n' \
	op size conc 'nginx op/s' 'atrium op/s' 'nginx MiB/s' 'atrium MiB/s' \
	'nginx p50/p99 us' 'atrium p50/p99 us' 'atr/ngx' 'budget'
for op in PUT GET; do
	for size in $SIZES; do
		for conc in $CONCS; do
			k="$op $size $conc"
			n_ops=$(cell "$k nginx" ops); a_ops=$(cell "$k atrium" ops)
			ratio=n/a; verdict=''
			if [[ $n_ops =~ ^[0-9.]+$ && $a_ops =~ ^[0-9.]+$ ]]; then
				ratio=$(awk -v a="$a_ops" -v n="$n_ops" 'BEGIN { printf "%.0f%%", (n > 0 ? 100 * a / n : 0) }')
				b=$(budget "$op" "$size")
				verdict=$(awk -v r="${ratio%\%}" -v b="$b" 'BEGIN { print (r >= b ? "ok" : "BELOW") }')
				verdict="$verdict (>=$b%)"
			fi
			printf '%-4s %-5s %4s | %11s %11s | %11s %12s | %17s %17s | %7s %s\n' \
				"$op" "$size" "$conc" "$n_ops" "$a_ops" \
				"$(cell "$k nginx" mibs)" "$(cell "$k atrium" mibs)" \
				"$(cell "$k nginx" lat)" "$(cell "$k atrium" lat)" "$ratio" "$verdict"
		done
	done
done
[ "$RC" -eq 0 ] || say "*** INCOMPLETE: a server failed to start or a run had errors (see above) ***"
exit "$RC"
