#define _GNU_SOURCE
#include "csupport.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int csupport_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int csupport_o_path(void) { return O_PATH; }

int csupport_cloexec_from(int lowest) {
    if (syscall(SYS_close_range, (unsigned)lowest, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return 0;
    DIR *dir = opendir("/proc/self/fd");
    if (!dir) return -1;
    int own = dirfd(dir);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        int fd = atoi(entry->d_name);
        if (fd < lowest || fd == own) continue;
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
    closedir(dir);
    return 0;
}

/* The marker and 47 NUL bytes, in .data (not const, so no compiler folds its value): a release
 * build (scripts/release.sh) writes the commit after the marker in the linked binary. */
char csupport_build_stamp[64] = "updatectl-commit:";

const char *csupport_build_commit(void) { return csupport_build_stamp + 17; }

/* The command line, as glibc hands it to the executable's initialisers. Swift's static runtime
 * reads its arguments from /proc/self/cmdline, which is missing where /proc is not mounted (an
 * initramfs early on, a bare chroot): there updatectl would see no arguments at all. */
static int captured_argc;
static char **captured_argv;

__attribute__((constructor)) static void csupport_capture_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    captured_argc = argc;
    captured_argv = argv;
}

int csupport_argc(void) { return captured_argc; }

char **csupport_argv(void) { return captured_argv; }

#if defined(__x86_64__)
#include <immintrin.h>

/* SHA-256 of whole 64-byte blocks with the CPU's SHA extensions (Intel SHA-NI, also on AMD Zen):
 * the same FIPS 180-4 compression, four rounds per pair of sha256rnds2, the message schedule by
 * sha256msg1/msg2. The state is kept as ABEF and CDGH, the order the instructions use. */
__attribute__((target("sha,sse4.1,ssse3")))
static void sha256_blocks_shani(uint32_t state[8], const uint8_t *data, size_t blocks, const uint32_t k[64]) {
    const __m128i byteswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[0]), 0xB1);   /* CDAB */
    __m128i state1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[4]), 0x1B); /* EFGH */
    __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);                                      /* ABEF */
    state1 = _mm_blend_epi16(state1, tmp, 0xF0);                                           /* CDGH */
    for (size_t block = 0; block < blocks; block++, data += 64) {
        const __m128i abef = state0, cdgh = state1;
        __m128i w[16];
        for (int group = 0; group < 16; group++) {
            if (group < 4) {
                w[group] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * group)), byteswap);
            } else {
                __m128i x = _mm_sha256msg1_epu32(w[group - 4], w[group - 3]);
                x = _mm_add_epi32(x, _mm_alignr_epi8(w[group - 1], w[group - 2], 4));
                w[group] = _mm_sha256msg2_epu32(x, w[group - 1]);
            }
            __m128i message = _mm_add_epi32(w[group], _mm_loadu_si128((const __m128i *)&k[4 * group]));
            state1 = _mm_sha256rnds2_epu32(state1, state0, message);
            state0 = _mm_sha256rnds2_epu32(state0, state1, _mm_shuffle_epi32(message, 0x0E));
        }
        state0 = _mm_add_epi32(state0, abef);
        state1 = _mm_add_epi32(state1, cdgh);
    }
    tmp = _mm_shuffle_epi32(state0, 0x1B);              /* FEBA */
    state1 = _mm_shuffle_epi32(state1, 0xB1);           /* DCHG */
    state0 = _mm_blend_epi16(tmp, state1, 0xF0);        /* DCBA */
    state1 = _mm_alignr_epi8(state1, tmp, 8);           /* HGFE */
    _mm_storeu_si128((__m128i *)&state[0], state0);
    _mm_storeu_si128((__m128i *)&state[4], state1);
}
#endif

int csupport_sha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks, const uint32_t k[64]) {
#if defined(__x86_64__)
    static int available = -1;
    if (available < 0) available = __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1");
    if (available) {
        sha256_blocks_shani(state, data, blocks, k);
        return 1;
    }
#endif
    (void)state; (void)data; (void)blocks; (void)k;
    return 0;
}
