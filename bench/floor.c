/* floor.c: copydesk-floor, the speed floor that copydesk's benchmark compares
 * against. It does the least any near-duplicate detector must do with a JSONL
 * corpus: read the bytes, find each line's text field (crudely), split it on
 * whitespace and XXH3-hash every token. It also measures the machine's memory
 * read bandwidth (--bandwidth). Not part of the engine; prints one JSON line
 * with its timings and a checksum of the hashes, so a speed-up of the floor
 * cannot hide a wrong answer either. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#define XXH_INLINE_ALL /* the floor inlines XXH3, as an engine could */
#include <xxhash.h>

enum { EXIT_USAGE = 2, EXIT_IO = 3, MAX_THREADS = 256 };

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(FILE *out)
{
    fputs("usage: copydesk-floor [--threads N] FILE.jsonl\n"
          "       copydesk-floor --bandwidth [--threads N] [--gib G] [--passes P]\n"
          "\n"
          "FILE mode: read FILE (plain JSONL) once with read(2), then map it and, on N\n"
          "threads, find each line's \"text\" string, split it on whitespace and JSON\n"
          "escapes and XXH3-64 every token. Prints one JSON object: documents, bytes,\n"
          "tokens, the read and hash times, docs/s, MB/s and a checksum (the sum of all\n"
          "token hashes, independent of N).\n"
          "\n"
          "--bandwidth: sum a G GiB (default 1) buffer of uint64 P times (default 4) on N\n"
          "threads and print the memory read bandwidth in GB/s.\n"
          "\n"
          "  --threads N   threads (default: all online cores)\n"
          "Exit status: 0 done, 2 usage error, 3 I/O or resource error.\n",
          out);
}

static long parse_count(const char *option, const char *text, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || !text[0] || v < lo || v > hi) {
        fprintf(stderr, "copydesk-floor: %s: expected a whole number from %ld to %ld, got '%s'\n",
                option, lo, hi, text);
        exit(EXIT_USAGE);
    }
    return v;
}

/* ------------------------------------------------------------- tokens */

typedef struct hash_job {
    const char *begin, *end; /* whole lines */
    uint64_t docs, tokens, text_bytes, checksum;
} hash_job;

/* Byte classes: 0 token byte, 1 separator (white space), 2 backslash, 3 quote. */
static unsigned char byte_class[256];

static void init_byte_class(void)
{
    byte_class[' '] = byte_class['\t'] = byte_class['\n'] = byte_class['\r'] = 1;
    byte_class['\\'] = 2;
    byte_class['"'] = 3;
}

/* Hashes the tokens of one line's "text" string. The string ends at the
 * first unescaped quote; a backslash escape (\n, \", \u...) separates tokens. */
static void hash_line(hash_job *job, const char *line, const char *end)
{
    static const char key[] = "\"text\":\"";
    const char *p = memmem(line, (size_t)(end - line), key, sizeof key - 1);
    if (!p)
        return;
    p += sizeof key - 1;
    const char *text = p, *token = NULL;
    for (; p < end; p++) {
        unsigned cls = byte_class[(unsigned char)*p];
        if (cls) {
            if (token) {
                job->checksum += XXH3_64bits(token, (size_t)(p - token));
                job->tokens++;
                token = NULL;
            }
            if (cls == 3)
                break;
            if (cls == 2)
                p++; /* skip the escaped character */
        } else if (!token) {
            token = p;
        }
    }
    job->text_bytes += (uint64_t)(p - text);
}

static void *hash_range(void *arg)
{
    hash_job *job = arg;
    const char *p = job->begin;
    while (p < job->end) {
        const char *nl = memchr(p, '\n', (size_t)(job->end - p));
        const char *line_end = nl ? nl : job->end;
        if (line_end > p) {
            job->docs++;
            hash_line(job, p, line_end);
        }
        p = line_end + 1;
    }
    return NULL;
}

/* Reads the file once through a 1 MiB buffer: the I/O floor. */
static double time_read(const char *path, uint64_t *bytes, uint64_t *checksum)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "copydesk-floor: %s: %s\n", path, strerror(errno));
        exit(EXIT_IO);
    }
    enum { BLOCK = 1 << 20 };
    char *buf = malloc(BLOCK);
    if (!buf) {
        fputs("copydesk-floor: out of memory\n", stderr);
        exit(EXIT_IO);
    }
    double start = now_seconds();
    ssize_t n;
    *bytes = 0;
    *checksum = 0;
    while ((n = read(fd, buf, BLOCK)) > 0) {
        *bytes += (uint64_t)n;
        *checksum += (unsigned char)buf[n - 1]; /* touch the data */
    }
    double seconds = now_seconds() - start;
    if (n < 0) {
        fprintf(stderr, "copydesk-floor: %s: read failed: %s\n", path, strerror(errno));
        exit(EXIT_IO);
    }
    free(buf);
    close(fd);
    return seconds;
}

