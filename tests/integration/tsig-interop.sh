# tsig-interop: lib/tsig against the real BIND and Knot tools. tests/tsig_echo
# verifies what dig/nsupdate/kdig sign and answers signed; the tools must accept
# the answers (and must reject them when tsig_echo -c spoils the MAC, which
# shows that they do check). Errors: BADKEY, BADSIG and BADTIME end to end.
. "$top_srcdir/tests/lib.sh"

ECHO="$top_builddir/tests/tsig_echo"
for t in dig nsupdate; do
	command -v "$t" >/dev/null || { echo "1..0 # SKIP $t not installed"; exit 0; }
done

keyfile() {     # keyfile PATH NAME: a BIND key file with a fresh secret
	printf 'key "%s" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' \
		"$2" "$(head -c 32 /dev/urandom | base64)" >"$1"
}
keyfile "$TMP/admin.key" dnsfs-admin
keyfile "$TMP/wrong.key" dnsfs-admin      # same name, other secret
keyfile "$TMP/stranger.key" stranger      # a name the server does not know
SECRET=$(sed -n 's/.*secret "\(.*\)".*/\1/p' "$TMP/admin.key")

# start_echo ARGS...: run tsig_echo for one request; sets PORT and LOG.
n_echo=0
start_echo() {
	n_echo=$((n_echo + 1))
	PORT=$(free_port) || bail "no free port"
	LOG="$TMP/echo.$n_echo.log"
	"$ECHO" -k "$TMP/admin.key" -p "$PORT" "$@" >"$LOG" 2>&1 &
	local pid=$!
	on_exit "kill $pid"
	wait_for 5 grep -q listening "$LOG" || bail "tsig_echo did not start: $(cat "$LOG")"
	ECHO_PID=$pid
}
# stop_echo: wait for tsig_echo to finish its request (it exits by itself).
stop_echo() {
	local i
	for i in $(seq 1 50); do kill -0 "$ECHO_PID" 2>/dev/null || return 0; sleep 0.1; done
	kill "$ECHO_PID" 2>/dev/null
}
DIG_OPTS="+tries=1 +time=3"
bad_sig='tsig verify failure|[Cc]ouldn.t verify|could not be validated|failed to verify'

# 1. dig over UDP: request verifies, the signed answer verifies in dig.
start_echo
out=$(dig -k "$TMP/admin.key" @127.0.0.1 -p "$PORT" $DIG_OPTS fs.example. SOA 2>&1)
stop_echo
check_match "dig UDP request verified by tsig_verify_request" "verified" "$(cat "$LOG")"
check_match "dig got NOERROR with the SOA" "status: NOERROR.*" "$out"
check_match "dig shows our TSIG" "dnsfs-admin\.[[:space:]]+0[[:space:]]+ANY[[:space:]]+TSIG[[:space:]]+hmac-sha256\." "$out"
if printf '%s\n' "$out" | grep -Eq "$bad_sig"; then not_ok "dig verified the signed answer"; diag "$out"; else ok "dig verified the signed answer"; fi

# 2. the same over TCP
start_echo
out=$(dig -k "$TMP/admin.key" @127.0.0.1 -p "$PORT" $DIG_OPTS +tcp fs.example. SOA 2>&1)
stop_echo
check_match "dig TCP request verified" "verified" "$(cat "$LOG")"
if printf '%s\n' "$out" | grep -Eq "$bad_sig" || ! printf '%s\n' "$out" | grep -q "status: NOERROR"; then
	not_ok "dig verified the TCP answer"; diag "$out"
else ok "dig verified the TCP answer"; fi

# 3. negative control: a spoiled MAC is noticed by dig
start_echo -c
out=$(dig -k "$TMP/admin.key" @127.0.0.1 -p "$PORT" $DIG_OPTS fs.example. SOA 2>&1)
stop_echo
check_match "dig rejects a spoiled MAC" "tsig verify failure" "$out"

# 4. AXFR: a 5-message stream, each later message chained (RFC 8945 5.3.1)
start_echo -m 5
out=$(dig -k "$TMP/admin.key" @127.0.0.1 -p "$PORT" $DIG_OPTS fs.example. AXFR 2>&1)
stop_echo
check_match "dig AXFR received all 5 messages" "XFR size: 5 records \(messages 5" "$out"
if printf '%s\n' "$out" | grep -Eq "$bad_sig|[Tt]ransfer failed"; then not_ok "dig verified every AXFR message"; diag "$out"; else ok "dig verified every AXFR message"; fi
start_echo -m 5 -c
out=$(dig -k "$TMP/admin.key" @127.0.0.1 -p "$PORT" $DIG_OPTS fs.example. AXFR 2>&1)
stop_echo
check_match "dig rejects a spoiled AXFR stream" "tsig verify failure" "$out"

