#!/usr/bin/env bash
# Loopback tests of `copydesk track`: starts tests/track/server.py on a free
# port of 127.0.0.1 (no internet needed), runs track against its fixtures and
# compares events and messages with tests/track/expected/ (the server's
# address is written as BASE, timing lines are dropped). Also checks: a
# second --once run emits nothing (304s, seen items); robots.txt is fetched
# once and obeyed; every request carries the User-Agent; a crash between the
# index add and the events (fault injection) loses and doubles nothing; and
# SIGTERM stops a running tracker cleanly; the per-host limit holds.
#   run.sh COPYDESK [--update]    --update rewrites the expectations.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
copydesk=$(realpath "$1")
update=0
[ "${2:-}" = "--update" ] && update=1
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

python3 "$here/server.py" "$here/fixtures" "$work/port" "$work/server.log" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "FAIL: the fixture server did not start"; exit 1; }
B="http://127.0.0.1:$(cat "$work/port")"

failed=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }

# normalise NAME: the run's stdout/stderr with the address and timings hidden
normalise() {
    sed "s#$B#BASE#g" "$1.stdout" >"$1.out"
    grep -v '^copydesk: time: ' "$1.stderr" | sed "s#$B#BASE#g" >"$1.err"
}

# check NAME: compare a run with tests/track/expected/NAME.{stdout,stderr,exit}
check() {
    local name=$1
    normalise "$name"
    if [ $update -eq 1 ]; then
        mkdir -p "$here/expected"
        cp "$name.out" "$here/expected/$name.stdout"
        cp "$name.err" "$here/expected/$name.stderr"
        cp "$name.exit" "$here/expected/$name.exit"
        echo "updated $name"
        return
    fi
    local good=1
    for part in stdout:out stderr:err exit:exit; do
        if ! diff -u "$here/expected/$name.${part%%:*}" "$name.${part##*:}"; then
            good=0
        fi
    done
    [ $good -eq 1 ] && ok "$name" || fail "$name"
}

cat >feeds.txt <<EOF
# syndicated copies across outlets
$B/wire.xml            Wire Service
$B/herald.atom         Herald
$B/aggregator.json
$B/gazette.xml         Gazette
$B/bulletin.xml        Bulletin
$B/lm/courier.rdf      Courier
$B/novalidators/digest.json   Digest
$B/gzip/herald.atom    Herald compressed
# hostile cases
$B/flaky/flaky.xml     Flaky Times
$B/slow/wire.xml       Slow
$B/big/feed.xml        Big
$B/big-chunked/feed.xml  Big chunked
$B/gzip-bomb           Gzip bomb
$B/loop/a              Loop
$B/to-file             Redirect to file
file:///etc/passwd     Local file
$B/malformed.xml       Tabloid
$B/invalid-utf8.xml    Echo
$B/dupes.xml           Mirror
$B/notafeed.html       Not a feed
$B/missing             Missing
EOF
opts=(--once --timeout 0.5 --retries 2 --backoff 0.05 --max-body 1M --per-host 4 --no-progress)

# 1. first run: every new item is an event
"$copydesk" track --feeds feeds.txt --index idx "${opts[@]}" >first.stdout 2>first.stderr
echo $? >first.exit
check first

if [ $update -eq 0 ]; then
    gz=$(grep -c '"path": "/gzip/herald.atom", "status": 200, "in_flight": 0, "gzip": true' server.log)
    [ "$gz" -eq 1 ] && ok "compressed transfer" || fail "compressed transfer: $gz gzip responses"
fi

# 2. second run: 304s and seen items, nothing new
: >server.log
"$copydesk" track --feeds feeds.txt --index idx "${opts[@]}" >second.stdout 2>second.stderr
echo $? >second.exit
check second
if [ $update -eq 0 ]; then
    [ ! -s second.stdout ] && ok "second run emits nothing" || fail "second run emits nothing"
    n304=$(grep -c '"status": 304' server.log)
    inm=$(grep -c '"if_none_match": "\\"' server.log)
    ims=$(grep -c '"if_modified_since": "Fri' server.log)
    # 11 feeds send validators: 10 ETag feeds answer 304, courier answers 304 to If-Modified-Since
    [ "$n304" -ge 11 ] && [ "$inm" -ge 10 ] && [ "$ims" -eq 1 ] && ok "conditional GET (304: $n304)" ||
        fail "conditional GET: $n304 304s, $inm If-None-Match, $ims If-Modified-Since"
fi

# 3. --fetch-articles: pages fetched where robots.txt allows, feed text otherwise
cat >feeds2.txt <<EOF
$B/wire.xml   Wire Service
$B/daily.xml  The Daily
EOF
: >server.log
"$copydesk" track --feeds feeds2.txt --index idx2 --fetch-articles --allow-private-addresses \
    --verbose "${opts[@]}" >articles.stdout 2>articles.stderr
