#!/usr/bin/env python3
"""bench.py: the Python half of scripts/bench.sh (standard library only).

scripts/bench.sh runs the programs (copydesk, copydesk-synth, copydesk-floor,
copydesk-microbench, the peers) and leaves their raw output in a work folder;
this file turns that folder into figures: it parses copydesk's --verbose
timings and /usr/bin/time for each copydesk row (the CLI defaults, and "lean":
the peers' parameters), the one-core signature stage, the thread scaling,
scores clusterings (copydesk eval plus the hard-negative counts), measures the
LSH S-curve against true Jaccard, and writes bench/results/NAME.json, NAME.md,
NAME-throughput.svg and NAME-scurve.svg. It also compares a run with an
earlier one (--compare: every figure, and a before/after table of every stage)
and prints the summary table with the performance issue's figures.

Subcommands used by bench.sh:
  lsh-params STDERR                   print "BANDS ROWS" from copydesk --verbose
  has-field CORPUS FIELD              exit 0 when the first line has FIELD
  count-lines FILE                    print the number of non-empty lines
  simhash-sample CORPUS N DIR         first N documents: DIR/docs/ID.txt, DIR/sample.jsonl
  simhash-cluster MATRIX DIR T OUT    union-find over simhash -m similarities >= T
  restrict PERDOC SAMPLE OUT          keep the per-doc lines of the sample's ids
  report WORK NAME OUTDIR [--compare OLD.json] [--tolerance T]
"""
import collections
import itertools
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import time

STAGES = ["read", "sign", "boilerplate", "lsh", "verify", "cluster", "write"]
# Stages an older copydesk (or an older results file) may not have.
OPTIONAL_STAGES = {"boilerplate"}
# The copydesk rows: (key in the results JSON, name in the report, file prefix
# in the work folder). "copydesk" is the CLI defaults; "copydesk lean" runs
# with the parameters the peers get (see lean_options in scripts/bench.sh);
# "copydesk lean dedup" is `copydesk dedup` with them (no quality figures:
# its output is the kept lines).
ROWS = [("copydesk", "copydesk", "copydesk"), ("copydesk_lean", "copydesk lean", "lean"),
        ("copydesk_dedup", "copydesk lean dedup", "dedup")]
# The performance issue's targets, printed beside the figures.
TARGET_SIGN_DOCS_PER_S = 100_000
TARGET_SIGN_FLOOR_RATIO = 0.6
TARGET_EKZHU_RATIO = 25
TARGET_SCALING_RATIO = 1.8
TARGET_LSH_DOCS_PER_S = 1_000_000
TARGET_BYTES_PER_DOC_ABOVE_INPUT = 1024
# The thread-scaling figure is flagged unreliable above this 1-minute load.
SCALING_MAX_LOAD = 0.5
QUALITY_KEYS = ["precision", "recall", "f1", "ari", "bcubed_precision", "bcubed_recall",
                "bcubed_f1"]
# A stage faster than this moves too much from run to run (and results files
# made before copydesk printed 1 ms steps have 10 ms ones) to be gated by
# --compare; it is still reported.
MIN_GATED_SECONDS = 0.10
QUALITY_DROP = 0.005


def die(message):
    print(f"bench.py: {message}", file=sys.stderr)
    sys.exit(1)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as e:
                    die(f"{path}:{n}: not JSON: {e}")


# ------------------------------------------------------------ raw parsers

def parse_copydesk_stderr(path):
    """Figures from `copydesk cluster --verbose` stderr; fails if the format changed."""
    text = open(path, encoding="utf-8", errors="replace").read()
    out = {}
    m = re.search(r"LSH: (\d+) bands x (\d+) rows of (\d+) MinHash values", text)
    if m:
        out["bands"], out["rows"], out["perm"] = map(int, m.groups())
    m = re.search(r"read (\d+) documents: kept (\d+), removed (\d+), rejected (\d+)", text)
    if m:
        out["documents"], out["kept"], out["removed"], out["rejected"] = map(int, m.groups())
    m = re.search(r"(\d+) clusters, largest (\d+); (\d+) candidate pairs, (\d+) verified", text)
    if m:
        (out["clusters"], out["largest_cluster"], out["candidate_pairs"],
         out["verified_pairs"]) = map(int, m.groups())
    m = re.search(r"time: (.*)", text)
    if not m:
        die(f"{path}: no 'time:' line in copydesk's stderr (did the run fail, or did its "
            f"format change?)\n{text[-2000:]}")
    line = m.group(1)
    seconds = {}
    for stage in STAGES + ["total"]:
        sm = re.search(rf"\b{stage} ([0-9.]+)s", line)
        if sm:
            seconds[stage] = float(sm.group(1))
        elif stage not in OPTIONAL_STAGES:
            die(f"{path}: no '{stage} N.NNs' in the time line: {line}")
    out["seconds"] = seconds
    sm = re.search(r"sign [0-9.]+s \(([0-9.]+) MB/s\)", line)
    if sm:
        out["sign_text_mb_per_s_reported"] = float(sm.group(1))
    sm = re.search(r"([0-9.]+) docs/s", line)
    if sm:
        out["docs_per_s_reported"] = float(sm.group(1))
    return out


