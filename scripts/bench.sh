#!/usr/bin/env bash
# bench.sh: copydesk's benchmark harness. Generates (and caches) synthetic
# corpora with copydesk-synth, runs `copydesk cluster` on each twice over (the
# CLI defaults, and "lean": the peers' parameters), times every stage,
# measures peak memory, checks the output's checksum, scores it against the
# generator's ground truth, measures the speed floor (copydesk-floor), the
# one-core signature stage (copydesk-microbench) and the thread scaling, and
# runs two peers (the Go library ekzhu/minhash-lsh and the `simhash` tool) on
# the same corpora. bench/bench.py turns the raw output into
# bench/results/NAME.{json,md} and two SVG plots. See bench/README.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PYTHONDONTWRITEBYTECODE=1 # no bench/__pycache__

usage() {
    cat <<'EOF'
usage: scripts/bench.sh [OPTIONS]

  --sizes LIST        synthetic corpus sizes, e.g. 10k,100k,1m (default 10k,100k);
                      an empty list ("") runs only the --corpus files
  --corpus FILE       also benchmark a plain JSONL corpus (repeatable); quality is
                      scored when its lines have a "cluster" field
  --name NAME         results go to bench/results/NAME.* (default: latest)
  --compare OLD.json  print the change of every figure against an earlier run; exit 4
                      when a throughput figure drops by more than the tolerance or a
                      quality figure by more than 0.005
  --tolerance T       relative throughput tolerance for --compare (default 0.10)
  --threads N         threads for copydesk, the floor and the Go peer (default: all cores)
  --repeat N          timed runs of each copydesk row and of the floor per corpus; the
                      median counts (default 3)
  --sig-docs N        documents of the one-core signature-stage figure
                      (copydesk-microbench --docs; default 20000)
  --seed S            copydesk-synth seed (default 1)
  --no-peers          skip ekzhu/minhash-lsh and simhash
  --simhash-docs N    documents in the simhash sample (default 5000; its match mode
                      compares every pair)
  --peer-budget SECS  skip a peer on a corpus when its speed on a smaller one says it
                      would take longer than this (default 600)
  -h, --help          this help

Exit status: 0 done, 1 error, 2 usage, 4 regression found by --compare.
EOF
}

log() { echo "bench: $*" >&2; }
die() {
    echo "bench: error: $*" >&2
    exit 1
}

# ------------------------------------------------------------------ options
sizes="10k,100k"
corpora_given=()
name="latest"
compare=""
tolerance="0.10"
threads=$(nproc)
repeat=3
seed=1
peers=1
simhash_docs=5000
peer_budget=600
sig_docs=20000

need_value() { [ $# -ge 2 ] || { echo "bench: $1 needs a value" >&2; usage >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case "$1" in
    --sizes) need_value "$@"; sizes=$2; shift 2 ;;
    --corpus) need_value "$@"; corpora_given+=("$2"); shift 2 ;;
    --name) need_value "$@"; name=$2; shift 2 ;;
    --compare) need_value "$@"; compare=$2; shift 2 ;;
    --tolerance) need_value "$@"; tolerance=$2; shift 2 ;;
    --threads) need_value "$@"; threads=$2; shift 2 ;;
    --repeat) need_value "$@"; repeat=$2; shift 2 ;;
    --seed) need_value "$@"; seed=$2; shift 2 ;;
    --no-peers) peers=0; shift ;;
    --simhash-docs) need_value "$@"; simhash_docs=$2; shift 2 ;;
    --sig-docs) need_value "$@"; sig_docs=$2; shift 2 ;;
    --peer-budget) need_value "$@"; peer_budget=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench: unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ $name =~ ^[A-Za-z0-9._-]+$ ]] || { echo "bench: --name: use letters, digits, . _ -" >&2; exit 2; }
