"""Building a measured profile of this machine (`kcompressd calibrate`).

- Codec costs: every available codec timed on the corpus here (`profiles.measure`).
- kswapd's per-page scan/unmap and compression: from a *baseline* `bench --perf` result
  (no offload), whose "profile" splits kswapd's CPU samples into scan_unmap, compression and
  other (kernel.perf.split_profile). With T_c = compression share x kswapd CPU and T_s the rest,
  per page: scan = (1 - unmap_share) T_s / pgscan_kswapd (every scanned folio, anon or file),
  unmap = unmap_share T_s / kswapd's swap-outs, where unmap_share is the try_to_unmap* samples'
  share of T_s (kernel.perf's "unmap" category; UNMAP_SHARE assumed for older results), and
  the kernel's compression per kswapd swap-out T_c / swap-outs rescales the user-space table
  of the run's codec (the kernel's lz4 and this process's differ in build and cache state);
  other codecs stay as timed.
  kswapd's swap-outs are pswpout x pgsteal_kswapd / (pgsteal_kswapd + pgsteal_direct): the
  run's counters do not split pswpout by reclaimer.
- The bench eater's own work per page (`measure.measure_eater`): touch, revisit, fault.
- A context switch on one CPU (`measure.measure_context_switch`), a wake-up and a switch:
  between two threads, and the extra between two processes (loading an address space).
- Memory and watermarks as the kernel reports them: MemTotal, vm.min_free_kbytes,
  vm.watermark_scale_factor, and each zone's min/low/high from /proc/zoneinfo (recorded).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from kcompressd import PAGE_SIZE
from kcompressd.backends.zram_cost import PageSizes, page_sizes
from kcompressd.errors import KcompressdError
from kcompressd.profiles import Profile, Sourced
from kcompressd.profiles.codec_costs import CodecCosts
from kcompressd.profiles.measure import SwitchCosts, cpu_model
from kcompressd.result import kernel_has_zeromap

UNMAP_SHARE = 0.5  # assumption for results whose perf profile does not keep unmap apart
ZONE_RE = re.compile(r"^Node\s+(\d+),\s+zone\s+(\S+)")


def zone_watermarks(text: str) -> dict[str, dict[str, int]]:
    """Per zone ("node0/Normal") its min, low and high watermarks in pages, from zoneinfo."""
    out: dict[str, dict[str, int]] = {}
    zone = None
    for line in text.splitlines():
        m = ZONE_RE.match(line)
        if m:
            zone = f"node{m.group(1)}/{m.group(2)}"
            continue
        parts = line.split()
        if zone and len(parts) == 2 and parts[0] in ("min", "low", "high"):
            out.setdefault(zone, {})[parts[0]] = int(parts[1])
    return {z: w for z, w in out.items() if len(w) == 3}


def host_memory(proc: Path = Path("/proc")) -> tuple[dict[str, Sourced], dict[str, Sourced]]:
    """The profile's memory section and the zone watermarks (info), as the kernel reports."""
    from kcompressd.kernel.meminfo import parse_meminfo

    mem_total = parse_meminfo((proc / "meminfo").read_text())["MemTotal"]
    vm = proc / "sys" / "vm"
    memory = {
        "total_mb": Sourced(mem_total // (1 << 20), "MemTotal in /proc/meminfo"),
        "min_free_kbytes": Sourced(int((vm / "min_free_kbytes").read_text()),
                                   "/proc/sys/vm/min_free_kbytes"),
        "watermark_scale_factor": Sourced(int((vm / "watermark_scale_factor").read_text()),
                                          "/proc/sys/vm/watermark_scale_factor"),
    }
    info = {}
    for zone, w in zone_watermarks((proc / "zoneinfo").read_text()).items():
        for mark, pages in w.items():
            info[f"{zone.replace('/', '_')}_{mark}_pages"] = Sourced(
                pages, f"/proc/zoneinfo {zone} {mark}")
    return memory, info


def _baseline(bench: Mapping[str, Any], what: str) -> None:
    if bench.get("series") or "vmstat" not in bench:
        raise KcompressdError(f"{what}: expected one baseline run's result "
                              "(`kcompressd bench --json`), not a series")
    sysctls = bench.get("meta", {}).get("sysctls") or {}
    if any(k.startswith("vm.kcompressd") and v for k, v in sysctls.items()) or \
            bench["vmstat"].get("kcompressd_queued"):
        raise KcompressdError(f"{what}: only baseline runs (offload off) calibrate; "
                              f"this one offloaded (sysctls {sysctls})")


def kswapd_split(bench: Mapping[str, Any], plain: Mapping[str, Any] | None = None
                 ) -> dict[str, float]:
    """Seconds kswapd spent scanning/unmapping and compressing, and its page counts.

    `bench` has the perf profile; its shares apply to kswapd's CPU and page counts of
    `plain`, a run of the same plan without perf, when there is one: perf's sampling (an
    interrupt and a call-chain walk per sample, charged to the thread it interrupts) makes
    kswapd slower per page while it records, most under emulation.
    """
    _baseline(bench, "--bench-result")
    if plain is not None:
        _baseline(plain, "the baseline run without perf")
    prof = bench.get("profile") or {}
    names = [k for k in prof if k.startswith("kswapd")]
    if not names:
        raise KcompressdError("--bench-result: no perf profile of kswapd in it; run the "
                              "bench with --perf")
    run = plain if plain is not None else bench
    cpu = sum(v for k, v in run["cpu"].items() if k.startswith("kswapd"))
    split = prof[names[0]]["split"]
    vm = run["vmstat"]
    steal_k, steal_d = vm["pgsteal_kswapd"], vm["pgsteal_direct"]
    if not (cpu > 0 and vm["pgscan_kswapd"] > 0 and vm["pswpout"] > 0 and steal_k > 0):
        raise KcompressdError("--bench-result: kswapd did not swap anything out in that run")
    cats = prof[names[0]].get("categories", {})
    write = cats["swap_write"]["fraction"] if "swap_write" in cats else 0.0  # older: none
    rest = split["scan_unmap"] + split["other"] - write
    unmap = cats.get("unmap")  # absent in older results
    return {
        "compress_s": split["compression"] * cpu,
        "write_s": write * cpu,
        "scan_unmap_s": rest * cpu,
        # try_to_unmap's share of that time where perf kept it apart (kernel.perf)
        "unmap_share": unmap["fraction"] / rest if unmap is not None and rest else None,
        "pgscan_kswapd": vm["pgscan_kswapd"],
        # folios unmapped and given a slot, the swap zeromap's (swpout_zero) among them
        "swapouts_kswapd": (vm["pswpout"] + vm.get("swpout_zero", 0)) * steal_k
        / (steal_k + steal_d),
        "writes_kswapd": vm["pswpout"] * steal_k / (steal_k + steal_d),  # reached zram
        "pgsteal_kswapd": steal_k,
        "kswapd_cpu_s": cpu,
    }


def zram_pages(sizes: PageSizes, run: Mapping[str, Any]) -> PageSizes:
    """The corpus pages the run's zram saw: a kernel with the swap zeromap keeps zero-filled
    pages out of zram, so they are not in pswpout either."""
    return sizes.without_zero() if kernel_has_zeromap(run) else sizes


def pool_runs(runs: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Several baseline runs of one plan as one: counters, CPU seconds, pages written and
    measured seconds summed (per-page costs are then ratios of sums, less noisy than one
    run's: TCG guests differ by ~15% from boot to boot); `meta.pooled_runs` says how many."""
    first = runs[0]
    out: dict[str, Any] = {k: v for k, v in first.items() if k not in ("rates", "profile")}
    out["vmstat"] = {k: sum(r["vmstat"].get(k, 0) for r in runs)
                     for k in set().union(*(r["vmstat"] for r in runs))}
    out["cpu"] = {k: sum(r["cpu"].get(k, 0.0) for r in runs)
                  for k in set().union(*(r["cpu"] for r in runs))}
    out["workload"] = {**first.get("workload", {}), "pages_written": sum(
        r.get("workload", {}).get("pages_written", 0) for r in runs)}
    out["meta"] = {**first.get("meta", {}), "pooled_runs": len(runs), "measured_seconds": sum(
        r.get("meta", {}).get("measured_seconds", 0.0) for r in runs)}
    return out


def eater_in_run_factor(run: Mapping[str, Any], eater_ns: Mapping[str, float],
                        k: Mapping[str, float], scan_ns: float, codec: CodecCosts | None,
                        corpus_pages: list[bytes], algorithm: str) -> tuple[float, str]:
    """How much more the eaters' own work costs per page in the baseline run than in the
    quiet loop timed alone: reclaim on the same CPUs evicts their caches and TLB entries,
    and their faults meet a busy allocator. The eaters' CPU, less their direct reclaim, over
    what their pages would cost at the loop's timings: new pages (touch), swap-ins (revisit +
    fault + decompression) and resident revisits. Direct reclaim costs what kswapd's does per
    folio reclaimed (unmap, store, compression) and per folio scanned (`scan_ns`): it scans
    more per folio it reclaims than kswapd (shrink_lruvec() at DEF_PRIORITY goes through its
    whole target). 1.0 where the run does not say (no eater CPU or pages recorded)."""
    wl, vm = run.get("workload", {}), run["vmstat"]
    plan = run.get("meta", {}).get("plan", {})
    eater_cpu = sum(v for n, v in run["cpu"].items() if n.startswith("eater"))
    written = wl.get("pages_written", 0)
    if not (eater_cpu > 0 and written > 0 and plan.get("per_eater")):
        return 1.0, "the run records no eater CPU or pages: the loop's timings as they are"
    scan = scan_ns * 1e-9
    per_steal = k["kswapd_cpu_s"] / k["pgsteal_kswapd"] - scan * k["pgscan_kswapd"] / \
        k["pgsteal_kswapd"]  # kswapd's CPU per steal besides its scanning
    direct = vm.get("pgsteal_direct", 0) * per_steal + vm.get("pgscan_direct", 0) * scan
    own = eater_cpu - direct
    runs = int(run.get("meta", {}).get("pooled_runs", 1))
    new = min(written, runs * int(plan["threads"]) * (int(plan["per_eater"]) -
                                                      int(plan["prefill"])) // PAGE_SIZE)
    swapins = min(vm.get("pswpin", 0), written - new)
    zero_in = min(vm.get("swpin_zero", 0), written - new - swapins)  # faults, no zram read
    decompress = 0.0
    if codec is not None:
        sizes = zram_pages(page_sizes(corpus_pages, algorithm), run)
        decompress = float(np.where(sizes.same_filled, 0.0,
                                    codec.decompress(sizes.comp_len)).mean())
    loop = (new * eater_ns["touch"] + swapins * (eater_ns["revisit"] + eater_ns["fault"] +
                                                 decompress)
            + zero_in * eater_ns["fault"]
            + (written - new - swapins) * eater_ns["revisit"]) * 1e-9
    if own <= 0 or loop <= 0:
        return 1.0, ("the eaters' direct reclaim took all their CPU: the loop's timings as "
                     "they are")
    return own / loop, (f"baseline run: eater CPU {eater_cpu:.2f} s less direct reclaim "
                        f"({direct:.2f} s: {vm.get('pgsteal_direct', 0)} pages reclaimed at "
                        f"kswapd's {per_steal * 1e6:.1f} us and "
                        f"{vm.get('pgscan_direct', 0)} scanned at {scan_ns / 1e3:.2f} us) "
                        f"over {new} new pages, {swapins} swap-ins and "
                        f"{written - new - swapins} resident revisits at the loop's timings")


def scale_codec(c: CodecCosts, factor: float, why: str) -> CodecCosts:
    return CodecCosts(c.codec, c.comp_len, tuple(float(f"{x * factor:.4g}") for x in
                                                 c.compress_ns),
                      c.decompress_ns, f"{c.source}; compress_ns x {factor:.3g}: {why}")


def build_profile(name: str, codecs: dict[str, CodecCosts], corpus_pages: list[bytes],
                  bench: Mapping[str, Any], bench_origin: str,
                  memory: dict[str, Sourced], info: dict[str, Sourced],
                  eater_ns: Mapping[str, float], corpus: str,
                  plain: Mapping[str, Any] | None = None,
                  switch: SwitchCosts | None = None) -> Profile:
    """A measured profile from the codec tables, a baseline bench result (and the same run
    without perf, see kswapd_split), the eater loop's timings and the memory."""
    k = kswapd_split(bench, plain)
    run = plain if plain is not None else bench  # the CPU and counts (see kswapd_split)
    algorithm = bench.get("meta", {}).get("plan", {}).get("algorithm", "lz4")
    src = (f"baseline bench --perf {bench_origin} (its shares of kswapd's samples) and "
           f"without perf ({k['kswapd_cpu_s']:.2f} s of kswapd CPU)" if plain is not None
           else f"baseline bench --perf {bench_origin} ({k['kswapd_cpu_s']:.2f} s of kswapd "
           "CPU, perf's own cost included)")
    share = k["unmap_share"]
    how = (f"unmap share {share:.3g} measured: try_to_unmap* samples" if share is not None
           else f"unmap share {UNMAP_SHARE:g} assumed: the result does not split them")
    share = UNMAP_SHARE if share is None else share
    scan_ns = (1 - share) * k["scan_unmap_s"] / k["pgscan_kswapd"] * 1e9
    unmap_ns = share * k["scan_unmap_s"] / k["swapouts_kswapd"] * 1e9
    reclaim = {
        "write_ns": Sourced(float(f"{k['write_s'] / k['writes_kswapd'] * 1e9:.4g}"),
                            f"{src}: kswapd's swap_write samples (the store step besides "
                            "codec and zram: bio, writeback flags) per kswapd write to zram"),
        "scan_ns": Sourced(float(f"{scan_ns:.4g}"), f"{src}: kswapd's scan_unmap+other "
                           f"samples but swap_write and the unmap share, per pgscan_kswapd "
                           f"({how})"),
        "unmap_ns": Sourced(float(f"{unmap_ns:.4g}"), f"{src}: the unmap share of kswapd's "
                            f"scan_unmap+other samples per kswapd swap-out ({how})"),
    }
    info = {**info, "baseline_kswapd_us_per_steal": Sourced(
        float(f"{k['kswapd_cpu_s'] / k['pgsteal_kswapd'] * 1e6:.4g}"),
        f"{src}: kswapd CPU per pgsteal_kswapd, what the costs add up to")}
    kernel_ns = k["compress_s"] / k["writes_kswapd"] * 1e9
    if algorithm in codecs:
        sizes = zram_pages(page_sizes(corpus_pages, algorithm), run)
        table_ns = np.where(sizes.same_filled, 0.0, codecs[algorithm].compress(sizes.comp_len))
        factor = kernel_ns / float(table_ns.mean())
        why = (f"kernel {algorithm} per kswapd write to zram from perf ({kernel_ns:.0f} ns) "
               f"/ user-space mean on the corpus pages zram sees ({float(table_ns.mean()):.0f}"
               " ns)")
        codecs = {**codecs, algorithm: scale_codec(codecs[algorithm], factor, why)}
        info = {**info, "kernel_compress_ns_per_page": Sourced(
            float(f"{kernel_ns:.4g}"), f"{src}: compression samples per kswapd write to "
            "zram"),
            "kernel_vs_user_codec": Sourced(float(f"{factor:.4g}"), why)}
    cpu = {"big_speed": Sourced(1.0, f"definition: a CPU of this machine ({cpu_model()})"),
           "little_speed": Sourced(1.0, "this machine's CPUs are all alike")}
    if switch is not None:
        how = ("a byte passed back and forth over pipes on one CPU (lmbench's lat_ctx): half a "
               "round trip, min of 5 x 2000")
        cpu["context_switch_us"] = Sourced(float(f"{switch.thread:.4g}"), f"{how}, between "
                                           "two threads of a process, less the pipe's own "
                                           "cost (a write and a read in one thread)")
        cpu["mm_switch_us"] = Sourced(float(f"{switch.mm:.4g}"), f"{how}, between two "
                                      "processes, less the same between two threads")
    slower, why_slower = eater_in_run_factor(run, eater_ns, k, scan_ns, codecs.get(algorithm),
                                             corpus_pages, algorithm)
    info = {**info, "eater_in_run_factor": Sourced(float(f"{slower:.4g}"), why_slower)}
    how = (f"the bench eater's loop on 64 MiB of {corpus}, no reclaim, min of 3 passes, x "
           f"{slower:.3g} (eater_in_run_factor)")
    eater = {
        "touch_ns": Sourced(float(f"{eater_ns['touch'] * slower:.4g}"), f"{how}: new "
                            "anonymous pages (fault, clear_page, copy)"),
        "revisit_ns": Sourced(float(f"{eater_ns['revisit'] * slower:.4g}"), f"{how}: "
                              "resident pages checked (memcmp) and rewritten"),
        "fault_ns": Sourced(float(f"{eater_ns['fault'] * slower:.4g}"), f"{how}: new pages "
                            "minus the copy alone, the fault itself (charged per swap-in "
                            "besides the decompression)"),
    }
    return Profile(name, f"measured on {cpu_model()}", "measured", cpu, memory, {}, reclaim,
                   codecs, info, eater)