def parse_ekzhu_stderr(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    out = {}
    m = re.search(r"LSH: (\d+) bands x (\d+) rows; (\d+) candidate pairs, (\d+) verified", text)
    if m:
        out["bands"], out["rows"], out["candidate_pairs"], out["verified_pairs"] = map(
            int, m.groups())
    m = re.search(r"time: (.*)", text)
    if not m:
        die(f"{path}: no 'time:' line from the ekzhu peer\n{text[-2000:]}")
    seconds = {}
    for key, name in [("read_sign", r"read\+sign"), ("index", "index"),
                      ("query_verify", r"query\+verify"), ("cluster", "cluster"),
                      ("write", "write"), ("total", "total")]:
        sm = re.search(rf"(?:^|, |; ){name} ([0-9.]+)s", m.group(1))
        if sm:
            seconds[key] = float(sm.group(1))
    out["seconds"] = seconds
    return out


def parse_gnu_time(path):
    """Peak RSS and CPU figures from `/usr/bin/time -v -o PATH`."""
    out = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        key, _, value = line.strip().partition(": ")
        if key == "Maximum resident set size (kbytes)":
            out["peak_rss_bytes"] = int(value) * 1024
        elif key == "User time (seconds)":
            out["user_seconds"] = float(value)
        elif key == "System time (seconds)":
            out["system_seconds"] = float(value)
        elif key == "Percent of CPU this job got":
            out["cpu_percent"] = float(value.rstrip("%") or 0)
        elif key.startswith("Elapsed (wall clock) time"):
            parts = [float(p) for p in value.split(":")]
            secs = 0.0
            for p in parts:
                secs = secs * 60 + p
            out["wall_seconds"] = secs
        elif key == "Exit status":
            out["exit_status"] = int(value)
    if "peak_rss_bytes" not in out:
        die(f"{path}: no 'Maximum resident set size' (is /usr/bin/time GNU time?)")
    return out


MICROBENCH_LINE = re.compile(r"^(\S.*?)\s+([0-9.]+) s\s+([0-9.]+) docs/s\s+([0-9.]+) MB/s"
                             r"\s+check ([0-9a-f]+)\s*$")


def parse_microbench(path):
    """The timed lines of copydesk-microbench as {label: {seconds, docs_per_s,
    mb_per_s, check}}, plus "_documents", "_text_bytes_per_doc" and "_simd"."""
    out = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        m = MICROBENCH_LINE.match(line.rstrip("\n"))
        if m:
            out[m.group(1)] = {"seconds": float(m.group(2)), "docs_per_s": float(m.group(3)),
                               "mb_per_s": float(m.group(4)), "check": m.group(5)}
            continue
        m = re.search(r"(\d+) documents, (\d+) bytes of text per document", line)
        if m:
            out["_documents"], out["_text_bytes_per_doc"] = map(int, m.groups())
        m = re.search(r"simd level (\S+)", line)
        if m:
            out["_simd"] = m.group(1).rstrip(",")
    return out


def parse_cpu_sample(path):
    """(time, busy, steal) in seconds from bench.sh's cpu_sample: the time, then
    the first line of /proc/stat; busy = user + nice + system + irq + softirq
    over all CPUs."""
    parts = read_text(path).split()
    fields = [int(x) for x in parts[2:]]
    hz = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    steal = fields[7] if len(fields) > 7 else 0
    return float(parts[0]), (user + nice + system + irq + softirq) / hz, steal / hz


def read_text(path, default=None):
    try:
        return open(path, encoding="utf-8").read().strip()
    except FileNotFoundError:
        return default


# ---------------------------------------------------------- small commands

def cmd_lsh_params(args):
    p = parse_copydesk_stderr(args[0])
    if "bands" not in p:
        die(f"{args[0]}: no 'LSH: B bands x R rows' line (run copydesk with --verbose)")
    print(p["bands"], p["rows"])


def cmd_has_field(args):
    path, field = args
    with open(path, encoding="utf-8") as f:
        first = f.readline()
    try:
        sys.exit(0 if field in json.loads(first) else 1)
    except (json.JSONDecodeError, TypeError):
        sys.exit(1)


def cmd_count_lines(args):
    n = 0
    with open(args[0], "rb") as f:
        for line in f:
            n += bool(line.strip())
    print(n)


def cmd_simhash_sample(args):
    """Writes the first N documents' texts as files for the simhash tool."""
    corpus, n, folder = args[0], int(args[1]), args[2]
    docs = os.path.join(folder, "docs")
    os.makedirs(docs, exist_ok=True)
    names = []
    with open(os.path.join(folder, "sample.jsonl"), "w", encoding="utf-8") as sample:
        for i, line in enumerate(open(corpus, encoding="utf-8")):
            if i >= n:
                break
            d = json.loads(line)
            name = f"{i:09d}.txt"  # safe file names whatever the ids are
            with open(os.path.join(docs, name), "w", encoding="utf-8") as f:
                f.write(d.get("text") or "")
            names.append({"file": name, "id": d.get("id", i + 1)})
            sample.write(line if line.endswith("\n") else line + "\n")
    with open(os.path.join(folder, "files.jsonl"), "w", encoding="utf-8") as f:
        for r in names:
            f.write(json.dumps(r) + "\n")


class UnionFind:
    def __init__(self, n):
        self.parent = list(range(n))

    def find(self, x):
        p = self.parent
        while p[x] != x:
            p[x] = p[p[x]]
            x = p[x]
        return x

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # the smaller index is the root: a cluster is named by its first member
            if ra < rb:
                self.parent[rb] = ra
            else:
                self.parent[ra] = rb


def cmd_simhash_cluster(args):
    """Clusters the similarity matrix of `simhash -m` (row i lists its similarity
    to files 1..i-1) by union-find over entries >= T."""
    matrix, folder, threshold, out = args[0], args[1], float(args[2]), args[3]
    files = list(jsonl(os.path.join(folder, "files.jsonl")))
    index = {r["file"]: i for i, r in enumerate(files)}
    uf = UnionFind(len(files))
    edges = 0
    with open(matrix, encoding="utf-8") as f:
        next(f, None)  # the column header
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            i = index[os.path.basename(parts[0])]
            for j, value in enumerate(parts[2:]):
                if float(value) >= threshold:
                    uf.union(i, j)
                    edges += 1
    with open(out, "w", encoding="utf-8") as f:
        for i, r in enumerate(files):
            f.write(json.dumps({"id": r["id"], "cluster": files[uf.find(i)]["id"]}) + "\n")
    print(edges)


def cmd_restrict(args):
    perdoc, sample, out = args
    ids = {json.dumps(d.get("id")) for d in jsonl(sample)}
    with open(out, "w", encoding="utf-8") as f:
        for d in jsonl(perdoc):
            if json.dumps(d.get("id")) in ids:
                f.write(json.dumps(d) + "\n")


# ----------------------------------------------------------------- quality

def load_gold(corpus):
    """id -> (cluster, story_family) for a corpus with a cluster field."""
    gold = {}
    for n, line in enumerate(open(corpus, encoding="utf-8"), 1):
        if not line.strip():
            continue
        d = json.loads(line)
        gold[json.dumps(d.get("id", n))] = (d.get("cluster"), d.get("story_family"))
    return gold


def load_predicted(path):
    """id -> predicted cluster, from `cluster --all`, `cluster --per-doc` or a peer."""
    pred = {}
    for d in jsonl(path):
        if "members" in d:
            for m in d["members"]:
                pred[json.dumps(m)] = json.dumps(d["cluster"])
        else:
            pred[json.dumps(d["id"])] = json.dumps(d["cluster"])
    return pred


def pairs_of(n):
    return n * (n - 1) // 2


def hard_negative_counts(gold, pred, hard_negatives_path):
    """Merges of documents the ground truth keeps apart although they are alike:
    - family_doc_pairs: pairs in one predicted cluster from different gold
      clusters of the same story_family (an update merged with its earlier version);
    - wrong_doc_pairs: all pairs in one predicted cluster from different gold clusters;
    - listed story pairs of --hard-negatives (by kind) with any document of one
      merged with any document of the other, and the document pairs so merged."""
    members = collections.defaultdict(list)
    for doc_id, cluster in pred.items():
        if doc_id in gold:
            members[cluster].append(gold[doc_id])
    family_pairs = wrong_pairs = 0
    # story (gold cluster) -> {predicted cluster: documents}
    story_in_pred = collections.defaultdict(collections.Counter)
    for cluster, docs in members.items():
        by_story = collections.Counter(g[0] for g in docs)
        by_family = collections.Counter(g[1] for g in docs)
        by_family_story = collections.Counter((g[1], g[0]) for g in docs)
        same_story = sum(pairs_of(c) for c in by_story.values())
        wrong_pairs += pairs_of(len(docs)) - same_story
        family_pairs += (sum(pairs_of(c) for f, c in by_family.items() if f is not None)
                         - sum(pairs_of(c) for (f, _), c in by_family_story.items()
                               if f is not None))
        for story, c in by_story.items():
            story_in_pred[story][cluster] += c
    out = {"family_doc_pairs_merged": family_pairs, "wrong_doc_pairs_merged": wrong_pairs}
    if hard_negatives_path and os.path.exists(hard_negatives_path):
        listed = collections.Counter()
        merged = collections.Counter()
        merged_doc_pairs = collections.Counter()
        for r in jsonl(hard_negatives_path):
            if r["a"] not in story_in_pred or r["b"] not in story_in_pred:
                continue  # a story outside this (sampled) corpus
            kind = r.get("kind", "other")
            listed[kind] += 1
            a, b = story_in_pred[r["a"]], story_in_pred[r["b"]]
            shared = sum(a[c] * b[c] for c in a.keys() & b.keys())
            if shared:
                merged[kind] += 1
                merged_doc_pairs[kind] += shared
        out["hard_negative_story_pairs"] = dict(listed)
        out["hard_negative_story_pairs_merged"] = {k: merged[k] for k in listed}
        out["hard_negative_doc_pairs_merged"] = {k: merged_doc_pairs[k] for k in listed}
        total = sum(listed.values())
        out["hard_negative_merged_rate"] = (sum(merged.values()) / total) if total else 0.0
    return out


def quality(work_dir, eval_name, pred_name, gold, hard_negatives):
    """copydesk eval's figures plus the hard-negative counts, or None without gold."""
    eval_path = os.path.join(work_dir, eval_name)
    if gold is None or not os.path.exists(eval_path):
        return None
    q = read_json(eval_path)
    q.update(hard_negative_counts(gold, load_predicted(os.path.join(work_dir, pred_name)),
                                  hard_negatives))
    return q


# ---------------------------------------------------------------- S-curve

TOKEN = re.compile(r"[^\W_]+")


def shingle_set(text, n=5):
    """Lowercase word n-grams (tokens = runs of letters and digits), as hashes;
    a document shorter than n tokens is one shingle."""
    tokens = TOKEN.findall(text.lower())
    if not tokens:
        return frozenset()
    if len(tokens) < n:
        return frozenset([hash(tuple(tokens))])
    return frozenset(hash(tuple(tokens[i:i + n])) for i in range(len(tokens) - n + 1))


def lsh_probability(s, bands, rows):
    return 1.0 - (1.0 - s ** rows) ** bands


def scurve(corpus, candidates_path, hard_negatives, bands, rows, seed=1,
           max_same_cluster=200_000, random_pairs=20_000, bin_width=0.05):
    """Fraction of document pairs that are LSH candidates, by true Jaccard.
    Pairs are chosen by the ground truth only (never by the outcome): every
    same-cluster pair (capped), every pair across two versions of one story
    family, every document pair of the listed hard negatives, and random pairs."""
    rng = random.Random(seed)
    ids, texts, clusters, families = [], [], [], []
    for n, line in enumerate(open(corpus, encoding="utf-8"), 1):
        if not line.strip():
            continue
        d = json.loads(line)
        ids.append(json.dumps(d.get("id", n)))
        texts.append(d.get("text") or "")
        clusters.append(d.get("cluster"))
        families.append(d.get("story_family"))
    position = {doc_id: i for i, doc_id in enumerate(ids)}
    by_cluster = collections.defaultdict(list)
    by_family = collections.defaultdict(list)
    for i, (c, f) in enumerate(zip(clusters, families)):
        by_cluster[c].append(i)
        by_family[f].append(i)

    strata = {}
    same = [p for docs in by_cluster.values() for p in itertools.combinations(docs, 2)]
    if len(same) > max_same_cluster:
        same = rng.sample(same, max_same_cluster)
    strata["same_cluster"] = same
    strata["same_family"] = [(a, b) for docs in by_family.values()
                             for a, b in itertools.combinations(docs, 2)
                             if clusters[a] != clusters[b]]
    hn = []
    if hard_negatives and os.path.exists(hard_negatives):
        for r in jsonl(hard_negatives):
            if r.get("kind") == "same_topic":
                hn += [(a, b) for a in by_cluster.get(r["a"], []) for b in by_cluster.get(r["b"], [])]
    strata["hard_negative_same_topic"] = hn
    n = len(ids)
    strata["random"] = [tuple(rng.sample(range(n), 2)) for _ in range(random_pairs)] if n > 1 else []

    found = set()
    for d in jsonl(candidates_path):
        a, b = position.get(json.dumps(d["a"])), position.get(json.dumps(d["b"]))
        if a is not None and b is not None:
            found.add((min(a, b), max(a, b)))

    sets = {}

    def shingles_of(i):
        s = sets.get(i)
        if s is None:
            s = sets[i] = shingle_set(texts[i])
        return s

    nbins = int(round(1 / bin_width))
    counts = [[0, 0, 0.0] for _ in range(nbins)]  # pairs, candidates, sum of P(candidate)
    seen = set()
    by_stratum = {}
    for name, pairs in strata.items():
        st = [0, 0]
        for a, b in pairs:
            key = (min(a, b), max(a, b))
            if key in seen or a == b:
                continue
            seen.add(key)
            sa, sb = shingles_of(a), shingles_of(b)
            union = len(sa | sb)
            j = len(sa & sb) / union if union else 1.0
            k = min(int(j / bin_width), nbins - 1)
            hit = key in found
            counts[k][0] += 1
            counts[k][1] += hit
            counts[k][2] += lsh_probability(j, bands, rows)
            st[0] += 1
            st[1] += hit
        by_stratum[name] = {"pairs": st[0], "candidates": st[1]}
    bins = []
    for k, (total, hits, expected) in enumerate(counts):
        lo, hi = k * bin_width, (k + 1) * bin_width
        mid = (lo + hi) / 2
        # expected: the S-curve averaged over the bin's own pairs (the pairs are
        # not spread evenly in a bin); z: (measured - expected) in binomial s.d.
        e = expected / total if total else None
        sd = math.sqrt(e * (1 - e) / total) if total and 0 < e < 1 else None
        bins.append({"jaccard_from": round(lo, 4), "jaccard_to": round(hi, 4), "pairs": total,
                     "candidates": hits, "rate": (hits / total) if total else None,
                     "expected": e, "z": ((hits / total - e) / sd) if sd else None,
                     "theory_at_mid": lsh_probability(mid, bands, rows)})
    return {"bands": bands, "rows": rows, "pairs_sampled": len(seen),
            "strata": by_stratum, "bins": bins}


# ------------------------------------------------------------------ report

def cpu_pressure():
    """Share of the last 60 s in which some task waited for a CPU (Linux PSI),
    in percent: high when other work shares the machine."""
    try:
        for line in open("/proc/pressure/cpu"):
            if line.startswith("some"):
                return float(dict(kv.split("=") for kv in line.split()[1:])["avg60"])
    except (OSError, KeyError, ValueError):
        return None
    return None


def machine_info(work):
    info = {}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        info["cpu_model"] = fields.get("Model name")
        info["cpu_vendor"] = fields.get("Vendor ID")
        info["cpu_family"] = fields.get("CPU family")
        info["cpu_model_number"] = fields.get("Model")
        info["cpus"] = int(fields.get("CPU(s)", "0") or 0)
        info["hypervisor"] = fields.get("Hypervisor vendor")
        for cache in ["L1d cache", "L2 cache", "L3 cache"]:
            if cache in fields:
                info[cache.replace(" ", "_").lower()] = fields[cache]
        flags = fields.get("Flags", "").split()
        info["simd"] = [f for f in ["sse4_2", "avx2", "avx512f", "avx512bw", "avx512vl"]
                        if f in flags]
    except (OSError, subprocess.CalledProcessError):
        info["cpu_model"] = None
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                info["memory_bytes"] = int(line.split()[1]) * 1024
    except OSError:
        pass
    info["kernel"] = os.uname().release
    info["loadavg_at_end"] = open("/proc/loadavg").read().split()[:3]
    info["cpu_pressure_at_end"] = cpu_pressure()
    info["os"] = read_text("/etc/debian_version")
    if info["os"]:
        info["os"] = "Debian " + info["os"]
    bw = os.path.join(work, "bandwidth.json")
    if os.path.exists(bw):
        info["memory_read_bandwidth"] = read_json(bw)
    return info


def median_run(runs, key):
    ordered = sorted(runs, key=key)
    return ordered[(len(ordered) - 1) // 2]


def per_second(amount, seconds):
    return amount / seconds if seconds and seconds > 0 else None


def copydesk_runs(cdir, prefix):
    """Every timed run of one copydesk row (PREFIX-runI.{stderr,time,sha256})."""
    runs = []
    i = 1
    while os.path.exists(os.path.join(cdir, f"{prefix}-run{i}.stderr")):
        r = parse_copydesk_stderr(os.path.join(cdir, f"{prefix}-run{i}.stderr"))
        r.update(parse_gnu_time(os.path.join(cdir, f"{prefix}-run{i}.time")))
        r["checksum"] = read_text(os.path.join(cdir, f"{prefix}-run{i}.sha256"))
        runs.append(r)
        i += 1
    return runs


def stage_figures(seconds, docs, size):
    """{stage: {seconds, docs_per_s, mb_per_s}} from copydesk's stage seconds;
    a stage this copydesk did not print is left out."""
    return {st: {"seconds": seconds[st], "docs_per_s": per_second(docs, seconds[st]),
                 "mb_per_s": per_second(size / 1e6, seconds[st])}
            for st in STAGES if st in seconds}


def copydesk_figures(cdir, docs, size, prefix="copydesk"):
    """The repeated runs of one copydesk row on one corpus: the median run's
    stages, the largest peak RSS, the checksums."""
    runs = copydesk_runs(cdir, prefix)
    if not runs:
        return None
    med = median_run(runs, lambda r: r["seconds"]["total"])
    stages = stage_figures(med["seconds"], docs, size)
    total = med["seconds"]["total"]
    peak = max(r["peak_rss_bytes"] for r in runs)
    checksums = sorted({r["checksum"] for r in runs})
    out = {
        "runs": len(runs),
        "stages": stages,
        "total_seconds": total,
        "total_seconds_all_runs": [r["seconds"]["total"] for r in runs],
        "wall_seconds": med.get("wall_seconds"),
        "docs_per_s": per_second(docs, total),
        "mb_per_s": per_second(size / 1e6, total),
        "cpu_percent": med.get("cpu_percent"),
        # user + system CPU time: less sensitive than wall time to other load
        "cpu_seconds": med.get("user_seconds", 0) + med.get("system_seconds", 0),
        "docs_per_cpu_s": per_second(docs, med.get("user_seconds", 0) + med.get("system_seconds", 0)),
        "peak_rss_bytes": peak,
        "bytes_per_doc": peak / docs if docs else None,
        # the issue's memory figure: what the run holds beyond the input's size
        "bytes_per_doc_above_input": (peak - size) / docs if docs else None,
        "checksum_sha256": checksums[0] if len(checksums) == 1 else checksums,
        "deterministic": len(checksums) == 1,
    }
    for key in ["bands", "rows", "perm", "documents", "kept", "removed", "rejected",
                "clusters", "largest_cluster", "candidate_pairs", "verified_pairs",
                "sign_text_mb_per_s_reported"]:
        if key in med:
            out[key] = med[key]
    return out


def floor_figures(cdir, copydesk):
    runs = []
    i = 1
    while os.path.exists(os.path.join(cdir, f"floor-run{i}.json")):
        runs.append(read_json(os.path.join(cdir, f"floor-run{i}.json")))
        i += 1
    if not runs:
        return None
    med = median_run(runs, lambda r: r["hash_seconds"])
    out = dict(med)
    out["runs"] = len(runs)
    out["hash_seconds_all_runs"] = [r["hash_seconds"] for r in runs]
    out["read_seconds"] = statistics.median(r["read_seconds"] for r in runs)
    if copydesk:
        out["sign_ratio"] = copydesk["stages"]["sign"]["seconds"] / med["hash_seconds"]
        out["total_ratio"] = copydesk["total_seconds"] / med["hash_seconds"]
        out["read_ratio"] = copydesk["stages"]["read"]["seconds"] / max(out["read_seconds"], 1e-9)
    return out


def signature_figures(cdir):
    """The one-core signature stage from copydesk-microbench --only pipeline:
    read + sign in one pass, and the floor it timed on the same texts."""
    path = os.path.join(cdir, "signature.txt")
    if not os.path.exists(path):
        return None
    m = parse_microbench(path)
    sign = next((v for k, v in m.items() if k.startswith("read + sign, one pass")), None)
    floor = next((v for k, v in m.items() if k.startswith("floor (")), None)
    if not sign or not floor:
        die(f"{path}: no 'read + sign, one pass' or 'floor (...)' line from copydesk-microbench "
            f"(did its output change?)")
    return {"documents": m.get("_documents"), "text_bytes_per_doc": m.get("_text_bytes_per_doc"),
            "simd": m.get("_simd"), "threads": 1, "html": "off",
            "sign_seconds": sign["seconds"], "sign_docs_per_s": sign["docs_per_s"],
            "sign_mb_per_s": sign["mb_per_s"], "floor_seconds": floor["seconds"],
            "floor_docs_per_s": floor["docs_per_s"], "floor_mb_per_s": floor["mb_per_s"],
            "floor_ratio": sign["docs_per_s"] / floor["docs_per_s"]}


def other_cpu_use(cdir, stem, own_cpu_seconds):
    """CPUs' worth of work other than the run itself while it ran (busy time of
    the whole machine minus the run's user + system time, over the time between
    the two samples), and the hypervisor's steal time likewise; None without
    the samples. /proc/stat counts in 10 ms ticks: rough on a short run."""
    before, after = (os.path.join(cdir, f"{stem}.stat-{w}") for w in ("before", "after"))
    if not (os.path.exists(before) and os.path.exists(after)):
        return None, None
    (t0, busy0, steal0), (t1, busy1, steal1) = parse_cpu_sample(before), parse_cpu_sample(after)
    if t1 <= t0:
        return None, None
    others = max(0.0, (busy1 - busy0) - own_cpu_seconds) / (t1 - t0)
    return others, (steal1 - steal0) / (t1 - t0)


def scaling_run(cdir, threads, docs, run=None):
    """One run of the thread-scaling pairs (run None: the single pair of older
    benches): its sign stage and the machine's other load meanwhile."""
    stem = f"scaling-threads{threads}" + (f"-run{run}" if run else "")
    r = parse_copydesk_stderr(os.path.join(cdir, f"{stem}.stderr"))
    out = {"threads": threads, "sign_seconds": r["seconds"]["sign"],
           "sign_docs_per_s": per_second(docs, r["seconds"]["sign"]),
           "total_seconds": r["seconds"]["total"],
           "checksum_sha256": read_text(os.path.join(cdir, f"{stem}.sha256"))}
    tpath = os.path.join(cdir, f"{stem}.time")
    if os.path.exists(tpath):
        t = parse_gnu_time(tpath)
        own = t.get("user_seconds", 0) + t.get("system_seconds", 0)
        out["cpu_seconds"] = own
        out["other_cpus"], out["steal_cpus"] = other_cpu_use(cdir, stem, own)
    return out


def scaling_figures(cdir, docs, loadavg_at_bench_start):
    """The lean row's sign stage at --threads 1 and at --threads nproc, their
    ratio, and whether the machine was quiet enough to trust it: unreliable when
    the 1-minute load average exceeded SCALING_MAX_LOAD when the bench started or
    when the pair started, or other work took more than that many CPUs meanwhile."""
    threads = read_text(os.path.join(cdir, "scaling.threads"))
    if not threads:
        return None
    fields = [int(t) for t in threads.split()]
    runs = range(1, fields[2] + 1) if len(fields) > 2 else [None]

    def median_sign(t):
        """The run at t threads with the median sign stage."""
        return median_run([scaling_run(cdir, t, docs, i) for i in runs],
                          lambda r: r["sign_seconds"] or 0)

    one, many = median_sign(fields[0]), median_sign(fields[1])

    def floor_seconds(t):
        """The median hashing time of the floor runs at t threads, or None."""
        times = []
        for i in runs:
            text = i and read_text(os.path.join(cdir, f"scaling-floor{t}-run{i}.json"))
            if text:
                times.append(json.loads(text).get("hash_seconds") or 0)
        return median_run(times, lambda v: v) if times else None

    f1, fn = floor_seconds(fields[0]), floor_seconds(fields[1])
    load = read_text(os.path.join(cdir, "scaling.loadavg")).split()[:3]
    out = {"runs": [one, many], "threads": many["threads"], "loadavg_at_start": load,
           "ratio": (one["sign_seconds"] / many["sign_seconds"]
                     if one["sign_seconds"] and many["sign_seconds"] else None),
           "same_output": one["checksum_sha256"] == many["checksum_sha256"],
           "floor_ratio": f1 / fn if f1 and fn else None}
    reasons = []
    if loadavg_at_bench_start and float(loadavg_at_bench_start[0]) > SCALING_MAX_LOAD:
        reasons.append(f"load average {loadavg_at_bench_start[0]} when the bench started")
    if float(load[0]) > SCALING_MAX_LOAD:
        reasons.append(f"load average {load[0]} when the pair started")
    others = max((r.get("other_cpus") or 0) for r in (one, many))
    if others > SCALING_MAX_LOAD:
        reasons.append(f"other work took {others:.2f} CPUs during the runs")
    if one["sign_seconds"] < MIN_GATED_SECONDS or many["sign_seconds"] < MIN_GATED_SECONDS:
        reasons.append("sign stage under 0.1 s")
    out["unreliable"] = reasons
    return out


def peer_figures(cdir, docs, gold, hard_negatives):
    peers = {}
    skipped = read_text(os.path.join(cdir, "ekzhu.skipped"))
    if skipped:
        peers["ekzhu"] = {"skipped": skipped}
    elif os.path.exists(os.path.join(cdir, "ekzhu-run1.stderr")):
        runs = []
        while os.path.exists(os.path.join(cdir, f"ekzhu-run{len(runs) + 1}.stderr")):
            i = len(runs) + 1
            r = parse_ekzhu_stderr(os.path.join(cdir, f"ekzhu-run{i}.stderr"))
            r.update(parse_gnu_time(os.path.join(cdir, f"ekzhu-run{i}.time")))
            runs.append(r)
        e = median_run(runs, lambda r: r["seconds"].get("total") or 0)
        e["runs"] = len(runs)
        total = e["seconds"].get("total")
        e["docs"] = docs
        e["docs_per_s"] = per_second(docs, total)
        e["cpu_seconds"] = e.get("user_seconds", 0) + e.get("system_seconds", 0)
        e["docs_per_cpu_s"] = per_second(docs, e["cpu_seconds"])
        e["read_sign_docs_per_s"] = per_second(docs, e["seconds"].get("read_sign"))
        e["bytes_per_doc"] = e["peak_rss_bytes"] / docs if docs else None
        e["quality"] = quality(cdir, "ekzhu-eval.json", "ekzhu.jsonl", gold, hard_negatives)
        peers["ekzhu"] = e
    sdir = os.path.join(cdir, "simhash")
    skipped = read_text(os.path.join(cdir, "simhash.skipped"))
    if skipped:
        peers["simhash"] = {"skipped": skipped}
    elif os.path.exists(os.path.join(sdir, "hash.seconds")):
        n = int(read_text(os.path.join(sdir, "sample.count")))
        s = {"docs": n, "sample": "first documents of the corpus", "threshold": 0.8,
             "hash_seconds": float(read_text(os.path.join(sdir, "hash.seconds"))),
             "match_seconds": float(read_text(os.path.join(sdir, "match.seconds")))}
        s["hash_docs_per_s"] = per_second(n, s["hash_seconds"])
        s["match_docs_per_s"] = per_second(n, s["match_seconds"])
        s["docs_per_s"] = s["hash_docs_per_s"]
        if os.path.exists(os.path.join(sdir, "match.time")):
            s["peak_rss_bytes"] = parse_gnu_time(os.path.join(sdir, "match.time"))["peak_rss_bytes"]
        sample_gold = load_gold(os.path.join(sdir, "sample.jsonl")) if gold is not None else None
        s["quality"] = quality(sdir, "eval.json", "perdoc.jsonl", sample_gold, hard_negatives)
        s["copydesk_quality_same_sample"] = quality(sdir, "copydesk-eval.json",
                                                    "copydesk-perdoc.jsonl", sample_gold,
                                                    hard_negatives)
        peers["simhash"] = s
    return peers


def row_figures(cdir, corpus, prefix, settings, gold):
    """One copydesk row on one corpus: timings, memory, LSH grouping speed and
    quality (its own `cluster --all` output scored by copydesk eval)."""
    cd = copydesk_figures(cdir, corpus["docs"], corpus["bytes"], prefix)
    if cd:
        cd["threads"] = settings["threads"]
        cd["lsh_docs_per_s"] = cd["stages"]["lsh"]["docs_per_s"]
        cd["quality"] = quality(cdir, f"{prefix}-eval.json", f"{prefix}-cluster.jsonl", gold,
                                corpus.get("hard_negatives"))
    return cd


def add_peer_ratios(entry):
    """Each copydesk row's docs/s over the ekzhu peer's, when the peer ran."""
    e = (entry.get("peers") or {}).get("ekzhu") or {}
    for key, _, _ in ROWS:
        cd = entry.get(key)
        if cd and e.get("docs_per_s"):
            cd["ekzhu_ratio"] = cd["docs_per_s"] / e["docs_per_s"]


def collect(work, name):
    """Everything in the work folder as one result object."""
    settings = read_json(os.path.join(work, "settings.json"))
    result = {
        "name": name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": settings.pop("commit", None),
        "commit_dirty": settings.pop("commit_dirty", None),
        "machine": machine_info(work),
        "settings": settings,
        "commands": [json.loads(l) for l in open(os.path.join(work, "commands.jsonl"))],
        "corpora": [],
    }
    for c in jsonl(os.path.join(work, "corpora.jsonl")):
        cdir = os.path.join(work, c["label"])
        docs, size = c["docs"], c["bytes"]
        gold = load_gold(c["path"]) if c.get("gold") else None
        hn = c.get("hard_negatives")
        entry = dict(c)
        for key, _, prefix in ROWS:
            entry[key] = row_figures(cdir, c, prefix, settings, gold)
        cd = entry["copydesk"]
        entry["floor"] = floor_figures(cdir, cd)
        entry["signature"] = signature_figures(cdir)
        entry["scaling"] = scaling_figures(cdir, docs, settings.get("loadavg_at_start"))
        entry["peers"] = peer_figures(cdir, docs, gold, hn)
        add_peer_ratios(entry)
        cand = os.path.join(cdir, "scurve-candidates.jsonl")
        if os.path.exists(cand) and gold is not None and cd and "bands" in cd:
            bands, rows = map(int, read_text(os.path.join(cdir, "scurve-params")).split())
            entry["scurve"] = scurve(c["path"], cand, hn, bands, rows)
        del gold
        result["corpora"].append(entry)
    result["figures"] = flat_figures(result)
    return result


def row_flat_figures(add, label, key, cd):
    """The comparable figures of one copydesk row (see flat_figures)."""
    gated = cd["total_seconds"] >= MIN_GATED_SECONDS
    add(f"{label}/{key}/docs_per_s", cd["docs_per_s"], "throughput" if gated else "info")
    for st, s in cd["stages"].items():
        kind = "throughput" if s["seconds"] >= MIN_GATED_SECONDS else "info"
        add(f"{label}/{key}/{st}/docs_per_s", s["docs_per_s"], kind)
    add(f"{label}/{key}/docs_per_cpu_s", cd["docs_per_cpu_s"], "info")
    add(f"{label}/{key}/bytes_per_doc", cd["bytes_per_doc"], "memory", "lower")
    add(f"{label}/{key}/bytes_per_doc_above_input", cd.get("bytes_per_doc_above_input"),
        "memory", "lower")
    add(f"{label}/{key}/peak_rss_bytes", cd["peak_rss_bytes"], "memory", "lower")
    add(f"{label}/{key}/ekzhu_ratio", cd.get("ekzhu_ratio"), "info")
    q = cd.get("quality")
    if q:
        for k in QUALITY_KEYS:
            add(f"{label}/{key}/{k}", q.get(k), "quality")
        if "hard_negative_merged_rate" in q:
            add(f"{label}/{key}/hard_negative_merged_rate", q["hard_negative_merged_rate"],
                "quality", "lower")
        add(f"{label}/{key}/family_doc_pairs_merged", q["family_doc_pairs_merged"], "info",
            "lower")


def flat_figures(result):
    """Every comparable figure as {key, value, kind, better}; --compare uses these.
    kind: throughput (gated by --tolerance), quality (gated at -0.005),
    memory and info (reported only)."""
    figs = []

    def add(key, value, kind, better="higher"):
        if value is not None:
            figs.append({"key": key, "value": value, "kind": kind, "better": better})

    for c in result["corpora"]:
        label = c["label"]
        for key, _, _ in ROWS:
            if c.get(key):
                row_flat_figures(add, label, key, c[key])
        f = c.get("floor")
        if f:
            add(f"{label}/floor/hash_docs_per_s", f["hash_docs_per_s"], "info")
            add(f"{label}/floor/sign_ratio", f.get("sign_ratio"), "info", "lower")
            add(f"{label}/floor/total_ratio", f.get("total_ratio"), "info", "lower")
        sig = c.get("signature")
        if sig:
            gated = sig["sign_seconds"] >= MIN_GATED_SECONDS
            add(f"{label}/signature/docs_per_s", sig["sign_docs_per_s"],
                "throughput" if gated else "info")
            add(f"{label}/signature/floor_docs_per_s", sig["floor_docs_per_s"], "info")
            add(f"{label}/signature/floor_ratio", sig["floor_ratio"], "info")
        sc = c.get("scaling")
        if sc:
            add(f"{label}/scaling/sign_ratio", sc["ratio"], "info")
        for peer, p in (c.get("peers") or {}).items():
            add(f"{label}/{peer}/docs_per_s", p.get("docs_per_s"), "info")
            if p.get("quality"):
                add(f"{label}/{peer}/f1", p["quality"].get("f1"), "info")
    bw = result["machine"].get("memory_read_bandwidth")
    if bw:
        add("machine/memory_read_gb_per_s", bw.get("gb_per_s"), "info")
    return figs


def figure_changes(old, new, tolerance):
    """The change of every figure present in both runs, as table rows
    [figure, old, new, change, kind, verdict], and the list of failures."""
    old_figs = {f["key"]: f for f in old.get("figures", [])}
    failures = []
    rows = []
    for f in new["figures"]:
        o = old_figs.get(f["key"])
        if o is None:
            continue
        a, b = o["value"], f["value"]
        verdict = ""
        if f["kind"] == "quality":
            drop = (a - b) if f["better"] == "higher" else (b - a)
            change = f"{b - a:+.4f}"
            if drop > QUALITY_DROP:
                verdict = "FAIL"
                failures.append(f"{f['key']}: {a:.4f} -> {b:.4f}")
        else:
            rel = (b - a) / a if a else 0.0
            change = f"{rel * 100:+.1f}%"
            worse = -rel if f["better"] == "higher" else rel
            if f["kind"] == "throughput" and o["kind"] == "throughput" and worse > tolerance:
                verdict = "FAIL"
                failures.append(f"{f['key']}: {fmt_num(a)} -> {fmt_num(b)} ({change})")
        rows.append([f["key"], fmt_num(a), fmt_num(b), change, f["kind"], verdict])
    old_corpora = {c["label"]: c for c in old.get("corpora", [])}
    for c in new["corpora"]:
        for key, _, _ in ROWS:
            o = (old_corpora.get(c["label"]) or {}).get(key)
            ck, old_ck = (c.get(key) or {}).get("checksum_sha256"), (o or {}).get("checksum_sha256")
            if o and c.get(key) and old_ck != ck:
                rows.append([f"{c['label']}/{key}/checksum", str(old_ck)[:12], str(ck)[:12],
                             "output changed", "info", ""])
    return rows, failures


STAGE_COMPARE_HEADER = ["stage", "old s", "new s", "old docs/s", "new docs/s", "speed-up"]


def stage_changes(old_row, new_row):
    """Before/after rows of every stage and the total of one copydesk row; a
    stage or row missing from the old results (older files) shows as —."""
    old_row = old_row or {}
    rows = []
    for st in STAGES + ["total"]:
        if st == "total":
            a = ({"seconds": old_row["total_seconds"], "docs_per_s": old_row.get("docs_per_s")}
                 if old_row else None)
            b = {"seconds": new_row["total_seconds"], "docs_per_s": new_row["docs_per_s"]}
        else:
            a, b = (old_row.get("stages") or {}).get(st), new_row["stages"].get(st)
        if a is None and b is None:
            continue
        speedup = (f"{a['seconds'] / b['seconds']:.2f}×"
                   if a and b and a["seconds"] and b["seconds"] else "—")
        rows.append([st, "—" if a is None else f"{a['seconds']:.2f}",
                     "—" if b is None else f"{b['seconds']:.2f}",
                     fmt_num(a and a["docs_per_s"]), fmt_num(b and b["docs_per_s"]), speedup])
    return rows


def stage_comparisons(old, new):
    """(title, rows or None) per corpus and copydesk row of the new run: the
    before/after table of every stage; rows is None when OLD lacks the corpus."""
    old_corpora = {c["label"]: c for c in old.get("corpora", [])}
    out = []
    for c in new["corpora"]:
        oc = old_corpora.get(c["label"])
        if oc is None:
            out.append((f"{c['label']}: not in {old.get('name')} (it has "
                        f"{', '.join(old_corpora) or 'no corpus'})", None))
            continue
        for key, row_name, _ in ROWS:
            if not c.get(key):
                continue
            note = "" if oc.get(key) else f" (no such row in {old.get('name')})"
            out.append((f"{c['label']}, {row_name}: {old.get('name')} -> {new['name']}{note}",
                        stage_changes(oc.get(key), c[key])))
    return out


def compare(old, new, tolerance):
    """Compares a run with an earlier one: returns (failures, text lines,
    markdown lines), the lines holding the before/after table of every stage of
    each copydesk row and the change of every figure in both runs."""
    figure_rows, failures = figure_changes(old, new, tolerance)
    stage_tables = stage_comparisons(old, new)

    def lines(markdown):
        out = [f"Compared with {old.get('name')} (commit {str(old.get('commit'))[:12]}), "
               f"tolerance {tolerance * 100:.0f}% on throughput, {QUALITY_DROP} on quality.", ""]
        for title, rows in stage_tables:
            out.append(title + ("" if rows is None else ":"))
            if rows is not None:
                out += ["" if markdown else None,
                        table(STAGE_COMPARE_HEADER, rows, markdown=markdown)]
            out.append("")
        out += ["Every figure in both runs:", "" if markdown else None,
                table(["figure", "old", "new", "change", "kind", ""], figure_rows,
                      markdown=markdown)]
        return [l for l in out if l is not None]

    return failures, lines(False), lines(True)


# ------------------------------------------------------------- formatting

def fmt_num(v, digits=3):
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) >= 100):
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}f}"


