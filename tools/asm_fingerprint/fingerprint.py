"""Per-function instruction fingerprints of built modules, to show that a refactoring kept every kernel's
instructions the same.

    python tools/asm_fingerprint/fingerprint.py dump iq1kernels/*.so > before.json
    ... refactor, rebuild ...
    python tools/asm_fingerprint/fingerprint.py dump iq1kernels/*.so > after.json
    python tools/asm_fingerprint/fingerprint.py compare before.json after.json

`dump` disassembles each shared object (objdump -d) and normalises every function: addresses are dropped,
branches inside the function become offsets from its start, a call names its callee by the callee's own
fingerprint (so renaming a function changes nothing, calling another one does), a named data object is kept
by name and offset (iq1_grid_unsigned+0x8), an anonymous constant by its bytes. `compare` matches the
functions of the two dumps by fingerprint, name-blind: it lists the functions whose instructions exist on
one side only, and the names each matched function had before and after. The Cython glue (__pyx_*) is
reported apart: it changes whenever the .pyx does.
"""
from __future__ import annotations

import collections
import hashlib
import json
import re
import subprocess
import sys

FUNC = re.compile(r"^([0-9a-f]+) <(.+)>:$")
INSN = re.compile(r"^\s+([0-9a-f]+):\t(.*)$")
COMMENT = re.compile(r"\s*(?:#|//)\s*(?:([0-9a-f]+)(?: <([^>]+)>)?.*)?$")
TARGET = re.compile(r"\b([0-9a-f]+) <([^>]+)>")
RIP = re.compile(r"-?0x[0-9a-f]+\(%rip\)")
# anonymous constants lie in these; their bytes stand for them
ANONYMOUS = re.compile(r"^(_fini|_init|__FRAME_END__|__GNU_EH_FRAME_HDR|_DYNAMIC|__dso_handle|completed\.\d+|"
                       r"__TMC_END__|_GLOBAL_OFFSET_TABLE_|\.rodata|\.text)")


def sections(path):
    """[(vma, size, file offset)] of the allocated sections."""
    out = []
    text = subprocess.run(["objdump", "-h", path], check=True, capture_output=True, text=True).stdout
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 7 and parts[0].isdigit():
            out.append((int(parts[3], 16), int(parts[2], 16), int(parts[5], 16)))
    return out


def read_at(blob, secs, addr, n):
    for vma, size, off in secs:
        if vma <= addr < vma + size:
            return blob[off + addr - vma: off + addr - vma + min(n, vma + size - addr)]
    return b""


def operand_bytes(mnemonic: str, operands: str) -> int:
    """How many bytes a RIP-relative memory operand of this instruction reads (a guess good enough for
    constants: vector width, element width of a broadcast or scalar, else 8)."""
    m = mnemonic
    if "{1to" in operands:
        return 8 if m.endswith(("pd", "q")) else 4
    if "broadcast" in m:
        for suffix, n in (("b", 1), ("w", 2), ("ss", 4), ("d", 4), ("sd", 8), ("q", 8)):
            if m.endswith(suffix):
                return n
        if "i32x4" in m or "f32x4" in m or "i64x2" in m or "f64x2" in m or "128" in m:
            return 16
        return 32
    if m.endswith(("ss",)) or m in ("vmovd", "movd", "vpinsrd", "vinsertps"):
        return 4
    if m.endswith(("sd",)) or m in ("vmovq", "movq", "vpinsrq"):
        return 8
    if "%zmm" in operands:
        return 64
    if "%ymm" in operands:
        return 32
    if "%xmm" in operands:
        return 16
    return 8


def objdump_for(blob: bytes) -> list:
    machine = int.from_bytes(blob[18:20], "little")
    if machine == 0xB7:                                   # EM_AARCH64
        return ["aarch64-linux-gnu-objdump", "-d", "--no-show-raw-insn"]
    return ["objdump", "-d", "--no-show-raw-insn", "-M", "att"]


def split_insn(text: str):
    """(instruction, comment address, comment symbol) of objdump's text after the address"""
    m = COMMENT.search(text)
    if m and m.start() > 0:
        return text[:m.start()].strip(), m.group(1), m.group(2)
    return text.strip(), None, None


