"""Models nobody here wrote: data-dependent forwards, tied weights, tokens, 1-D and 3-D inputs,
lazy modules, keyword-only forwards, functional submodules and operators of the user's own."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

import archscope
from archscope.analysis.ops import OpCost, register_op, rule_for
from archscope.errors import InputSizeError


class KeepsLargeActivations(nn.Module):
    """Keeps the positions whose activation passes a threshold: how many depends on the values."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        y = self.conv(x)
        kept = y.flatten(2)[:, :, torch.nonzero(y.flatten(2).mean((0, 1)) > -1e9).flatten()]
        return self.head(kept.mean(-1))


def test_a_data_dependent_forward_falls_back_to_a_real_pass_and_says_which_operator_forced_it():
    model = KeepsLargeActivations()
    before = {n: (p, p.detach().clone()) for n, p in model.named_parameters()}
    s = archscope.summarize(model, (3, 16, 16))
    assert s.data_dependent is not None and s.data_dependent.op == "aten::nonzero"
    # All 14x14 positions pass the threshold: conv 4x14x14 outputs x 27, then the head 4x2.
    assert s.totals.macs == 4 * 14 * 14 * 27 + 4 * 2
    assert s.output_shape == [1, 2]
    assert s.to_dict()["data_dependent"]["op"] == "aten::nonzero"
    for name, p in model.named_parameters():  # the user's model: same tensors, same values, same place
        original, values = before[name]
        assert p is original and p.device.type == "cpu" and torch.equal(p, values)


def test_item_in_a_python_branch_also_falls_back():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(8, 8), nn.Linear(8, 8)

        def forward(self, x):
            return self.a(x) if x.sum().item() > -1e9 else self.b(x)

    s = archscope.summarize(Branchy(), (8,))
    assert s.data_dependent is not None and s.data_dependent.op == "aten::_local_scalar_dense"
    assert s.totals.macs == 64
    assert s.unused_modules == ["b"]


def test_a_model_that_fails_on_real_data_too_gets_one_line_naming_the_operator():
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            y = self.conv(x)
            n = int(torch.nonzero(y > -1e9).shape[0])
            return y.view(n + 1, -1)  # never a valid view

    with pytest.raises(InputSizeError, match=r"aten::nonzero needs real values, and the forward on real data failed too"):
        archscope.summarize(Broken(), (3, 8, 8))


def test_tied_weights_on_a_real_model_are_counted_once():
    class TiedLanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(100, 16)
            self.out = nn.Linear(16, 100, bias=False)
            self.out.weight = self.embed.weight

        def forward(self, tokens):
            return self.out(self.embed(tokens))

    s = archscope.summarize(TiedLanguageModel(), "12")
    assert s.totals.params == 100 * 16
    assert s.input_dtypes == ["int64"] and s.input_shape == [1, 12]
    assert s.totals.macs == 12 * 16 * 100


@pytest.mark.parametrize(
    "model, size, shape, macs",
    [
        (nn.Conv1d(4, 8, 3), "4x200", [1, 4, 200], 8 * 198 * 4 * 3),
        (nn.Conv3d(3, 8, 3), "3x16x32x32", [1, 3, 16, 32, 32], 8 * 14 * 30 * 30 * 3 * 27),
        (nn.Linear(64, 10), "64", [1, 64], 640),
    ],
)
def test_inputs_that_are_not_images(model, size, shape, macs):
    s = archscope.summarize(model, size)
    assert s.input_shape == shape
    assert s.totals.macs == macs


def test_a_dtype_suffix_sets_the_input_type():
    s = archscope.summarize(nn.Conv2d(3, 8, 3).half(), "3x8x8:float16")
    assert s.input_dtypes == ["float16"]
    assert s.totals.activation_bytes == 8 * 6 * 6 * 2  # two bytes an element
    tokens = archscope.summarize(nn.Embedding(10, 4), "7:int32")
    assert tokens.input_dtypes == ["int32"]


