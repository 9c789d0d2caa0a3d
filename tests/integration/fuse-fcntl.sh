# fuse-fcntl: POSIX fcntl byte-range locks of dnsfs-mount enforced across two
# mounts of one cluster through p.<ino>.k.Z: F_SETLK conflicts (EAGAIN) and
# disjoint ranges, F_GETLK reporting the conflicting range, type and (on the
# holder's own mount) pid, shared read locks, unlock and release on close of
# ANY descriptor, F_SETLKW blocking (bounded) until the holder releases while
# the waiter's mount keeps serving other requests, data written under a lock
# seen by the next holder, 6 contending processes, EDEADLK for two processes
# of one mount waiting for each other, an interrupted F_SETLKW, a mount that
# ends (SIGTERM) giving its locks up, flock and fcntl locks kept apart, and a
# kill -9'd mount's locks expiring after its lease. Lock calls are python3's
# fcntl (tests/integration/fcntlprobe.py).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/fuse-lib.sh"

PROBE="$top_srcdir/tests/integration/fcntlprobe.py"
fuse_setup 3 dig python3 timeout stat
M2="$TMP/mnt2"
mkdir -p "$M2"
on_exit 'fusermount3 -u -z "$M2"'
on_exit 'fusermount3 -u -z "$M"'
on_exit 'kill -9 $bg 2>/dev/null'
bg=

# mount A (the first) has a 3-second lease (renewed every second), so that a
# killed one's locks expire quickly; mount B is the second client
"$MOUNT" -f --env "$C/cluster.env" -o lock_lease=3 "$M" >>"$TMP/mount.log" 2>&1 &
mpid=$!
wait_for 10 mounted || { sed 's/^/# /' "$TMP/mount.log"; bail "dnsfs-mount did not mount"; }
mount_b() {
	"$MOUNT" -f --env "$C/cluster.env" "$M2" >>"$TMP/mount2.log" 2>&1 &
	m2pid=$!
	wait_for 10 grep -q " $M2 fuse" /proc/mounts
}
mount_b || bail "the second mount did not come up"

seq 1 1000 >"$M/f"
ino=$(stat -c %i "$M/f")
rec() { D +short "p.$ino.k.$Z" TXT; }
has_rec() { [ -n "$(rec)" ]; }
no_rec() { [ -z "$(rec)" ]; }
# probe MOUNTPOINT STEP...: run the steps in the foreground, print their output
probe() { local m=$1; shift; timeout 60 python3 "$PROBE" "$m/f" "$@" 2>&1; }
# bgprobe NAME MOUNTPOINT STEP...: in the background, output in $TMP/NAME.out
bgprobe() {
	local name=$1 m=$2; shift 2
	rm -f "$TMP/$name.out"
	python3 "$PROBE" "$m/f" "$@" </dev/null >"$TMP/$name.out" 2>&1 &
	bg="$bg $!"
	last=$!
}
said() { grep -q "$2" "$TMP/$1.out" 2>/dev/null; }
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# ---- a write lock on A, probed from B -----------------------------------------
bgprobe holder "$M" lock:w:0:100 touch:"$TMP/ready1" waitfile:"$TMP/go1" unlock:0:100 \
	touch:"$TMP/ready2" sleep
holder=$last
check "A: a process takes F_WRLCK on bytes 0-99" wait_for 20 test -e "$TMP/ready1"
check_eq "A: F_SETLK granted" "lock ok" "$(head -1 "$TMP/holder.out" | cut -d' ' -f1,2)"
check_match "dig: p.<ino>.k.Z has the range, its owner and lease" \
	'^"v=1 w=0-99:[0-9a-f]{16}\.[0-9a-f]{16}:[0-9]+"$' "$(rec)"
check_eq "B: F_SETLK F_WRLCK on 50-60 is EAGAIN" "lock EAGAIN" "$(probe "$M2" lock:w:50:11)"
check_eq "B: F_SETLK F_RDLCK on 99 (one byte of overlap) is EAGAIN" "lock EAGAIN" \
	"$(probe "$M2" lock:r:99:1)"
check_match "B: F_SETLK on 100-199 succeeds" "^lock ok" "$(probe "$M2" lock:w:100:100)"
check_eq "B: F_GETLK reports the conflicting range and type, pid 0 (another mount)" \
	"get w 0 100 0" "$(probe "$M2" get:w:50:11)"
