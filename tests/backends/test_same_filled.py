from kcompressd.backends.same_filled import page_same_filled


def test_zero_and_pattern_pages_are_same_filled() -> None:
    assert page_same_filled(bytes(4096)) == 0
    word = (0xDEADBEEF).to_bytes(8, "little")
    assert page_same_filled(word * 512) == 0xDEADBEEF


def test_a_single_differing_byte_breaks_it() -> None:
    for pos in (0, 7, 8, 2048, 4095):
        page = bytearray(4096)
        page[pos] = 1
        assert page_same_filled(bytes(page)) is None


def test_byte_pattern_with_period_not_dividing_8_is_not_same_filled() -> None:
    assert page_same_filled(b"abc" * 1365 + b"a") is None