def fmt_mb(v):
    return "—" if v is None else f"{v / 1e6:,.1f}"


def table(header, rows, markdown=False):
    cells = [header] + [[str(x) for x in r] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for n, r in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w)
                               for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def q_cells(q):
    if not q:
        return ["—"] * 6
    hn = q.get("hard_negative_story_pairs_merged")
    listed = q.get("hard_negative_story_pairs")
    hn_cell = (f"{sum(hn.values())}/{sum(listed.values())}" if hn is not None else "—")
    return [f"{q['precision']:.3f}", f"{q['recall']:.3f}", f"{q['f1']:.3f}", f"{q['ari']:.3f}",
            f"{q['bcubed_f1']:.3f}", f"{q['family_doc_pairs_merged']:,} / {hn_cell}"]


def summary_row(label, system, docs=None, seconds=None, docs_per_s=None, ekzhu_ratio=None,
                docs_per_cpu_s=None, mb_per_s=None, peak_rss=None, bytes_per_doc=None,
                quality=None):
    """One line of the summary table (SUMMARY_HEADER); a missing figure is —."""
    return ([label, system, "—" if docs is None else f"{docs:,}",
             seconds if isinstance(seconds, str) else
             ("—" if seconds is None else f"{seconds:.2f}"),
             fmt_num(docs_per_s), "—" if ekzhu_ratio is None else f"{ekzhu_ratio:.1f}×",
             fmt_num(docs_per_cpu_s), fmt_num(mb_per_s), fmt_mb(peak_rss), fmt_num(bytes_per_doc)]
            + q_cells(quality))