for v in threads repeat simhash_docs peer_budget sig_docs; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench: --${v//_/-}: expected a positive whole number" >&2; exit 2; }
done
[[ $seed =~ ^[0-9]+$ ]] || { echo "bench: --seed: expected a whole number" >&2; exit 2; }
[[ $tolerance =~ ^[0-9]*\.?[0-9]+$ ]] || { echo "bench: --tolerance: expected a number" >&2; exit 2; }
[ -z "$compare" ] || [ -f "$compare" ] || die "--compare: no such file: $compare"
IFS=, read -r -a size_list <<<"$sizes"
for s in "${size_list[@]}"; do
    [ -z "$s" ] || [[ ${s,,} =~ ^[0-9]+[km]?$ ]] ||
        { echo "bench: --sizes: cannot read '$s' (use e.g. 10k,100k,1m)" >&2; exit 2; }
done

# Paths are relative to the repository root so the recorded commands can be rerun.
copydesk=build/copydesk
synth=build/bench/copydesk-synth
floor=build/bench/copydesk-floor
microbench=build/bench/copydesk-microbench
corpus_dir=bench/corpora
results=bench/results
work=bench/work/$name
go_dir=bench/work/go
ekzhu_bin=$go_dir/bin/ekzhu-peer
threshold=0.8 # copydesk's default, which the peers are given too
# "copydesk lean": the parameters the ekzhu peer gets (Jaccard >= threshold
# estimated from 128 MinHash values of word 5-grams) and none of the extra work
# of the defaults (chrome learning, containment, lead bands, exact verification).
lean_options=(--threshold "$threshold" --perm 128 --ngram 5 --boilerplate off
    --verify estimate --match jaccard --lead-shingles 0)

# ------------------------------------------------------------------ helpers

# Records a command line in the work folder's log (commands.jsonl), which the
# report copies: record STEP TEXT.
record() {
    python3 -c 'import json, sys
print(json.dumps({"step": sys.argv[1], "command": sys.argv[2]}))' "$1" "$2" >>"$root/$work/commands.jsonl"
}

quote() { python3 -c 'import shlex, sys; print(shlex.join(sys.argv[1:]))' "$@"; }

# Records a command (as a shell line), then runs it: run STEP COMMAND...
run() {
    local step=$1
    shift
    record "$step" "$(quote "$@")"
    "$@"
}

now() { date +%s.%N; }
# The time and the machine's CPU counters: "SECONDS cpu USER NICE SYSTEM ...".
cpu_sample() { echo "$(now) $(head -1 /proc/stat)"; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.6f}')" "$1" "$2"; }

# Installs Debian packages that are missing (quiet when all are present).
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    # a fresh machine may have no package lists yet: update once and retry
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null 2>&1 ||
        { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
            --no-install-recommends "${missing[@]}" >/dev/null; } ||
        die "could not install ${missing[*]} (or use --no-peers)"
}

# "10k" -> 10000, "1m" -> 1000000, "2500" -> 2500
parse_size() {
    local s=${1,,}
    case "$s" in
    *k) echo $((${s%k} * 1000)) ;;
    *m) echo $((${s%m} * 1000000)) ;;
    *) echo "$s" ;;
    esac
}

# --------------------------------------------------------------------- steps

setup() {
    scripts/setup.sh
    ensure_packages time python3 util-linux
    [ -x /usr/bin/time ] || die "/usr/bin/time is missing after installing the 'time' package"
    if [ "$peers" = 1 ]; then
        ensure_packages golang-go golang-github-ekzhu-minhash-lsh-dev \
            golang-github-dgryski-go-minhash-dev simhash
    fi
}

build() {
    log "building"
    scripts/build.sh
    for b in "$copydesk" "$synth" "$floor" "$microbench"; do
        [ -x "$b" ] || die "$b was not built (see scripts/build.sh)"
    done
    if [ "$peers" = 1 ]; then
        # Offline GOPATH build against the Debian packages of the library.
        mkdir -p "$go_dir/bin" "$go_dir/cache"
        (cd bench/peers/ekzhu &&
            GO111MODULE=off GOPATH="$root/$go_dir:/usr/share/gocode" GOCACHE="$root/$go_dir/cache" \
                GOFLAGS='' go build -o "$root/$ekzhu_bin" .) ||
            die "could not build the ekzhu/minhash-lsh peer (bench/peers/ekzhu)"
    fi
}

# Generates a synthetic corpus unless the cached one was made by the same
# command and generator version. Prints nothing; sets corpus_path.
synth_corpus() {
    local docs=$1 label=$2
    local base=$corpus_dir/$label-seed$seed
    corpus_path=$base.jsonl
    local cmd=("$synth" --docs "$docs" --seed "$seed" --manifest "$base.manifest.json"
        --hard-negatives "$base.hard-negatives.jsonl" -o "$base.jsonl")
    local stamp
    stamp="$("$synth" --version) :: ${cmd[*]}"
    if [ -f "$base.jsonl" ] && [ "$(cat "$base.stamp" 2>/dev/null)" = "$stamp" ]; then
        log "$label: cached $base.jsonl"
        record synth "$(quote "${cmd[@]}")  # cached: made by the same command and generator version"
        return
    fi
    mkdir -p "$corpus_dir"
    log "$label: generating $docs documents"
    rm -f "$base.stamp"
    run synth "${cmd[@]}" || die "copydesk-synth failed"
    echo "$stamp" >"$base.stamp"
}

