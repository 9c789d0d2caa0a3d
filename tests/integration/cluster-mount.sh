# cluster-mount: `dnsfsctl cluster up` mounts DNSFS_MOUNT (the contract's
# --mount, idempotent up), `dnsfsctl mount` adds a second client of the same
# cluster that sees the first one's files, and `cluster down` leaves nothing
# mounted and no dnsfs-mount running.
. "$top_srcdir/tests/lib.sh"

if [ ! -c /dev/fuse ] || [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root and /dev/fuse"
	exit 0
fi
command -v fusermount3 >/dev/null || bail "fusermount3 is not installed (apt-get install fuse3)"

C="$TMP/c" M="$TMP/m1" M2="$TMP/m2"
mounted() { grep -q " $1 fuse" /proc/mounts; }
on_exit 'fusermount3 -u "$M2" 2>/dev/null; "$DNSFSCTL" cluster down --dir "$C"'

check "cluster up --mount M starts everything and mounts" \
	sh -c '"$0" cluster up --dir "$1" --blockd 4 --mount "$2" >"$3" 2>&1' "$DNSFSCTL" "$C" "$M" "$TMP/up.out"
. "$C/cluster.env"
check_eq "cluster.env names the mount point" "$M" "$DNSFS_MOUNT"
check "the mount point is mounted" mounted "$M"
check_match "status lists the mount running" '^mount +running' "$("$DNSFSCTL" cluster status --dir "$C")"
pid1=$(cat "$C/mount.pid")
out=$("$DNSFSCTL" cluster up --dir "$C" 2>&1)
check_match "a second up leaves the mount alone" '^mount +running +pid '"$pid1"' \(already\)' "$out"
check_match "up with another --mount is refused" 'mounts at' \
	"$("$DNSFSCTL" cluster up --dir "$C" --mount "$TMP/elsewhere" 2>&1)"

head -c 200000 /dev/urandom >"$TMP/data"
cp "$TMP/data" "$M/file" && mkdir "$M/dir" && echo hi >"$M/dir/small"
check "a file written through the mount reads back" cmp "$TMP/data" "$M/file"

check_match "dnsfsctl mount adds a second client" 'mounted' \
	"$("$DNSFSCTL" mount --dir "$C" "$M2" 2>&1)"
check "the second client sees the first one's file" cmp "$TMP/data" "$M2/file"
check_eq "and its directory" "hi" "$(cat "$M2/dir/small")"
fusermount3 -u "$M2"

"$DNSFSCTL" cluster down --dir "$C" >"$TMP/down.out" 2>&1
check "after down nothing is mounted" sh -c '! grep -q " $0 fuse" /proc/mounts' "$M"
# Live dnsfs-mount processes for M (an exited one may linger as a zombie
# until init reaps it; that is not running).
live_mounts() {
	local p n=0
	for p in $(pgrep -f "dnsfs-mount.*$M"); do
		[ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] || n=$((n + 1))
	done
	echo "$n"
}
for _ in $(seq 1 50); do [ "$(live_mounts)" = 0 ] && break; sleep 0.1; done
check_eq "after down no dnsfs-mount runs for it" 0 "$(live_mounts)"

# The data outlives the mount: up again mounts the same file system.
"$DNSFSCTL" cluster up --dir "$C" >"$TMP/up2.out" 2>&1
check "up again: remounted, the file is intact" cmp "$TMP/data" "$M/file"

done_testing
