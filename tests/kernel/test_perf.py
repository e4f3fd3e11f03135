import pytest

from kcompressd.kernel.perf import classify, parse_script, split_profile

SCRIPT = """kswapd0    45
\tffffffff81 LZ4_compress_fast_extState
\tffffffff82 lz4_compress
\tffffffff83 zram_write_page
\tffffffff84 swap_writeout
\tffffffff85 shrink_folio_list
\tffffffff86 balance_pgdat

kswapd0    45
\tffffffff81 smp_call_function_many_cond
\tffffffff82 flush_tlb_mm_range
\tffffffff83 try_to_unmap_one
\tffffffff85 shrink_folio_list
\tffffffff86 balance_pgdat

kswapd0    45
\tffffffff81 folio_alloc_swap
\tffffffff85 shrink_folio_list

kswapd0    45
\tffffffff81 obj_malloc
\tffffffff82 zs_malloc
\tffffffff83 zram_write_page
\tffffffff85 shrink_folio_list

kcompressd0    77
\tffffffff81 LZ4_compress_fast_extState

"""


def test_parse_script_yields_comm_and_leaf_first_frames() -> None:
    samples = list(parse_script(SCRIPT))
    assert len(samples) == 5
    assert samples[0] == ("kswapd0", ["LZ4_compress_fast_extState", "lz4_compress",
                                      "zram_write_page", "swap_writeout",
                                      "shrink_folio_list", "balance_pgdat"])


def test_first_matching_category_wins_over_shrink_below_it() -> None:
    assert classify(["LZ4_compress_fast_extState", "shrink_folio_list"]) == "codec"
    assert classify(["obj_malloc", "zs_malloc", "shrink_folio_list"]) == "zram_store"
    assert classify(["smp_call_function_many_cond", "try_to_unmap_one"]) == "unmap"
    assert classify(["arch_tlbbatch_flush", "try_to_unmap_flush", "shrink_folio_list"]) == \
        "unmap"
    assert classify(["folio_referenced_one", "rmap_walk_anon", "shrink_folio_list"]) == \
        "scan_unmap"
    assert classify(["folio_alloc_swap", "shrink_folio_list"]) == "swap_layer"
    assert classify(["schedule", "kswapd"]) == "other"


def test_split_per_thread() -> None:
    prof = split_profile(SCRIPT)
    k = prof["kswapd0"]
    assert k["samples"] == 4
    assert k["split"] == pytest.approx({"compression": 0.5, "scan_unmap": 0.25, "other": 0.25})
    assert k["t1:t2"] == "3.3:6.7"
    assert k["categories"]["codec"]["top"] == [("LZ4_compress_fast_extState", 1)]
    assert k["categories"]["unmap"]["fraction"] == 0.25  # within the scan_unmap group
    assert prof["kcompressd0"]["split"]["compression"] == 1.0
