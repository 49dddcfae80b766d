#!/usr/bin/env python3
"""Determinism and ground-truth test of copydesk-synth (registered with ctest).

usage: test_synth.py PATH/TO/copydesk-synth WORKDIR
       test_synth.py PATH/TO/copydesk-synth WORKDIR --outlets N

Runs the generator twice with the same seed and compares bytes; checks that
every line is a JSON object with all fields, that the document count equals
--docs, that no story has two copies from one outlet, and that clusters,
families, the cluster-size histogram and the other counts in the data agree
with the manifest; checks --base (gzip) mode and the exit codes of usage and
I/O errors. With --outlets N, only generates and checks a few corpora from a
pool of N outlets, where the largest stories take every outlet (N = 10 used
to crash). Standard library only.
"""
import collections
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys

FIELDS = ["id", "title", "text", "source", "date", "url", "cluster", "story_family"]
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
STORY = re.compile(r"^s\d{6,}$")
URL = re.compile(r"^https://[a-z0-9.]+/\d{4}/\d\d/[a-z0-9-]+-\d+$")
BINS = ["1", "2", "3", "4-10", "11-100", ">100"]

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)
    return cond


def run(synth, args, expect=0):
    p = subprocess.run([synth] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == expect,
          "%s: exit %d, expected %d; stderr: %s" % (" ".join(args), p.returncode, expect,
                                                   p.stderr.decode(errors="replace").strip()))
    return p


def read(path):
    with open(path, "rb") as f:
        return f.read()


def bin_of(size):
    if size <= 3:
        return str(size)
    if size <= 10:
        return "4-10"
    if size <= 100:
        return "11-100"
    return ">100"


