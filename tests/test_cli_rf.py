"""`archscope rf` as a person runs it."""

import json

from typer.testing import CliRunner

from archscope.cli import app

PNG = b"\x89PNG\r\n\x1a\n"


def run(*args, columns=120):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})


def test_rf_table_has_one_row_per_stride_stage_and_the_final_field():
    result = run("rf", "vgg16")
    assert result.exit_code == 0, result.output
    assert "Last spatial feature map  212 (stride 32, padding 90)" in result.output
    assert "features.28" in result.output and "196" in result.output


def test_rf_shows_the_concatenated_parts_of_googlenet():
    out = run("rf", "googlenet").output
    assert "587 (channels 0-383), 651 (channels 384-767), 715 (channels 768-895), 651 (channels 896-1023)" in " ".join(
        out.split()
    )


def test_rf_verify_prints_both_and_they_agree():
    result = run("rf", "alexnet", "--verify")
    assert result.exit_code == 0, result.output
    assert "Measured by gradients" in result.output
    assert result.output.count("195") >= 3 and "yes" in result.output


def test_rf_json_contract(tmp_path):
    target = tmp_path / "rf.json"
    assert run("rf", "resnet18", "-f", "json", "-o", str(target), "--verify").exit_code == 0
    data = json.loads(target.read_text())
    assert data["schema"] == "archscope.rf/1"
    assert data["receptive_field"]["size"] == [435, 435]
    assert [s["stride"][0] for s in data["stages"]] == [2, 4, 8, 16, 32]
    assert data["verify"]["agree"] is True and data["verify"]["measured"]["size"] == [435, 435]


def test_rf_pictures_are_written(tmp_path):
    growth, erf = tmp_path / "growth.png", tmp_path / "erf.png"
    result = run("rf", "lenet5", "--plot", str(growth), "--effective", str(erf))
    assert result.exit_code == 0, result.output
    assert growth.read_bytes().startswith(PNG) and erf.read_bytes().startswith(PNG)


def test_rf_of_a_network_without_spatial_layers_is_one_clear_error():
    result = run("rf", "head-fc")
    assert result.exit_code == 2
    assert "no layer with a spatial output" in result.output


def test_rf_csv_has_a_row_per_stage():
    lines = run("rf", "resnet50", "-f", "csv").output.strip().splitlines()
    assert lines[0].startswith("stage,stride")
    assert len(lines) == 1 + 5


EDGE_MODELS = '''
import torch, torch.nn as nn, torch.nn.functional as F

class First(nn.Module):
    def __init__(self, step):
        super().__init__()
        self.step = step
        self.a, self.b = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3)

    def forward(self, x):
        if self.step == "reflect":
            x = F.pad(x, (2, 2, 2, 2), mode="reflect")
        elif self.step == "flip":
            x = torch.flip(x, [3])
        elif self.step == "roll":
            x = torch.roll(x, 3, 2)
        elif self.step == "interpolate":
            x = F.interpolate(x, size=(24, 24), mode="bilinear", align_corners=False)
        x = self.a(x)
        if self.step == "detach":
            x = x.detach()
        if self.step == "threshold":
            x = nn.Threshold(0.5, 2.0)(x - 1e3)
        return self.b(x)

def volume():
    return nn.Sequential(nn.Conv3d(1, 4, 3), nn.ReLU(), nn.Conv3d(4, 4, 3))

def doubled():
    return nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(3, 4, 3))
'''


def test_rf_verify_and_effective_work_for_edge_models(tmp_path):
    """Issue 12: a reflect pad, flip, roll or interpolate first; a detach; a hard threshold; a Conv3d."""
    source = tmp_path / "edges.py"
    source.write_text(EDGE_MODELS)
    cases = [[f"{source}:First", "--arg", f"step='{step}'", "-i", "3x24x24"]
             for step in ("reflect", "flip", "roll", "interpolate", "detach", "threshold")]  # fmt: skip
    cases.append([f"{source}:volume", "-i", "1x12x12x12"])
    for case in cases:
        picture = tmp_path / "erf.png"
        result = run("rf", *case, "--verify", "--effective", str(picture))
        assert result.exit_code == 0, (case, result.output)
        assert "yes" in result.output and picture.read_bytes().startswith(PNG), case


def test_rf_of_an_upsampled_map_reads_as_a_range_and_the_gradients_agree(tmp_path):
    """Issue 19: nearest x2 then a 3x3: every position sees 2 pixels, two neighbours the same two."""
    source = tmp_path / "edges.py"
    source.write_text(EDGE_MODELS)
    result = run("rf", f"{source}:doubled", "-i", "3x16x16", "--verify")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "2 at every position, unevenly spaced (upsampling: the pattern repeats every 2 positions, 1 input pixel on)" in text
    assert "no stride stage" in text and "agree yes" in text
