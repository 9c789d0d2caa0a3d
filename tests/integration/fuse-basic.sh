# fuse-basic: dnsfs-mount on a real cluster (`cluster up --no-mount`): mkdir,
# files of 0 B, 10 B, 100 KiB and 3 MiB written and read back, ls and stat,
# a remount that reads everything again from DNS + blockd, unlink, rmdir
# (ENOTEMPTY first), the inode TXT in dig, clear errors for what is not built
# (fallocate); rename, symlinks and links are in fuse-names.sh, mknod and
# POSIX conformance in fuse-posix.sh.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/fuse-lib.sh"
fuse_setup 6 dig cmp

do_mount || { sed 's/^/# /' "$TMP/mount.log"; bail "dnsfs-mount did not mount"; }
ok "dnsfs-mount --env cluster.env mounts"
check_match "the mount is fuse.dnsfs with default_permissions" \
	"dnsfs:$Z $M fuse.dnsfs .*default_permissions" "$(grep " $M " /proc/mounts)"

# ---- write -----------------------------------------------------------------
check "mkdir d" mkdir "$M/d"
sizes="0 10 102400 3145728 9437184"
for n in $sizes; do
	head -c "$n" /dev/urandom >"$TMP/f$n"
	cp "$TMP/f$n" "$M/d/f$n" || not_ok "cp $n bytes"
done
for n in $sizes; do
	check "$n bytes read back identical" cmp "$TMP/f$n" "$M/d/f$n"
done
check_eq "ls shows the files" "f0 f10 f102400 f3145728 f9437184" "$(ls "$M/d" | tr '\n' ' ' | sed 's/ $//')"
for n in $sizes; do
	check_eq "stat f$n: size and mode" "$n 644 regular" \
		"$(stat -c '%s %a %F' "$M/d/f$n" | sed 's/regular empty file/regular/; s/regular file/regular/')"
done
check_eq "stat d: a directory, 755" "755 directory" "$(stat -c '%a %F' "$M/d")"
check "stat of a missing name fails" test ! -e "$M/d/nope"
printf 'over' >>"$M/d/f10"
check_eq "append: 14 bytes" 14 "$(stat -c %s "$M/d/f10")"
check_eq "append: content" "$(cat "$TMP/f10")over" "$(cat "$M/d/f10")"
: >"$M/d/f10"
check_eq "truncate with > gives 0 bytes" 0 "$(stat -c %s "$M/d/f10")"
cp "$TMP/f10" "$M/d/f10"

# ---- DNS -------------------------------------------------------------------
ino=$(stat -c %i "$M/d/f10")
txt=$(D +short "$ino.i.$Z" TXT)
check_match "dig shows the inode TXT of f10" '^"v=1 type=f mode=0644 .*size=10 .*data=' "$txt"
big=$(D +short "$(stat -c %i "$M/d/f3145728").i.$Z" TXT | tr -d '" ')
check_match "the 3 MiB file (a partial chunk) has replicated block refs" 'b=0:1048576:.*b=2097152:1048576:' "$big"
ino9=$(stat -c %i "$M/d/f9437184")
check_match "the 9 MiB file's refs are in one block-map page" 'pages=1' "$(D +short "$ino9.i.$Z" TXT)"
big=$(D +tcp +short "0.$ino9.m.$Z" TXT | tr -d '" ')
check_match "page 0: two 4+2 stripes of 4 MiB, then a replicated block" \
	's=0:4194304:4\+2:.*s=4194304:4194304:4\+2:.*b=8388608:1048576:' "$big"
check_match "dig shows the listing of d" '"f10 [0-9]+ f"' "$(D +short "0.$(stat -c %i "$M/d").l.$Z" TXT)"

# ---- remount -----------------------------------------------------------------
fusermount3 -u "$M"
wait_for 5 sh -c "! grep -q ' $M fuse' /proc/mounts"
check "unmounted" test -z "$(grep " $M fuse" /proc/mounts)"
do_mount
check "mounted again" mounted
for n in $sizes; do
	check "after remount: $n bytes identical" cmp "$TMP/f$n" "$M/d/f$n"
done

# ---- remove ----------------------------------------------------------------
out=$(rmdir "$M/d" 2>&1)
check_match "rmdir of a non-empty directory: ENOTEMPTY" "not empty" "$out"
check "unlink f0" rm "$M/d/f0"
check "f0 is gone" test ! -e "$M/d/f0"
check_eq "dig: f10's inode exists" 1 "$(D +short "$ino.i.$Z" TXT | grep -c v=1)"
rm "$M/d/f10" "$M/d/f102400" "$M/d/f3145728" "$M/d/f9437184"
check_eq "dig: f10's inode is gone after unlink" "" "$(D +short "$ino.i.$Z" TXT)"
check "rmdir of the emptied directory" rmdir "$M/d"
check "d is gone" test ! -e "$M/d"
check_eq "the root is empty" "" "$(ls -A "$M")"

# ---- not yet built: clear errors ---------------------------------------------
echo x >"$M/a"
check_match "fallocate(2): Operation not supported" "not supported" "$(fallocate -l 4096 "$M/a" 2>&1)"
check "mkfifo makes a FIFO" sh -c "mkfifo '$M/p' && test -p '$M/p' && rm '$M/p'"
check_match "statfs answers" "dnsfs" "$(df -h "$M" | tail -1)"
rm "$M/a"

# ---- an unreachable mds: EIO in bounded time, no hang ------------------------
kill -STOP "$(cat "$C/mds.pid")"
start=$(date +%s)
stat "$M/nothing-here" >/dev/null 2>"$TMP/stat.err"
kill -CONT "$(cat "$C/mds.pid")"
check_match "stat with the mds stopped fails with EIO" "Input/output error" "$(cat "$TMP/stat.err")"
check "... within 10 s" test $(($(date +%s) - start)) -le 10

fusermount3 -u "$M"
check "fusermount3 -u unmounts" test -z "$(grep " $M fuse" /proc/mounts)"
done_testing
