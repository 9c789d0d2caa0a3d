# gc: `dnsfsctl gc` on a real cluster of four block daemons and a mount.
# Files are written, overwritten and deleted; an upload is left uncommitted
# (a client that crashed between PUT and UPDATE); `gc --grace 0` must bring
# the blocks the listing API shows back to exactly the ones live files
# reference, keep young blocks with a grace, and never delete a block that
# writers re-use while it runs in a loop (every file read back afterwards).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/fuse-lib.sh"

fuse_setup 4 dig python3 sha256sum cmp
M2="$TMP/mnt2"
mkdir -p "$M2" "$TMP/ref"
on_exit 'fusermount3 -u "$M2"'
# no local block cache: every read below goes to the block daemons
do_mount -o cache=none || bail "dnsfs-mount did not mount"

# Every node's listing (GET /v1/blocks): "<copies> <distinct hashes>", the
# distinct hashes sorted into $1.
blocks() {
	python3 - "$DNSFS_BLOCKD" "$1" <<'EOF'
import sys, json, urllib.request
copies, seen = 0, set()
for word in sys.argv[1].split():
    addr = word.split("=", 1)[-1]
    after = ""
    while True:
        url = "http://%s/v1/blocks?limit=1000&after=%s" % (addr, after)
        lines = urllib.request.urlopen(url, timeout=10).read().decode().split("\n")
        got = [json.loads(l) for l in lines if l]
        for b in got:
            copies += 1
            seen.add(b["hash"])
        if len(got) < 1000:
            break
        after = got[-1]["hash"]
open(sys.argv[2], "w").write("".join(h + "\n" for h in sorted(seen)))
print(copies, len(seen))
EOF
}
# The hashes live files need: one block each (files of 1 KiB .. 1 MiB, rep=3).
live() { for f in "$@"; do sha256sum <"$f" | cut -d' ' -f1; done | sort -u; }
refs_of() { D +short "$(echo "$1" | cut -c1-32).$(echo "$1" | cut -c33-64).place.$Z" TXT; }
gc() { "$DNSFSCTL" gc --dir "$C" "$@" 2>"$TMP/gc.err"; }

# ---- write, overwrite, delete ------------------------------------------------
for i in 1 2 3 4 5 6 7 8 9 10; do
	head -c $((100000 + i * 1000)) /dev/urandom >"$TMP/ref/f$i"
	cp "$TMP/ref/f$i" "$M/f$i" || not_ok "write f$i"
done
for i in 1 2 3; do              # overwrite: the old blocks become orphans
	head -c 150000 /dev/urandom >"$TMP/ref/f$i"
	cp "$TMP/ref/f$i" "$M/f$i" || not_ok "overwrite f$i"
done
old=$(sha256sum <"$TMP/ref/f4" | cut -d' ' -f1)
for i in 4 5 6; do              # delete
	rm "$M/f$i" "$TMP/ref/f$i" || not_ok "rm f$i"
done
# a crashed client: blocks stored, never committed
head -c 300000 /dev/urandom >"$TMP/crashed"
"$DNSFSCTL" block put --dir "$C" "$TMP/crashed" >"$TMP/crashed.ref" 2>&1 ||
	not_ok "block put of the crashed upload"
crashed=$(sha256sum <"$TMP/crashed" | cut -d' ' -f1)
live "$TMP"/ref/f* >"$TMP/want"
want=$(wc -l <"$TMP/want")
check_eq "7 live files need 7 blocks" 7 "$want"
keep=$(head -1 "$TMP/want")
check_match "the mds counts a live block's refs" 'refs=1"$' "$(refs_of "$keep")"
check_match "and a deleted file's block as unreferenced" 'refs=0"$' "$(refs_of "$old")"

set -- $(blocks "$TMP/before")
check "before gc: more blocks listed than live files need ($2 > $want)" test "$2" -gt "$want"
check "the crashed upload is listed" grep -qx "$crashed" "$TMP/before"

# ---- a grace keeps everything young ---------------------------------------------
out=$(gc --grace 600 --once); rc=$?
check_eq "gc --grace 600 succeeds" 0 "$rc"
check_match "and deletes nothing young" 'deleted 0 copies' "$out"
set -- $(blocks "$TMP/after600")
check "the listing is unchanged" cmp -s "$TMP/before" "$TMP/after600"

# ---- the orphan stream alone: deleted and overwritten files' blocks -----------------
sleep 3                         # past the commit slack (2 s) at 1 s mtime resolution
out=$(gc --grace 0 --once --orphans-only); rc=$?
check_eq "gc --orphans-only succeeds" 0 "$rc"
diag "$out"
check_match "it consumes the 6 orphans the mds queued" 'orphan stream: 6 entries, 6 done' "$out"
check_match "and deletes their copies" 'deleted 18 copies' "$out"
check_match "it prints a progress line" '^gc: orphans: .*blocks' "$(cat "$TMP/gc.err")"
set -- $(blocks "$TMP/orphans")
check_eq "left: the live files' blocks and the crashed upload" $((want + 1)) "$2"
check "the crashed upload is still there (no orphan entry)" grep -qx "$crashed" "$TMP/orphans"

