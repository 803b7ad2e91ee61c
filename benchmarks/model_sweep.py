"""Sweep archscope over every torchvision model and a broad timm sample, as a user would run it.

    python benchmarks/model_sweep.py [--only torchvision|timm] [--filter 'resnet*,vit_*'] [--limit N]
                                     [--timeout 300] [--json rows.json] [--no-backbone-weights]

Each model is one subprocess, ``archscope summary torchvision:NAME -i SIZE [--arg k=v] -f json``
or ``archscope summary timm:NAME -f json`` (timm's own input size), with OMP_NUM_THREADS=1 and a
timeout, so a crash or a hang stops only that model. The ``archscope`` next to this Python is
used (``--archscope`` picks another); PYTHONPATH and the rest of the environment pass through.

It measures, per group (torchvision classification, detection, segmentation, video, optical
flow, quantized; timm):

- tried / ok / crash: a crash is a non-zero exit, a timeout or output that is not JSON;
- params: ``totals.params`` against ``sum(p.numel())`` of the same model built here on the meta
  device (tied parameters once), and against the weights' published ``meta["num_params"]``;
- MACs against torchvision's published ``meta["_ops"]`` (its "GFLOPS" are giga-MACs), which are
  printed to 3 decimals: a figure passes if it is within 0.1% or within the rounding half-unit
  (0.0005 G) of the published one, and the report says which;
- models with any uncounted operator, and the operators;
- receptive field known: the top-level ``receptive_field`` present and not ``unknown``
  (``whole_input`` counts as known);
- models that fell back to a real forward pass (a ``data_dependent`` key, where the JSON has one).

Goals: no crash; params exact everywhere; MACs within 0.1% of every published figure; no
uncounted operator in any torchvision classification model and in at most 2% of the timm
sample; receptive field known for at least 95% of torchvision classification models.

Inputs follow how torchvision computed ``_ops`` (its PR #6936 script: a FLOP counter over one
forward pass of the model built as its DEFAULT weights build it; each rule below was checked by
reproducing ``_ops`` with ``torch.utils.flop_counter`` / 2):

- classification and quantized: 3 x crop x crop, the crop size of ``weights.transforms()``;
  quantized models are built with ``quantize=False``: their ``_ops`` and ``num_params`` are the
  float network's (a quantized int8 graph has no float MACs to compare, and cannot be built on
  the meta device);
- video: 3 x 16 x crop x crop; the script ran ``get_flops(video models, t=16)``, and 16 frames
  reproduces every video ``_ops`` (mvit's ``min_temporal_size`` is 16 too);
- segmentation: 3 x 520 x 520 (``transforms().resize_size`` of a square image), built with
  ``aux_loss=True`` where the builder takes it (lraspp has no auxiliary head);
- detection: 3 x 800 x 800; the model's own transform resizes any square image to its
  ``min_size`` (800; 300 or 320 for SSD/SSDlite/the 320 Faster R-CNN) before the backbone, so the
  side only has to be square. The heads of two-stage detectors run once per proposal or
  detection, so their figures depend on what the trained weights produced on torchvision's
  random image (e.g. mask R-CNN v1's 134.38 counts no mask head at all);
- optical flow: two images of 3 x 512 x 512 (the script's default height and width), which
  reproduces raft_large's 211.007 and raft_small's 47.655.

Arguments the weights' builder sets are passed too (``googlenet``: ``aux_logits=False,
transform_input=True``; ``vit_*``: ``image_size`` from the weights).

Progress goes to stderr as it runs; the report (a table, then every crash, params and MACs
mismatch, uncounted operator and unknown receptive field) goes to stdout. Nothing here fails:
it prints what it measured.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

warnings.filterwarnings("ignore")

# A fixed, readable sample of small and medium timm models, one or a few per family.
TIMM_SAMPLE = [
    # ResNet and relatives
    "resnet18", "resnet18d", "resnet50", "resnet50d", "resnext50_32x4d", "seresnet50",
    "res2net50_14w_8s", "res2next50", "resnest14d", "tresnet_m", "nf_resnet26", "nfnet_f0",
    # other CNNs
    "cspdarknet53", "cspresnet50", "darknet53", "dla34", "dpn68", "densenet121", "inception_v3",
    "xception41", "hrnet_w18_small", "selecsls42b", "repvgg_a0", "gernet_s", "hgnet_tiny",
    # mobile and efficient
    "mobilenetv2_100", "mobilenetv3_large_100", "mobilenetv3_small_100", "mnasnet_100",
    "fbnetc_100", "ghostnet_100", "ghostnetv2_100", "efficientnet_b0", "efficientnet_lite0",
    "efficientnetv2_rw_t", "mixnet_s", "regnetx_002", "regnety_004", "rexnet_100",
    "hardcorenas_a", "tinynet_a", "lcnet_050", "repvit_m1", "fastvit_t8", "efficientvit_b0",
    # ConvNeXt and friends
    "convnext_nano", "convnextv2_atto", "inception_next_tiny", "focalnet_tiny_srf",
    # vision transformers
    "vit_tiny_patch16_224", "vit_small_patch16_224", "vit_base_patch32_224",
    "deit_tiny_patch16_224", "deit_small_distilled_patch16_224", "cait_xxs24_224",
    "eva02_tiny_patch14_224", "crossvit_tiny_240", "pit_ti_224", "tnt_s_patch16_224",
    "twins_svt_small", "xcit_nano_12_p16_224", "visformer_tiny", "convit_tiny",
    # hierarchical and hybrid transformers
    "swin_tiny_patch4_window7_224", "swinv2_cr_tiny_ns_224", "coat_tiny", "coat_lite_tiny",
    "levit_128s", "levit_conv_128s", "maxvit_tiny_tf_224", "coatnet_0_rw_224", "mvitv2_tiny",
    "davit_tiny", "gcvit_xxtiny", "nest_tiny", "efficientformer_l1", "efficientformerv2_s0",
    "mobilevit_xxs", "mobilevitv2_050", "edgenext_xx_small",
    # MLPs and others
    "mixer_b16_224", "resmlp_12_224", "gmlp_ti16_224", "convmixer_768_32", "poolformer_s12",
    "poolformerv2_s12", "sequencer2d_s",
]  # fmt: skip

# torchvision's task modules, in report order; list_models(module=...) gives each its names.
TV_GROUPS = [
    ("classification", ""),
    ("detection", "detection"),
    ("segmentation", "segmentation"),
    ("video", "video"),
    ("optical flow", "optical_flow"),
    ("quantized", "quantization"),
]
GROUP_ORDER = [f"torchvision {g}" for g, _ in TV_GROUPS] + ["torchvision other", "timm"]

VIDEO_FRAMES = 16  # torchvision's get_flops(..., t=16) for the video models
SEGMENTATION_SIDE = 520  # SemanticSegmentation(resize_size=520) on a square image
DETECTION_SIDE = 800  # any square side: the model's transform resizes to its own min_size
FLOW_SIDE = 512  # the flop script's default height and width for the two RAFT frames
HALF_UNIT_G = 0.0005  # _ops is printed with 3 decimals
REL_TOLERANCE = 0.001  # 0.1%


@dataclass
class Case:
    """One model to run: what to type and what to compare against."""

    source: str  # "torchvision" or "timm"
    name: str
    group: str
    input_size: str | None = None  # the -i argument; None: archscope's default (timm's own)
    kwargs: dict[str, Any] = field(default_factory=dict)  # --arg key=value, as Python literals
    published_params: int | None = None
    published_gmacs: float | None = None
    weights: str | None = None

    @property
    def spec(self) -> str:
        return f"{self.source}:{self.name}"


@dataclass
class Row:
    """What one run gave."""

    case: Case
    command: list[str]
    seconds: float
    crash: str | None = None
    params: int | None = None
    macs: int | None = None
    input_shape: Any = None
    uncounted: list[dict[str, Any]] = field(default_factory=list)
    receptive_field: Any = None
    data_dependent: Any = None
    numel: int | None = None  # sum(p.numel()) of the model built here
    numel_error: str | None = None


# --------------------------------------------------------------------------- cases


def torchvision_cases(backbone_weights_none: bool) -> list[Case]:
    import torchvision.models as tvm

    grouped: dict[str, str] = {}
    for group, module_name in TV_GROUPS:
        module = getattr(tvm, module_name) if module_name else tvm
        for name in tvm.list_models(module=module):
            grouped[name] = f"torchvision {group}"
    cases = []
    for name in tvm.list_models():  # every task
        group = grouped.get(name, "torchvision other")
        cases.append(torchvision_case(name, group, backbone_weights_none))
    return cases


def torchvision_case(name: str, group: str, backbone_weights_none: bool) -> Case:
    import torchvision.models as tvm

    weights = tvm.get_model_weights(name).DEFAULT
    builder_params = inspect.signature(tvm.get_model_builder(name)).parameters
    case = Case(
        "torchvision",
        name,
        group,
        published_params=weights.meta.get("num_params"),
        published_gmacs=weights.meta.get("_ops"),
        weights=str(weights),
    )
    case.input_size, case.kwargs = torchvision_input(name, group, weights, builder_params)
    case.kwargs.update(weights_config(name, weights))
    if backbone_weights_none and "weights_backbone" in builder_params:
        case.kwargs["weights_backbone"] = None
    return case


def torchvision_input(name: str, group: str, weights: Any, builder_params: Any) -> tuple[str, dict[str, Any]]:
    """The -i argument and task kwargs under which torchvision computed ``_ops`` (module docstring)."""
    if group in ("torchvision classification", "torchvision quantized", "torchvision other"):
        crop = crop_side(weights)
        kwargs = {"quantize": False} if "quantize" in builder_params else {}
        return f"3x{crop}x{crop}", kwargs
    if group == "torchvision video":
        crop = crop_side(weights)
        return f"3x{VIDEO_FRAMES}x{crop}x{crop}", {}
    if group == "torchvision segmentation":
        kwargs = {"aux_loss": True} if "aux_loss" in builder_params else {}
        return f"3x{SEGMENTATION_SIDE}x{SEGMENTATION_SIDE}", kwargs
    if group == "torchvision detection":
        return f"3x{DETECTION_SIDE}x{DETECTION_SIDE}", {}
    if group == "torchvision optical flow":
        one = f"3x{FLOW_SIDE}x{FLOW_SIDE}"
        return f"{one}+{one}", {}
    raise AssertionError(group)


def crop_side(weights: Any) -> int:
    crop = getattr(weights.transforms(), "crop_size", None) or [224]
    return int(crop[0])


def weights_config(name: str, weights: Any) -> dict[str, Any]:
    """Architecture arguments the builder sets when given these weights (``_ovewrite_named_param``)."""
    base = name.removeprefix("quantized_")
    if base == "googlenet":  # the weights drop the auxiliary heads and normalise the input inside
        return {"aux_logits": False, "transform_input": True}
    if base == "inception_v3":  # the auxiliary head stays (it is in num_params); input normalised inside
        return {"transform_input": True}
    if base.startswith("vit_"):  # position embeddings for the weights' image size
        return {"image_size": int(weights.meta["min_size"][0])}
    return {}


def timm_cases() -> list[Case]:
    return [Case("timm", name, "timm") for name in TIMM_SAMPLE]


def select(cases: list[Case], pattern: str | None, limit: int | None) -> list[Case]:
    if pattern:
        patterns = [p.strip() for p in pattern.split(",") if p.strip()]
        cases = [c for c in cases if any(fnmatch.fnmatch(c.name, p) or fnmatch.fnmatch(c.spec, p) for p in patterns)]
    return cases[:limit] if limit else cases


# --------------------------------------------------------------------------- parameters here


@contextlib.contextmanager
def empty_weights() -> Iterator[None]:
    """Build on the CPU but move each parameter and buffer to meta as it is registered.

    For builders that compute with tensors while constructing (regnet's widths), which fail under
    ``torch.device("meta")``.
    """
    import torch

    register_parameter, register_buffer = torch.nn.Module.register_parameter, torch.nn.Module.register_buffer

    def parameter(self: Any, name: str, param: Any) -> None:
        if param is not None:
            param = torch.nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
        register_parameter(self, name, param)

    def buffer(self: Any, name: str, tensor: Any, persistent: bool = True) -> None:
        register_buffer(self, name, None if tensor is None else tensor.to("meta"), persistent)

    torch.nn.Module.register_parameter, torch.nn.Module.register_buffer = parameter, buffer
    try:
        yield
    finally:
        torch.nn.Module.register_parameter, torch.nn.Module.register_buffer = register_parameter, register_buffer


def build_here(case: Case) -> Any:
    import torch

    def build() -> Any:
        if case.source == "timm":
            import timm

            return timm.create_model(case.name, pretrained=False)
        import torchvision.models as tvm

        kwargs = dict(case.kwargs)
        if "weights_backbone" in inspect.signature(tvm.get_model_builder(case.name)).parameters:
            kwargs["weights_backbone"] = None  # never download here; the count is the same network
        return tvm.get_model(case.name, weights=None, **kwargs)

    try:
        with torch.device("meta"):
            return build()
    except Exception:  # noqa: BLE001 - a builder that computes with tensors: see empty_weights
        with empty_weights():
            return build()


def count_numel(case: Case) -> tuple[int | None, str | None]:
    """sum(p.numel()) over the model's parameters, each tied parameter once."""
    try:
        model = build_here(case)
    except Exception as error:  # noqa: BLE001
        return None, f"{type(error).__name__}: {first_line(str(error))}"
    unique = {id(p): p.numel() for _, p in model.named_parameters(remove_duplicate=False)}
    return sum(unique.values()), None


# --------------------------------------------------------------------------- running archscope


def archscope_command(executable: list[str], case: Case) -> list[str]:
    command = [*executable, "summary", case.spec]
    if case.input_size:
        command += ["-i", case.input_size]
    for key, value in case.kwargs.items():
        command += ["--arg", f"{key}={value!r}"]
    return command + ["-f", "json"]


def run_case(executable: list[str], case: Case, timeout: float) -> Row:
    command = archscope_command(executable, case)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return Row(case, command, time.perf_counter() - start, crash=f"timeout after {timeout:g} s")
    row = Row(case, command, time.perf_counter() - start)
    if done.returncode != 0:
        row.crash = describe_failure(done.returncode, done.stderr)
        return row
    try:
        document = json.loads(done.stdout)
    except json.JSONDecodeError as error:
        row.crash = f"output is not JSON ({error}); stderr: {last_line(done.stderr)}"
        return row
    read_summary(row, document)
    return row


def describe_failure(returncode: int, stderr: str) -> str:
    if returncode < 0:
        return f"killed by signal {-returncode} (out of memory?); stderr: {last_line(stderr)}"
    return f"exit {returncode}: {last_line(stderr) or '(no message)'}"


def read_summary(row: Row, document: dict[str, Any]) -> None:
    totals = document.get("totals") or {}
    row.params, row.macs = totals.get("params"), totals.get("macs")
    row.input_shape = document.get("input_shape")
    row.uncounted = list(document.get("uncounted") or [])
    row.receptive_field = document.get("receptive_field")
    row.data_dependent = document.get("data_dependent")


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


# --------------------------------------------------------------------------- judging one row


def params_exact(row: Row) -> bool:
    return row.crash is None and row.params is not None and row.params == row.numel


def params_published(row: Row) -> bool:
    return row.crash is None and row.params is not None and row.params == row.case.published_params


def macs_verdict(row: Row) -> str | None:
    """'both', '0.1%', 'rounding' (within the half-unit of the 3-decimal figure) or None (a mismatch)."""
    published = row.case.published_gmacs
    if row.crash or row.macs is None or published is None:
        return None
    diff = abs(row.macs / 1e9 - published)
    relative = diff <= REL_TOLERANCE * published
    rounding = diff <= HALF_UNIT_G + 1e-12
    if relative and rounding:
        return "both"
    return "0.1%" if relative else ("rounding" if rounding else None)


def rf_unknown_reason(row: Row) -> str | None:
    """None when the receptive field is known (a size, whole_input or no_signal), else why not."""
    rf = row.receptive_field
    if rf is None:
        return "no receptive_field (null)"
    if isinstance(rf, dict) and "unknown" in rf:
        return str(rf["unknown"])
    if isinstance(rf, dict) and ("size" in rf or rf.get("whole_input") or rf.get("no_signal")):
        return None
    return f"unexpected receptive_field {json.dumps(rf)[:80]}"


def is_data_dependent(row: Row) -> bool:
    return bool(row.data_dependent)


# --------------------------------------------------------------------------- report


def pattern_of(message: str, name: str = "") -> str:
    """A message with model-specific details (its name, quoted text, numbers) blurred, to group by cause."""
    text = message.replace(name, "MODEL") if name else message
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"\(\S+\.py, line \d+\)", "(FILE, line N)", text)
    text = re.sub(r"\d+(?:x\d+)+", "SHAPE", text)
    return re.sub(r"(?<![A-Za-z_])\d+", "N", text)  # numbers, not the 2 of upsample_bilinear2d


