#!/usr/bin/env bash
# Output must be byte-identical across runs, thread counts and ways of
# learning the chrome: generates a corpus with copydesk-synth (plus a
# repeated id and a broken line), then compares dedup, --removed, cluster
# and pairs outputs of --threads 1, 2 and 4 (run twice), and of learning in
# a pass of its own (--memory 1K) on a file and in one pass from stdin.
#   determinism.sh COPYDESK COPYDESK_SYNTH
set -euo pipefail
copydesk=$1 synth=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$synth" --docs 3000 --seed 11 >"$work/corpus.jsonl"
head -n 5 "$work/corpus.jsonl" | tail -n 1 >>"$work/corpus.jsonl" # a repeated id
echo '{"id": broken' >>"$work/corpus.jsonl"
reference=""
# Each run: threads, then the extra options ("-" as the last one reads stdin).
for run in "1" "2" "4" "1" "1 --memory 1K" "2 --memory 1K" "1 --memory 1K -"; do
  set -- $run
  threads=$1; shift
  input=("$work/corpus.jsonl")
  if [ "${*: -1}" = "-" ]; then set -- "${@:1:$#-1}"; input=(-); fi
  opts=(--quiet --on-error skip --threads "$threads" "$@")
  "$copydesk" dedup "${opts[@]}" --removed "$work/removed" "${input[@]}" <"$work/corpus.jsonl" >"$work/kept" 2>/dev/null
  "$copydesk" cluster "${opts[@]}" --all "${input[@]}" <"$work/corpus.jsonl" >"$work/clusters" 2>/dev/null
  "$copydesk" pairs "${opts[@]}" "${input[@]}" <"$work/corpus.jsonl" >"$work/pairs" 2>/dev/null
  sum=$(cat "$work/kept" "$work/removed" "$work/clusters" "$work/pairs" | sha256sum)
  echo "threads $run: $(wc -l <"$work/kept") kept, $(wc -l <"$work/removed") removed, $(wc -l <"$work/pairs") pairs, $sum"
  [ -s "$work/kept" ] && [ -s "$work/removed" ] && [ -s "$work/pairs" ] || { echo "FAIL: empty output"; exit 1; }
  if [ -z "$reference" ]; then reference=$sum; elif [ "$sum" != "$reference" ]; then
    echo "FAIL: output differs with --threads $run"; exit 1
  fi
done
echo "identical"
