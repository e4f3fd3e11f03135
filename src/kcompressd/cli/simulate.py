"""`kcompressd simulate`: the simulator's front.

Everything is checked (designs, --set keys, ranges, output paths) before the first run, and
output files are written only after every run finished, all together, so an error leaves
nothing behind. The result records the scenario as it ran (--duration and every --set in it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from kcompressd.cli.numbers import finite
from kcompressd.cli.output import emit_json, note, stderr, stdout
from kcompressd.cli.tables import comparison_tables, ratios, result_table
from kcompressd.errors import KcompressdError
from kcompressd.outfile import atomic_outputs, check_writable

DEFAULT_SCENARIO = "phone-memeater"
DEFAULT_COMPARE = ("none", "kcompressd-v1", "kcompressd-v2")
SEED_NOTE = ("note: one seed; tail latencies (stall p99, max) vary from seed to seed: "
             "--seeds 0-4 shows mean and spread")

SIMULATE_HELP = f"""Simulate reclaim on SCENARIO with one design or several side by side.

SCENARIO is a built-in name (`kcompressd scenarios`) or a TOML file; default {DEFAULT_SCENARIO}.
Without --design or --compare the scenario's own `[design] name` runs; a scenario that names
none (the built-ins) runs {", ".join(DEFAULT_COMPARE)} side by side.

--set design.PARAM=V applies to every design of the run that has PARAM (a note says which);
design.NAME.PARAM=V to design NAME only. `kcompressd designs NAME` lists a design's parameters.

--json prints one document: with --design and one seed, the result itself (keys vmstat, rates,
cpu, latency, zram, workload, scenario, meta); otherwise a comparison
{{"scenario": NAME, "seed": N, "seeds": [N, ...], "designs": [D1, D2, ...], "baseline": D1,
"results": {{D: result}}, "ratios": {{D: {{section: {{key: D/D1 or null when D1 is 0}}}}}}}}
with ratios for every design after the first (CPU as utilisation). With several seeds each
result is the mean over the seeds, and the document adds "spread" {{D: {{section: {{key:
{{min, max, stdev}}}}}}}} and "per_seed" {{D: [result per seed]}}.

--trace and --plot take one file name; when several designs run, each gets its own file with
the design name added before the suffix (trace.json -> trace-kcompressd-v1.json). With several
seeds they show the first seed's run. Devices and FIFOs (/dev/null, /dev/stdout) are written
in place, symlinks are followed."""


def output_paths(path: Path | None, designs: list[str], comparison: bool) -> dict[str, Path]:
    """design -> output file; a comparison suffixes each file with its design's name."""
    if path is None:
        return {}
    if not comparison:
        return {designs[0]: path}
    return {d: path.with_name(f"{path.stem}-{d}{path.suffix}") for d in designs}


def resolve_designs(design: str | None, compare: str | None, named: str | None,
                    valid: list[str]) -> tuple[list[str], bool]:
    """(designs to run, whether this is a comparison), names checked against `valid`;
    `named` is the scenario's own design, run when neither option is given."""
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
    elif named is not None:
        designs, comparison = [named], False
    else:
        designs, comparison = list(DEFAULT_COMPARE), True
    for d in designs:
        if d not in valid:
            raise KcompressdError(f"unknown design {d!r} (valid: {', '.join(valid)})")
    return designs, comparison


def _check_design_params(sc: Any, designs: list[str], comparison: bool) -> list[str]:
    """Every design's parameters checked before any run; notes on design.PARAM that only
    some designs of a comparison take."""
    targets = sc.generic_targets(designs)
    for d in designs:
        sc.design_params(d)
    notes = []
    for key, takers in targets.items():
        if comparison and len(takers) < len(designs):
            others = [d for d in designs if d not in takers]
            notes.append(f"note: design.{key} applies to {', '.join(takers)}; "
                         f"{', '.join(others)} {'has' if len(others) == 1 else 'have'} no "
                         f"such parameter (design.NAME.{key} sets one design)")
    return notes


