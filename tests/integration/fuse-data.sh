# fuse-data: the data path of dnsfs-mount on a real cluster of six block
# daemons: random reads/writes/truncates through several descriptors checked
# against a local reference file (fsx.py), large striped files, a file
# unlinked while open, close-to-open consistency between two mounts, O_APPEND
# writers on two mounts losing no record, and `cp -a /usr/include` round
# tripping byte- and attribute-identical (also as seen from a second mount).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/fuse-lib.sh"

fuse_setup 6 dig python3 sha256sum cmp diff mountpoint
M2="$TMP/mnt2"
mkdir -p "$M2" "$TMP/ref"
on_exit 'fusermount3 -u "$M2"'
FSX="$top_srcdir/tests/integration/fsx.py"
do_mount || bail "dnsfs-mount did not mount"
"$DNSFSCTL" mount --dir "$C" "$M2" >"$TMP/m2.out" 2>&1 || bail "dnsfsctl mount failed"

dev=$(mountpoint -d "$M")      # a stat: the first request after init
check_eq "the mount's read-ahead is raised to 4096 KiB" "4096" \
	"$(cat "/sys/class/bdi/$dev/read_ahead_kb" 2>&1)"

# ---- random operations against a reference ------------------------------------
for seed in 1 2 3; do
	check "fsx seed $seed: 300 operations through up to 4 descriptors" \
		python3 "$FSX" "$M/fsx$seed" "$TMP/ref/fsx$seed" 300 "$seed"
done
check "the second mount reads the fsx files identical" \
	sh -c "cmp '$M2/fsx1' '$TMP/ref/fsx1' && cmp '$M2/fsx2' '$TMP/ref/fsx2' && cmp '$M2/fsx3' '$TMP/ref/fsx3'"

# ---- a large file: stripes, pages, a write in the middle -------------------------
head -c $((40 << 20)) /dev/urandom >"$TMP/ref/big"
check "write a 40 MiB file" cp "$TMP/ref/big" "$M/big"
check_eq "the second mount reads it identical" "$(sha256sum <"$TMP/ref/big")" "$(sha256sum <"$M2/big")"
head -c 3000000 /dev/urandom >"$TMP/patch"
dd if="$TMP/patch" of="$TMP/ref/big" bs=1 seek=4000000 conv=notrunc status=none 2>/dev/null ||
	dd if="$TMP/patch" of="$TMP/ref/big" bs=1000000 seek=4 conv=notrunc status=none
check "overwrite 3 MB across a chunk boundary in place" \
	dd if="$TMP/patch" of="$M/big" bs=1000000 seek=4 conv=notrunc status=none
check "the file is patched, the rest intact (second mount)" cmp "$M2/big" "$TMP/ref/big"
ino=$(stat -c %i "$M/big")
check_match "its refs are in block-map pages" 'pages=[1-9]' "$(D +short "$ino.i.$Z" TXT)"
check_match "page 0 holds 4+2 stripes" 's=0:4194304:4\+2:' "$(D +tcp +short "0.$ino.m.$Z" TXT | tr -d '" ')"

# ---- a file larger than one UPDATE can describe at once ---------------------------
# 600 MiB = 150 stripes in 5 block-map pages of ~14 KiB: more than a 64 KiB
# UPDATE holds, so the mount commits as the write goes and keeps pages that
# did not change
head -c $((600 << 20)) /dev/urandom >"$TMP/ref/huge"
check "write a 600 MiB file with fsync" dd if="$TMP/ref/huge" of="$M/huge" bs=1M conv=fsync status=none
hino=$(stat -c %i "$M/huge")
check_match "its inode has 5 block-map pages" 'pages=5' "$(D +short "$hino.i.$Z" TXT)"
dd if="$TMP/patch" of="$TMP/ref/huge" bs=1000000 seek=300 conv=notrunc status=none
check "overwrite 3 MB at 300 MB in place" \
	dd if="$TMP/patch" of="$M/huge" bs=1000000 seek=300 conv=notrunc status=none
check "the second mount reads all 600 MiB identical" cmp "$M2/huge" "$TMP/ref/huge"
rm -f "$M/huge" "$TMP/ref/huge"

