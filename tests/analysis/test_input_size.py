import math
import os

import pytest
import torch.nn as nn
from hypothesis import given, settings
from hypothesis import strategies as st

from archscope.analysis.input_size import (
    MAX_ELEMENTS,
    InputSpec,
    check_batch_size,
    expectation_of,
    parse_input_size,
    parse_inputs,
)
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


@pytest.mark.parametrize("text", ["", "3x", "x224", "abc", "-3x224", "3.5x224", "224 224"])
def test_malformed_sizes_say_which_forms_are_accepted(text):
    with pytest.raises(InputSizeError, match="CxHxW, HxW or N"):
        parse_input_size(text, (3, 224, 224))


def test_a_zero_dimension_is_refused():
    with pytest.raises(InputSizeError, match="at least 1"):
        parse_input_size("3x0x224", (3, 224, 224))


def test_a_size_of_the_wrong_rank_names_what_the_model_takes():
    with pytest.raises(InputSizeError, match="has 4 dimensions; the model takes 3 without the batch"):
        parse_input_size("3x224x224x2", (3, 224, 224))


def test_without_a_default_or_a_first_layer_a_size_is_taken_as_given():
    assert parse_input_size("3x8x8", None) == (3, 8, 8)
    assert parse_input_size("8x8", None) == (8, 8)
    with pytest.raises(InputSizeError, match="no default input size"):
        parse_input_size(None, None)


@pytest.mark.parametrize("batch", [0, -1])
def test_batch_size_must_be_positive(batch):
    with pytest.raises(InputSizeError, match="at least 1"):
        check_batch_size(batch)


def expect(model):
    return expectation_of(model)


@pytest.mark.parametrize(
    "model, text, shape",
    [
        (nn.Conv1d(4, 8, 3), "4x200", (4, 200)),  # C x L as given, never 1x3x4x200
        (nn.Conv1d(4, 8, 3), "200", (4, 200)),  # one short: the channels are filled in
        (nn.Conv2d(1, 8, 3), "28x28", (1, 28, 28)),
        (nn.Conv2d(1, 8, 3), "28", (1, 28, 28)),  # a single number is a square
        (nn.Conv3d(3, 8, 3), "3x16x112x112", (3, 16, 112, 112)),
        (nn.Conv3d(3, 8, 3), "16x112x112", (3, 16, 112, 112)),
        (nn.Linear(64, 10), "64", (64,)),  # features, not a 64x64 image
        (nn.Sequential(nn.Embedding(100, 8), nn.Linear(8, 2)), "50", (50,)),
    ],
)
def test_the_first_layer_says_how_many_dimensions_an_input_has(model, text, shape):
    assert parse_inputs(text, None, expect(model)) == [InputSpec(shape, expect(model).dtype)]


def test_an_embedding_first_model_takes_int64_tokens_by_default_and_a_suffix_overrides():
    tokens = nn.Sequential(nn.Embedding(100, 8))
    assert parse_inputs("50", None, expect(tokens)) == [InputSpec((50,), "int64")]
    assert parse_inputs("50:int32", None, expect(tokens)) == [InputSpec((50,), "int32")]
    assert parse_inputs("3x224x224:float16", (3, 224, 224)) == [InputSpec((3, 224, 224), "float16")]
    assert parse_inputs("3x8x8+16:int64", None) == [InputSpec((3, 8, 8)), InputSpec((16,), "int64")]
    with pytest.raises(InputSizeError, match="unknown element type 'float8'"):
        parse_inputs("3x8x8:float8", None)


def test_a_conv_model_without_channels_given_and_none_known_asks_for_them():
    with pytest.raises(InputSizeError, match="no channel count"):
        parse_inputs("8x8", None, expect(nn.LazyConv2d(4, 3)))


@pytest.mark.parametrize("text", ["99999999999999999999", "100000x100000x100000"])
def test_absurd_sizes_are_refused_not_allocated(text):
    with pytest.raises(InputSizeError, match="supported"):
        parse_input_size(text, (3, 224, 224))


@pytest.mark.parametrize("shape", [(3, 32.7, 32), (3, "32", 32), (3, True, 32), ()])
def test_python_shapes_are_never_coerced(shape):
    with pytest.raises(InputSizeError):
        parse_input_size(shape, None)


@pytest.mark.parametrize("batch", [2.5, "2", True, 2**63])
def test_batch_size_must_be_a_whole_number_of_sane_size(batch):
    with pytest.raises(InputSizeError, match="batch size"):
        check_batch_size(batch)


