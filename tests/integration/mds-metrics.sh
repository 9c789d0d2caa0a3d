# mds-metrics: dnsfs-mds's /metrics seen by curl. Starts a private redis-server
# and the mds with --metrics 127.0.0.1:0, sends known queries and updates with
# dig, nsupdate and tests/integration/dnsprobe.py, and checks the exposition
# format and that each counter moved by exactly what was sent.
. "$top_srcdir/tests/lib.sh"

MDS="$top_builddir/mds/dnsfs-mds"
PROBE="python3 $top_srcdir/tests/integration/dnsprobe.py"
CHECKER="$top_srcdir/tests/promtext-check.awk"
Z=dnsfs.test.
for tool in dig nsupdate curl python3 redis-server; do
	command -v "$tool" >/dev/null || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done
[ -x "$MDS" ] || bail "$MDS is not built"

secret=$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')
printf 'key "dnsfs-test" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$secret" >"$TMP/tsig.key"

sock="$TMP/redis.sock"
redis-server --port 0 --unixsocket "$sock" --dir "$TMP" --appendonly yes \
	--appendfsync always --save '' --daemonize yes --pidfile "$TMP/redis.pid" \
	--logfile "$TMP/redis.log" >/dev/null
# SIGKILL: a private test Redis has nothing to save, and a SIGTERM'd one
# can race the removal of $TMP and refuse to exit.
on_exit 'kill -9 "$(cat "$TMP/redis.pid")"'
wait_for 10 test -S "$sock" || bail "redis-server did not start"

P=$(free_port) || bail "no free port"
"$MDS" --foreground --listen "127.0.0.1:$P" --keyfile "$TMP/tsig.key" --store "unix:$sock" \
	--zone "$Z" --zone-file "$top_srcdir/zones/example.zone" --metrics 127.0.0.1:0 \
	--log-level info >"$TMP/mds.log" 2>&1 &
mds_pid=$!
on_exit 'kill "$mds_pid"'
wait_for 10 grep -q 'metrics on http://' "$TMP/mds.log" ||
	{ sed 's/^/# /' "$TMP/mds.log"; bail "dnsfs-mds did not start"; }
