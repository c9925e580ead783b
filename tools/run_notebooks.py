"""Run the notebooks headless: check that every cell runs, or save them with their outputs.

    python tools/run_notebooks.py                     # check every notebooks/*.ipynb
    python tools/run_notebooks.py --write             # ... and save each one executed
    python tools/run_notebooks.py 02-worked-example   # only these (name, file or path)

Each notebook runs in a fresh ``python3`` kernel with its own folder as the
working directory. A notebook that fails is reported on one line (which cell,
which exception) and is never written. Without ``--write``, a notebook whose
saved outputs are not what it shows now is reported as stale, on one line
naming the first cell that differs. The exit status is 1 if any failed or is
stale, 2 for a name that is not a notebook. The outputs are tidied so that
running an unchanged notebook again gives the same file.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TIMEOUT = 300  # seconds per cell; the slowest cell (training) takes a few

try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    from autograd_mini.files import write_atomic
except ImportError as e:  # the dev extras are missing: say what to install, no traceback
    sys.exit(f"run_notebooks: {e.name} is not installed; install the dev extras: "
             "pip install -e '.[dev]'")


class NotebookError(Exception):
    """A notebook failed to run; the message is one line naming the notebook and cell."""


def notebook_paths(names: Sequence[str] = ()) -> list[Path]:
    """The notebooks to run: all of notebooks/*.ipynb, or the ones named, in order.

    A name is a file stem ("01-quickstart"), a file name, or a path to a notebook.

    >>> [p.name for p in notebook_paths(["01-quickstart"])]
    ['01-quickstart.ipynb']
    """
    if not names:
        return sorted(NOTEBOOKS.glob("*.ipynb"))
    paths = []
    for name in names:
        candidates = [Path(name), NOTEBOOKS / name, NOTEBOOKS / f"{name}.ipynb"]
        found = next((p for p in candidates if p.suffix == ".ipynb" and p.is_file()), None)
        if found is None:
            have = ", ".join(p.stem for p in sorted(NOTEBOOKS.glob("*.ipynb"))) or "none"
            raise ValueError(f"no notebook {name!r} (notebooks/ has: {have})")
        paths.append(found.resolve())
    return paths


def _shown(path: Path) -> str:
    """The path as the user would type it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def execute(path: str | os.PathLike, timeout: int = TIMEOUT) -> nbformat.NotebookNode:
    """Run every cell of the notebook at ``path`` in a fresh kernel; return it with outputs.

    Raises ``NotebookError`` with a one-line message if the notebook cannot be
    read or a cell raises, times out, or kills the kernel. The file is not changed.
    For example ``execute(NOTEBOOKS / "01-quickstart.ipynb").cells[1].outputs``.
    """
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError) as e:  # nbformat's read errors are ValueErrors
        raise NotebookError(f"{_shown(path)}: cannot read the notebook: {e}") from None
    current = {"index": -1}

    def started(cell: object, cell_index: int, **_: object) -> None:
        current["index"] = cell_index

    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(path.resolve().parent)}},
        on_cell_start=started,
        # The kernel's own log goes to our stderr: keep its errors, drop its
        # warnings (it warns on every start that it listens on local TCP ports).
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError, RuntimeError) as e:
        raise NotebookError(f"{_shown(path)}: {_where(nb, current['index'])}: "
                            f"{_reason(e, timeout)}") from None
    _tidy(nb)
    return nb


_ADDRESS = re.compile(r"(<[^<>\n]*) at 0x[0-9a-fA-F]+>")


def _tidy(nb: nbformat.NotebookNode) -> None:
    """Make the outputs the same on every run of an unchanged notebook.

    The kernel sends printed text in pieces as it flushes, so one cell's output
    can be split at different places on different runs: consecutive pieces of
    the same stream are joined. A default repr carries a memory address
    ('<Digraph at 0x7f...>'), which is dropped ('<Digraph>').
    """
    for cell in nb.cells:
        merged: list[nbformat.NotebookNode] = []
        for out in cell.get("outputs", []):
            last = merged[-1] if merged else None
            if (out.output_type == "stream" and last is not None
                    and last.output_type == "stream" and last.name == out.name):
                last.text += out.text
                continue
            text = out.get("data", {}).get("text/plain")
            if text:
                out.data["text/plain"] = _ADDRESS.sub(r"\1>", text)
            merged.append(out)
        if cell.cell_type == "code":
            cell.outputs = merged


# Markup (SVG, HTML) is compared by its text: the words and numbers a reader sees.
# Coordinates, ids and the "Generated by graphviz version ..." comment depend on
# the Graphviz installed, not on the notebook.
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TITLE = re.compile(r"<title>.*?</title>", re.S)
_TAG = re.compile(r"<[^<>]*>")
_BINARY = ("image/png", "image/jpeg", "image/gif")  # pixels differ with the library versions


def shown(nb: nbformat.NotebookNode) -> list[list[str]]:
    """What each code cell shows, as text that a run on another machine reproduces.

    Printed text and plain-text results as they are; SVG and HTML by the text in
    them; a PNG only by its kind. For example ``[["stdout: 42\\n"], ["image/png"]]``.
    """
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        seen = []
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                seen.append(f"{out.name}: {out.text}")
            elif out.output_type == "error":
                seen.append(f"error: {out.ename}: {out.evalue}")
            for mime, data in sorted(out.get("data", {}).items()):
                text = data if isinstance(data, str) else "".join(data)
                if mime in _BINARY:
                    seen.append(mime)
                elif mime in ("image/svg+xml", "text/html"):
                    text = _TAG.sub(" ", _TITLE.sub("", _COMMENT.sub("", text)))
                    seen.append(f"{mime}: {' '.join(html.unescape(text).split())}")
                else:
                    seen.append(f"{mime}: {text}")
        cells.append(seen)
    return cells


def differences(saved: nbformat.NotebookNode, now: nbformat.NotebookNode) -> str:
    """'' if ``now`` shows what ``saved`` does; else one line naming the first cell that differs.

    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("6 * 7")])
    >>> differences(nb, nb)
    ''
    """
    code = [c for c in saved.cells if c.cell_type == "code"]
    old, new = shown(saved), shown(now)
    if len(old) != len(new):
        return f"{len(old)} code cells saved, {len(new)} now"
    changed = [k for k, (a, b) in enumerate(zip(old, new)) if a != b]
    if not changed:
        return ""
    k = changed[0]
    a, b = "\n".join(old[k]), "\n".join(new[k])
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    start = max(0, at - 20)
    more = f" (and {len(changed) - 1} more cells)" if len(changed) > 1 else ""
    where = _where(saved, saved.cells.index(code[k]))
    return (f"{where} shows something else now: saved {a[start:at + 40]!r}, "
            f"now {b[start:at + 40]!r}{more}")


def _where(nb: nbformat.NotebookNode, index: int) -> str:
    """The failing cell and its first line: cell 7 of 20 ('x = f(1)')."""
    if not 0 <= index < len(nb.cells):
        return "starting the kernel"
    first = next((line for line in nb.cells[index].source.splitlines() if line.strip()), "")
    if len(first) > 60:
        first = first[:57] + "..."
    return f"cell {index + 1} of {len(nb.cells)} ({first!r})"


def _reason(e: Exception, timeout: int) -> str:
    if isinstance(e, CellExecutionError):
        lines = e.evalue.strip().splitlines() or [""]
        more = " (...)" if len(lines) > 1 else ""  # the report stays one line per notebook
        return f"{e.ename}: {lines[0]}".rstrip(": ") + more
    if isinstance(e, CellTimeoutError):
        return f"still running after {timeout} s (the per-cell timeout)"
    if isinstance(e, DeadKernelError):
        return "the kernel died (out of memory, or a crash in native code)"
    return f"the kernel failed: {e}"  # e.g. it did not start


def write(nb: nbformat.NotebookNode, path: str | os.PathLike) -> None:
    """Save ``nb`` to ``path`` atomically: a temporary file beside it, then a rename."""
    text = nbformat.writes(nb)
    write_atomic(path, text if text.endswith("\n") else text + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the notebooks; 0 if all ran (and are current), 1 if not, 2 for an unknown name."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all)")
    parser.add_argument("--write", action="store_true", help="save each notebook executed")
    parser.add_argument("--timeout", type=int, default=TIMEOUT, help="seconds per cell")
    args = parser.parse_args(argv)
    try:
        paths = notebook_paths(args.names)
    except ValueError as e:
        print(f"run_notebooks: {e}", file=sys.stderr)
        return 2
    if not paths:
        print(f"run_notebooks: no notebooks in {_shown(NOTEBOOKS)}", file=sys.stderr)
        return 2
    failed = 0
    for path in paths:
        try:
            nb = execute(path, args.timeout)
        except NotebookError as e:
            print(f"FAILED {e}", file=sys.stderr)
            failed += 1
            continue
        if args.write:
            write(nb, path)
        else:
            stale = differences(nbformat.read(path, as_version=4), nb)
            if stale:
                print(f"STALE {_shown(path)}: {stale} (run `make notebooks`)", file=sys.stderr)
                failed += 1
                continue
        print(f"{'wrote' if args.write else 'ok'} {_shown(path)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
