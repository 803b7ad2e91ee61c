"""Turning what the user typed into a model: a zoo name, a file or module factory, a library's model.

    vgg16                                 the zoo
    path/to/net.py:Net                    a class or function in a Python file
    mypackage.models:build_net            a class or function in an importable module
    torchvision:resnet50                  torchvision.models.get_model (the 'zoo' extra)
    timm:convnext_tiny                    timm.create_model, pretrained=False (the 'zoo' extra)
    transformers:ViTForImageClassification  a transformers class from its default config (the 'hf' extra)
    hf:google/vit-base-patch16-224        a Hub id or a local folder: its config.json only (the 'hf' extra)

Keyword arguments for the factory come as ``key=value`` strings, read as Python literals;
for transformers they set the config's fields. Every failure (a missing file, an import that
raises, a factory that does not return a module) becomes one ArchscopeError naming the cause
and where it came from. Library models are built with random weights: an argument that would
load a checkpoint (``weights=``, ``pretrained=True``, ``checkpoint_path=``) is refused, because
loading one means unpickling a file.
"""

from __future__ import annotations

import ast
import copy
import difflib
import hashlib
import importlib
import importlib.util
import inspect
import math
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
import torch.nn as nn

from archscope.analysis.input_size import Expectation, MAX_ELEMENTS
from archscope.errors import ArchscopeError
from archscope.quiet import library_noise_silenced
from archscope.zoo import get_entry


@dataclass
class ModelSpec:
    """A buildable model, whatever it came from, built at most once per device.

    ``trusted`` marks library code (the zoo, torchvision, timm): it is built on the meta
    device for analysis and, only if a forward needs real values, once more on the CPU. A
    user's factory runs exactly once, on the CPU, as ``python file.py`` would run it.
    """

    name: str
    factory: Callable[..., nn.Module]
    kwargs: dict[str, Any] = field(default_factory=dict)
    input_size: tuple[int, ...] | None = None
    source: str | None = None
    trusted: bool = False
    source_path: Path | None = None  # the file the model was loaded from, never a valid output
    # The keyword the model takes its input as (a Hugging Face model's main_input_name).
    input_name: str | None = None
    # What the input is when the first layer cannot tell (a Hugging Face model's input is read
    # from its config: pixel values C x H x W, tokens, raw audio samples).
    expectation: Expectation | None = None
    # A model file's example_inputs(): what summarize feeds the forward when no size is given.
    example_inputs: Callable[[], Any] | None = None
    _built: dict[str, nn.Module] = field(default_factory=dict, repr=False, compare=False)

    def build(self, device: str | torch.device | None = None) -> nn.Module:
        """Call the factory (on ``device``, e.g. "meta" for no weights); its errors become one line."""
        try:
            if device is None:
                model = self.factory(**self.kwargs)
            else:
                with torch.device(device):
                    model = self.factory(**self.kwargs)
        except ArchscopeError:
            raise
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # noqa: BLE001 - the user's own code, SystemExit and its own BaseExceptions too
            raise ArchscopeError(f"{self.name} raised while building the model: {_one_line(error)}") from error
        if not isinstance(model, nn.Module):
            raise ArchscopeError(f"{self.name} returned {type(model).__name__}, not a torch.nn.Module")
        return model

    def real_model(self) -> nn.Module:
        """The model with real weights on the CPU, built on first use and kept."""
        if "cpu" not in self._built:
            self._built["cpu"] = self.build()
        return self._built["cpu"]

    def real_copy(self) -> nn.Module:
        """A copy of the real model to run (bench and profile time a copy, never the user's own)."""
        try:
            return copy.deepcopy(self.real_model())
        except RecursionError:
            raise ArchscopeError(
                f"{self.name} is nested too deeply to copy: its module tree goes past Python's recursion limit "
                f"of {sys.getrecursionlimit():,} calls"
            ) from None

    def analysis_model(self) -> nn.Module:
        """What an analysis runs: library code on the meta device (no weights), a user's model as built."""
        if not self.trusted:
            return self.real_model()
        if "meta" not in self._built:
            try:
                self._built["meta"] = self.build("meta")
            except ArchscopeError:
                return self.real_model()  # library code that cannot build on meta: rebuilding it is harmless
        return self._built["meta"]

    def build_for_analysis(self) -> nn.Module:
        """Kept for callers of the first release: ``analysis_model()``."""
        return self.analysis_model()


