# rebalance: `dnsfsctl node` and `dnsfsctl rebalance` on a real cluster of 4
# block daemons. Files are stored with `block put` and committed as inode
# records with nsupdate (so the zone references them); a fifth node is added
# and rebalance moves about 1/N of the copies; a node is drained, emptied by
# rebalance while files are read, and removed; every file verifies throughout.
. "$top_srcdir/tests/lib.sh"

for tool in dig nsupdate cmp; do
	command -v "$tool" >/dev/null || bail "$tool is not installed (tools/install-deps)"
done

C="$TMP/c"
on_exit '"$DNSFSCTL" cluster down --dir "$C"'
"$DNSFSCTL" cluster up --dir "$C" --blockd 4 --no-mount >"$TMP/up.out" 2>&1 ||
	{ sed 's/^/# /' "$TMP/up.out"; bail "cluster up failed"; }
. "$C/cluster.env"
Z=$DNSFS_ZONE
D() { dig +norec +time=2 +tries=2 -p "$DNSFS_MDS_PORT" @"$DNSFS_MDS_ADDR" "$@"; }
B() { "$DNSFSCTL" block "$1" --dir "$C" "${@:2}"; }
N() { "$DNSFSCTL" node "$@" --dir "$C"; }

# Add a TXT record of logical text $2 at owner $1, cut into strings of 250
# bytes (strings concatenate, so a token may span two).
add_txt() {
	local txt=$2 strs=""
	while [ -n "$txt" ]; do strs="$strs \"${txt:0:250}\""; txt=${txt:250}; done
	printf 'server %s %s\nzone %s\nupdate add %s 1 TXT %s\nsend\n' \
		"$DNSFS_MDS_ADDR" "$DNSFS_MDS_PORT" "$Z" "$1" "$strs" |
		nsupdate -k "$DNSFS_TSIG_KEYFILE"
}
refs_of() { tr ' ' '\n' <<<"$1" | grep -E "^($2)=" | tr '\n' ' ' | sed 's/ $//'; }
INODE="v=1 type=f mode=0644 uid=0 gid=0 nlink=1 mtime=0.000000000 ctime=0.000000000 atime=0.000000000 ver=1"
# Commit a ref line of `block put` as inode <ino>.
commit() {
	local size
	size=$(tr ' ' '\n' <<<"$2" | sed -n 's/^size=//p')
	add_txt "$1.i.$Z" "${INODE/nlink=1/nlink=1 size=$size} $(refs_of "$2" 'rep|ec|b|s')"
}

verify_all() {
	local bad=0 i
	for i in $(seq 1 "$nfiles"); do
		B get "$(cat "$TMP/ref$i")" >"$TMP/back" 2>"$TMP/err" && cmp -s "$TMP/f$i" "$TMP/back" ||
			{ bad=$((bad + 1)); sed 's/^/# /' "$TMP/err"; }
	done
	echo "$bad"
}

# ---- files -------------------------------------------------------------------
nfiles=0
for i in $(seq 1 40); do           # 40 one-block files, 3 copies each
	nfiles=$((nfiles + 1))
	head -c $((20000 + i * 997)) /dev/urandom >"$TMP/f$nfiles"
done
for i in 1 2 3; do                 # multi-block files
	nfiles=$((nfiles + 1))
	head -c $((2097152 + i * 4099)) /dev/urandom >"$TMP/f$nfiles"
done
first_ec=$((nfiles + 1))
for i in 1 2; do                   # 2+1 stripes
	nfiles=$((nfiles + 1))
	head -c $((1500000 + i * 64)) /dev/urandom >"$TMP/f$nfiles"
done
fail=0
for i in $(seq 1 "$nfiles"); do
	if [ "$i" -ge "$first_ec" ]; then opt="--ec 2+1"; else opt="--rep 3"; fi
	B put $opt "$TMP/f$i" >"$TMP/ref$i" 2>"$TMP/err" && commit $((100 + i)) "$(cat "$TMP/ref$i")" ||
		{ fail=$((fail + 1)); sed 's/^/# /' "$TMP/err"; }