def summary_rows(result):
    """The summary table: each copydesk row, the floor and the peers, per corpus."""
    rows = []
    for c in result["corpora"]:
        label = c["label"]
        for key, row_name, _ in ROWS:
            cd = c.get(key)
            if cd:
                rows.append(summary_row(label, row_name, c["docs"], cd["total_seconds"],
                                        cd["docs_per_s"], cd.get("ekzhu_ratio"),
                                        cd["docs_per_cpu_s"], cd["mb_per_s"],
                                        cd["peak_rss_bytes"], cd["bytes_per_doc"],
                                        cd.get("quality")))
        f = c.get("floor")
        if f:
            rows.append(summary_row(label, "floor (tokens+XXH3)", f["documents"],
                                    f["hash_seconds"], f["hash_docs_per_s"],
                                    mb_per_s=f["hash_mb_per_s"]))
        for peer, p in (c.get("peers") or {}).items():
            if p.get("skipped"):
                rows.append(summary_row(label, peer, seconds="skipped"))
            elif peer == "simhash":
                rows.append(summary_row(label, "simhash (hash only)", p["docs"],
                                        p["hash_seconds"], p["hash_docs_per_s"]))
                rows.append(summary_row(label, "simhash (-m, O(n²))", p["docs"],
                                        p["match_seconds"], p["match_docs_per_s"],
                                        peak_rss=p.get("peak_rss_bytes"),
                                        quality=p.get("quality")))
                if p.get("copydesk_quality_same_sample"):
                    rows.append(summary_row(label, "copydesk, same sample", p["docs"],
                                            quality=p["copydesk_quality_same_sample"]))
            else:
                total = p["seconds"]["total"]
                rows.append(summary_row(label, f"{peer} (Go)", p["docs"], total, p["docs_per_s"],
                                        None, p["docs_per_cpu_s"],
                                        per_second(c["bytes"] / 1e6, total),
                                        p["peak_rss_bytes"], p["bytes_per_doc"],
                                        p.get("quality")))
    return rows


