# admin: `dnsfsctl ls|stat|cat|put|rm|place|info|init` without a mount, checked
# against a real mount of the same cluster: what the mount wrote dnsfsctl
# lists, stats and reads identically; what dnsfsctl puts (inline, small,
# 10 MiB striped) the mount reads identically; rm is seen by the mount; place
# names the nodes `dig <hash>.place.Z TXT` names; init makes a zone an mds
# serves.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/fuse-lib.sh"

fuse_setup 6 dig nsupdate sha256sum cmp stat
do_mount || bail "dnsfs-mount did not mount"
A() { "$DNSFSCTL" "$@" --dir "$C"; }

# ---- written by the mount, read by dnsfsctl --------------------------------------
mkdir -p "$M/d/sub"
printf 'hello admin\n' >"$M/d/small"
head -c 300000 /dev/urandom >"$TMP/mid"
cp "$TMP/mid" "$M/d/mid"
chmod 0640 "$M/d/mid"
ln -s small "$M/d/link"
sync
# the mount's view in dnsfsctl's ls line format (mtime in UTC)
mline() {
	local p=$1 n=$2
	printf '%s %s %s %s %s %s %s' "$(stat -c %A "$p")" "$(stat -c %h "$p")" \
		"$(stat -c %u "$p")" "$(stat -c %g "$p")" "$(stat -c %s "$p")" \
		"$(date -u -d "@$(stat -c %Y "$p")" '+%Y-%m-%d %H:%M:%S')" "$n"
	[ -L "$p" ] && printf ' -> %s' "$(readlink "$p")"
	printf '\n'
}
expect=$(for n in link mid small sub; do mline "$M/d/$n" "$n"; done)
check_eq "ls lists what the mount wrote, as the mount sees it" "$expect" "$(A ls /d)"
check_eq "ls of a file is its own line" "$(mline "$M/d/mid" /d/mid)" "$(A ls /d/mid)"
st=$(A stat /d/mid)
check_match "stat: ino, mode, size as the mount" \
	"ino: $(stat -c %i "$M/d/mid").*mode: 0640 -rw-r-----.*size: 300000" "$(echo $st)"
check_match "stat: mtime seconds as the mount" "mtime: $(stat -c %Y "$M/d/mid")\." "$st"
check_eq "cat of an inline file" "hello admin" "$(A cat /d/small)"
check_eq "cat of a block file is byte-identical" "$(sha256sum <"$TMP/mid")" \
	"$(A cat /d/mid | sha256sum)"
check_match "info shows the inode record as stored" 'v=1 type=f .*size=300000.* b=0:' \
	"$(A info /d/mid)"
"$DNSFSCTL" stat --dir "$C" /d/none >/dev/null 2>"$TMP/err"
check_match "a missing path is an error naming it" '/d/none: no such file' "$(cat "$TMP/err")"

# a directory split into several listing buckets is listed whole
mkdir "$M/many"
for i in $(seq 1 300); do : >"$M/many/entry-with-a-longish-name-to-split-buckets-$i"; done
check_match "the directory has several buckets" 'buckets=[2-9]' "$(A info /many)"
check_eq "ls walks every bucket: 300 entries, sorted" \
	"$(ls "$M/many" | LC_ALL=C sort)" "$(A ls /many | awk '{print $8}')"

# ---- written by dnsfsctl, read by the mount -------------------------------------
printf 'tiny' >"$TMP/tiny"
check "put a 4-byte file (inline)" A put "$TMP/tiny" /d/tiny
check_eq "the mount reads it" "tiny" "$(cat "$M/d/tiny")"
check_match "it is inline in its inode" 'data=' "$(A info /d/tiny)"
head -c 20000 /dev/urandom >"$TMP/small2"
check "put a 20000-byte file (replicated blocks)" A put "$TMP/small2" /d/small2
check "the mount reads it identical" cmp "$TMP/small2" "$M/d/small2"
head -c $((10 << 20)) /dev/urandom >"$TMP/big"
A put "$TMP/big" /big >"$TMP/put.out" 2>"$TMP/put.err"
check_eq "put a 10 MiB file" 0 "$?"
check_match "put shows progress for it" 'put: .*MiB' "$(cat "$TMP/put.err")"
check "the mount reads the 10 MiB file identical" cmp "$TMP/big" "$M/big"
check_eq "dnsfsctl reads it identical" "$(sha256sum <"$TMP/big")" "$(A cat /big | sha256sum)"
check_match "its full chunks are 4+2 stripes, the tail replicated" \
	's=0:4194304:4\+2:.*s=4194304:4194304:4\+2:.*b=8388608:' "$(A info /big)"
