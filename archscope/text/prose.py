"""A paragraph written as a template, filled with the figures it reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def paragraph(template: str, figures: Mapping[str, Any], **more: Any) -> str:
    """``template`` as one line (its line breaks and indentation become single spaces), with each
    ``{key:spec}`` filled from ``figures`` and ``more``, as ``str.format`` fills it.

    The template is joined before it is filled, so a value keeps its own spacing: an empty
    sentence leaves no gap, and one that starts with a space keeps it.
    """
    return " ".join(template.split()).format_map({**figures, **more})
