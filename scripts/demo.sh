#!/usr/bin/env bash
# Installs what copydesk needs, builds it (Release), deduplicates the bundled
# sample corpus and shows what it found.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
BUILD_DIR="$root/build" "$root/scripts/build.sh"
copydesk="$root/build/copydesk"
sample="$root/datasets/sample/news.jsonl.gz"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== copydesk dedup $(basename "$sample")"
"$copydesk" dedup "$sample" --removed "$out/removed.jsonl" --no-progress >"$out/kept.jsonl"
echo
echo "== the largest cluster it found (copydesk cluster):"
"$copydesk" cluster "$sample" --quiet --no-progress >"$out/clusters.jsonl"
largest=$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
best = max(rows, key=lambda r: r["size"])
print(json.dumps(best)[:400])
members = [best["representative"]] + [m for m in best["members"] if m != best["representative"]]
print(best["representative"]); print(" ".join(members[:3]))' "$out/clusters.jsonl")
echo "$largest" | head -1
echo
echo "== the start of three of its members (representative first):"
python3 - "$sample" $(echo "$largest" | sed -n 3p) <<'PY'
import gzip, json, sys
want = sys.argv[2:5]
docs = {}
for line in gzip.open(sys.argv[1], "rt", encoding="utf-8"):
    d = json.loads(line)
    if d["id"] in want:
        docs[d["id"]] = d
for i in want:
    d = docs[i]
    text = " ".join(d["text"].split())
    print(f'-- {d["id"]} | {d.get("source","")} | {d.get("date","")} | {d.get("title","")[:60]}')
    print(f'   {text[:220]}...')
PY
echo
echo "== and how it scores against the sample's ground truth (copydesk eval):"
"$copydesk" eval --gold "$sample" --pred "$out/clusters.jsonl"
