# fuse-lock: flock() advisory locks of dnsfs-mount enforced across mounts of
# one cluster through <ino>.k.Z: exclusive and shared, LOCK_NB conflicts
# (EWOULDBLOCK), release on unlock and on close, a blocking wait (for another
# mount or for the same one, ended by Ctrl-C), the lock record in DNS, an
# expired lease (a killed mount) taken over by the next acquirer; flock and
# fcntl locks are apart (fcntl locks themselves: fuse-fcntl.sh).
. "$top_srcdir/tests/lib.sh"

MOUNT="$top_builddir/fuse-client/dnsfs-mount"
for tool in dig fusermount3 python3 flock timeout; do
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
on_exit 'fusermount3 -u -z "$M"'
on_exit 'fusermount3 -u -z "$M2"'
on_exit 'kill $holders 2>/dev/null'
holders=
"$DNSFSCTL" cluster up --dir "$C" --blockd 3 --no-mount >"$TMP/up.out" 2>&1 ||
	{ sed 's/^/# /' "$TMP/up.out"; bail "cluster up failed"; }
. "$C/cluster.env"
Z=$DNSFS_ZONE
D() { dig +norec +time=2 +tries=2 -p "$DNSFS_MDS_PORT" @"$DNSFS_MDS_ADDR" "$@"; }
mounted() { grep -q " $1 fuse" /proc/mounts; }
# the first mount has a 3-second lease (renewed every second), so that a
# killed one's lock expires quickly
"$MOUNT" -f --env "$C/cluster.env" -o lock_lease=3 "$M" >>"$TMP/mount.log" 2>&1 &
mpid=$!
wait_for 10 mounted "$M" || { sed 's/^/# /' "$TMP/mount.log"; bail "dnsfs-mount did not mount"; }
check_match "dnsfsctl mount: a second client" mounted "$("$DNSFSCTL" mount --dir "$C" "$M2" 2>&1)"

echo data >"$M/f"
ino=$(stat -c %i "$M/f")
lockrec() { D +short "$ino.k.$Z" TXT; }
# hold -x|-s PATH: a background process holding flock(LOCK_NB) until killed
# (its only descriptor of the file, closed when it dies; no output pipes kept)
hold() {
	python3 -c 'import fcntl, os, sys, time
fd = os.open(sys.argv[2], os.O_RDONLY)
fcntl.flock(fd, {"-x": fcntl.LOCK_EX, "-s": fcntl.LOCK_SH}[sys.argv[1]] | fcntl.LOCK_NB)
time.sleep(300)' "$1" "$2" </dev/null >/dev/null 2>&1 &
	holder=$!
	holders="$holders $holder"
}
nb() { flock -n "$@" true 2>/dev/null && echo got || echo busy; }

check_eq "no lock record yet" "" "$(lockrec)"
hold -x "$M/f"
check "the holder takes an exclusive lock" wait_for 10 sh -c "[ -n \"\$(dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR $ino.k.$Z TXT)\" ]"
check_match "dig: <ino>.k.Z says type=ex with one holder and its lease" \
	'^"v=1 type=ex o=[0-9a-f]{16}\.[0-9a-f]{16}:[0-9]+"$' "$(lockrec)"
check_eq "flock -n -x from the second mount: busy" busy "$(nb -x "$M2/f")"
check_eq "flock -n -s from the second mount: busy" busy "$(nb -s "$M2/f")"
check_eq "flock -n -x from the same mount (another open file): busy" busy "$(nb -x "$M/f")"
check_eq "flock -n -E: exit code 1 (EWOULDBLOCK)" 1 "$(flock -n -E 1 "$M2/f" true; echo $?)"
check_eq "an exclusive lock does not stop reading" data "$(cat "$M2/f")"
kill "$holder"; wait "$holder" 2>/dev/null
check "closing the holder releases it: the record goes" wait_for 10 sh -c "[ -z \"\$(dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR $ino.k.$Z TXT)\" ]"
check_eq "flock -n -x from the second mount now succeeds" got "$(nb -x "$M2/f")"
# (the kernel sends the release of a closed file after close returns)
check "and leaves no record (unlocked on exit)" wait_for 10 sh -c "[ -z \"\$(dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR $ino.k.$Z TXT)\" ]"