def progress_line(index: int, total: int, row: Row) -> str:
    head = f"[{index:>3}/{total}] {row.case.spec:<48} {row.seconds:6.1f}s "
    if row.crash:
        return head + f"CRASH {row.crash[:160]}"
    parts = [f"params {row.params:,}" + ("" if params_exact(row) else f" (numel {row.numel})")]
    if row.case.published_gmacs is not None:
        verdict = macs_verdict(row) or "MISMATCH"
        parts.append(f"macs {row.macs / 1e9:.3f} G vs {row.case.published_gmacs} [{verdict}]")
    if row.uncounted:
        parts.append("uncounted " + ",".join(u["op"] for u in row.uncounted))
    reason = rf_unknown_reason(row)
    parts.append("rf ok" if reason is None else f"rf unknown ({reason[:60]})")
    if row.data_dependent:
        parts.append("data-dependent")
    return head + "ok  " + "; ".join(parts)


def summary_table(rows: list[Row]) -> str:
    header = ["group", "tried", "ok", "crash", "params=numel", "params=pub", "MACs ok/pub",
              "MACs =3dp", "uncounted", "RF known", "data-dep"]  # fmt: skip
    lines = [header]
    by_group = defaultdict(list)
    for row in rows:
        by_group[row.case.group].append(row)
    for group in [g for g in GROUP_ORDER if g in by_group]:
        lines.append(table_line(group, by_group[group]))
    if len(by_group) > 1:
        lines.append(table_line("all", rows))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        cells = [cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))]
        out.append("  ".join(cells))
        if n == 0:
            out.append("-" * len(out[0]))
    return "\n".join(out)


