"""Crafting GGUF bytes field by field (independent of the package's writer), for tests of the reader on
malformed files. Also: the list of every numeric field's (offset, width) in a crafted file, for the fuzzers."""

import struct

TYPE_FMT = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def gstr(s):
    b = s if isinstance(s, bytes) else s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value, raw=None):
    """One key/value; `raw` replaces the packed value bytes."""
    if raw is None:
        if vtype == 8:
            raw = gstr(value)
        elif vtype == 9:
            etype, items = value
            raw = struct.pack("<IQ", etype, len(items)) + b"".join(
                gstr(v) if etype == 8 else struct.pack(TYPE_FMT[etype], v) for v in items
            )
        else:
            raw = struct.pack(TYPE_FMT[vtype], value)
    return gstr(key) + struct.pack("<I", vtype) + raw


def tensor_info(name, ne, ttype, offset):
    return (
        gstr(name)
        + struct.pack("<I", len(ne))
        + b"".join(struct.pack("<Q", d) for d in ne)
        + struct.pack("<IQ", ttype, offset)
    )


def gguf_bytes(kvs=(), infos=(), data=b"", alignment=32, version=3, n_kv=None, n_tensors=None):
    head = b"GGUF" + struct.pack(
        "<IQQ", version, len(infos) if n_tensors is None else n_tensors, len(kvs) if n_kv is None else n_kv
    )
    head += b"".join(kvs) + b"".join(infos)
    head += bytes(-len(head) % alignment)
    return head + data


def small_file():
    """A valid small file (two tensors, a few keys) and the (offset, width) of every integer field in it."""
    fields = []
    out = bytearray(b"GGUF")

    def put(fmt, v):
        fields.append((len(out), struct.calcsize(fmt)))
        out.extend(struct.pack(fmt, v))

    def put_str(s):
        put("<Q", len(s))
        out.extend(s)

    put("<I", 3)
    put("<Q", 2)
    put("<Q", 4)
    put_str(b"general.architecture")
    put("<I", 8)
    put_str(b"llama")
    put_str(b"general.alignment")
    put("<I", 4)
    put("<I", 32)
    put_str(b"x.arr")
    put("<I", 9)
    put("<I", 5)
    put("<Q", 3)
    for v in (1, -2, 3):
        put("<i", v)
    put_str(b"x.f")
    put("<I", 6)
    out.extend(struct.pack("<f", 0.5))
    for name, ne, ttype, offset in ((b"w", (256, 2), 19, 0), (b"b", (4,), 0, 128)):
        put_str(name)
        put("<I", len(ne))
        for d in ne:
            put("<Q", d)
        put("<I", ttype)
        put("<Q", offset)
    out.extend(bytes(-len(out) % 32))
    data = bytearray(160)
    data[0:2] = b"\x00\x3c"  # fp16 1.0 block scale
    data[128:144] = struct.pack("<4f", 1, 2, 3, 4)
    return bytes(out + data), fields
