#!/bin/bash
# configure-deps.sh: a missing library stops ./configure with the apt-get
# line that installs it. Each case hides one .pc file from pkg-config (a
# directory of symlinks to all the others as PKG_CONFIG_LIBDIR) and runs the
# generated configure in a scratch copy of the few files it needs.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

src=$top_srcdir
for f in configure config.h.in Makefile.in build-aux lib/hash.c; do
	[ -e "$src/$f" ] || bail "$src/$f is missing; run autoreconf -fi first"
done
command -v pkg-config >/dev/null || bail "pkg-config not installed: apt-get install pkg-config"

# pkg-config module, Debian package, configure variable prefix.
DEPS="hiredis:libhiredis-dev:HIREDIS ldns:libldns-dev:LDNS libunbound:libunbound-dev:UNBOUND
libevent:libevent-dev:LIBEVENT fuse3:libfuse3-dev:FUSE3 check:check:CHECK
libisal:libisal-dev:ISAL libzstd:libzstd-dev:ZSTD libcrypto:libssl-dev:CRYPTO"

# Every .pc file pkg-config can see; the first of a name wins, as in its search.
ALL=$TMP/pc-all
mkdir -p "$ALL"
IFS=: read -ra dirs <<< "${PKG_CONFIG_PATH:+$PKG_CONFIG_PATH:}$(pkg-config --variable pc_path pkg-config)"
for d in "${dirs[@]}"; do
	[ -d "$d" ] || continue
	for f in "$d"/*.pc; do
		[ -e "$f" ] && [ ! -e "$ALL/${f##*/}" ] && ln -s "$f" "$ALL/${f##*/}"
	done
done

# The scratch tree: an in-tree configured srcdir cannot serve a VPATH build.
W=$TMP/tree
mkdir -p "$W/lib"
cp -R "$src/configure" "$src/config.h.in" "$src/Makefile.in" "$src/build-aux" "$W/"
cp "$src/lib/hash.c" "$W/lib/"

# Nothing from the caller's environment may stand in for pkg-config: not
# PKG_CONFIG_PATH, not preset FOO_CFLAGS/FOO_LIBS.
unset_env=(-u PKG_CONFIG_PATH -u PKG_CONFIG)
for dep in $DEPS; do
	var=${dep##*:}
	unset_env+=(-u "${var}_CFLAGS" -u "${var}_LIBS")
done

# configure_with PCDIR: run configure seeing only PCDIR's .pc files. The
# cache file is shared to save time; the control run fills it first, so the
# failures below show that it does not hide a missing package (pkg.m4 asks
# pkg-config every time). PKG_CONFIG_LIBDIR is a precious variable that the
# cache remembers, so it stays one path, a symlink switched between runs.
configure_with() {
	ln -sfn "$1" "$TMP/pc"
	(cd "$W" && env "${unset_env[@]}" PKG_CONFIG_LIBDIR="$TMP/pc" \
		./configure -q --cache-file="$TMP/config.cache" --disable-dependency-tracking 2>&1)
}

for dep in $DEPS; do
	mod=${dep%%:*}
	check "pkg-config sees $mod.pc (else this test proves nothing)" test -e "$ALL/$mod.pc"
done

# Control: with every .pc file it succeeds, and fills the shared cache.
out=$(configure_with "$ALL"); rc=$?
check_eq "configure succeeds when every package is there" 0 "$rc"
[ "$rc" = 0 ] || diag "$out"

for dep in $DEPS; do
	mod=${dep%%:*}
	rest=${dep#*:}
	pkg=${rest%%:*}
	hide=$TMP/pc-no-$mod
	mkdir -p "$hide"
	for f in "$ALL"/*.pc; do
		[ "${f##*/}" = "$mod.pc" ] || ln -s "$(readlink "$f")" "$hide/${f##*/}"
	done
	out=$(configure_with "$hide"); rc=$?
	check "configure without $mod fails" test "$rc" -ne 0
	check_match "and says: $mod not found ... apt-get install $pkg" \
		"$mod not found.*apt-get install $pkg\$" "$out"
done

done_testing
