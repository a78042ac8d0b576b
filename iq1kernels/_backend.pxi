# The Cython body of every backend module (_backend_<isa>.pyx includes it; setup.py defines
# IQ1_BACKEND_LIST as that ISA's NULL-terminated table list). It only checks buffer sizes (so no call can
# write outside its arrays), releases the GIL and calls the threaded C drivers; argument conversion and
# user-facing errors live in iq1kernels/ops.py.
from libc.stdint cimport int8_t, int16_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

cdef extern from "iq1.h" nogil:
    ctypedef struct iq1_act:
        const float *d
        const int16_t *bsums
        const int8_t *qs
        int64_t n
        int64_t k
    ctypedef void (*iq1_quantize_act_fn)(const float *, int64_t, float *, int16_t *, int8_t *)
    ctypedef void (*iq1_quantize_act_half_fn)(const uint16_t *, int64_t, float *, int16_t *, int8_t *)
    ctypedef void (*iq1_dequantize_fn)(const uint8_t *, int64_t, int64_t, int64_t, float *)
    ctypedef void (*iq1_matmul_fn)(const uint8_t *, int64_t, int64_t, int64_t, const iq1_act *,
                                   int64_t, int64_t, float *, int64_t)
    ctypedef int (*iq1_quantize_fn)(const float *, int64_t, int64_t, int64_t, const float *, uint8_t *)
    ctypedef struct iq1_backend:
        const char *name
        const char *requires
        iq1_quantize_act_fn quantize_act
        iq1_quantize_act_half_fn quantize_act_half[2]
        iq1_dequantize_fn dequantize[4]
        iq1_matmul_fn matmul[4]
        iq1_quantize_fn quantize[4]
    const iq1_backend *const *IQ1_BACKEND_LIST
    int64_t iq1_group_bytes(int t, int64_t k)
    int iq1_rows_per_group(int t)
    void iq1_run_quantize_act(const iq1_backend *b, const float *x, int64_t n, int64_t k,
                              float *d, int16_t *bsums, int8_t *qs, int nthreads)
    void iq1_run_quantize_act_half(const iq1_backend *b, int kind, const uint16_t *x, int64_t n, int64_t k,
                                   float *d, int16_t *bsums, int8_t *qs, int nthreads)
    void iq1_run_dequantize(const iq1_backend *b, int t, const uint8_t *w, int64_t m, int64_t k,
                            float *y, int nthreads)
    void iq1_run_matmul(const iq1_backend *b, int t, const uint8_t *w, int64_t m, int64_t k,
                        const iq1_act *x, float *y, int nthreads)
    int iq1_run_quantize(const iq1_backend *b, int t, const float *x, int64_t m, int64_t k,
                         const float *imatrix, uint8_t *w, int nthreads, int64_t *first_bad_row,
                         int64_t *bad_rows)

cdef extern from "formats.h" nogil:
    ctypedef struct iq1_format_info:
        const char *name
        int ggml_id, block_k, block_bytes, rows_per_group, group_head_bytes, k_multiple, delta_k
    enum: IQ1_NTYPES
    const iq1_format_info iq1_formats[]

cdef extern from "kernel_plan.h":
    enum:
        IQ1_GEMV_PASS_COLS
        IQ1_GEMV_COLUMNS_MIN
        IQ1_GEMV_MAX_COLS
        IQ1_AVX2_GEMV_MAX_COLS
        IQ1_GEMM_BATCH_COLS
        IQ1_AVX512_GEMV_MAX_COLS_IQ1_S
        IQ1_AVX512_GEMV_MAX_COLS_IQ1_M
        IQ1_AVX512_GEMV_MAX_COLS_IQ1_S_R4
        IQ1_AVX512_GEMV_MAX_COLS_IQ1_M_R4
        IQ1_AMX_MIN_COLS_IQ1_S
        IQ1_AMX_MIN_COLS_IQ1_M
        IQ1_AMX_MIN_COLS_IQ1_S_R4
        IQ1_AMX_MIN_COLS_IQ1_M_R4
        IQ1_AMX_GEMV_MAX_COLS_IQ1_S
        IQ1_AMX_GEMV_MAX_COLS_IQ1_M
        IQ1_AMX_GEMV_MAX_COLS_IQ1_S_R4
        IQ1_AMX_GEMV_MAX_COLS_IQ1_M_R4
        IQ1_AMX_BLOCK_COLS
        IQ1_AMX_BATCH_COLS

cdef extern from "omp.h" nogil:
    int omp_get_max_threads()

cdef extern from "cpu_features.h" nogil:
    int iq1_cpu_supports(const char *flag)

cdef extern from "grid.h":
    const uint16_t iq1_grid_codes[2048]
    const uint64_t iq1_grid_signed[2048]
    const uint64_t iq1_grid_unsigned[2048]
    const uint32_t iq1_grid_nibble[2048]

cdef extern from *:
    const char *IQ1_BACKEND_ISA   # defined by setup.py per module

ISA = IQ1_BACKEND_ISA.decode()


