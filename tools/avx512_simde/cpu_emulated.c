/* CPU features of an emulated build (build.sh): the host's answers, except that the AVX-512 and AVX-VNNI
 * flags the backends require are present (SIMDe provides them in software). build.sh compiles the host's
 * functions under the names *_host. */
#include <string.h>
#include "cpu_features.h"

int iq1_cpu_supports_host(const char *flag);
int iq1_cpu_supports_all_host(const char *requires);

static const char *const emulated[] = { "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vnni", "avxvnni" };
#define N_EMULATED (sizeof emulated / sizeof emulated[0])

int iq1_cpu_supports(const char *flag) {
    for (size_t i = 0; i < N_EMULATED; ++i)
        if (!strcmp(flag, emulated[i])) return 1;
    return iq1_cpu_supports_host(flag);
}

/* the host's check of `requires` with the emulated flags blanked out */
int iq1_cpu_supports_all(const char *requires) {
    char rest[256];
    if (strlen(requires) >= sizeof rest) return 0;
    strcpy(rest, requires);
    for (size_t i = 0; i < N_EMULATED; ++i) {
        const size_t len = strlen(emulated[i]);
        for (char *p = rest; (p = strstr(p, emulated[i])) != NULL; p += len)
            if ((p == rest || p[-1] == ' ') && (p[len] == ' ' || p[len] == 0)) memset(p, ' ', len);
    }
    return iq1_cpu_supports_all_host(rest);
}
