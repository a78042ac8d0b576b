/* What the running CPU supports, asked of the compiler's runtime (cpuid / getauxval). */
#ifndef IQ1_CPU_FEATURES_H
#define IQ1_CPU_FEATURES_H

/* flag: lower-case name without underscores ("avx512vnni", "avxvnni", "asimddp").
 * Returns 1 if present, 0 if absent, -1 if this build cannot tell (unknown name / other arch). */
int iq1_cpu_supports(const char *flag);

/* 1 if every space-separated flag of `requires` is present. */
int iq1_cpu_supports_all(const char *requires);

#endif