check_eq "B: F_GETLK on a free range: F_UNLCK" "get none" "$(probe "$M2" get:w:100:50)"
check_eq "A: F_GETLK from another process of A reports the holder's pid" \
	"get w 0 100 $holder" "$(probe "$M" get:r:0:0)"
check_eq "A: another process of the same mount conflicts too" "lock EAGAIN" \
	"$(probe "$M" lock:w:10:1)"
check "B's exits released its locks: only A's range is left" \
	wait_for 10 sh -c "[ \"\$(dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR p.$ino.k.$Z TXT | grep -o '[rw]=' | wc -l)\" = 1 ]"
touch "$TMP/go1"
check "A: F_UNLCK" wait_for 20 test -e "$TMP/ready2"
check "the record goes with the last range" wait_for 10 no_rec
check_match "B: after the unlock F_SETLK on 50-60 succeeds" "^lock ok" "$(probe "$M2" lock:w:50:11)"
stop "$holder"

# ---- ranges of one owner: split, merge, downgrade; read locks shared ----------
bgprobe split "$M" lock:w:0:100 unlock:50:11 lock:r:50:11 touch:"$TMP/split" sleep
split=$last
wait_for 20 test -e "$TMP/split"
check_eq "one owner: lock 0-99, unlock 50-60, read-lock 50-60" "lock ok|unlock ok|lock ok" \
	"$(cut -d' ' -f1,2 "$TMP/split.out" | paste -sd'|')"
check_match "dig: three ranges, split and converted" \
	'^"v=1 w=0-49:[0-9a-f.]+:[0-9]+ r=50-60:[0-9a-f.]+:[0-9]+ w=61-99:[0-9a-f.]+:[0-9]+"$' "$(rec)"
check_eq "B: F_GETLK sees the first piece" "get w 0 50 0" "$(probe "$M2" get:r:0:10)"
check_eq "B: the read piece blocks only writers" "get r 50 11 0" "$(probe "$M2" get:w:55:1)"
check_eq "B: and reads pass it" "get w 61 39 0" "$(probe "$M2" get:r:55:1000)"
check_eq "B: the unlocked tail is free (l_len 0)" "get none" "$(probe "$M2" get:w:100:0)"
stop "$split"
wait_for 10 no_rec
bgprobe reader "$M" lock:r:0:0 touch:"$TMP/ready3" sleep
reader=$last
wait_for 20 test -e "$TMP/ready3"
check_match "read locks are shared between mounts: B gets F_RDLCK on all" "^lock ok" \
	"$(probe "$M2" lock:r:0:0)"
check_eq "but not F_WRLCK anywhere" "lock EAGAIN" "$(probe "$M2" lock:w:500:1)"
check_eq "F_GETLK for a write lock reports the whole-file reader (l_len 0)" \
	"get r 0 0 0" "$(probe "$M2" get:w:7:1)"
bgprobe reader2 "$M2" lock:r:10:10 touch:"$TMP/ready4" sleep
reader2=$last
wait_for 20 test -e "$TMP/ready4"
check "two readers on two mounts in the record" \
	wait_for 10 sh -c "dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR p.$ino.k.$Z TXT | grep -q 'r=0-:.* r=10-19:'"
stop "$reader2"
stop "$reader"
check "both released by their exits" wait_for 10 no_rec

# ---- close of ANY descriptor releases the process's locks (POSIX) -------------
bgprobe closer "$M" lock:w:0:0 touch:"$TMP/ready5" waitfile:"$TMP/go5" reclose \
	touch:"$TMP/ready6" sleep
closer=$last
wait_for 20 test -e "$TMP/ready5"
check_eq "a whole-file write lock on A blocks B" "lock EAGAIN" "$(probe "$M2" lock:r:0:1)"
touch "$TMP/go5"
wait_for 20 test -e "$TMP/ready6"
check "closing another descriptor of the file drops the lock" wait_for 10 no_rec
check_match "B gets it while the process still runs" "^lock ok" "$(probe "$M2" lock:w:0:0)"
stop "$closer"

# ---- flock and fcntl locks are apart, as on Linux -------------------------------
check_eq "an flock(LOCK_EX) does not conflict with fcntl locks" "got|lock ok" \
	"$(timeout 60 python3 -c '
