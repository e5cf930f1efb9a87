#!/usr/bin/env python3
"""Runs the code examples of dq's documentation against a build tree, so a copied example works.

    python3 tests/docs/check_doc_examples.py --build build [--langs sh,python,c,cpp] [FILE.md...]

Which blocks are checked (the convention for whoever edits the docs):

- Every fenced block in ```sh, ```bash, ```console, ```python, ```c, ```cpp or ```rust is
  checked by default. Blocks without a language (output, messages, diagrams) and other
  languages (cmake, text) are not: give a block of commands its language and it is checked.
- HTML comments on the lines right above the fence (blank lines between are allowed) change
  that; they do not show when the Markdown is rendered:
    <!-- no-check: REASON -->            skip the block; REASON is printed (needs a GPU, the
                                         network, installs packages, runs for minutes, ...)
    <!-- check-replace: OLD => NEW -->    run the block with every OLD replaced by NEW, e.g.
                                         `cuda:0 => cpu` (CI has no GPU) or a smaller size;
                                         OLD must occur in the block. Repeatable.
    <!-- check-env: NAME=VALUE ... -->    extra environment for the block (paths relative to
                                         the scratch folder, where build/ is the build tree)
    <!-- check-as: plugin -->             C: compile the block as a backend plugin (a shared
                                         object), after stubs of the my_* entries it names
  A marker that is not followed by a fence, or a replacement that finds nothing, fails.

How a block runs: the blocks of one file run in order in one scratch folder
(BUILD/doc-examples/<file>), so a later block sees what an earlier one wrote. In it, build/ is
the build tree, the repository's top-level entries (include/, python/, scripts/, tests/, ...)
are links to the source, model.gguf is the shared test data's stories260K-q4_k_m.gguf and
myaccel.c is tests/conformance/example_plugin.c named "myaccel" (docs/PLUGINS.md's plugin).
The environment has build/bin first on PATH, `python`/`python3` as the checked interpreter,
PYTHONPATH=<source>/python and DQ_LIBRARY=build/lib/libdq-core.so.0 (the package from the
source tree on the built core), DQ_TESTDATA, DQ_SRC (the source tree) and DQ_BUILD.

- sh/bash: the block is one `bash -e -o pipefail` script; console: its `$ ` lines are.
- python: the block is a script. Names it uses without defining them come from fixtures:
  data/qtype (output.weight's bytes and type), q/k/v (q4_K, q4_K, q6_K blocks), blocks/shape
  (a 4096x4096 q4_K torch tensor of bytes), model ("model.gguf"). A block that imports torch,
  transformers, diffusers, cupy or another optional module the interpreter lacks is skipped
  with that reason.
- c/cpp: a block with a main() is a program; any other block is the body of main(), after
  fixtures `dq_context *ctx` and `dq_model *model` (model.gguf) are opened. Compiled with
  -Wall -Wextra -Werror against include/ and build/lib/libdq-core, then run.
- rust: each block is compiled (`cargo check --offline`, not run) as an example of a crate that
  depends on bindings/rust/dq; a block without fn main() is the body of a function returning
  Result, with fixtures ctx, model, q/q_out, k/k_out, v_ty/v_src/v_dst/n where it uses them.

Exit status: 0 when no block failed (skips are fine), 1 otherwise.
"""
import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_FILES = ["README.md", "docs/ARCHITECTURE.md", "docs/GGUF.md", "docs/MULTI_GPU.md",
                 "docs/PLUGINS.md", "docs/PYTHON.md", "docs/VULKAN.md", "docs/PERFORMANCE.md",
                 "bindings/rust/README.md", "python/README.md"]
LANGS = {"sh": "sh", "bash": "sh", "shell": "sh", "console": "console", "python": "python",
         "py": "python", "c": "c", "cpp": "cpp", "c++": "cpp", "rust": "rust"}
OPTIONAL_MODULES = {"torch", "transformers", "diffusers", "accelerate", "cupy", "jax",
                    "ml_dtypes", "gguf", "pytest", "safetensors"}
BLOCK_TIMEOUT = 120
FENCE = re.compile(r"^(\s*)(```+)\s*([^\s`]*)\s*$")
MARKER = re.compile(r"^\s*<!--\s*(no-check|check-replace|check-env|check-as)\s*:\s*(.*?)\s*-->\s*$")


@dataclass
class Block:
    path: str
    line: int              # line of the opening fence, 1-based
    lang: str              # normalized: sh, console, python, c, cpp, rust
    code: str
    skip: str = ""
    replace: list = field(default_factory=list)
    env: dict = field(default_factory=dict)
    as_: str = ""
    error: str = ""        # a malformed marker or replacement

    @property
    def where(self):
        return f"{self.path}:{self.line}"


