"""Build: one extension module per ISA from one Cython body.

iq1kernels/_backend_<isa>.pyx are thin stubs that `include "_backend.pxi"`. Each module links, from all folders
of iq1kernels/csrc (docs/ARCHITECTURE.md shows what lives where),
  * the C files without an ISA suffix (driver, grid, cpu features, quantizer machinery) and *_generic.c,
  * the *_<isa>.c files of its ISA (each sets its instruction set with `#pragma GCC target`).
Every folder of csrc is on the include path: C files include each other's headers by file name (names are
unique across the folders).
Every C file is compiled once (-O3, shared between modules, skipped when up to date); the Cython glue is
compiled at the baseline ISA with a lower optimisation level (it only converts arguments). Nothing is built
with -march=native.
"""

import os
import platform
import runpy
from concurrent.futures import ThreadPoolExecutor
from glob import glob

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
CSRC = os.path.join("iq1kernels", "csrc")
ISA_TABLE = runpy.run_path(os.path.join(HERE, "iq1kernels", "_isas.py"))  # the ISA list (not importable yet)
ISA_SUFFIXES = tuple(isa.name for isa in ISA_TABLE["ISAS"])
ISAS = ISA_TABLE["built_on"](platform.machine())

# -fno-ipa-icf: each ISA's formats share one file (x86/matmul_avx2.c, ...), and GCC would fold helpers that two
# formats compile identically into one function, which it then no longer inlines into either. -fno-wrapv undoes
# the -fwrapv of Python's own compile flags (which come first): the kernels have no signed overflow, and with
# wrapping arithmetic GCC schedules the gathered GEMV (x86/gemv_gathered_avx512-inl.h) 12-18 % slower
C_FLAGS = ["-std=c11", "-O3", "-g0", "-ffp-contract=off", "-fopenmp", "-fno-math-errno", "-fno-ipa-icf", "-fno-wrapv"]
GLUE_FLAGS = ["-O1", "-g0", "-Wno-unused-function", "-Wno-unreachable-code"]
LINK_FLAGS = ["-fopenmp"]


def csrc_files(*patterns):
    """Files of csrc and all its folders matching the patterns, sorted."""
    return sorted(p for pattern in patterns for p in glob(os.path.join(CSRC, "**", pattern), recursive=True))


CSRC_DIRS = [CSRC] + sorted(os.path.dirname(p) for p in csrc_files("*/"))
HEADERS = csrc_files("*.h")


def isa_of(path):
    stem = os.path.splitext(os.path.basename(path))[0]
    for isa in ISA_SUFFIXES:
        if stem.endswith("_" + isa):
            return isa
    return None


def c_sources_for(isa):
    """Sources linked into the module of `isa`: common + generic + that ISA."""
    return [p for p in csrc_files("*.c") if isa_of(p) in (None, "generic", isa)]


class BuildExt(build_ext):
    """Compile each C file once with kernel flags, then link the objects into every module that needs them."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

    def build_extensions(self):
        # the instantiation lists (matmul_<isa>.c: every format's kernels in one file) take most of the compile
        # time, the longest 17 s: started first, they overlap the many small files instead of trailing them
        sources = sorted(
            {s for ext in self.extensions for s in KERNEL_SOURCES[ext.name]},
            key=lambda s: (not os.path.basename(s).startswith("matmul_"), s),
        )
        obj_dir = os.path.join(self.build_temp, "csrc")

        def compile_one(src):
            # distutils puts the object at the source's path below output_dir
            obj = os.path.join(obj_dir, os.path.splitext(src)[0] + ".o")
            newest_input = max(os.path.getmtime(p) for p in [src] + HEADERS)
            if self.force or not os.path.exists(obj) or os.path.getmtime(obj) < newest_input:
                self.compiler.compile([src], output_dir=obj_dir, include_dirs=CSRC_DIRS, extra_postargs=C_FLAGS)
            return src, obj

        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            objects = dict(pool.map(compile_one, sources))
        for ext in self.extensions:
            ext.extra_objects = [objects[s] for s in KERNEL_SOURCES[ext.name]]
        super().build_extensions()


KERNEL_SOURCES = {}  # extension name -> the C files it links (cythonize copies Extension objects)


def backend_extension(isa):
    ext = Extension(
        f"iq1kernels._backend_{isa}",
        sources=[os.path.join("iq1kernels", f"_backend_{isa}.pyx")],
        include_dirs=CSRC_DIRS + [np.get_include()],
        define_macros=[
            ("IQ1_BACKEND_LIST", f"iq1_backends_{isa}"),
            ("IQ1_BACKEND_ISA", f'"{isa}"'),
            ("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
        ],
        extra_compile_args=GLUE_FLAGS,
        extra_link_args=LINK_FLAGS,
        # the C files too: build_ext relinks a module only when one of its sources or depends changed
        depends=HEADERS + c_sources_for(isa) + [os.path.join("iq1kernels", "_backend.pxi")],
    )
    KERNEL_SOURCES[ext.name] = c_sources_for(isa)
    return ext


setup(
    ext_modules=cythonize(
        [backend_extension(isa) for isa in ISAS],
        compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False, "cdivision": True},
        quiet=True,
    ),
    cmdclass={"build_ext": BuildExt},
)