def variants():
    """[(name, requires)] of this module's kernel tables, best last."""
    out = []
    cdef int i = 0
    while IQ1_BACKEND_LIST[i] != NULL:
        out.append((IQ1_BACKEND_LIST[i].name.decode(), IQ1_BACKEND_LIST[i].requires.decode()))
        i += 1
    return out


cdef const iq1_backend *_table(int variant) except NULL:
    cdef int i = 0
    while IQ1_BACKEND_LIST[i] != NULL:
        if i == variant:
            return IQ1_BACKEND_LIST[i]
        i += 1
    raise ValueError(f"no kernel variant {variant} in the {ISA} module")


def format_table():
    """The C format table (csrc/core/formats.h), one dict per format in type-code order."""
    cdef const iq1_format_info *f
    cdef int code
    out = []
    for code in range(IQ1_NTYPES):
        f = &iq1_formats[code]
        out.append({"name": f.name.decode(), "code": code, "ggml_id": f.ggml_id, "block_k": f.block_k,
                    "block_bytes": f.block_bytes, "rows_per_group": f.rows_per_group,
                    "group_head_bytes": f.group_head_bytes, "k_multiple": f.k_multiple, "delta_k": f.delta_k})
    return tuple(out)


def kernel_plan():
    """The column counts at which the x86 kernel plans change kernels (csrc/core/kernel_plan.h), by name
    (AVX512_GEMV_MAX_COLS, AMX_MIN_COLS and AMX_GEMV_MAX_COLS: one per format)."""
    return {"GEMV_PASS_COLS": IQ1_GEMV_PASS_COLS, "GEMV_COLUMNS_MIN": IQ1_GEMV_COLUMNS_MIN,
            "GEMV_MAX_COLS": IQ1_GEMV_MAX_COLS, "AVX2_GEMV_MAX_COLS": IQ1_AVX2_GEMV_MAX_COLS,
            "GEMM_BATCH_COLS": IQ1_GEMM_BATCH_COLS,
            "AVX512_GEMV_MAX_COLS": {"iq1_s": IQ1_AVX512_GEMV_MAX_COLS_IQ1_S, "iq1_m": IQ1_AVX512_GEMV_MAX_COLS_IQ1_M,
                                     "iq1_s_r4": IQ1_AVX512_GEMV_MAX_COLS_IQ1_S_R4,
                                     "iq1_m_r4": IQ1_AVX512_GEMV_MAX_COLS_IQ1_M_R4},
            "AMX_MIN_COLS": {"iq1_s": IQ1_AMX_MIN_COLS_IQ1_S, "iq1_m": IQ1_AMX_MIN_COLS_IQ1_M,
                             "iq1_s_r4": IQ1_AMX_MIN_COLS_IQ1_S_R4, "iq1_m_r4": IQ1_AMX_MIN_COLS_IQ1_M_R4},
            "AMX_GEMV_MAX_COLS": {"iq1_s": IQ1_AMX_GEMV_MAX_COLS_IQ1_S, "iq1_m": IQ1_AMX_GEMV_MAX_COLS_IQ1_M,
                                  "iq1_s_r4": IQ1_AMX_GEMV_MAX_COLS_IQ1_S_R4,
                                  "iq1_m_r4": IQ1_AMX_GEMV_MAX_COLS_IQ1_M_R4},
            "AMX_BLOCK_COLS": IQ1_AMX_BLOCK_COLS,
            "AMX_BATCH_COLS": IQ1_AMX_BATCH_COLS}


cdef int _check_type(int qtype, int64_t m, int64_t k) except -1:
    if qtype < 0 or qtype >= IQ1_NTYPES:
        raise ValueError(f"unknown type code {qtype}")
    if k <= 0 or m <= 0 or k % iq1_formats[qtype].k_multiple or m % iq1_formats[qtype].rows_per_group:
        raise ValueError(f"shape ({m}, {k}) is not allowed for type code {qtype}")
    return 0


