"""Run the notebooks headless: check that every cell runs, or save them with their outputs.

    python tools/run_notebooks.py                     # check every notebooks/*.ipynb
    python tools/run_notebooks.py --write             # ... and save each one executed
    python tools/run_notebooks.py 02-worked-example   # only these (name, file or path)

Each notebook runs in a fresh ``python3`` kernel with its own folder as the
working directory. A notebook that fails is reported on one line (which cell,
which exception) and is never written; the exit status is 1 if any failed,
2 for a name that is not a notebook. The outputs are tidied so that running an
unchanged notebook again gives the same file.
"""

from __future__ import annotations

import argparse
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
    """Run the notebooks; 0 if all ran, 1 if any failed, 2 for an unknown name."""
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
        print(f"{'wrote' if args.write else 'ok'} {_shown(path)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
