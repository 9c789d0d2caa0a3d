# fuzz.sh: run each libFuzzer target of the sanitizer build for a bounded time
# (DNSFS_FUZZ_SECONDS, default 20) from tests/fuzz/corpus/<target>; one TAP
# line per target. A crash leaves its input in $top_builddir/_fuzz/.
. "$top_srcdir/tests/lib.sh"

secs=${DNSFS_FUZZ_SECONDS:-20}
out="$top_builddir/_fuzz"
mkdir -p "$out"
for bin in "$top_builddir"/tests/fuzz/fuzz_*; do
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	name=$(basename "$bin")
	seeds="$top_srcdir/tests/fuzz/corpus/$name"
	work="$TMP/$name"
	mkdir -p "$work"
	[ -d "$seeds" ] && cp -r "$seeds/." "$work/"
	if "$bin" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 \
	     -artifact_prefix="$out/$name-" "$work" >"$out/$name.log" 2>&1; then
		ok "$name: $(grep -Eo '#[0-9]+[[:space:]]+DONE.*' "$out/$name.log" | tail -1)"
	else
		not_ok "$name crashed; see $out/$name.log"
		tail -30 "$out/$name.log" | sed 's/^/# /'
	fi
done
done_testing
