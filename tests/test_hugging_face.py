"""Hugging Face transformers models by name: ``transformers:CLASS`` and ``hf:FOLDER``.

Each model is built both ways from a small config, so the tests are fast, and held to
PyTorch's own FlopCounterMode on a real forward pass of the same model with the same config.

The attention rule compared under: archscope analyses the model as transformers builds it
(``attn_implementation="sdpa"``, the default), and prices a fused attention call as its two
matrix products, L x S x E for the scores and L x S x E_v for the weighted values per batch
and head (docs/counting.md). FlopCounterMode on the CPU gives the fused kernel nothing, so the
reference forward runs the same weights with ``attn_implementation="eager"``, where those two
products are explicit ``matmul`` calls that FlopCounterMode counts (2 FLOPs per MAC). Only
FlopCounterMode's matrix work is compared: it counts nothing else.
"""

import json
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import archscope
from archscope.models import resolve_model
from archscope.errors import ArchscopeError

transformers = pytest.importorskip("transformers")

SMALL = {
    "ViTForImageClassification": dict(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, image_size=32, patch_size=8,
    ),
    "ConvNextModel": dict(hidden_sizes=[8, 16, 24, 32], depths=[1, 1, 2, 1], image_size=64),
    "SwinModel": dict(image_size=32, patch_size=4, embed_dim=16, depths=[1, 2], num_heads=[2, 4], window_size=4),
    "SegformerForSemanticSegmentation": dict(
        hidden_sizes=[8, 16, 24, 32], depths=[1, 1, 1, 1], num_attention_heads=[1, 2, 2, 4], decoder_hidden_size=32,
        num_labels=5,
    ),
    "BertModel": dict(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, vocab_size=100,
        max_position_embeddings=48,
    ),
    "Wav2Vec2Model": dict(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, conv_dim=(16, 16, 16),
        conv_kernel=(10, 3, 3), conv_stride=(5, 2, 2), num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
    ),
}
# What each model's input is by default, read from its config.
DEFAULT_INPUT = {
    "ViTForImageClassification": ("pixel_values", [1, 3, 32, 32], "float32"),
    "ConvNextModel": ("pixel_values", [1, 3, 64, 64], "float32"),
    "SwinModel": ("pixel_values", [1, 3, 32, 32], "float32"),
    "SegformerForSemanticSegmentation": ("pixel_values", [1, 3, 224, 224], "float32"),  # the config has no size
    "BertModel": ("input_ids", [1, 48], "int64"),  # 128 tokens, or fewer where the positions end: 48
    "Wav2Vec2Model": ("input_values", [1, 16000], "float32"),  # one second at 16 kHz
}
# The inputs the counts are compared on (SegFormer's default is larger than a test needs).
COMPARED_ON = {"SegformerForSemanticSegmentation": "3x64x64", "Wav2Vec2Model": "=4000"}


def reference(class_name: str, shape: list[int], dtype: str) -> tuple[int, int]:
    """Parameters and FlopCounterMode's FLOPs of a real forward, attention as explicit matmuls."""
    cls = getattr(transformers, class_name)
    config = cls.config_class(**SMALL[class_name])
    config._attn_implementation = "eager"
    model = cls(config).eval()
    if dtype == "int64":
        x = torch.randint(0, config.vocab_size, shape)
    else:
        x = torch.randn(shape)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(**{cls.main_input_name: x})
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops()


def write_config(folder: Path, class_name: str) -> Path:
    cls = getattr(transformers, class_name)
    config = cls.config_class(**SMALL[class_name])
    config.architectures = [class_name]
    folder.mkdir(parents=True, exist_ok=True)
    config.save_pretrained(folder)  # writes config.json and nothing else
    assert sorted(p.name for p in folder.iterdir()) == ["config.json"]
    return folder


@pytest.mark.parametrize("class_name", list(SMALL))
def test_a_transformers_class_and_its_local_config_folder_match_flop_counter_mode(class_name, tmp_path):
    size = COMPARED_ON.get(class_name)
    by_class = archscope.summarize(f"transformers:{class_name}", size, model_kwargs=SMALL[class_name])
    by_folder = archscope.summarize(f"hf:{write_config(tmp_path / 'model', class_name)}", size)
    params, flops = reference(class_name, by_class.input_shape, by_class.input_dtypes[0])
    for s in (by_class, by_folder):
        assert s.data_dependent is None  # analysed on the meta device
        assert s.totals.params == params
        assert 2 * s.totals.macs == flops
        assert s.uncounted == [], s.uncounted
    assert by_class.totals == by_folder.totals


@pytest.mark.parametrize("class_name", list(SMALL))
def test_the_input_goes_to_the_models_own_input_with_its_size_from_the_config(class_name):
    name, shape, dtype = DEFAULT_INPUT[class_name]
    spec = resolve_model(f"transformers:{class_name}", SMALL[class_name])
    assert spec.input_name == name
    s = archscope.summarize(spec)
    assert s.input_shape == shape and s.input_dtypes == [dtype]


def test_the_output_is_the_model_outputs_first_tensor():
    s = archscope.summarize("transformers:ViTForImageClassification", model_kwargs=SMALL["ViTForImageClassification"])
    assert s.output_shape == [1, 2]  # logits, as torchinfo and fvcore read a ModelOutput