def _outputs(trace: Path | None, plot: Path | None, designs: list[str],
             comparison: bool) -> tuple[dict[str, Path], dict[str, tuple[Path, str]]]:
    """Checked output files: design -> trace path, design -> (figure path, format)."""
    from kcompressd.plot import check_figure_path

    for given in (trace, plot):
        if given is not None and given.is_dir():
            raise KcompressdError(f"{given}: is a directory")
    traces = output_paths(trace, designs, comparison)
    for p in traces.values():
        check_writable(p)
    plots = {d: (p, check_figure_path(p))
             for d, p in output_paths(plot, designs, comparison).items()}
    if trace is not None and plot is not None and trace.resolve() == plot.resolve():
        raise KcompressdError(f"{trace}: --trace and --plot name the same file")
    return traces, plots


def _title(name: str, overrides: list[str], seeds: list[int]) -> str:
    seed = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {_seed_text(seeds)}"
    changed = f" ({', '.join(overrides)})" if overrides else ""
    return f"{name}{changed} · {seed}"


def _seed_text(seeds: list[int]) -> str:
    contiguous = seeds == list(range(seeds[0], seeds[0] + len(seeds)))
    return f"{seeds[0]}-{seeds[-1]}" if contiguous else ",".join(map(str, seeds))


def simulate_cmd(
    scenario: Annotated[str, typer.Argument(metavar="SCENARIO",
                                            help="Built-in scenario name or TOML file.",
                                            show_default=True)] = DEFAULT_SCENARIO,
    design: Annotated[str | None, typer.Option("--design", "-d",
                                               help="Run this one design.")] = None,
    sets: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE",
        help="Override a scenario field (dotted key), repeatable; design.PARAM for every "
             "design that has PARAM, design.NAME.PARAM for one design."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same result.")] = 0,
    seeds: Annotated[str | None, typer.Option(
        metavar="0-4|1,5,9", help="Run every design on each of these seeds; show mean and "
                                  "spread.")] = None,
    duration: Annotated[float | None, typer.Option(
        help="Simulated seconds (default: the scenario's run.duration_s).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    compare: Annotated[str | None, typer.Option(
        metavar="D1,D2,...", help="Run these designs side by side, ratios to the first.")] = None,
    trace: Annotated[Path | None, typer.Option(
        metavar="FILE.json", help="Write a Perfetto/Chrome trace (ui.perfetto.dev).")] = None,
    plot: Annotated[Path | None, typer.Option(
        metavar="FILE.png", help="Draw the timeline as a figure.")] = None,
) -> None:
    from kcompressd.designs import list_designs
    from kcompressd.scenarios import load_scenario
    from kcompressd.seeds import parse_seeds

    for given in (trace, plot):  # first of all: an unwritable path fails at once
        if given is not None:
            check_writable(given)
    if seeds is not None and seed != 0:
        raise KcompressdError("--seed and --seeds exclude each other")
    seed_list = parse_seeds(seeds) if seeds is not None else [seed]
    if seed < 0:
        raise KcompressdError(f"--seed {seed}: must be >= 0")
    overrides = list(sets or ())
    if duration is not None:
        finite("--duration", duration, above=0)
        overrides.append(f"run.duration_s={duration!r}")
    # With --design, design.* overrides are that design's parameters: name it first so the
    # scenario checks them against it.
    named = [f'design.name="{design.strip()}"'] if design is not None else []
    sc = load_scenario(scenario, [*named, *overrides])
    designs, comparison = resolve_designs(design, compare, sc.named_design,
                                          [n for n, _ in list_designs()])
    notes = _check_design_params(sc, designs, comparison)
    traces, plots = _outputs(trace, plot, designs, comparison)
    shown = [*(sets or ()), *([f"--duration {duration:g}"] if duration is not None else [])]
    for text in notes:
        note(text)

    runs = _run_all(sc, designs, seed_list, timeline=bool(traces or plots))
    per_seed = {d: [r.result for r in rs] for d, rs in runs.items()}
    for rs in per_seed.values():
        for r in rs:
            r["meta"]["overrides"] = shown
    warnings = sorted({w for rs in per_seed.values() for r in rs
                       for w in r["meta"].get("warnings", [])})
    for w in warnings:
        note(f"warning: {w}")
    _write_outputs(runs, traces, plots, _title(sc.name, shown, seed_list[:1]))
    if len(seed_list) == 1:
        note(SEED_NOTE)

    title = _title(sc.name, shown, seed_list)
    caption = "\n".join(f"warning: {w}" for w in warnings)
    if len(seed_list) == 1 and not comparison:
        result = per_seed[designs[0]][0]
        if json_out:
            emit_json(result)
        else:
            stdout.print(result_table(result, f"{title} · {designs[0]}", caption))
        return
    if json_out:
        emit_json(_comparison_doc(sc.name, seed_list, designs, per_seed))
        return
    for table in comparison_tables(per_seed, f"{title} · ratios to {designs[0]}",
                                   stdout.width, caption):
        stdout.print(table)