def _one_line(error: BaseException) -> str:
    """'ValueError: bad width (net.py, line 12)': the message and the innermost frame of the user's code."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if "archscope" not in Path(f.filename).parts and not f.filename.startswith("<")
    ]
    where = f" ({Path(frames[-1].filename).name}, line {frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {message}{where}" if message else f"{type(error).__name__}{where}"


def parse_kwargs(pairs: Sequence[str]) -> dict[str, Any]:
    """['width=64', 'name=wide', 'sizes=(1, 2)'] -> {'width': 64, 'name': 'wide', 'sizes': (1, 2)}."""
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ArchscopeError(f"malformed --arg {pair!r}: expected key=value, e.g. --arg num_classes=10")
        try:
            kwargs[key.strip()] = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError):
            kwargs[key.strip()] = text  # a bare word is a string
        except (RecursionError, MemoryError):
            # e.g. 100,000 nested minus signs: Python's parser gives up before the value is read.
            raise ArchscopeError(f"--arg {key.strip()}: the value is nested too deeply to read") from None
    return kwargs


def _shown(text: str, limit: int = 120) -> str:
    """A path or name for a one-line message: a 4,000-character path is cut in the middle."""
    return text if len(text) <= limit else text[: limit // 2 - 2] + "..." + text[-(limit // 2 - 1) :]


def _is_file_spec(head: str) -> bool:
    return head.endswith(".py") or "/" in head or "\\" in head


def _user_path(path_text: str) -> Path:
    try:
        return Path(path_text).expanduser()
    except RuntimeError:  # "~nobody/net.py": no such user, so not a home directory
        return Path(path_text)


def spec_source_path(spec: str) -> Path | None:
    """The file a model spec's code comes from, found without running it.

    None for the zoo, torchvision and timm, and for a package module not imported yet (finding
    it would run its package's ``__init__``). Outputs must never be written over this file.
    """
    if spec.strip().partition(":")[0] in LIBRARIES:
        return None
    head, sep, _ = spec.strip().rpartition(":")
    if not sep or not head:
        return None
    if _is_file_spec(head):
        return _user_path(head)
    file = getattr(sys.modules.get(head), "__file__", None)
    if file:
        return Path(file)
    if "." in head or not head.isidentifier():
        return None
    try:
        found = importlib.util.find_spec(head)  # a top-level module is located, not executed
    except (ImportError, ValueError):
        return None
    return Path(found.origin) if found is not None and found.has_location and found.origin else None


def _from_module(module: Any, attribute: str, origin: str) -> Callable[..., nn.Module]:
    if not attribute:
        raise ArchscopeError(f"{origin}: name the class or function after the colon, e.g. {origin}:Net")
    target = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            names = sorted(n for n in dir(target) if not n.startswith("_"))
            close = difflib.get_close_matches(part, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ArchscopeError(f"{origin} has no attribute {attribute!r}{hint}; it has: {', '.join(names[:12])}")
        target = getattr(target, part)
    if isinstance(target, nn.Module):
        return lambda: target
    if not callable(target):
        raise ArchscopeError(f"{origin}:{attribute} is a {type(target).__name__}, not a class or function")
    return target


def _load_file(path_text: str) -> Any:
    path = _user_path(path_text)
    try:
        exists, is_file = path.exists(), path.is_file()
    except OSError as error:  # e.g. a name longer than the file system allows
        raise ArchscopeError(f"cannot read {_shown(path_text)}: {error.strerror or error}") from None
    if not is_file:
        raise ArchscopeError(f"{'not a regular file' if exists else 'no such file'}: {_shown(path_text)}")
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    name = f"archscope_user_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ArchscopeError(f"cannot import {path_text}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so dataclasses and pickling inside the file work
    # The file's own folder first, so it can import its neighbours.
    sys.path.insert(0, str(path.resolve().parent))
    try:
        spec.loader.exec_module(module)
    except KeyboardInterrupt:
        sys.modules.pop(name, None)
        raise
    except BaseException as error:  # noqa: BLE001 - the user's own code, SystemExit included
        sys.modules.pop(name, None)
        raise ArchscopeError(_import_failure(_shown(path_text), error)) from error
    finally:
        sys.path.pop(0)
    return module


def _import_failure(origin: str, error: BaseException) -> str:
    """One line for code that raised (or called sys.exit) while archscope imported it."""
    if isinstance(error, SystemExit):
        return (
            f"{origin} called sys.exit({error.code!r}) on import: archscope imports the file as Python would, "
            "so code that should only run as a script belongs under 'if __name__ == \"__main__\":'"
        )
    return f"{origin} raised on import: {_one_line(error)}"


def _import(module_name: str) -> Any:
    if not all(part.isidentifier() for part in module_name.split(".")):
        raise ArchscopeError(
            f"malformed model {_shown(module_name)!r}: before the colon goes a file (net.py) or a module (package.nets)"
        )
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise ArchscopeError(f"no module named {_shown(module_name)!r}") from error
        raise ArchscopeError(_import_failure(_shown(module_name), error)) from error
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - the user's own code, SystemExit included
        raise ArchscopeError(_import_failure(_shown(module_name), error)) from error


def _optional(package: str, extra: str = "zoo") -> Any:
    try:
        return importlib.import_module(package)
    except Exception as error:  # noqa: BLE001 - not installed, or installed but broken
        raise ArchscopeError(
            f"{package} is not available ({_one_line(error)}); install it with: pip install 'archscope[{extra}]'"
        ) from error


def _refuse_weight_loading(library: str, kwargs: dict[str, Any]) -> None:
    """One line for an argument that would make the library load a checkpoint (torch.load unpickles it)."""
    why = "archscope builds library models with random weights and never loads a checkpoint (loading one unpickles it)"
    for key, value in kwargs.items():
        loads = (
            (key in ("weights", "weights_backbone") and value is not None)
            or (key in ("pretrained", "use_pretrained_backbone") and bool(value))
            or (key in ("checkpoint_path", "pretrained_model_name_or_path", "state_dict") and bool(value))
            or (key in ("pretrained_cfg_overlay", "pretrained_cfg") and _names_a_file(value))
            or (key == "trust_remote_code" and bool(value))
        )
        if loads:
            shown = _shown(repr(value), 60)
            raise ArchscopeError(f"--arg {key}={shown} would make {library} load weights or code: {why}")


def _names_a_file(value: Any) -> bool:
    """Whether a timm pretrained config points at weights: a file, a URL or a Hub id (a name is a string)."""
    if isinstance(value, str):
        return bool(value)
    if isinstance(value, dict):
        return any(value.get(k) for k in ("file", "url", "hf_hub_id", "hf_hub_filename", "state_dict"))
    return value is not None


def _torchvision(name: str, kwargs: dict[str, Any]) -> ModelSpec:
    torchvision = _optional("torchvision")
    _refuse_weight_loading("torchvision", kwargs)
    try:
        builder = torchvision.models.get_model_builder(name)
    except ValueError:
        raise ArchscopeError(f"torchvision has no model {name!r}") from None
    # No pretrained weights, the backbone's included: archscope never downloads or unpickles.
    defaults = {"weights": None}
    if "weights_backbone" in inspect.signature(builder).parameters:
        defaults["weights_backbone"] = None

    def build(**kw: Any) -> nn.Module:
        return builder(**{**defaults, **kw})

    return ModelSpec(f"torchvision:{name}", build, kwargs, _torchvision_input(torchvision, name, builder),
                     "torchvision.models", True)  # fmt: skip


def _torchvision_input(torchvision: Any, name: str, builder: Callable[..., nn.Module]) -> Any:
    """A torchvision model's default input: 224x224 RGB, except where the model takes another kind.

    Video models take 16 frames (torchvision's own ``_ops`` are counted at 16) at their
    weights' crop size; optical flow takes two images (the 224 a side divides by RAFT's 8).
    """
    family = builder.__module__.split(".")[2] if builder.__module__.count(".") >= 2 else ""
    if family == "optical_flow":
        return ((3, 224, 224), (3, 224, 224))
    if family == "video":
        try:
            crop = torchvision.models.get_model_weights(name).DEFAULT.transforms.keywords["crop_size"]
            side = int(crop[0] if isinstance(crop, (tuple, list)) else crop)
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            side = 112
        return (3, 16, side, side)
    return (3, 224, 224)


def _timm(name: str, kwargs: dict[str, Any]) -> ModelSpec:
    timm = _optional("timm")
    _refuse_weight_loading("timm", kwargs)
    if not timm.is_model(name):
        raise ArchscopeError(f"timm has no model {name!r}")
    config = timm.get_pretrained_cfg(name)
    size = tuple(config.input_size) if config is not None and getattr(config, "input_size", None) else None
    return ModelSpec(f"timm:{name}", lambda **kw: _create_timm(timm, name, kw), kwargs, size, "timm", True)


def _create_timm(timm: Any, name: str, kwargs: dict[str, Any]) -> Any:
    with library_noise_silenced():  # "Mapping deprecated model name ...": the name given still works
        return timm.create_model(name, pretrained=False, **kwargs)


# The prefixes that name a library's model rather than a file or module.
LIBRARIES = ("torchvision", "timm", "transformers", "hf")


def resolve_model(spec: str, kwargs: dict[str, Any] | None = None) -> ModelSpec:
    """What ``spec`` names, ready to build; see the module docstring for the forms."""
    if not isinstance(spec, str):
        raise TypeError(f"a model spec is a string such as 'vgg16' or 'net.py:Net', not {type(spec).__name__}")
    kwargs = dict(kwargs or {})
    text = spec.strip()
    if ":" not in text:
        entry = get_entry(text)
        return ModelSpec(entry.name, entry.builder, kwargs, entry.input_size, entry.source, True)
    library, _, name = text.partition(":")
    if library in ("transformers", "hf"):
        from archscope import hugging_face

        _refuse_weight_loading("transformers", kwargs)
        module = _optional("transformers", extra="hf")
        return hugging_face.by_class(module, name, kwargs) if library == "transformers" else hugging_face.by_config(module, name, kwargs)
    head, _, attribute = text.rpartition(":")
    if head == "torchvision":
        return _torchvision(attribute, kwargs)
    if head == "timm":
        return _timm(attribute, kwargs)
    source_path = None
    if not head.strip():
        raise ArchscopeError(
            f"malformed model {_shown(text)!r}: name a file or module before the colon, e.g. net.py:Net or mypackage.nets:Net"
        )
    if _is_file_spec(head):
        module, origin = _load_file(head), _shown(head)
        source_path = _user_path(head).resolve()
    else:
        module, origin = _import(head), head
        source_path = Path(module.__file__).resolve() if getattr(module, "__file__", None) else None
    factory = _from_module(module, attribute, origin)
    size = _declared_size(factory, module, origin, attribute)
    examples = _example_inputs_of(module, origin)
    return ModelSpec(text, factory, kwargs, size, None, source_path=source_path, example_inputs=examples)


def _declared_size(factory: Any, module: Any, origin: str, attribute: str) -> tuple[int, ...] | None:
    """The factory's ``input_size`` or the module's ``INPUT_SIZE``: a shape of whole numbers, checked here."""
    for owner, key, where in ((factory, "input_size", f"{origin}:{attribute}.input_size"), (module, "INPUT_SIZE", f"INPUT_SIZE in {origin}")):
        try:
            value = getattr(owner, key, None)
        except Exception:  # noqa: BLE001 - a property of the user's that raises
            value = None
        if value is None:
            continue
        return checked_shape(value, where)
    return None


def checked_shape(value: Any, where: str) -> tuple[int, ...]:
    """A shape declared in code: a tuple or list of whole numbers from 1 up, never coerced (8.9 is not 8)."""
    example = "e.g. (3, 224, 224), without the batch"
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        raise ArchscopeError(f"{where} must be a tuple of whole numbers, {example}; it is {_shown(repr(value), 60)} ({type(value).__name__})")
    if not value:
        raise ArchscopeError(f"{where} is empty; give the input's shape, {example}")
    for d in value:
        if isinstance(d, bool) or not isinstance(d, int):
            raise ArchscopeError(f"{where} must hold whole numbers, {example}; {_shown(repr(d), 40)} is a {type(d).__name__}")
        if d < 1:
            raise ArchscopeError(f"{where} has a dimension of {d}; every dimension must be at least 1")
    if math.prod(value) > MAX_ELEMENTS:
        raise ArchscopeError(f"{where} has more than {MAX_ELEMENTS:,} elements")
    return tuple(int(d) for d in value)


def _example_inputs_of(module: Any, origin: str) -> Callable[[], Any] | None:
    """The module's ``example_inputs()``, wrapped so that its errors become one line."""
    function = getattr(module, "example_inputs", None)
    if function is None:
        return None
    if not callable(function):
        raise ArchscopeError(f"example_inputs in {origin} must be a function returning the forward's inputs, not a {type(function).__name__}")

    def call() -> Any:
        try:
            return function()
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # noqa: BLE001 - the user's own code
            raise ArchscopeError(f"example_inputs() in {origin} raised: {_one_line(error)}") from error

    return call