hold -s "$M/f"
wait_for 10 sh -c "[ -n \"\$(dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR $ino.k.$Z TXT)\" ]"
check_match "dig: a shared lock" '^"v=1 type=sh o=' "$(lockrec)"
check_eq "another shared lock from the second mount: granted" got "$(nb -s "$M2/f")"
check_eq "an exclusive one from the second mount: busy" busy "$(nb -x "$M2/f")"
hold -s "$M2/f"
h2=$holder
check "two shared holders on two mounts" wait_for 10 sh -c \
	"dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR $ino.k.$Z TXT | grep -q 'o=.* o='"
kill "$h2"; wait "$h2" 2>/dev/null
for h in $holders; do kill "$h" 2>/dev/null; wait "$h" 2>/dev/null; done
holders=
check "both released" wait_for 10 sh -c "[ -z \"\$(dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR $ino.k.$Z TXT)\" ]"

# a blocking flock waits for the other mount's holder (polling)
flock -o -x "$M2/f" sleep 3 </dev/null >/dev/null 2>&1 &
bh=$!
wait_for 10 sh -c "[ -n \"\$(dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR $ino.k.$Z TXT)\" ]"
t0=$(date +%s)
check "a blocking flock on the first mount gets it once released" timeout 30 flock -x "$M/f" true
check "it waited for the holder" test $(( $(date +%s) - t0 )) -ge 1
wait "$bh" 2>/dev/null
hold -x "$M/f"
wait_for 10 sh -c "[ -n \"\$(dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR $ino.k.$Z TXT)\" ]"
t0=$(date +%s)
check_eq "a blocking flock is ended by Ctrl-C (SIGINT after 2 s)" 124 \
	"$(timeout -s INT 2 flock -x "$M2/f" true >/dev/null 2>&1; echo $?)"
check "at once ($(( $(date +%s) - t0 )) s)" test $(( $(date +%s) - t0 )) -le 6
flock -x "$M/f" touch "$TMP/same" </dev/null >/dev/null 2>&1 &
bh=$!
check "a blocking flock against a lock of the same mount waits (as ext4)" \
	sh -c "sleep 1.5; kill -0 $bh && [ ! -e '$TMP/same' ]"
check "while it waits the mount answers" timeout 10 test -s "$M/f"
kill "$holder"; wait "$holder" 2>/dev/null
check "and gets the lock once the holder closes" wait_for 20 test -e "$TMP/same"
wait "$bh" 2>/dev/null
wait_for 10 sh -c "[ -z \"\$(dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR $ino.k.$Z TXT)\" ]"
check_eq "explicit unlock (flock -u) releases" got \
	"$(python3 -c '
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
fcntl.flock(fd, fcntl.LOCK_UN)
fd2 = os.open(sys.argv[2], os.O_RDONLY)
fcntl.flock(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("got")' "$M/f" "$M2/f" 2>&1)"
hold -x "$M/f"
wait_for 10 sh -c "[ -n \"\$(dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR $ino.k.$Z TXT)\" ]"
check_eq "an fcntl lock (lockf) is not stopped by another mount's flock" granted \
	"$(python3 -c '
import errno, fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("granted")
except OSError as ex:
    print(errno.errorcode[ex.errno])' "$M2/f")"
kill "$holder"; wait "$holder" 2>/dev/null
wait_for 10 sh -c "[ -z \"\$(dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR $ino.k.$Z TXT)\" ]"
# ---- a lease that is renewed, and one that expires ---------------------------
hold -x "$M/f"
wait_for 10 sh -c "[ -n \"\$(dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR $ino.k.$Z TXT)\" ]"
exp1=$(lockrec | sed 's/.*://; s/"//')
sleep 5
exp2=$(lockrec | sed 's/.*://; s/"//')
check "the holder's mount renews the lease (exp moves on)" test "$exp2" -gt "$exp1"
check_eq "still busy from the second mount after 5 s (lease 3 s)" busy "$(nb -x "$M2/f")"
kill -9 "$mpid"; wait "$mpid" 2>/dev/null
check_match "the first mount is killed: its lock record stays" 'type=ex' "$(lockrec)"
sleep 4
check_eq "after the lease, flock -n -x on the second mount takes it over" got "$(nb -x "$M2/f")"
check "the expired holder was removed by that CAS (and the new one at exit)" \
	wait_for 10 sh -c "[ -z \"\$(dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR $ino.k.$Z TXT)\" ]"
for h in $holders; do kill "$h" 2>/dev/null; wait "$h" 2>/dev/null; done
holders=
fusermount3 -u -z "$M"
fusermount3 -u "$M2"
check "fusermount3 -u unmounts the second" test -z "$(grep " $M2 fuse" /proc/mounts)"
done_testing
