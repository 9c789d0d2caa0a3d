# httpd: lib/httpd and lib/metrics seen by a real client. tests/httpd_demo
# serves a registry on a random loopback port; curl fetches /metrics, whose
# every line must pass tests/promtext-check.awk; then 404, 405, HEAD,
# keep-alive, request bounds, a busy port, and a clean exit on SIGTERM.
. "$top_srcdir/tests/lib.sh"

DEMO="$top_builddir/tests/httpd_demo"
CHECKER="$top_srcdir/tests/promtext-check.awk"
command -v curl >/dev/null || { echo "1..0 # SKIP curl not installed"; exit 0; }

"$DEMO" >"$TMP/demo.out" 2>"$TMP/demo.err" &
pid=$!
on_exit "kill $pid"
wait_for 5 grep -q '^listening ' "$TMP/demo.out" || bail "httpd_demo did not start: $(cat "$TMP/demo.err")"
PORT=$(sed -n 's/^listening //p' "$TMP/demo.out")
check_match "demo bound a port of its own" '^[1-9][0-9]*$' "$PORT"
URL="http://127.0.0.1:$PORT"
CURL="curl -sS --max-time 5"

# fetch PATH [curl args...]: body to $TMP/body, headers to $TMP/headers; prints the status
fetch() {
	local path=$1; shift
	$CURL -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$@" "$URL$path"
}
header() { tr -d '\r' <"$TMP/headers" | sed -n "s/^$1: //Ip" | tail -1; }

# 1. GET /metrics
check_eq "GET /metrics is 200" 200 "$(fetch /metrics)"
check_eq "Content-Type is the 0.0.4 text format" "text/plain; version=0.0.4; charset=utf-8" "$(header Content-Type)"
check_eq "Content-Length matches the body" "$(wc -c <"$TMP/body" | tr -d ' ')" "$(header Content-Length)"
cp "$TMP/body" "$TMP/scrape1"
out=$(awk -f "$CHECKER" "$TMP/scrape1" 2>&1)
if [ $? -eq 0 ]; then ok "every line parses as exposition format ($(wc -l <"$TMP/scrape1") lines)"
else not_ok "every line parses as exposition format"; printf '%s\n' "$out" | head -20 | sed 's/^/# /'; fi
check "the body ends in a newline" test "$(tail -c 1 "$TMP/scrape1" | od -An -c | tr -d ' ')" = '\n'
# the checker itself must catch mistakes (else the line above proves nothing)
bad_checker=0
for bad in 'x{a="b} 1' 'x{a="\q"} 1' 'x 1 2 3' 'x{a="1",a="2"} 1' '1x 1' 'x abc' \
	   $'# TYPE x counter\nx 1\n# TYPE y gauge\ny 1\nx 2' \
	   $'# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1' \
	   $'# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1'; do
	printf '%s\n' "$bad" | awk -f "$CHECKER" >/dev/null 2>&1 && { bad_checker=1; diag "checker accepted: $bad"; }
done
check_eq "the format checker rejects 9 broken inputs" 0 "$bad_checker"

body=$(cat "$TMP/scrape1")
check_match "process cpu seconds" '^process_cpu_seconds_total [0-9.e+-]+$' "$body"
rss=$(sed -n 's/^process_resident_memory_bytes //p' "$TMP/scrape1")
check "resident memory is positive ($rss)" awk -v v="$rss" 'BEGIN { exit !(v > 0) }'
check_match "host cpu seconds by mode" '^node_cpu_seconds_total\{mode="idle"\} [0-9.e+]+$' "$body"
check_match "network bytes by interface (lo)" '^node_network_receive_bytes_total\{device="lo"\} [0-9.e+]+$' "$body"
check_match "labeled counter" '^dnsfs_demo_queries_total\{type="TXT",rcode="NOERROR"\} 42$' "$body"
check "label values are escaped" grep -qF 'dnsfs_demo_queries_total{type="weird \"quoted\"\\",rcode="line\nbreak"} 1' "$TMP/scrape1"
check "help text is escaped" grep -qxF '# HELP dnsfs_demo_latency_seconds Latency of\nsomething \\ in seconds.' "$TMP/scrape1"
check_match "histogram +Inf bucket" '^dnsfs_demo_latency_seconds_bucket\{op="read",le="\+Inf"\} [0-9]+$' "$body"
check_match "histogram 50us bucket" '^dnsfs_demo_latency_seconds_bucket\{op="read",le="5e-05"\} 2$' "$body"

