#!/usr/bin/env bash
# Throughput of `copydesk track` on a loopback fixture of FEEDS x ITEMS items
# (default 40 x 30 = 1,200): one --once run from the feed texts and one with
# --fetch-articles (one page per item), each on a fresh index. Prints each
# run's summary (fetch vs index time, items/s) and a checksum of its events,
# so that a faster run cannot hide different results.
#   bench.sh COPYDESK [FEEDS ITEMS STORIES]   (work files under $TMPDIR, default /tmp)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
copydesk=$(realpath "$1")
shift
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
python3 "$here/gen_bench.py" "$work/fixture" "$@"
python3 "$here/server.py" "$work/fixture" "$work/port" "$work/server.log" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
B="http://127.0.0.1:$(cat "$work/port")"
sed "s#^#$B/#" "$work/fixture/feeds.list" >"$work/feeds.txt"
for mode in feed-text fetch-articles; do
    extra=()
    [ $mode = fetch-articles ] && extra=(--fetch-articles --allow-private-addresses --per-host 8 --parallel 16)
    rm -rf "$work/idx" "$work/idx.track-state"
    echo "== $mode"
    "$copydesk" track --feeds "$work/feeds.txt" --index "$work/idx" --once --no-progress \
        "${extra[@]}" >"$work/events.jsonl" 2>"$work/stderr" || { cat "$work/stderr"; exit 1; }
    grep -v 'created the index' "$work/stderr"
    echo "events: $(wc -l <"$work/events.jsonl") lines, checksum $(sed "s#$B#BASE#g" "$work/events.jsonl" | sha256sum | cut -c1-16)"
done
