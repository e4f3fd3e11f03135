"""`kcompressd report`: sweep databases and result JSON files to DIR/index.html."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kcompressd.cli.output import emit_json, stderr, stdout

REPORT_HELP = """Write DIR/index.html: one self-contained page (figures inline as SVG, no
network) from sweep databases and result JSON files (`simulate --json`, `bench --json`).

Findings first (where offloading wins and what it costs, computed from the runs), then per
scenario the designs side by side, ratios to the baseline, and every metric against every
swept parameter with the spread over seeds; measured rows are marked apart. DIR also gets
summary.json (the findings as data) and figures/*.svg. An existing DIR is replaced only if it
is an earlier report.

--json prints {"index", "runs", "ok", "failed", "measured", "scenarios", "findings",
"comparisons", "figures", "inputs"}."""


def report_cmd(
    inputs: Annotated[list[Path], typer.Argument(
        metavar="RESULTS.sqlite [more.sqlite | result.json ...]",
        help="Sweep databases and result JSON files.")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR",
                                      help="Report directory.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    from kcompressd.errors import KcompressdError
    from kcompressd.report.build import build
    from kcompressd.report.load import load_inputs
    from kcompressd.report.write import check_out_dir, write_dir

    check_out_dir(out)
    rows = load_inputs(inputs)
    if not rows:
        raise KcompressdError(f"{', '.join(map(str, inputs))}: no runs to report")
    files, summary = build(rows, [str(p) for p in inputs])
    write_dir(out, files)
    index = out / "index.html"
    stderr.print(f"wrote {index} ({summary['runs']} runs, {len(summary['figures'])} figures)",
                 highlight=False)
    if json_out:
        emit_json({"index": str(index), **summary})
    else:
        for f in summary["findings"]:
            stdout.print(f"• {f['text']}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("report", help=REPORT_HELP)(report_cmd)
