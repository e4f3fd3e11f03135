"""Output conventions: exactly one JSON document on stdout with --json; everything else on
stderr or as rich tables on stdout."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

stderr = Console(stderr=True)
stdout = Console()


def emit_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()
