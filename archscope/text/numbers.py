"""Readable numbers for tables: 1.2 M, 15.5 G, 528.0 MiB. JSON and CSV keep exact integers."""

from __future__ import annotations

import math
from typing import Any

_UNITS = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K"))


def human_count(n: int | float | None) -> str:
    """Three significant figures with an SI suffix: 61706 -> '61.7 K', 15470264320 -> '15.5 G'."""
    if n is None:
        return "-"
    if n == 0:
        return "0"
    for scale, suffix in _UNITS:
        if abs(n) >= scale:
            value = n / scale
            digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
            return f"{value:.{digits}f} {suffix}"
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:.3g}"


def human_bytes(n: int | None) -> str:
    """Binary units with one decimal: 528 * 2**20 -> '528.0 MiB'."""
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def shape_text(shape: Any) -> str:
    """[1, 64, 112, 112] -> '1x64x112x112'; several outputs are joined by ', '."""
    if shape is None:
        return "-"
    if isinstance(shape, dict):
        return ", ".join(f"{k}: {shape_text(v)}" for k, v in shape.items())
    if shape and all(isinstance(d, int) for d in shape):
        return "x".join(str(d) for d in shape)
    if not shape:
        return "scalar"
    return ", ".join(shape_text(s) for s in shape)


def largest_side(input_shape: Any) -> int | None:
    """The largest spatial side of the first input that has one (a growth chart's 'input' line)."""
    shapes = input_shape if input_shape and isinstance(input_shape[0], list) else [input_shape]
    for shape in shapes:
        if isinstance(shape, list) and len(shape) >= 3:
            return max(shape[2:])
    return None


def decimal_bytes(n: int | float) -> str:
    """Traffic in decimal units, as bandwidths are quoted: 960 -> '960 B', 23_500 -> '23.5 KB'."""
    return f"{n:.0f} B" if abs(n) < 1000 else human_count(n) + "B"


def milliseconds(ms: float | None) -> str:
    """Three significant digits, never an exponent: 2,580 / 25.8 / 2.58 / 0.412 / 0.00678 (bench, profile, lessons)."""
    if ms is None:
        return "-"
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms <= 0:
        return "0"
    return f"{ms:.{max(0, 2 - math.floor(math.log10(ms)))}f}"