def validate(data_path, manifest_path, docs, negatives_path=None):
    """Checks a generated file against its manifest; returns the documents."""
    m = json.loads(read(manifest_path))
    c = m["counts"]
    raw = read(data_path)
    lines = raw.split(b"\n")
    check(lines[-1] == b"", "output ends with a newline")
    lines = lines[:-1] if lines and lines[-1] == b"" else lines
    check(len(lines) == docs, "%d lines, expected --docs %d" % (len(lines), docs))
    check(c["documents"] == docs, "manifest documents %d != %d" % (c["documents"], docs))
    check(c["output_bytes"] == len(raw), "manifest output_bytes %d != %d" % (c["output_bytes"], len(raw)))
    out = []
    ids = set()
    for n, line in enumerate(lines, 1):
        try:
            d = json.loads(line)
        except ValueError as e:
            check(False, "line %d is not JSON: %s" % (n, e))
            continue
        if not check(isinstance(d, dict) and list(d.keys()) == FIELDS,
                     "line %d: fields %s, expected %s" % (n, list(d) if isinstance(d, dict) else d, FIELDS)):
            continue
        for k in FIELDS:
            check(isinstance(d[k], str) and d[k] != "", "line %d: field %s empty or not a string" % (n, k))
        check(d["id"] not in ids, "line %d: duplicate id %s" % (n, d["id"]))
        ids.add(d["id"])
        check(DATE.match(d["date"]) is not None, "line %d: bad date %r" % (n, d["date"]))
        check(URL.match(d["url"]) is not None, "line %d: bad url %r" % (n, d["url"]))
        check(STORY.match(d["cluster"]) and STORY.match(d["story_family"]),
              "line %d: bad cluster/family %r %r" % (n, d["cluster"], d["story_family"]))
        check(d["story_family"] <= d["cluster"], "line %d: family after its cluster" % n)
        check(not re.search("[\x00-\x04]", d["text"] + d["title"]), "line %d: marker byte leaked" % n)
        out.append(d)

    # clusters: contiguous (stories are streamed), one family each, first copy earliest
    sizes = collections.OrderedDict()
    family = {}
    first_date = {}
    sources = collections.defaultdict(set)
    prev = None
    for d in out:
        cl = d["cluster"]
        if cl != prev:
            check(cl not in sizes, "cluster %s is not contiguous" % cl)
            first_date[cl] = d["date"]
        sizes[cl] = sizes.get(cl, 0) + 1
        check(d["source"] not in sources[cl], "cluster %s: two copies from %s" % (cl, d["source"]))
        sources[cl].add(d["source"])
        check(family.setdefault(cl, d["story_family"]) == d["story_family"],
              "cluster %s has two families" % cl)
        check(d["date"] >= first_date[cl], "cluster %s: a copy dated before the first publication" % cl)
        prev = cl
    families = set(family.values())
    check(families <= set(sizes), "every family is itself a story in the data")
    check(len(sizes) == c["stories"] == c["clusters"],
          "clusters in data %d, manifest stories %d" % (len(sizes), c["stories"]))
    check(len(families) == c["families"], "families in data %d, manifest %d" % (len(families), c["families"]))
    versions = sum(1 for cl, f in family.items() if cl != f)
    check(versions == c["version_stories"], "version stories in data %d, manifest %d" % (versions, c["version_stories"]))
    hist = collections.Counter(bin_of(s) for s in sizes.values())
    for b in BINS:
        check(hist.get(b, 0) == m["cluster_size_histogram"][b],
              "histogram bin %s: data %d, manifest %d" % (b, hist.get(b, 0), m["cluster_size_histogram"][b]))
    check(max(sizes.values(), default=0) == c["largest_cluster"], "largest cluster")
    html = sum(1 for d in out if d["text"].startswith("<html>"))
    check(html == c["html_copies"], "html copies in data %d, manifest %d" % (html, c["html_copies"]))
    check(c["first_publications"] == c["stories"], "one first publication per story")
    check(c["new_stories"] + c["sibling_stories"] + c["version_stories"] == c["stories"], "story kinds add up")
    check(c["generated_stories"] + c["base_stories"] == c["stories"], "story sources add up")
    check(sum(c["copies_by_" + k] for k in ("wires", "newspapers", "broadcasters", "aggregators")) == docs,
          "copies by outlet type add up")
    hn = m["hard_negative_pairs"]
    check(hn["total"] == hn["same_topic"] + hn["version"] == c["sibling_stories"] + c["version_stories"],
          "hard-negative pair counts")
    # a text never appears in two clusters
    owner = {}
    for d in out:
        key = d["text"]
        check(owner.setdefault(key, d["cluster"]) == d["cluster"], "identical text in two clusters")
    if negatives_path:
        pairs = [json.loads(l) for l in read(negatives_path).splitlines()]
        check(len(pairs) == hn["total"], "hard-negatives file has %d pairs, manifest %d" % (len(pairs), hn["total"]))
        for p in pairs:
            check(p["a"] in sizes and p["b"] in sizes and p["a"] < p["b"], "pair %s refers to stories in the data" % p)
            check(family.get(p["b"]) == p["family_b"] and family.get(p["a"]) == p["family_a"], "pair %s families" % p)
            if p["kind"] == "version":
                check(p["family_a"] == p["family_b"], "version pair %s shares its family" % p)
            else:
                check(p["family_a"] != p["family_b"], "same-topic pair %s has two families" % p)
    return out, m


def words(n, rng, vocab):
    return " ".join(rng.choice(vocab) for _ in range(n))


def make_base(path, rng):
    """A small base corpus: Reuters-like wrapped text, an exact and a near duplicate, a short text."""
    vocab = ["market", "shares", "company", "said", "the", "of", "a", "to", "in", "profit", "year",
             "quarter", "bank", "rates", "government", "oil", "prices", "trade", "minister", "talks",
             "exports", "growth", "analysts", "expected", "percent", "billion", "dlrs", "week"]
    docs = []
    for i in range(60):
        paras = []
        for _ in range(rng.randint(3, 8)):
            body = words(rng.randint(30, 60), rng, vocab) + ' "quoted words," he said -- and more.'
            # wrapped at ~60 columns, paragraphs indented like Reuters
            wrapped = "\n".join(body[k:k + 60] for k in range(0, len(body), 60))
            paras.append("    " + wrapped)
        docs.append({"id": str(i), "title": words(6, rng, vocab).upper(), "text": "\n".join(paras)})
    docs.append(dict(docs[3], id="dup-exact"))
    near = dict(docs[5], id="dup-near")
    near["text"] = near["text"].replace("market", "markets", 1) if "market" in near["text"] else near["text"] + " x"
    docs.append(near)
    docs.append({"id": "short", "title": "SHORT", "text": "Too short."})
    docs.append({"id": "brief", "title": "BLAH"})
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d) + "\n")
        f.write("not json\n")