# ---- unlinked while open ----------------------------------------------------
out=$(python3 - "$M/doomed" <<'EOF'
import os, sys
p = sys.argv[1]
fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
print(os.fstat(fd).st_ino, end=" ")
os.write(fd, b"before unlink;")
os.fsync(fd)
os.unlink(p)
print("exists" if os.path.exists(p) else "gone", end=" ")
os.write(fd, b"after unlink")
st = os.fstat(fd)
print(st.st_nlink, st.st_size, end=" ")
print(os.pread(fd, 100, 0).decode())
os.close(fd)
EOF
)
dino=${out%% *}
check_eq "an unlinked open file: name gone, nlink 0, still read and written" \
	"gone 0 26 before unlink;after unlink" "${out#* }"
check_eq "its inode record went with the last close" "" "$(D +short "$dino.i.$Z" TXT)"

# ---- close-to-open between two mounts -----------------------------------------
echo one >"$M/c2o"
check_eq "the second mount opens the first's closed file" "one" "$(cat "$M2/c2o")"
echo two-two >"$M/c2o"
check_eq "and right after the next close, its new content (no wait)" "two-two" "$(cat "$M2/c2o")"
mkdir "$M/dir1"
echo x >"$M/dir1/f"
check "a create on the first mount is seen by the second within the TTL" \
	wait_for 5 test -f "$M2/dir1/f"
mv "$M/dir1/f" "$M/dir1/g"
check "a rename: the new name shows on the second mount" wait_for 5 test -f "$M2/dir1/g"
check "and the old name goes" wait_for 5 sh -c "! test -e '$M2/dir1/f'"
rm "$M/dir1/g"
check "a delete shows on the second mount" wait_for 5 sh -c "! test -e '$M2/dir1/g'"

# ---- O_APPEND from two mounts ------------------------------------------------
cat >"$TMP/app.py" <<'EOF'
import os, sys
path, tag, n, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if mode == "each":          # open, append one record, close
    for i in range(n):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(fd, f"{tag}-{i}\n".encode())
        os.close(fd)
else:                       # one descriptor, fsync every 10 records
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    for i in range(n):
        os.write(fd, f"{tag}-{i}\n".encode())
        if i % 10 == 9:
            os.fsync(fd)
    os.close(fd)
EOF
for mode in each fd; do
	: >"$M/log-$mode"
	python3 "$TMP/app.py" "$M/log-$mode" A 150 "$mode" & pa=$!
	python3 "$TMP/app.py" "$M2/log-$mode" B 150 "$mode" & pb=$!
	wait $pa; ra=$?
	wait $pb; rb=$?
	check_eq "O_APPEND ($mode) from two mounts: both writers succeed" "0 0" "$ra $rb"
	sleep 1.2       # the kernel's attribute cache of the first mount
	lines=$(sort "$M/log-$mode" | uniq | wc -l)
	want=$( (seq 0 149 | sed 's/^/A-/'; seq 0 149 | sed 's/^/B-/') | sort)
	check_eq "O_APPEND ($mode): all 300 records, none lost or torn" "$want" "$(sort "$M/log-$mode")"
done

# ---- the local block cache; block daemons down and back ---------------------
cache="$C/cache/$(realpath "$M" | tr / _)"
check "the mount keeps its block cache under DNSFS_DIR/cache" \
	test -n "$(find "$cache" -type f -size +1M 2>/dev/null | head -1)"
head -c 3000000 /dev/urandom >"$TMP/ref/fresh"
cp "$TMP/ref/fresh" "$M/fresh"
for f in "$C"/blockd-*.pid; do kill "$(cat "$f")"; done
blockd_down() { for f in "$C"/blockd-*.pid; do ! kill -0 "$(cat "$f")" 2>/dev/null || return 1; done; }
check "all block daemons stopped" wait_for 10 blockd_down
echo 3 >/proc/sys/vm/drop_caches
check_eq "with every block daemon down, the first mount reads the 40 MiB file from its cache" \
	"" "$(cmp "$M/big" "$TMP/ref/big" 2>&1)"
t0=$(date +%s)
err=$(cat "$M2/fresh" 2>&1 >/dev/null)
t1=$(date +%s)
check_match "a block not cached on the second mount: EIO" 'Input/output error' "$err"
check "... within 30 s ($((t1 - t0)) s)" test $((t1 - t0)) -le 30
check "stat still answers (metadata only)" stat "$M2/fresh"
"$DNSFSCTL" cluster up --dir "$C" --no-mount >"$TMP/up2.out" 2>&1
check "the block daemons are back (cluster up)" wait_for 10 sh -c "cmp '$M2/fresh' '$TMP/ref/fresh'"
f=$(find "$cache" -type f -size +1M | head -1)
printf 'garbage' | dd of="$f" bs=1 seek=1000 conv=notrunc status=none
echo 3 >/proc/sys/vm/drop_caches
check "a damaged cache file is not served: the read fetches the block again" cmp "$M/big" "$TMP/ref/big"

