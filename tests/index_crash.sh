#!/usr/bin/env bash
# Durability of `copydesk index add` under SIGKILL. Kills an add at a random
# moment, many times (while it signs, appends to the log, fsyncs, writes or
# renames a checkpoint), and after each kill checks that:
#   - the index opens and every checksum verifies (an incomplete last batch
#     may be dropped, with a warning);
#   - every document acknowledged on stdout before the kill is in the index,
#     in the story it was acknowledged with;
# then resumes with the documents not yet indexed. At the end the index must
# equal the one an uninterrupted run builds from the same corpus.
#   index_crash.sh COPYDESK COPYDESK_SYNTH [ITERATIONS] [DOCS]
set -euo pipefail
copydesk=$1 synth=$2 iterations=${3:-30} docs=${4:-20000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Small batches and frequent checkpoints, so that kills land everywhere.
add_options=(--quiet --no-progress --checkpoint-every 64 --threads 2)

"$synth" --docs "$docs" --seed 5 >"$work/corpus.jsonl"
"$copydesk" index create "$work/ref" --quiet
"$copydesk" index add "$work/ref" "${add_options[@]}" --batch 8 "$work/corpus.jsonl" >/dev/null
"$copydesk" index dump "$work/ref" >"$work/ref.dump"
[ "$(wc -l <"$work/ref.dump")" -eq "$docs" ] || fail "reference run indexed $(wc -l <"$work/ref.dump") of $docs"
sed -E 's/^(\{"id":"[^"]*",).*/\1/' "$work/corpus.jsonl" >"$work/corpus.ids"

# "id story" of each acknowledged line / each dumped document.
ack_pairs() { sed -E 's/^\{"id":("[^"]*"),"status":"[a-z]+","story":("[^"]*").*/\1 \2/'; }
dump_pairs() { sed -E 's/^\{"id":("[^"]*"),"story":("[^"]*").*/\1 \2/'; }

"$copydesk" index create "$work/idx" --quiet
: >"$work/acked"
killed=0 tails=0 indexed=0
RANDOM=42
for i in $(seq 1 "$iterations"); do
  # Documents are added in corpus order, so the index holds a prefix of it.
  [ "$indexed" -lt "$docs" ] || break
  tail -n +$((indexed + 1)) "$work/corpus.jsonl" >"$work/todo"
  "$copydesk" index add "$work/idx" "${add_options[@]}" --batch $((RANDOM % 32 + 1)) \
    "$work/todo" >"$work/out" 2>"$work/err" &
  pid=$!
  sleep "0.$(printf '%03d' $((RANDOM % 115 + 5)))"
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
  wait "$pid" 2>/dev/null || true
  # Acknowledged: the complete lines on stdout.
  if [ -s "$work/out" ] && [ "$(tail -c1 "$work/out" | od -An -c | tr -d ' ')" != '\n' ]; then
    sed '$d' "$work/out" >>"$work/acked"
  else
    cat "$work/out" >>"$work/acked"
  fi
  # The index opens, verifies and holds every acknowledged document, in the
  # story it was acknowledged with, and nothing else than a prefix of the corpus.
  "$copydesk" index verify "$work/idx" --quiet 2>"$work/verify" ||
    fail "iteration $i: verify failed: $(cat "$work/verify")"
  grep -q "dropped an incomplete batch" "$work/verify" && tails=$((tails + 1))
  "$copydesk" index dump "$work/idx" >"$work/dump" || fail "iteration $i: dump failed"
  indexed=$(wc -l <"$work/dump")
  cmp -s <(sed -E 's/^(\{"id":"[^"]*",).*/\1/' "$work/dump") <(head -n "$indexed" "$work/corpus.ids") ||
    fail "iteration $i: the index is not the first $indexed documents of the corpus"
  missing=$(comm -23 <(ack_pairs <"$work/acked" | sort) <(dump_pairs <"$work/dump" | sort) | head -3)
  [ -z "$missing" ] || fail "iteration $i: acknowledged but not in the index (id story): $missing"
done
[ "$killed" -ge $((iterations / 2)) ] || fail "only $killed kills landed before the add finished"

# Finish without interruption: the result equals the uninterrupted run.
if [ "$indexed" -lt "$docs" ]; then
  tail -n +$((indexed + 1)) "$work/corpus.jsonl" |
    "$copydesk" index add "$work/idx" "${add_options[@]}" --batch 64 >>"$work/acked"
fi
"$copydesk" index verify "$work/idx" --quiet
"$copydesk" index dump "$work/idx" >"$work/final.dump"
cmp -s "$work/final.dump" "$work/ref.dump" || {
  diff "$work/ref.dump" "$work/final.dump" | head -5
  fail "the interrupted index differs from the uninterrupted one"
}
checkpoints=$("$copydesk" index stats --json "$work/idx" | sed -E 's/.*"generation":([0-9]+).*/\1/')
echo "ok: $killed kills, $(wc -l <"$work/acked") acknowledged documents all present," \
  "$tails incomplete batches dropped, $checkpoints checkpoints; final index equals the reference"
