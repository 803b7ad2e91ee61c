"""Hugging Face transformers models by name: a class from its default config, or a config from the Hub.

    transformers:ViTForImageClassification   the class, from its config class's defaults
    hf:google/vit-base-patch16-224           AutoConfig.from_pretrained: config.json only
    hf:path/to/folder                        a local folder holding a config.json

``--arg key=value`` sets config fields (``hidden_size=384``). Weights are never read: the
model is built from the config alone, with random weights, on the meta device for analysis
(and once on the CPU only if a forward needs real values). The input is the model's own
``main_input_name`` (``pixel_values``, ``input_ids``, ``input_values``), its default size read
from the config (``default_input``).
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import os
import socket
import urllib.parse
from pathlib import Path
from typing import Any, Iterator

from archscope.analysis.input_size import Expectation
from archscope.errors import ArchscopeError
from archscope.models import ModelSpec, _one_line, _shown, checked_shape

# A text model's default sequence length, in tokens (shorter where the model's positions end sooner).
TEXT_TOKENS = 128
# A raw-audio model's default input: one second at 16 kHz, the rate wav2vec2 and HuBERT were trained at.
AUDIO_SAMPLES = 16_000
# An image model whose config gives no image size (SegFormer, DETR) gets this square.
IMAGE_SIDE = 224
# Config keywords every PretrainedConfig takes but keeps under a private name, so to_dict() omits them.
ATTENTION_FIELDS = ("attn_implementation",)


def by_class(transformers: Any, class_name: str, kwargs: dict[str, Any]) -> ModelSpec:
    """``transformers:ViTForImageClassification``: the class built from its config class, ``kwargs`` set on it."""
    cls = _model_class(transformers, class_name)
    config = _config(cls.config_class, kwargs, f"transformers:{class_name}")
    fields = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    source = f"transformers {cls.__name__}, {cls.config_class.__name__}({fields}), random weights"
    return _spec(f"transformers:{class_name}", cls, config, source)


def by_config(transformers: Any, target: str, kwargs: dict[str, Any]) -> ModelSpec:
    """``hf:org/name`` or ``hf:folder``: the config read with AutoConfig (never weights), the model it names."""
    name = f"hf:{target}"
    if not target.strip():
        raise ArchscopeError("hf: needs a Hub id or a folder with a config.json, e.g. hf:google/vit-base-patch16-224")
    folder = Path(target).expanduser()
    try:
        # A folder, or the config file itself (AutoConfig reads a .json path as it is).
        local, local_file = folder.is_dir() or folder.is_file(), folder.is_file()
    except OSError:
        local = local_file = False
    if local and not local_file and not (folder / "config.json").is_file():
        raise ArchscopeError(f"{_shown(target)} is a folder without a config.json; hf: reads a model's config.json")
    # Without a network the Hub client retries for half a minute: where the Hub's name does not
    # resolve, only a config already in the local cache is looked at.
    offline = not local and not _hub_resolves()
    try:
        with _quiet():
            config = transformers.AutoConfig.from_pretrained(
                str(folder) if local else target, trust_remote_code=False, local_files_only=offline, **kwargs
            )
    except (KeyboardInterrupt, ArchscopeError):
        raise
    except Exception as error:  # noqa: BLE001 - a missing network, an unknown id, a malformed config
        if local:
            raise ArchscopeError(f"cannot read the config in {_shown(target)}: {_one_line(error)}") from error
        why = f"no network: {_hub_host()} does not resolve" if offline else _one_line(error)
        raise ArchscopeError(
            f"could not fetch the config of {_shown(target)!r} from the Hugging Face Hub ({why}); "
            "without a network, put its config.json in a folder and give hf:path/to/that/folder"
        ) from error
    _check_fields(config, kwargs, name)
    cls = _class_for(transformers, config, name)
    if local:
        where = f"the config {_shown(target)}" if local_file else f"config.json in {_shown(target)}"
    else:
        where = f"the Hub config of {target}"
    source = f"{where}: {cls.__name__}, random weights"
    return _spec(name, cls, config, source)


def _hub_host() -> str:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    return urllib.parse.urlparse(endpoint).hostname or "huggingface.co"


def _hub_resolves() -> bool:
    """Whether the Hub's host name resolves (False at once on a machine without a network)."""
    try:
        socket.getaddrinfo(_hub_host(), 443)
        return True
    except OSError:
        return False


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The libraries' own log lines (retries, config remarks) kept off the user's stderr while archscope builds."""
    import logging

    loggers = [logging.getLogger("transformers"), logging.getLogger("huggingface_hub")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _model_class(transformers: Any, class_name: str) -> type:
    try:
        cls = getattr(transformers, class_name)
    except Exception:  # noqa: BLE001 - transformers' lazy import of a model that cannot load here
        cls = None
    if not isinstance(cls, type) or not issubclass(cls, transformers.PreTrainedModel):
        if isinstance(cls, type) and class_name.startswith("Auto"):
            raise ArchscopeError(
                f"transformers:{class_name} needs a config to choose a model; give a model class "
                "(transformers:ViTModel) or a config (hf:path/to/folder or hf:org/name)"
            )
        close = difflib.get_close_matches(class_name, [n for n in dir(transformers) if n[:1].isupper()], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; give a model class such as ViTForImageClassification"
        raise ArchscopeError(f"transformers has no model class {_shown(class_name)!r}{hint}")
    if getattr(cls, "config_class", None) is None:
        raise ArchscopeError(f"transformers:{class_name} has no config class to build it from; use hf: with a config.json")
    return cls


def _config(config_class: type, kwargs: dict[str, Any], name: str) -> Any:
    try:
        with _quiet():
            config = config_class(**kwargs)
    except (KeyboardInterrupt, ArchscopeError):
        raise
    except Exception as error:  # noqa: BLE001 - a field the config refuses
        raise ArchscopeError(f"{name}: {config_class.__name__} refused the arguments: {_one_line(error)}") from error
    _check_fields(config, kwargs, name)
    return config


def _check_fields(config: Any, kwargs: dict[str, Any], name: str) -> None:
    """A config takes any keyword and keeps it; a misspelt field would change nothing, so it is refused."""
    kind = type(config)
    known = set(inspect.signature(kind.__init__).parameters) | {n for n in dir(kind) if not n.startswith("_")}
    # Every config takes these, kept under a private name (attn_implementation: "eager", "sdpa").
    known |= set(ATTENTION_FIELDS)
    try:
        known |= set(kind().to_dict())  # the fields of the defaults (a config's own kwargs are kept as fields too)
    except Exception:  # noqa: BLE001 - a config that needs arguments of its own
        known |= set(config.to_dict()) - set(kwargs)
    for key in kwargs:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ArchscopeError(f"{name}: {type(config).__name__} has no field {key!r}{hint}")


def _class_for(transformers: Any, config: Any, name: str) -> type:
    """The class the config names (``architectures``), else the library's base model for its type."""
    for architecture in getattr(config, "architectures", None) or []:
        cls = getattr(transformers, architecture, None) if isinstance(architecture, str) else None
        if isinstance(cls, type) and issubclass(cls, transformers.PreTrainedModel):
            return cls
    try:
        return transformers.MODEL_MAPPING[type(config)]
    except Exception:  # noqa: BLE001 - a config type with no base model
        raise ArchscopeError(
            f"{name}: transformers has no model for a {type(config).__name__}; give the class with transformers:NAME"
        ) from None