MP=$(sed -n 's|.*metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$TMP/mds.log")
check_match "the bound metrics port is logged" '^[1-9][0-9]*$' "$MP"
URL="http://127.0.0.1:$MP/metrics"

D() { dig +norec +time=2 +tries=1 -p "$P" @127.0.0.1 "$@"; }
# nsup KEYFILE|- COMMANDS...: one nsupdate run, output in $TMP/nsup.out
nsup() {
	local key=$1; shift
	{ echo "server 127.0.0.1 $P"; echo "zone $Z"; printf '%s\n' "$@"; echo send; } >"$TMP/nsup.in"
	if [ "$key" = - ]; then
		nsupdate -t 5 "$TMP/nsup.in" >"$TMP/nsup.out" 2>&1
	else
		nsupdate -t 5 -k "$key" "$TMP/nsup.in" >"$TMP/nsup.out" 2>&1
	fi
}
# scrape FILE: fetch /metrics into FILE
scrape() { curl -sS --max-time 5 -o "$1" "$URL"; }
# val FILE 'SERIES': the value of one series (name and labels exactly as
# rendered), 0 if it is not there
val() { awk -v s="$2" 'substr($0, 1, length(s) + 1) == s " " { v = $2 } END { print v + 0 }' "$1"; }
# delta 'SERIES': its change from $TMP/m0 to $TMP/m1
delta() { echo $(( $(val "$TMP/m1" "$1") - $(val "$TMP/m0" "$1") )); }
q() { printf 'dnsfs_mds_queries_total{type="%s",rcode="%s",opcode="%s",transport="%s"}' "$@"; }
u() { printf 'dnsfs_mds_updates_total{result="%s",rcode="%s"}' "$@"; }

# ---- the first scrape: format and families ---------------------------------
D "$Z" SOA >/dev/null
scrape "$TMP/m0"
check "GET /metrics" test -s "$TMP/m0"
out=$(awk -f "$CHECKER" "$TMP/m0" 2>&1)
check_eq "every line is valid exposition format" "" "$out"
for fam in dnsfs_mds_queries_total dnsfs_mds_updates_pending dnsfs_mds_update_commit_seconds \
	   dnsfs_mds_store_exec_seconds dnsfs_mds_store_groups_total dnsfs_mds_zone_records \
	   dnsfs_mds_zone_serial dnsfs_mds_zone_bytes dnsfs_mds_tcp_connections \
	   dnsfs_mds_truncated_total dnsfs_mds_dropped_total process_cpu_seconds_total \
	   node_cpu_seconds_total; do
	check "family $fam is exported" grep -q "^# TYPE $fam " "$TMP/m0"
done
check_eq "zone records: the example zone's" \
	"$(grep -cE '[[:space:]]IN[[:space:]]' "$top_srcdir/zones/example.zone")" \
	"$(val "$TMP/m0" "dnsfs_mds_zone_records{zone=\"$Z\"}")"
check_eq "no update yet: commit histogram empty" 0 \
	"$(val "$TMP/m0" dnsfs_mds_update_commit_seconds_count)"

# ---- known traffic -----------------------------------------------------------
for i in 1 2 3; do D "nope$i.$Z" A >/dev/null; done              # NXDOMAIN x3, udp
D "$Z" NS >/dev/null                                            # NOERROR, udp
D +tcp "$Z" TXT >/dev/null                                      # NODATA, tcp
D example.com. AAAA >/dev/null                                  # REFUSED
D "$Z" TYPE65280 >/dev/null                                     # an unlisted type
$PROBE response "$P" >/dev/null                                 # dropped, no answer
for i in 1 2 3; do
	nsup "$TMP/tsig.key" "update add up$i.$Z 60 TXT \"v$i\""
	check "signed update $i applied" test $? -eq 0
done
nsup "$TMP/tsig.key" "update delete absent.$Z TXT"             # nothing to do
check "update that changes nothing: NOERROR" test $? -eq 0
nsup "$TMP/tsig.key" "prereq yxrrset absent.$Z TXT" "update add pre.$Z 60 TXT \"x\""
check_match "failed prerequisite: NXRRSET" NXRRSET "$(cat "$TMP/nsup.out")"
nsup - "update add unsigned.$Z 60 TXT \"x\""
check_match "unsigned update: REFUSED" REFUSED "$(cat "$TMP/nsup.out")"
serial=$(D +short "$Z" SOA | awk '{print $3}')
scrape "$TMP/m1"
out=$(awk -f "$CHECKER" "$TMP/m1" 2>&1)
check_eq "still valid exposition format" "" "$out"

# ---- the counters moved by exactly that ----------------------------------------
check_eq "NXDOMAIN A over UDP: +3" 3 "$(delta "$(q A NXDOMAIN QUERY udp)")"
check_eq "NOERROR NS over UDP: +1" 1 "$(delta "$(q NS NOERROR QUERY udp)")"
check_eq "NOERROR TXT over TCP: +1" 1 "$(delta "$(q TXT NOERROR QUERY tcp)")"
check_eq "REFUSED AAAA: +1" 1 "$(delta "$(q AAAA REFUSED QUERY udp)")"
check_eq "an unlisted type counts as other: +1" 1 "$(delta "$(q other NOERROR QUERY udp)")"
check_eq "updates applied: +3" 3 "$(delta "$(u applied NOERROR)")"
check_eq "update noop: +1" 1 "$(delta "$(u noop NOERROR)")"
check_eq "update refused for its prerequisite: +1" 1 "$(delta "$(u refused NXRRSET)")"
check_eq "update refused unsigned: +1" 1 "$(delta "$(u refused REFUSED)")"
check_eq "no update failed" 0 "$(val "$TMP/m1" "$(u failed SERVFAIL)")"
total_updates=$(awk '/^dnsfs_mds_queries_total\{.*opcode="UPDATE"/ { n += $2 } END { print n + 0 }' "$TMP/m1")
check_eq "every UPDATE response is among the queries too" 6 "$total_updates"
check_eq "dropped: +1 (the response)" 1 "$(delta dnsfs_mds_dropped_total)"
applied=$(val "$TMP/m1" "$(u applied NOERROR)")
check_eq "commit histogram count = updates applied" "$applied" \
	"$(val "$TMP/m1" dnsfs_mds_update_commit_seconds_count)"
check_eq "commit histogram +Inf bucket = its count" "$applied" \
	"$(val "$TMP/m1" 'dnsfs_mds_update_commit_seconds_bucket{le="+Inf"}')"
check "commit seconds sum is positive" \
	awk -v v="$(grep '^dnsfs_mds_update_commit_seconds_sum ' "$TMP/m1" | cut -d' ' -f2)" \
	'BEGIN { exit !(v > 0 && v < 15) }'
check_eq "store groups: one per (sequential) applied update" 3 "$(delta dnsfs_mds_store_groups_total)"
check_eq "store exec histogram: one per group" "$(val "$TMP/m1" dnsfs_mds_store_groups_total)" \
	"$(val "$TMP/m1" dnsfs_mds_store_exec_seconds_count)"
check_eq "nothing pending" 0 "$(val "$TMP/m1" dnsfs_mds_updates_pending)"
# request latency per opcode, and the message bytes (dnsfsctl top reads them)
check_eq "UPDATE durations: one per UPDATE answered" 6 \
	"$(val "$TMP/m1" 'dnsfs_mds_request_duration_seconds_count{opcode="UPDATE"}')"
check "update time covers the commits it waited for" \
	awk -v u="$(val "$TMP/m1" 'dnsfs_mds_request_duration_seconds_sum{opcode="UPDATE"}')" \
	-v c="$(grep '^dnsfs_mds_update_commit_seconds_sum ' "$TMP/m1" | cut -d' ' -f2)" \
	'BEGIN { exit !(u > 0 && u >= c) }'
check_eq "QUERY durations: the 7 queries above and the serial's SOA" 8 \
	"$(delta 'dnsfs_mds_request_duration_seconds_count{opcode="QUERY"}')"
check "bytes received and sent grew" \
	test "$(delta dnsfs_mds_received_bytes_total)" -gt 100 -a "$(delta dnsfs_mds_sent_bytes_total)" -gt 100
check_eq "store up" 1 "$(val "$TMP/m1" dnsfs_mds_store_up)"
check_eq "zone serial gauge = the SOA's" "$serial" \
	"$(val "$TMP/m1" "dnsfs_mds_zone_serial{zone=\"$Z\"}")"
check_eq "zone records: +3" 3 "$(delta "dnsfs_mds_zone_records{zone=\"$Z\"}")"
check "zone bytes grew" test "$(delta "dnsfs_mds_zone_bytes{zone=\"$Z\"}")" -gt 0
check_eq "no UDP answer lost" 0 "$(val "$TMP/m1" dnsfs_mds_udp_send_errors_total)"

# ---- truncation, TCP gauge ---------------------------------------------------
cmds=()
for i in $(seq 1 12); do
	cmds+=("update add big.$Z 60 TXT \"$(printf 'chunk%02d-%0190d' "$i" 0)\"")
done
nsup "$TMP/tsig.key" "${cmds[@]}"
cp "$TMP/m1" "$TMP/m0"
D +ignore +bufsize=4096 "big.$Z" TXT >/dev/null
$PROBE hold "$P" 5 >"$TMP/hold.out" &
hold=$!
wait_for 5 grep -q open "$TMP/hold.out"
scrape "$TMP/m1"
check_eq "truncated: +1" 1 "$(delta dnsfs_mds_truncated_total)"
check_eq "one TCP connection open" 1 "$(val "$TMP/m1" dnsfs_mds_tcp_connections)"
kill "$hold" 2>/dev/null
wait "$hold" 2>/dev/null

# ---- refused updates are logged, at most 10 lines a second -------------------
cp "$TMP/m1" "$TMP/m0"
check_match "a burst of 40 unsigned updates: all REFUSED" '^rcode 5 x40$' "$($PROBE unsigned "$P" 40)"
sleep 1.1
$PROBE unsigned "$P" 1 >/dev/null
scrape "$TMP/m1"
check_eq "all 41 counted" 41 "$(delta "$(u refused REFUSED)")"
logged=$(grep -c 'update refused: not signed' "$TMP/mds.log")
check "log lines of refused updates are limited (got $logged for 42)" test "$logged" -lt 30
check_match "the suppressed ones are reported" \
	'[0-9]+ similar messages suppressed: more than 10 a second' "$(cat "$TMP/mds.log")"

# ---- config file, bad address ---------------------------------------------
serial=$(D +short "$Z" SOA | awk '{print $3}')
kill -TERM "$mds_pid"
wait "$mds_pid"
check "SIGTERM with metrics on: clean exit" test $? -eq 0
MP2=$(free_port)
cat >"$TMP/mds.conf" <<EOF
listen = 127.0.0.1:$P
store = unix:$sock
zone = $Z
keyfile = $TMP/tsig.key
metrics = 127.0.0.1:$MP2
udp_rcvbuf = 1MiB
EOF
"$MDS" -c "$TMP/mds.conf" --foreground >"$TMP/mds2.log" 2>&1 &
mds_pid=$!
wait_for 10 grep -q 'metrics on' "$TMP/mds2.log"
check_match "metrics = ADDR:PORT from the config file" '^dnsfs_mds_zone_serial\{zone="dnsfs.test."\} ' \
	"$(curl -sS --max-time 5 "http://127.0.0.1:$MP2/metrics")"
curl -sS --max-time 5 -o "$TMP/m2" "http://127.0.0.1:$MP2/metrics"
check_eq "the serial survived the restart" "$serial" \
	"$(val "$TMP/m2" "dnsfs_mds_zone_serial{zone=\"$Z\"}")"
kill -TERM "$mds_pid"
wait "$mds_pid"
"$MDS" --foreground --listen "127.0.0.1:$P" --store "unix:$sock" --zone "$Z" \
	--metrics 127.0.0.1:notaport >"$TMP/bad.out" 2>&1
check_eq "bad metrics address: exit 1" 1 $?
check_match "bad metrics address: says which" 'metrics.*notaport' "$(cat "$TMP/bad.out")"

done_testing
