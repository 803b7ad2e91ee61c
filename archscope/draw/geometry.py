"""What a layout is made of, in inches (y down): boxes, edge routes, frames, and the spacing rules they keep."""

from __future__ import annotations

from dataclasses import dataclass, field

RANK_GAP = 0.32  # inches between two ranks, edges only
BOX_GAP = 0.28  # inches between two boxes side by side
LANE_GAP = 0.16  # inches between a box and a lane an edge passes in
FRAME_SIDE = 0.10  # inches from a frame to the boxes in it, per nesting level
FRAME_LABEL = 0.34  # inches above a frame's first boxes for its label, at least
LABEL_INSET = 0.06  # a frame's label starts this far right of the frame's left side
LABEL_TOP = 0.04  # and this far below its top
LABEL_BELOW = 0.04  # inches, at least, from a label to the boxes under it
CORRIDOR = 0.17  # inches, at least, between two ranks clear of every frame's label and border: edges bend there
PORT_GAP = 0.08  # inches between a frame's label and an edge that enters the frame beside it, and between two such
PORT_TURN = 0.16  # inches added under the labels where such an edge turns towards its box


@dataclass(frozen=True)
class Box:
    id: str
    x: float  # centre
    y: float  # centre, downwards
    width: float
    height: float

    @property
    def top(self) -> float:
        return self.y - self.height / 2

    @property
    def bottom(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class Route:
    """An edge's path from the bottom of its source to the top of its target.

    Between two points of the same x the path runs straight down; between two of different x
    it bends as an S whose tangents are vertical at both ends (``picture._edge_path``).
    """

    source: str
    target: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class FrameSpec:
    """A frame to draw around ``members``, with room at its top left for a label of this size (inches)."""

    id: str
    members: frozenset[str]
    label_width: float = 0.0
    label_height: float = 0.0


@dataclass(frozen=True)
class FrameBox:
    id: str
    x0: float
    y0: float  # top
    x1: float
    y1: float  # bottom
    level: int  # 1 for a frame with no frame inside
    label: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # its label's x0, y0, x1, y1


@dataclass
class Layout:
    boxes: dict[str, Box]
    routes: list[Route]
    frames: dict[str, FrameBox] = field(default_factory=dict)
    width: float = 0.0
    height: float = 0.0
