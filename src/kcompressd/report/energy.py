"""Energy from CPU busy time on big and little cores: an estimate, with its assumptions.

Model: the Linux Energy Model's dynamic power of a busy core, P = C * V^2 * f (C in uW/MHz/V^2,
V in volts, f in MHz; Documentation/devicetree/bindings/arm/cpus.yaml,
`dynamic-power-coefficient`), with the coefficients and the top operating point of MediaTek's
MT8183 in mainline Linux (arch/arm64/boot/dts/mediatek/mt8183.dtsi): Cortex-A73 big cores
C = 211, Cortex-A53 little cores C = 84, both clusters at 1989 MHz and 1.05 V (the scenarios'
phone runs at fixed frequency). These are taken as published, never fitted to anything here.

Assumptions, each stated where the report shows energy:
- Only busy time costs energy (idle, cluster, memory and uncore power are left out), so the
  figure compares designs' CPU work, it is not a battery drain.
- Busy time per core is the simulator's own (`meta.busy_seconds_per_cpu`, big cores first).
  Results made before it recorded that give CPU seconds per thread only: their busy time is
  packed onto the big cores first (the scheduler prefers an idle big core), the rest charged
  to the little cores.
- Reclaim energy is reclaim CPU seconds at the run's mean power per busy second.
- Measured (real kernel) rows get no estimate: the host's cores are not this phone's.
"""

from __future__ import annotations

from typing import Any

OPP_MHZ = 1989.0
OPP_VOLT = 1.05
BIG_COEFF = 211.0  # uW/MHz/V^2, Cortex-A73 in mt8183.dtsi
LITTLE_COEFF = 84.0  # uW/MHz/V^2, Cortex-A53 in mt8183.dtsi
SOURCE = ("Linux Energy Model, P = C·V²·f; MT8183 (arch/arm64/boot/dts/mediatek/mt8183.dtsi): "
          "A73 C=211, A53 C=84 µW/MHz/V², 1989 MHz at 1.05 V")


def core_watts(coeff: float) -> float:
    return coeff * OPP_VOLT**2 * OPP_MHZ * 1e-6


BIG_W = core_watts(BIG_COEFF)
LITTLE_W = core_watts(LITTLE_COEFF)


def split_busy(busy_s: float, measured_s: float, cpus: int, big_cpus: int) -> tuple[float, float]:
    """(big, little) busy seconds: big cores filled first, as the scheduler prefers them."""
    nbig = cpus if big_cpus < 0 else min(big_cpus, cpus)
    big = min(busy_s, nbig * measured_s)
    return big, max(0.0, busy_s - big)


def energy(result: dict[str, Any], reclaim_cpu_s: float, gib: float) -> dict[str, float | None]:
    """{energy_j, power_w, reclaim_j, reclaim_j_per_gib} of a simulated result (None for a
    measured one or an empty window)."""
    none: dict[str, float | None] = {"energy_j": None, "power_w": None, "reclaim_j": None,
                                     "reclaim_j_per_gib": None}
    machine = result.get("scenario", {}).get("machine")
    t = float(result.get("meta", {}).get("measured_seconds", 0.0))
    if result.get("meta", {}).get("source") != "simulator" or not machine or t <= 0:
        return none
    cpus, big_cpus = int(machine["cpus"]), int(machine.get("big_cpus", -1))
    per_cpu = result["meta"].get("busy_seconds_per_cpu")
    if per_cpu is not None:
        nbig = cpus if big_cpus < 0 else min(big_cpus, cpus)
        big, little = float(sum(per_cpu[:nbig])), float(sum(per_cpu[nbig:]))
        busy = big + little
    else:
        busy = float(sum(result.get("cpu", {}).values()))
        big, little = split_busy(busy, t, cpus, big_cpus)
    e = big * BIG_W + little * LITTLE_W
    reclaim_j = reclaim_cpu_s * (e / busy) if busy > 0 else 0.0
    return {"energy_j": e, "power_w": e / t, "reclaim_j": reclaim_j,
            "reclaim_j_per_gib": reclaim_j / gib if gib > 0 else None}


__all__ = ["BIG_W", "LITTLE_W", "SOURCE", "energy", "split_busy"]
