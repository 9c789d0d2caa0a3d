# mds-query: dnsfs-mds against real DNS tools. Starts the mds (memory store)
# with zones/example.zone on a random 127.0.0.1 port and checks answers with
# dig/kdig, updates with nsupdate -k, raw packets with tests/integration/dnsprobe.py,
# and, with a real redis-server, that updates survive a restart.
. "$top_srcdir/tests/lib.sh"

MDS="$top_builddir/mds/dnsfs-mds"
PROBE="python3 $top_srcdir/tests/integration/dnsprobe.py"
Z=dnsfs.test.
for tool in dig kdig nsupdate python3; do
	command -v "$tool" >/dev/null || bail "$tool is not installed (tools/install-deps)"
done
[ -x "$MDS" ] || bail "$MDS is not built"

# A BIND key file with a fresh secret: keyfile NAME PATH
keyfile() {
	local secret
	secret=$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')
	printf 'key "%s" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$1" "$secret" >"$2"
}
keyfile dnsfs-test "$TMP/tsig.key"
keyfile dnsfs-test "$TMP/wrong.key"          # same name, other secret
keyfile intruder "$TMP/unknown.key"         # a name the mds does not know

# start_mds PORT ARGS...: run it in the foreground in the background.
mds_pid=
start_mds() {
	local port=$1; shift
	"$MDS" --foreground --listen "127.0.0.1:$port" --keyfile "$TMP/tsig.key" \
		--pidfile "$TMP/mds.pid" --log-level debug "$@" >>"$TMP/mds.log" 2>&1 &
	mds_pid=$!
	wait_for 10 dig +short +norec +time=1 +tries=1 -p "$port" @127.0.0.1 "$Z" SOA ||
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

P=$(free_port) || bail "no free port"
start_mds "$P" --store memory --zone "$Z" --zone-file "$top_srcdir/zones/example.zone"

D() { dig +norec +time=2 +tries=1 -p "$P" @127.0.0.1 "$@"; }
status() { D "$@" | sed -n 's/.*status: \([A-Z]*\).*/\1/p'; }
flags() { D "$@" | sed -n 's/.*;; flags: \([a-z ]*\);.*/\1/p'; }
serial() { D +short "$Z" SOA | awk '{print $3}'; }
# nsup KEYFILE|- COMMANDS...: one nsupdate run; output in $TMP/nsup$NSUP_TAG.out
nsup() {
	local key=$1 f="$TMP/nsup${NSUP_TAG:-}"; shift
	{ echo "server 127.0.0.1 $P"; echo "zone $Z"; printf '%s\n' "$@"; echo send; } >"$f.in"
	if [ "$key" = - ]; then
		nsupdate -t 5 "$f.in" >"$f.out" 2>&1
	else
		nsupdate -t 5 -k "$key" "$f.in" >"$f.out" 2>&1
	fi
}

# ---- plain answers --------------------------------------------------------
out=$(D "$Z" SOA)
check_match "SOA: NOERROR" 'status: NOERROR' "$out"
check_match "SOA: authoritative (aa)" 'flags:[a-z ]* aa' "$out"
check_match "SOA: one answer" 'ANSWER: 1,' "$out"
check_match "NS: at least one answer" 'ANSWER: [1-9]' "$(D "$Z" NS)"
check_match "question echoed as sent (case kept)" '^;DnSfS\.TeSt\.' "$(D DnSfS.TeSt. SOA)"

out=$(D "nope.$Z" A)
check_match "NXDOMAIN for a missing name" 'status: NXDOMAIN' "$out"
check_match "NXDOMAIN: aa" 'flags:[a-z ]* aa' "$out"
check_match "NXDOMAIN: SOA in authority" "AUTHORITY: 1" "$out"
check_match "NXDOMAIN: the SOA is the zone's" "^$Z[[:space:]].*SOA" "$out"
soa_ttl=$(D +noall +answer "$Z" SOA | awk '{print $2}')
soa_min=$(D +short "$Z" SOA | awk '{print $7}')
neg_ttl=$(D +noall +authority "nope.$Z" A | awk '$4 == "SOA" {print $2}')
[ "$soa_min" -lt "$soa_ttl" ] && want=$soa_min || want=$soa_ttl
check_eq "negative TTL = min(SOA TTL, MINIMUM)" "$want" "$neg_ttl"

check_eq "REFUSED outside the zone" REFUSED "$(status example.com. A)"
check_match "REFUSED has no aa" '^qr$|^qr ' "$(flags example.com. A)"
check_eq "NODATA: an existing name, another type" NOERROR "$(status "$Z" SRV)"
check_match "NODATA: SOA in authority, no answer" 'ANSWER: 0, AUTHORITY: 1' "$(D "$Z" SRV)"

# ---- updates --------------------------------------------------------------
s0=$(serial)
ino=1234
parent=1
h=$(printf %s hello.txt | sha256sum | cut -c1-32)
nsup "$TMP/tsig.key" "update add $ino.i.$Z 60 TXT \"v=1 type=f mode=0644 size=5\"" \
	"update add $h.$parent.d.$Z 60 CNAME $ino.i.$Z"
check "nsupdate -k: add dentry and inode" test $? -eq 0
s1=$(serial)
check_eq "SOA serial +1 per update" "$((s0 + 1))" "$s1"

out=$(D "$h.$parent.d.$Z" TXT)
check_match "dentry: CNAME in the answer" "CNAME[[:space:]]+$ino\.i\.$Z" "$out"
check_match "dentry: inode TXT in the same answer" 'TXT[[:space:]]+"v=1 type=f' "$out"
check_match "dentry: two answers" 'ANSWER: 2,' "$out"
check_eq "ENT is NODATA" NOERROR "$(status "$parent.d.$Z" TXT)"
check_match "ENT: SOA in authority" 'ANSWER: 0, AUTHORITY: 1' "$(D "d.$Z" A)"

nsup - "update add unsigned.$Z 60 TXT \"x\""
check_match "unsigned update REFUSED" 'REFUSED' "$(cat "$TMP/nsup.out")"
check_eq "unsigned update changed nothing" NXDOMAIN "$(status "unsigned.$Z" TXT)"
nsup "$TMP/wrong.key" "update add wrongkey.$Z 60 TXT \"x\""
check "wrong secret: nsupdate fails" test $? -ne 0
check_match "wrong secret: TSIG error reported" 'NOTAUTH|BADSIG|tsig|TSIG' "$(cat "$TMP/nsup.out")"
check_eq "wrong secret changed nothing" NXDOMAIN "$(status "wrongkey.$Z" TXT)"
nsup "$TMP/unknown.key" "update add unknownkey.$Z 60 TXT \"x\""
check_match "unknown key: refused with a TSIG error" 'NOTAUTH|BADKEY|tsig|TSIG' "$(cat "$TMP/nsup.out")"
check_eq "unknown key changed nothing" NXDOMAIN "$(status "unknownkey.$Z" TXT)"
nsup "$TMP/tsig.key" "prereq yxrrset nothing.$Z TXT" "update add prereq.$Z 60 TXT \"x\""
check_match "failed prerequisite: NXRRSET" 'NXRRSET' "$(cat "$TMP/nsup.out")"
check_eq "failed prerequisite changed nothing" NXDOMAIN "$(status "prereq.$Z" TXT)"
check_eq "refused updates left the serial alone" "$s1" "$(serial)"
nsup "$TMP/tsig.key" "update delete $h.$parent.d.$Z CNAME"
check "nsupdate -k: delete" test $? -eq 0
check_eq "deleted name is NXDOMAIN" NXDOMAIN "$(status "$h.$parent.d.$Z" CNAME)"
check_eq "serial +1 again" "$((s1 + 1))" "$(serial)"
nsup "$TMP/tsig.key" "update add $h.$parent.d.$Z 60 CNAME $ino.i.$Z"

# ---- transports -----------------------------------------------------------
check_match "TCP: dig +tcp" 'status: NOERROR' "$(D +tcp "$Z" SOA)"
out=$(kdig +tcp +keepopen -p "$P" @127.0.0.1 "$Z" SOA "$Z" NS "nope.$Z" A 2>&1)
check_match "kdig +tcp +keepopen: NXDOMAIN among several" 'NXDOMAIN' "$out"
check_eq "kdig +tcp +keepopen: three answers" 3 "$(printf '%s\n' "$out" | grep -c -- '->>HEADER<<-')"
check_match "TCP pipelining: 8 queries, one connection" 'answered ok' "$($PROBE pipeline "$P" 8 "$Z")"

out=$($PROBE mixed "$P" "$TMP/tsig.key" "$Z")
check_eq "TCP: a query after an UPDATE is answered first, each with its id" \
	"order 1002:0 1001:0" "$out"
check_match "the pipelined UPDATE was applied" '"m"' "$(D +short "mixed.$Z" TXT)"
$PROBE update_rst "$P" "$TMP/tsig.key" 40 >/dev/null 2>&1
check "connections reset with updates pending: the mds is alive" kill -0 "$mds_pid"
check_match "connections reset with updates pending: still answering" 'status: NOERROR' \
	"$(D +tcp "$Z" SOA)"

txt=""
for i in $(seq 1 12); do
	txt="$txt|update add big.$Z 60 TXT \"$(printf 'chunk%02d-%0190d' "$i" 0)\""
done
IFS='|' read -r -a cmds <<<"${txt#|}"
nsup "$TMP/tsig.key" "${cmds[@]}"
check "large TXT rrset added" test $? -eq 0
out=$(D +ignore +bufsize=4096 "big.$Z" TXT)
check_match "large rrset over UDP: TC set" 'flags:[a-z ]* tc' "$out"
check_match "large rrset over UDP: no answer records" 'ANSWER: 0,' "$out"
msgsize=$(printf '%s\n' "$out" | sed -n 's/.*MSG SIZE  rcvd: \([0-9]*\).*/\1/p')
check "large rrset over UDP: reply <= 1232 bytes" test "${msgsize:-99999}" -le 1232
out=$(D "big.$Z" TXT)
check_match "dig retries over TCP after TC" 'ANSWER: 12,' "$out"
out=$(D +noedns +ignore "$Z" SOA)
check_match "no EDNS: answer without OPT" 'status: NOERROR' "$out"

# ---- EDNS, opcodes, classes ----------------------------------------------
check_eq "EDNS version 1: BADVERS" BADVERS "$(status +edns=1 +noednsnegotiation "$Z" SOA)"
check_match "EDNS: OPT answered with 1232" 'udp: 1232' "$(D +edns=0 "$Z" SOA)"
check_match "unknown opcode: NOTIMP" 'rcode 4$' "$($PROBE opcode "$P" 3)"
check_match "NOTIFY to the primary: REFUSED" 'rcode 5$' "$($PROBE opcode "$P" 4)"
check_match "unsigned AXFR: refused (transfers need a TSIG key)" 'REFUSED|Transfer failed' "$(D "$Z" AXFR 2>&1)"
check_match "version.bind CH TXT" '"dnsfs-mds ' "$(D +short CH TXT version.bind)"
check_eq "other CH names REFUSED" REFUSED "$(status CH TXT authors.bind)"
check_match "QDCOUNT 0: FORMERR" 'rcode 1$' "$($PROBE rcode "$P" qd0)"
check_match "QDCOUNT 2: FORMERR" 'rcode 1$' "$($PROBE rcode "$P" qd2)"
check_match "counts larger than the packet: FORMERR" 'rcode 1$' "$($PROBE rcode "$P" counts)"
check_match "pointer loop in the question: FORMERR" 'rcode 1$' "$($PROBE rcode "$P" loop)"
check_match "question cut short: FORMERR" 'rcode 1$' "$($PROBE rcode "$P" cut)"

# ---- placement ------------------------------------------------------------
cmds=()
for n in 1 2 3 4; do
	cmds+=("update add _blockd._tcp.$Z 60 SRV 0 $((n * 10)) 8080 blockd-$n.n.$Z"
	       "update add blockd-$n.n.$Z 60 A 127.0.0.$n")
done
nsup "$TMP/tsig.key" "${cmds[@]}"
check "blockd SRV records added" test $? -eq 0
hash=$(printf %s some-block | sha256sum | cut -c1-64)
out=$(D +short "${hash:0:32}.${hash:32:32}.place.$Z" TXT)
check_match "place: TXT lists the ranked nodes" "^\"nodes=blockd-[1-4]\.n\.$Z,blockd-[1-4]\.n\.$Z,blockd-[1-4]\.n\.$Z,blockd-[1-4]\.n\.$Z rep=3 refs=0\"$" "$out"
check_eq "place: another hash, another answer is still 4 nodes" 4 \
	"$(D +short "$(printf '%032d' 0).${hash:32:32}.place.$Z" TXT | tr ',' '\n' | grep -c blockd-)"
check_eq "place: malformed hash label is NXDOMAIN" NXDOMAIN "$(status "xyz.${hash:32:32}.place.$Z" TXT)"
check_eq "place: A for a block name is NODATA" NOERROR "$(status "${hash:0:32}.${hash:32:32}.place.$Z" A)"
check_match "SRV answer carries the nodes' addresses" 'ADDITIONAL: [2-9]' "$(D "_blockd._tcp.$Z" SRV)"

# ---- malformed traffic ----------------------------------------------------
$PROBE garbage "$P" 7 >/dev/null 2>&1
check "malformed burst: the mds is alive" kill -0 "$mds_pid"
check_match "malformed burst: still answering" 'status: NOERROR' "$(D "$Z" SOA)"
check_match "malformed burst: still answering TCP" 'status: NOERROR' "$(D +tcp "$Z" SOA)"

# ---- signals --------------------------------------------------------------
keyfile dnsfs-test "$TMP/tsig.key.new"
cp "$TMP/tsig.key" "$TMP/tsig.key.old"
mv "$TMP/tsig.key.new" "$TMP/tsig.key"
kill -HUP "$mds_pid"
sleep 0.3
nsup "$TMP/tsig.key" "update add afterhup.$Z 60 TXT \"x\""
check "SIGHUP: the new key works" test $? -eq 0
nsup "$TMP/tsig.key.old" "update add oldkey.$Z 60 TXT \"x\""
check_eq "SIGHUP: the old key is gone" NXDOMAIN "$(status "oldkey.$Z" TXT)"
check "pid file written" test "$(cat "$TMP/mds.pid" 2>/dev/null)" = "$mds_pid"
stop_mds
check "SIGTERM: clean exit" test $? -eq 0
check "SIGTERM: pid file removed" test ! -e "$TMP/mds.pid"

"$MDS" --bogus-flag >/dev/null 2>&1
check_eq "bad argument: exit 2" 2 $?
"$MDS" --foreground --store memory --listen 127.0.0.1:notaport --zone "$Z" \
	--zone-file "$top_srcdir/zones/example.zone" >"$TMP/bad.out" 2>&1
check_eq "bad listen address: exit 1" 1 $?
check_match "bad listen address: says which" 'notaport' "$(cat "$TMP/bad.out")"

# ---- a config file, detached --------------------------------------------
P2=$(free_port)
cat >"$TMP/mds.conf" <<EOF
# dnsfs-mds test configuration
listen = 127.0.0.1:$P2
store = memory
zone = $Z $top_srcdir/zones/example.zone
keyfile = $TMP/tsig.key
tcp_max_connections = 3
tcp_idle_timeout = 1s   # short, to see it work
version = ""
log_level = info
EOF
"$MDS" -c "$TMP/mds.conf" --pidfile "$TMP/mds2.pid" >>"$TMP/mds2.log" 2>&1
check_eq "detached start: exit 0 once serving" 0 $?
pid2=$(cat "$TMP/mds2.pid" 2>/dev/null)
[ -n "$pid2" ] && on_exit "kill $pid2"
check_match "detached: answers at once" 'status: NOERROR' \
	"$(dig +norec +time=2 +tries=1 -p "$P2" @127.0.0.1 "$Z" SOA)"
check_eq "config: version = \"\" refuses version.bind" REFUSED \
	"$(dig +norec +time=2 +tries=1 -p "$P2" @127.0.0.1 CH TXT version.bind | sed -n 's/.*status: \([A-Z]*\).*/\1/p')"
check_eq "tcp_max_connections: the one too many is closed" \
	"limit 3: kept True, extra closed True" "$($PROBE conns "$P2" 3)"
check_eq "tcp_idle_timeout: an idle connection is closed, not too early" \
	"idle: closed early False, closed later True" "$($PROBE idle "$P2" 1)"
[ -n "$pid2" ] && kill -TERM "$pid2"
wait_for 10 test ! -e "$TMP/mds2.pid"
check "detached: SIGTERM stops it and removes the pid file" test ! -e "$TMP/mds2.pid"
printf 'store = memory\nbogus_key = 1\n' >"$TMP/bad.conf"
"$MDS" -c "$TMP/bad.conf" --foreground >"$TMP/bad.out" 2>&1
check_eq "config: unknown key is exit 1" 1 $?
check_match "config: unknown key named with its line" 'bad.conf:2.*bogus_key' "$(cat "$TMP/bad.out")"

# ---- durability with Redis ------------------------------------------------
if ! command -v redis-server >/dev/null; then
	diag "redis-server not installed: durability not checked"
else
	sock="$TMP/redis.sock"
	redis-server --port 0 --unixsocket "$sock" --dir "$TMP" --appendonly yes \
		--appendfsync always --save '' --daemonize yes --pidfile "$TMP/redis.pid" \
		--logfile "$TMP/redis.log" >/dev/null
	# SIGKILL: a private test Redis has nothing to save, and a SIGTERM'd one
# can race the removal of $TMP and refuse to exit.
on_exit 'kill -9 "$(cat "$TMP/redis.pid")"'
	wait_for 10 test -S "$sock" || bail "redis-server did not start"
	P=$(free_port)
	start_mds "$P" --store "unix:$sock" --zone "$Z" --zone-file "$top_srcdir/zones/example.zone"
	nsup "$TMP/tsig.key" "update add durable.$Z 60 TXT \"kept\""
	check "redis: update acknowledged" test $? -eq 0
	s_before=$(serial)
	stop_mds
	start_mds "$P" --store "unix:$sock" --zone "$Z"
	check_match "redis: update survives a restart" '"kept"' "$(D +short "durable.$Z" TXT)"
	check_eq "redis: serial survives a restart" "$s_before" "$(serial)"

	# Redis stops answering with two updates of one rrset in flight, then
	# dies: both fail, and the zone is back where it was (undone newest first).
	redis_pid=$(cat "$TMP/redis.pid")
	kill -STOP "$redis_pid"
	NSUP_TAG=1 nsup "$TMP/tsig.key" "update add race.$Z 60 TXT \"one\"" &
	n1=$!
	sleep 0.3
	NSUP_TAG=2 nsup "$TMP/tsig.key" "update delete race.$Z TXT" \
		"update add race.$Z 60 TXT \"two\"" &
	n2=$!
	sleep 0.5
	# (readers see an update before it is durable: docs/OPERATIONS.md)
	check_match "setup: the second update is applied and pending" '"two"' \
		"$(D +short "race.$Z" TXT)"
	kill -KILL "$redis_pid"
	wait "$n1"; r1=$?
	wait "$n2"; r2=$?
	check "redis died: both pending updates failed" test "$r1" -ne 0 -a "$r2" -ne 0
	check_match "redis died: SERVFAIL reported" 'SERVFAIL' "$(cat "$TMP/nsup1.out" "$TMP/nsup2.out")"
	check_eq "redis died: both updates undone in memory" NXDOMAIN "$(status "race.$Z" TXT)"
	check_eq "redis died: serial back where it was" "$s_before" "$(serial)"
	nsup "$TMP/tsig.key" "update add after.$Z 60 TXT \"x\""
	check_match "redis gone: later updates SERVFAIL" 'SERVFAIL' "$(cat "$TMP/nsup.out")"
	check_match "redis gone: queries still answered" 'status: NOERROR' "$(D "$Z" SOA)"
	stop_mds
fi

done_testing
