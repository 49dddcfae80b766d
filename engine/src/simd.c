/* simd.c: run-time choice of the vector instruction set (see simd.h), used
 * by MinHash and the normaliser to pick their fastest identical variant. */
#include "simd.h"

#include <stdlib.h>
#include <string.h>

static cd__simd_level cpu_level(void)
{
#if defined(__GNUC__) && defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        return CD__SIMD_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2"))
        return CD__SIMD_AVX2;
#endif
    return CD__SIMD_SCALAR;
}

cd__simd_level cd__simd_level_get(void)
{
    cd__simd_level level = cpu_level();
    const char *cap = getenv("COPYDESK_SIMD");
    if (cap) {
        cd__simd_level most = level;
        if (strcmp(cap, "scalar") == 0)
            most = CD__SIMD_SCALAR;
        else if (strcmp(cap, "avx2") == 0)
            most = CD__SIMD_AVX2;
        else if (strcmp(cap, "avx512") == 0)
            most = CD__SIMD_AVX512;
        if (most < level)
            level = most;
    }
    return level;
}

const char *cd__simd_level_name(cd__simd_level level)
{
    switch (level) {
    case CD__SIMD_AVX512:
        return "avx512";
    case CD__SIMD_AVX2:
        return "avx2";
    case CD__SIMD_SCALAR:
        break;
    }
    return "scalar";
}
