"""`iq1kernels bench --quantize` rows (iq1kernels.quant_bench): every type, data set and imatrix kind, errors
that are measured (not copied), the recorded ik_llama.cpp figures only beside the data they were measured on."""
import numpy as np

from iq1kernels import quant_bench


def test_quick_rows():
    rows = quant_bench.run(threads=1, quick=True)
    kinds = {(r["data"], r["imatrix"]) for r in rows}
    assert {("normal", "none"), ("normal", "lognormal"), ("t5", "none"), ("t5", "lognormal")} <= kinds
    if quant_bench.minilm_matrices() is not None:
        assert {("minilm", "none"), ("minilm", "lognormal"), ("minilm", "activations")} <= kinds
    by = {(r["type"], r["data"], r["imatrix"]): r for r in rows}
    for (qtype, data, imatrix), r in by.items():
        assert 0.3 < r["rel_rmse"] < 0.6 and 0.25 < r["weighted_rel_rmse"] < 0.6, (qtype, data, imatrix)
        assert r["seconds"] > 0
        # quick data are 1024 x 1024: not the data of the recorded 4096 x 4096 figures
        if data != "minilm":
            assert r["reference_rel_rmse"] is None and r["reference_seconds"] is None
        else:
            assert r["reference_rel_rmse"] == quant_bench.REFERENCE[(qtype, data, imatrix)][0]
        if imatrix == "lognormal":   # quantizing with the importance lowers the error it weights
            assert r["weighted_rel_rmse"] < by[(qtype, data, "none")]["weighted_rel_rmse"]
    table = quant_bench.format_table(rows)
    assert len(table.splitlines()) == len(rows) + 2 and "| iq1_m_r4 |" in table


def test_activation_importance_shape():
    imps = quant_bench.minilm_activation_importance()
    if imps is None:
        return
    mats = quant_bench.minilm_matrices()
    assert len(imps) == len(mats) == 6
    for imp, W in zip(imps, mats):
        assert imp.shape == (W.shape[1],) and np.isfinite(imp).all() and (imp > 0).all()
