# fuse-bigdir: huge directories on a real mount. DNSFS_BIGDIR_N files
# (default 10000, about 45 s in all; 100000 is the design figure: 212 s of
# creates and 6.5 minutes in all on a 2-core machine) are
# created in one directory, which splits into listing buckets of bounded
# size; readdir lists each exactly once (split across many FUSE readdir
# calls), the per-create cost does not grow (timing as TAP diagnostics),
# half are unlinked and the listing is exact again, on a second mount too.
# Then two mounts create 2 x 2000 names in one directory concurrently
# (forcing splits under contention) while a third listing runs, every name
# is listed once, and removing them all merges the buckets back to one.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/fuse-lib.sh"
fuse_setup 1 dig python3 comm

N=${DNSFS_BIGDIR_N:-10000}
P=${DNSFS_BIGDIR_CONC:-2000}
PY="python3 $top_srcdir/tests/integration/bigdir.py"
M2="$TMP/mnt2"
mkdir -p "$M2"
on_exit 'fusermount3 -u "$M2"'
mount2() {
	"$MOUNT" -f --env "$C/cluster.env" "$M2" >>"$TMP/mount2.log" 2>&1 &
	wait_for 10 sh -c "grep -q ' $M2 fuse' /proc/mounts"
}
do_mount || { sed 's/^/# /' "$TMP/mount.log"; bail "dnsfs-mount did not mount"; }
mount2 || { sed 's/^/# /' "$TMP/mount2.log"; bail "the second dnsfs-mount did not mount"; }

# buckets= of a directory inode, and the listing RRs of its bucket b (TCP)
buckets() { D +short "$(stat -c %i "$1").i.$Z" TXT | tr -d '"' | sed -n 's/.*buckets=\([0-9]*\).*/\1/p'; }
bucket_rrs() { D +tcp +short "$2.$1.l.$Z" TXT; }

# ---- N creates --------------------------------------------------------------
diag "N=$N (DNSFS_BIGDIR_N)"
check "mkdir big" mkdir "$M/big"
start=$(date +%s.%N)
out=$($PY create "$M/big" f 0 "$N" 2>&1)
rc=$?
diag "$out"
diag "$N creates: $(echo "$(date +%s.%N) - $start" | bc) s"
check_eq "$N creates, none failed" 0 "$rc"

nb=$(buckets "$M/big")
diag "big has $nb buckets, size $(stat -c %s "$M/big") bytes of entries"
check "the directory split into buckets (buckets=$nb > $((N / 400)))" test "${nb:-0}" -gt $((N / 400))
# every bucket over TCP: the entries add up to N, no bucket near 64 KiB
ino=$(stat -c %i "$M/big")
total=0 maxb=0 maxrr=0
for ((b = 0; b < nb; b++)); do
	bucket_rrs "$ino" "$b" >"$TMP/bucket"
	n=$(grep -c . "$TMP/bucket")
	sz=$(wc -c <"$TMP/bucket")
	total=$((total + n))
	[ "$sz" -gt "$maxb" ] && maxb=$sz
	[ "$n" -gt "$maxrr" ] && maxrr=$n
done
diag "largest bucket: $maxrr entries, $maxb bytes as dig prints them"
check_eq "dig: the buckets hold $N entries" "$N" "$total"
check "dig: every bucket is bounded (< 24 KiB text)" test "$maxb" -lt 24576
check_eq "dig: no listing RR past the last bucket" "" "$(bucket_rrs "$ino" "$nb")"
# one lookup is one query, unchanged: the dentry name
check_match "dig: lookup(big, f0000007) is the dentry CNAME + inode" 'v=1 type=f' \
	"$(D +short "$(printf f0000007 | sha256sum | cut -c1-32).$ino.d.$Z" TXT)"

# ---- readdir ----------------------------------------------------------------
$PY names f 0 "$N" | sort >"$TMP/want"
start=$(date +%s.%N)
ls -f "$M/big" >"$TMP/ls" 2>"$TMP/ls.err"
diag "ls -f of $N entries: $(echo "$(date +%s.%N) - $start" | bc) s"
check_eq "ls -f: no errors" "" "$(cat "$TMP/ls.err")"
check_eq "ls -f: no name twice" "" "$(sort "$TMP/ls" | uniq -d | head -5)"
check_eq "ls -f: $N entries + . and .." "$((N + 2))" "$(wc -l <"$TMP/ls")"
check_eq "ls -f: exactly the names created" "" \
	"$(grep -v '^\.\.\?$' "$TMP/ls" | sort | comm -3 - "$TMP/want" | head -5)"
check_eq "python listdir (another buffer size): same names" "" \
	"$(python3 -c 'import os,sys; print("\n".join(os.listdir(sys.argv[1])))' "$M/big" | sort | comm -3 - "$TMP/want" | head -5)"
check_eq "the second mount lists the same" "" \
	"$(ls -f "$M2/big" | grep -v '^\.\.\?$' | sort | comm -3 - "$TMP/want" | head -5)"
