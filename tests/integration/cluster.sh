#!/bin/bash
# cluster.sh: `dnsfsctl cluster up|status|down` on a real redis-server —
# the env file contract, idempotent up, durability across down/up and kill -9,
# pid-file safety, the TSIG key file, and the command-line errors.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

command -v redis-server >/dev/null || bail "redis-server not installed: apt-get install redis-server"
command -v redis-cli >/dev/null || bail "redis-cli not installed: apt-get install redis-tools"

# alive PID: the process exists and is not a zombie.
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$s" ] && [ "${s#Z}" = "$s" ]; }
gone() { ! alive "$1"; }
# envval FILE KEY: the value of KEY after sourcing FILE in a subshell.
envval() { ( set +u; . "$1" && eval "printf '%s' \"\${$2}\"" ); }

C=$TMP/c
on_exit "\"$DNSFSCTL\" cluster down --dir \"$C\""

# --- first up, with a relative --dir ---------------------------------------
out=$(cd "$TMP" && "$DNSFSCTL" cluster up --dir c --no-mount 2>&1); rc=$?
check_eq "up --no-mount exits 0" 0 "$rc"
[ "$rc" = 0 ] || { diag "$out"; bail "cluster up failed"; }
check_match "up reports redis started" '^redis +started +pid [0-9]+' "$out"

ENV=$C/cluster.env
check "cluster.env exists" test -f "$ENV"
for k in DNSFS_ZONE DNSFS_MDS_ADDR DNSFS_MDS_PORT DNSFS_TSIG_KEYFILE DNSFS_BLOCKD \
	 DNSFS_BLOCKD_COUNT DNSFS_REDIS DNSFS_MOUNT; do
	check "cluster.env sets $k" grep -q "^$k=" "$ENV"
done
check "cluster.env sources cleanly under set -eu" bash -euc ". '$ENV'"
check_eq "DNSFS_ZONE is the default, with its final dot" "dnsfs.test." "$(envval "$ENV" DNSFS_ZONE)"
check_eq "DNSFS_MDS_ADDR is loopback" 127.0.0.1 "$(envval "$ENV" DNSFS_MDS_ADDR)"
check_match "DNSFS_MDS_PORT is a port" '^[1-9][0-9]{3,4}$' "$(envval "$ENV" DNSFS_MDS_PORT)"
check_eq "DNSFS_REDIS is the absolute socket" "unix:$C/redis.sock" "$(envval "$ENV" DNSFS_REDIS)"
check_eq "DNSFS_TSIG_KEYFILE is absolute" "$C/tsig.key" "$(envval "$ENV" DNSFS_TSIG_KEYFILE)"
check_eq "DNSFS_MOUNT defaults to DIR/mnt" "$C/mnt" "$(envval "$ENV" DNSFS_MOUNT)"
check_eq "DNSFS_BLOCKD_COUNT defaults to 6" 6 "$(envval "$ENV" DNSFS_BLOCKD_COUNT)"
blockd=$(envval "$ENV" DNSFS_BLOCKD)
check_match "DNSFS_BLOCKD is 6 loopback host:port words" \
	'^127\.0\.0\.1:[0-9]+( 127\.0\.0\.1:[0-9]+){5}$' "$blockd"
ports="$(envval "$ENV" DNSFS_MDS_PORT) $(echo "$blockd" | sed 's/127\.0\.0\.1://g')"
check_eq "the 7 ports are distinct" 7 "$(echo "$ports" | tr ' ' '\n' | sort -u | wc -l)"

pid=$(cat "$C/redis.pid" 2>/dev/null)
check "redis.pid names a live process" alive "$pid"
check_match "it is redis-server" 'redis-server' "$(cat /proc/"$pid"/cmdline 2>/dev/null | tr '\0' ' ')"
SOCK=$C/redis.sock
RC() { redis-cli -s "$SOCK" "$@"; }
check_eq "redis answers PING on the socket" PONG "$(RC ping 2>&1)"
check_eq "appendonly is on" "appendonly yes" "$(RC config get appendonly | tr '\n' ' ' | sed 's/ $//')"
check_eq "appendfsync is always" "appendfsync always" "$(RC config get appendfsync | tr '\n' ' ' | sed 's/ $//')"
check_eq "no TCP port" "port 0" "$(RC config get port | tr '\n' ' ' | sed 's/ $//')"

out=$("$DNSFSCTL" cluster status --dir "$C"); rc=$?
check_eq "status exits 0 when all runs" 0 "$rc"
check_match "status shows redis, its pid, socket and persistence" \
	"^redis +running +pid $pid +unix:$SOCK +appendonly=yes appendfsync=always\$" "$out"

# --- up again is a no-op ------------------------------------------------------
before=$(cat "$ENV")
out=$("$DNSFSCTL" cluster up --dir "$C" --no-mount); rc=$?
check_eq "second up exits 0" 0 "$rc"
check_match "second up finds redis running" "^redis +running +pid $pid \\(already\\)" "$out"
check_eq "second up keeps the redis pid" "$pid" "$(cat "$C/redis.pid")"
check_eq "second up keeps cluster.env (ports, zone) unchanged" "$before" "$(cat "$ENV")"
out=$("$DNSFSCTL" cluster up --dir "$C" --no-mount --zone other.test 2>&1); rc=$?
check_eq "up with a different --zone than recorded exits 1" 1 "$rc"
check_match "and says which zone the cluster has" 'serves zone dnsfs\.test\.' "$out"

# --- down keeps data ------------------------------------------------------------
check_eq "write a key" OK "$(RC set dnsfs:test:k1 v1)"
out=$("$DNSFSCTL" cluster down --dir "$C"); rc=$?
check_eq "down exits 0" 0 "$rc"
check_match "down reports redis stopped" "^redis +stopped +pid $pid\$" "$out"
check "the redis-server process is gone" gone "$pid"
check "redis.pid is removed" test ! -e "$C/redis.pid"
"$DNSFSCTL" cluster status --dir "$C" >/dev/null; rc=$?
check_eq "status exits 3 when stopped" 3 "$rc"
check "data stays after down (AOF, key, env)" test -d "$C/redis/appendonlydir" -a -f "$C/tsig.key" -a -f "$ENV"

"$DNSFSCTL" cluster up --dir "$C" --no-mount >/dev/null; rc=$?
check_eq "up after down exits 0" 0 "$rc"
check_eq "the key survived down and up" v1 "$(RC get dnsfs:test:k1)"
check_eq "up after down keeps cluster.env" "$before" "$(cat "$ENV")"

# --- kill -9: acknowledged writes survive, up restarts ---------------------------
check_eq "write a key just before kill -9" OK "$(RC set dnsfs:test:k2 v2)"
pid=$(cat "$C/redis.pid")
kill -9 "$pid"
wait_for 5 gone "$pid"
out=$("$DNSFSCTL" cluster status --dir "$C"); rc=$?
check_eq "status exits 3 after kill -9" 3 "$rc"
check_match "status names the stale pid" "^redis +stopped .*pid $pid" "$out"
"$DNSFSCTL" cluster up --dir "$C" --no-mount >/dev/null; rc=$?
check_eq "up after kill -9 exits 0" 0 "$rc"
newpid=$(cat "$C/redis.pid")
check "up started a new redis-server" test "$newpid" != "$pid"
check "and it is alive" alive "$newpid"
check_eq "the key acknowledged before kill -9 is there (appendfsync always)" v2 "$(RC get dnsfs:test:k2)"

# --- a pid file never kills another program ---------------------------------------
"$DNSFSCTL" cluster down --dir "$C" >/dev/null
sleep 300 &
sleeper=$!
on_exit "kill $sleeper"
echo "$sleeper" > "$C/redis.pid"
out=$("$DNSFSCTL" cluster down --dir "$C"); rc=$?
check_eq "down with a pid file naming another program exits 0" 0 "$rc"
check "that program is left alone" alive "$sleeper"
check "the misleading pid file is removed" test ! -e "$C/redis.pid"
kill "$sleeper"

out=$("$DNSFSCTL" cluster down --dir "$C"); rc=$?
check_eq "down twice exits 0" 0 "$rc"
check_match "and says redis was not running" '^redis +stopped +\(was not running\)$' "$out"

# --- the TSIG key file -----------------------------------------------------------
KEY=$C/tsig.key
check_eq "tsig.key is mode 600" 600 "$(stat -c %a "$KEY")"
check_match "tsig.key is a BIND hmac-sha256 key named dnsfs-admin" \
	'^key "dnsfs-admin" \{ algorithm hmac-sha256; secret "[A-Za-z0-9+/]{43}="; \};$' \
	"$(tr -s '\n\t' '  ' < "$KEY" | sed 's/ $//')"
# nsupdate exits 0 on empty input even with a bad key, but then complains:
# a key it can read gives no output at all (checked against a broken one).
check_eq "nsupdate -k reads tsig.key" "" "$(nsupdate -k "$KEY" </dev/null 2>&1)"
echo 'key "x" { algorithm hmac-sha256; secret "not base64!"; };' > "$TMP/bad.key"
check_match "nsupdate -k complains about a broken key (control)" '.' "$(nsupdate -k "$TMP/bad.key" </dev/null 2>&1)"
noport=$(free_port)
out=$(dig -k "$KEY" @127.0.0.1 -p "$noport" +tries=1 +time=1 dnsfs.test. SOA 2>&1)
check_eq "dig -k reads tsig.key" "" "$(grep -Ei "couldn't|read key" <<< "$out")"
out=$(dig -k "$TMP/bad.key" @127.0.0.1 -p "$noport" +tries=1 +time=1 dnsfs.test. SOA 2>&1)
check_match "dig -k complains about a broken key (control)" "[Cc]ouldn't|[Rr]ead key" "$out"

# --- another cluster: options, then errors ------------------------------------------
C2=$TMP/c2
on_exit "\"$DNSFSCTL\" cluster down --dir \"$C2\""
"$DNSFSCTL" cluster up --dir "$C2" --no-mount --zone Example.ORG --blockd 2 >/dev/null; rc=$?
check_eq "up --zone --blockd 2 exits 0" 0 "$rc"
check_eq "--zone is lower-cased and gets its final dot" example.org. "$(envval "$C2/cluster.env" DNSFS_ZONE)"
check_match "--blockd 2 gives two host:port words" '^127\.0\.0\.1:[0-9]+ 127\.0\.0\.1:[0-9]+$' \
	"$(envval "$C2/cluster.env" DNSFS_BLOCKD)"
"$DNSFSCTL" cluster down --dir "$C2" >/dev/null
check "the second cluster's redis is stopped" test ! -e "$C2/redis.pid"

long=$TMP/$(printf 'd%.0s' $(seq 1 110))
out=$("$DNSFSCTL" cluster up --dir "$long" --no-mount 2>&1); rc=$?
check_eq "an over-long --dir exits 1" 1 "$rc"
check_match "with one sentence on the socket path limit" \
	'^dnsfsctl: .*too long.*107-byte limit of Unix socket paths' "$out"
check_eq "and it is one line" 1 "$(printf '%s\n' "$out" | wc -l)"
check "and creates nothing" test ! -e "$long"

out=$("$DNSFSCTL" cluster status --dir "$TMP/none" 2>&1); rc=$?
check_eq "status of a directory without a cluster exits 1" 1 "$rc"
check_match "and says so" '^dnsfsctl: no cluster in' "$out"
"$DNSFSCTL" cluster down --dir "$TMP/none" 2>/dev/null; rc=$?
check_eq "down of a directory without a cluster exits 1" 1 "$rc"

out=$("$DNSFSCTL" cluster up --dir "$C" --bogus 2>&1 >/dev/null); rc=$?
check_eq "an unknown option exits 2" 2 "$rc"
check_match "with usage on stderr" '^usage: dnsfsctl cluster' "$out"
"$DNSFSCTL" cluster launch --dir "$C" 2>/dev/null; rc=$?
check_eq "an unknown cluster subcommand exits 2" 2 "$rc"
"$DNSFSCTL" frobnicate 2>/dev/null; rc=$?
check_eq "an unknown command exits 2" 2 "$rc"
"$DNSFSCTL" cluster up 2>/dev/null; rc=$?
check_eq "up without --dir exits 2" 2 "$rc"
"$DNSFSCTL" cluster up --dir "$C" --blockd x 2>/dev/null; rc=$?
check_eq "--blockd x exits 2" 2 "$rc"
"$DNSFSCTL" cluster status --dir "$C" --zone z 2>/dev/null; rc=$?
check_eq "an up-only option on status exits 2" 2 "$rc"
out=$("$DNSFSCTL" --help); rc=$?
check_eq "dnsfsctl --help exits 0" 0 "$rc"
check_match "and lists cluster" '^  cluster ' "$out"
out=$("$DNSFSCTL" cluster --help); rc=$?
check_eq "dnsfsctl cluster --help exits 0" 0 "$rc"
check_match "and documents --blockd" '--blockd N' "$out"
check_match "dnsfsctl --version" '^dnsfsctl \(dnsfs\) [0-9]+\.[0-9]+' "$("$DNSFSCTL" --version)"

done_testing
