/* sanitizer_canary.c: proves the ASan + UBSan build catches what it is
 * there to catch. Each mode commits one bug through the engine's allocator
 * hook or in plain C; under COPYDESK_SANITIZE ctest expects every mode to
 * fail (WILL_FAIL), so a sanitizer that silently stopped working (a leak
 * checker disabled by ASAN_OPTIONS or by ptrace limits, a flag dropped from
 * the build) fails the suite instead of passing it.
 *   sanitizer_canary leak | overflow | undefined */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "leak") == 0) {
        void *volatile lost = cd__malloc(64); /* never freed */
        printf("%p\n", lost);
        lost = NULL;
        return 0; /* LeakSanitizer fails the exit */
    }
    if (strcmp(mode, "overflow") == 0) {
        char *p = cd__malloc(8);
        volatile int i = 8;
        p[i] = 1; /* heap-buffer-overflow */
        cd__free(p);
        return 0;
    }
    if (strcmp(mode, "undefined") == 0) {
        volatile int big = INT_MAX;
        int sum = big + 1; /* signed integer overflow */
        printf("%d\n", sum);
        return 0;
    }
    fprintf(stderr, "usage: sanitizer_canary leak|overflow|undefined\n");
    return 2;
}
