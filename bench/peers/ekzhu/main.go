// Command ekzhu-peer: the peer that scripts/bench.sh runs next to copydesk. It
// clusters a JSONL corpus with the Go library github.com/ekzhu/minhash-lsh
// (Debian: golang-github-ekzhu-minhash-lsh-dev) the way a user of that library
// would: lowercase word 5-gram shingles (tokens = runs of letters and digits),
// k = 128 MinHash values, LSH at the threshold with the library's own choice of
// bands and rows, candidate pairs kept when the estimated Jaccard reaches the
// threshold, union-find. Prints {"id","cluster"} per document (the cluster is
// the id of its first member in input order) and its timings on stderr.
//
// Build offline: GO111MODULE=off GOPATH=<scratch>:/usr/share/gocode go build
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
	"unicode"

	minhashlsh "github.com/ekzhu/minhash-lsh"
)

type doc struct {
	ID   json.RawMessage `json:"id"`
	Text string          `json:"text"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "ekzhu-peer: "+format+"\n", args...)
	os.Exit(3)
}

// shingles pushes the lowercase word n-grams of text into m.
func shingles(m *minhashlsh.Minhash, text string, n int, buf []byte) []byte {
	var tokens []string
	start := -1
	runes := []rune(text)
	for i, r := range runes {
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
		if word && start < 0 {
			start = i
		} else if !word && start >= 0 {
			tokens = append(tokens, string(runes[start:i]))
			start = -1
		}
	}
	if start >= 0 {
		tokens = append(tokens, string(runes[start:]))
	}
	for i := range tokens {
		tokens[i] = toLower(tokens[i])
	}
	if len(tokens) == 0 {
		return buf
	}
	if len(tokens) < n {
		n = len(tokens)
	}
	for i := 0; i+n <= len(tokens); i++ {
		buf = buf[:0]
		for j := 0; j < n; j++ {
			if j > 0 {
				buf = append(buf, ' ')
			}
			buf = append(buf, tokens[i+j]...)
		}
		m.Push(buf)
	}
	return buf
}

func toLower(s string) string {
	r := []rune(s)
	for i := range r {
		r[i] = unicode.ToLower(r[i])
	}
	return string(r)
}

func similarity(a, b []uint64) float64 {
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	return float64(same) / float64(len(a))
}

type unionFind []int

func (u unionFind) find(x int) int {
	for u[x] != x {
		u[x] = u[u[x]]
		x = u[x]
	}
	return x
}

// union keeps the smaller index as the root, so a cluster's root is its first member.
func (u unionFind) union(a, b int) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if ra < rb {
		u[rb] = ra
	} else {
		u[ra] = rb
	}
}

// parallel runs f(i) for i in [0, n) on the given number of goroutines.
func parallel(n, threads int, f func(worker, i int)) {
	var wg sync.WaitGroup
	next := make(chan int, 1024)
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func(worker int) {
			defer wg.Done()
			for i := range next {
				f(worker, i)
			}
		}(w)
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

func main() {
	threshold := flag.Float64("threshold", 0.8, "Jaccard threshold")
	perm := flag.Int("perm", 128, "MinHash values per document")
	ngram := flag.Int("ngram", 5, "words per shingle")
	threads := flag.Int("threads", runtime.NumCPU(), "goroutines for signing and querying")
	output := flag.String("o", "-", "per-document output file")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: ekzhu-peer [-threshold T] [-perm K] [-ngram N] [-threads N] [-o FILE] CORPUS.jsonl")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*threads)
	started := time.Now()

	// read + sign, streamed: a reader feeds lines to goroutines that parse and
	// sign them, so only the ids and signatures stay in memory.
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fail("%v", err)
	}
	type job struct {
		index int
		line  []byte
	}
	jobs := make(chan job, 4096)
	var mu sync.Mutex
	var ids []json.RawMessage
	var sigs [][]uint64
	store := func(i int, id json.RawMessage, sig []uint64) {
		mu.Lock()
		for len(ids) <= i {
			ids = append(ids, nil)
			sigs = append(sigs, nil)
		}
		ids[i], sigs[i] = id, sig
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for w := 0; w < *threads; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for j := range jobs {
				var d doc
				if err := json.Unmarshal(j.line, &d); err != nil {
					fail("%s:%d: %v", flag.Arg(0), j.index+1, err)
				}
				m := minhashlsh.NewMinhash(1, *perm) // the same seed for every document
				buf = shingles(m, d.Text, *ngram, buf)
				store(j.index, d.ID, append([]uint64(nil), m.Signature()...))
			}
		}()
	}
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for scanner.Scan() {
		if len(scanner.Bytes()) == 0 {
			continue
		}
		jobs <- job{n, append([]byte(nil), scanner.Bytes()...)}
		n++
	}
	close(jobs)
	wg.Wait()
	if err := scanner.Err(); err != nil {
		fail("%s: %v", flag.Arg(0), err)
	}
	f.Close()
	tSign := time.Now()

	// LSH index with the library's choice of bands (l) and rows (k)
	lsh := minhashlsh.NewMinhashLSH(*perm, *threshold)
	for i, s := range sigs {
		lsh.Add(i, s)
	}
	lsh.Index()
	tIndex := time.Now()

	// query + verify by estimated Jaccard
	edges := make([][][2]int, *threads)
	candidates := make([]int, *threads)
	parallel(n, *threads, func(w, i int) {
		for _, key := range lsh.Query(sigs[i]) {
			j := key.(int)
			if j <= i {
				continue
			}
			candidates[w]++
			if similarity(sigs[i], sigs[j]) >= *threshold {
				edges[w] = append(edges[w], [2]int{i, j})
			}
		}
	})
	tVerify := time.Now()

	// cluster
	uf := make(unionFind, n)
	for i := range uf {
		uf[i] = i
	}
	nCand, nEdges := 0, 0
	for w := range edges {
		nCand += candidates[w]
		nEdges += len(edges[w])
		for _, e := range edges[w] {
			uf.union(e[0], e[1])
		}
	}
	tCluster := time.Now()

	// write
	out := os.Stdout
	if *output != "-" {
		if out, err = os.Create(*output); err != nil {
			fail("%v", err)
		}
	}
	wr := bufio.NewWriterSize(out, 1<<20)
	for i := 0; i < n; i++ {
		fmt.Fprintf(wr, "{\"id\":%s,\"cluster\":%s}\n", ids[i], ids[uf.find(i)])
	}
	if err := wr.Flush(); err != nil {
		fail("write: %v", err)
	}
	if out != os.Stdout {
		if err := out.Close(); err != nil {
			fail("write: %v", err)
		}
	}
	tWrite := time.Now()

	k, l := lsh.Params()
	total := tWrite.Sub(started).Seconds()
	fmt.Fprintf(os.Stderr, "ekzhu-peer: LSH: %d bands x %d rows; %d candidate pairs, %d verified\n",
		l, k, nCand, nEdges)
	fmt.Fprintf(os.Stderr, "ekzhu-peer: time: read+sign %.2fs, index %.2fs, query+verify %.2fs, "+
		"cluster %.2fs, write %.2fs; total %.2fs, %.0f docs/s\n",
		tSign.Sub(started).Seconds(), tIndex.Sub(tSign).Seconds(),
		tVerify.Sub(tIndex).Seconds(), tCluster.Sub(tVerify).Seconds(), tWrite.Sub(tCluster).Seconds(),
		total, float64(n)/total)
}