def _run_all(sc: Any, designs: list[str], seeds: list[int],
             timeline: bool) -> dict[str, list[Any]]:
    """design -> its runs, one per seed (the first seed's with a timeline when asked)."""
    from kcompressd.sim.run import simulate

    runs: dict[str, list[Any]] = {d: [] for d in designs}
    total, i = len(designs) * len(seeds), 0
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=stderr, transient=True, disable=not stderr.is_terminal) as progress:
        for s in seeds:
            for d in designs:
                i += 1
                task = progress.add_task(f"simulating {sc.name} with {d}, seed {s} "
                                         f"({i}/{total})")
                run = simulate(sc, design=d, seed=s, timeline=timeline and s == seeds[0])
                runs[d].append(run)
                progress.remove_task(task)
                meta = run.result["meta"]
                note(f"{d} seed {s}: {meta.get('simulated_seconds', 0):.3g} simulated s in "
                     f"{meta.get('wall_seconds', 0):.3g} wall s")
    return runs


def _write_outputs(runs: dict[str, list[Any]], traces: dict[str, Path],
                   plots: dict[str, tuple[Path, str]], title: str) -> None:
    """Every trace and figure, renamed into place together once all are written."""
    from kcompressd.plot import timeline_figure
    from kcompressd.trace import perfetto_json

    jobs = [(p, "trace", d, "") for d, p in traces.items()]
    jobs += [(p, "plot", d, fmt) for d, (p, fmt) in plots.items()]
    if not jobs:
        return
    with atomic_outputs([p for p, *_ in jobs]) as files:
        for out, (path, kind, d, fmt) in zip(files, jobs, strict=True):
            timeline = runs[d][0].timeline
            try:
                if kind == "trace":
                    out.write_text(perfetto_json(timeline, process=d))
                elif not timeline.counters and not timeline.slices:
                    raise KcompressdError(f"{path}: the timeline is empty, nothing to plot")
                else:
                    figure = timeline_figure(timeline, f"{title} · {d}")
                    figure.savefig(out, format=fmt, dpi=100)
            except OSError as e:
                raise KcompressdError(f"{path}: cannot write ({e.strerror})") from None
    for p, *_ in jobs:
        note(f"wrote {p}")


def _comparison_doc(name: str, seeds: list[int], designs: list[str],
                    per_seed: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    from kcompressd.seeds import mean_result, spread_of

    several = len(seeds) > 1
    results = {d: mean_result(rs) if several else rs[0] for d, rs in per_seed.items()}
    first = results[designs[0]]
    doc: dict[str, Any] = {"scenario": name, "seed": seeds[0], "seeds": seeds,
                           "designs": designs, "baseline": designs[0], "results": results,
                           "ratios": {d: ratios(first, results[d]) for d in designs[1:]}}
    if several:
        doc["spread"] = {d: spread_of(rs) for d, rs in per_seed.items()}
        doc["per_seed"] = per_seed
    return doc


def register(app: typer.Typer) -> None:
    from kcompressd.cli import listings

    app.command("simulate", help=SIMULATE_HELP)(simulate_cmd)
    listings.register(app)