def small_pool(synth, work, outlets):
    """Corpora from a pool of a few outlets: the largest stories want every
    carrier, which a story first published by a carrier cannot have."""
    P = lambda name: os.path.join(work, name)
    docs = 2000
    for seed in ("1", "2", "5"):
        run(synth, ["--docs", str(docs), "--seed", seed, "--outlets", str(outlets),
                    "-o", P("pool.jsonl"), "--manifest", P("pool.json")])
        if failures:
            break
        data, m = validate(P("pool.jsonl"), P("pool.json"), docs)
        check(len({d["source"] for d in data}) <= outlets, "at most %d sources" % outlets)
        check(m["counts"]["largest_cluster"] <= m["parameters"]["max_copies"], "largest cluster")
    if failures:
        print("%d check(s) failed" % len(failures), file=sys.stderr)
        sys.exit(1)
    print("test_synth --outlets %d: all checks passed" % outlets)
    shutil.rmtree(work, ignore_errors=True)


def main():
    synth, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    if len(sys.argv) == 5 and sys.argv[3] == "--outlets":
        small_pool(synth, work, int(sys.argv[4]))
        return
    P = lambda name: os.path.join(work, name)

    # determinism: same seed, same bytes (data, manifest, hard negatives)
    docs = 4000
    for tag in ("a", "b"):
        run(synth, ["--docs", str(docs), "--seed", "7", "-o", P(tag + ".jsonl"), "--manifest",
                    P(tag + ".json"), "--hard-negatives", P(tag + ".hn")])
    for ext in (".jsonl", ".json", ".hn"):
        check(read(P("a" + ext)) == read(P("b" + ext)), "same seed gives identical %s bytes" % ext)
    check(not os.path.exists(P("a.json.tmp")), "manifest temp file renamed")
    stdout = run(synth, ["--docs", str(docs), "--seed", "7"]).stdout
    check(stdout == read(P("a.jsonl")), "stdout and -o give the same bytes")
    run(synth, ["--docs", str(docs), "--seed", "8", "-o", P("c.jsonl")])
    check(read(P("c.jsonl")) != read(P("a.jsonl")), "another seed gives other bytes")
    # a prefix property: fewer docs = a prefix of the stories (last one truncated)
    run(synth, ["--docs", "1000", "--seed", "7", "-o", P("short.jsonl")])
    short = read(P("short.jsonl")).split(b"\n")[:-1]
    full = read(P("a.jsonl")).split(b"\n")[:-1]
    check(len(short) == 1000, "--docs 1000 gives 1000 lines")
    same_prefix = sum(1 for x, y in zip(short, full) if x == y)
    check(same_prefix >= 900, "a shorter run repeats the longer run's first stories (%d/1000)" % same_prefix)

    data, m = validate(P("a.jsonl"), P("a.json"), docs, P("a.hn"))
    c = m["counts"]
    check(m["seed"] == 7 and m["parameters"]["docs"] == docs, "manifest records seed and docs")
    check(m["format_version"] >= 1 and m["version"], "manifest records versions")
    check(c["excerpts"] > 0 and c["html_copies"] > 0 and c["version_stories"] > 0 and c["sibling_stories"] > 0,
          "excerpts, HTML copies, versions and siblings all occur in %d docs" % docs)
    check(c["typos"] > 0 and c["word_edits"] > 0 and c["headline_rewrites"] > 0, "edits occur")
    check(m["cluster_size_histogram"]["1"] > m["cluster_size_histogram"]["4-10"], "most stories are small")
    check(any("Read more at" in d["text"] or "Continue reading" in d["text"] or "Read the full" in d["text"]
              for d in data), "excerpts point to the full story")
    check(any("Get all your news in one place." in d["text"] for d in data), "aggregator chrome present")
    mean = sum(len(d["text"].encode()) for d in data) / len(data)
    check(2000 < mean < 12000, "mean text size %.0f bytes" % mean)
    # chrome is constant per outlet: the last footer line before the copyright repeats
    by_source = collections.defaultdict(set)
    for d in data:
        if not d["text"].startswith("<html>"):
            by_source[d["source"]].add(d["text"].split("\n")[0])
    repeated = sum(1 for s, firsts in by_source.items() if len(firsts) == 1)
    check(repeated > 0, "some outlets open every page with the same chrome line")

    # --docs 0
    run(synth, ["--docs", "0", "-o", P("zero.jsonl"), "--manifest", P("zero.json")])
    check(read(P("zero.jsonl")) == b"", "--docs 0 writes nothing")
    check(json.loads(read(P("zero.json")))["counts"]["documents"] == 0, "--docs 0 manifest")

    # --base (gzip), with the texts exhausted so generated stories follow
    rng = random.Random(1)
    make_base(P("base.jsonl.gz"), rng)
    for tag in ("ba", "bb"):
        p = run(synth, ["--docs", "600", "--seed", "3", "--base", P("base.jsonl.gz"), "--base-min-chars", "100",
                        "-o", P(tag + ".jsonl"), "--manifest", P(tag + ".json"), "--hard-negatives", P(tag + ".hn")])
    check(read(P("ba.jsonl")) == read(P("bb.jsonl")), "--base: same seed gives identical bytes")
    bdata, bm = validate(P("ba.jsonl"), P("ba.json"), 600, P("ba.hn"))
    b = bm["base"]
    check(b["lines_read"] == 65, "base lines read %d" % b["lines_read"])
    check(b["skipped_bad"] == 2, "base bad lines (not JSON, no text) %d" % b["skipped_bad"])
    check(b["skipped_short"] == 1, "base short texts %d" % b["skipped_short"])
    check(b["dropped_near_duplicates"] == 2, "base near-duplicates dropped %d" % b["dropped_near_duplicates"])
    check(b["usable"] == 60 and b["used"] == 60, "base texts usable %d used %d" % (b["usable"], b["used"]))
    check(bm["counts"]["base_stories"] > 0 and bm["counts"]["generated_stories"] > 0,
          "base stories then generated ones")
    check(b"all 60 usable --base texts used" in p.stderr, "a note when the base texts run out")
    check(any("quoted words" in d["text"] for d in bdata), "base text appears in the output")
    check(not any("market\nshares" in d["text"] for d in bdata), "hard line wraps of base texts are joined")
    plain = P("base.jsonl")
    with gzip.open(P("base.jsonl.gz"), "rb") as f, open(plain, "wb") as g:
        g.write(f.read())
    run(synth, ["--docs", "600", "--seed", "3", "--base", plain, "--base-min-chars", "100", "-o", P("bc.jsonl")])
    check(read(P("bc.jsonl")) == read(P("ba.jsonl")), "--base reads plain and gzip files alike")

    # errors
    run(synth, [], expect=2)
    run(synth, ["--docs", "abc"], expect=2)
    run(synth, ["--docs", "-5"], expect=2)
    run(synth, ["--docs", "10", "--bogus", "1"], expect=2)
    run(synth, ["--docs", "10", "--seed"], expect=2)
    run(synth, ["--docs", "10", "--update-rate", "2"], expect=2)
    run(synth, ["--docs", "10", "stray"], expect=2)
    run(synth, ["--docs", "10", "--base", P("missing.jsonl")], expect=3)
    run(synth, ["--docs", "10", "-o", P("no/such/dir/out.jsonl")], expect=3)
    run(synth, ["--docs", "10", "-o", P("x.jsonl"), "--manifest", P("no/such/dir/m.json")], expect=3)
    h = run(synth, ["--help"])
    check(b"--docs N" in h.stdout and b"--manifest" in h.stdout, "--help describes the options")

    if failures:
        print("%d check(s) failed" % len(failures), file=sys.stderr)
        sys.exit(1)
    print("test_synth: all checks passed (%d docs, %d stories, %d html, %d excerpts)"
          % (c["documents"], c["stories"], c["html_copies"], c["excerpts"]))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
