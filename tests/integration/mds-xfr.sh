# mds-xfr: zone transfer out of dnsfs-mds, end to end. AXFR and IXFR with
# dig/kdig (TSIG required, unsigned refused), then a real Knot secondary
# (knotd) that bootstraps by AXFR and follows updates by NOTIFY + IXFR, and,
# with redis-server, the IXFR journal surviving an mds restart.
. "$top_srcdir/tests/lib.sh"

MDS="$top_builddir/mds/dnsfs-mds"
Z=dnsfs.test.
for tool in dig kdig nsupdate knotd python3; do
	command -v "$tool" >/dev/null || bail "$tool is not installed (tools/install-deps)"
done
[ -x "$MDS" ] || bail "$MDS is not built"

keyfile() {     # keyfile NAME PATH: a BIND key file with a fresh secret
	printf 'key "%s" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$1" \
		"$(head -c 32 /dev/urandom | base64)" >"$2"
}
keyfile xfr-key "$TMP/xfr.key"
keyfile admin "$TMP/admin.key"          # known to the mds, but not xfr_key
keyfile xfr-key "$TMP/wrong.key"        # the right name, another secret
SECRET=$(sed -n 's/.*secret "\(.*\)".*/\1/p' "$TMP/xfr.key")

P=$(free_port) || bail "no free port"
KP=$(free_port) || bail "no free port"
while [ "$KP" = "$P" ]; do KP=$(free_port); done

# A real Redis when there is one (durability of the journal), else memory.
store=memory
if command -v redis-server >/dev/null; then
	sock="$TMP/redis.sock"
	redis-server --port 0 --unixsocket "$sock" --dir "$TMP" --appendonly yes \
		--appendfsync always --save '' --daemonize yes --pidfile "$TMP/redis.pid" \
		--logfile "$TMP/redis.log" >/dev/null
	# SIGKILL: a private test Redis has nothing to save, and a SIGTERM'd one
# can race the removal of $TMP and refuse to exit.
on_exit 'kill -9 "$(cat "$TMP/redis.pid")"'
	wait_for 10 test -S "$sock" || bail "redis-server did not start"
	store="unix:$sock"
fi

cat >"$TMP/mds.conf" <<EOF
listen = 127.0.0.1:$P
store = $store
zone = $Z $top_srcdir/zones/example.zone
keyfile = $TMP/xfr.key
keyfile = $TMP/admin.key
xfr_key = xfr-key
notify = 127.0.0.1:$KP
journal_max = 100
log_level = debug
EOF

mds_pid=
start_mds() {
	"$MDS" -c "$TMP/mds.conf" --foreground >>"$TMP/mds.log" 2>&1 &
	mds_pid=$!
	wait_for 10 dig +short +norec +time=1 +tries=1 -p "$P" @127.0.0.1 "$Z" SOA ||
		{ tail -20 "$TMP/mds.log" | sed 's/^/# /'; bail "dnsfs-mds did not start"; }
}
stop_mds() {
	[ -n "$mds_pid" ] || return 0
	kill -TERM "$mds_pid" 2>/dev/null
	wait "$mds_pid"
	local rc=$?
	mds_pid=
	return $rc
}
on_exit 'stop_mds'
start_mds

D() { dig +norec +time=3 +tries=1 -p "$P" @127.0.0.1 "$@"; }
serial() { D +short "$Z" SOA | awk '{print $3}'; }
nsup() {        # nsup COMMANDS...: one nsupdate session signed with xfr.key
	{ echo "server 127.0.0.1 $P"; echo "zone $Z"; printf '%s\n' "$@"; echo send; } >"$TMP/nsup.in"
	nsupdate -t 5 -k "$TMP/xfr.key" "$TMP/nsup.in" >"$TMP/nsup.out" 2>&1
}
# axfr_records OUTPUT: the RR lines of a dig transfer (no comments, no TSIG)
rr_lines() { printf '%s\n' "$1" | grep -v '^;' | grep -v '^$' | awk '$4 != "TSIG"'; }