# 5. nsupdate: the UPDATE verifies and nsupdate accepts the signed answer
upd="server 127.0.0.1 %s
zone fs.example.
prereq nxrrset 7.i.fs.example. TXT
update add 7.i.fs.example. 1 TXT \"v=1 type=f mode=0644\"
send
"
start_echo
out=$(printf "$upd" "$PORT" | nsupdate -t 3 -k "$TMP/admin.key" 2>&1); rc=$?
stop_echo
check_match "nsupdate UPDATE verified" "opcode 5: verified" "$(cat "$LOG")"
check_eq "nsupdate accepted the signed answer (exit 0)" "0" "$rc"
[ "$rc" = 0 ] || diag "$out"
start_echo -c
out=$(printf "$upd" "$PORT" | nsupdate -t 3 -k "$TMP/admin.key" 2>&1); rc=$?
stop_echo
check "nsupdate fails on a spoiled answer" [ "$rc" != 0 ]
check_match "nsupdate says why" "tsig verify failure" "$out"

# 6. BADKEY: an unknown key name is answered NOTAUTH, TSIG error BADKEY
start_echo
out=$(dig -k "$TMP/stranger.key" @127.0.0.1 -p "$PORT" $DIG_OPTS fs.example. SOA 2>&1)
stop_echo
check_match "tsig_echo reports BADKEY" "stranger\. unknown \(BADKEY\)" "$(cat "$LOG")"
check_match "dig sees NOTAUTH" "status: NOTAUTH" "$out"
check_match "dig sees BADKEY with an empty MAC" "stranger\.[[:space:]]+0[[:space:]]+ANY[[:space:]]+TSIG[[:space:]]+hmac-sha256\. [0-9]+ 300 0 [0-9]+ BADKEY" "$out"

# 7. BADSIG: right name, wrong secret
start_echo
out=$(printf "$upd" "$PORT" | nsupdate -t 3 -k "$TMP/wrong.key" 2>&1); rc=$?
stop_echo
check_match "tsig_echo reports BADSIG" "bad signature \(BADSIG\)" "$(cat "$LOG")"
check_match "nsupdate sees NOTAUTH(BADSIG)" "NOTAUTH\(BADSIG\)" "$out"

# 8. BADTIME: the server's clock 1000 s ahead. The answer is signed, so dig
# gets past the MAC and reports the clock (a spoiled one is a verify failure).
start_echo -s 1000
out=$(dig -k "$TMP/admin.key" @127.0.0.1 -p "$PORT" $DIG_OPTS fs.example. SOA 2>&1)
stop_echo
check_match "tsig_echo reports BADTIME" "1000 s away from now, fudge 300 \(BADTIME\)" "$(cat "$LOG")"
check_match "dig verified the BADTIME answer and reports the clock" "clocks are unsynchronized" "$out"
check_match "BADTIME answer carries the server time" "BADTIME 6 " "$out"
start_echo -s 1000 -c
out=$(dig -k "$TMP/admin.key" @127.0.0.1 -p "$PORT" $DIG_OPTS fs.example. SOA 2>&1)
stop_echo
check_match "a spoiled BADTIME answer fails verification in dig" "tsig verify failure" "$out"

# 9. Knot's kdig, a second implementation
if command -v kdig >/dev/null; then
	start_echo
	out=$(kdig -y "hmac-sha256:dnsfs-admin:$SECRET" @127.0.0.1 -p "$PORT" +retry=0 +time=3 fs.example. SOA 2>&1)
	stop_echo
	check_match "kdig request verified" "verified" "$(cat "$LOG")"
	if printf '%s\n' "$out" | grep -Eq "$bad_sig|;; (WARNING|ERROR)" || ! printf '%s\n' "$out" | grep -q "status: NOERROR"; then
		not_ok "kdig verified the signed answer"; diag "$out"
	else ok "kdig verified the signed answer"; fi
	start_echo -m 4
	out=$(kdig -y "hmac-sha256:dnsfs-admin:$SECRET" @127.0.0.1 -p "$PORT" +retry=0 +time=3 fs.example. AXFR 2>&1)
	stop_echo
	if printf '%s\n' "$out" | grep -Eq "$bad_sig|;; (WARNING|ERROR)" || ! printf '%s\n' "$out" | grep -q "4 messages"; then
		not_ok "kdig verified the AXFR stream"; diag "$out"
	else ok "kdig verified the AXFR stream"; fi
	start_echo -m 4 -c
	out=$(kdig -y "hmac-sha256:dnsfs-admin:$SECRET" @127.0.0.1 -p "$PORT" +retry=0 +time=3 fs.example. AXFR 2>&1)
	stop_echo
	check_match "kdig rejects a spoiled AXFR stream" "failed to verify TSIG" "$out"
	start_echo -c
	out=$(kdig -y "hmac-sha256:dnsfs-admin:$SECRET" @127.0.0.1 -p "$PORT" +retry=0 +time=3 fs.example. SOA 2>&1)
	stop_echo
	check_match "kdig rejects a spoiled MAC" "failed to verify TSIG" "$out"
fi

done_testing
