"""``build_report`` gathers a page's analyses from one build of the model; the page is drawn elsewhere."""

import json

import archscope
from archscope.analysis.rf.stages import stages
from archscope.render.report import report_markdown, report_pictures

COUNTING_FACTORY = """
import pathlib
import torch.nn as nn

def Net():
    log = pathlib.Path(__file__).with_suffix(".builds")
    log.write_text(log.read_text() + "x" if log.exists() else "x")
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3))
"""


def test_a_report_holds_the_same_figures_as_the_summary_and_rf_commands(zoo_summary):
    report = archscope.build_report("vgg16", depth=2)
    summary = zoo_summary("vgg16")
    assert report.summary.totals == summary.totals
    assert report.stages == stages(summary) == archscope.receptive_fields("vgg16").stages
    assert [p.size for p in report.growth][-1] == [212, 212]  # pool5 (Araujo et al., Distill 2019)
    assert report.bench is None and report.profile is None and report.depth == 2


def test_its_json_gathers_the_documents_of_each_command(zoo_summary):
    report = archscope.build_report("lenet5")
    data = json.loads(json.dumps(report.to_dict()))
    assert data["schema"] == report.SCHEMA == "archscope.report/1"
    assert data["summary"] == json.loads(json.dumps(zoo_summary("lenet5").to_dict()))
    assert [s["index"] for s in data["stages"]] == [s.index for s in report.stages] and data["bench"] is None


def test_the_users_file_is_built_once_for_the_whole_report_and_its_timings(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(COUNTING_FACTORY)
    steps = []
    report = archscope.build_report(f"{path}:Net", "3x16x16", profile=True, on_step=steps.append)
    assert (tmp_path / "net.builds").read_text() == "x"
    assert steps == ["analysing", "profiling"]
    assert report.summary.totals.params == 3 * 8 * 9 + 8 + 8 * 8 * 9 + 8
    page, files = report_markdown(report, str(tmp_path / "r.md"), report_pictures(report))
    assert "## Where the time goes" in page and str(tmp_path / "r.roofline.png") in files
