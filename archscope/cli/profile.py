"""``archscope profile``: where the time goes, layer by layer, against the roofline."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from archscope.input_size import check_batch_size, check_depth
from archscope.cli.application import app, check_outputs, choices, guarded, output_format, show, stderr, write
from archscope.cli.options import PNG, ArgOption, BatchSizeOption, DType, DeviceOption, FormatOption, InputSizeOption, ModelArgument, OutputOption, ThreadsOption, picture_option


ProfileMode = choices("ProfileMode", ("eval", "inference", "train"))


@app.command(short_help="Where the time goes, layer by layer, against the roofline.")
@guarded
def profile(
    model: ModelArgument,
    device: DeviceOption = "cpu",
    batch_size: BatchSizeOption = 1,
    input_size: InputSizeOption = None,
    dtype: Annotated[DType, typer.Option(help="float16 and bfloat16 run under autocast.")] = DType.float32,
    channels_last: Annotated[bool, typer.Option("--channels-last", help="NHWC memory layout for model and input.")] = False,
    mode: Annotated[
        ProfileMode, typer.Option(help="eval (or inference): the forward pass; train: forward, backward and an SGD step.")
    ] = ProfileMode.eval,
    warmup: Annotated[int, typer.Option(metavar="N", help="Untimed runs of each kind before measuring.")] = 3,
    min_time: Annotated[
        float, typer.Option(metavar="SECONDS", help="Seconds of uninstrumented runs (at least 5); as many instrumented runs alternate with them.")
    ] = 1.0,
    depth: Annotated[int, typer.Option(metavar="N", help="Which layers are rows, as in 'summary --depth'.")] = 2,
    threads: ThreadsOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    roofline: Annotated[Optional[str], picture_option("the roofline plot")] = None,
    time_vs_macs: Annotated[Optional[str], picture_option("where the time goes vs where the MACs are", "--time-vs-macs")] = None,
    arg: ArgOption = None,
) -> None:
    """Each layer's measured time beside its MACs, FLOPs, bytes moved and the device's roofline.

    Both ceilings (peak FLOP/s: a large matrix multiply; bandwidth: a large copy) are measured
    in the same run. Layers are timed at their module boundaries (CUDA events, or the host
    clock on the CPU), in runs that alternate with uninstrumented ones; the sum of the layers
    is shown beside the whole-model median, so the instrumentation's cost is visible.
    """
    from archscope.bench.device import resolve_device
    from archscope.bench.profile import profile as run_profile
    from archscope.models import parse_kwargs, resolve_model
    from archscope.render.profile_view import profile_view

    chosen = output_format(fmt, output)
    check_outputs([model], output=(output, ()), roofline=(roofline, PNG), time_vs_macs=(time_vs_macs, PNG))
    check_batch_size(batch_size)
    check_depth(depth)
    kwargs = parse_kwargs(arg or [])
    resolve_device(device)  # fail on a missing GPU before building anything
    spec = resolve_model(model, kwargs)  # the user's file runs once per command
    with stderr().status("profiling...") as status:
        report = run_profile(
            spec, input_size, batch_size=batch_size, device=device, dtype=dtype.value, channels_last=channels_last,
            mode=mode.value, warmup=warmup, min_time=min_time, depth=depth, threads=threads,
            on_progress=lambda text: status.update(text),
        )  # fmt: skip
    if roofline or time_vs_macs:
        from archscope.render.profile_plots import roofline_png, time_vs_macs_png

        for path, draw, what in ((roofline, roofline_png, "--roofline"), (time_vs_macs, time_vs_macs_png, "--time-vs-macs")):
            if path:
                write(path, draw(report), [model], PNG, f"the {what} picture")
    show(chosen, lambda: profile_view(report), output, [model],
         record=report)  # fmt: skip