done
check_eq "$nfiles files stored and committed as inode records" 0 "$fail"
# One more with rep=2 whose refs are in a block-map page: rebalance must take
# the copies from the inode, not the page.
nfiles=$((nfiles + 1))
head -c 2500000 /dev/urandom >"$TMP/f$nfiles"
B put --rep 2 "$TMP/f$nfiles" >"$TMP/ref$nfiles"
ino=$((100 + nfiles))
add_txt "$ino.i.$Z" "${INODE/nlink=1/nlink=1 size=2500000} rep=2 pages=1"
add_txt "0.$ino.m.$Z" "v=1 page=0 $(refs_of "$(cat "$TMP/ref$nfiles")" b)"
check_match "a rep=2 file with a block-map page is in the zone" '^v=1page=0b=0:.*b=2097152:' "$(D +tcp +short "0.$ino.m.$Z" TXT | tr -d '" ')"
check_match "the zone holds them" 'ec=2\+1s=' "$(D +tcp +short "$((100 + first_ec)).i.$Z" TXT | tr -d '" ')"
check_eq "every file verifies" 0 "$(verify_all)"

# ---- node ls / add -----------------------------------------------------------
N ls >"$TMP/ls" 2>&1
check_eq "node ls lists 4 active nodes" 4 "$(grep -c ' active$' "$TMP/ls")"
out=$("$DNSFSCTL" rebalance --dir "$C" 2>"$TMP/err")
check_match "rebalance of a balanced cluster copies nothing" ' 0 copied .* 0 deleted.* 0 lost, 0 failed' "$out"
N add >"$TMP/add" 2>&1
check_match "node add starts and registers blockd-5" "^added blockd-5\\.n\\.$Z 127\\.0\\.0\\.1:[0-9]+ weight 10" "$(cat "$TMP/add")"
check_eq "dig _blockd._tcp SRV lists 5 nodes" 5 "$(D +short "_blockd._tcp.$Z" SRV | wc -l)"
check_eq "blockd-5 has an A record" 127.0.0.1 "$(D +short "blockd-5.n.$Z" A)"
check_eq "cluster.env counts 5 block daemons" "DNSFS_BLOCKD_COUNT=5" "$(grep -o '^DNSFS_BLOCKD_COUNT=[0-9]*' "$C/cluster.env" | tr -d "'\"")"

# ---- rebalance after add -------------------------------------------------------
out=$("$DNSFSCTL" rebalance --dir "$C" 2>"$TMP/err") ||
	{ not_ok "rebalance after add"; sed 's/^/# /' "$TMP/err"; }
diag "$out"
frac=$(echo "$out" | sed -n 's/.*copied (\([0-9.]*\) of the copies).*/\1/p')
check "rebalance moved roughly 1/N of the copies (0.05 < $frac < 0.5)" \
	awk -v f="$frac" 'BEGIN { exit !(f > 0.05 && f < 0.5) }'
check_match "copies left the old nodes and nothing was lost" ' [1-9][0-9]* deleted.* 0 lost, 0 failed' "$out"
check_match "progress was reported" '^rebalance: copy: [0-9]+/[0-9]+ blocks' "$(cat "$TMP/err")"
check "blockd-5 holds blocks now" test -n "$(find "$C/blockd-5" -type f -name '[0-9a-f]*' | head -1)"
check_eq "every file verifies after the rebalance" 0 "$(verify_all)"
out=$("$DNSFSCTL" rebalance --dir "$C" 2>/dev/null)
check_match "a second rebalance has nothing to do" ' 0 copied .* 0 deleted' "$out"

