# mds-cluster: the mds as `dnsfsctl cluster up` runs it (Redis store, the
# cluster's TSIG key), checked the way an admin would: dig, nsupdate -k,
# kdig AXFR, a burst of malformed packets, and kill -9 of the mds under an
# update load followed by `cluster up` again, losing no acknowledged update.
. "$top_srcdir/tests/lib.sh"

PROBE="python3 $top_srcdir/tests/integration/dnsprobe.py"
for tool in dig kdig nsupdate python3 redis-cli; do
	command -v "$tool" >/dev/null || bail "$tool is not installed (tools/install-deps)"
done

C="$TMP/c"
on_exit '"$DNSFSCTL" cluster down --dir "$C"'
"$DNSFSCTL" cluster up --dir "$C" --no-mount >"$TMP/up.out" 2>&1 ||
	{ sed 's/^/# /' "$TMP/up.out"; bail "cluster up failed"; }
. "$C/cluster.env"
Z=$DNSFS_ZONE P=$DNSFS_MDS_PORT A=$DNSFS_MDS_ADDR K=$DNSFS_TSIG_KEYFILE

D() { dig +norec +time=2 +tries=2 -p "$P" @"$A" "$@"; }
status() { D "$@" | sed -n 's/.*status: \([A-Z]*\).*/\1/p'; }
flags() { D "$@" | sed -n 's/.*;; flags: \([a-z ]*\);.*/\1/p'; }
serial() { D +short "$Z" SOA | awk '{print $3}'; }
txt() { D +short "$1" TXT; }
# nsup KEY|- COMMANDS...: one signed (or unsigned) UPDATE; exit status of nsupdate.
nsup() {
	local key=$1; shift
	{ echo "server $A $P"; echo "zone $Z"; printf '%s\n' "$@"; echo send; } >"$TMP/nsup.in"
	if [ "$key" = - ]; then nsupdate -t 5 "$TMP/nsup.in"; else nsupdate -t 5 -k "$key" "$TMP/nsup.in"; fi
}

check_match "cluster status lists the mds running" '^mds +running' \
	"$("$DNSFSCTL" cluster status --dir "$C")"
check_match "SOA: authoritative answer" '\baa\b' "$(flags "$Z" SOA)"
check_eq "SOA: NOERROR" NOERROR "$(status "$Z" SOA)"
check_match "NS: authoritative, names the mds host" "ns1\\.$Z" "$(D +short "$Z" NS)"
check_match "NS: aa" '\baa\b' "$(flags "$Z" NS)"
check_match "root inode 1.i is a directory" 'type=d' "$(txt "1.i.$Z")"

# Signed updates: add, then delete; the serial moves once per update.
s0=$(serial)
check "nsupdate -k: add a TXT record" nsup "$K" "update add t1.$Z 60 TXT \"hello\"" 
check_eq "the record is served" '"hello"' "$(txt "t1.$Z")"
check_eq "serial +1 after one update" $((s0 + 1)) "$(serial)"
check "nsupdate -k: delete it" nsup "$K" "update delete t1.$Z TXT"
check_eq "deleted: NXDOMAIN" NXDOMAIN "$(status "t1.$Z" TXT)"

# A failing prerequisite leaves the zone as it was.
nsup "$K" "update add keep.$Z 60 TXT \"v1\"" >/dev/null 2>&1
s1=$(serial)
out=$(nsup "$K" "prereq nxdomain keep.$Z" "update add keep.$Z 60 TXT \"v2\"" "update add other.$Z 60 TXT \"x\"" 2>&1)
check_match "failed prerequisite: YXDOMAIN" 'YXDOMAIN' "$out"
check_eq "failed prerequisite: record unchanged" '"v1"' "$(txt "keep.$Z")"
check_eq "failed prerequisite: nothing else added" NXDOMAIN "$(status "other.$Z" TXT)"
check_eq "failed prerequisite: serial unchanged" "$s1" "$(serial)"
out=$(nsup "$K" "prereq yxrrset keep.$Z TXT \"v1\"" "update delete keep.$Z TXT" "update add keep.$Z 60 TXT \"v2\"" 2>&1)
check_eq "value-dependent prerequisite (compare-and-swap) applies" '"v2"' "$(txt "keep.$Z")"