SUMMARY_HEADER = ["corpus", "system", "docs", "total s", "docs/s", "× ekzhu", "docs/CPU s", "MB/s",
                  "peak RSS MB", "bytes/doc", "P", "R", "F1", "ARI", "B³ F1",
                  "fam. pairs / HN merged"]


def stage_rows(cd, floor):
    """The stage table of one copydesk row, with the floor's figures below."""
    rows = []
    for st, s in cd["stages"].items():
        rows.append([st, f"{s['seconds']:.2f}", fmt_num(s["docs_per_s"]), fmt_num(s["mb_per_s"])])
    rows.append(["**total**", f"{cd['total_seconds']:.2f}", fmt_num(cd["docs_per_s"]),
                 fmt_num(cd["mb_per_s"])])
    if floor:
        rows.append(["floor: read(2)", f"{floor['read_seconds']:.3f}", "—",
                     fmt_num(floor["read_mb_per_s"])])
        rows.append(["floor: tokens+XXH3", f"{floor['hash_seconds']:.3f}",
                     fmt_num(floor["hash_docs_per_s"]), fmt_num(floor["hash_mb_per_s"])])
    return rows


def verdict(value, target, higher=True):
    """ "met" / "not met" for a figure against the issue's target."""
    if value is None:
        return "no figure"
    return "met" if (value >= target if higher else value <= target) else "not met"