# ---- locks and content between mounts (as NFS) ----------------------------------
cat >"$TMP/lockrmw.py" <<'EOF2'
import fcntl, os, sys, time
path, role = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_RDWR)
if role == "writer":          # lock, write, unlock without closing
    fcntl.lockf(fd, fcntl.LOCK_EX)
    os.pwrite(fd, b"under-the-lock", 0)
    fcntl.lockf(fd, fcntl.LOCK_UN)
    print("done")
else:                         # opened before the write; lock, then read
    open(sys.argv[3], "w").close()
    while not os.path.exists(sys.argv[4]):
        time.sleep(0.05)
    fcntl.lockf(fd, fcntl.LOCK_SH)
    print(os.pread(fd, 14, 0).decode(errors="replace"))
    fcntl.lockf(fd, fcntl.LOCK_UN)
os.close(fd)
EOF2
printf 'old-content...' >"$M/rmw"
python3 "$TMP/lockrmw.py" "$M/rmw" reader "$TMP/r.ready" "$TMP/w.done" >"$TMP/reader.out" &
rpid=$!
wait_for 10 test -e "$TMP/r.ready"
check_eq "a writer on the second mount unlocks without closing" "done" \
	"$(python3 "$TMP/lockrmw.py" "$M2/rmw" writer)"
touch "$TMP/w.done"
wait $rpid
check_eq "a reader's lock on a descriptor opened before brings the new content" \
	"under-the-lock" "$(cat "$TMP/reader.out")"

# ---- unmount while a file is open and dirty ------------------------------------
cat >"$TMP/holder.py" <<'EOF2'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"y" * 200000)
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
os.write(fd, b"tail")
os.close(fd)
EOF2
python3 "$TMP/holder.py" "$M/held" "$TMP/h.ready" "$TMP/h.go" &
hpid=$!
wait_for 10 test -e "$TMP/h.ready"
check "fusermount3 -u -z with a dirty file open" fusermount3 -u -z "$M"
touch "$TMP/h.go"
wait $hpid
check "the mount's process ends after the last close" \
	wait_for 20 sh -c "! pgrep -f 'dnsfs-mount -f --env $C/cluster.env $M\$' >/dev/null"
check_eq "everything written before and after the lazy unmount is committed" \
	"200004" "$(stat -c %s "$M2/held" 2>&1)"
do_mount || bail "remount failed"

# ---- the mds down and back ----------------------------------------------------
mpid=$(cat "$C/mds.pid")
kill "$mpid"
wait_for 10 sh -c "! kill -0 $mpid" || bail "the mds did not stop"
t0=$(date +%s)
err=$(stat "$M/no-such-name-$$" 2>&1)
t1=$(date +%s)
check_match "with the mds down, a lookup fails with an I/O error" 'Input/output error|timed out' "$err"
check "... within 15 s ($((t1 - t0)) s)" test $((t1 - t0)) -le 15
err=$(sh -c "echo x >'$M/while-down'" 2>&1)
check_match "and a create fails with a clear error" 'Input/output error|timed out' "$err"
"$DNSFSCTL" cluster up --dir "$C" --no-mount >"$TMP/up3.out" 2>&1
check "the mds is back: the same mount creates again" \
	wait_for 15 sh -c "echo back >'$M/after-mds'"
check_eq "and reads it" "back" "$(cat "$M/after-mds" 2>&1)"

# ---- cp -a of a real tree -------------------------------------------------
src=/usr/include
attrs() { (cd "$1" && find . -printf '%p %y %m %U %G %T@ %l|' -a \( -type d -printf '\n' -o -printf '%s\n' \) | sort); }
check "cp -a $src into the mount" cp -a "$src" "$M/tree"
check "diff -r: byte-identical" diff -r --no-dereference "$src" "$M/tree"
attrs "$src" >"$TMP/src.attr"
attrs "$M/tree" >"$TMP/dst.attr"
check "mode, uid, gid, size, mtime and link targets identical ($(wc -l <"$TMP/src.attr") entries)" \
	cmp "$TMP/src.attr" "$TMP/dst.attr"
attrs "$M2/tree" >"$TMP/dst2.attr"
check "the second mount sees the same tree and attributes" cmp "$TMP/src.attr" "$TMP/dst2.attr"
check "and the same bytes" diff -r --no-dereference "$src" "$M2/tree"

check "fusermount3 -u unmounts the second" fusermount3 -u "$M2"
done_testing
