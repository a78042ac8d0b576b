"""docs/ARCHITECTURE.md is true to the tree: every file it names exists, every row of its "Where is X" map
names a function that its body file defines and its instantiation file writes out (for every format), and it
cites nothing a reader of the repository cannot see."""

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRC = os.path.join(ROOT, "iq1kernels", "csrc")
DOC = os.path.join(ROOT, "docs", "ARCHITECTURE.md")
FORMATS = ("iq1_s", "iq1_m", "iq1_s_r4", "iq1_m_r4")
PATH = re.compile(r"[\w./<>*{},-]*\w\.(?:c|h|py|pyx|pxi|md|sh|toml)\b")
ROOTS = (ROOT, os.path.join(ROOT, "iq1kernels"), CSRC, os.path.join(ROOT, "tools"))


def doc():
    with open(DOC, encoding="utf-8") as f:
        return f.read()


def tree_basenames():
    names = set()
    for top in (os.path.join(ROOT, d) for d in ("iq1kernels", "tools", "tests", "docs", "bench")):
        for _, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d not in ("build", "__pycache__")]
            names.update(files)
    return names | set(os.listdir(ROOT))


def where_is_rows():
    text = doc()
    section = text[text.index("## Where is X") :]
    section = section[: section.index("\n## ", 1)] if "\n## " in section[1:] else section
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[2].startswith("`iq1_"):
            rows.append((cells[2].strip("`"), cells[3], cells[4]))
    return rows


def read(rel):
    with open(os.path.join(CSRC, rel), encoding="utf-8") as f:
        return f.read()


def test_named_files_exist():
    names = tree_basenames()
    missing = []
    for token in sorted(set(PATH.findall(doc()))):
        if any(ch in token for ch in "<>*{}") or token.startswith(("-", ".")):
            continue  # a pattern (quantize_search_<isa>.c) or a suffix (-inl.h), not a file
        if "/" in token:
            if not any(os.path.exists(os.path.join(r, token)) for r in ROOTS):
                missing.append(token)
        elif token not in names:
            missing.append(token)
    assert not missing, f"docs/ARCHITECTURE.md names files that are not in the tree: {missing}"


def test_cites_nothing_outside_the_repository():
    text = doc()
    assert "DESIGN.md" not in text and "§" not in text
    assert not re.search(r"\bissues?\s*#?\d", text, re.I)


def test_where_is_map_has_every_isa():
    variants = {name.rsplit(">_", 1)[-1] for name, _, _ in where_is_rows() if ">_" in name}
    assert {"generic", "avx2", "avx2_vnni", "avx512", "avx512_vnni", "avx512_amx", "neon", "neon_dotprod"} <= variants


@pytest.mark.parametrize("function, body, made_in", where_is_rows())
def test_where_is_row(function, body, made_in):
    body_text, made_text = read(body), read(made_in)
    names = [function.replace("<format>", f) for f in FORMATS] if "<format>" in function else [function]
    for name in names:
        assert re.search(r"\b" + re.escape(name) + r"\b", made_text), f"{name} is not written out in {made_in}"
    if "<format>" in function:
        op = function[len("iq1_") : function.index("_<format>")]
        defines = (f"IQ1_NAME({op})", f"IQ1_NAME3({op}, ") + tuple(names)
        assert any(d in body_text for d in defines), f"{body} does not define {function}"
    else:
        assert re.search(r"\b" + re.escape(function) + r"\b", body_text), f"{function} is not in {body}"