def table_line(group: str, rows: list[Row]) -> list[str]:
    ok = [r for r in rows if r.crash is None]
    published_params = [r for r in rows if r.case.published_params is not None]
    published_macs = [r for r in rows if r.case.published_gmacs is not None]
    exact_3dp = [r for r in published_macs if r.macs is not None and round(r.macs / 1e9, 3) == r.case.published_gmacs]

    def of(count: int, total: int) -> str:
        return f"{count}/{total}" if total else "-"

    return [
        group,
        str(len(rows)),
        str(len(ok)),
        str(len(rows) - len(ok)),
        of(sum(params_exact(r) for r in rows), len(rows)),
        of(sum(params_published(r) for r in published_params), len(published_params)),
        of(sum(macs_verdict(r) is not None for r in published_macs), len(published_macs)),
        of(len(exact_3dp), len(published_macs)),
        of(sum(bool(r.uncounted) for r in ok), len(ok)),
        of(sum(r.crash is None and rf_unknown_reason(r) is None for r in rows), len(rows)),
        str(sum(is_data_dependent(r) for r in ok)),
    ]


def goals(rows: list[Row]) -> list[str]:
    def share(selected: list[Row], test: Any) -> tuple[int, int]:
        return sum(bool(test(r)) for r in selected), len(selected)

    tv_cls = [r for r in rows if r.case.group == "torchvision classification"]
    timm_rows = [r for r in rows if r.case.group == "timm"]
    published = [r for r in rows if r.case.published_gmacs is not None]
    checks = []
    crashes = sum(r.crash is not None for r in rows)
    checks.append((crashes == 0, f"no crash: {crashes} crashed of {len(rows)}"))
    exact, total = share(rows, params_exact)
    checks.append((exact == total, f"params exact (== sum(numel)) everywhere: {exact}/{total}"))
    with_pub = [r for r in rows if r.case.published_params is not None]
    exact, total = share(with_pub, params_published)
    checks.append((exact == total, f"params == published num_params: {exact}/{total}"))
    good, total = share(published, lambda r: macs_verdict(r) is not None)
    checks.append((good == total, f"MACs within 0.1% (or the rounding) of every published figure: {good}/{total}"))
    if tv_cls:
        bad, total = share(tv_cls, lambda r: r.crash is None and r.uncounted)
        checks.append((bad == 0 and all(r.crash is None for r in tv_cls),
                       f"no uncounted operator in torchvision classification: {bad} of {total} have one"))  # fmt: skip
        known, total = share(tv_cls, lambda r: r.crash is None and rf_unknown_reason(r) is None)
        checks.append((known >= 0.95 * total, f"receptive field known for >= 95% of torchvision classification: "
                                              f"{known}/{total} = {100 * known / total:.1f}%"))  # fmt: skip
    if timm_rows:
        bad, total = share(timm_rows, lambda r: r.crash is None and r.uncounted)
        ok_all = all(r.crash is None for r in timm_rows)
        checks.append((ok_all and bad <= 0.02 * total, f"uncounted operator in at most 2% of the timm sample: "
                                                       f"{bad}/{total} = {100 * bad / total:.1f}%"))  # fmt: skip
    return [f"  [{'met' if met else 'NOT met'}] {text}" for met, text in checks]


