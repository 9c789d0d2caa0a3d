# fuse-xattr: user.* extended attributes of dnsfs-mount on a real cluster:
# set/get/list/remove, XATTR_CREATE (EEXIST) and XATTR_REPLACE (ENODATA),
# size probing and ERANGE, the limits (E2BIG, ENOSPC), other namespaces
# (EOPNOTSUPP); the record in DNS; seen after a remount and from a second
# mount of the same cluster, and kept across a content commit.
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
M2="$TMP/mnt2"
mkdir -p "$M" "$M2"
on_exit '"$DNSFSCTL" cluster down --dir "$C"'
on_exit 'fusermount3 -u "$M"'
on_exit 'fusermount3 -u "$M2"'
"$DNSFSCTL" cluster up --dir "$C" --blockd 3 --no-mount >"$TMP/up.out" 2>&1 ||
	{ sed 's/^/# /' "$TMP/up.out"; bail "cluster up failed"; }
. "$C/cluster.env"
Z=$DNSFS_ZONE
D() { dig +norec +time=2 +tries=2 -p "$DNSFS_MDS_PORT" @"$DNSFS_MDS_ADDR" "$@"; }
mounted() { grep -q " $1 fuse" /proc/mounts; }
do_mount() {
	"$MOUNT" -f --env "$C/cluster.env" "$M" >>"$TMP/mount.log" 2>&1 &
	wait_for 10 mounted "$M"
}
remount() {
	fusermount3 -u "$M"
	wait_for 5 sh -c "! grep -q ' $M fuse' /proc/mounts"
	do_mount
}
# xa set|create|replace|get|size|small|list|remove PATH [NAME [VALUE]]:
# the system call; prints the result (get: the value, size: its length,
# list: the names sorted, space separated) or the errno name
xa() {
	python3 - "$@" <<'PY'
import errno, os, sys
def en(n): return "EOPNOTSUPP" if n == errno.EOPNOTSUPP else errno.errorcode[n]
op, path = sys.argv[1], sys.argv[2]
name = sys.argv[3] if len(sys.argv) > 3 else ""
val = os.fsencode(sys.argv[4]) if len(sys.argv) > 4 else b""
if val.startswith(b"@"):            # @N: N bytes
    val = bytes((i * 7) % 256 for i in range(int(val[1:])))
try:
    if op in ("set", "create", "replace"):
        flags = {"set": 0, "create": os.XATTR_CREATE, "replace": os.XATTR_REPLACE}[op]
        os.setxattr(path, name, val, flags)
        print("ok")
    elif op == "get":
        print(os.getxattr(path, name).decode("latin-1"))
    elif op == "getbig":
        print("ok" if os.getxattr(path, name) == val else "differs")
    elif op in ("size", "small"):
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(4)
        n = libc.getxattr(os.fsencode(path), name.encode(), buf if op == "small" else None,
                          4 if op == "small" else 0)
        print(n if n >= 0 else en(ctypes.get_errno()))
    elif op == "list":
        print(" ".join(sorted(os.listxattr(path))))
    elif op == "remove":
        os.removexattr(path, name)
        print("ok")
except OSError as ex:
    print(en(ex.errno))
PY
}
do_mount || { sed 's/^/# /' "$TMP/mount.log"; bail "dnsfs-mount did not mount"; }
ok "dnsfs-mount mounts"

