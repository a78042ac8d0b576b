"""Per-function instruction fingerprints of built modules, to show that a refactoring kept every kernel's
instructions the same.

    python tools/asm_fingerprint/fingerprint.py dump iq1kernels/*.so > before.json
    ... refactor, rebuild ...
    python tools/asm_fingerprint/fingerprint.py dump iq1kernels/*.so > after.json
    python tools/asm_fingerprint/fingerprint.py compare before.json after.json [-v]
    python tools/asm_fingerprint/fingerprint.py show module.so FUNCTION      (the normalised instructions)

`dump` disassembles each shared object (objdump -d) and normalises every function: addresses are dropped,
branches inside the function become offsets from its start, a call names its callee by the callee's own
fingerprint (so renaming a function changes nothing, calling another one does), a named data object is kept
by name and offset (iq1_grid_unsigned+0x8), an anonymous constant by its bytes (an address taken by lea,
such as a jump table's, by nothing). `compare` matches the functions of the two dumps by fingerprint,
name-blind: it lists the functions whose instructions exist on one side only, and the names each matched
function had before and after, and (apart) the functions whose instructions are the same multiset in another
order (a scheduler's other tie-break; branch targets and alignment nops aside). Cython's glue and the C
runtime's functions (names with a leading underscore) are only counted: they change with the .pyx and the layout.
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
COMMENT = {
    "x86": re.compile(r"\s*#\s*(?:([0-9a-f]+)(?: <([^>]+)>)?.*)?$"),
    "aarch64": re.compile(r"\s*//\s*(?:([0-9a-f]+)(?: <([^>]+)>)?.*)?$"),
}
BRANCH = re.compile(r"\.\+0x[0-9a-f]+")
PADDING = re.compile(r"^(nop\w*|xchg %ax,%ax|data16 .*|cs nopw .*|int3) ?")
TARGET = re.compile(r"\b([0-9a-f]+) <([^>]+)>")
RIP = re.compile(r"-?0x[0-9a-f]+\(%rip\)")


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
            return blob[off + addr - vma : off + addr - vma + min(n, vma + size - addr)]
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


def binutils_prefix(blob: bytes) -> str:
    return "aarch64-linux-gnu-" if int.from_bytes(blob[18:20], "little") == 0xB7 else ""  # EM_AARCH64


def objdump_for(blob: bytes) -> list:
    if binutils_prefix(blob):
        return ["aarch64-linux-gnu-objdump", "-d", "--no-show-raw-insn"]
    return ["objdump", "-d", "--no-show-raw-insn", "-M", "att"]


def data_objects(path, blob):
    """{name: (address, size)} of the sized data symbols: a reference inside one keeps its name"""
    text = subprocess.run(
        [binutils_prefix(blob) + "nm", "-S", "--defined-only", path], check=True, capture_output=True, text=True
    ).stdout
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "rRdDbB":
            out[parts[3]] = (int(parts[0], 16), int(parts[1], 16))
    return out


def split_insn(text: str, arch: str):
    """(instruction, comment address, comment symbol) of objdump's text after the address"""
    m = COMMENT[arch].search(text)
    if m and m.start() > 0:
        return text[: m.start()].strip(), m.group(1), m.group(2)
    return text.strip(), None, None


def normalise(path):
    """[{name, start, size, insns, body, calls}] of every function of the shared object at path."""
    blob = open(path, "rb").read()
    secs = sections(path)
    objects = data_objects(path, blob)
    arch = "aarch64" if binutils_prefix(blob) else "x86"
    text = subprocess.run(objdump_for(blob) + [path], check=True, capture_output=True, text=True).stdout
    funcs = []  # [name, start, [lines]]
    for line in text.splitlines():
        m = FUNC.match(line)
        if m:
            funcs.append([m.group(2), int(m.group(1), 16), []])
            continue
        if not funcs:
            continue
        m = INSN.match(line)
        if m:
            funcs[-1][2].append((int(m.group(1), 16),) + split_insn(m.group(2), arch))
    by_start = {start: name for name, start, _ in funcs}
    ends = {}
    for _name, start, insns in funcs:
        ends[start] = insns[-1][0] + 1 if insns else start
    result = []
    for name, start, insns in funcs:
        end = ends[start]
        body = []
        calls = []
        page_regs = set()  # aarch64: registers holding an adrp page (their low-12 offsets follow)
        for _addr, ins, comment_addr, comment_sym in insns:
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
                    operands, n = re.subn(r"#0x[0-9a-f]+|#\d+", "#LO12", operands, count=1)
                    if not n:  # offset 0 in the page: no immediate printed
                        operands = re.sub(rf"\[({'|'.join(used)})\]", r"[\1, #LO12]", operands)
                        if mnemonic in ("add", "mov"):
                            operands += ", #LO12"
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
                sym = re.sub(r"\+0x[0-9a-f]+$", "", comment_sym or "")
                target = int(comment_addr, 16)
                if "@" in sym:
                    ref = f"<{sym}>"
                elif sym in objects and objects[sym][0] <= target < objects[sym][0] + objects[sym][1]:
                    ref = f"<{sym}+{target - objects[sym][0]:#x}>"
                elif mnemonic == "lea":  # an address (a jump table, a string): its layout is not code
                    ref = "<address>"
                else:
                    ref = "<" + read_at(blob, secs, target, operand_bytes(mnemonic, operands)).hex() + ">"
                operands = RIP.sub(ref, operands)
            body.append(f"{mnemonic} {operands}")
        while body and PADDING.match(body[-1]):  # the alignment after the last instruction: layout, not code
            body.pop()
        result.append(
            {
                "name": name,
                "start": start,
                "size": end - start,
                "insns": len(body),
                "body": "\n".join(body),
                "calls": calls,
            }
        )
    return result


