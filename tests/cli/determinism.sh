#!/usr/bin/env bash
# Output must be byte-identical across runs and thread counts: generates a
# corpus with copydesk-synth, then compares dedup, --removed, cluster and
# pairs outputs of --threads 1, 2 and 4 (run twice).
#   determinism.sh COPYDESK COPYDESK_SYNTH
set -euo pipefail
copydesk=$1 synth=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$synth" --docs 3000 --seed 11 >"$work/corpus.jsonl"
reference=""
for threads in 1 2 4 1; do
  "$copydesk" dedup --quiet --threads $threads "$work/corpus.jsonl" --removed "$work/removed" >"$work/kept"
  "$copydesk" cluster --quiet --all --threads $threads "$work/corpus.jsonl" >"$work/clusters"
  "$copydesk" pairs --quiet --threads $threads "$work/corpus.jsonl" >"$work/pairs"
  sum=$(cat "$work/kept" "$work/removed" "$work/clusters" "$work/pairs" | sha256sum)
  echo "threads $threads: $(wc -l <"$work/kept") kept, $(wc -l <"$work/removed") removed, $(wc -l <"$work/pairs") pairs, $sum"
  [ -s "$work/kept" ] && [ -s "$work/removed" ] && [ -s "$work/pairs" ] || { echo "FAIL: empty output"; exit 1; }
  if [ -z "$reference" ]; then reference=$sum; elif [ "$sum" != "$reference" ]; then
    echo "FAIL: output differs with --threads $threads"; exit 1
  fi
done
echo "identical"