def per_row(c, describe):
    """ "copydesk X, copydesk lean Y" over the copydesk rows of corpus c."""
    return ", ".join(f"{name} {describe(c[key])}" for key, name, _ in ROWS if c.get(key))


def signature_line(c):
    """The issue's signature-stage figure for corpus c, or None."""
    sig = c.get("signature")
    if not sig:
        return None
    ok = (verdict(sig["sign_docs_per_s"], TARGET_SIGN_DOCS_PER_S) == "met"
          and verdict(sig["floor_ratio"], TARGET_SIGN_FLOOR_RATIO) == "met")
    return (f"signature stage, one core (copydesk-microbench: read + sign in one pass, HTML off, "
            f"first {sig['documents']:,} documents of {sig['text_bytes_per_doc']:,} text bytes): "
            f"{fmt_num(sig['sign_docs_per_s'])} docs/s = {sig['floor_ratio']:.2f}× the floor "
            f"measured in the same run ({fmt_num(sig['floor_docs_per_s'])} docs/s) "
            f"[target ≥ {TARGET_SIGN_DOCS_PER_S:,} docs/s and ≥ {TARGET_SIGN_FLOOR_RATIO}×: "
            f"{'met' if ok else 'not met'}]")


def ekzhu_line(c, threads):
    """Each copydesk row's docs/s over the ekzhu peer's, or why there is none."""
    e = (c.get("peers") or {}).get("ekzhu")
    if not e:
        return None
    if e.get("skipped"):
        return f"vs ekzhu/minhash-lsh: skipped ({e['skipped']})"
    note = "" if threads == 1 else f"; this run used --threads {threads}"
    return (f"end to end vs ekzhu/minhash-lsh ({fmt_num(e['docs_per_s'])} docs/s, same threshold, "
            f"perm and ngram): "
            + per_row(c, lambda cd: f"{cd['ekzhu_ratio']:.1f}× "
                                    f"({verdict(cd['ekzhu_ratio'], TARGET_EKZHU_RATIO)})")
            + f" [target ≥ {TARGET_EKZHU_RATIO}× at --threads 1{note}]")


def scaling_line(c):
    """The lean row's sign-stage scaling from 1 thread to nproc, with the load."""
    sc = c.get("scaling")
    if not sc:
        return None
    one, many = sc["runs"]
    ratio = "—" if sc["ratio"] is None else f"{sc['ratio']:.2f}×"
    others = " / ".join("—" if r.get("other_cpus") is None else f"{r['other_cpus']:.2f}"
                        for r in sc["runs"])
    steal = " / ".join("—" if r.get("steal_cpus") is None else f"{r['steal_cpus']:.2f}"
                       for r in sc["runs"])
    trust = ("UNRELIABLE: " + "; ".join(sc["unreliable"]) if sc["unreliable"]
             else "the machine was quiet")
    return (f"thread scaling (copydesk lean, sign stage): 1 thread {fmt_num(one['sign_docs_per_s'])} "
            f"docs/s, {many['threads']} threads {fmt_num(many['sign_docs_per_s'])} docs/s = {ratio} "
            f"[target ≥ {TARGET_SCALING_RATIO}×: {verdict(sc['ratio'], TARGET_SCALING_RATIO)}]; "
            + ("" if sc.get("floor_ratio") is None else
               f"the floor scaled {sc['floor_ratio']:.2f}× in the same runs; ")
            + f"load average {' '.join(sc['loadavg_at_start'])} when the pair started, other work "
            f"{others} CPUs and steal {steal} CPUs during the runs"
            + ("" if sc["same_output"] else "; OUTPUT DIFFERS between thread counts")
            + f" — {trust}")


def lsh_line(c):
    """LSH grouping speed (documents over the lsh stage's seconds) of each row."""
    def one(cd):
        v = cd.get("lsh_docs_per_s")
        if v is None:
            return "— (lsh under 1 ms)"
        return f"{fmt_num(v)} docs/s ({verdict(v, TARGET_LSH_DOCS_PER_S)})"
    return (f"LSH grouping (documents ÷ the lsh stage): {per_row(c, one)} "
            f"[target ≥ {TARGET_LSH_DOCS_PER_S:,} docs/s]")


def memory_line(c):
    """Peak RSS beyond the input file's size, per document, of each row."""
    def one(cd):
        v = cd.get("bytes_per_doc_above_input")
        return (f"{fmt_num(v)} B "
                f"({verdict(v, TARGET_BYTES_PER_DOC_ABOVE_INPUT, higher=False)})")
    return (f"peak RSS above the input ({c['bytes'] / 1e6:,.1f} MB) per document: {per_row(c, one)} "
            f"[target ≤ {TARGET_BYTES_PER_DOC_ABOVE_INPUT:,} B at 1,000,000 documents]")


def issue_lines(c, threads):
    """The performance issue's figures for corpus c, one sentence each."""
    lines = [signature_line(c), ekzhu_line(c, threads), scaling_line(c)]
    if any(c.get(key) for key, _, _ in ROWS):
        lines += [lsh_line(c), memory_line(c)]
    return [l for l in lines if l]


