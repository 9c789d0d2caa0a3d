# tests/fuse-lib.sh: the shared setup of the mount tests, sourced after
# tests/lib.sh. `fuse_setup NBLOCKD TOOL...` skips the script (TAP SKIP)
# without root and /dev/fuse, bails if a tool is missing, starts a cluster
# with --no-mount in $C and defines $M (the mount point), $Z (the zone),
# D (dig at the mds), mounted, do_mount and remount (both pass their
# arguments to dnsfs-mount, e.g. -o allow_other). Cleanup unmounts and stops
# the cluster on every exit path.
MOUNT="$top_builddir/fuse-client/dnsfs-mount"

fuse_setup() {
	local nblockd=$1 tool
	shift
	for tool in fusermount3 "$@"; do
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
	"$DNSFSCTL" cluster up --dir "$C" --blockd "$nblockd" --no-mount >"$TMP/up.out" 2>&1 ||
		{ sed 's/^/# /' "$TMP/up.out"; bail "cluster up failed"; }
	. "$C/cluster.env"
	Z=$DNSFS_ZONE
}

D() { dig +norec +time=2 +tries=2 -p "$DNSFS_MDS_PORT" @"$DNSFS_MDS_ADDR" "$@"; }
mounted() { grep -q " $M fuse" /proc/mounts; }
do_mount() {
	"$MOUNT" -f --env "$C/cluster.env" "$@" "$M" >>"$TMP/mount.log" 2>&1 &
	wait_for 10 mounted
}
remount() {
	fusermount3 -u "$M"
	wait_for 5 sh -c "! grep -q ' $M fuse' /proc/mounts"
	do_mount "$@"
}
