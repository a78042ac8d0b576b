/* CPU features of an emulated build (build.sh): the host's answers, except that the AVX-512 and AVX-VNNI
 * flags the backends require are present (SIMDe provides them in software). The host's functions are compiled
 * under other names (build.sh renames them). */
#include <string.h>
#include "cpu_features.h"

int iq1_cpu_supports_host(const char *flag);

int iq1_cpu_supports(const char *flag) {
    static const char *const emulated[] = { "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vnni",
                                            "avxvnni" };
    for (size_t i = 0; i < sizeof emulated / sizeof emulated[0]; ++i)
        if (!strcmp(flag, emulated[i])) return 1;
    return iq1_cpu_supports_host(flag);
}

int iq1_cpu_supports_all(const char *requires) {
    char flag[32];
    for (const char *p = requires; *p;) {
        while (*p == ' ') ++p;
        const size_t n = strcspn(p, " ");
        if (n == 0) break;
        if (n >= sizeof flag) return 0;
        memcpy(flag, p, n);
        flag[n] = 0;
        if (iq1_cpu_supports(flag) != 1) return 0;
        p += n;
    }
    return 1;
}