def parse(path, text):
    """The checked blocks of one Markdown file, with their markers applied."""
    lines = text.split("\n")
    blocks, pending, i = [], [], 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        if m:
            pending.append((i + 1, m.group(1), m.group(2)))
            i += 1
            continue
        f = FENCE.match(lines[i])
        if not f:
            if lines[i].strip() and pending:
                blocks.append(Block(path, pending[0][0], "marker", "",
                                    error="marker not followed by a fenced block"))
                pending = []
            i += 1
            continue
        indent, ticks, info = f.group(1), f.group(2), f.group(3).lower()
        j = i + 1
        while j < len(lines) and not re.match(r"^\s*" + ticks + r"\s*$", lines[j]):
            j += 1
        body = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip() for ln in lines[i + 1:j]]
        lang = LANGS.get(info)
        if lang:
            b = Block(path, i + 1, lang, "\n".join(body) + "\n")
            for line_no, kind, value in pending:
                if kind == "no-check":
                    b.skip = value or "no reason given"
                elif kind == "check-replace":
                    old, sep, new = value.partition(" => ")
                    if not sep or not old:
                        b.error = f"line {line_no}: check-replace needs 'OLD => NEW'"
                    b.replace.append((old, new))
                elif kind == "check-env":
                    for item in value.split():
                        name, sep, val = item.partition("=")
                        if not sep:
                            b.error = f"line {line_no}: check-env needs NAME=VALUE"
                        b.env[name] = val
                elif kind == "check-as":
                    b.as_ = value
            for old, new in b.replace:
                if old not in b.code:
                    b.error = b.error or f"check-replace: '{old}' does not occur in the block"
                b.code = b.code.replace(old, new)
            blocks.append(b)
        elif pending:
            blocks.append(Block(path, pending[0][0], "marker", "",
                                error=f"marker above a ```{info} block, which is never checked"))
        pending = []
        i = j + 1
    if pending:
        blocks.append(Block(path, pending[0][0], "marker", "",
                            error="marker not followed by a fenced block"))
    return blocks


# ---------------------------------------------------------------- fixtures
PY_FIXTURES = [  # (names, needs torch, code); code may use dq and np
    (("data", "qtype"), False,
     'with dq.GGUFFile("model.gguf") as _f:\n'
     '    data, qtype = _f["output.weight"].data, _f["output.weight"].type\n'),
    (("q", "k", "v"), False,
     'q, k = np.zeros((4, 144), np.uint8), np.zeros((4, 144), np.uint8)\n'
     'v = np.zeros((4, 210), np.uint8)\n'),
    (("blocks", "shape"), True,
     'import torch as _torch\n'
     'blocks = _torch.zeros(4096 * 4096 // 256 * 144, dtype=_torch.uint8)\n'
     'shape = (4096, 4096)\n'),
    (("model",), False, 'model = "model.gguf"\n'),
]

C_PRELUDE = """#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dq/dq.h>
int main(void) {
  dq_context *ctx = NULL;
  dq_model *model = NULL;
  if (dq_context_create(&ctx) != DQ_OK || dq_model_open(ctx, "model.gguf", &model) != DQ_OK) {
    fprintf(stderr, "fixture: %s\\n", ctx ? dq_last_error(ctx) : "no context");
    return 1;
  }
  {
"""
C_EPILOGUE = """  }
  dq_model_close(model);
  dq_context_destroy(ctx);
  return 0;
}
"""
C_PLUGIN_STUBS = """#include <stddef.h>
#include <stdint.h>
#include "dq/dq_plugin.h"
static int32_t my_init(void) { return DQ_OK; }
static void my_shutdown(void) {}
static int32_t my_device_count(void) { return 0; }
static int32_t my_device_props(int32_t device, dq_plugin_device_props *out) {
  (void)device; (void)out; return DQ_ERR_NO_DEVICE;
}
static int32_t my_supports(int32_t src_type, int32_t dst_type) {
  (void)src_type; (void)dst_type; return 0;
}
static int32_t my_dequantize(const dq_plugin_dequantize_args *args) {
  (void)args; return DQ_ERR_UNSUPPORTED;
}
static const char *my_last_error(void) { return ""; }
"""