def test_lazy_modules_are_materialised_on_a_meta_copy_and_the_users_model_stays_lazy():
    model = nn.Sequential(nn.LazyConv2d(8, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(4))
    s = archscope.summarize(model, "3x8x8")
    assert s.totals.params == (8 * 3 * 9 + 8) + (8 * 6 * 6 * 4 + 4)
    assert s.totals.macs == 8 * 36 * 27 + 288 * 4
    assert all(isinstance(p, nn.parameter.UninitializedParameter) for p in model.parameters())


def test_a_keyword_only_forward_takes_a_dict_of_example_inputs():
    class KeywordOnly(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(8, 2)

        def forward(self, *, features):
            return self.proj(features)

    s = archscope.summarize(KeywordOnly(), input_data={"features": torch.randn(3, 8)})
    assert s.input_shape == [3, 8] and s.totals.macs == 3 * 8 * 2


def test_modules_used_through_functional_calls_or_their_children_are_not_reported_unused():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(16, 16), nn.Linear(16, 16)])
            self.attention = nn.MultiheadAttention(16, 2, batch_first=True)  # runs out_proj functionally
            self.spare = nn.Linear(16, 16)

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return self.attention(x, x, x)[0]

    s = archscope.summarize(Block(), "10x16")
    assert s.unused_modules == ["spare"]
    # Linear 2 x 10x16x16, in-projection 3 x 10x16x16, scores and values 2 heads x 10x10x8 each,
    # out-projection 10x16x16: by hand, and by PyTorch's own counter on a real forward.
    assert s.totals.macs == 2 * 2560 + 3 * 2560 + 2 * 1600 + 2560
    with FlopCounterMode(display=False) as counter:
        Block()(torch.randn(1, 10, 16))
    assert 2 * s.totals.macs == counter.get_total_flops()


def test_a_users_own_operator_is_uncounted_until_registered():
    @torch.library.custom_op("archscope_test::double", mutates_args=())
    def double(x: torch.Tensor) -> torch.Tensor:
        return x * 2

    @double.register_fake
    def _(x):
        return torch.empty_like(x)

    class UsesIt(nn.Module):
        def forward(self, x):
            return double(x)

    before = archscope.summarize(UsesIt(), (4, 5))
    assert [(u.op, u.count) for u in before.uncounted] == [("archscope_test::double", 1)]
    register_op(torch.ops.archscope_test.double, lambda args, kwargs, out: OpCost(0, out.numel()))
    after = archscope.summarize(UsesIt(), (4, 5))
    assert after.uncounted == [] and after.totals.flops == 20
    with pytest.raises(ValueError, match="already has a rule"):
        register_op(torch.ops.archscope_test.double, lambda args, kwargs, out: OpCost(0, 0))


def test_data_movement_is_free_by_rule_not_uncounted():
    class Moves(nn.Module):
        def forward(self, x):
            positions = torch.arange(x.shape[-1], device=x.device)
            return torch.cat(torch.split(x, 2, dim=1), dim=1) + positions

    s = archscope.summarize(Moves(), (4, 6, 6))
    assert s.uncounted == [] and s.totals.flops == 4 * 6 * 6


@pytest.mark.parametrize(
    "op, cost",
    [
        (lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), 0),
        (lambda x: torch.softmax(x, -1), 4 * 2 * 8 * 8),
        (lambda x: torch.var(x, dim=1), 4 * 2 * 8 * 8),
        (lambda x: torch.linalg.vector_norm(x, dim=1), 2 * 2 * 8 * 8),
        (lambda x: torch.cumsum(x, dim=2), 2 * 8 * 8),
        (lambda x: F.pixel_shuffle(x[:, :1].expand(1, 4, 8, 8), 2), 0),
        (lambda x: F.pad(x, (1, 1, 1, 1), mode="reflect"), 0),
        (lambda x: torch.sin(x) + torch.cos(x), 3 * 2 * 8 * 8),
    ],
)
def test_the_rules_users_hit(op, cost):
    class Op(nn.Module):
        def forward(self, x):
            return op(x)

    s = archscope.summarize(Op(), (2, 8, 8))
    assert s.uncounted == []
    assert s.totals.flops == cost


def test_every_registry_row_is_keyed_by_a_real_operator_packet():
    for packet, rule in archscope.analysis.ops.REGISTRY.items():
        assert isinstance(packet, torch._ops.OpOverloadPacket)
        assert rule_for(getattr(packet, packet.overloads()[0])) is rule


def test_torchvisions_operators_resolve_when_torchvision_has_registered_them():
    torchvision = pytest.importorskip("torchvision")
    del torchvision
    from archscope.analysis.ops import DEFERRED

    for qualified in list(DEFERRED):
        namespace, name = qualified.split("::")
        packet = getattr(getattr(torch.ops, namespace), name)
        assert rule_for(packet.default) is not None, qualified