# 2. a second scrape on one connection (keep-alive), rendered anew
$CURL -v -o "$TMP/scrape2" "$URL/metrics" -o "$TMP/scrape3" "$URL/metrics?again=1" 2>"$TMP/curl.v"
check "curl reused the connection" grep -qi 're-using existing connection\|reusing existing connection' "$TMP/curl.v"
check_eq "the callback gauge counts scrapes" "2 3" \
	"$(sed -n 's/^dnsfs_demo_scrapes //p' "$TMP/scrape2") $(sed -n 's/^dnsfs_demo_scrapes //p' "$TMP/scrape3")"

# 3. HEAD: headers only. Spoken by hand, as curl -I would not notice a body.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
timeout 5 cat <&3 | tr -d '\r' >"$TMP/head"
exec 3<&-
check_eq "HEAD /metrics is 200" "HTTP/1.1 200 OK" "$(head -1 "$TMP/head")"
check_eq "HEAD has no body" "" "$(sed '1,/^$/d' "$TMP/head")"
len=$(sed -n 's/^Content-Length: //p' "$TMP/head")
check "HEAD tells the length ($len)" test "${len:-0}" -gt 1000

# 4. errors
check_eq "POST /metrics is 405" 405 "$(fetch /metrics -X POST -d x=1)"
check_eq "405 says what is allowed" "GET, HEAD" "$(header Allow)"
check_eq "PUT /metrics is 405" 405 "$(fetch /metrics -X PUT -d x)"
check_eq "DELETE /metrics is 405" 405 "$(fetch /metrics -X DELETE)"
check_eq "GET /nope is 404" 404 "$(fetch /nope)"
check_eq "404 body" "404 Not Found" "$(cat "$TMP/body")"
check_eq "GET / is 404" 404 "$(fetch /)"
check_eq "a custom route answers" "200 hello" "$(fetch /hello) $(cat "$TMP/body")"
head -c 70000 /dev/zero | tr '\0' a >"$TMP/big"
check_eq "a body over the 64 KiB bound is refused" 413 "$(fetch /hello -X POST --data-binary @"$TMP/big")"
pad=$(head -c 9000 /dev/zero | tr '\0' a)
code=$(fetch /metrics -H "X-Pad: $pad")
check "headers over the 8 KiB bound are refused ($code)" test "$code" -ge 400 -a "$code" -lt 500
check_match "the hello counter saw one request" '^dnsfs_demo_hello_total 1$' "$($CURL "$URL/metrics")"

# 5. a port in use is a clear error, not a silent second server
"$DEMO" -l "127.0.0.1:$PORT" >"$TMP/demo2.out" 2>"$TMP/demo2.err"
check "a second server on the same port fails" test $? -ne 0
check_match "and says why" "Address already in use" "$(cat "$TMP/demo2.err")"
"$DEMO" -l "localhost" >/dev/null 2>"$TMP/demo3.err"
check_match "an address without a port is refused" "bad address" "$(cat "$TMP/demo3.err")"

# 6. still alive, then a clean stop
check_eq "still serving" 200 "$(fetch /metrics)"
kill -TERM "$pid"
wait "$pid"
check_eq "SIGTERM ends it with status 0" 0 "$?"
check "and it said so" grep -q '^stopped$' "$TMP/demo.out"
done_testing