# ---- grace 0: back to exactly what live files reference ---------------------------
out=$(gc --grace 0 --once); rc=$?
check_eq "gc --grace 0 succeeds" 0 "$rc"
diag "$out"
check_match "the stream is empty now" 'orphan stream: 0 entries' "$out"
check_match "the sweep deletes the crashed upload's copies" 'deleted 3 copies' "$out"
check_match "it prints a progress line" '^gc: blocks: .*blocks' "$(cat "$TMP/gc.err")"
set -- $(blocks "$TMP/after")
check "the distinct blocks listed are exactly the live files' ($2)" cmp -s "$TMP/want" "$TMP/after"
check_eq "each with its 3 replicas" $((want * 3)) "$1"
check "the crashed upload is swept" sh -c "! grep -qx '$crashed' '$TMP/after'"
out=$(gc --grace 0 --once)
check_match "a second round finds nothing to delete" 'deleted 0 copies' "$out"
bad=0
for i in 1 2 3 7 8 9 10; do
	cmp -s "$M/f$i" "$TMP/ref/f$i" || bad=$((bad + 1))
done
check_eq "every live file reads back after gc" 0 "$bad"

# ---- writers re-using the same content against gc --grace 0 in a loop -------------
# The writers' contents drift (3 of 12 every 2 s, a cycle of 8 s): a content
# falls out of use, its files are deleted, gc finds it unreferenced and old,
# and then the writers come back to it. Each file is checked through a
# second mount without a cache (so from the block daemons) before it goes.
"$MOUNT" -f --env "$C/cluster.env" -o cache=none "$M2" >>"$TMP/mount2.log" 2>&1 &
wait_for 10 sh -c "grep -q ' $M2 fuse' /proc/mounts" || bail "second mount failed"
mkdir -p "$TMP/pool" "$M/race"
for k in $(seq 1 12); do head -c $((20000 + k * 997)) /dev/urandom >"$TMP/pool/c$k"; done
writer() {                      # $1: writer id; file race/w<id>.<n> holds content c<k>
	local n=0 k old end=$(($(date +%s) + 20))
	while [ "$(date +%s)" -lt "$end" ]; do
		n=$((n + 1))
		k=$((($(date +%s) / 2 * 3 + n % 3) % 12 + 1))
		cp "$TMP/pool/c$k" "$M/race/w$1.$n" && echo "w$1.$n c$k" >>"$TMP/race.$1"
		old=$(grep "^w$1.$((n - 2)) " "$TMP/race.$1" | cut -d' ' -f2)
		if [ -n "$old" ]; then
			cmp -s "$M2/race/w$1.$((n - 2))" "$TMP/pool/$old" ||
				echo "w$1.$((n - 2)) $old" >>"$TMP/race.bad"
			echo "checked" >>"$TMP/race.checked"
			rm "$M/race/w$1.$((n - 2))"
		fi
		sleep 0.$((RANDOM % 3))
	done
}
gcloop() {
	local end=$(($(date +%s) + 22)) rounds=0
	while [ "$(date +%s)" -lt "$end" ]; do
		"$DNSFSCTL" gc --dir "$C" --grace 0 --once --max-rate 0 >>"$TMP/gcloop.out" \
			2>>"$TMP/gcloop.err" || echo "gc failed" >>"$TMP/gcloop.out"
		rounds=$((rounds + 1))
		sleep 0.2
	done
	echo "rounds $rounds" >>"$TMP/gcloop.out"
}
: >"$TMP/race.bad"
gcloop & gp=$!
writer 1 & w1=$!
writer 2 & w2=$!
writer 3 & w3=$!
wait $w1 $w2 $w3 $gp
check "no gc round failed during the race" sh -c "! grep -q 'gc failed' '$TMP/gcloop.out'"
deleted=$(sed -n 's/.*deleted \([0-9]*\) copies.*/\1/p' "$TMP/gcloop.out" | awk '{s += $1} END {print s + 0}')
reused=$(sed -n 's/.* \([0-9]*\) re-used.*/\1/p' "$TMP/gcloop.out" | awk '{s += $1} END {print s + 0}')
diag "race: $(grep rounds "$TMP/gcloop.out"), $deleted copies deleted, $reused refused as re-used"
check "gc deleted blocks while the writers ran ($deleted)" test "$deleted" -gt 0
checked=$(wc -l <"$TMP/race.checked")
check "the writers checked files before deleting them ($checked)" test "$checked" -gt 30
check_eq "every one read back identical from the block daemons" "" "$(cat "$TMP/race.bad")"

# Every surviving file, read through the second mount, is its content.
bad=0 files=0
for f in "$M2"/race/*; do
	name=${f##*/}
	k=$(cat "$TMP"/race.[0-9] | grep "^$name " | tail -1 | cut -d' ' -f2)
	files=$((files + 1))
	cmp -s "$f" "$TMP/pool/$k" || { bad=$((bad + 1)); diag "$name ($k) differs"; }
done
check_eq "the writers left 2 files each" 6 "$files"
check_eq "every surviving race file reads back identical" 0 "$bad"

# and after a last round only live content remains
sleep 3
gc --grace 0 --once >/dev/null
live "$TMP"/ref/f* "$M2"/race/* >"$TMP/want2"
set -- $(blocks "$TMP/after2")
check "after the race the blocks listed are exactly the live files'" cmp -s "$TMP/want2" "$TMP/after2"

# ---- throttle: a busy cluster makes gc wait ------------------------------------------
python3 - "${DNSFS_BLOCKD%% *}" <<'EOF' &
import sys, time, urllib.request
addr, end = sys.argv[1].split("=", 1)[-1], time.time() + 4
while time.time() < end:
    urllib.request.urlopen("http://%s/v1/status" % addr, timeout=5).read()
EOF
lp=$!
sleep 0.5
out=$(gc --grace 0 --once --max-rate 5); rc=$?
wait $lp
check_eq "gc under load succeeds" 0 "$rc"
check_match "it backs off while clients are busy" 'backing off' "$(cat "$TMP/gc.err")"
check_match "and reports the pause" 'paused [1-9][0-9]* s' "$out"

done_testing
