# blockd: dnsfs-blockd seen by curl. Starts the daemon on a random loopback
# port and checks signed PUT (201, then 200), bad bodies, refused unsigned or
# badly signed requests, GET/Range/HEAD, the listing, /v1/status, /metrics,
# 413, scrub and (with verify_reads = yes) verified reads quarantining
# corrupt blocks, unverified sendfile reads by default, signed reads,
# SIGHUP/SIGTERM, a detached start, 507 on a full tmpfs, and kill -9 under a
# PUT load: every acknowledged block reads back and no temp file is left.
. "$top_srcdir/tests/lib.sh"

BLOCKD="$top_builddir/blockd/dnsfs-blockd"
SIGN="$top_builddir/tests/blocksign"
CHECKER="$top_srcdir/tests/promtext-check.awk"
PROBE="python3 $top_srcdir/tests/integration/blockprobe.py"
for tool in curl python3 sha256sum; do
	command -v "$tool" >/dev/null || bail "$tool is not installed (tools/install-deps)"
done
[ -x "$BLOCKD" ] || bail "$BLOCKD is not built"
[ -x "$SIGN" ] || bail "$SIGN is not built"

# A BIND key file with a fresh secret: keyfile NAME PATH
keyfile() {
	local secret
	secret=$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')
	printf 'key "%s" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$1" "$secret" >"$2"
}
KEY=$TMP/blocks.key
keyfile dnsfs-blocks "$KEY"
keyfile dnsfs-blocks "$TMP/wrong.key"       # same name, other secret
keyfile intruder "$TMP/unknown.key"         # a name blockd does not know

# start_blockd PORT DATA ARGS...: in the foreground, in the background.
pid=
start_blockd() {
	local port=$1 data=$2; shift 2
	"$BLOCKD" --foreground --listen "127.0.0.1:$port" --data "$data" --keyfile "$KEY" \
		--pidfile "$TMP/blockd.pid" --log-level debug "$@" >>"$TMP/blockd.log" 2>&1 &
	pid=$!
	wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port/v1/status" ||
		{ tail -20 "$TMP/blockd.log" | sed 's/^/# /'; bail "dnsfs-blockd did not start"; }
}
stop_blockd() {
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	local rc=$?
	pid=
	return $rc
}
on_exit 'stop_blockd'

P=$(free_port) || bail "no free port"
URL="http://127.0.0.1:$P"
DATA=$TMP/data
start_blockd "$P" "$DATA"
CURL="curl -sS --max-time 20"