RUST_FIXTURES = [  # (name, needs, code)
    ("ctx", (), "let ctx = dq::Context::new()?;"),
    ("model", ("ctx",), 'let model = dq::Model::open(&ctx, "model.gguf")?;'),
    ("q", ("model",), 'let q = model.tensor("output.weight")?;'),
    ("q_out", ("q",), "let mut q_out = vec![0f32; q.n_elements as usize];"),
    ("k", ("model",), 'let k = model.tensor("blk.0.attn_q.weight")?;'),
    ("k_out", ("k",), "let mut k_out = vec![0u16; k.n_elements as usize];"),
    ("v_ty", (), "let v_ty = dq::Type::Q8_0;"),
    ("v_src", ("ctx",), "let v_src = dq::DeviceBuffer::new(&ctx, dq::Location::host(), 34)?;"),
    ("v_dst", ("ctx",), "let mut v_dst = dq::DeviceBuffer::new(&ctx, dq::Location::host(), 128)?;"),
    ("n", (), "let n: i64 = 32;"),
]


def python_free_names(code):
    """Names the block loads but never binds (assignment, import, def, for, with, ...)."""
    tree = ast.parse(code)
    bound, loaded = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return loaded - bound


def python_imports(code):
    mods = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            mods.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mods.add(node.module.split(".")[0])
    return mods


def rust_fixture_lines(code):
    want = [n for n, _, _ in RUST_FIXTURES
            if re.search(rf"\b{n}\b", code) and not re.search(rf"\blet\s+(mut\s+)?{n}\b", code)]
    needs = {n: d for n, d, _ in RUST_FIXTURES}
    todo = set()

    def add(n):
        if n not in todo:
            todo.add(n)
            for d in needs[n]:
                add(d)
    for n in want:
        add(n)
    return [c for n, _, c in RUST_FIXTURES if n in todo]