def test_a_hugging_face_model_built_by_the_user_takes_its_input_by_keyword():
    config = transformers.BertConfig(**SMALL["BertModel"])
    model = transformers.BertModel(config)
    s = archscope.summarize(model, "20")
    assert s.input_shape == [1, 20] and s.input_dtypes == ["int64"]
    assert s.output_shape == [1, 20, 32]  # last_hidden_state


def test_config_fields_are_set_by_arg_and_a_misspelt_one_is_refused():
    s = archscope.summarize("transformers:ViTModel", model_kwargs={**SMALL["ViTForImageClassification"], "hidden_size": 48})
    assert s.layers[0].output_shape == [1, 17, 48]  # 16 patches and the class token
    with pytest.raises(ArchscopeError, match="ViTConfig has no field 'hiden_size'; did you mean hidden_size"):
        resolve_model("transformers:ViTModel", {"hiden_size": 48})


@pytest.mark.parametrize(
    "spec, message",
    [
        ("transformers:NoSuchModel", "transformers has no model class 'NoSuchModel'"),
        ("transformers:ViTModell", "did you mean ViTModel"),
        ("transformers:AutoModel", "needs a config to choose a model"),
        ("transformers:ViTConfig", "no model class 'ViTConfig'"),
        ("hf:", "needs a Hub id or a folder"),
    ],
)
def test_wrong_names_get_one_line(spec, message):
    with pytest.raises(ArchscopeError, match=message):
        resolve_model(spec)


def test_a_folder_without_a_config_says_so(tmp_path):
    with pytest.raises(ArchscopeError, match="without a config.json"):
        resolve_model(f"hf:{tmp_path}")
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ArchscopeError, match="cannot read the config in"):
        resolve_model(f"hf:{tmp_path}")


def test_a_config_that_needs_remote_code_is_refused_not_run(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "custom", "auto_map": {"AutoConfig": "x.Config"}}))
    (tmp_path / "x.py").write_text("raise SystemExit('remote code ran')\n")
    with pytest.raises(ArchscopeError, match="cannot read the config in"):
        resolve_model(f"hf:{tmp_path}")


def test_without_a_network_the_hub_error_suggests_a_local_folder(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ArchscopeError, match=r"could not fetch the config of 'archscope-test/no-such-model'.*hf:path/to/that/folder"):
        resolve_model("hf:archscope-test/no-such-model")


def test_only_the_config_is_read_and_the_analysis_allocates_no_weights(tmp_path):
    spec = resolve_model(f"hf:{write_config(tmp_path / 'vit', 'ViTForImageClassification')}")
    model = spec.analysis_model()
    assert all(p.is_meta for p in model.parameters())
    assert spec.trusted and "cpu" not in spec._built  # no real build unless a forward needs values


def test_where_the_hubs_host_does_not_resolve_the_error_says_there_is_no_network(monkeypatch):
    # A .invalid name never resolves (RFC 2606): the machine has no way to reach this Hub.
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.archscope-test.invalid")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(ArchscopeError) as caught:
        resolve_model("hf:archscope-test/no-such-model")
    message = str(caught.value)
    assert "no network: hub.archscope-test.invalid does not resolve" in message
    assert "hf:path/to/that/folder" in message and "\n" not in message


def test_the_librarys_own_log_lines_stay_off_stderr(tmp_path):
    # BertLMHeadModel without is_decoder logs a warning through transformers' logger when built.
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "archscope", "summary", "transformers:BertLMHeadModel",
         "--arg", "num_hidden_layers=1", "--arg", "hidden_size=32", "--arg", "num_attention_heads=2",
         "--arg", "intermediate_size=64", "-f", "json"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout)["model"] == "transformers:BertLMHeadModel"


def test_a_wrong_rank_for_a_config_read_input_does_not_suggest_the_exact_form():
    # The config says what pixel_values is: a 4-D size is a mistake, not a shape to take as written.
    with pytest.raises(ArchscopeError) as caught:
        archscope.summarize("transformers:ViTModel", "2x3x32x32", model_kwargs=SMALL["ViTForImageClassification"])
    assert "ViTModel's pixel_values takes 3 without the batch (e.g. 3x32x32)" in str(caught.value)
    assert "exactly as written" not in str(caught.value)


def test_the_config_file_itself_is_read_as_its_folder_is(tmp_path):
    folder = write_config(tmp_path / "vit", "ViTForImageClassification")
    by_file = resolve_model(f"hf:{folder / 'config.json'}")
    by_folder = resolve_model(f"hf:{folder}")
    assert by_file.source.startswith(f"the config {folder / 'config.json'}: ViTForImageClassification")
    assert by_folder.source.startswith(f"config.json in {folder}: ViTForImageClassification")
    assert archscope.summarize(by_file).totals == archscope.summarize(by_folder).totals
    (tmp_path / "model.py").write_text("x = 1\n")
    with pytest.raises(ArchscopeError, match="cannot read the config in"):
        resolve_model(f"hf:{tmp_path / 'model.py'}")


def test_the_attention_implementation_is_a_config_field_and_counts_the_same_either_way():
    # Eager attention is two explicit matmuls; sdpa is priced as the same two products.
    fields = SMALL["ViTForImageClassification"]
    eager = archscope.summarize("transformers:ViTModel", model_kwargs={**fields, "attn_implementation": "eager"})
    sdpa = archscope.summarize("transformers:ViTModel", model_kwargs={**fields, "attn_implementation": "sdpa"})
    assert eager.totals.macs == sdpa.totals.macs and eager.totals.params == sdpa.totals.params
    assert eager.uncounted == sdpa.uncounted == []
