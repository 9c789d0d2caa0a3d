# fuse-statfs: df on the mount reports the block daemons' own figures (the sum
# of GET /v1/status over the nodes, divided by the 3 copies of a block), is
# cached for a couple of seconds, moves when a blockd's disk fills and when
# files are written, and stays quick when a blockd hangs (SIGSTOP). Each
# blockd's data directory is its own tmpfs of a known size, so the figures
# are exact and nothing else on the machine moves them.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/fuse-lib.sh"

if [ ! -c /dev/fuse ] || [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root and /dev/fuse"
	exit 0
fi
MIB=1048576
sizes=(64 96 128)               # MiB of each blockd's tmpfs
for i in 1 2 3; do
	mkdir -p "$TMP/c/blockd-$i"
	mount -t tmpfs -o "size=${sizes[$((i - 1))]}m" tmpfs "$TMP/c/blockd-$i" ||
		bail "cannot mount a tmpfs"
	on_exit "umount '$TMP/c/blockd-$i'"
done
on_exit 'for p in "$C"/blockd-*.pid; do kill -CONT "$(cat "$p")"; done'
fuse_setup 3 curl df stat
read -r -a baddr <<<"$DNSFS_BLOCKD"
do_mount || { sed 's/^/# /' "$TMP/mount.log"; bail "dnsfs-mount did not mount"; }

# The figures blockd reports, summed over the nodes given by number (1-based):
# "capacity free" in bytes.
blockd_sum() {
	local i cap=0 free=0 j
	for i in "$@"; do
		j=$(curl -sf --max-time 5 "http://${baddr[$((i - 1))]}/v1/status") || return 1
		cap=$((cap + $(echo "$j" | sed -n 's/.*"capacity":\([0-9]*\).*/\1/p')))
		free=$((free + $(echo "$j" | sed -n 's/.*"free":\([0-9]*\).*/\1/p')))
	done
	echo "$cap $free"
}
# What the mount should say for raw "capacity free": usable bytes (divided by
# the 3 copies) rounded down to the 4 KiB statfs unit, as "size avail".
expect() { echo "$(($1 / 3 / 4096 * 4096)) $(($2 / 3 / 4096 * 4096))"; }
dfm() { df -B1 --output=size,avail "$M" | tail -1 | awk '{print $1, $2}'; }
# GET /v1/status requests blockd-1 answered so far.
status_gets() {
	curl -sf "http://${baddr[0]}/metrics" |
		awk '/^dnsfs_blockd_requests_total\{.*method="GET".*code="200"/{s += $2} END{print s + 0}'
}
ttl() { sleep 2.3; }    # CAPACITY_TTL_MS is 2 s

# ---- the figures are blockd's ------------------------------------------------
read -r cap free <<<"$(blockd_sum 1 2 3)"
check_eq "blockd capacities are the tmpfs sizes" $(((64 + 96 + 128) * MIB)) "$cap"
check_eq "df -B1 size/avail = sum of blockd's capacity/free, / 3 copies" \
	"$(expect "$cap" "$free")" "$(dfm)"
check_eq "statfs: 4 KiB units, 2^36 inode numbers all free, names <= 255" \
	"4096 4096 68719476736 68719476736 255" "$(stat -f -c '%s %S %c %d %l' "$M")"

# ---- cached: a burst of df asks blockd at most once ---------------------------
ttl
g0=$(status_gets)
for _ in 1 2 3 4 5 6 7 8; do df "$M" >/dev/null; done
g1=$(status_gets)
check "8 df in a row cost at most 2 status requests per blockd ($((g1 - g0)))" \
	test $((g1 - g0)) -ge 1 -a $((g1 - g0)) -le 2

# ---- a blockd's disk fills -----------------------------------------------------
before=$(dfm)
head -c $((60 * MIB)) /dev/zero >"$TMP/c/blockd-1/filler"
ttl
read -r cap free <<<"$(blockd_sum 1 2 3)"
after=$(dfm)
check_eq "after 60 MiB of blockd-1's disk is taken: df = blockd's figures" \
	"$(expect "$cap" "$free")" "$after"
check_eq "the size did not move" "${before% *}" "${after% *}"
drop=$(( ${before#* } - ${after#* } ))
check "avail dropped by 60 MiB / 3 ($drop bytes)" \
	test "$drop" -ge $((20 * MIB - 8192)) -a "$drop" -le $((20 * MIB + 8192))
rm -f "$TMP/c/blockd-1/filler"

# ---- writing files moves it ------------------------------------------------------
ttl
before=$(dfm)
head -c $((8 * MIB)) /dev/urandom >"$TMP/f8"
cp "$TMP/f8" "$M/f8" || not_ok "cp 8 MiB"
ttl
read -r cap free <<<"$(blockd_sum 1 2 3)"
after=$(dfm)
check_eq "after an 8 MiB file: df = blockd's figures" "$(expect "$cap" "$free")" "$after"
drop=$(( ${before#* } - ${after#* } ))
check "avail dropped by about 8 MiB ($drop bytes)" \
	test "$drop" -ge $((8 * MIB - 8192)) -a "$drop" -le $((9 * MIB))
rm "$M/f8"

# ---- a hung blockd: bounded time, counted as nothing ---------------------------
kill -STOP "$(cat "$C/blockd-1.pid")"
ttl
t0=$(date +%s%N)
out=$(dfm)
ms=$((($(date +%s%N) - t0) / 1000000))
check "df with blockd-1 stopped answers within 2.5 s (${ms} ms)" test "$ms" -lt 2500
read -r cap free <<<"$(blockd_sum 2 3)"
check_eq "df with blockd-1 stopped = blockd-2 + blockd-3, / 3" "$(expect "$cap" "$free")" "$out"
t0=$(date +%s%N)
df "$M" >/dev/null
ms=$((($(date +%s%N) - t0) / 1000000))
check "the next df is served from the cache (${ms} ms)" test "$ms" -lt 300
check_match "the mount logs the silent blockd" "1 of 3 block daemons did not answer" \
	"$(cat "$TMP/mount.log")"
kill -CONT "$(cat "$C/blockd-1.pid")"
ttl
read -r cap free <<<"$(blockd_sum 1 2 3)"
check_eq "blockd-1 back: df counts it again" "$(expect "$cap" "$free")" "$(dfm)"

done_testing