# Appends one corpus to the work folder's list.
add_corpus() {
    local label=$1 path=$2 hard=$3 origin=$4
    local docs bytes gold=false
    docs=$(python3 bench/bench.py count-lines "$path")
    bytes=$(stat -L -c %s "$path")
    python3 bench/bench.py has-field "$path" cluster && gold=true
    python3 -c 'import json, sys
l, p, h, o, d, b, g = sys.argv[1:]
print(json.dumps({"label": l, "path": p, "hard_negatives": h or None, "origin": o,
                  "docs": int(d), "bytes": int(b), "gold": g == "true"}))' \
        "$label" "$path" "$hard" "$origin" "$docs" "$bytes" "$gold" >>"$work/corpora.jsonl"
}

# One timed copydesk row: /usr/bin/time -v `copydesk COMMAND --verbose`,
# --repeat times: bench_row LABEL PATH ROW COMMAND [OPTION...], COMMAND
# `cluster` (run with --all) or `dedup`. ROW names the files in the work
# folder: ROW-runI.{stderr,time,sha256} and ROW-cluster.jsonl (the output).
# Each run writes a new file, as a first run does: the output of the run
# before is removed first, untimed (replacing it would time the kernel
# freeing that file's blocks, 0.06 s for dedup's 348 MB on synth-100k).
bench_row() {
    local label=$1 path=$2 row=$3 command=$4 dir=$work/$1 i
    shift 4
    local words=("$command")
    [ "$command" = cluster ] && words+=(--all)
    for ((i = 1; i <= repeat; i++)); do
        log "$label: copydesk $command ($row), run $i of $repeat"
        rm -f "$dir/$row-cluster.jsonl"
        run "$row-run$i" /usr/bin/time -v -o "$dir/$row-run$i.time" \
            "$copydesk" "${words[@]}" --verbose --no-progress --threads "$threads" "$@" \
            -o "$dir/$row-cluster.jsonl" "$path" 2>"$dir/$row-run$i.stderr" ||
            die "copydesk ($row) failed on $path: $(tail -5 "$dir/$row-run$i.stderr")"
        sha256sum "$dir/$row-cluster.jsonl" | cut -d' ' -f1 >"$dir/$row-run$i.sha256"
    done
}

# The copydesk rows: the CLI defaults ("copydesk"), the peers' parameters
# ("copydesk lean"), and `dedup` with them ("copydesk lean dedup": it also
# copies every kept line to a new file, which it fsyncs).
bench_copydesk() {
    local label=$1 path=$2 dir=$work/$1
    bench_row "$label" "$path" copydesk cluster
    bench_row "$label" "$path" lean cluster "${lean_options[@]}"
    bench_row "$label" "$path" dedup dedup "${lean_options[@]}"
    # untimed: the default row's per-document clustering, which the simhash
    # comparison restricts to its sample
    if [ "$peers" = 1 ]; then
        run perdoc "$copydesk" cluster --per-doc --quiet --no-progress --threads "$threads" \
            -o "$dir/perdoc.jsonl" "$path" || die "copydesk cluster --per-doc failed on $path"
    fi
}

bench_quality() {
    local label=$1 path=$2 dir=$work/$1 row
    for row in copydesk lean; do
        run "$row-eval" "$copydesk" eval --gold "$path" --pred "$dir/$row-cluster.jsonl" --json \
            >"$dir/$row-eval.json" || die "copydesk eval failed on $label ($row)"
    done
}

bench_floor() {
    local label=$1 path=$2 dir=$work/$1 i
    for ((i = 1; i <= repeat; i++)); do
        run "floor-run$i" "$floor" --threads "$threads" "$path" >"$dir/floor-run$i.json" ||
            die "copydesk-floor failed on $path"
    done
}

