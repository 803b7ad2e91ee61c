import pytest

from archscope.analysis.input_size import check_batch_size, parse_input_size
from archscope.errors import InputSizeError


@pytest.mark.parametrize(
    "text, expected",
    [
        ("3x224x224", (3, 224, 224)),
        ("1x32x32", (1, 32, 32)),
        ("300x400", (3, 300, 400)),
        ("512", (3, 512, 512)),
        (" 3X64X64 ", (3, 64, 64)),
        (None, (3, 224, 224)),
        (96, (3, 96, 96)),
        ((3, 16, 8, 8), (3, 16, 8, 8)),
    ],
)
def test_accepted_forms(text, expected):
    assert parse_input_size(text, (3, 224, 224)) == expected


@pytest.mark.parametrize("text", ["", "3x", "x224", "3x224x224x2", "abc", "-3x224", "3.5x224", "224 224"])
def test_malformed_sizes_say_which_forms_are_accepted(text):
    with pytest.raises(InputSizeError, match="CxHxW, HxW or N"):
        parse_input_size(text, (3, 224, 224))


def test_a_zero_dimension_is_refused():
    with pytest.raises(InputSizeError, match="at least 1"):
        parse_input_size("3x0x224", (3, 224, 224))


def test_without_a_default_the_channels_must_be_given():
    assert parse_input_size("3x8x8", None) == (3, 8, 8)
    with pytest.raises(InputSizeError, match="give CxHxW"):
        parse_input_size("8x8", None)
    with pytest.raises(InputSizeError, match="no default input size"):
        parse_input_size(None, None)


@pytest.mark.parametrize("batch", [0, -1])
def test_batch_size_must_be_positive(batch):
    with pytest.raises(InputSizeError, match="at least 1"):
        check_batch_size(batch)