def markdown_row(c, key, row_name):
    """The markdown section of one copydesk row on corpus c."""
    cd = c[key]
    f = c.get("floor") if key == "copydesk" else None
    lines = [f"### {row_name}", "",
             table(["stage", "seconds", "docs/s", "MB/s"], stage_rows(cd, f), markdown=True), "",
             f"- LSH {cd.get('bands')} bands × {cd.get('rows')} rows; "
             f"{cd.get('candidate_pairs', 0):,} candidate pairs, "
             f"{cd.get('verified_pairs', 0):,} verified; {cd.get('clusters', 0):,} clusters "
             f"(largest {cd.get('largest_cluster')}); LSH grouping "
             f"{fmt_num(cd.get('lsh_docs_per_s'))} docs/s",
             f"- peak RSS {fmt_mb(cd['peak_rss_bytes'])} MB = {fmt_num(cd['bytes_per_doc'])} "
             f"bytes per document, {fmt_num(cd.get('bytes_per_doc_above_input'))} above the "
             f"input's size; CPU {cd.get('cpu_percent')}% ({cd['cpu_seconds']:.2f} CPU s, "
             f"{fmt_num(cd['docs_per_cpu_s'])} docs per CPU s)",
             f"- output sha256 `{cd['checksum_sha256']}`"
             + ("" if cd["deterministic"] else " — **differs between runs**")]
    if cd.get("ekzhu_ratio"):
        lines.append(f"- {cd['ekzhu_ratio']:.1f}× the docs/s of ekzhu/minhash-lsh")
    if f and "sign_ratio" in f:
        lines.append(f"- vs the floor: sign {f['sign_ratio']:.1f}× the floor's tokens+XXH3 "
                     f"time, total {f['total_ratio']:.1f}×; read {f['read_ratio']:.1f}× "
                     f"a plain read(2)")
    q = cd.get("quality")
    if q:
        lines.append(f"- quality: P {q['precision']:.4f}, R {q['recall']:.4f}, "
                     f"F1 {q['f1']:.4f}, ARI {q['ari']:.4f}, B³ P/R/F1 "
                     f"{q['bcubed_precision']:.4f}/{q['bcubed_recall']:.4f}/"
                     f"{q['bcubed_f1']:.4f}; largest cluster {q.get('pred_largest')} "
                     f"(gold {q.get('gold_largest')}); clusters {q.get('pred_clusters'):,} "
                     f"(gold {q.get('gold_clusters'):,})")
        lines.append(f"- wrongly merged: {q['wrong_doc_pairs_merged']:,} document pairs "
                     f"from different stories, {q['family_doc_pairs_merged']:,} of them "
                     f"versions of one family")
        if "hard_negative_story_pairs" in q:
            parts = [f"{k}: {q['hard_negative_story_pairs_merged'][k]}/{v} story pairs "
                     f"({q['hard_negative_doc_pairs_merged'][k]:,} document pairs)"
                     for k, v in q["hard_negative_story_pairs"].items()]
            lines.append("- listed hard negatives merged: " + "; ".join(parts))
    return lines + [""]


def markdown_scurve(sc):
    """The S-curve table."""
    return ["", f"S-curve ({sc['pairs_sampled']:,} pairs; strata "
            + ", ".join(f"{k} {v['pairs']:,}" for k, v in sc["strata"].items()) + "):",
            "",
            table(["true Jaccard", "pairs", "candidates", "measured",
                   "expected (S-curve over the bin's pairs)", "z", "S-curve at mid-bin"],
                  [[f"{b['jaccard_from']:.2f}–{b['jaccard_to']:.2f}", f"{b['pairs']:,}",
                    f"{b['candidates']:,}",
                    "—" if b["rate"] is None else f"{b['rate']:.3f}",
                    f"{b['expected']:.3f}",
                    "—" if b["z"] is None else f"{b['z']:+.1f}",
                    f"{b['theory_at_mid']:.3f}"] for b in sc["bins"] if b["pairs"]],
                  markdown=True)]


def markdown(result, svgs, comparison=None):
    """NAME.md: the machine, the summary with the issue's figures, one section
    per corpus, the comparison with --compare's file, the plots, the commands."""
    m = result["machine"]
    bw = m.get("memory_read_bandwidth") or {}
    threads = result["settings"]["threads"]
    lines = [f"# copydesk benchmark: {result['name']}", "",
             f"- commit `{result['commit']}`{' (with uncommitted changes)' if result['commit_dirty'] else ''}, "
             f"{result['created']}",
             f"- CPU: {m.get('cpu_model')} (family {m.get('cpu_family')}, model "
             f"{m.get('cpu_model_number')}; {m.get('cpus')} CPUs; {', '.join(m.get('simd', []))}"
             f"{'; ' + m['hypervisor'] + ' guest' if m.get('hypervisor') else ''}), "
             f"{fmt_mb(m.get('memory_bytes'))} MB RAM, {m.get('os')}, kernel {m.get('kernel')}",
             f"- memory read bandwidth: {bw.get('gb_per_s', '—')} GB/s "
             f"({bw.get('threads', '—')} threads, {bw.get('gib', '—')} GiB × {bw.get('passes', '—')})",
             f"- threads: {threads}; each copydesk and floor figure is the "
             f"median of {result['settings']['repeat']} runs; load average "
             f"{' '.join(result['settings'].get('loadavg_at_start') or [])} at the start, "
             f"{' '.join(m.get('loadavg_at_end') or [])} at the end; CPU pressure (PSI some avg60) "
             f"{result['settings'].get('cpu_pressure_at_start')}% at the start, "
             f"{m.get('cpu_pressure_at_end')}% at the end",
             f"- copydesk lean: `{' '.join(result['settings'].get('lean_options') or [])}`", "",
             "## Summary", "",
             "fam. pairs = document pairs merged across two versions of one story family; "
             "HN merged = listed hard-negative story pairs merged / listed.", "",
             table(SUMMARY_HEADER, summary_rows(result), markdown=True), "",
             "### The performance issue's figures", ""]
    for c in result["corpora"]:
        lines += [f"- **{c['label']}**: {l}" for l in issue_lines(c, threads)]
    lines.append("")
    for c in result["corpora"]:
        lines += [f"## {c['label']}", "",
                  f"{c['docs']:,} documents, {c['bytes'] / 1e6:,.1f} MB: `{c['path']}`", ""]
        for key, row_name, _ in ROWS:
            if c.get(key):
                lines += markdown_row(c, key, row_name)
        if c.get("scurve"):
            lines += markdown_scurve(c["scurve"])
        lines.append("")
    if comparison:
        lines += ["## Compared with an earlier run", ""] + comparison + [""]
    for title, path in svgs:
        lines += [f"![{title}]({os.path.basename(path)})", ""]
    lines += ["## Commands", "", "```"] + [c["command"] for c in result["commands"]] + ["```", ""]
    return "\n".join(lines)


# -------------------------------------------------------------------- SVG

def svg_doc(width, height, body):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(body) + "\n</svg>\n")


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def nice_ticks(lo, hi, n=5):
    span = hi - lo
    step = 10 ** math.floor(math.log10(span / n)) if span > 0 else 1
    for m in [1, 2, 5, 10]:
        if span / (step * m) <= n:
            step *= m
            break
    first = math.ceil(lo / step) * step
    ticks = []
    t = first
    while t <= hi + 1e-9:
        ticks.append(t)
        t += step
    return ticks


def throughput_svg(result):
    """docs/s against corpus size (log x), one line per system."""
    series = collections.OrderedDict()
    for c in result["corpora"]:
        x = c["docs"]
        cd = c.get("copydesk")
        if cd:
            series.setdefault("copydesk total", []).append((x, cd["docs_per_s"]))
            series.setdefault("copydesk sign stage", []).append(
                (x, cd["stages"]["sign"]["docs_per_s"]))
        lean = c.get("copydesk_lean")
        if lean:
            series.setdefault("copydesk lean total", []).append((x, lean["docs_per_s"]))
        sig = c.get("signature")
        if sig:
            series.setdefault("sign stage, 1 core (microbench)", []).append(
                (x, sig["sign_docs_per_s"]))
        f = c.get("floor")
        if f:
            series.setdefault("floor (tokens+XXH3)", []).append((x, f["hash_docs_per_s"]))
        e = (c.get("peers") or {}).get("ekzhu")
        if e and e.get("docs_per_s"):
            series.setdefault("ekzhu/minhash-lsh (Go)", []).append((x, e["docs_per_s"]))
        s = (c.get("peers") or {}).get("simhash")
        if s and s.get("hash_docs_per_s"):
            series.setdefault("simhash -w (sample)", []).append(
                (x, s["hash_docs_per_s"]))
    W, H, L, R, T, B = 760, 420, 80, 230, 40, 50
    xs = [p[0] for pts in series.values() for p in pts if p[1]]
    ys = [p[1] for pts in series.values() for p in pts if p[1]]
    body = [f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">'
            f'{esc(result["name"])}: throughput vs corpus size ({result["settings"]["threads"]} '
            f'threads)</text>']
    if not xs:
        return svg_doc(W, H, body + ['<text x="40" y="80">no data</text>'])
    lx0, lx1 = math.log10(min(xs)) - 0.3, math.log10(max(xs)) + 0.3
    ly0, ly1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)) + 0.05)
    pw, ph = W - L - R, H - T - B

    def px(x):
        return L + (math.log10(x) - lx0) / (lx1 - lx0) * pw

    def py(y):
        return T + ph - (math.log10(y) - ly0) / (ly1 - ly0) * ph

    body.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    for e in range(ly0, ly1 + 1):
        for m in [1, 2, 5]:
            v = m * 10 ** e
            if ly0 <= math.log10(v) <= ly1:
                body.append(f'<line x1="{L}" x2="{L + pw}" y1="{py(v):.1f}" y2="{py(v):.1f}" '
                            f'stroke="{"#ccc" if m == 1 else "#eee"}"/><text x="{L - 6}" '
                            f'y="{py(v) + 4:.1f}" text-anchor="end">{fmt_num(v)}</text>')
    for v in sorted(set(xs)):  # a tick at each corpus size
        label = f"{v:,}" if v < 1e6 else f"{v / 1e6:g}M"
        body.append(f'<line x1="{px(v):.1f}" x2="{px(v):.1f}" y1="{T}" y2="{T + ph}" '
                    f'stroke="#eee"/><text x="{px(v):.1f}" y="{T + ph + 16}" '
                    f'text-anchor="middle">{label}</text>')
    body.append(f'<text x="{L + pw / 2}" y="{H - 12}" text-anchor="middle">documents in the '
                f'corpus (log scale)</text>')
    body.append(f'<text x="18" y="{T + ph / 2}" text-anchor="middle" '
                f'transform="rotate(-90 18 {T + ph / 2})">documents per second (log scale)</text>')
    colours = ["#1f77b4", "#aec7e8", "#ff7f0e", "#17becf", "#2ca02c", "#d62728", "#9467bd",
               "#8c564b"]
    for n, (name, pts) in enumerate(series.items()):
        col = colours[n % len(colours)]
        pts = sorted(p for p in pts if p[1])
        if len(pts) > 1:
            body.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (
                col, " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)))
        for x, y in pts:
            body.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" fill="{col}">'
                        f'<title>{esc(name)}: {fmt_num(y)} docs/s at {x:,} docs</title></circle>')
        ly = T + 10 + n * 20
        body.append(f'<rect x="{L + pw + 14}" y="{ly - 8}" width="14" height="10" fill="{col}"/>'
                    f'<text x="{L + pw + 34}" y="{ly + 1}">{esc(name)}</text>')
    return svg_doc(W, H, body)