# The signature stage on one core, the issue's figure: copydesk-microbench
# reads and signs the first --sig-docs documents in one pass (HTML extraction
# off) and, in the same run, times the floor (split on white space + XXH3 per
# token) on the same texts; both are the best of --repeat.
bench_signature() {
    local label=$1 path=$2 dir=$work/$1
    log "$label: signature stage on one core (copydesk-microbench, first $sig_docs documents)"
    run signature "$microbench" --only pipeline --docs "$sig_docs" --repeat "$repeat" "$path" \
        >"$dir/signature.txt" || die "copydesk-microbench failed on $path"
}

# Thread scaling of the lean row's sign stage: --repeat pairs of runs at
# --threads 1 and --threads nproc, back to back (bench.py takes the median of
# each), each followed by the floor at the same thread count (the machine's
# own scaling at that moment), with the load average before them and the machine's CPU counters
# (/proc/stat) around each run, from which bench.py works out how much CPU
# other work took meanwhile: the figure means little when other work holds
# the CPUs.
bench_scaling() {
    local label=$1 path=$2 dir=$work/$1 n t i stem
    n=$(nproc)
    [ "$n" -ge 2 ] || return 0
    cat /proc/loadavg >"$dir/scaling.loadavg"
    for ((i = 1; i <= repeat; i++)); do
        for t in 1 "$n"; do
            log "$label: thread scaling, lean at --threads $t, run $i of $repeat"
            stem=$dir/scaling-threads$t-run$i
            local cmd=(/usr/bin/time -v -o "$stem.time"
                "$copydesk" cluster --all --verbose --no-progress --threads "$t"
                "${lean_options[@]}" -o "$dir/scaling.jsonl" "$path")
            record "scaling-threads$t-run$i" "$(quote "${cmd[@]}")"
            cpu_sample >"$stem.stat-before"
            "${cmd[@]}" 2>"$stem.stderr" ||
                die "copydesk (lean, --threads $t) failed: $(tail -5 "$stem.stderr")"
            cpu_sample >"$stem.stat-after"
            sha256sum "$dir/scaling.jsonl" | cut -d' ' -f1 >"$stem.sha256"
            # the floor at the same thread count, right after: how much the
            # machine itself scales at that moment
            run "scaling-floor$t-run$i" "$floor" --threads "$t" "$path" \
                >"$dir/scaling-floor$t-run$i.json" || die "copydesk-floor failed on $path"
        done
    done
    rm -f "$dir/scaling.jsonl"
    echo "1 $n $repeat" >"$dir/scaling.threads"
}

# Candidate pairs at the default row's bands and rows: estimated verification
# at 0.01 keeps every candidate, since a candidate shares a whole band
# (rows/perm >= 0.01). The shingle sets must be the ones bench.py measures the
# true Jaccard of (the raw text's word 5-grams), and only those bands may
# propose pairs: no chrome removal, no HTML extraction, no lead bands.
bench_scurve() {
    local label=$1 path=$2 dir=$work/$1 params
    params=$(python3 bench/bench.py lsh-params "$dir/copydesk-run1.stderr")
    echo "$params" >"$dir/scurve-params"
    read -r b r <<<"$params"
    log "$label: S-curve, candidate pairs at $b bands x $r rows"
    run scurve "$copydesk" pairs --threshold 0.01 --bands "$b" --rows "$r" --quiet --no-progress \
        --verify estimate --match jaccard --lead-shingles 0 --boilerplate off --html off \
        --threads "$threads" -o "$dir/scurve-candidates.jsonl" "$path" ||
        die "copydesk pairs failed on $path"
}

# Last ekzhu speed and memory, to decide whether a bigger corpus fits the budget.
ekzhu_docs_per_s=""
ekzhu_bytes_per_doc=""

