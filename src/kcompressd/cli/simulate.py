"""`kcompressd simulate`, `kcompressd scenarios`, `kcompressd designs`: the simulator's front.

Everything is checked (designs, --set keys, ranges, output paths) before the first run, and
output files are written only after every run finished, so an error leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from kcompressd.cli.output import emit_json, stderr, stdout
from kcompressd.cli.tables import comparison_tables, ratios, result_table
from kcompressd.errors import KcompressdError
from kcompressd.outfile import check_writable

DEFAULT_SCENARIO = "phone-memeater"
DEFAULT_COMPARE = ("none", "kcompressd-v1", "kcompressd-v2")

SIMULATE_HELP = f"""Simulate reclaim on SCENARIO with one design or several side by side.

SCENARIO is a built-in name (`kcompressd scenarios`) or a TOML file; default {DEFAULT_SCENARIO}.
Without --design or --compare the designs {", ".join(DEFAULT_COMPARE)} run side by side.

--json prints one document: with --design, the result itself (keys vmstat, rates, cpu,
latency, zram, workload, scenario, meta); otherwise a comparison
{{"scenario": NAME, "seed": N, "designs": [D1, D2, ...], "baseline": D1,
"results": {{D: result}}, "ratios": {{D: {{section: {{key: D/D1 or null when D1 is 0}}}}}}}}
with ratios for every design after the first.

--trace and --plot take one file name; when several designs run, each gets its own file with
the design name added before the suffix (trace.json -> trace-kcompressd-v1.json)."""


def output_paths(path: Path | None, designs: list[str], comparison: bool) -> dict[str, Path]:
    """design -> output file; a comparison suffixes each file with its design's name."""
    if path is None:
        return {}
    if not comparison:
        return {designs[0]: path}
    return {d: path.with_name(f"{path.stem}-{d}{path.suffix}") for d in designs}


def resolve_designs(design: str | None, compare: str | None,
                    valid: list[str]) -> tuple[list[str], bool]:
    """(designs to run, whether this is a comparison), names checked against `valid`."""
    if design is not None and compare is not None:
        raise KcompressdError("--design and --compare exclude each other")
    if design is not None:
        designs, comparison = [design.strip()], False
    elif compare is not None:
        designs, comparison = [d.strip() for d in compare.split(",")], True
        if "" in designs:
            raise KcompressdError(f"--compare {compare!r}: empty design name")
        if len(set(designs)) != len(designs):
            raise KcompressdError(f"--compare {compare!r}: a design is named twice")
    else:
        designs, comparison = list(DEFAULT_COMPARE), True
    for d in designs:
        if d not in valid:
            raise KcompressdError(f"unknown design {d!r} (valid: {', '.join(valid)})")
    return designs, comparison


def write_all(writers: list[tuple[Path, Callable[[], None]]]) -> None:
    """Run each writer; if one fails, remove the files the others already wrote."""
    done: list[Path] = []
    try:
        for path, write in writers:
            write()
            done.append(path)
    except BaseException:
        for p in done:
            p.unlink(missing_ok=True)
        raise