def dump(path):
    blob = open(path, "rb").read()
    secs = sections(path)
    text = subprocess.run(objdump_for(blob) + [path], check=True, capture_output=True, text=True).stdout
    funcs = []          # [name, start, [lines]]
    for line in text.splitlines():
        m = FUNC.match(line)
        if m:
            funcs.append([m.group(2), int(m.group(1), 16), []])
            continue
        if not funcs:
            continue
        m = INSN.match(line)
        if m:
            funcs[-1][2].append((int(m.group(1), 16),) + split_insn(m.group(2)))
    by_start = {start: name for name, start, _ in funcs}
    ends = {}
    for i, (name, start, insns) in enumerate(funcs):
        ends[start] = insns[-1][0] + 1 if insns else start
    result = []
    for name, start, insns in funcs:
        end = ends[start]
        body = []
        calls = []
        page_regs = set()        # aarch64: registers holding an adrp page (their low-12 offsets follow)
        for addr, ins, comment_addr, comment_sym in insns:
            mnemonic, _, operands = ins.replace("\t", " ").partition(" ")
            operands = operands.strip()
            if mnemonic == "adrp":
                page_regs.add(operands.split(",")[0])
                body.append("adrp " + operands.split(",")[0] + ", PAGE")
                continue
            if page_regs:
                regs = set(re.findall(r"\b[xw]\d+\b", operands))
                used = regs & page_regs
                if used:
                    operands = re.sub(r"#0x[0-9a-f]+|#\d+", "#LO12", operands, count=1)
                    page_regs -= used
            t = TARGET.search(operands)
            if t:
                target = int(t.group(1), 16)
                if start <= target < end:
                    operands = TARGET.sub(f".+{target - start:#x}", operands)
                elif target in by_start:
                    calls.append(target)
                    operands = TARGET.sub("@CALL", operands)
                else:
                    operands = TARGET.sub("<" + re.sub(r"\+0x[0-9a-f]+$", "", t.group(2)) + ">", operands)
            if comment_addr is not None and "(%rip)" in operands:
                sym = comment_sym or ""
                if sym and not ANONYMOUS.match(sym) and "@" not in sym:
                    ref = f"<{sym}>"
                elif "@" in sym:
                    ref = f"<{sym}>"
                else:
                    ref = "<" + read_at(blob, secs, int(comment_addr, 16), operand_bytes(mnemonic, operands)).hex() + ">"
                operands = RIP.sub(ref, operands)
            body.append(f"{mnemonic} {operands}")
        result.append({"name": name, "start": start, "size": end - start, "insns": len(body),
                       "body": "\n".join(body), "calls": calls})
    # level 0: callees anonymous; level 1: each call names its callee's level-0 hash
    h0 = {f["start"]: hashlib.sha1(f["body"].encode()).hexdigest() for f in result}
    out = []
    for f in result:
        body = f["body"]
        for target in f["calls"]:
            body = body.replace("@CALL", "@" + h0[target][:12], 1)
        out.append({"name": f["name"], "size": f["size"], "insns": f["insns"],
                    "hash": hashlib.sha1(body.encode()).hexdigest()[:16]})
    return out


def is_glue(name: str) -> bool:
    return name.startswith(("__pyx", "_GLOBAL", "__Pyx", "Py", "__pyx_")) or "pyx" in name.lower()


def compare(before_path, after_path) -> int:
    before, after = json.load(open(before_path)), json.load(open(after_path))
    status = 0
    for module in sorted(set(before) | set(after)):
        a, b = before.get(module, []), after.get(module, [])
        ka = collections.defaultdict(list)
        kb = collections.defaultdict(list)
        for f in a:
            ka[f["hash"]].append(f)
        for f in b:
            kb[f["hash"]].append(f)
        only_a = [f for h, fs in ka.items() if h not in kb for f in fs]
        only_b = [f for h, fs in kb.items() if h not in ka for f in fs]
        kern_a = [f for f in only_a if not is_glue(f["name"])]
        kern_b = [f for f in only_b if not is_glue(f["name"])]
        glue = len(only_a) - len(kern_a), len(only_b) - len(kern_b)
        renamed = sorted({(fa["name"], fb["name"]) for h in ka if h in kb for fa in ka[h] for fb in kb[h][:1]
                          if fa["name"] != fb["name"] and not is_glue(fa["name"])})
        fewer = sum(max(0, len(ka[h]) - len(kb[h])) for h in ka if h in kb)
        more = sum(max(0, len(kb[h]) - len(ka[h])) for h in kb if h in ka)
        print(f"== {module}: {len(a)} -> {len(b)} functions; instructions only before: {len(kern_a)}, only "
              f"after: {len(kern_b)} (glue: {glue[0]} / {glue[1]}); identical copies dropped {fewer}, added {more}")
        for f in kern_a:
            print(f"  only before: {f['name']} ({f['insns']} instructions)")
        for f in kern_b:
            print(f"  only after:  {f['name']} ({f['insns']} instructions)")
        if "-v" in sys.argv:
            for old, new in renamed:
                print(f"  same instructions: {old} -> {new}")
        if kern_a or kern_b:
            status = 1
    return status


def main(argv) -> int:
    if len(argv) >= 2 and argv[0] == "dump":
        json.dump({p.rsplit("/", 1)[-1].split(".")[0]: dump(p) for p in argv[1:]}, sys.stdout, indent=0)
        return 0
    if len(argv) >= 3 and argv[0] == "compare":
        return compare(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