check_eq "stat through the second mount" "0 regular empty file" \
	"$(stat -c '%s %F' "$M2/big/f$(printf %07d $((N - 1)))")"

# ---- unlink half ---------------------------------------------------------------
out=$($PY unlink "$M/big" f 0 "$N" 2 2>&1)
rc=$?
diag "$out"
check_eq "unlink of every second name, none failed" 0 "$rc"
$PY names f 1 $((N - 1)) 2 | sort >"$TMP/want"
ls -f "$M/big" >"$TMP/ls"
check_eq "after unlink: no name twice" "" "$(sort "$TMP/ls" | uniq -d | head -5)"
check_eq "after unlink: exactly the odd names" "" \
	"$(grep -v '^\.\.\?$' "$TMP/ls" | sort | comm -3 - "$TMP/want" | head -5)"
check_eq "after unlink: the second mount lists the same" "" \
	"$(ls -f "$M2/big" | grep -v '^\.\.\?$' | sort | comm -3 - "$TMP/want" | head -5)"
check "f0000000 is gone, f0000001 is there" test ! -e "$M2/big/f0000000" -a -e "$M2/big/f0000001"
diag "after unlink: $(buckets "$M/big") buckets, size $(stat -c %s "$M/big")"

# ---- two mounts create into one directory at once ---------------------------------
check "mkdir conc" mkdir "$M/conc"
$PY create "$M/conc" a 0 "$P" >"$TMP/a.out" 2>&1 &
pa=$!
$PY create "$M2/conc" b 0 "$P" >"$TMP/b.out" 2>&1 &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
diag "mount 1: $(cat "$TMP/a.out")"
diag "mount 2: $(cat "$TMP/b.out")"
check_eq "concurrent creates on two mounts: none failed" "0 0" "$ra $rb"
nb=$(buckets "$M/conc")
check "conc split meanwhile (buckets=$nb)" test "${nb:-0}" -gt 4
{ $PY names a 0 "$P"; $PY names b 0 "$P"; } | sort >"$TMP/want"
for mnt in "$M" "$M2"; do
	ls -f "$mnt/conc" | grep -v '^\.\.\?$' | sort >"$TMP/ls"
	check_eq "conc via $(basename "$mnt"): no name twice" "" "$(uniq -d "$TMP/ls" | head -5)"
	check_eq "conc via $(basename "$mnt"): all $((2 * P)) names" "" "$(comm -3 "$TMP/ls" "$TMP/want" | head -5)"
done

# readdir while another mount creates (and splits): what was there before is
# listed exactly once by every listing
$PY create "$M2/conc" c 0 "$P" >"$TMP/c.out" 2>&1 &
pc=$!
bad=0 lists=0
while kill -0 $pc 2>/dev/null && [ $lists -lt 200 ]; do
	ls -f "$M/conc" >"$TMP/ls"
	lists=$((lists + 1))
	[ -z "$(sort "$TMP/ls" | uniq -d)" ] || { bad=1; diag "a name twice: $(sort "$TMP/ls" | uniq -d | head -3)"; }
	[ -z "$(grep -v '^[.c]' "$TMP/ls" | sort | comm -3 - "$TMP/want" | head -1)" ] ||
		{ bad=1; diag "listing $lists differs: $(grep -v '^[.c]' "$TMP/ls" | sort | comm -3 - "$TMP/want" | head -3)"; }
	sleep 0.2
done
wait $pc; rc=$?
diag "$(cat "$TMP/c.out")"
diag "$lists listings during the creates, buckets now $(buckets "$M/conc")"
check_eq "creates during readdir: none failed" 0 "$rc"
check "every listing during splits had each earlier name exactly once ($lists listings)" \
	test "$bad" = 0 -a "$lists" -gt 0

# ---- empty it again: merges back to one bucket, rmdir works ------------------------
$PY unlink "$M/conc" a 0 "$P" 1 >"$TMP/a.out" 2>&1 &
pa=$!
$PY unlink "$M2/conc" b 0 "$P" 1 >"$TMP/b.out" 2>&1
rb=$?
wait $pa; ra=$?
$PY unlink "$M/conc" c 0 "$P" 1 >"$TMP/c.out" 2>&1
rc=$?
check_eq "concurrent unlinks: none failed" "0 0 0" "$ra $rb $rc"
check_eq "conc is empty" "" "$(ls -A "$M2/conc")"
check_eq "emptied, conc merged back to one bucket" 1 "$(buckets "$M/conc")"
check_eq "... and its size is 0" 0 "$(stat -c %s "$M/conc")"
check "rmdir conc" rmdir "$M/conc"

diag "bucket split/merge steps that failed (retried by later changes): $(cat "$TMP"/mount*.log | grep -c 'bucket.*next change retries')"
fusermount3 -u "$M2"
fusermount3 -u "$M"
check "unmounted" test -z "$(grep -e " $M fuse" -e " $M2 fuse" /proc/mounts)"
done_testing