bench_ekzhu() {
    local label=$1 path=$2 docs=$3 dir=$work/$1
    if [ -n "$ekzhu_docs_per_s" ]; then
        local verdict
        verdict=$(python3 - "$docs" "$ekzhu_docs_per_s" "$ekzhu_bytes_per_doc" "$peer_budget" <<'EOF'
import sys
docs, speed, per_doc, budget = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
avail = next(int(l.split()[1]) * 1024 for l in open("/proc/meminfo") if l.startswith("MemAvailable:"))
seconds, memory = docs / speed, docs * per_doc
if seconds > budget:
    print(f"estimated {seconds:.0f} s at {speed:.0f} docs/s, over the {budget:.0f} s budget")
elif memory > 0.8 * avail:
    print(f"estimated {memory / 1e9:.1f} GB of memory, over 80% of the {avail / 1e9:.1f} GB available")
EOF
        )
        if [ -n "$verdict" ]; then
            log "$label: skipping ekzhu/minhash-lsh: $verdict"
            echo "$verdict" >"$dir/ekzhu.skipped"
            return
        fi
    fi
    # --repeat runs, as for copydesk: the ratios then compare medians
    local i
    for ((i = 1; i <= repeat; i++)); do
        log "$label: ekzhu/minhash-lsh (Go), run $i of $repeat"
        run "ekzhu-run$i" /usr/bin/time -v -o "$dir/ekzhu-run$i.time" "$ekzhu_bin" \
            -threshold "$threshold" -perm 128 -ngram 5 -threads "$threads" \
            -o "$dir/ekzhu.jsonl" "$path" 2>"$dir/ekzhu-run$i.stderr" ||
            die "the ekzhu peer failed: $(tail -5 "$dir/ekzhu-run$i.stderr")"
    done
    ekzhu_docs_per_s=$(sed -n 's/.* \([0-9.]*\) docs\/s$/\1/p' "$dir/ekzhu-run1.stderr")
    local rss
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/ekzhu-run1.time")
    ekzhu_bytes_per_doc=$((rss * 1024 / docs))
    if [ -n "$corpus_gold" ]; then
        run ekzhu-eval "$copydesk" eval --gold "$path" --pred "$dir/ekzhu.jsonl" --json \
            >"$dir/ekzhu-eval.json" || die "copydesk eval failed on the ekzhu output"
    fi
}

