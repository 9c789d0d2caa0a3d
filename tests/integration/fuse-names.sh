# fuse-names: the second slice of dnsfs-mount on a real cluster: symlink and
# readlink, rename (within and across directories, over an existing file or
# empty directory, ENOTEMPTY, EINVAL into its own subtree, RENAME_NOREPLACE,
# RENAME_EXCHANGE), hard links; everything checked again after a remount, so
# it came from DNS.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/fuse-lib.sh"
fuse_setup 3 dig python3

# sc rename|noreplace|exchange|link A B: the system call (renameat2 with
# flags 0, RENAME_NOREPLACE, RENAME_EXCHANGE; link), prints "ok" or the errno
sc() {
	python3 - "$@" <<'PY'
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
op, a, b = sys.argv[1], os.fsencode(sys.argv[2]), os.fsencode(sys.argv[3])
if op == "link":
    r = libc.link(a, b)
else:
    flags = {"rename": 0, "noreplace": 1, "exchange": 2}[op]
    r = libc.renameat2(-100, a, -100, b, flags)
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

# ---- rename ------------------------------------------------------------------
echo one >"$M/f1"
ino1=$(stat -c %i "$M/f1")
check "mv f1 f2 (a new name)" mv "$M/f1" "$M/f2"
check "f1 is gone" test ! -e "$M/f1"
check_eq "f2: f1's content and inode" "one $ino1" "$(cat "$M/f2") $(stat -c %i "$M/f2")"
mkdir "$M/a" "$M/b"
check "mv f2 a/f3 (across directories)" mv "$M/f2" "$M/a/f3"
check_eq "a/f3: content" one "$(cat "$M/a/f3")"
check_eq "ls a" f3 "$(ls "$M/a")"
check_match "dig: the listing of a has f3" "\"f3 $ino1 f\"" "$(D +short "0.$(stat -c %i "$M/a").l.$Z" TXT)"
check_eq "dig: the root's listing has no f2" "" "$(D +short "0.1.l.$Z" TXT | grep '"f2 ')"
echo two >"$M/b/g"
gino=$(stat -c %i "$M/b/g")
check "mv a/f3 b/g (over an existing file)" mv "$M/a/f3" "$M/b/g"
check_eq "b/g: the moved content and inode" "one $ino1" "$(cat "$M/b/g") $(stat -c %i "$M/b/g")"
check_eq "dig: the replaced inode is gone" "" "$(D +short "$gino.i.$Z" TXT)"
check_eq "a is empty" "" "$(ls -A "$M/a")"
mkdir -p "$M/a/sub/deep"
echo z >"$M/a/sub/deep/z"
check "mv a/sub b/sub (a directory across directories)" mv "$M/a/sub" "$M/b/sub"
check_eq "b/sub/deep/z reads" z "$(cat "$M/b/sub/deep/z")"
check_eq "nlink: a 2, b 3" "2 3" "$(stat -c %h "$M/a") $(stat -c %h "$M/b")"
check_match "dig: sub has parent= b" "parent=$(stat -c %i "$M/b")( |\"|$)" \
	"$(D +short "$(stat -c %i "$M/b/sub").i.$Z" TXT)"
check "mv b/sub b/sub2 (a directory renamed in place)" mv "$M/b/sub" "$M/b/sub2"
mkdir "$M/empty"
check_eq "rename b/sub2 over the empty directory empty" ok "$(sc rename "$M/b/sub2" "$M/empty")"
check_eq "empty/deep/z reads" z "$(cat "$M/empty/deep/z")"
check_eq "nlink: root 5 (a b empty), b 2" "5 2" "$(stat -c %h "$M") $(stat -c %h "$M/b")"
mkdir -p "$M/full/x"
check_match "mv -T over a non-empty directory: ENOTEMPTY" "not empty" "$(mv -T "$M/empty" "$M/full" 2>&1)"
check_eq "rename over a non-empty directory: ENOTEMPTY" ENOTEMPTY "$(sc rename "$M/empty" "$M/full")"
check_eq "rename into its own subtree: EINVAL" EINVAL "$(sc rename "$M/empty" "$M/empty/deep/e")"
check_eq "rename a file over a directory: EISDIR" EISDIR "$(sc rename "$M/b/g" "$M/full")"
check_eq "rename a directory over a file: ENOTDIR" ENOTDIR "$(sc rename "$M/full" "$M/b/g")"
check_eq "rename of a missing name: ENOENT" ENOENT "$(sc rename "$M/nope" "$M/nope2")"
echo X >"$M/x"
echo Y >"$M/b/y"
check_eq "RENAME_NOREPLACE over an existing name: EEXIST" EEXIST "$(sc noreplace "$M/x" "$M/b/y")"
check_eq "RENAME_NOREPLACE to a new name" ok "$(sc noreplace "$M/x" "$M/x2")"
check_eq "RENAME_EXCHANGE of two files across directories" ok "$(sc exchange "$M/x2" "$M/b/y")"
check_eq "exchanged: x2 has Y, b/y has X" "Y X" "$(cat "$M/x2") $(cat "$M/b/y")"
check_eq "RENAME_EXCHANGE with a missing name: ENOENT" ENOENT "$(sc exchange "$M/x2" "$M/b/none")"
check_eq "RENAME_EXCHANGE of a file and a directory" ok "$(sc exchange "$M/x2" "$M/a")"
check_eq "exchanged: x2 is the directory, a the file" "directory regular file" \
	"$(stat -c %F "$M/x2") $(stat -c %F "$M/a")"
check_eq "RENAME_EXCHANGE of a directory with one across directories" ok \
	"$(sc exchange "$M/x2" "$M/full/x")"
check_eq "exchanged directories: full/x is the old x2, nlink of root and full kept" "3 6" \
	"$(stat -c %h "$M/full") $(stat -c %h "$M")"
check_match "dig: full/x has parent= full" "parent=$(stat -c %i "$M/full")( |\"|$)" \
	"$(D +short "$(stat -c %i "$M/full/x").i.$Z" TXT)"
check_eq "RENAME_EXCHANGE of a directory into its own subtree: EINVAL" EINVAL \
	"$(sc exchange "$M/full" "$M/full/x")"

# ---- hard links ----------------------------------------------------------------
echo linked >"$M/h1"
hino=$(stat -c %i "$M/h1")
check "ln h1 b/h2" ln "$M/h1" "$M/b/h2"
check_eq "both names: same content and inode, nlink 2" "linked $hino 2|linked $hino 2" \
	"$(cat "$M/h1") $(stat -c '%i %h' "$M/h1")|$(cat "$M/b/h2") $(stat -c '%i %h' "$M/b/h2")"
check_match "dig: the inode has nlink=2" '^"v=1 type=f .*nlink=2 ' "$(D +short "$hino.i.$Z" TXT)"
check_eq "link over an existing name: EEXIST" EEXIST "$(sc link "$M/h1" "$M/b/g")"
check_eq "link of a directory: EPERM" EPERM "$(sc link "$M/b" "$M/b3")"
check "ln h1 h3 (a third name)" ln "$M/h1" "$M/h3"
check "rm h3" rm "$M/h3"
ln "$M/b/g" "$M/b/g2"
echo r >"$M/r"
check "mv r b/g2 (over one of two names of an inode)" mv "$M/r" "$M/b/g2"
check_eq "b/g keeps its content, nlink back to 1; b/g2 is r" "one 1 r" \
	"$(cat "$M/b/g") $(stat -c %h "$M/b/g") $(cat "$M/b/g2")"
echo more >>"$M/b/h2"
check_eq "a write through one name shows through the other" "linked more" \
	"$(cat "$M/h1" | tr '\n' ' ' | sed 's/ $//')"

# ---- after a remount, from DNS ------------------------------------------------
remount
check "mounted again" mounted
check_eq "after remount: readlink sl" target "$(readlink "$M/sl")"
check_eq "after remount: readlink of the long target" "$long" "$(readlink "$M/sllong")"
check_eq "after remount: b/g, empty/deep/z, b/y" "one z X" \
	"$(cat "$M/b/g") $(cat "$M/empty/deep/z") $(cat "$M/b/y")"
check_eq "after remount: the listings" "a b empty full h1 sl sllong target x2|g g2 h2 y|deep|x" \
	"$(ls "$M" | tr '\n' ' ' | sed 's/ $//')|$(ls "$M/b" | tr '\n' ' ' | sed 's/ $//')|$(ls "$M/empty")|$(ls "$M/full")"
check_eq "after remount: nlink of root, b, full" "6 2 3" \
	"$(stat -c %h "$M") $(stat -c %h "$M/b") $(stat -c %h "$M/full")"
check_eq "after remount: h1 and b/h2 one inode, nlink 2" "$hino 2|$hino 2" \
	"$(stat -c '%i %h' "$M/h1")|$(stat -c '%i %h' "$M/b/h2")"
check "rm h1" rm "$M/h1"
check_eq "b/h2 remains: content, nlink 1" "linked more 1" \
	"$(cat "$M/b/h2" | tr '\n' ' ')$(stat -c %h "$M/b/h2")"
check_match "dig: the inode remains with nlink=1" '^"v=1 type=f .*nlink=1 ' "$(D +short "$hino.i.$Z" TXT)"
check "rm b/h2" rm "$M/b/h2"
check_eq "dig: the inode is gone with its last name" "" "$(D +short "$hino.i.$Z" TXT)"
check "rm sl" rm "$M/sl" "$M/sllong"
check "sl is gone" test ! -L "$M/sl"

fusermount3 -u "$M"
check "fusermount3 -u unmounts" test -z "$(grep " $M fuse" /proc/mounts)"
done_testing
