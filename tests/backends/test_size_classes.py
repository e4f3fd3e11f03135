import pytest

from kcompressd.backends.size_classes import (
    ZS_HANDLE_SIZE,
    ZS_SIZE_CLASSES,
    size_class_table,
)


def test_chain8_geometry_matches_kernel() -> None:
    t = size_class_table(8)
    assert ZS_SIZE_CLASSES == 255
    assert t.huge_class_size == 3625
    c = t.class_for(3624 + ZS_HANDLE_SIZE)
    assert (c.size, c.pages_per_zspage, c.objs_per_zspage) == (3632, 8, 9)
    assert t.class_for(3625 + ZS_HANDLE_SIZE).huge


def test_power_of_two_classes_use_one_page() -> None:
    t = size_class_table(8)
    for size in (32, 64, 128, 256, 512, 1024, 2048):
        c = t.class_for(size)
        assert c.size == size and c.pages_per_zspage == 1


@pytest.mark.parametrize("chain", [4, 8, 16])
def test_merged_classes_have_distinct_geometry(chain: int) -> None:
    classes = size_class_table(chain).classes
    geometry = [(c.pages_per_zspage, c.objs_per_zspage) for c in classes]
    assert len(set(geometry)) == len(geometry)
    assert [c.size for c in classes] == sorted(c.size for c in classes)


def test_chain_size_out_of_range() -> None:
    with pytest.raises(ValueError, match="chain size 17"):
        size_class_table(17)
