import pytest
import torch.nn as nn

from archscope.analysis.input_size import InputSpec, check_batch_size, expectation_of, parse_input_size, parse_inputs
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
