"""Networks with no published MACs (or params), counted again here by hand from their papers."""

import pytest

import archscope


@pytest.fixture
def totals(zoo_summary):
    """``totals(name)``: a zoo network's totals at its default input, from the session's summary."""
    return lambda name: zoo_summary(name).totals


def conv(out_hw: int, c_in: int, c_out: int, k: int) -> int:
    return out_hw * out_hw * c_out * c_in * k * k


def vgg_convs(config, batch_norm=False):
    """(params, MACs) of VGG's conv stages from a Table 1 column: ints are 3x3 convs, (c, 1) 1x1."""
    size, c_in, params, macs = 224, 3, 0, 0
    for item in config:
        if item == "M":
            size //= 2
            continue
        c_out, k = item if isinstance(item, tuple) else (item, 3)
        params += k * k * c_in * c_out + c_out + (2 * c_out if batch_norm else 0)
        macs += conv(size, c_in, c_out, k)
        c_in = c_out
    return params, macs


B = [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
C = [64, 64, "M", 128, 128, "M", 256, 256, (256, 1), "M", 512, 512, (512, 1), "M", 512, 512, (512, 1), "M"]
A = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
FC_HEAD = (25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000, 25088 * 4096 + 4096 * 4096 + 4096 * 1000)
GAP_HEAD = (512 * 1000 + 1000, 512 * 1000)


@pytest.mark.parametrize(
    "name, config, batch_norm, head",
    [
        ("vgg-c", C, False, FC_HEAD),
        ("vgg-a-lrn", A, False, FC_HEAD),
        ("vgg16-fcn", D, False, FC_HEAD),
        ("vgg16-gap", D, False, GAP_HEAD),
        ("vgg11-bn-gap", A, True, GAP_HEAD),
    ],
)
def test_vgg_variants(name, config, batch_norm, head, totals):
    params, macs = vgg_convs(config, batch_norm)
    t = totals(name)
    assert (t.params, t.macs) == (params + head[0], macs + head[1])


def test_vgg_c_is_configuration_b_plus_three_1x1_convolutions(totals):
    extra_params = (256 * 256 + 256) + 2 * (512 * 512 + 512)
    extra_macs = 56 * 56 * 256 * 256 + 28 * 28 * 512 * 512 + 14 * 14 * 512 * 512
    assert totals("vgg-c").params - totals("vgg-b").params == extra_params
    assert totals("vgg-c").macs - totals("vgg-b").macs == extra_macs
    assert round(totals("vgg-c").params / 1e6) == 134  # Table 2


def test_vgg_fcn_takes_larger_inputs_and_averages_its_score_map():
    big = archscope.summarize("vgg16-fcn", "384")
    assert big.output_shape == [1, 1000]
    scores = next(x for x in big.layers if x.name == "classifier.6")
    assert scores.output_shape == [1, 1000, 6, 6]  # 384 / 32 = 12, minus the 7x7 window: 6x6 positions


def test_vgg_cifar(totals):
    t = totals("vgg-cifar")
    assert t.params == (27 * 16 + 16) + (9 * 16 * 32 + 32) + (1568 * 10 + 10)
    assert t.macs == conv(30, 3, 16, 3) + conv(28, 16, 32, 3) + 1568 * 10


def test_alexnet_one_gpu_doubles_the_grouped_layers_weights(totals):
    grouped = (256 * 48 * 25) + (384 * 192 * 9) + (256 * 192 * 9)  # conv2, conv4, conv5 weights with groups=2
    assert totals("alexnet-1gpu").params - totals("alexnet").params == grouped
    macs_grouped = 27 * 27 * 256 * 48 * 25 + 13 * 13 * 384 * 192 * 9 + 13 * 13 * 256 * 192 * 9
    assert totals("alexnet-1gpu").macs - totals("alexnet").macs == macs_grouped


def test_lenet5_1998_has_the_papers_60000_parameters_and_340908_connections(totals):
    t = totals("lenet5-1998")
    # C1 156, S2 12, C3 1,516 (Table I: 6x3 + 6x4 + 3x4 + 1x6 = 60 input maps), S4 32, C5 48,120, F6 10,164.
    c3 = (6 * 3 + 6 * 4 + 3 * 4 + 6) * 25 + 16
    assert t.params == t.trainable_params == 156 + 12 + c3 + 32 + 48_120 + 10_164 == 60_000
    biases = 28 * 28 * 6 + 10 * 10 * 16 + 120 + 84  # one per output of C1, C3, C5, F6
    subsampling = 14 * 14 * 6 * 5 + 5 * 5 * 16 * 5  # four inputs and a bias per S2/S4 unit
    rbf = 84 * 10
    assert t.macs + biases + subsampling + rbf == 340_908


def test_googlenet_aux_heads_run_only_in_training(zoo_summary, totals):
    head = lambda c: (c * 128 + 128) + (2048 * 1024 + 1024) + (1024 * 1000 + 1000)  # noqa: E731
    head_macs = lambda c: 4 * 4 * 128 * c + 2048 * 1024 + 1024 * 1000  # noqa: E731
    assert totals("googlenet-aux").params == totals("googlenet").params + head(512) + head(528)
    assert totals("googlenet-aux").macs == totals("googlenet").macs
    trained = archscope.summarize("googlenet-aux", train=True)
    assert trained.totals.macs == totals("googlenet").macs + head_macs(512) + head_macs(528)
    assert trained.output_shape == [[1, 1000], [1, 1000], [1, 1000]]
    assert zoo_summary("googlenet-aux").unused_modules == ["aux1", "aux2"]


@pytest.mark.parametrize("depth", [18, 34])
def test_plain_networks_are_the_residual_ones_without_projections(depth, totals):
    projections = [(64, 128, 28), (128, 256, 14), (256, 512, 7)]  # conv1x1/2 + BN into stages 2-4
    params = sum(i * o + 2 * o for i, o, _ in projections)
    macs = sum(s * s * i * o for i, o, s in projections)
    residual, plain = totals(f"resnet{depth}"), totals(f"plain{depth}")
    assert residual.params - plain.params == params
    assert residual.macs - plain.macs == macs


@pytest.mark.parametrize("name", ["resnet50", "resnet101", "resnet152"])
def test_resnet_v1_5_moves_the_stride_and_keeps_the_parameters(name, totals):
    assert totals(f"{name}-v1.5").params == totals(name).params
    assert totals(f"{name}-v1.5").macs > totals(name).macs


@pytest.mark.parametrize("depth, n", [(20, 3), (32, 5), (44, 7), (56, 9), (110, 18), (1202, 200)])
def test_cifar_resnets_section_4_2(depth, n, totals):
    # 3x3 conv to 16 (+BN), three stages of n blocks of two 3x3 convs (+BN each), FC 64 -> 10.
    params = 27 * 16 + 32
    macs = conv(32, 3, 16, 3)
    c_in = 16
    for width, size in [(16, 32), (32, 16), (64, 8)]:
        for _ in range(n):
            params += 9 * c_in * width + 9 * width * width + 4 * width
            macs += conv(size, c_in, width, 3) + conv(size, width, width, 3)
            c_in = width
    params += 64 * 10 + 10
    macs += 640
    assert 6 * n + 2 == depth
    for kind in ("resnet", "plain") if depth in (20, 56, 110) else ("resnet",):
        t = totals(f"cifar-{kind}{depth}")
        assert (t.params, t.macs) == (params, macs)


def test_inception_v4_factorised_7x7_costs_two_sevenths(zoo_summary):
    # Inception-B's deepest branch on 17x17: 1x1 to 192, then 1x7/7x1 pairs.
    layer = next(x for x in zoo_summary("inception-v4").layers if x.name == "inception_b1.branches.3")
    chain = [(1024, 192, 1), (192, 192, 7), (192, 224, 7), (224, 224, 7), (224, 256, 7)]
    assert layer.macs == sum(17 * 17 * i * o * k for i, o, k in chain)