def scurve_svg(result):
    c = next((c for c in result["corpora"] if c.get("scurve")), None)
    W, H, L, R, T, B = 720, 460, 70, 30, 40, 60
    body = []
    if not c:
        return svg_doc(W, H, ['<text x="40" y="80">no S-curve measured (needs a corpus with a '
                              'cluster field)</text>'])
    sc = c["scurve"]
    b, r = sc["bands"], sc["rows"]
    pw, ph = W - L - R, H - T - B

    def px(x):
        return L + x * pw

    def py(y):
        return T + ph - y * ph

    body.append(f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">LSH S-curve on '
                f'{esc(c["label"])}: {b} bands × {r} rows; measured candidate rate by true '
                f'Jaccard</text>')
    body.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    for t in [i / 10 for i in range(11)]:
        body.append(f'<line x1="{L}" x2="{L + pw}" y1="{py(t):.1f}" y2="{py(t):.1f}" '
                    f'stroke="#eee"/><text x="{L - 6}" y="{py(t) + 4:.1f}" '
                    f'text-anchor="end">{t:.1f}</text>')
        body.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{T}" y2="{T + ph}" '
                    f'stroke="#eee"/><text x="{px(t):.1f}" y="{T + ph + 16}" '
                    f'text-anchor="middle">{t:.1f}</text>')
    thr = result["settings"].get("threshold", 0.8)
    body.append(f'<line x1="{px(thr):.1f}" x2="{px(thr):.1f}" y1="{T}" y2="{T + ph}" '
                f'stroke="#999" stroke-dasharray="4 3"/><text x="{px(thr) - 4:.1f}" y="{T + 14}" '
                f'text-anchor="end" fill="#666">threshold {thr}</text>')
    curve = " ".join(f"{px(s / 200):.1f},{py(lsh_probability(s / 200, b, r)):.1f}"
                     for s in range(201))
    body.append(f'<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{curve}"/>')
    for bn in sc["bins"]:
        if not bn["pairs"]:
            continue
        mid = (bn["jaccard_from"] + bn["jaccard_to"]) / 2
        rad = 2.5 + min(6.0, math.log10(bn["pairs"] + 1) * 1.5)
        body.append(f'<circle cx="{px(mid):.1f}" cy="{py(bn["rate"]):.1f}" r="{rad:.1f}" '
                    f'fill="#d62728" fill-opacity="{0.9 if bn["pairs"] >= 20 else 0.35}">'
                    f'<title>J {bn["jaccard_from"]:.2f}–{bn["jaccard_to"]:.2f}: '
                    f'{bn["candidates"]}/{bn["pairs"]} = {bn["rate"]:.3f}</title></circle>')
        body.append(f'<circle cx="{px(mid):.1f}" cy="{py(bn["expected"]):.1f}" r="{rad:.1f}" '
                    f'fill="none" stroke="#333" stroke-width="1"><title>expected '
                    f'{bn["expected"]:.3f}</title></circle>')
        body.append(f'<text x="{px(mid):.1f}" y="{py(bn["rate"]) - rad - 3:.1f}" '
                    f'text-anchor="middle" font-size="9" fill="#666">{bn["pairs"]}</text>')
    body.append(f'<text x="{L + pw / 2}" y="{H - 24}" text-anchor="middle">true Jaccard of word '
                f'5-gram sets (bins of 0.05; labels = pairs in the bin)</text>')
    body.append(f'<text x="18" y="{T + ph / 2}" text-anchor="middle" '
                f'transform="rotate(-90 18 {T + ph / 2})">P(candidate pair)</text>')
    body.append(f'<line x1="{L + 12}" x2="{L + 36}" y1="{T + 20}" y2="{T + 20}" stroke="#1f77b4" '
                f'stroke-width="2"/><text x="{L + 42}" y="{T + 24}">1-(1-s^{r})^{b}</text>')
    body.append(f'<circle cx="{L + 24}" cy="{T + 40}" r="4" fill="#d62728"/>'
                f'<text x="{L + 42}" y="{T + 44}">measured (copydesk pairs --threshold 0.01)</text>')
    body.append(f'<circle cx="{L + 24}" cy="{T + 60}" r="4" fill="none" stroke="#333"/>'
                f'<text x="{L + 42}" y="{T + 64}">expected: the curve averaged over the bin\'s '
                f'pairs</text>')
    return svg_doc(W, H, body)


def parse_report_args(args):
    """WORK NAME OUTDIR [--compare OLD.json] [--tolerance T]."""
    if len(args) < 3:
        die("usage: bench.py report WORK NAME OUTDIR [--compare OLD.json] [--tolerance T]")
    work, name, outdir = args[0], args[1], args[2]
    old_path, tolerance = None, 0.10
    rest = args[3:]
    while rest:
        opt = rest.pop(0)
        if opt == "--compare" and rest:
            old_path = rest.pop(0)
        elif opt == "--tolerance" and rest:
            tolerance = float(rest.pop(0))
        else:
            die(f"report: unknown option or missing value: {opt}")
    return work, name, outdir, old_path, tolerance


def print_summary(result):
    """The summary on stdout: machine, summary table, the issue's figures and
    each copydesk row's stage table."""
    m = result["machine"]
    bw = m.get("memory_read_bandwidth") or {}
    threads = result["settings"]["threads"]
    print(f"\ncopydesk benchmark {result['name']}: commit {str(result['commit'])[:12]}"
          f"{'+dirty' if result['commit_dirty'] else ''}; CPU {m.get('cpu_model')} "
          f"(family {m.get('cpu_family')} model {m.get('cpu_model_number')}), "
          f"{m.get('cpus')} CPUs, {threads} threads; "
          f"memory read {bw.get('gb_per_s', '—')} GB/s; load average "
          f"{' '.join(result['settings'].get('loadavg_at_start') or [])} -> "
          f"{' '.join(m.get('loadavg_at_end') or [])}, CPU pressure "
          f"{result['settings'].get('cpu_pressure_at_start')}% -> {m.get('cpu_pressure_at_end')}%\n")
    print(table(SUMMARY_HEADER, summary_rows(result)))
    print("\nThe performance issue's figures:")
    for c in result["corpora"]:
        for line in issue_lines(c, threads):
            print(f"  {c['label']}: {line}")
    for c in result["corpora"]:
        for key, row_name, _ in ROWS:
            cd = c.get(key)
            if not cd:
                continue
            f = c.get("floor") if key == "copydesk" else None
            print(f"\n{c['label']}, {row_name}: stages (median of {cd['runs']} runs), sha256 "
                  f"{str(cd['checksum_sha256'])[:16]}…"
                  + ("" if cd["deterministic"] else "  WARNING: output differs between runs"))
            print(table(["stage", "seconds", "docs/s", "MB/s"],
                        [[x.strip("*") for x in r] for r in stage_rows(cd, f)]))
            if f and "sign_ratio" in f:
                print(f"sign = {f['sign_ratio']:.1f}× the floor, total = {f['total_ratio']:.1f}× "
                      f"the floor")


def cmd_report(args):
    """Collects the work folder, writes NAME.{json,md} and the plots, prints the
    summary and, with --compare, the comparison (exit 4 on a regression)."""
    work, name, outdir, old_path, tolerance = parse_report_args(args)
    os.makedirs(outdir, exist_ok=True)
    result = collect(work, name)
    failures, text, md = [], None, None
    if old_path:
        failures, text, md = compare(read_json(old_path), result, tolerance)
    base = os.path.join(outdir, name)
    svgs = [("throughput vs corpus size", base + "-throughput.svg"),
            ("LSH S-curve", base + "-scurve.svg")]
    write_atomic(svgs[0][1], throughput_svg(result))
    write_atomic(svgs[1][1], scurve_svg(result))
    write_atomic(base + ".json", json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    write_atomic(base + ".md", markdown(result, svgs, md))
    print_summary(result)
    print(f"\nwrote {base}.json, {base}.md, {svgs[0][1]}, {svgs[1][1]}")
    if old_path:
        print("\n" + "\n".join(text))
        if failures:
            print("\nREGRESSIONS:\n  " + "\n  ".join(failures))
            sys.exit(4)
        print("\nno regression beyond the tolerances")


COMMANDS = {
    "lsh-params": cmd_lsh_params,
    "has-field": cmd_has_field,
    "count-lines": cmd_count_lines,
    "simhash-sample": cmd_simhash_sample,
    "simhash-cluster": cmd_simhash_cluster,
    "restrict": cmd_restrict,
    "report": cmd_report,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        die("usage: bench.py " + "|".join(COMMANDS) + " ARGS... (see the top of bench.py)")
    COMMANDS[sys.argv[1]](sys.argv[2:])