def simulate_cmd(
    scenario: Annotated[str, typer.Argument(metavar="SCENARIO",
                                            help="Built-in scenario name or TOML file.",
                                            show_default=True)] = DEFAULT_SCENARIO,
    design: Annotated[str | None, typer.Option("--design", "-d",
                                               help="Run this one design.")] = None,
    sets: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE",
        help="Override a scenario field (dotted key), repeatable; design.PARAM for --design's "
             "parameters, design.NAME.PARAM for one design of a comparison."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same result.")] = 0,
    duration: Annotated[float | None, typer.Option(
        help="Simulated seconds (default: the scenario's).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    compare: Annotated[str | None, typer.Option(
        metavar="D1,D2,...", help="Run these designs side by side, ratios to the first.")] = None,
    trace: Annotated[Path | None, typer.Option(
        metavar="FILE.json", help="Write a Perfetto/Chrome trace (ui.perfetto.dev).")] = None,
    plot: Annotated[Path | None, typer.Option(
        metavar="FILE.png", help="Draw the timeline as a figure.")] = None,
) -> None:
    from kcompressd.designs import list_designs
    from kcompressd.plot import check_figure_path, plot_timeline
    from kcompressd.scenarios import load_scenario
    from kcompressd.sim.run import simulate
    from kcompressd.trace import write_perfetto

    designs, comparison = resolve_designs(design, compare, [n for n, _ in list_designs()])
    if seed < 0:
        raise KcompressdError(f"--seed {seed}: must be >= 0")
    if duration is not None and not duration > 0:
        raise KcompressdError(f"--duration {duration}: must be > 0 seconds")
    for given in (trace, plot):
        if given is not None and given.is_dir():
            raise KcompressdError(f"{given}: is a directory")
    traces = output_paths(trace, designs, comparison)
    plots = output_paths(plot, designs, comparison)
    for p in traces.values():
        check_writable(p)
    for p in plots.values():
        check_writable(p)
        check_figure_path(p)
    if trace is not None and plot is not None and trace.resolve() == plot.resolve():
        raise KcompressdError(f"{trace}: --trace and --plot name the same file")
    # With --design, design.* overrides are that design's parameters: name it first so the
    # scenario checks them against it, not against the scenario file's own design.
    overrides = [f"design.name={design.strip()}"] if design is not None else []
    sc = load_scenario(scenario, [*overrides, *(sets or ())])

    runs: dict[str, Any] = {}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=stderr, transient=True, disable=not stderr.is_terminal) as progress:
        for i, d in enumerate(designs, 1):
            task = progress.add_task(f"simulating {sc.name} with {d} ({i}/{len(designs)})")
            runs[d] = simulate(sc, design=d, seed=seed, duration=duration,
                               timeline=bool(traces or plots))
            progress.remove_task(task)
            meta = runs[d].result["meta"]
            stderr.print(f"{d}: {meta.get('simulated_seconds', 0):.3g} simulated s in "
                         f"{meta.get('wall_seconds', 0):.3g} wall s", highlight=False)

    writers: list[tuple[Path, Callable[[], None]]] = []
    for d, p in traces.items():
        writers.append((p, lambda d=d, p=p: write_perfetto(runs[d].timeline, p, process=d)))
    for d, p in plots.items():
        writers.append((p, lambda d=d, p=p: plot_timeline(
            runs[d].timeline, p, f"{sc.name} · {d} · seed {seed}")))
    write_all(writers)
    for p, _ in writers:
        stderr.print(f"wrote {p}", highlight=False)

    results = {d: run.result for d, run in runs.items()}
    if not comparison:
        if json_out:
            emit_json(results[designs[0]])
        else:
            stdout.print(result_table(results[designs[0]],
                                      f"{sc.name} · {designs[0]} · seed {seed}"))
        return
    first = results[designs[0]]
    if json_out:
        emit_json({"scenario": sc.name, "seed": seed, "designs": designs,
                   "baseline": designs[0], "results": results,
                   "ratios": {d: ratios(first, results[d]) for d in designs[1:]}})
    else:
        for table in comparison_tables(results, f"{sc.name} · seed {seed} · ratios to "
                                                f"{designs[0]}", stdout.width):
            stdout.print(table)


def _listing(kind: str, rows: list[tuple[str, str]], json_out: bool) -> None:
    if json_out:
        emit_json({kind: [{"name": n, "description": d} for n, d in rows]})
        return
    table = Table(title=kind, title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("description")
    for n, d in rows:
        table.add_row(n, d)
    stdout.print(table)


def scenarios_cmd(json_out: Annotated[bool, typer.Option(
        "--json", help='One JSON document: {"scenarios": [{"name", "description"}]}.')] = False,
) -> None:
    """List the built-in scenarios, one line each."""
    from kcompressd.scenarios import list_scenarios

    _listing("scenarios", list_scenarios(), json_out)


def designs_cmd(json_out: Annotated[bool, typer.Option(
        "--json", help='One JSON document: {"designs": [{"name", "description"}]}.')] = False,
) -> None:
    """List the offload designs, one line each."""
    from kcompressd.designs import list_designs

    _listing("designs", list_designs(), json_out)


def register(app: typer.Typer) -> None:
    app.command("simulate", help=SIMULATE_HELP)(simulate_cmd)
    app.command("scenarios")(scenarios_cmd)
    app.command("designs")(designs_cmd)