import fcntl, os, struct, sys
a = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(a, fcntl.LOCK_EX | fcntl.LOCK_NB)
b = os.open(sys.argv[2], os.O_RDWR)
try:
    fcntl.fcntl(b, fcntl.F_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
    r = "lock ok"
except OSError as ex:
    r = "lock " + str(ex.errno)
print("got|" + r)' "$M/f" "$M2/f" 2>&1)"
wait_for 10 no_rec

# ---- F_SETLKW waits (bounded), without stalling its mount ---------------------
bgprobe holder "$M" lock:w:0:100 touch:"$TMP/ready7" sleep
holder=$last
wait_for 20 test -e "$TMP/ready7"
bgprobe waiter "$M2" touch:"$TMP/wait8" lockw:w:50:10 touch:"$TMP/got8" sleep
waiter=$last
wait_for 20 test -e "$TMP/wait8"
check "B: an F_SETLKW on 50-59 is blocked" sh -c "sleep 1.5; ! grep -q lockw '$TMP/waiter.out'"
t0=$(date +%s%N)
check "while it waits, stat on B answers" timeout 10 stat -c %s "$M2/f"
check "and a write to another file on B goes through" \
	timeout 10 sh -c "echo other >'$M2/g' && [ \"\$(cat '$M/g')\" = other ]"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "both within 5 s ($ms ms)" test "$ms" -lt 5000
t_rel=$(date +%s.%N)
stop "$holder"
check "A's holder exits: B's F_SETLKW is granted" wait_for 20 test -e "$TMP/got8"
granted=$(awk '/^lockw ok/ {print $4}' "$TMP/waiter.out")
check "granted only after the release ($granted >= $t_rel)" \
	awk -v g="$granted" -v r="$t_rel" 'BEGIN { exit !(g >= r) }'
check "and within 5 s of it" awk -v g="$granted" -v r="$t_rel" 'BEGIN { exit !(g < r + 5) }'
check_match "the record now holds B's range" '^"v=1 w=50-59:' "$(rec)"
stop "$waiter"
wait_for 10 no_rec

# ---- what is written under a lock is there for the next holder ----------------
bgprobe writer "$M" lock:w:0:0 touch:"$TMP/ready13" waitfile:"$TMP/go13" write:written-by-A close \
	sleep
writer=$last
wait_for 20 test -e "$TMP/ready13"
bgprobe reader3 "$M2" lockw:w:0:0 read sleep
reader3=$last
sleep 1
touch "$TMP/go13"
check "A writes and closes: B's F_SETLKW is granted" wait_for 20 said reader3 "^read"
check_eq "and B reads what A wrote under the lock" "read written-by-A" \
	"$(grep '^read' "$TMP/reader3.out")"
stop "$reader3"
stop "$writer"
wait_for 10 no_rec

# ---- contention: 3 processes on each mount increment one counter under F_SETLKW -
printf '%08d\n' 0 >"$M/n"
incr() {
	timeout 120 python3 -c '
import fcntl, os, struct, sys
path, n = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_RDWR)
for i in range(n):
    fcntl.fcntl(fd, fcntl.F_SETLKW, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
    with open(path, "r+") as f:     # opened under the lock: its content is fresh
        v = int(f.read())
        f.seek(0)
        f.write("%08d\n" % (v + 1))
    # that close committed the write, then dropped the lock (POSIX)
' "$1" 5 </dev/null >>"$TMP/incr.out" 2>&1
}
pids=
for m in "$M" "$M2" "$M" "$M2" "$M" "$M2"; do incr "$m/n" & pids="$pids $!"; done
t0=$(date +%s)
for p in $pids; do wait "$p"; done
check_eq "30 increments from 6 processes on 2 mounts, none lost" 00000030 "$(cat "$M2/n")"
check_eq "without errors" "" "$(cat "$TMP/incr.out")"
diag "contention: $(( $(date +%s) - t0 )) s"
check "and no lock left" wait_for 10 sh -c "[ -z \"\$(dig +norec +short -p $DNSFS_MDS_PORT @$DNSFS_MDS_ADDR p.$(stat -c %i "$M/n").k.$Z TXT)\" ]"

# ---- two processes of one mount waiting for each other: EDEADLK ----------------
bgprobe p1 "$M" lock:w:0:1 touch:"$TMP/p1" waitfile:"$TMP/go-p1" lockw:w:1:1 sleep
p1=$last
bgprobe p2 "$M" lock:w:1:1 touch:"$TMP/p2" waitfile:"$TMP/go-p2" lockw:w:0:1 sleep
p2=$last
wait_for 20 test -e "$TMP/p1" -a -e "$TMP/p2"
touch "$TMP/go-p1"
check "P1 waits for P2's byte 1" sh -c "sleep 1.5; ! grep -q lockw '$TMP/p1.out'"
touch "$TMP/go-p2"
check "P2 asking for P1's byte 0 closes the cycle: EDEADLK" wait_for 10 said p2 "lockw EDEADLK"
stop "$p2"
check "P2 exits: P1 gets byte 1" wait_for 20 said p1 "lockw ok"
stop "$p1"
wait_for 10 no_rec

# ---- an interrupted F_SETLKW -----------------------------------------------------
bgprobe holder "$M" lock:w:0:100 touch:"$TMP/ready9" sleep
holder=$last
wait_for 20 test -e "$TMP/ready9"
bgprobe intr "$M2" touch:"$TMP/intr" lockw:w:0:1 sleep
intr=$last
wait_for 20 test -e "$TMP/intr"
sleep 1
kill -INT "$intr"
check "Ctrl-C (SIGINT) ends a waiting F_SETLKW: EINTR" wait_for 10 said intr "lockw EINTR"
stop "$intr"
bgprobe killed "$M2" touch:"$TMP/killed" lockw:w:0:1 sleep
killed=$last
wait_for 20 test -e "$TMP/killed"
sleep 1
kill -9 "$killed"
check "kill -9 of a waiting process does not hang it" wait_for 10 sh -c "! kill -0 $killed"
wait "$killed" 2>/dev/null
check_match "neither waiter left a range behind" '^"v=1 w=0-99:[0-9a-f.]*:[0-9]+"$' "$(rec)"
stop "$holder"
wait_for 10 no_rec

# ---- a mount that ends gives its locks up and answers its waiters -------------
bgprobe holder "$M" lock:w:0:100 touch:"$TMP/ready11" sleep
holder=$last
wait_for 20 test -e "$TMP/ready11"
bgprobe bholder "$M2" lock:r:200:0 touch:"$TMP/ready12" sleep
bholder=$last
wait_for 20 test -e "$TMP/ready12"
bgprobe bwaiter "$M2" touch:"$TMP/bwaiter" lockw:w:0:1 sleep
bwaiter=$last
wait_for 20 test -e "$TMP/bwaiter"
sleep 1
check_match "B holds 200- and waits for 0" ' r=200-:' "$(rec)"
kill -TERM "$m2pid"
check "B's mount ends on SIGTERM" wait_for 20 sh -c "! kill -0 $m2pid"
check "its waiting F_SETLKW is answered ENOLCK" wait_for 10 said bwaiter "lockw ENOLCK"
check_match "its range is gone from the record, A's stays" '^"v=1 w=0-99:[0-9a-f.]*:[0-9]+"$' "$(rec)"
kill -9 "$bholder" "$bwaiter" 2>/dev/null
fusermount3 -u -z "$M2" 2>/dev/null
stop "$holder"
wait_for 10 no_rec
mount_b || bail "the second mount did not come back"

# ---- a kill -9'd mount's locks expire with its lease ---------------------------
bgprobe holder "$M" lock:w:0:100 touch:"$TMP/ready10" sleep
holder=$last
wait_for 20 test -e "$TMP/ready10"
e1=$(rec | sed 's/.*://; s/"//')
sleep 2.5
e2=$(rec | sed 's/.*://; s/"//')
check "A renews its lease (exp $e1 -> $e2)" test "$e2" -gt "$e1"
kill -9 "$mpid"
wait "$mpid" 2>/dev/null
check_eq "A's mount is killed: its lock still holds at first" "lock EAGAIN" \
	"$(probe "$M2" lock:w:0:1)"
t0=$(date +%s)
check "after the lease (3 s) B's F_SETLK takes it over" \
	wait_for 20 sh -c "python3 '$PROBE' '$M2/f' lock:w:0:1 | grep -q '^lock ok'"
check "within 10 s ($(( $(date +%s) - t0 )) s)" test $(( $(date +%s) - t0 )) -le 10
check "the expired range was removed by that CAS" wait_for 10 no_rec
kill -9 "$holder" 2>/dev/null
fusermount3 -u -z "$M"
fusermount3 -u "$M2"
check "fusermount3 -u unmounts B" sh -c "! grep -q ' $M2 fuse' /proc/mounts"
done_testing