def default_input(cls: type, config: Any) -> tuple[tuple[int, ...] | None, Expectation | None, str]:
    """The input a model takes by default, read from its config: (shape without the batch, its form, a note).

    pixel values C x H x W from ``num_channels`` and ``image_size``; tokens, int64, as many as
    ``TEXT_TOKENS`` or the model's positions; an audio spectrogram transformer's frames x mel
    bins (``max_length`` x ``num_mel_bins``); Whisper's mel bins x frames; raw audio,
    ``AUDIO_SAMPLES`` samples.
    """
    name = getattr(cls, "main_input_name", None)
    where = f"{cls.__name__}'s {name}"
    if name == "pixel_values":
        channels = int(getattr(config, "num_channels", None) or 3)
        size = getattr(config, "image_size", None) or IMAGE_SIDE
        side = tuple(size) if isinstance(size, (list, tuple)) else (size, size)
        return (channels, *side), Expectation(3, channels, None, where), ""
    if name == "input_ids":
        positions = getattr(config, "max_position_embeddings", None)
        tokens = min(TEXT_TOKENS, positions) if isinstance(positions, int) and positions > 0 else TEXT_TOKENS
        return (tokens,), Expectation(1, None, "int64", where), f"{tokens} tokens by default"
    if name == "input_values":
        frames, bins = getattr(config, "max_length", None), getattr(config, "num_mel_bins", None)
        if isinstance(frames, int) and isinstance(bins, int):  # a spectrogram: frames x mel bins
            return (frames, bins), Expectation(2, None, None, where), ""
        return (AUDIO_SAMPLES,), Expectation(1, None, None, where), f"{AUDIO_SAMPLES:,} samples (1 s at 16 kHz) by default"
    if name == "input_features":
        bins, positions = getattr(config, "num_mel_bins", None), getattr(config, "max_source_positions", None)
        if isinstance(bins, int) and isinstance(positions, int):  # Whisper: two frames per position
            return (bins, 2 * positions), Expectation(2, None, None, where), ""
    return None, None, ""


def _spec(name: str, cls: type, config: Any, source: str) -> ModelSpec:
    size, expectation, note = default_input(cls, config)
    if size is not None:
        size = checked_shape(tuple(int(d) for d in size), f"{name}'s input from its config")
    main = getattr(cls, "main_input_name", None)
    if note:
        source = f"{source}; {main}: {note}"

    def build() -> Any:
        with _quiet():
            return cls(config)

    return ModelSpec(
        name, build, {}, size, source, trusted=True,
        input_name=main if isinstance(main, str) else None, expectation=expectation,
    )  # fmt: skip