def dump(path):
    result = normalise(path)
    # level 0: callees anonymous; level 1: each call names its callee's level-0 hash
    h0 = {f["start"]: hashlib.sha1(f["body"].encode()).hexdigest() for f in result}
    # loose: the same multiset of instructions, in any order (a scheduler's different tie-break), branch targets
    # anonymous and callees by their own loose hash
    lines0 = {
        f["start"]: sorted(line for line in BRANCH.sub(".+L", f["body"]).splitlines() if not PADDING.match(line))
        for f in result
    }
    l0 = {start: hashlib.sha1("\n".join(lines).encode()).hexdigest() for start, lines in lines0.items()}
    out = []
    for f in result:
        body = f["body"]
        loose = BRANCH.sub(".+L", body)
        for target in f["calls"]:
            body = body.replace("@CALL", "@" + h0[target][:12], 1)
            loose = loose.replace("@CALL", "@" + l0[target][:12], 1)
        out.append(
            {
                "name": f["name"],
                "size": f["size"],
                "insns": f["insns"],
                "hash": hashlib.sha1(body.encode()).hexdigest()[:16],
                "own": l0[f["start"]][:16],
                "loose": hashlib.sha1(
                    "\n".join(sorted(line for line in loose.splitlines() if not PADDING.match(line))).encode()
                ).hexdigest()[:16],
            }
        )
    return out


def is_glue(name: str) -> bool:
    """Cython's code and the C runtime's (leading underscores: the package's C names have none)."""
    return name.startswith(("_", "Py")) or "pyx" in name.lower()


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
        loose_b = {f["loose"] for f in kern_b}
        loose_a = {f["loose"] for f in kern_a}
        reordered_b = [f for f in kern_b if f["loose"] in loose_a]
        kern_a = [f for f in kern_a if f["loose"] not in loose_b]
        kern_b = [f for f in kern_b if f["loose"] not in loose_a]
        own_a, own_b = {f["own"] for f in kern_a}, {f["own"] for f in kern_b}
        callers_b = [f for f in kern_b if f["own"] in own_a]
        kern_a = [f for f in kern_a if f["own"] not in own_b]
        kern_b = [f for f in kern_b if f["own"] not in own_a]
        glue = len(only_a) - len(kern_a), len(only_b) - len(kern_b)
        renamed = sorted(
            {
                (fa["name"], fb["name"])
                for h in ka
                if h in kb
                for fa in ka[h]
                for fb in kb[h][:1]
                if fa["name"] != fb["name"] and not is_glue(fa["name"])
            }
        )
        fewer = sum(max(0, len(ka[h]) - len(kb[h])) for h in ka if h in kb)
        more = sum(max(0, len(kb[h]) - len(ka[h])) for h in kb if h in ka)
        print(
            f"== {module}: {len(a)} -> {len(b)} functions; instructions only before: {len(kern_a)}, only "
            f"after: {len(kern_b)}; the same instructions in another order: {len(reordered_b)}, calling a "
            f"changed function: {len(callers_b)} (glue: "
            f"{glue[0]} / {glue[1]}); identical copies dropped {fewer}, added {more}"
        )
        if "-v" in sys.argv:
            for f in reordered_b:
                print(f"  reordered:   {f['name']} ({f['insns']} instructions)")
            for f in callers_b:
                print(f"  calls a changed function: {f['name']} ({f['insns']} instructions)")
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
    if len(argv) == 3 and argv[0] == "show":  # show FILE NAME: the normalised body (to diff two)
        for f in normalise(argv[1]):
            if f["name"] == argv[2]:
                print(f["body"])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