# ---- AXFR ------------------------------------------------------------------
s0=$(serial)
nsup "update add 42.i.$Z 60 TXT \"v=1 type=f mode=0644 size=3\"" \
	"update add 0123456789abcdef0123456789abcdef.1.d.$Z 60 CNAME 42.i.$Z"
check "nsupdate -k: records added" test $? -eq 0
s1=$(serial)
check_eq "serial bumped" "$((s0 + 1))" "$s1"

out=$(D -k "$TMP/xfr.key" "$Z" AXFR)
rrs=$(rr_lines "$out")
check_eq "AXFR: first record is the SOA" SOA "$(printf '%s\n' "$rrs" | head -1 | awk '{print $4}')"
check_eq "AXFR: last record is the SOA" SOA "$(printf '%s\n' "$rrs" | tail -1 | awk '{print $4}')"
check_eq "AXFR: SOA twice" 2 "$(printf '%s\n' "$rrs" | awk '$4 == "SOA"' | wc -l)"
check_match "AXFR: the added inode is in it" "^42\.i\.$Z[[:space:]].*TXT" "$rrs"
check_match "AXFR: the added dentry is in it" "CNAME[[:space:]]+42\.i\.$Z" "$rrs"
check_eq "AXFR: every record exactly once" "" "$(printf '%s\n' "$rrs" | awk '$4 != "SOA"' | sort | uniq -d)"
check_match "AXFR: signed answer verified by dig" 'XFR size' "$out"

out=$(kdig +tcp -p "$P" @127.0.0.1 -y "hmac-sha256:xfr-key:$SECRET" "$Z" AXFR 2>&1)
check_match "kdig AXFR with TSIG: complete" 'Received .* [0-9]+ records' "$out"
check_match "kdig AXFR: the inode" "^42\.i\.$Z" "$out"

out=$(D "$Z" AXFR 2>&1)
check_match "unsigned AXFR: refused" 'Transfer failed' "$out"
check_match "unsigned AXFR: a clear log line" 'refused: not TSIG-signed' "$(cat "$TMP/mds.log")"
out=$(D -k "$TMP/admin.key" "$Z" AXFR 2>&1)
check_match "AXFR signed with a key other than xfr_key: refused" 'Transfer failed' "$out"
check_match "other key: logged" 'other than xfr_key' "$(cat "$TMP/mds.log")"
out=$(D -k "$TMP/wrong.key" "$Z" AXFR 2>&1)
check_match "AXFR with a bad signature: NOTAUTH/BADSIG" 'BADSIG|NOTAUTH|tsig|TSIG' "$out"
check_eq "AXFR with a bad signature: no records" "" "$(rr_lines "$out" | awk '$4 == "SOA"')"

# A zone over 64 KiB: several messages.
{
	for b in 1 2 3 4; do
		for i in $(seq 1 500); do
			echo "update add $b-$i.i.$Z 60 TXT \"v=1 type=f mode=0644 size=$i $(printf '%040d' 0)\""
		done
		echo send
	done
} | sed '$d' >"$TMP/bulk.cmds"
mapfile -t bulk <"$TMP/bulk.cmds"
nsup "${bulk[@]}"
check "bulk: 2000 records added in 4 updates" test $? -eq 0
out=$(D -k "$TMP/xfr.key" "$Z" AXFR)
msgs=$(printf '%s\n' "$out" | sed -n 's/.*XFR size: [0-9]* records (messages \([0-9]*\),.*/\1/p')
check "big AXFR: several messages (got ${msgs:-none})" test "${msgs:-0}" -gt 1
check_eq "big AXFR: 2000 + the rest" "$(( $(rr_lines "$out" | wc -l) ))" \
	"$(printf '%s\n' "$out" | sed -n 's/.*XFR size: \([0-9]*\) records.*/\1/p')"
check "big AXFR: every bulk record" test "$(rr_lines "$out" | grep -c '^[1-4]-[0-9]*\.i\.')" -eq 2000
s2=$(serial)