# ---------------------------------------------------------------- running
class Runner:
    def __init__(self, args):
        self.src = Path(args.source).resolve()
        self.build = Path(args.build).resolve()
        self.testdata = Path(args.testdata).resolve()
        self.python = args.python
        self.langs = set(args.langs.split(","))
        self.verbose = args.verbose
        self.module_cache = {}
        self.failed = self.passed = self.skipped = 0

    def scratch_for(self, doc):
        name = doc.strip("/").replace("/", "_").replace(".md", "")
        d = self.build / "doc-examples" / name
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        for entry in self.src.iterdir():
            if not entry.name.startswith(".") and not entry.name.startswith("build"):
                (d / entry.name).symlink_to(entry)
        (d / "build").symlink_to(self.build)
        (d / "model.gguf").symlink_to(self.testdata / "stories260K-q4_k_m.gguf")
        plugin = (self.src / "tests/conformance/example_plugin.c").read_text()
        (d / "myaccel.c").write_text(plugin.replace('#define EXAMPLE_NAME "example"',
                                                     '#define EXAMPLE_NAME "myaccel"'))
        bindir = d / ".bin"
        bindir.mkdir()
        for name in ("python", "python3"):
            w = bindir / name
            w.write_text(f'#!/bin/sh\nexec "{self.python}" "$@"\n')
            w.chmod(0o755)
        return d

    def env(self, scratch, block):
        e = dict(os.environ)
        e["PATH"] = f"{scratch / '.bin'}:{self.build / 'bin'}:{e.get('PATH', '/usr/bin:/bin')}"
        e["PYTHONPATH"] = str(self.src / "python")
        e["DQ_LIBRARY"] = str(self.build / "lib/libdq-core.so.0")
        e["DQ_TESTDATA"] = str(self.testdata)
        e["DQ_SRC"], e["DQ_BUILD"] = str(self.src), str(self.build)
        e.update(block.env)
        return e

    def has_module(self, mod):
        if mod not in self.module_cache:
            r = subprocess.run([self.python, "-c", f"import {mod}"], capture_output=True)
            self.module_cache[mod] = r.returncode == 0
        return self.module_cache[mod]

    def run(self, cmd, scratch, block, stdin=None):
        try:
            r = subprocess.run(cmd, cwd=scratch, env=self.env(scratch, block), input=stdin,
                               capture_output=True, text=True, timeout=BLOCK_TIMEOUT)
            out = r.stdout + r.stderr
            return r.returncode, out + (f"(exit status {r.returncode})\n" if r.returncode else "")
        except subprocess.TimeoutExpired as ex:
            out = (ex.stdout or b"") + (ex.stderr or b"")
            return 124, (out.decode() if isinstance(out, bytes) else out) + \
                f"\ntimed out after {BLOCK_TIMEOUT}s"

    # Each returns (status, detail): status PASS, FAIL or SKIP.
    def do_sh(self, b, scratch):
        code, out = self.run(["bash", "-e", "-o", "pipefail", "-s"], scratch, b, stdin=b.code)
        return ("PASS" if code == 0 else "FAIL"), (out if code or self.verbose else "")

    def do_console(self, b, scratch):
        cmds, cont = [], False
        for ln in b.code.splitlines():
            if ln.startswith("$ ") or cont:
                cmds.append(ln[2:] if ln.startswith("$ ") and not cont else ln)
                cont = ln.endswith("\\")
        b.code = "\n".join(cmds) + "\n"
        return self.do_sh(b, scratch)

    def do_python(self, b, scratch):
        try:
            free = python_free_names(b.code)
            mods = python_imports(b.code)
        except SyntaxError as ex:
            return "FAIL", f"not valid Python: {ex}"
        prelude = "import numpy as np, dq\n"
        for names, torch, code in PY_FIXTURES:
            if free & set(names):
                prelude += code
                if torch:
                    mods.add("torch")
        for mod in ["numpy"] + sorted(mods & OPTIONAL_MODULES):
            if not self.has_module(mod):
                return "SKIP", f"needs {mod}, which {self.python} lacks"
        f = scratch / f"block_{b.line}.py"
        f.write_text(prelude + b.code)
        code, out = self.run([self.python, f.name], scratch, b)
        return ("PASS" if code == 0 else "FAIL"), (out if code or self.verbose else "")

    def do_c(self, b, scratch, cpp=False):
        if b.as_ == "plugin":
            source, link = C_PLUGIN_STUBS + b.code, ["-shared", "-fPIC", "-fvisibility=hidden",
                                                     "-Wl,--no-undefined"]
        elif re.search(r"\bmain\s*\(", b.code):
            source, link = b.code, None
        else:
            source, link = C_PRELUDE + b.code + C_EPILOGUE, None
        ext = "cpp" if cpp else "c"
        f = scratch / f"block_{b.line}.{ext}"
        f.write_text(source)
        exe = scratch / (f"block_{b.line}.so" if link else f"block_{b.line}")
        compiler = os.environ.get("CXX" if cpp else "CC", "c++" if cpp else "cc")
        std = "-std=c++20" if cpp else "-std=c11"
        cmd = [compiler, std, "-Wall", "-Wextra", "-Werror", f"-I{self.src / 'include'}",
               f.name, "-o", exe.name]
        if link:
            cmd += link
        else:
            cmd += [f"-L{self.build / 'lib'}", "-ldq-core", f"-Wl,-rpath,{self.build / 'lib'}"]
        code, out = self.run(cmd, scratch, b)
        if code:
            return "FAIL", f"compile: {' '.join(cmd)}\n{out}"
        if link:
            return "PASS", ""
        code, out = self.run([str(exe)], scratch, b)
        return ("PASS" if code == 0 else "FAIL"), (out if code or self.verbose else "")

    def rust_blocks(self, blocks):
        """Compiles every rust block as an example of one generated crate (one cargo call)."""
        cargo = shutil.which("cargo")
        if not cargo:
            for b in blocks:
                self.report(b, "SKIP", "cargo not found", 0)
            return
        crate = self.build / "doc-examples" / "rust"
        shutil.rmtree(crate / "examples", ignore_errors=True)
        (crate / "examples").mkdir(parents=True)
        (crate / "Cargo.toml").write_text(
            '[package]\nname = "dq-doc-examples"\nversion = "0.0.0"\nedition = "2021"\n'
            'publish = false\n\n[dependencies]\n'
            f'dq = {{ path = "{self.src / "bindings/rust/dq"}", features = ["half"] }}\n'
            'half = "1.6"\n\n[workspace]\n')
        (crate / "src").mkdir(exist_ok=True)
        (crate / "src/lib.rs").write_text("")
        names = {}
        for b in blocks:
            name = re.sub(r"\W", "_", f"{b.path}_{b.line}").lower()
            names[name] = b
            if re.search(r"\bfn\s+main\s*\(", b.code):
                body = b.code
            else:
                fixtures = "\n".join("    " + ln for ln in rust_fixture_lines(b.code))
                code = "\n".join("    " + ln for ln in b.code.splitlines())
                body = ("#![allow(unused)]\nfn main() -> Result<(), Box<dyn std::error::Error>> {\n"
                        f"{fixtures}\n{code}\n    Ok(())\n}}\n")
            (crate / "examples" / f"{name}.rs").write_text(body)
        env = dict(os.environ)
        env["DQ_LIB_DIR"] = str(self.build / "lib")
        env["CARGO_TARGET_DIR"] = str(self.build / "doc-examples" / "rust-target")
        cmd = [cargo, "check", "--offline", "--examples", "--message-format=short",
               "--config", str(self.src / "bindings/rust/.cargo/config.toml")]
        t0 = time.monotonic()
        r = subprocess.run(cmd, cwd=crate, env=env, capture_output=True, text=True)
        secs = time.monotonic() - t0
        out = r.stderr + r.stdout
        for name, b in names.items():
            mine = [ln for ln in out.splitlines() if f"examples/{name}.rs" in ln]
            if r.returncode != 0 and (mine or not any("examples/" in ln for ln in out.splitlines())):
                self.report(b, "FAIL", "\n".join(mine) if mine else out, secs)
            else:
                self.report(b, "PASS", "", secs)

    def report(self, b, status, detail, secs):
        if status == "PASS":
            self.passed += 1
        elif status == "SKIP":
            self.skipped += 1
        else:
            self.failed += 1
        extra = f": {detail}" if status == "SKIP" else ""
        print(f"{status:4}  {b.where:32} {b.lang:7} {secs:5.1f}s{extra}", flush=True)
        if status == "FAIL" or (detail and status == "PASS"):
            lines = detail.rstrip().splitlines()
            if len(lines) > 40 and not self.verbose:  # the end says what went wrong
                lines = [f"... ({len(lines) - 40} lines cut; -v prints all)"] + lines[-40:]
            print("      " + "\n      ".join(lines), flush=True)

    def check(self, docs):
        rust = []
        for doc in docs:
            path = self.src / doc
            if not path.exists():
                continue
            shown = str(path.relative_to(self.src)) if path.is_relative_to(self.src) else doc
            blocks = parse(shown, path.read_text())
            scratch = None
            doc = shown
            for b in blocks:
                if b.error:
                    self.report(b, "FAIL", b.error, 0)
                    continue
                if b.lang not in self.langs and not (b.lang == "console" and "sh" in self.langs):
                    continue
                if b.skip:
                    self.report(b, "SKIP", b.skip, 0)
                    continue
                if b.lang == "rust":
                    rust.append(b)
                    continue
                scratch = scratch or self.scratch_for(doc)
                t0 = time.monotonic()
                if b.lang == "sh":
                    status, detail = self.do_sh(b, scratch)
                elif b.lang == "console":
                    status, detail = self.do_console(b, scratch)
                elif b.lang == "python":
                    status, detail = self.do_python(b, scratch)
                else:
                    status, detail = self.do_c(b, scratch, cpp=b.lang == "cpp")
                self.report(b, status, detail, time.monotonic() - t0)
        if rust:
            self.rust_blocks(rust)