# simhash(1) hashes files (byte 8-gram shingleprints) and, with -m, prints the
# similarity of every pair: it runs on the first --simhash-docs documents,
# written one text per file, and is clustered by union-find over pairs >= 0.8.
bench_simhash() {
    local label=$1 path=$2 dir=$work/$1/simhash t0 t1
    rm -rf "$dir"
    mkdir -p "$dir"
    python3 bench/bench.py simhash-sample "$path" "$simhash_docs" "$dir"
    local n
    n=$(python3 bench/bench.py count-lines "$dir/sample.jsonl")
    echo "$n" >"$dir/sample.count"
    log "$label: simhash on the first $n documents"
    local files=()
    mapfile -t files < <(python3 -c 'import json, sys
for l in open(sys.argv[1]): print(json.loads(l)["file"])' "$dir/files.jsonl")
    local listed="${files[0]} ... ${files[-1]} (the $n files in input order)"
    # hashing only (-w writes FILE.sim beside each file): the median of --repeat runs
    local i times=()
    for ((i = 1; i <= repeat; i++)); do
        record simhash-hash "(cd $dir/docs && simhash -w $listed)"
        t0=$(now)
        (cd "$dir/docs" && simhash -w "${files[@]}") || die "simhash -w failed"
        t1=$(now)
        times+=("$(elapsed "$t0" "$t1")")
        rm -f "$dir"/docs/*.sim
    done
    printf '%s\n' "${times[@]}" | sort -g | sed -n "$(((repeat + 1) / 2))p" >"$dir/hash.seconds"
    record simhash-match "(cd $dir/docs && /usr/bin/time -v -o ../match.time simhash -m $listed > ../match.txt)"
    t0=$(now)
    (cd "$dir/docs" && /usr/bin/time -v -o ../match.time simhash -m "${files[@]}" >../match.txt) ||
        die "simhash -m failed"
    t1=$(now)
    elapsed "$t0" "$t1" >"$dir/match.seconds"
    python3 bench/bench.py simhash-cluster "$dir/match.txt" "$dir" "$threshold" \
        "$dir/perdoc.jsonl" >/dev/null
    if [ -n "$corpus_gold" ]; then
        run simhash-eval "$copydesk" eval --gold "$dir/sample.jsonl" --pred "$dir/perdoc.jsonl" \
            --json >"$dir/eval.json" || die "copydesk eval failed on the simhash output"
        python3 bench/bench.py restrict "$work/$label/perdoc.jsonl" "$dir/sample.jsonl" \
            "$dir/copydesk-perdoc.jsonl"
        run copydesk-sample-eval "$copydesk" eval --gold "$dir/sample.jsonl" \
            --pred "$dir/copydesk-perdoc.jsonl" --json >"$dir/copydesk-eval.json" ||
            die "copydesk eval failed on the sample"
    fi
    rm -rf "$dir/docs" "$dir/match.txt"
}

# -------------------------------------------------------------------- main

setup
build

rm -rf "$work"
mkdir -p "$work" "$results"
: >"$work/commands.jsonl"
: >"$work/corpora.jsonl"
dirty=false
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then dirty=true; fi
python3 - "$work/settings.json" "${lean_options[@]}" <<EOF
import json, subprocess, sys
def out(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
def pkg(p):
    return out("dpkg-query", "-W", "-f=\${Version}", p)
s = {"commit": out("git", "rev-parse", "HEAD"), "commit_dirty": "$dirty" == "true",
     "threads": $threads, "repeat": $repeat, "seed": $seed, "threshold": $threshold,
     "sizes": "$sizes", "tolerance": $tolerance, "peers": $peers == 1,
     "simhash_docs": $simhash_docs, "peer_budget_seconds": $peer_budget,
     "sig_docs": $sig_docs, "lean_options": sys.argv[2:],
     "copydesk_version": out("$copydesk", "--version"), "synth_version": out("$synth", "--version"),
     "compiler": out("cc", "--version").splitlines()[0] if out("cc", "--version") else None,
     "loadavg_at_start": open("/proc/loadavg").read().split()[:3]}
sys.path.insert(0, "bench")
import bench
s["cpu_pressure_at_start"] = bench.cpu_pressure()
if $peers == 1:
    s["go_version"] = out("go", "version")
    s["peer_packages"] = {p: pkg(p) for p in ["golang-github-ekzhu-minhash-lsh-dev",
                          "golang-github-dgryski-go-minhash-dev", "simhash"]}
json.dump(s, open(sys.argv[1], "w"), indent=1)
EOF

log "memory read bandwidth"
run bandwidth "$floor" --bandwidth --threads "$threads" >"$work/bandwidth.json" ||
    die "copydesk-floor --bandwidth failed"

# the corpora, smallest synthetic first
mapfile -t size_docs < <(for s in "${size_list[@]}"; do
    [ -n "$s" ] && echo "$(parse_size "$s") ${s,,}"
done | sort -n | uniq)
for entry in "${size_docs[@]}"; do
    read -r docs tag <<<"$entry"
    label=synth-$tag
    synth_corpus "$docs" "$label"
    add_corpus "$label" "$corpus_path" "${corpus_path%.jsonl}.hard-negatives.jsonl" \
        "copydesk-synth --docs $docs --seed $seed"
done
for path in "${corpora_given[@]}"; do
    [ -f "$path" ] || die "--corpus: no such file: $path"
    case "$(head -c 4 "$path" | od -An -tx1 | tr -d ' ')" in
    1f8b* | 28b52ffd) die "--corpus $path is compressed: give a plain JSONL file (the floor and the peers read plain text)" ;;
    esac
    label=$(basename "$path")
    label=${label%.jsonl}
    add_corpus "$label" "$path" "" "given"
done
[ -s "$work/corpora.jsonl" ] || die "no corpus: give --sizes or --corpus"

scurve_done=0
# corpus_gold is "yes" when the corpus has ground truth (a cluster field).
while IFS= read -r line <&3; do
    label=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["label"])' "$line")
    path=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["path"])' "$line")
    docs=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["docs"])' "$line")
    corpus_gold=$(python3 -c 'import json,sys; print("yes" if json.loads(sys.argv[1])["gold"] else "")' "$line")
    mkdir -p "$work/$label"
    log "== $label: $docs documents, $path"
    bench_copydesk "$label" "$path"
    if [ -n "$corpus_gold" ]; then
        bench_quality "$label" "$path"
    fi
    bench_floor "$label" "$path"
    bench_signature "$label" "$path"
    bench_scaling "$label" "$path"
    if [ "$scurve_done" = 0 ] && [ -n "$corpus_gold" ] && [ "$docs" -le 50000 ]; then
        bench_scurve "$label" "$path"
        scurve_done=1
    fi
    if [ "$peers" = 1 ]; then
        bench_ekzhu "$label" "$path" "$docs"
        bench_simhash "$label" "$path"
    fi
done 3<"$work/corpora.jsonl"

log "writing the report"
report_args=("$work" "$name" "$results")
[ -n "$compare" ] && report_args+=(--compare "$compare" --tolerance "$tolerance")
python3 bench/bench.py report "${report_args[@]}"