static int run_file(const char *path, int threads)
{
    uint64_t read_bytes, read_sum;
    double read_s = time_read(path, &read_bytes, &read_sum);

    double start = now_seconds();
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "copydesk-floor: %s: %s\n", path, strerror(errno));
        return EXIT_IO;
    }
    size_t size = (size_t)st.st_size;
    const char *data = "";
    if (size > 0) {
        void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (map == MAP_FAILED) {
            fprintf(stderr, "copydesk-floor: %s: mmap failed: %s\n", path, strerror(errno));
            return EXIT_IO;
        }
        madvise(map, size, MADV_SEQUENTIAL);
        data = map;
    }

    /* split at line boundaries into one range per thread */
    hash_job jobs[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    const char *p = data, *end = data + size;
    for (int t = 0; t < threads; t++) {
        const char *stop = t == threads - 1 ? end : data + size / (size_t)threads * (size_t)(t + 1);
        if (stop < p)
            stop = p;
        if (stop < end) {
            const char *nl = memchr(stop, '\n', (size_t)(end - stop));
            stop = nl ? nl + 1 : end;
        }
        jobs[t] = (hash_job){.begin = p, .end = stop};
        p = stop;
    }
    for (int t = 0; t < threads; t++)
        if (pthread_create(&tids[t], NULL, hash_range, &jobs[t]) != 0) {
            fputs("copydesk-floor: cannot start a thread\n", stderr);
            return EXIT_IO;
        }
    hash_job total = {0};
    for (int t = 0; t < threads; t++) {
        pthread_join(tids[t], NULL);
        total.docs += jobs[t].docs;
        total.tokens += jobs[t].tokens;
        total.text_bytes += jobs[t].text_bytes;
        total.checksum += jobs[t].checksum;
    }
    double hash_s = now_seconds() - start;
    if (size > 0)
        munmap((void *)data, size);
    close(fd);

    printf("{\"mode\":\"file\",\"threads\":%d,\"documents\":%llu,\"bytes\":%llu,"
           "\"text_bytes\":%llu,\"tokens\":%llu,"
           "\"read_seconds\":%.6f,\"read_mb_per_s\":%.1f,"
           "\"hash_seconds\":%.6f,\"hash_docs_per_s\":%.1f,\"hash_mb_per_s\":%.1f,"
           "\"checksum\":\"%016llx\"}\n",
           threads, (unsigned long long)total.docs, (unsigned long long)size,
           (unsigned long long)total.text_bytes, (unsigned long long)total.tokens, read_s,
           read_bytes / 1e6 / (read_s + 1e-12), hash_s, total.docs / (hash_s + 1e-12),
           size / 1e6 / (hash_s + 1e-12), (unsigned long long)total.checksum);
    return 0;
}

/* ---------------------------------------------------------- bandwidth */

typedef struct sum_job {
    const uint64_t *begin;
    size_t count;
    int passes;
    uint64_t sum;
} sum_job;

static void *sum_range(void *arg)
{
    sum_job *job = arg;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int pass = 0; pass < job->passes; pass++) {
        const uint64_t *v = job->begin;
        size_t i = 0;
        for (; i + 4 <= job->count; i += 4) {
            s0 += v[i];
            s1 += v[i + 1];
            s2 += v[i + 2];
            s3 += v[i + 3];
        }
        for (; i < job->count; i++)
            s0 += v[i];
    }
    job->sum = s0 + s1 + s2 + s3;
    return NULL;
}

static int run_bandwidth(int threads, long gib, int passes)
{
    size_t count = (size_t)gib * ((size_t)1 << 30) / sizeof(uint64_t);
    uint64_t *buf = aligned_alloc(4096, count * sizeof *buf);
    if (!buf) {
        fputs("copydesk-floor: out of memory for the bandwidth buffer\n", stderr);
        return EXIT_IO;
    }
    for (size_t i = 0; i < count; i++) /* touch every page before timing */
        buf[i] = i;
    sum_job jobs[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    size_t per = count / (size_t)threads;
    double start = now_seconds();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (sum_job){buf + per * (size_t)t, t == threads - 1 ? count - per * (size_t)t : per,
                            passes, 0};
        if (pthread_create(&tids[t], NULL, sum_range, &jobs[t]) != 0) {
            fputs("copydesk-floor: cannot start a thread\n", stderr);
            return EXIT_IO;
        }
    }
    uint64_t sum = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tids[t], NULL);
        sum += jobs[t].sum;
    }
    double seconds = now_seconds() - start;
    double bytes = (double)count * sizeof *buf * passes;
    printf("{\"mode\":\"bandwidth\",\"threads\":%d,\"gib\":%ld,\"passes\":%d,\"seconds\":%.6f,"
           "\"gb_per_s\":%.2f,\"checksum\":\"%016llx\"}\n",
           threads, gib, passes, seconds, bytes / 1e9 / (seconds + 1e-12), (unsigned long long)sum);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cores > 0 ? (int)(cores < MAX_THREADS ? cores : MAX_THREADS) : 1;
    int bandwidth = 0, passes = 4;
    long gib = 1;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(arg, "--bandwidth") == 0) {
            bandwidth = 1;
        } else if (strcmp(arg, "--threads") == 0 && has_value) {
            threads = (int)parse_count(arg, argv[++i], 1, MAX_THREADS);
        } else if (strcmp(arg, "--gib") == 0 && has_value) {
            gib = parse_count(arg, argv[++i], 1, 64);
        } else if (strcmp(arg, "--passes") == 0 && has_value) {
            passes = (int)parse_count(arg, argv[++i], 1, 100);
        } else if (arg[0] == '-' && arg[1]) {
            fprintf(stderr, "copydesk-floor: unknown option or missing value: %s\n", arg);
            usage(stderr);
            return EXIT_USAGE;
        } else if (path) {
            fputs("copydesk-floor: give one FILE\n", stderr);
            return EXIT_USAGE;
        } else {
            path = arg;
        }
    }
    init_byte_class();
    if (bandwidth)
        return run_bandwidth(threads, gib, passes);
    if (!path) {
        usage(stderr);
        return EXIT_USAGE;
    }
    return run_file(path, threads);
}