cdef int _check_weights(int qtype, int64_t nbytes, int64_t m, int64_t k) except -1:
    _check_type(qtype, m, k)
    cdef int64_t need = (m // iq1_rows_per_group(qtype)) * iq1_group_bytes(qtype, k)
    if nbytes != need:
        raise ValueError(f"weight buffer has {nbytes} bytes, ({m}, {k}) needs {need}")
    return 0


def quantize_act(int variant, const float[:, ::1] x, float[:, ::1] d, int16_t[:, ::1] bsums,
                 int8_t[:, ::1] qs, int nthreads):
    cdef const iq1_backend *b = _table(variant)
    cdef int64_t n = x.shape[0], k = x.shape[1]
    if k % 128 or d.shape[0] != n or d.shape[1] != k // 128 or bsums.shape[0] != n or \
            bsums.shape[1] != k // 32 or qs.shape[0] != n or qs.shape[1] != k or nthreads < 1:
        raise ValueError("inconsistent Q8_K128 buffers")
    if n == 0:
        return
    with nogil:
        iq1_run_quantize_act(b, &x[0, 0], n, k, &d[0, 0], &bsums[0, 0], &qs[0, 0], nthreads)


def quantize_act_half(int variant, int kind, const uint16_t[:, ::1] x, float[:, ::1] d, int16_t[:, ::1] bsums,
                      int8_t[:, ::1] qs, int nthreads):
    """Q8_K128 of 16-bit float rows given as their bits: kind 0 = IEEE float16, 1 = bfloat16."""
    cdef const iq1_backend *b = _table(variant)
    cdef int64_t n = x.shape[0], k = x.shape[1]
    if kind < 0 or kind > 1:
        raise ValueError(f"unknown 16-bit float kind {kind}")
    if b.quantize_act_half[kind] == NULL:
        raise NotImplementedError(f"the {b.name.decode()} backend has no 16-bit activation quantizer")
    if k % 128 or d.shape[0] != n or d.shape[1] != k // 128 or bsums.shape[0] != n or \
            bsums.shape[1] != k // 32 or qs.shape[0] != n or qs.shape[1] != k or nthreads < 1:
        raise ValueError("inconsistent Q8_K128 buffers")
    if n == 0:
        return
    with nogil:
        iq1_run_quantize_act_half(b, kind, &x[0, 0], n, k, &d[0, 0], &bsums[0, 0], &qs[0, 0], nthreads)


def dequantize(int variant, int qtype, const uint8_t[::1] w, int64_t m, int64_t k,
               float[:, ::1] out, int nthreads):
    cdef const iq1_backend *b = _table(variant)
    _check_weights(qtype, w.shape[0], m, k)
    if out.shape[0] != m or out.shape[1] != k or nthreads < 1:
        raise ValueError("output buffer does not match the weights")
    with nogil:
        iq1_run_dequantize(b, qtype, &w[0], m, k, &out[0, 0], nthreads)


def matmul(int variant, int qtype, const uint8_t[::1] w, int64_t m, int64_t k,
           const float[:, ::1] d, const int16_t[:, ::1] bsums, const int8_t[:, ::1] qs,
           float[:, ::1] out, int nthreads):
    """out[c, r] = sum_i W[r, i] * X[c, i]; X given as Q8_K128 planes."""
    cdef const iq1_backend *b = _table(variant)
    _check_weights(qtype, w.shape[0], m, k)
    cdef int64_t n = qs.shape[0]
    if qs.shape[1] != k or d.shape[0] != n or d.shape[1] != k // 128 or bsums.shape[0] != n or \
            bsums.shape[1] != k // 32 or out.shape[0] != n or out.shape[1] != m or nthreads < 1:
        raise ValueError("activation or output buffers do not match the weights")
    if n == 0:
        return
    cdef iq1_act act
    act.d = &d[0, 0]
    act.bsums = &bsums[0, 0]
    act.qs = &qs[0, 0]
    act.n = n
    act.k = k
    with nogil:
        iq1_run_matmul(b, qtype, &w[0], m, k, &act, &out[0, 0], nthreads)


def has_quantizer(int variant, int qtype):
    return _table(variant).quantize[qtype] != NULL


def quantize(int variant, int qtype, const float[:, ::1] x, imatrix, uint8_t[::1] out, int nthreads):
    """(first bad row, number of bad rows): rows holding a NaN or Inf, (-1, 0) when there is none. The scan
    runs in the C threads; when it finds one, out is only partly written (the caller discards it)."""
    cdef const iq1_backend *b = _table(variant)
    cdef int64_t m = x.shape[0], k = x.shape[1]
    _check_weights(qtype, out.shape[0], m, k)
    if b.quantize[qtype] == NULL:
        raise NotImplementedError(f"the {b.name.decode()} backend has no quantizer for type code {qtype}")
    cdef const float[::1] im
    cdef const float *imp = NULL
    if imatrix is not None:
        im = imatrix
        if im.shape[0] != k:
            raise ValueError(f"imatrix has {im.shape[0]} entries, expected {k}")
        imp = &im[0]
    if nthreads < 1:
        raise ValueError("nthreads must be >= 1")
    cdef int err
    cdef int64_t first_bad = -1, bad_rows = 0
    with nogil:
        err = iq1_run_quantize(b, qtype, &x[0, 0], m, k, imp, &out[0], nthreads, &first_bad, &bad_rows)
    if bad_rows:
        return first_bad, bad_rows
    if err:
        raise MemoryError("quantization failed to allocate its work memory")
    return -1, 0


def openmp_max_threads():
    """omp_get_max_threads() in the calling thread: OMP_NUM_THREADS, omp_set_num_threads and
    threadpoolctl's threadpool_limits all change it."""
    return omp_get_max_threads()


def cpu_supports(str flag):
    """1 / 0 from the compiler's CPU check (cpuid, getauxval), -1 when this build cannot tell."""
    return iq1_cpu_supports(flag.encode())


def grid_tables():
    """The C grid tables as bytes (checked against FORMATS.md's SHA-256 in the tests)."""
    return {
        "codes": (<const char *>iq1_grid_codes)[:2048 * 2],
        "signed": (<const char *>iq1_grid_signed)[:2048 * 8],
        "unsigned": (<const char *>iq1_grid_unsigned)[:2048 * 8],
        "nibble": (<const char *>iq1_grid_nibble)[:2048 * 4],
    }
