"""`kcompressd scenarios [show NAME]` and `kcompressd designs [NAME] [--params]`: what can be
simulated, and the knobs (`--set design.PARAM=V`) each design takes."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from kcompressd.cli.output import emit_json, guarded_stdout, stdout

scenarios_app = typer.Typer(
    name="scenarios", invoke_without_command=True,
    help="The built-in scenarios, one line each; `scenarios show NAME` prints one's TOML.")


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


@scenarios_app.callback()
def scenarios_cmd(ctx: typer.Context, json_out: Annotated[bool, typer.Option(
        "--json", help='One JSON document: {"scenarios": [{"name", "description"}]}.')] = False,
) -> None:
    """List the built-in scenarios, one line each."""
    from kcompressd.scenarios import list_scenarios

    if ctx.invoked_subcommand is None:
        _listing("scenarios", list_scenarios(), json_out)


@scenarios_app.command("show")
def show_cmd(name: Annotated[str, typer.Argument(help="A built-in scenario.")]) -> None:
    """Print built-in scenario NAME's TOML: a starting point for a scenario file of one's own
    (`kcompressd scenarios show phone-memeater > mine.toml`)."""
    from kcompressd.scenarios import builtin_text

    guarded_stdout.write(builtin_text(name))


def _params(design: str) -> list[dict[str, Any]]:
    from kcompressd.designs import design_class

    return [{"name": k, "default": p.default, "minimum": p.minimum, "maximum": p.maximum,
             "help": p.help} for k, p in sorted(design_class(design).params.items())]


def _range(p: dict[str, Any]) -> str:
    if isinstance(p["default"], bool):
        return "true/false"
    lo = "" if p["minimum"] is None else f"{p['minimum']:g}"
    hi = "" if p["maximum"] is None else f"{p['maximum']:g}"
    return f"{lo}..{hi}"


def designs_cmd(
    name: Annotated[str | None, typer.Argument(
        metavar="NAME", help="Show this design's parameters.", show_default=False)] = None,
    params: Annotated[bool, typer.Option(
        "--params", help="Show every design's parameters.")] = False,
    json_out: Annotated[bool, typer.Option(
        "--json", help='One JSON document: {"designs": [{"name", "description"}]}, each with '
                       '"params": [{"name", "default", "minimum", "maximum", "help"}] for '
                       'NAME or --params.')] = False,
) -> None:
    """List the offload designs; with NAME or --params, their parameters and ranges.

    Set them with --set design.PARAM=V (every design of a run that has PARAM) or
    --set design.NAME.PARAM=V (design NAME only)."""
    from kcompressd.designs import design_class, list_designs

    rows = list_designs()
    if name is not None:
        design_class(name)  # an unknown name: one line listing the valid ones
        rows = [(n, d) for n, d in rows if n == name]
    elif not params:
        _listing("designs", rows, json_out)
        return
    if json_out:
        emit_json({"designs": [{"name": n, "description": d, "params": _params(n)}
                               for n, d in rows]})
        return
    for n, d in rows:
        table = Table(title=f"{n}: {d}", title_justify="left")
        for column in ("parameter", "default", "range", "meaning"):
            table.add_column(column, no_wrap=column != "meaning")
        for p in _params(n):
            table.add_row(f"design.{p['name']}", str(p["default"]).lower()
                          if isinstance(p["default"], bool) else f"{p['default']:g}",
                          _range(p), p["help"])
        if not table.rows:
            table.add_row("—", "", "", "takes no parameters")
        stdout.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(scenarios_app)
    app.command("designs")(designs_cmd)
