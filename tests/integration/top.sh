# top: `dnsfsctl top` on a real cluster (`cluster up --blockd 4`) under load
# (block puts, dig queries, signed updates): a line per node with numeric
# figures in plain (non-tty) blocks; the Grafana dashboard parses and uses
# only metrics the daemons export; and the bottleneck named when one is
# induced: a blockd whose fsyncs are slowed and Redis's AOF fsync slowed
# (strace fault injection), and a blockd stopped with SIGSTOP.
. "$top_srcdir/tests/lib.sh"

for tool in dig nsupdate python3 curl; do
	command -v "$tool" >/dev/null || bail "$tool is not installed (tools/install-deps)"
done

C="$TMP/c"
on_exit '"$DNSFSCTL" cluster down --dir "$C"'
"$DNSFSCTL" cluster up --dir "$C" --blockd 4 --no-mount >"$TMP/up.out" 2>&1 ||
	{ sed 's/^/# /' "$TMP/up.out"; bail "cluster up failed"; }
. "$C/cluster.env"
Z=$DNSFS_ZONE
TOP() { "$DNSFSCTL" top --dir "$C" "$@"; }

# ---- load, in the background until the end ------------------------------------
load() {
	local i=0 f
	while [ -e "$TMP/load" ]; do
		i=$((i + 1))
		f="$TMP/l$((i % 4))"
		head -c 200000 /dev/urandom >"$f"
		"$DNSFSCTL" block put --dir "$C" --timeout 500 "$f" >/dev/null 2>&1
		dig +short +time=1 +tries=1 -p "$DNSFS_MDS_PORT" @"$DNSFS_MDS_ADDR" "$Z" SOA >/dev/null
		printf 'server %s %s\nzone %s\nupdate add t%d.%s 60 TXT "x"\nsend\n' \
			"$DNSFS_MDS_ADDR" "$DNSFS_MDS_PORT" "$Z" "$i" "$Z" |
			timeout 5 nsupdate -k "$DNSFS_TSIG_KEYFILE" >/dev/null 2>&1
	done
}
touch "$TMP/load"
load &
LOADPID=$!
on_exit 'rm -f "$TMP/load"; kill $LOADPID; wait $LOADPID'
sleep 1

# ---- plain blocks, one line per node ------------------------------------------
TOP --count 2 --interval 1 >"$TMP/top1" 2>"$TMP/top1.err"
check_eq "top --count 2 exits 0" 0 $?
check_eq "two blocks printed" 2 "$(grep -c '^dnsfs top ' "$TMP/top1")"
check "no terminal codes when stdout is not a tty" sh -c "! grep -q \$(printf '\\033') '$TMP/top1'"
check_match "a header names the columns" '^NODE +CPU% +RD-MB/s +WR-MB/s +NET-MB/s +REQ/s +P50-ms +P99-ms' \
	"$(cat "$TMP/top1")"
last=$(awk '/^dnsfs top /{ b = "" } { b = b $0 "\n" } END { printf "%s", b }' "$TMP/top1")
N='[0-9]+\.[0-9]+'
for node in mds redis blockd-1 blockd-2 blockd-3 blockd-4; do
	check_match "$node: a line with numeric cpu and disk figures" \
		"^$node +$N +$N +$N " "$last"
done
for node in mds blockd-1 blockd-2 blockd-3 blockd-4; do
	check_match "$node: numeric network and request rate" "^$node +$N +$N +$N +$N +$N " "$last"
done
reqs() { echo "$last" | awk -v n="$1" '$1 == n { print $6 }'; }
check "mds answers requests under load (REQ/s $(reqs mds))" \
	awk -v r="$(reqs mds)" 'BEGIN { exit !(r > 0) }'
check "blockds answer requests under load" \
	awk -v a="$(reqs blockd-1)" -v b="$(reqs blockd-2)" -v c="$(reqs blockd-3)" \
	-v d="$(reqs blockd-4)" 'BEGIN { exit !(a + b + c + d > 0) }'
check_match "mds: latency quantiles from its histograms" "^mds( +$N){7}" "$last"
check_match "a bottleneck line ends each block" '^bottleneck: ' "$last"