def test_a_leading_equals_takes_the_size_exactly_as_written():
    conv1d = expect(nn.Conv1d(1, 8, 10))  # a raw-audio encoder's first layer: C x L
    assert parse_inputs("16000", None, conv1d) == [InputSpec((1, 16000))]  # the guess: one channel
    assert parse_inputs("16000", None, conv1d)[0].guessed_from == "16000"
    assert parse_inputs("=16000", None, conv1d) == [InputSpec((16000,))]  # as written: B x L
    assert parse_inputs("=100x128", None, expect(nn.Conv2d(1, 8, 3))) == [InputSpec((100, 128))]
    assert parse_inputs("=50:int32", None, conv1d) == [InputSpec((50,), "int32")]
    assert parse_inputs("=3x224x224", (3, 224, 224))[0].guessed_from is None


@pytest.mark.parametrize("text", ["16000x2x2x2", "7x7"])
def test_a_size_archscope_cannot_complete_names_the_exact_form(text):
    with pytest.raises(InputSizeError, match=f"={text} takes it exactly as written|={text} to take it exactly"):
        parse_inputs(text, None, expect(nn.Conv1d(1, 8, 3) if "x2" in text else nn.LazyConv2d(4, 3)))


def test_named_inputs_are_keywords_and_dotted_names_nest():
    assert parse_inputs("image=3x32x32+meta=4", None, expect(nn.Conv2d(3, 8, 3))) == [
        InputSpec((3, 32, 32), None, "image"), InputSpec((4,), None, "meta"),
    ]  # fmt: skip
    assert parse_inputs("batch.image=3x32x32,batch.meta=4:int64", None) == [
        InputSpec((3, 32, 32), None, "batch.image"), InputSpec((4,), "int64", "batch.meta"),
    ]  # fmt: skip
    assert parse_inputs("3x32x32+meta=4", None) == [InputSpec((3, 32, 32)), InputSpec((4,), None, "meta")]


@pytest.mark.parametrize(
    "text, message",
    [
        ("image=3x8x8+image=4", "names 'image' twice"),
        ("batch=4+batch.image=3x8x8", "names 'batch' twice"),
        ("1mage=3x8x8", "malformed input name '1mage'"),
        ("a b=3", "malformed input name"),
        ("x==3", "malformed input size"),
    ],
)
def test_wrong_names_are_one_line(text, message):
    with pytest.raises(InputSizeError, match=message):
        parse_inputs(text, None)


@pytest.mark.parametrize("text", ["9" * 5000, "3x" + "9" * 100_000, "=" + "1" * 4301, "image=" + "9" * 30])
def test_thousands_of_digits_are_refused_before_python_reads_them(text):
    with pytest.raises(InputSizeError, match="has a dimension of [0-9,]+ digits; at most") as error:
        parse_inputs(text, (3, 224, 224), expect(nn.Conv2d(3, 8, 3)))
    assert len(str(error.value)) < 400  # one readable line, the digits cut in the middle


def test_an_int_of_thousands_of_digits_is_refused():
    with pytest.raises(InputSizeError, match="must be from 1 to"):
        parse_inputs(10**5000, (3, 224, 224))


def test_leading_zeros_are_not_digits_of_size():
    assert parse_inputs("=" + "0" * 40 + "7", None) == [InputSpec((7,))]


# The grammar's own characters, so random strings reach every branch of the parser.
SIZE_TEXT = st.text(alphabet="0123456789x×=+,:.abimgeta_ -", max_size=40) | st.builds(
    lambda digits, prefix: prefix + "9" * digits, st.integers(0, 6000), st.sampled_from(["", "=", "3x", "a=", "a.b="])
)
FIRST_LAYERS = [None, nn.Conv1d(1, 8, 3), nn.Conv2d(3, 8, 3), nn.Conv3d(3, 4, 3), nn.Linear(5, 2), nn.Embedding(9, 2), nn.LazyConv2d(4, 3)]


@settings(max_examples=int(os.environ.get("ARCHSCOPE_MAX_EXAMPLES", "200")), deadline=None)
@given(text=SIZE_TEXT, layer=st.sampled_from(FIRST_LAYERS), default=st.sampled_from([None, (3, 224, 224), (16000,)]))
def test_any_text_parses_or_is_refused_with_an_input_size_error(text, layer, default):
    try:
        specs = parse_inputs(text, default, expect(layer) if layer is not None else None)
    except InputSizeError as error:
        assert "\n" not in str(error) and len(str(error)) < 600
        return
    for s in specs:
        assert s.shape and all(isinstance(d, int) and d >= 1 for d in s.shape)
        assert math.prod(s.shape) <= MAX_ELEMENTS