def test_an_observer_sees_every_layer_call_and_operator_of_the_one_pass():
    from archscope.analysis.summary import AnalysisObserver

    class Log(AnalysisObserver):
        def start(self):
            self.events = []

        def layer_opened(self, index, record, args):
            self.events.append(("open", index, record.name))

        def layer_closed(self, index, record, output):
            self.events.append(("close", index, record.name))

        def operator(self, func, rule, args, kwargs, out, open_layers):
            if func.overloadpacket is torch.ops.aten.convolution:
                self.events.append(("conv", tuple(open_layers)))

    log = Log()
    archscope.summarize(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sequential(nn.Conv2d(4, 4, 3))), (3, 8, 8), observers=[log])
    assert log.events == [
        ("open", 0, "0"), ("conv", (0,)), ("close", 0, "0"),
        ("open", 1, "1"), ("open", 2, "1.0"), ("conv", (1, 2)), ("close", 2, "1.0"), ("close", 1, "1"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: archscope.summarize(None, (3, 8, 8)), TypeError, "takes a model name or a torch.nn.Module, not NoneType"),
        (lambda: archscope.summarize("lenet5", (1, 32.7, 32)), InputSizeError, "whole numbers, not 32.7"),
        (lambda: archscope.summarize("lenet5", batch_size=2.5), InputSizeError, "whole number, not 2.5"),
        (lambda: archscope.summarize("lenet5", 3.5), InputSizeError, "such as '3x224x224'.*not float 3.5"),
        (lambda: archscope.summarize("lenet5", object()), InputSizeError, "not object <object"),
        (lambda: archscope.summarize("lenet5", "1x600000x600000", batch_size=2_000_000), InputSizeError, "at most"),
        (lambda: archscope.summarize(nn.Linear(2, 2), input_data=3), TypeError, "input_data must be"),
    ],
)
def test_the_python_api_refuses_wrong_types_instead_of_coercing(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_the_real_pass_is_the_same_every_time_and_leaves_the_callers_random_state_alone():
    class KeepsPositives(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            y = self.conv(x)
            return y.flatten()[torch.nonzero(y.flatten() > 0).flatten()]  # how many: depends on the values

    model = KeepsPositives()
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first = archscope.summarize(model, (3, 8, 8))
    assert torch.equal(torch.rand(1), expected_next)
    second = archscope.summarize(model, (3, 8, 8))
    assert first.output_shape == second.output_shape and first.totals == second.totals


class CachesOnItself(nn.Module):
    """Caches a tensor on the module inside the forward, as torchvision's AnchorGenerator does."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.offsets = [torch.arange(4.0)]  # a plain attribute, not a buffer: stand-ins never replace it
        self.calls = []

    def forward(self, x):
        self.offsets = [o.to(dtype=x.dtype, device=x.device) for o in self.offsets]
        self.calls.append(1)
        y = self.conv(x)
        if (y > -1e9).all():  # a Python branch on a tensor: needs real values
            y = y + self.offsets[0].view(1, 4, 1, 1)
        return y


def test_a_forward_that_caches_on_its_module_is_analysed_and_the_module_is_left_as_it_was():
    model = CachesOnItself()
    cached, calls = model.offsets[0], model.calls
    s = archscope.summarize(model, (3, 8, 8))
    assert s.data_dependent is not None and s.data_dependent.op == "aten::_local_scalar_dense"
    assert s.totals.macs == 4 * 6 * 6 * 27
    # The meta pass wrote meta tensors into the module and the real pass real ones; both undone.
    assert model.offsets[0] is cached and not cached.is_meta and model.calls is calls and calls == []
    assert model(torch.randn(1, 3, 8, 8)).shape == (1, 4, 6, 6)  # the user's own call still works


class MovesBetweenDevicesAndTypes(nn.Module):
    """.to(), .float(), .cpu() and .double() inside a branch that depends on the values."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        y = self.conv(x)
        if y.mean().item() > -1e9:
            y = y.cpu().double().to(torch.float16).float().to(x.device)
        counts = torch.nonzero(y.flatten(2).amax(-1) > -1e9).shape[0]  # every channel: 8
        return self.head(y.mean((2, 3))) * counts


def test_a_forward_that_moves_tensors_between_devices_and_types_in_a_data_dependent_branch():
    model = MovesBetweenDevicesAndTypes()
    s = archscope.summarize(model, (3, 10, 10))
    assert s.data_dependent is not None and s.data_dependent.op == "aten::_local_scalar_dense"
    assert s.totals.macs == 8 * 8 * 8 * 27 + 8 * 2  # conv 8x8x8 outputs x 27, head 8x2: by hand
    assert s.output_shape == [1, 2]
    assert all(p.device.type == "cpu" and p.dtype == torch.float32 for p in model.parameters())


class RawAudioEncoder(nn.Module):
    """wav2vec2's front end: raw samples (B, L), unsqueezed to one channel for the first Conv1d."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 8, kernel_size=10, stride=5)
        self.proj = nn.Linear(8, 16)

    def forward(self, samples):
        return self.proj(self.conv(samples.unsqueeze(1)).transpose(1, 2))


class SpectrogramTransformer(nn.Module):
    """An audio spectrogram transformer's patch embedding: (B, T, F), made a one-channel image."""

    def __init__(self):
        super().__init__()
        self.patches = nn.Conv2d(1, 16, kernel_size=16, stride=10)
        self.attention = nn.MultiheadAttention(16, 2, batch_first=True)

    def forward(self, frames):
        x = self.patches(frames.unsqueeze(1).transpose(2, 3)).flatten(2).transpose(1, 2)
        return self.attention(x, x, x)[0]


def test_a_raw_audio_encoder_takes_its_samples_exactly_as_written():
    s = archscope.summarize(RawAudioEncoder(), "=16000")
    assert s.input_shape == [1, 16000]
    positions = (16000 - 10) // 5 + 1  # 3,199
    assert s.totals.macs == positions * 8 * 10 + positions * 8 * 16  # by hand: the conv, then the projection


def test_when_the_guessed_shape_fails_in_the_first_layer_the_error_names_the_exact_form():
    with pytest.raises(InputSizeError, match=r"read '16000' as 1x16000 for Conv1d 'conv'.*-i =16000"):
        archscope.summarize(RawAudioEncoder(), "16000")
    with pytest.raises(InputSizeError, match=r"-i =100x128"):
        archscope.summarize(SpectrogramTransformer(), "100x128")


def test_a_failure_elsewhere_does_not_suggest_the_exact_form():
    class FailsLater(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(4, 8, 3)
            self.head = nn.Linear(7, 2)

        def forward(self, x):
            return self.head(self.conv(x))

    with pytest.raises(InputSizeError) as error:
        archscope.summarize(FailsLater(), "200")  # completed to 4x200, fails in head, not conv
    assert "head" in str(error.value) and "=200" not in str(error.value)


def test_an_audio_spectrogram_transformer_takes_frames_by_mel_bins_as_written():
    s = archscope.summarize(SpectrogramTransformer(), "=100x128")
    assert s.input_shape == [1, 100, 128]
    tokens = ((128 - 16) // 10 + 1) * ((100 - 16) // 10 + 1)  # 12 x 9 patches
    with FlopCounterMode(display=False) as counter:
        SpectrogramTransformer()(torch.randn(1, 100, 128))
    assert 2 * s.totals.macs == counter.get_total_flops()
    assert s.layers[0].output_shape == [1, 16, 12, 9] and tokens == 108


class TakesABatchDict(nn.Module):
    """forward(batch) with batch = {"image": x, "meta": {"age": a, "site": (s, w)}}."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.head = nn.Linear(4 + 2 + 3, 2)

    def forward(self, batch):
        x = self.conv(batch["image"]).mean((2, 3))
        site, weight = batch["meta"]["site"]
        return self.head(torch.cat([x, batch["meta"]["age"], site * weight], 1))


def test_nested_input_data_is_replaced_by_meta_stand_ins_of_each_tensor():
    data = {"batch": {"image": torch.randn(2, 3, 8, 8), "meta": {"age": torch.randn(2, 2), "site": (torch.randn(2, 3), torch.randn(2, 3))}}}
    s = archscope.summarize(TakesABatchDict(), input_data=data)
    assert s.input_shape == [[2, 3, 8, 8], [2, 2], [2, 3], [2, 3]]
    assert s.totals.macs == 2 * 4 * 6 * 6 * 27 + 2 * 9 * 2  # conv and head, by hand
    assert s.data_dependent is None  # on the meta device: the real tensors were never used


def test_nested_input_data_reaches_the_real_pass_too():
    class Branches(TakesABatchDict):
        def forward(self, batch):
            if batch["meta"]["age"].sum().item() > 1e9:
                return batch["image"]
            return super().forward(batch)

    data = {"batch": {"image": torch.randn(2, 3, 8, 8), "meta": {"age": torch.randn(2, 2), "site": [torch.randn(2, 3), torch.randn(2, 3)]}}}
    s = archscope.summarize(Branches(), input_data=data)
    assert s.data_dependent is not None and s.totals.macs == 2 * 4 * 6 * 6 * 27 + 2 * 9 * 2


def test_input_data_nested_deeper_than_python_can_follow_is_one_error():
    deep = torch.randn(1, 3)
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(InputSizeError, match="nested too deeply"):
        archscope.summarize(nn.Linear(3, 2), input_data=(deep,))


def test_named_input_sizes_become_keyword_and_nested_dict_inputs():
    class Keywords(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, image, scale):
            return self.conv(image) * scale.view(-1, 1, 1, 1)

    s = archscope.summarize(Keywords(), "image=3x8x8+scale=1")
    assert s.input_shape == [[1, 3, 8, 8], [1, 1]] and s.totals.macs == 4 * 6 * 6 * 27

    class ImageAndMeta(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.head = nn.Linear(4 + 5, 2)

        def forward(self, batch):
            return self.head(torch.cat([self.conv(batch["image"]).mean((2, 3)), batch["meta"]["age"]], 1))

    nested = archscope.summarize(ImageAndMeta(), "batch.image=3x8x8,batch.meta.age=5", batch_size=2)
    assert nested.input_shape == [[2, 3, 8, 8], [2, 5]]
    assert nested.totals.macs == 2 * 4 * 6 * 6 * 27 + 2 * 9 * 2
