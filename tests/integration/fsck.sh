# fsck: `dnsfsctl fsck` on a real cluster (6 blockd, a mount). Clean after
# writes; a blockd whose data dir is wiped and restarted is reported (naming
# the node), `fsck --repair` puts back its replicas and 4+2 chunks, the next
# fsck is clean and the files read back identical; metadata faults made with
# nsupdate (a dentry to a missing inode, an nlink=0 orphan, a wrong nlink, a
# listing entry in the wrong bucket) and a corrupt copy on a node are
# reported, and --repair deletes the orphan and fixes the others.
. "$top_srcdir/tests/lib.sh"

if [ ! -c /dev/fuse ] || [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root and /dev/fuse"
	exit 0
fi
command -v nsupdate >/dev/null || bail "nsupdate is not installed"

C="$TMP/c" M="$TMP/m"
on_exit '"$DNSFSCTL" cluster down --dir "$C" >/dev/null 2>&1'
"$DNSFSCTL" cluster up --dir "$C" --blockd 6 --mount "$M" >"$TMP/up.out" 2>&1 ||
	{ sed 's/^/# /' "$TMP/up.out"; bail "cluster up failed"; }
. "$C/cluster.env"
Z=$DNSFS_ZONE

fsck() {        # fsck NAME ARGS...: run fsck, output in $TMP/NAME.out, exit in $rc
	n=$1; shift
	"$DNSFSCTL" fsck --dir "$C" "$@" >"$TMP/$n.out" 2>"$TMP/$n.err"; rc=$?
	sed 's/^/# /' "$TMP/$n.out"
}

# 9 MiB: two full 4 MiB chunks as 4+2 stripes and 1 MiB of replicas; a
# small file of one replicated block; a file in a subdirectory.
head -c 9437184 /dev/urandom >"$TMP/big"
head -c 300000 /dev/urandom >"$TMP/small"
cp "$TMP/big" "$M/big" && cp "$TMP/small" "$M/small" && mkdir "$M/dir" &&
	cp "$TMP/small" "$M/dir/copy" && echo tiny >"$M/dir/tiny"
check "files written through the mount" cmp "$TMP/big" "$M/big"

fsck clean1
check_eq "fsck of a fresh file system exits 0" 0 "$rc"
check_match "it says CLEAN" '^CLEAN$' "$(cat "$TMP/clean1.out")"
check_match "it checked stripe chunks and blocks" \
	'[1-9][0-9]* blocks and [1-9][0-9]* stripe chunks checked' "$(cat "$TMP/clean1.out")"
check_match "progress goes to stderr" 'fsck: refs' "$(cat "$TMP/clean1.err")"

# ---- wipe one blockd -------------------------------------------------------
# one that holds a copy of /small's block (every node holds a chunk of each
# 4+2 stripe with 6 nodes), so both kinds of loss are seen
sino=$(stat -c %i "$M/small")
hex=$(dig +short -p "$DNSFS_MDS_PORT" @"$DNSFS_MDS_ADDR" "$sino.i.$Z" TXT |
	grep -o 'b=0:300000:[0-9a-f]*' | cut -d: -f3)
K=$(ls "$C"/blockd-*/"$(printf %.2s "$hex")/$hex" | head -1 | sed 's|.*/blockd-\([0-9]*\)/.*|\1|')
check "a blockd holds the block of /small" test -n "$K"
kill -9 "$(cat "$C/blockd-$K.pid")"; sleep 0.3
rm -rf "${C:?}/blockd-$K"
"$DNSFSCTL" cluster up --dir "$C" >"$TMP/up2.out" 2>&1
check_match "cluster up restarts the wiped blockd" "^blockd-$K +started" "$(cat "$TMP/up2.out")"

fsck lost
check_eq "fsck after the wipe exits 4" 4 "$rc"
check_match "it names the wiped node" "on blockd-$K\\.n\\.$Z" "$(cat "$TMP/lost.out")"
check_match "it counts missing stripe chunks" 'missing or bad stripe chunk +[1-9]' "$(cat "$TMP/lost.out")"
check_match "it counts missing replicas" 'missing or bad replica +[1-9]' "$(cat "$TMP/lost.out")"
nb=$(find "$C/blockd-$K" -type f 2>/dev/null | wc -l)

fsck repair --repair
check_eq "fsck --repair exits 0: its second pass found it clean" 0 "$rc"
check_match "it checks again after repairing" '^checking again after the repairs:' "$(cat "$TMP/repair.out")"
check_match "fsck --repair reports what it repaired" '^repaired: [1-9]' "$(cat "$TMP/repair.out")"
nb2=$(find "$C/blockd-$K" -type f 2>/dev/null | wc -l)
check "repair stored blocks on the wiped node ($nb -> $nb2 files)" test "$nb2" -gt "$nb"

fsck clean2
check_eq "fsck after repair exits 0" 0 "$rc"
check_match "and says CLEAN" '^CLEAN$' "$(cat "$TMP/clean2.out")"
check "big reads back identical" cmp "$TMP/big" "$M/big"
check "small reads back identical" cmp "$TMP/small" "$M/small"
check "dir/copy reads back identical" cmp "$TMP/small" "$M/dir/copy"
check_match "block stat agrees: the last block of big is healthy" '^HEALTHY' \
	"$("$DNSFSCTL" block stat --dir "$C" size=1048576 rep=3 \
	$(grep -o 'block [0-9a-f]* at 8388608' "$TMP/lost.out" | awk '{print "b=0:1048576:" $2}'))"

# ---- metadata faults --------------------------------------------------------
nsup() {        # nsup COMMANDS...: one signed nsupdate session
	{ echo "server $DNSFS_MDS_ADDR $DNSFS_MDS_PORT"; echo "zone $Z"
	  printf '%s\n' "$@"; echo send; } >"$TMP/nsup.in"
	nsupdate -t 5 -k "$DNSFS_TSIG_KEYFILE" "$TMP/nsup.in" >"$TMP/nsup.out" 2>&1
}
DANGLE=0123456789abcdef0123456789abcdef.1.d.$Z
check "nsupdate adds a dentry to a missing inode and an orphan" nsup \
	"update add $DANGLE 1 CNAME 999999.i.$Z" \
	"update add 888888.i.$Z 1 TXT \"v=1 type=f mode=0644 uid=0 gid=0 nlink=0 size=0 mtime=0.000000000 ctime=0.000000000 atime=0.000000000 ver=1\""
fsck meta
check_eq "fsck with metadata faults exits 4" 4 "$rc"
check_match "it reports the dangling dentry" 'dentry to a missing inode +1' "$(cat "$TMP/meta.out")"
check_match "naming the inode" '-> inode 999999 .*no such inode' "$(cat "$TMP/meta.out")"
check_match "it reports the orphan" 'inode 888888: nlink=0' "$(cat "$TMP/meta.out")"

fsck orphan --repair --grace 0
check_eq "--repair leaves the dangling dentry: exit 4" 4 "$rc"
check_match "--repair deletes the old orphan" 'inode 888888: nlink=0.*deleting' "$(cat "$TMP/orphan.out")"
check_eq "the orphan inode is gone from the zone" "" \
	"$(dig +short -p "$DNSFS_MDS_PORT" @"$DNSFS_MDS_ADDR" "888888.i.$Z" TXT 2>/dev/null)"
check "nsupdate removes the dangling dentry" nsup "update delete $DANGLE CNAME"
fsck clean3
check_eq "fsck is clean again" 0 "$rc"

# ---- a wrong nlink -----------------------------------------------------------
ino=$(stat -c %i "$M/dir/tiny")
txt=$(dig +short -p "$DNSFS_MDS_PORT" @"$DNSFS_MDS_ADDR" "$ino.i.$Z" TXT)
bad=$(printf '%s' "$txt" | sed 's/ nlink=1 / nlink=5 /')
check "nsupdate sets nlink=5 on dir/tiny" nsup \
	"prereq yxrrset $ino.i.$Z TXT" "update delete $ino.i.$Z TXT" "update add $ino.i.$Z 1 TXT $bad"
fsck nlink
check_eq "fsck with a wrong nlink exits 4" 4 "$rc"
check_match "it names the inode, its path and the counts" \
	"inode $ino \\(file, /dir/tiny\\): nlink=5, names = 1" "$(cat "$TMP/nlink.out")"
fsck nlinkfix --repair
check_eq "--repair of nlink exits 0" 0 "$rc"
check_match "--repair fixes it" '^repaired: 1$' "$(cat "$TMP/nlinkfix.out")"
check_match "the inode says nlink=1 again" ' nlink=1 ' \
	"$(dig +short -p "$DNSFS_MDS_PORT" @"$DNSFS_MDS_ADDR" "$ino.i.$Z" TXT)"
fsck clean4
check_eq "fsck is clean at the end" 0 "$rc"
check "dir/tiny still reads" test "$(cat "$M/dir/tiny")" = tiny

# ---- a listing entry in the wrong bucket ------------------------------------
dino=$(stat -c %i "$M/dir")
ent=$(dig +short -p "$DNSFS_MDS_PORT" @"$DNSFS_MDS_ADDR" "0.$dino.l.$Z" TXT | grep '^"tiny ')
check "nsupdate moves dir/tiny's listing entry to bucket 1 of 1" nsup \
	"update delete 0.$dino.l.$Z TXT $ent" "update add 1.$dino.l.$Z 1 TXT $ent"
fsck bucket
check_eq "fsck with a misplaced listing entry exits 4" 4 "$rc"
check_match "it names the entry and its bucket" \
	"listing 1\\.$dino\\.l: \"tiny\" belongs in bucket 0 of 1" "$(cat "$TMP/bucket.out")"
fsck bucketfix --repair
check_eq "--repair of the bucket exits 0" 0 "$rc"
check_match "the entry is back in bucket 0" '"tiny ' \
	"$(dig +short -p "$DNSFS_MDS_PORT" @"$DNSFS_MDS_ADDR" "0.$dino.l.$Z" TXT)"
check_eq "and gone from bucket 1" "" \
	"$(dig +short -p "$DNSFS_MDS_PORT" @"$DNSFS_MDS_ADDR" "1.$dino.l.$Z" TXT)"
check_match "ls sees it" '^tiny$' "$(ls "$M/dir")"

# ---- a corrupt copy -----------------------------------------------------------
# the block of /small (surely referenced), as one of its nodes stores it
blk=$(ls "$C"/blockd-*/"$(printf %.2s "$hex")/$hex" 2>/dev/null | head -1)
check "the block of /small is on a node" test -n "$hex" -a -f "$blk"
node=$(basename "$(dirname "$(dirname "$blk")")")
chmod u+w "$blk"; printf 'rot' | dd of="$blk" bs=1 seek=100 conv=notrunc 2>/dev/null
fsck corrupt
check_eq "fsck with a corrupt copy exits 4" 4 "$rc"
check_match "it names the node of the corrupt copy" "on $node\\.n\\.$Z" "$(cat "$TMP/corrupt.out")"
fsck corruptfix --repair
check_eq "--repair of the corrupt copy exits 0" 0 "$rc"
check_eq "after --repair the node's copy matches its name again" "$hex" \
	"$(sha256sum "$blk" 2>/dev/null | cut -c1-64)"
fsck clean5
check_eq "fsck is clean at the very end" 0 "$rc"

done_testing
