"""Execute notebooks headless with Debian's Jupyter (nbclient) and save them
with their outputs, without execution timestamps, so that a rebuild on the
same lake changes nothing. A notebook stops at the first cell that raises;
the others still run, and the exit status is 1. With --out, a failed
notebook is written too, its error in the cell's output; in place it is
not, so the committed outputs stay.

The notebooks are independent, so --jobs of them run at once, each in its
own kernel (most of a notebook's time is its kernel starting, importing
pandas and matplotlib, and drawing).

    /usr/bin/python3 notebooks/run.py [--out DIR] [--jobs N] NOTEBOOK...
"""

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

# The kernel's debugger warns about frozen modules on every start.
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def coalesce_streams(outputs):
    """Merge consecutive stream outputs of the same stream: how the kernel
    splits a cell's prints depends on timing, and the saved notebook must
    not."""
    merged = []
    for o in outputs:
        if o.output_type == "stream" and merged and merged[-1].output_type == "stream" and merged[-1].name == o.name:
            merged[-1].text += o.text
        else:
            merged.append(o)
    return merged


def run_one(name, out, timeout):
    """Execute one notebook and write it; (ok, seconds, error text)."""
    path = Path(name)
    nb = nbformat.read(path, as_version=4)
    # The notebooks import lake.py from their own folder.
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    t0 = time.monotonic()
    err = None
    try:
        try:
            client.execute()
        except RuntimeError as e:
            # Kernels started side by side pick their ports, then bind
            # them: two can pick the same one ("Kernel died before
            # replying to kernel_info", ZMQError address in use). Such a
            # kernel ran no cell: start it once more.
            if "Kernel died" not in str(e):
                raise
            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(
                nb, timeout=timeout, kernel_name="python3", record_timing=False,
                resources={"metadata": {"path": str(path.parent.resolve())}},
            )
            client.execute()
    except CellExecutionError as e:
        err = str(e)
        if not out:
            return False, time.monotonic() - t0, err  # keep the committed outputs
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, Path(out) / path.name if out else path)
    return err is None, time.monotonic() - t0, err


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="directory for the executed notebooks (default: in place)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds a cell may run")
    ap.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, 4), help="notebooks run at once (default: the CPUs, at most 4)")
    ap.add_argument("notebooks", nargs="+")
    args = ap.parse_args()
    failed = []
    with ProcessPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        runs = [(n, pool.submit(run_one, n, args.out, args.timeout)) for n in args.notebooks]
        for name, fut in runs:
            ok, secs, err = fut.result()
            if ok:
                print(f"ran {name} in {secs:.1f}s", file=sys.stderr, flush=True)
            else:
                print(f"{name}: {err}\n{name}: failed after {secs:.1f}s", file=sys.stderr, flush=True)
                failed.append(Path(name).name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