echo content >"$M/f"
mkdir "$M/d"
ino=$(stat -c %i "$M/f")
check_eq "list: none yet" "" "$(xa list "$M/f")"
check_eq "get of a missing attribute: ENODATA" ENODATA "$(xa get "$M/f" user.color)"
check_eq "setxattr user.color" ok "$(xa set "$M/f" user.color blue)"
check_eq "getxattr user.color" blue "$(xa get "$M/f" user.color)"
check_eq "size probe (size 0) gives the length" 4 "$(xa size "$M/f" user.color)"
check_eq "setxattr user.long" ok "$(xa set "$M/f" user.long 'a longer value')"
check_eq "a 4-byte buffer for 14 bytes: ERANGE" ERANGE "$(xa small "$M/f" user.long)"
check_eq "XATTR_CREATE of an existing name: EEXIST" EEXIST "$(xa create "$M/f" user.color red)"
check_eq "XATTR_REPLACE of a missing name: ENODATA" ENODATA "$(xa replace "$M/f" user.none x)"
check_eq "XATTR_REPLACE of an existing name" ok "$(xa replace "$M/f" user.color red)"
check_eq "XATTR_CREATE of a new name" ok "$(xa create "$M/f" user.new 'with space=%:')"
check_eq "an empty value" ok "$(xa set "$M/f" user.empty '')"
check_eq "size of the empty value" 0 "$(xa size "$M/f" user.empty)"
check_eq "listxattr" "user.color user.empty user.long user.new" "$(xa list "$M/f")"
check_eq "get a value with space, = and %" "with space=%:" "$(xa get "$M/f" user.new)"
check_eq "removexattr user.long" ok "$(xa remove "$M/f" user.long)"
check_eq "removexattr again: ENODATA" ENODATA "$(xa remove "$M/f" user.long)"
check_eq "listxattr after remove" "user.color user.empty user.new" "$(xa list "$M/f")"
check_eq "the content is untouched" content "$(cat "$M/f")"
check_match "dig: the inode TXT holds xa= tokens" \
	' xa=user.color:cmVk xa=user.empty: xa=user.new:d2l0aCBzcGFjZT0lOg=="$' \
	"$(D +short "$ino.i.$Z" TXT)"
check_eq "on a directory" ok "$(xa set "$M/d" user.dir yes)"
check_eq "get on the directory" yes "$(xa get "$M/d" user.dir)"
check_eq "trusted.*: EOPNOTSUPP" EOPNOTSUPP "$(xa set "$M/f" trusted.x 1)"
check_eq "security.* get: EOPNOTSUPP" EOPNOTSUPP "$(xa get "$M/f" security.selinux)"
check_eq "a 4096-byte value" ok "$(xa set "$M/f" user.big @4096)"
check_eq "reads back byte for byte" ok "$(xa getbig "$M/f" user.big @4096)"
check_eq "a 4097-byte value: E2BIG" E2BIG "$(xa set "$M/f" user.big2 @4097)"
check_eq "a second 4096-byte value" ok "$(xa set "$M/f" user.big2 @4096)"
check_eq "a third does not fit the inode record: ENOSPC" ENOSPC "$(xa set "$M/f" user.big3 @4096)"
check_eq "the others are unchanged" "user.big user.big2 user.color user.empty user.new" \
	"$(xa list "$M/f")"
check_eq "the long inode still reads (TCP)" content "$(cat "$M/f")"
check_eq "a write keeps the attributes" ok \
	"$(echo more >>"$M/f" && xa get "$M/f" user.color | sed 's/^red$/ok/')"
check_eq "and writes the content" "content more" "$(cat "$M/f" | tr '\n' ' ' | sed 's/ $//')"

# ---- the second mount, then after a remount ----------------------------------
check_match "dnsfsctl mount: a second client" mounted "$("$DNSFSCTL" mount --dir "$C" "$M2" 2>&1)"
check_eq "the second client lists them" "user.big user.big2 user.color user.empty user.new" \
	"$(xa list "$M2/f")"
check_eq "and reads a value" red "$(xa get "$M2/f" user.color)"
check_eq "it sets one" ok "$(xa set "$M2/f" user.from2 two)"
check_eq "the first sees it" two "$(xa get "$M/f" user.from2)"
check_eq "XATTR_CREATE on the first of the second's name: EEXIST" EEXIST \
	"$(xa create "$M/f" user.from2 one)"
check_eq "it removes one" ok "$(xa remove "$M2/f" user.big)"
check_eq "the first no longer has it" ENODATA "$(xa get "$M/f" user.big)"
fusermount3 -u "$M2"
remount
check "mounted again" mounted "$M"
check_eq "after remount: listxattr" "user.big2 user.color user.empty user.from2 user.new" \
	"$(xa list "$M/f")"
check_eq "after remount: values" "red|two|yes" \
	"$(xa get "$M/f" user.color)|$(xa get "$M/f" user.from2)|$(xa get "$M/d" user.dir)"
check_eq "after remount: the big value" ok "$(xa getbig "$M/f" user.big2 @4096)"
check "rm f (the record goes with its attributes)" rm "$M/f"
check_eq "dig: the inode is gone" "" "$(D +short "$ino.i.$Z" TXT)"

fusermount3 -u "$M"
check "fusermount3 -u unmounts" test -z "$(grep " $M fuse" /proc/mounts)"
done_testing