echo $? >articles.exit
check articles
if [ $update -eq 0 ]; then
    robots=$(grep -c '"path": "/robots.txt"' server.log)
    private=$(grep -c '/articles/private/' server.log)
    page=$(grep -c '"path": "/articles/floods.html"' server.log)
    [ "$robots" -eq 1 ] && [ "$private" -eq 0 ] && [ "$page" -eq 1 ] && ok "robots.txt fetched once and obeyed" ||
        fail "robots.txt: $robots fetches, $private disallowed requests, $page allowed"
    others=$(grep -vc '"ua": "copydesk/0.1"' server.log)
    [ "$others" -eq 0 ] && ok "User-Agent copydesk/0.1" || fail "$others requests without the User-Agent"
fi

# 3b. without --allow-private-addresses, links to 127.0.0.1 are refused
: >server.log
"$copydesk" track --feeds feeds2.txt --index idx2b --fetch-articles --verbose "${opts[@]}" \
    >private.stdout 2>private.stderr
if [ $update -eq 0 ]; then
    pages=$(grep -c -e '/articles/' -e '/wire/floods"' -e robots.txt server.log)
    refused=$(grep -c 'is a loopback, private or link-local address' private.stderr)
    [ "$pages" -eq 0 ] && [ "$refused" -eq 6 ] && ok "article links to private addresses refused" ||
        fail "private addresses: $pages page requests, $refused refusals"
fi

# 4. a crash after the index add, before the events: the restart writes them
#    once (the events file is cut back to the batch's start, then rewritten)
cat >feeds3.txt <<EOF
$B/wire.xml            Wire Service
$B/herald.atom         Herald
$B/aggregator.json
$B/gazette.xml         Gazette
EOF
"$copydesk" track --feeds feeds3.txt --index ref "${opts[@]}" --quiet >reference.jsonl 2>/dev/null
for point in after-add before-add; do
    rm -rf idx3 idx3.track-state
    echo '{"earlier":"line"}' >events.jsonl
    cp events.jsonl expected.jsonl
    cat reference.jsonl >>expected.jsonl
    COPYDESK_TRACK_CRASH=$point "$copydesk" track --feeds feeds3.txt --index idx3 "${opts[@]}" \
        --quiet --events events.jsonl 2>/dev/null
    crash=$?
    "$copydesk" track --feeds feeds3.txt --index idx3 "${opts[@]}" --quiet --events events.jsonl \
        2>restart.stderr
    again=$?
    "$copydesk" track --feeds feeds3.txt --index idx3 "${opts[@]}" --quiet --events events.jsonl \
        2>/dev/null
    if [ $crash -eq 99 ] && [ $again -eq 0 ] && cmp -s events.jsonl expected.jsonl; then
        ok "restart after a crash ($point): every event once"
    else
        fail "restart after a crash ($point): exit $crash then $again"
        diff expected.jsonl events.jsonl | head -20
        cat restart.stderr
    fi
done

# 5. SIGTERM stops a tracker that runs rounds on an interval
rm -rf idx4 idx4.track-state
"$copydesk" track --feeds feeds3.txt --index idx4 --interval 60 --no-progress --events ev4.jsonl \
    2>term.stderr &
pid=$!
for _ in $(seq 100); do [ -s ev4.jsonl ] && break; sleep 0.1; done
sleep 0.3
kill -TERM $pid
code=0
wait $pid || code=$?
if [ $code -eq 0 ] && grep -q 'stopped by a signal' term.stderr && [ "$(wc -l <ev4.jsonl)" -eq "$(wc -l <reference.jsonl)" ]; then
    ok "SIGTERM stops cleanly"
else
    fail "SIGTERM: exit $code, $(wc -l <ev4.jsonl) events"
    cat term.stderr
fi

# 6. the per-host limit: six slow feeds on one host, two at a time
for i in 1 2 3 4 5 6; do echo "$B/pause/wire.xml?n=$i  Paused $i"; done >feeds5.txt
: >server.log
"$copydesk" track --feeds feeds5.txt --index idx5 --once --per-host 2 --parallel 16 --quiet \
    >/dev/null 2>&1
most=$(python3 -c 'import json,sys; print(max(json.loads(l)["in_flight"] for l in open(sys.argv[1])))' server.log)
[ "$most" -eq 2 ] && ok "per-host limit (2 at a time)" || fail "per-host limit: $most at a time"

# 7. usage errors
"$copydesk" track --index x >/dev/null 2>&1; code=$?
[ $code -eq 2 ] && ok "usage error" || fail "usage error: exit $code"

[ $failed -eq 0 ] || { echo "$failed track test(s) failed"; exit 1; }
