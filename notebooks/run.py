"""Execute notebooks headless with Debian's Jupyter (nbclient) and save them
with their outputs, without execution timestamps, so that a rebuild on the
same lake changes nothing. A notebook stops at the first cell that raises;
the others still run, and the exit status is 1. With --out, a failed
notebook is written too, its error in the cell's output; in place it is
not, so the committed outputs stay.

    /usr/bin/python3 notebooks/run.py [--out DIR] NOTEBOOK...
"""

import argparse
import os
import sys
from pathlib import Path

import nbformat

# The kernel's debugger warns about frozen modules on every start.
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="directory for the executed notebooks (default: in place)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds a cell may run")
    ap.add_argument("notebooks", nargs="+")
    args = ap.parse_args()
    failed = []
    for name in args.notebooks:
        path = Path(name)
        nb = nbformat.read(path, as_version=4)
        # The notebooks import lake.py from their own folder.
        client = NotebookClient(
            nb, timeout=args.timeout, kernel_name="python3", record_timing=False,
            resources={"metadata": {"path": str(path.parent.resolve())}},
        )
        print(f"run {path}", file=sys.stderr, flush=True)
        try:
            client.execute()
        except CellExecutionError as e:
            print(f"{path}: {e}", file=sys.stderr)
            failed.append(path.name)
            if not args.out:
                continue  # keep the committed outputs; the error is above
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
        nb.metadata.pop("widgets", None)
        dest = Path(args.out) / path.name if args.out else path
        nbformat.write(nb, dest)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
