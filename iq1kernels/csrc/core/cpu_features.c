/* CPU feature checks through the compiler builtins, compiled at the baseline ISA. */
#define _GNU_SOURCE /* syscall() under -std=c11 */
#include <string.h>
#include "cpu_features.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#define IQ1_ARCH_REQ_XCOMP_PERM 0x1023 /* arch_prctl: ask for an XSAVE feature's state (Linux >= 5.16) */
#define IQ1_XFEATURE_XTILEDATA 18      /* the AMX tile data */

/* AMX needs the kernel to grant the process the 8 KB tile state first; a tile instruction without that
 * grant dies with SIGILL. Asked once; the grant is for the whole process and all its threads. */
static int amx_granted(void) {
    static int state = -1; /* racing first callers both ask: the answer is the same */
    if (state < 0) state = syscall(SYS_arch_prctl, IQ1_ARCH_REQ_XCOMP_PERM, IQ1_XFEATURE_XTILEDATA) == 0;
    return state;
}
#endif

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

int iq1_cpu_supports(const char *f) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    /* clang-format off */
#define X86(name) if (!strcmp(f, name)) return __builtin_cpu_supports(name) != 0;
    X86("sse4.2") X86("avx") X86("avx2") X86("fma") X86("f16c") X86("bmi2")
    X86("avx512f") X86("avx512bw") X86("avx512vl") X86("avx512dq") X86("avx512cd")
    X86("avx512vnni") X86("avx512vbmi") X86("avx512vbmi2") X86("avx512bitalg") X86("avxvnni")
#undef X86
    /* clang-format on */
#if defined(__linux__)
        /* GCC spells these with a dash; "usable" also needs the kernel's grant of the tile state */
        if (!strcmp(f, "amxtile")) return __builtin_cpu_supports("amx-tile") &&
        amx_granted();
    if (!strcmp(f, "amxint8")) return __builtin_cpu_supports("amx-int8") && amx_granted();
#else
                if (!strcmp(f, "amxtile") || !strcmp(f, "amxint8")) return 0;
#endif
    return -1;
#elif defined(__aarch64__) && defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP);
    if (!strcmp(f, "asimd")) return (hw & HWCAP_ASIMD) != 0;
    if (!strcmp(f, "asimddp")) return (hw & HWCAP_ASIMDDP) != 0;
    return -1;
#else
    (void)f;
    return -1;
#endif
}

int iq1_cpu_supports_all(const char *requires) {
    char flag[32];
    const char *p = requires;
    while (*p) {
        while (*p == ' ') ++p;
        size_t n = strcspn(p, " ");
        if (n == 0) break;
        if (n >= sizeof flag) return 0;
        memcpy(flag, p, n);
        flag[n] = 0;
        if (iq1_cpu_supports(flag) != 1) return 0;
        p += n;
    }
    return 1;
}