head -c 7000 /dev/urandom >"$TMP/big2"
check "put replaces an existing file" A put "$TMP/big2" /big
check "the mount reads the new content" cmp "$TMP/big2" "$M/big"
check_eq "size from the mount" 7000 "$(stat -c %s "$M/big")"

# ---- place ----------------------------------------------------------------------
A place /d/small2 >"$TMP/place.out"
check_eq "place exits 0" 0 "$?"
h=$(awk '/^block /{print $2; exit}' "$TMP/place.out")
check_match "place names a block" '^[0-9a-f]{64}$' "$h"
dnodes=$(D +short "${h:0:32}.${h:32:32}.place.$Z" TXT | tr -d '" ')
pnodes=$(awk '/^  place: /{$1 = ""; gsub(/ /, ""); print; exit}' "$TMP/place.out")
check_eq "place names the nodes dig ... place names" "$dnodes" "$pnodes"
check_match "and says which of them hold it" '3 nodes hold it' "$(cat "$TMP/place.out")"

# ---- rm -------------------------------------------------------------------------
check "rm a file" A rm /d/small2
# (within the mount's 1 s kernel entry cache)
check "the mount sees it gone" wait_for 3 test ! -e "$M/d/small2"
check "rm an empty directory" A rm /d/sub
check "the mount sees the directory gone" wait_for 3 test ! -e "$M/d/sub"
"$DNSFSCTL" rm --dir "$C" /d >/dev/null 2>"$TMP/err"
check_match "rm of a non-empty directory fails" 'not empty' "$(cat "$TMP/err")"
check_eq "ls names what is left" "link mid small tiny" "$(A ls /d | awk '{print $8}' | xargs)"
check_eq "the mount lists the same" "link mid small tiny" "$(ls "$M/d" | xargs)"

# ---- init: a zone an mds serves -------------------------------------------------
check "init writes a zone file and a key" "$DNSFSCTL" init --zone admin.test "$TMP/new"
check_match "the key file is in BIND format" 'key "dnsfs-admin" \{' "$(cat "$TMP/new/tsig.key")"
"$DNSFSCTL" init --zone admin.test "$TMP/new" >/dev/null 2>&1
check_eq "init does not overwrite a file system" 1 "$?"
port=$(free_port)
"$top_builddir/mds/dnsfs-mds" --foreground --listen "127.0.0.1:$port" --store memory \
	--zone admin.test. --zone-file "$TMP/new/zone.init" --keyfile "$TMP/new/tsig.key" \
	>"$TMP/newmds.log" 2>&1 &
newmds=$!
on_exit "kill $newmds 2>/dev/null"
N() { dig +norec +time=1 +tries=1 -p "$port" @127.0.0.1 "$@"; }
wait_for 10 sh -c "dig +short +norec +time=1 +tries=1 -p $port @127.0.0.1 admin.test. SOA | grep -q ."
check_match "the new mds serves the root inode" '"v=1 type=d mode=0755 .*nlink=2' \
	"$(N +short 1.i.admin.test. TXT)"
check_match "and the SOA" 'ns1.admin.test. hostmaster.admin.test. 1 ' "$(N +short admin.test. SOA)"
check_match "an UPDATE signed with the new key is accepted" 'NOERROR' \
	"$(printf 'server 127.0.0.1 %s\nzone admin.test.\nupdate add x.admin.test. 1 TXT "y"\nsend\nanswer\n' "$port" |
	   nsupdate -k "$TMP/new/tsig.key" 2>&1)"

done_testing