# mkblock FILE BYTES: random content; prints its hash.
mkblock() {
	head -c "$2" /dev/urandom >"$1"
	sha256sum <"$1" | cut -c1-64
}
hash_of() { sha256sum <"$1" | cut -c1-64; }
# req METHOD PATH [BODYFILE] [curl args...]: signed; prints the status,
# body in $TMP/body, headers in $TMP/headers. KEYF and SIGN_ARGS may be set.
req() {
	local method=$1 path=$2 body=${3:-} auth; shift; shift; [ $# -gt 0 ] && shift
	auth=$("$SIGN" ${SIGN_ARGS:-} "${KEYF:-$KEY}" "$method" "$path" ${body:+"$body"}) || return 1
	if [ -n "$body" ]; then
		$CURL -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X "$method" \
			-H "Authorization: $auth" --data-binary @"$body" "$@" "$URL$path"
	else
		$CURL -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X "$method" \
			-H "Authorization: $auth" "$@" "$URL$path"
	fi
}
# fetch PATH [curl args...]: unsigned
fetch() {
	local path=$1; shift
	$CURL -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$@" "$URL$path"
}
header() { tr -d '\r' <"$TMP/headers" | sed -n "s/^$1: //Ip" | tail -1; }
metric() { $CURL "$URL/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
blockfile() { echo "$1/${2:0:2}/$2"; }
temps() { find "$1" -name '.tmp-*' | wc -l; }
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# ---- PUT ----------------------------------------------------------------
A=$(mkblock "$TMP/a" 100000)
check_eq "signed PUT of a new block: 201" 201 "$(req PUT "/v1/blocks/$A" "$TMP/a")"
check_eq "the file is where the layout says" 100000 "$(stat -c %s "$(blockfile "$DATA" "$A")")"
check_eq "no temp file left" 0 "$(temps "$DATA")"
touch -d '2001-01-01' "$(blockfile "$DATA" "$A")"
check_eq "the same block again: 200" 200 "$(req PUT "/v1/blocks/$A" "$TMP/a")"
check "a repeated PUT refreshes the mtime (GC sees reuse)" \
	test "$(stat -c %Y "$(blockfile "$DATA" "$A")")" -gt 1000000000
check_eq "PUT reply names the block (ETag)" "\"$A\"" "$(header ETag)"

B=$(mkblock "$TMP/b" 5000)
check_eq "a body that does not hash to the name: 400" 400 "$(req PUT "/v1/blocks/$B" "$TMP/a")"
check_match "400 says why" 'does not hash' "$(cat "$TMP/body")"
check_eq "nothing stored for it" 404 "$(fetch "/v1/blocks/$B")"
check_eq "a malformed name: 400" 400 "$(req PUT "/v1/blocks/xyz" "$TMP/b")"
check_eq "a name of 63 hex digits: 400" 400 "$(fetch "/v1/blocks/${B:1}")"

# ---- refused requests ---------------------------------------------------
code=$($CURL -o "$TMP/body" -w '%{http_code}' -X PUT --data-binary @"$TMP/b" "$URL/v1/blocks/$B")
check_eq "unsigned PUT: 401" 401 "$code"
check_eq "401 gives the reason in one line" "401 Unauthorized: missing Authorization header" "$(cat "$TMP/body")"
check_eq "unsigned PUT stored nothing" 404 "$(fetch "/v1/blocks/$B")"
check_eq "PUT signed with a wrong secret: 401" 401 "$(KEYF=$TMP/wrong.key req PUT "/v1/blocks/$B" "$TMP/b")"
check_match "  reason: bad signature" 'bad signature' "$(cat "$TMP/body")"
check_eq "PUT signed with an unknown key: 401" 401 "$(KEYF=$TMP/unknown.key req PUT "/v1/blocks/$B" "$TMP/b")"
check_match "  reason: unknown key" "unknown key 'intruder'" "$(cat "$TMP/body")"
check_eq "PUT signed 10 minutes ago: 401" 401 \
	"$(SIGN_ARGS="-t $(($(date +%s) - 600))" req PUT "/v1/blocks/$B" "$TMP/b")"
check_match "  reason: stale" 'stale timestamp' "$(cat "$TMP/body")"
auth=$("$SIGN" "$KEY" PUT "/v1/blocks/$B" "$TMP/a")
code=$($CURL -o "$TMP/body" -w '%{http_code}' -X PUT -H "Authorization: $auth" \
	--data-binary @"$TMP/b" "$URL/v1/blocks/$B")
check_eq "a signature over another body: 401" 401 "$code"
check_eq "none of them stored anything" 404 "$(fetch "/v1/blocks/$B")"
check_match "refusals are logged with the reason" 'refused PUT /v1/blocks/.* bad signature' \
	"$(cat "$TMP/blockd.log")"
code=$($CURL -o /dev/null -w '%{http_code}' -X DELETE "$URL/v1/blocks/$A")
check_eq "unsigned DELETE: 401" 401 "$code"
check_eq "  and the block is still there" 200 "$(fetch "/v1/blocks/$A")"
code=$($CURL -o /dev/null -w '%{http_code}' -X POST "$URL/v1/scrub")
check_eq "unsigned POST /v1/scrub: 401" 401 "$code"

# ---- GET, Range, HEAD ---------------------------------------------------
check_eq "GET: 200" 200 "$(fetch "/v1/blocks/$A")"
check "GET: byte-identical" cmp -s "$TMP/body" "$TMP/a"
check_eq "GET: Content-Length" 100000 "$(header Content-Length)"
check_eq "GET: octet-stream" application/octet-stream "$(header Content-Type)"
check_eq "GET: absent block 404" 404 "$(fetch "/v1/blocks/$B")"
check_eq "Range bytes=10-19: 206" 206 "$(fetch "/v1/blocks/$A" -H 'Range: bytes=10-19')"
check_eq "  Content-Range" "bytes 10-19/100000" "$(header Content-Range)"
check "  the right 10 bytes" cmp -s "$TMP/body" <(tail -c +11 "$TMP/a" | head -c 10)
check_eq "Range bytes=-7 (suffix): 206" 206 "$(fetch "/v1/blocks/$A" -H 'Range: bytes=-7')"
check "  the last 7 bytes" cmp -s "$TMP/body" <(tail -c 7 "$TMP/a")
check_eq "Range bytes=99990- : 206" 206 "$(fetch "/v1/blocks/$A" -H 'Range: bytes=99990-')"
check_eq "  10 bytes" 10 "$(wc -c <"$TMP/body" | tr -d ' ')"
check_eq "Range past the end: 416" 416 "$(fetch "/v1/blocks/$A" -H 'Range: bytes=100000-')"
check_eq "  Content-Range bytes */size" "bytes */100000" "$(header Content-Range)"
check_eq "several ranges: the whole block, 200" 200 "$(fetch "/v1/blocks/$A" -H 'Range: bytes=0-1,5-6')"
exec 3<>"/dev/tcp/127.0.0.1/$P"
printf 'HEAD /v1/blocks/%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$A" >&3
timeout 5 cat <&3 | tr -d '\r' >"$TMP/head"
exec 3<&-
check_eq "HEAD: 200" "HTTP/1.1 200 OK" "$(head -1 "$TMP/head")"
check_eq "HEAD: Content-Length is the block's size" 100000 "$(sed -n 's/^Content-Length: //p' "$TMP/head")"
check_eq "HEAD: no body" "" "$(sed '1,/^$/d' "$TMP/head")"
check_eq "HEAD of an absent block: 404" 404 "$(fetch "/v1/blocks/$B" -I)"
$CURL -v -o /dev/null "$URL/v1/blocks/$A" -o /dev/null "$URL/v1/status" 2>"$TMP/curl.v"
check "keep-alive: curl reused the connection" grep -qi 're-using existing connection\|reusing existing connection' "$TMP/curl.v"
# Nagle's algorithm against the client's delayed ACK would add 40 ms to every
# keep-alive reply: none of 20 GETs of 100 kB may take 35 ms or more.
out=$($PROBE keepalive "$P" "$A" 20)
check_match "keep-alive: 20 GETs without 40 ms stalls ($out)" 'max_ms ([0-9]|[12][0-9]|3[0-4])$' "$out"
G=$(mkblock "$TMP/g" 3000)
check_eq "a client signing from the documented formula (Python hmac)" "put 201 get 200 same True" \
	"$($PROBE put "$P" "$KEY" "$TMP/g")"

# ---- DELETE and replay ----------------------------------------------------
check_eq "signed PUT of B: 201" 201 "$(req PUT "/v1/blocks/$B" "$TMP/b")"
auth=$("$SIGN" "$KEY" DELETE "/v1/blocks/$B")
check_eq "signed DELETE: 204" 204 "$($CURL -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: $auth" "$URL/v1/blocks/$B")"
check_eq "  gone" 404 "$(fetch "/v1/blocks/$B")"
check_eq "the same DELETE header again (replay): 401" 401 \
	"$($CURL -o "$TMP/body" -w '%{http_code}' -X DELETE -H "Authorization: $auth" "$URL/v1/blocks/$B")"
check_match "  reason: replayed nonce" 'replayed nonce' "$(cat "$TMP/body")"
check_eq "DELETE of an absent block: 404" 404 "$(req DELETE "/v1/blocks/$B")"

# ---- the GC's conditional DELETE (X-Dnsfs-Unmodified-Before) -----------------
check_eq "PUT B again: 201" 201 "$(req PUT "/v1/blocks/$B" "$TMP/b")"
now=$(date +%s)
check_eq "DELETE of a block stored after the cut-off: 412" 412 \
	"$(req DELETE "/v1/blocks/$B" "" -H "X-Dnsfs-Unmodified-Before: $((now - 60))")"
check_eq "  still there" 200 "$(fetch "/v1/blocks/$B")"
check_eq "a cut-off that is not a number: 400" 400 \
	"$(req DELETE "/v1/blocks/$B" "" -H "X-Dnsfs-Unmodified-Before: soon")"
touch -d @$((now - 120)) "$DATA"/*/"$B"
check_eq "re-PUT of the aged block (a writer's dedup): 200" 200 "$(req PUT "/v1/blocks/$B" "$TMP/b")"
check_eq "  refreshes its age: DELETE before $((now - 60)) still 412" 412 \
	"$(req DELETE "/v1/blocks/$B" "" -H "X-Dnsfs-Unmodified-Before: $((now - 60))")"
touch -d @$((now - 120)) "$DATA"/*/"$B"
check_eq "an aged block, unused since: DELETE 204" 204 \
	"$(req DELETE "/v1/blocks/$B" "" -H "X-Dnsfs-Unmodified-Before: $((now - 60))")"
check_eq "  gone" 404 "$(fetch "/v1/blocks/$B")"

# ---- too large ------------------------------------------------------------
head -c $((4 * 1024 * 1024 + 1)) /dev/zero >"$TMP/big"
BIG=$(hash_of "$TMP/big")
check_eq "a body over max_block (4 MiB): 413" 413 "$(req PUT "/v1/blocks/$BIG" "$TMP/big")"
check_eq "  nothing stored, no temp file" "404 0" "$(fetch "/v1/blocks/$BIG") $(temps "$DATA")"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$TMP/max"
MAX=$(hash_of "$TMP/max")
check_eq "a body of exactly 4 MiB: 201" 201 "$(req PUT "/v1/blocks/$MAX" "$TMP/max")"
check_eq "  and back" 200 "$(fetch "/v1/blocks/$MAX")"
check "  byte-identical" cmp -s "$TMP/body" "$TMP/max"

# ---- listing ------------------------------------------------------------
for i in $(seq 1 20); do
	h=$(mkblock "$TMP/l$i" $((i * 37)))
	[ "$(req PUT "/v1/blocks/$h" "$TMP/l$i")" = 201 ] || not_ok "listing setup PUT $i"
done
fetch "/v1/blocks?limit=10000" >/dev/null
check_eq "listing: application/x-ndjson" application/x-ndjson "$(header Content-Type)"
cut -d'"' -f4 "$TMP/body" >"$TMP/list.all"
stored=$(find "$DATA"/[0-9a-f][0-9a-f] -type f ! -name '.tmp-*' -printf '%f\n' | sort)
check_eq "listing: every block, in hash order" "$stored" "$(cat "$TMP/list.all")"
check_eq "listing: 23 blocks" 23 "$(wc -l <"$TMP/list.all" | tr -d ' ')"
check_match "listing: lines carry size and mtime" "^\\{\"hash\":\"$A\",\"size\":100000,\"mtime\":[0-9]+\\}\$" \
	"$(grep "$A" "$TMP/body")"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$TMP/body"
check "listing: each line is JSON" test $? -eq 0
after= pages=0
: >"$TMP/list.paged"
while :; do
	fetch "/v1/blocks?limit=3${after:+&after=$after}" >/dev/null
	cut -d'"' -f4 "$TMP/body" >>"$TMP/list.paged"
	n=$(grep -c . "$TMP/body")
	pages=$((pages + 1))
	[ "$n" -lt 3 ] && break
	after=$(tail -1 "$TMP/body" | cut -d'"' -f4)
	[ "$pages" -gt 50 ] && break
done
check "listing by pages of 3 gives the same sequence ($pages pages)" cmp -s "$TMP/list.all" "$TMP/list.paged"
check_eq "listing after the last: empty" "200 0" \
	"$(fetch "/v1/blocks?after=$(tail -1 "$TMP/list.all")") $(wc -c <"$TMP/body" | tr -d ' ')"
check_eq "listing limit over 10000: 400" 400 "$(fetch "/v1/blocks?limit=10001")"
check_eq "listing with a bad cursor: 400" 400 "$(fetch "/v1/blocks?after=xyz")"

# ---- status and metrics -----------------------------------------------------
check_eq "GET /v1/status: 200" 200 "$(fetch /v1/status)"
st=$(cat "$TMP/body")
check_eq "status: JSON with the block count" 23 "$(json 'd["blocks"]' <<<"$st")"
check_eq "status: used = the sizes summed" "$(find "$DATA"/[0-9a-f][0-9a-f] -type f -printf '%s\n' | awk '{s += $1} END {print s}')" \
	"$(json 'd["used"]' <<<"$st")"
check_eq "status: capacity, free, version, node id" True \
	"$(json 'd["capacity"] >= d["free"] > 0 and d["version"].startswith("dnsfs-blockd ") and len(d["node_id"]) == 32' <<<"$st")"
check_eq "status: node id is the data dir's id" "$(cat "$DATA/id")" "$(json 'd["node_id"]' <<<"$st")"
check_eq "GET /metrics: 200" 200 "$(fetch /metrics)"
cp "$TMP/body" "$TMP/scrape"
out=$(awk -f "$CHECKER" "$TMP/scrape" 2>&1)
if [ $? -eq 0 ]; then ok "/metrics parses as exposition format ($(wc -l <"$TMP/scrape") lines)"
else not_ok "/metrics parses as exposition format"; printf '%s\n' "$out" | head -20 | sed 's/^/# /'; fi
m=$(cat "$TMP/scrape")
check_match "metrics: PUTs by status" '^dnsfs_blockd_requests_total\{method="PUT",code="201"\} [0-9]+' "$m"
check_match "metrics: 401s by status" '^dnsfs_blockd_requests_total\{method="PUT",code="401"\} [1-9]' "$m"
check_match "metrics: auth failures by reason" '^dnsfs_blockd_auth_failures_total\{reason="bad_signature"\} [1-9]' "$m"
check_match "metrics: request latency histogram" '^dnsfs_blockd_request_duration_seconds_bucket\{method="GET",le="\+Inf"\} [1-9]' "$m"
check_match "metrics: fsync latency histogram" '^dnsfs_blockd_fsync_duration_seconds_count [1-9]' "$m"
check_match "metrics: bytes in" '^dnsfs_blockd_received_bytes_total [1-9]' "$m"
check_match "metrics: bytes out" '^dnsfs_blockd_sent_bytes_total [1-9]' "$m"
check_match "metrics: blocks gauge" '^dnsfs_blockd_blocks 23$' "$m"
check_match "metrics: disk free and used" '^dnsfs_blockd_free_bytes [1-9].*' "$m"
check_match "metrics: used bytes" '^dnsfs_blockd_used_bytes [1-9]' "$m"
check_match "metrics: process cpu" '^process_cpu_seconds_total ' "$m"
check_match "metrics: host cpu" '^node_cpu_seconds_total\{mode="idle"\}' "$m"
check_match "metrics: host network" '^node_network_receive_bytes_total\{device="lo"\}' "$m"

# ---- integrity: scrub and verified reads ----------------------------------
# flip BLOCKFILE OFFSET: change one byte in place.
flip() {
	local c
	c=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	printf "$(printf '\\%03o' $(((c ^ 1) & 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
C1=$(mkblock "$TMP/c1" 30000)
C2=$(mkblock "$TMP/c2" 30000)
req PUT "/v1/blocks/$C1" "$TMP/c1" >/dev/null
req PUT "/v1/blocks/$C2" "$TMP/c2" >/dev/null
flip "$(blockfile "$DATA" "$C1")" 777
check "setup: C1 no longer matches its hash" test "$(hash_of "$(blockfile "$DATA" "$C1")")" != "$C1"
passes0=$(json 'd["scrub"]["passes"]' <<<"$($CURL "$URL/v1/status")")
check_eq "signed POST /v1/scrub: 202" 202 "$(req POST /v1/scrub)"
check_match "  it started" '"started"' "$(cat "$TMP/body")"
wait_for 20 eval '[ "$(json "d[\"scrub\"][\"passes\"]" <<<"$($CURL "$URL/v1/status")")" -gt "$passes0" ]'
check "scrub: the pass completed" test $? -eq 0
check_eq "scrub: C1 moved to quarantine/" 1 "$(find "$DATA/quarantine" -name "$C1.*" | wc -l)"
check_eq "scrub: C1 is no longer served" 404 "$(fetch "/v1/blocks/$C1")"
check_eq "scrub: C2 untouched" 200 "$(fetch "/v1/blocks/$C2")"
check_match "scrub: counted in metrics" '^dnsfs_blockd_scrub_corrupt_total 1$' "$($CURL "$URL/metrics")"
check_match "scrub: quarantine gauge" '^dnsfs_blockd_quarantined_blocks 1$' "$($CURL "$URL/metrics")"
check_eq "scrub: status counts it" 1 "$(json 'd["scrub"]["corrupt_total"]' <<<"$($CURL "$URL/v1/status")")"
# verify_reads is off by default: GET sends the file as it is (sendfile) and
# leaves the check to the client, which hashes every block it reads.
check_eq "status: verify_reads off by default" False "$(json 'd["verify_reads"]' <<<"$($CURL "$URL/v1/status")")"
flip "$(blockfile "$DATA" "$C2")" 0
check_eq "unverified read of a corrupt block: 200" 200 "$(fetch "/v1/blocks/$C2")"
check "  the bytes on disk, which do not hash to the name" \
	test "$(hash_of "$TMP/body")" = "$(hash_of "$(blockfile "$DATA" "$C2")")" -a "$(hash_of "$TMP/body")" != "$C2"
check_eq "  not quarantined" 0 "$(find "$DATA/quarantine" -name "$C2.*" | wc -l)"
check_match "  not counted as a corrupt read" '^dnsfs_blockd_read_corrupt_total 0$' "$($CURL "$URL/metrics")"

# ---- signals --------------------------------------------------------------
cp "$KEY" "$TMP/old.key"
keyfile dnsfs-blocks "$TMP/new.key"
cp "$TMP/new.key" "$KEY"
kill -HUP "$pid"
sleep 0.3
D=$(mkblock "$TMP/d" 1000)
check_eq "SIGHUP: the new key works" 201 "$(req PUT "/v1/blocks/$D" "$TMP/d")"
E=$(mkblock "$TMP/e" 1000)
check_eq "SIGHUP: the old key is refused" 401 "$(KEYF=$TMP/old.key req PUT "/v1/blocks/$E" "$TMP/e")"
check "pid file written" test "$(cat "$TMP/blockd.pid" 2>/dev/null)" = "$pid"
"$BLOCKD" --foreground --listen "127.0.0.1:0" --data "$DATA" >"$TMP/second.out" 2>&1
check_eq "a second blockd on the same data dir: exit 1" 1 $?
check_match "  says it is in use" 'in use' "$(cat "$TMP/second.out")"
stop_blockd
check "SIGTERM: clean exit" test $? -eq 0
check "SIGTERM: pid file removed" test ! -e "$TMP/blockd.pid"

"$BLOCKD" --bogus-flag >/dev/null 2>&1
check_eq "bad argument: exit 2" 2 $?
"$BLOCKD" --foreground --listen 127.0.0.1:notaport --data "$DATA" >"$TMP/bad.out" 2>&1
check_eq "bad listen address: exit 1" 1 $?
check_match "  says which" 'notaport' "$(cat "$TMP/bad.out")"
"$BLOCKD" --foreground --listen 127.0.0.1:0 >"$TMP/bad.out" 2>&1
check_eq "no data directory: exit 1" 1 $?
check_match "  says so" 'no data directory' "$(cat "$TMP/bad.out")"

# ---- a config file, detached, signed reads ----------------------------------
P2=$(free_port)
cat >"$TMP/blockd.conf" <<EOF
# dnsfs-blockd test configuration
listen = 127.0.0.1:$P2
data = $DATA
keyfile = $KEY
max_block = 64KiB
capacity = 10GiB
auth_reads = yes
scrub_interval = 0
scrub_rate = 100MiB
verify_reads = yes
node_id = "blockd-test-1"
log_level = info
EOF
"$BLOCKD" -c "$TMP/blockd.conf" --pidfile "$TMP/blockd2.pid" >>"$TMP/blockd2.log" 2>&1
check_eq "detached start: exit 0 once listening" 0 $?
pid2=$(cat "$TMP/blockd2.pid" 2>/dev/null)
[ -n "$pid2" ] && on_exit "kill $pid2"
URL="http://127.0.0.1:$P2"
check_eq "detached: answers at once" 200 "$(fetch /v1/status)"
check_eq "config: node_id" blockd-test-1 "$(json 'd["node_id"]' <"$TMP/body")"
check_eq "config: capacity" $((10 * 1024 * 1024 * 1024)) "$(json 'd["capacity"]' <"$TMP/body")"
check_eq "auth_reads: unsigned GET is 401" 401 "$(fetch "/v1/blocks/$A")"
check_eq "auth_reads: unsigned listing is 401" 401 "$(fetch "/v1/blocks")"
check_eq "auth_reads: signed GET is 200" 200 "$(req GET "/v1/blocks/$A")"
check "  byte-identical" cmp -s "$TMP/body" "$TMP/a"
check_eq "auth_reads: signed listing is 200" 200 "$(req GET "/v1/blocks")"
check_eq "auth_reads: status stays open" 200 "$(fetch /v1/status)"
head -c 70000 /dev/urandom >"$TMP/f"
check_eq "max_block = 64KiB: a 70000-byte PUT is 413" 413 "$(req PUT "/v1/blocks/$(hash_of "$TMP/f")" "$TMP/f")"
check_eq "verify_reads = yes: in the status" True "$(json 'd["verify_reads"]' <<<"$($CURL "$URL/v1/status")")"
check_eq "verified read: a good block 200" 200 "$(req GET "/v1/blocks/$A")"
check "  byte-identical" cmp -s "$TMP/body" "$TMP/a"
check_eq "verified read: Range bytes=10-19: 206" 206 "$(req GET "/v1/blocks/$A" "" -H 'Range: bytes=10-19')"
check "  the right 10 bytes" cmp -s "$TMP/body" <(tail -c +11 "$TMP/a" | head -c 10)
check_eq "a corrupt block is not served (verified read): 404" 404 "$(req GET "/v1/blocks/$C2")"
check_match "  404 says why" 'failed verification' "$(cat "$TMP/body")"
check_eq "  and is quarantined" 1 "$(find "$DATA/quarantine" -name "$C2.*" | wc -l)"
check_match "  counted" '^dnsfs_blockd_read_corrupt_total 1$' "$($CURL "$URL/metrics")"
check_eq "a good copy can be PUT again: 201" 201 "$(req PUT "/v1/blocks/$C2" "$TMP/c2")"
check_eq "  and is served: 200" 200 "$(req GET "/v1/blocks/$C2")"
check "  byte-identical" cmp -s "$TMP/body" "$TMP/c2"
[ -n "$pid2" ] && kill -TERM "$pid2"
wait_for 10 test ! -e "$TMP/blockd2.pid"
check "detached: SIGTERM stops it and removes the pid file" test ! -e "$TMP/blockd2.pid"
printf 'data = %s\nbogus_key = 1\n' "$DATA" >"$TMP/bad.conf"
"$BLOCKD" -c "$TMP/bad.conf" --foreground >"$TMP/bad.out" 2>&1
check_eq "config: unknown key is exit 1" 1 $?
check_match "  named with its line" 'bad.conf:2.*bogus_key' "$(cat "$TMP/bad.out")"

# ---- a full file system: 507 ----------------------------------------------
SMALL=$TMP/small
mkdir -p "$SMALL"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=1m tmpfs "$SMALL" 2>/dev/null; then
	on_exit "umount -l '$SMALL'"
	P3=$(free_port)
	start_blockd "$P3" "$SMALL/data"
	URL="http://127.0.0.1:$P3"
	F1=$(mkblock "$TMP/f1" 600000)
	F2=$(mkblock "$TMP/f2" 600000)
	check_eq "tmpfs of 1 MiB: the first 600 kB block fits (201)" 201 "$(req PUT "/v1/blocks/$F1" "$TMP/f1")"
	check_eq "the second does not: 507" 507 "$(req PUT "/v1/blocks/$F2" "$TMP/f2")"
	check_match "  507 says why" 'No space left' "$(cat "$TMP/body")"
	check_eq "  no partial block and no temp file" "404 0" "$(fetch "/v1/blocks/$F2") $(temps "$SMALL/data")"
	check_eq "  the first is intact" 200 "$(fetch "/v1/blocks/$F1")"
	check "  byte-identical" cmp -s "$TMP/body" "$TMP/f1"
	check_eq "after a DELETE it fits: 201" "204 201" \
		"$(req DELETE "/v1/blocks/$F1") $(req PUT "/v1/blocks/$F2" "$TMP/f2")"
	stop_blockd
	umount "$SMALL"
else
	diag "not root or no tmpfs: the 507 check on a full file system is skipped"
fi

# ---- kill -9 under a PUT load -----------------------------------------------
P4=$(free_port)
KDATA=$TMP/kdata
start_blockd "$P4" "$KDATA"
URL="http://127.0.0.1:$P4"
# loader N: PUT random blocks until the daemon is gone; log "hash code".
loader() {
	local n=$1 i=0 f h auth code
	while [ $i -lt 400 ]; do
		i=$((i + 1))
		f=$TMP/k$n.$i
		h=$(mkblock "$f" $(((RANDOM % 512 + 1) * 1024)))
		auth=$("$SIGN" "$KEY" PUT "/v1/blocks/$h" "$f")
		code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X PUT \
			-H "Authorization: $auth" --data-binary @"$f" "$URL/v1/blocks/$h")
		echo "$h $code $f" >>"$TMP/loader.$n"
		case $code in 200|201) ;; *) return 0 ;; esac
	done
}
lpids=
for n in 1 2 3 4; do loader $n & lpids="$lpids $!"; done
sleep 2
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid=
wait $lpids
acked=$(cat "$TMP"/loader.* | awk '$2 == 200 || $2 == 201' | wc -l)
check "kill -9: some PUTs were acknowledged before ($acked)" test "$acked" -gt 10
diag "temp files left by the kill: $(temps "$KDATA")"
# and one more, as a kill in the middle of a write leaves it
head -c 1000 /dev/urandom >"$KDATA/ab/.tmp-ab$(printf '%062d' 0)-1-0"
start_blockd "$P4" "$KDATA"
check_eq "restart: no temp file remains" 0 "$(temps "$KDATA")"
bad=0
while read -r h code f; do
	case $code in 200|201) ;; *) continue ;; esac
	c=$($CURL -o "$TMP/kbody" -w '%{http_code}' "$URL/v1/blocks/$h")
	if [ "$c" != 200 ] || ! cmp -s "$TMP/kbody" "$f"; then
		bad=$((bad + 1))
		diag "acknowledged block $h: GET $c"
	fi
done < <(cat "$TMP"/loader.*)
check_eq "restart: every acknowledged PUT reads back byte-identical ($acked blocks)" 0 "$bad"
check_eq "restart: the store holds exactly what is on disk" \
	"$(find "$KDATA"/[0-9a-f][0-9a-f] -type f | wc -l)" "$(json 'd["blocks"]' <<<"$($CURL "$URL/v1/status")")"
stop_blockd

done_testing