# Unsigned updates are refused and change nothing.
out=$(nsup - "update add evil.$Z 60 TXT \"x\"" 2>&1)
check_match "unsigned update: REFUSED" 'REFUSED' "$out"
check_eq "unsigned update: nothing added" NXDOMAIN "$(status "evil.$Z" TXT)"

# A directory entry: one query returns the CNAME and the inode TXT.
nsup "$K" "update add 2.i.$Z 1 TXT \"v=1 type=f mode=0644 uid=0 gid=0 nlink=1 size=0 mtime=0.000000000 ctime=0.000000000 atime=0.000000000 ver=1\"" \
	"update add 0123456789abcdef0123456789abcdef.1.d.$Z 1 CNAME 2.i.$Z" >/dev/null 2>&1
ans=$(D "0123456789abcdef0123456789abcdef.1.d.$Z" TXT)
check_match "dentry query: CNAME in the answer" "CNAME[[:space:]]+2\\.i\\.$Z" "$ans"
check_match "dentry query: inode TXT in the same answer" 'TXT[[:space:]]+"v=1 type=f' "$ans"

# Zone transfer with the key includes what the updates added.
axfr=$(kdig -k "$C/tsig.kdig" +tcp -p "$P" @"$A" "$Z" AXFR 2>&1)
check_match "kdig AXFR with the key: has the updated record" "keep\\.$Z.*TXT.*\"v2\"" "$axfr"
check_match "kdig AXFR unsigned: refused" 'REFUSED|failed' "$(kdig +tcp -p "$P" @"$A" "$Z" AXFR 2>&1)"

# Hostile packets leave the server answering.
$PROBE garbage "$P" 11 >/dev/null 2>&1
check_eq "after a burst of malformed packets: still answering" NOERROR "$(status "$Z" SOA)"

# kill -9 the mds while updates are being acknowledged, then `cluster up`:
# every update that nsupdate saw acknowledged (exit 0) must be there.
mds_pid=$(cat "$C/mds.pid")
: >"$TMP/acked"
writer() { # writer ID: sequential signed updates until one fails, each acked name logged
	local i=0
	while [ $i -lt 400 ]; do
		i=$((i + 1))
		printf 'server %s %s\nzone %s\nupdate add w%s-%d.%s 60 TXT "%d"\nsend\n' \
			"$A" "$P" "$Z" "$1" "$i" "$Z" "$i" >"$TMP/w$1.in"
		nsupdate -t 2 -k "$K" "$TMP/w$1.in" >/dev/null 2>&1 || break
		echo "w$1-$i" >>"$TMP/acked"
	done
}
for w in 1 2 3 4; do writer "$w" & done
sleep 1.5
kill -9 "$mds_pid"
wait
nacked=$(wc -l <"$TMP/acked")
check "updates were acknowledged before the kill ($nacked)" test "$nacked" -gt 0
check "cluster status notices the dead mds (exit 3)" sh -c '"$0" cluster status --dir "$1" >/dev/null; [ $? -eq 3 ]' "$DNSFSCTL" "$C"
"$DNSFSCTL" cluster up --dir "$C" --no-mount >"$TMP/up2.out" 2>&1
check_match "cluster up restarts only the mds" '^mds +started' "$(cat "$TMP/up2.out")"
missing=0
while read -r name; do
	[ "$(status "$name.$Z" TXT)" = NOERROR ] || { missing=$((missing + 1)); diag "lost: $name"; }
done <"$TMP/acked"
check_eq "after kill -9 and restart: all $nacked acknowledged updates present" 0 "$missing"
check_eq "the earlier compare-and-swap result survived" '"v2"' "$(txt "keep.$Z")"

done_testing