# ---- IXFR ------------------------------------------------------------------
nsup "update delete 42.i.$Z TXT" "update add 43.i.$Z 60 TXT \"v=1 type=f\""
s3=$(serial)
out=$(D -k "$TMP/xfr.key" "$Z" IXFR="$s2")
rrs=$(rr_lines "$out")
check_eq "IXFR: SOA new, SOA old, SOA new, SOA new" "$s3 $s2 $s3 $s3" \
	"$(printf '%s\n' "$rrs" | awk '$4 == "SOA" {printf "%s%s", sep, $7; sep=" "}')"
check_match "IXFR: the deleted record" "^42\.i\.$Z" "$rrs"
check_match "IXFR: the added record" "^43\.i\.$Z" "$rrs"
check "IXFR: a diff, not the zone" test "$(printf '%s\n' "$rrs" | wc -l)" -lt 10
out=$(D -k "$TMP/xfr.key" "$Z" IXFR="$s3")
check_eq "IXFR at the current serial: one SOA" "$s3" "$(rr_lines "$out" | awk '$4 == "SOA" {print $7}')"
out=$(D +notcp -k "$TMP/xfr.key" "$Z" IXFR="$s2")
check_eq "IXFR over UDP: the current SOA only" "$s3" "$(rr_lines "$out" | awk '$4 == "SOA" {print $7}' | sort -u)"
out=$(D -k "$TMP/xfr.key" "$Z" IXFR=0)
check "IXFR from a serial not in the journal: the whole zone" \
	test "$(rr_lines "$out" | grep -c '^[1-4]-[0-9]*\.i\.')" -eq 2000
out=$(D "$Z" IXFR="$s2" 2>&1)
check_match "unsigned IXFR: refused" 'Transfer failed|REFUSED' "$out"

# ---- a Knot secondary --------------------------------------------------------
mkdir -p "$TMP/knot"
cat >"$TMP/knot.conf" <<EOF
server:
    rundir: "$TMP/knot"
    pidfile: "$TMP/knot/knot.pid"
    listen: 127.0.0.1@$KP
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: "$TMP/knot/knot.log"
    any: info
database:
    storage: "$TMP/knot"
control:
    listen: "$TMP/knot/knot.sock"
key:
  - id: xfr-key
    algorithm: hmac-sha256
    secret: $SECRET
remote:
  - id: mds
    address: 127.0.0.1@$P
    key: xfr-key
acl:
  - id: notify-from-mds
    address: 127.0.0.1
    key: xfr-key
    action: notify
zone:
  - domain: $Z
    storage: "$TMP/knot"
    master: mds
    acl: notify-from-mds
    zonefile-sync: -1
    zonefile-load: none
    journal-content: all
EOF
knotd -c "$TMP/knot.conf" -d >"$TMP/knotd.out" 2>&1
on_exit 'kill "$(cat "$TMP/knot/knot.pid")"; sleep 0.3'
K() { dig +norec +time=2 +tries=1 -p "$KP" @127.0.0.1 "$@"; }
kserial() { K +short "$Z" SOA | awk '{print $3}'; }
ksynced() { [ "$(kserial)" = "$(serial)" ]; }
wait_for 10 test -s "$TMP/knot/knot.pid" || bail "knotd did not start: $(cat "$TMP/knotd.out")"
wait_for 15 ksynced
check_eq "knot: bootstrapped to the mds's serial" "$(serial)" "$(kserial)"
check_match "knot: by AXFR" 'AXFR, incoming.*finished' "$(cat "$TMP/knot/knot.log")"
check_match "knot: serves the bulk records" '"v=1 type=f mode=0644 size=77 ' "$(K +short "3-77.i.$Z" TXT)"