# ---- the Grafana dashboard ------------------------------------------------------
DASH="$top_srcdir/docs/grafana-dnsfs.json"
check "docs/grafana-dnsfs.json is valid JSON" python3 -m json.tool "$DASH" /dev/null
curl -sS --max-time 5 "http://$DNSFS_MDS_ADDR:$DNSFS_MDS_METRICS_PORT/metrics" >"$TMP/exp"
for b in $DNSFS_BLOCKD; do curl -sS --max-time 5 "http://$b/metrics" >>"$TMP/exp"; done
missing=$(python3 - "$DASH" "$TMP/exp" <<'EOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
types = {}
for line in open(sys.argv[2]):
    m = re.match(r"# TYPE (\S+) (\S+)", line)
    if m:
        types[m.group(1)] = m.group(2)
names = set()
for e in exprs:
    e = re.sub(r'"[^"]*"', '', e)                  # label values
    names |= set(re.findall(r"\b((?:dnsfs|process|node)_[a-zA-Z0-9_:]+)", e))
bad = []
for n in sorted(names):
    base = re.sub(r"_(bucket|sum|count)$", "", n)
    if n not in types and types.get(base) != "histogram":
        bad.append(n)
print(len(names), " ".join(bad))
EOF
)
check_match "the dashboard uses metrics (count, missing: $missing)" '^[1-9][0-9]+ *$' "$missing"

# ---- induced: one blockd's fsyncs slowed by 300 ms --------------------------------
if command -v strace >/dev/null; then
	strace -f -qq -o /dev/null -e trace=fsync,fdatasync \
		-e inject=fsync:delay_enter=300000 -p "$(cat "$C/blockd-3.pid")" &
	SPID=$!
	on_exit "kill $SPID"
	sleep 0.5
	TOP --count 2 --interval 2 >"$TMP/top2" 2>&1
	kill "$SPID"; wait "$SPID" 2>/dev/null
	b2=$(grep -E '^(bottleneck|       also):' "$TMP/top2")
	check_match "slow fsync on blockd-3 is named with its measurement" \
		'blockd-3: (fsync|PUT) p99 [0-9.]+ ms, [0-9.]+x the median of the other blockds' "$b2"
	check "no other blockd is named for it" sh -c "! echo '$b2' | grep -Eq 'blockd-[124]: (fsync|PUT) p99'"

	# Redis's AOF fsync (appendfsync always) slowed by 30 ms: updates wait on it.
	strace -f -qq -o /dev/null -e trace=fsync,fdatasync -e inject=fsync:delay_enter=30000 \
		-e inject=fdatasync:delay_enter=30000 -p "$(cat "$C/redis.pid")" &
	SPID=$!
	on_exit "kill $SPID"
	sleep 0.5
	TOP --count 1 --interval 2 >"$TMP/top4" 2>&1
	kill "$SPID"; wait "$SPID" 2>/dev/null
	check_match "slow Redis commits are named as the share of update time" \
		'^(bottleneck|       also): mds: Redis commit latency is [0-9]+% of update time \(commit p99 [0-9.]+ ms' \
		"$(cat "$TMP/top4")"
	check_match "redis: its MULTI/EXEC p99 is the slow part" "^redis +$N +$N +$N +- +$N +$N +[0-9]{2,}\\." \
		"$(cat "$TMP/top4")"
else
	for i in 1 2 3 4; do ok "# SKIP strace is not installed: no fault injection"; done
fi

# ---- induced: a stopped blockd -------------------------------------------------
P2=$(cat "$C/blockd-2.pid")
on_exit "kill -CONT $P2"
kill -STOP "$P2"
start=$(date +%s%N)
TOP --count 1 --interval 1 >"$TMP/top3" 2>&1
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
kill -CONT "$P2"
check_eq "top exits 0 with a node stopped" 0 $rc
check "a hung node costs one scrape timeout per round, not more (${ms} ms)" test "$ms" -lt 5000
check_match "the stopped blockd is the bottleneck, and why" \
	'^bottleneck: blockd-2: /metrics not answered \(.*\); its process is stopped \(state T\)' \
	"$(cat "$TMP/top3")"
check_match "its line says so" '^blockd-2 .*no /metrics' "$(cat "$TMP/top3")"
check_match "the other nodes still have figures" "^blockd-1 +$N +$N" "$(cat "$TMP/top3")"

# ---- usage -------------------------------------------------------------------------
"$DNSFSCTL" top >/dev/null 2>&1
check_eq "no --dir: usage, exit 2" 2 $?
"$DNSFSCTL" top --dir "$C" --interval 0 >/dev/null 2>&1
check_eq "--interval 0: usage, exit 2" 2 $?
"$DNSFSCTL" top --dir "$TMP/nothere" --count 1 >/dev/null 2>"$TMP/err"
check_eq "a directory without a cluster: exit 1" 1 $?
check_match "... saying which" 'nothere' "$(cat "$TMP/err")"

done_testing
