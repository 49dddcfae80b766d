/* simd.h: which vector instruction set the engine's hot loops may use,
 * decided at run time (MinHash, the ASCII tokeniser). Every vector path has a
 * scalar twin that gives identical results; COPYDESK_SIMD in the environment
 * caps the level, so the scalar paths can be forced on any machine. */
#ifndef CD_SIMD_H
#define CD_SIMD_H

/* Instruction-set levels, each including the ones below it. */
typedef enum cd__simd_level {
    CD__SIMD_SCALAR = 0, /* plain C for baseline x86-64 or any other CPU */
    CD__SIMD_AVX2 = 1,   /* AVX2 (+ BMI2) */
    CD__SIMD_AVX512 = 2  /* AVX-512 F, DQ, BW, VL */
} cd__simd_level;

/* The best level this CPU runs, capped by the environment variable
 * COPYDESK_SIMD: "scalar", "avx2" or "avx512" (anything else, or unset, is
 * no cap). Read on every call, so a test can set it before creating a
 * signer; callers cache the result. Thread-safe as long as nobody changes
 * the environment concurrently. */
cd__simd_level cd__simd_level_get(void);

/* "scalar", "avx2" or "avx512". */
const char *cd__simd_level_name(cd__simd_level level);

#endif