t0=$(date +%s%N)
nsup "update add fromknot.i.$Z 60 TXT \"v=1 new after bootstrap\""
wait_for 10 sh -c "dig +short +norec +time=1 +tries=1 -p $KP @127.0.0.1 fromknot.i.$Z TXT | grep -q bootstrap"
check "knot: answers a new record within 10 s" test $? -eq 0
diag "knot had the new record after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check_match "knot: NOTIFY came in" 'notify, incoming' "$(cat "$TMP/knot/knot.log")"
check_match "knot: and it fetched by IXFR" 'IXFR, incoming.*finished' "$(cat "$TMP/knot/knot.log")"
check_match "mds: NOTIFY acknowledged" "notify: $Z serial [0-9]+ acknowledged" "$(cat "$TMP/mds.log")"

nsup "update delete fromknot.i.$Z"
wait_for 10 sh -c "dig +norec +time=1 +tries=1 -p $KP @127.0.0.1 fromknot.i.$Z TXT | grep -q NXDOMAIN"
check "knot: a delete reaches it within 10 s" test $? -eq 0

pids=()
for i in $(seq 1 10); do
	{ echo "server 127.0.0.1 $P"; echo "zone $Z"
	  echo "update add par$i.i.$Z 60 TXT \"v=1 parallel $i\""; echo send; } |
		nsupdate -t 5 -k "$TMP/xfr.key" >/dev/null 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
wait_for 10 ksynced
check "knot: follows 10 concurrent updates to the same serial" ksynced
check_match "knot: has the last of them" 'parallel' "$(K +short "par10.i.$Z" TXT)"

# ---- the journal across a restart (Redis) ----------------------------------------
if [ "$store" = memory ]; then
	diag "redis-server not installed: journal durability not checked"
else
	sb=$(serial)
	nsup "update add beforerestart.i.$Z 60 TXT \"v=1 x\""
	wait_for 10 ksynced
	stop_mds
	check "mds: clean stop" test $? -eq 0
	start_mds
	check_eq "restart: serial kept" "$((sb + 1))" "$(serial)"
	out=$(D -k "$TMP/xfr.key" "$Z" IXFR="$sb")
	check_match "restart: IXFR from before the restart is a diff (journal reloaded)" \
		"^beforerestart\.i\.$Z" "$(rr_lines "$out")"
	check "restart: and not the whole zone" test "$(rr_lines "$out" | wc -l)" -lt 10
	nixfr=$(grep -c 'IXFR, incoming.*finished' "$TMP/knot/knot.log")
	nsup "update add afterrestart.i.$Z 60 TXT \"v=1 after the restart\""
	wait_for 10 sh -c "dig +short +norec +time=1 +tries=1 -p $KP @127.0.0.1 afterrestart.i.$Z TXT | grep -q restart"
	check "restart: knot still follows by NOTIFY" test $? -eq 0
	check "restart: by IXFR" test "$(grep -c 'IXFR, incoming.*finished' "$TMP/knot/knot.log")" -gt "$nixfr"
fi

check_match "no transfer aborted" '^$' "$(grep -E 'aborted|giving up' "$TMP/mds.log")"
stop_mds
check "mds: clean exit" test $? -eq 0

# ---- configuration errors ------------------------------------------------------
sed -e 's/^xfr_key = .*/xfr_key = nosuchkey/' -e 's/^store = .*/store = memory/' \
	"$TMP/mds.conf" >"$TMP/bad1.conf"
"$MDS" -c "$TMP/bad1.conf" --foreground >"$TMP/bad1.out" 2>&1
check_eq "xfr_key naming no key: exit 1" 1 $?
check_match "xfr_key naming no key: says so" 'xfr_key nosuchkey: no such key' "$(cat "$TMP/bad1.out")"
sed -e 's/^notify = .*/notify = 127.0.0.1/' -e 's/^store = .*/store = memory/' \
	"$TMP/mds.conf" >"$TMP/bad2.conf"
"$MDS" -c "$TMP/bad2.conf" --foreground >"$TMP/bad2.out" 2>&1
check_eq "notify without a port: exit 1" 1 $?
check_match "notify without a port: names it" "notify: address '127.0.0.1'" "$(cat "$TMP/bad2.out")"
done_testing