def main():
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", help="Markdown files relative to --source "
                    "(default: README.md, docs/*.md, bindings/rust/README.md, python/README.md)")
    ap.add_argument("--source", default=str(here.parent.parent), help="the source tree")
    ap.add_argument("--build", default="build", help="the build tree to check against")
    ap.add_argument("--testdata", default=None,
                    help="used when $DQ_TESTDATA is not set (default: <source>/../shared/testdata)")
    ap.add_argument("--python", default=None,
                    help="interpreter for python blocks (default: <build>/python-venv/bin/python "
                         "when it exists, else this one)")
    ap.add_argument("--langs", default="sh,console,python,c,cpp,rust",
                    help="comma-separated languages to check")
    ap.add_argument("-v", "--verbose", action="store_true", help="print passing blocks' output")
    args = ap.parse_args()
    args.testdata = os.environ.get("DQ_TESTDATA") or args.testdata or \
        str(Path(args.source) / ".." / "shared" / "testdata")
    if args.python is None:
        venv = Path(args.build) / "python-venv" / "bin" / "python"
        args.python = str(venv.absolute()) if venv.exists() else sys.executable
    if not (Path(args.testdata) / "stories260K-q4_k_m.gguf").exists():
        print(f"SKIPPED: no test data in {args.testdata} (set DQ_TESTDATA)")
        return 77
    if not (Path(args.build) / "bin" / "dq").exists():
        print(f"check_doc_examples: {args.build}/bin/dq not found: build the tree first")
        return 1
    runner = Runner(args)
    t0 = time.monotonic()
    runner.check(args.files or DEFAULT_FILES)
    print(f"doc examples: {runner.passed} passed, {runner.failed} failed, {runner.skipped} skipped "
          f"in {time.monotonic() - t0:.1f}s (python: {runner.python})")
    return 1 if runner.failed else 0


if __name__ == "__main__":
    sys.exit(main())
