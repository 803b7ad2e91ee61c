import pytest

from archscope.text.numbers import decimal_bytes, human_bytes, human_count, shape_text


@pytest.mark.parametrize(
    "n, text",
    [
        (0, "0"),
        (7, "7"),
        (999, "999"),
        (1_792, "1.79 K"),
        (61_706, "61.7 K"),
        (416_520, "417 K"),
        (1_200_000, "1.20 M"),
        (138_357_544, "138 M"),
        (15_470_264_320, "15.5 G"),
        (2.5e12, "2.50 T"),
        (None, "-"),
    ],
)
def test_counts_read_with_three_significant_figures(n, text):
    assert human_count(n) == text


@pytest.mark.parametrize("n, text", [(512, "512 B"), (2048, "2.0 KiB"), (553_430_176, "527.8 MiB"), (3 * 2**30, "3.0 GiB")])
def test_bytes_read_in_binary_units(n, text):
    assert human_bytes(n) == text


@pytest.mark.parametrize(
    "shape, text",
    [
        ([1, 64, 112, 112], "1x64x112x112"),
        ([[1, 10], [1, 4]], "1x10, 1x4"),
        ({"logits": [1, 10]}, "logits: 1x10"),
        ([], "scalar"),
        (None, "-"),
    ],
)
def test_shapes_are_compact(shape, text):
    assert shape_text(shape) == text


@pytest.mark.parametrize(
    "ms, text",
    [(2580.4, "2,580"), (25.84, "25.8"), (2.584, "2.58"), (0.4123, "0.412"), (100.0, "100"), (0.006784, "0.00678"),
     (0.0000123, "0.0000123"), (0.0, "0"), (None, "-")],
)  # fmt: skip
def test_milliseconds_read_with_three_digits_and_never_an_exponent(ms, text):
    from archscope.text.numbers import milliseconds

    assert milliseconds(ms) == text


def test_bench_and_profile_write_milliseconds_the_same_way():
    import archscope.render.bench_text as bench_text
    import archscope.render.profile_text as profile_text
    from archscope.text.numbers import milliseconds

    assert not hasattr(bench_text, "ms_text") and not hasattr(profile_text, "_ms")
    assert bench_text.milliseconds is profile_text.milliseconds is milliseconds


def test_no_module_formats_milliseconds_itself():
    # A format spec right before " ms" ("{t:.3g} ms" wrote 1.23e+03 ms in draw and bench's chart).
    import pathlib
    import re

    import archscope

    root = pathlib.Path(archscope.__file__).parent
    own = {str(p.relative_to(root)): re.findall(r"\{[^{}]*:[^{}]*\} ?ms\b", p.read_text()) for p in root.rglob("*.py")}
    assert {path: found for path, found in own.items() if found} == {}


def test_traffic_reads_in_one_decimal_unit_style():
    assert [decimal_bytes(n) for n in (0, 960, 999, 23_500, 9_580_000_000)] == ["0 B", "960 B", "999 B", "23.5 KB", "9.58 GB"]