def failure_lists(rows: list[Row]) -> list[str]:
    out: list[str] = []
    crashed = [r for r in rows if r.crash]
    out.append(f"\nCrashes ({len(crashed)}), grouped by cause:")
    by_cause: dict[str, list[Row]] = defaultdict(list)
    for row in crashed:
        by_cause[pattern_of(row.crash or "", row.case.name)].append(row)
    for cause, members in sorted(by_cause.items(), key=lambda kv: -len(kv[1])):
        out.append(f"  {len(members)} x {cause}")
        for row in members:
            out.append(f"      {row.case.spec}: {row.crash}")
    if not crashed:
        out.append("  none")

    out.append("\nParams mismatches (archscope totals.params vs sum(numel) here vs published num_params):")
    mismatched = [r for r in rows if r.crash is None and (not params_exact(r) or
                  (r.case.published_params is not None and not params_published(r)))]  # fmt: skip
    if not mismatched:
        out.append("  archscope: none")
    for row in mismatched:
        pub = row.case.published_params
        note = f" (numel here failed: {row.numel_error})" if row.numel_error else ""
        out.append(f"  {row.case.spec}: archscope {row.params:,}  numel {fmt_int(row.numel)}  published {fmt_int(pub)}"
                   f"  archscope-published {fmt_delta(row.params, pub)}{note}")  # fmt: skip
    numel_vs_pub = [r for r in rows if r not in mismatched and r.numel is not None
                    and r.case.published_params is not None and r.numel != r.case.published_params]  # fmt: skip
    if numel_vs_pub:
        out.append("  not run, but built here with weights=None these differ from the published count:")
        for row in numel_vs_pub:
            out.append(f"    {row.case.spec}: numel {row.numel:,} vs published {row.case.published_params:,} "
                       f"({fmt_delta(row.numel, row.case.published_params)})")  # fmt: skip

    out.append("\nMACs mismatches against torchvision's published _ops (giga-MACs, 3 decimals):")
    missing = [r for r in rows if r.crash is None and r.case.published_gmacs is not None and macs_verdict(r) is None]
    for row in missing:
        published = row.case.published_gmacs or 0.0
        g = row.macs / 1e9 if row.macs is not None else float("nan")
        dd = "  [data-dependent]" if row.data_dependent else ""
        out.append(f"  {row.case.spec}: archscope {g:.3f} G ({fmt_int(row.macs)})  published {published} G  "
                   f"{100 * (g - published) / published:+.2f}%{dd}")  # fmt: skip
    if any(r.case.group == "torchvision detection" for r in missing):
        out.append("  (detection: the heads run once per proposal or detection; torchvision's figure counts what its"
                   " trained weights produced on its random image)")  # fmt: skip
    if not missing:
        out.append("  none")
    looser = [r for r in rows if macs_verdict(r) in ("0.1%", "rounding")]
    if looser:
        out.append("  passing on one criterion only:")
        for row in looser:
            gmacs = (row.macs or 0) / 1e9
            out.append(f"    {row.case.spec}: {gmacs:.4f} G vs {row.case.published_gmacs} [{macs_verdict(row)}]")

    out.append("\nUncounted operators (models that hit each):")
    by_op: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        for item in row.uncounted:
            by_op[item["op"]].append(row.case.spec)
    for op, models in sorted(by_op.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        out.append(f"  {op}: {len(models)} models: {', '.join(models)}")
    if not by_op:
        out.append("  none")

    out.append("\nUnknown receptive fields (reason, blurred to group; models):")
    by_reason: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        reason = None if row.crash else rf_unknown_reason(row)
        if reason is not None:
            by_reason[pattern_of(reason)].append((row.case.spec, reason))
    for reason, members in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
        out.append(f"  {len(members)} x {reason}")
        for spec, exact in members:
            out.append(f"      {spec}: {exact}")
    if not by_reason:
        out.append("  none")

    dependent = [r for r in rows if r.crash is None and r.data_dependent]
    if dependent:
        out.append("\nFell back to a real forward pass (data_dependent):")
        for row in dependent:
            out.append(f"  {row.case.spec}: {json.dumps(row.data_dependent)[:200]}")

    numel_failed = [r for r in rows if r.numel_error]
    if numel_failed:
        out.append("\nCould not build here to count parameters:")
        for row in numel_failed:
            out.append(f"  {row.case.spec}: {row.numel_error}")
    return out


def fmt_int(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def fmt_delta(a: int | None, b: int | None) -> str:
    return "-" if a is None or b is None else f"{a - b:+,}"


def report(rows: list[Row], elapsed: float, executable: list[str]) -> str:
    lines = [
        f"archscope model sweep: {len(rows)} models in {elapsed / 60:.1f} min with {' '.join(executable)}",
        "",
        summary_table(rows),
        "",
        "Goals:",
        *goals(rows),
        *failure_lists(rows),
    ]
    return "\n".join(lines)


def row_json(row: Row) -> dict[str, Any]:
    data = asdict(row)
    data["macs_verdict"] = macs_verdict(row)
    data["params_exact"] = params_exact(row)
    data["params_published"] = params_published(row)
    data["receptive_field_unknown"] = None if row.crash else rf_unknown_reason(row)
    return data


# --------------------------------------------------------------------------- main


def default_executable() -> list[str]:
    beside = Path(sys.executable).parent / "archscope"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("archscope")
    return [found] if found else [sys.executable, "-m", "archscope"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["torchvision", "timm"], help="sweep one library only")
    parser.add_argument("--filter", metavar="PATTERNS", help="fnmatch on names, comma-separated: 'resnet*,timm:vit_*'")
    parser.add_argument("--limit", type=int, help="at most N models (after --only and --filter)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per model (default 300)")
    parser.add_argument("--json", metavar="FILE", help="also save every row as JSON")
    parser.add_argument("--archscope", metavar="CMD", help="the archscope command (default: the one beside Python)")
    parser.add_argument(
        "--no-backbone-weights",
        action="store_true",
        help="pass --arg weights_backbone=None to detection and segmentation models (by default they are run as"
        " a user types them, and torchvision then fetches ImageNet backbone weights)",
    )
    args = parser.parse_args()

    executable = args.archscope.split() if args.archscope else default_executable()
    cases: list[Case] = []
    if args.only in (None, "torchvision"):
        cases += torchvision_cases(args.no_backbone_weights)
    if args.only in (None, "timm"):
        cases += timm_cases()
    cases = select(cases, args.filter, args.limit)

    rows: list[Row] = []
    start = time.perf_counter()
    for index, case in enumerate(cases, 1):
        numel, numel_error = count_numel(case)  # before the subprocess: one model process at a time
        row = run_case(executable, case, args.timeout)
        row.numel, row.numel_error = numel, numel_error
        rows.append(row)
        print(progress_line(index, len(cases), row), file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - start

    print(report(rows, elapsed, executable), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps([row_json(r) for r in rows], indent=1, default=str) + "\n")
        print(f"\nwrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