# ---- drain and remove ----------------------------------------------------------
N drain blockd-2 >"$TMP/drain" 2>&1
check_match "node drain sets weight 0" "^0 0 [0-9]+ blockd-2\\.n\\.$Z\$" "$(D +short "_blockd._tcp.$Z" SRV)"
check_eq "one SRV record per node still" 5 "$(D +short "_blockd._tcp.$Z" SRV | wc -l)"
check_match "node ls shows it draining" 'blockd-2\..* 0  draining' "$(N ls)"
N remove blockd-2 >"$TMP/rm" 2>&1
check_match "remove refuses while it holds referenced blocks" 'still holds [0-9]+ referenced blocks' "$(cat "$TMP/rm")"
# Rebalance slowly (2 MB/s) while files are read and new ones written.
"$DNSFSCTL" rebalance --dir "$C" --rate 2 >"$TMP/rb.out" 2>"$TMP/rb.err" &
rb=$!
t0=$(date +%s.%N)
reads=0 rbad=0 writes=0 wbad=0
while kill -0 "$rb" 2>/dev/null; do
	i=$((reads % nfiles + 1))
	B get "$(cat "$TMP/ref$i")" 2>"$TMP/rerr" >"$TMP/rback"
	cmp -s "$TMP/f$i" "$TMP/rback" || { rbad=$((rbad + 1)); diag "read of file $i: $(cat "$TMP/rerr")"; }
	reads=$((reads + 1))
	if [ $((reads % 25)) = 0 ]; then      # and a new file now and then
		n=$((nfiles + 1))
		head -c $((300000 + reads)) /dev/urandom >"$TMP/f$n"
		if B put --rep 3 "$TMP/f$n" >"$TMP/ref$n" 2>"$TMP/rerr" && commit $((100 + n)) "$(cat "$TMP/ref$n")"; then
			nfiles=$n writes=$((writes + 1))
		else
			wbad=$((wbad + 1)); diag "write: $(cat "$TMP/rerr")"
		fi
	fi
done
wait "$rb"
check_eq "rebalance after drain succeeds" 0 $?
t1=$(date +%s.%N)
mib=$(sed -n 's/.* \([0-9.]*\) MiB moved.*/\1/p' "$TMP/rb.out")
check "--rate 2 bounds it: $mib MiB took $(echo "$t1 - $t0" | bc) s (>= 90% of MiB*1.048576/2)" \
	awk -v m="$mib" -v t="$(echo "$t1 - $t0" | bc)" 'BEGIN { exit !(m > 1 && t >= 0.9 * m * 1.048576 / 2) }'
diag "$(cat "$TMP/rb.out") ($reads reads during it)"
check_eq "$reads reads during the rebalance all verified" 0 "$rbad"
check_eq "$writes writes during the rebalance all succeeded" 0 "$wbad"
check "some writes happened during it" test "$writes" -gt 0
check_match "it moved the drained node's copies, losing none" ' [1-9][0-9]* copied .* 0 lost, 0 failed' "$(cat "$TMP/rb.out")"
N remove blockd-2 >"$TMP/rm" 2>&1
check_match "node remove succeeds once it holds nothing" "^removed blockd-2\\.n\\.$Z" "$(cat "$TMP/rm")"
srv=$(D +short "_blockd._tcp.$Z" SRV)
check "dig _blockd._tcp SRV no longer lists blockd-2" test -z "$(echo "$srv" | grep blockd-2)"
check_eq "4 nodes left" 4 "$(echo "$srv" | wc -l)"
check_eq "blockd-2 has no A record" "" "$(D +short "blockd-2.n.$Z" A)"
kill "$(cat "$C/blockd-2.pid")"
check_eq "every file verifies without blockd-2" 0 "$(verify_all)"
out=$("$DNSFSCTL" rebalance --dir "$C" 2>/dev/null)
check_match "every block is at full redundancy on the 4 nodes" ' 0 copied .* 0 lost, 0 failed' "$out"

# ---- cluster up with the changed node set ------------------------------------------
"$DNSFSCTL" cluster up --dir "$C" --no-mount >"$TMP/up2.out" 2>&1
check_eq "cluster up keeps working" 0 $?
check_match "it registers the 4 nodes" '^blockd +4 block daemons' "$(cat "$TMP/up2.out")"
check "and does not start the removed one" test -z "$(grep '^blockd-2 ' "$TMP/up2.out")"
check_match "blockd-5 runs" '^blockd-5 +running' "$(cat "$TMP/up2.out")"
check_eq "SRV still lists 4 nodes" 4 "$(D +short "_blockd._tcp.$Z" SRV | wc -l)"
"$DNSFSCTL" cluster status --dir "$C" >/dev/null 2>&1
check_eq "cluster status is clean" 0 $?

done_testing
