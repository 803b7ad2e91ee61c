import csv
import dataclasses
import io

from archscope.render.summary_formats import summary_csv, summary_document
from archscope.render.views import summary_view, visible_layers
from archscope.render.writers import markdown


def test_depth_filters_the_same_rows_in_every_format(zoo_summary):
    s = zoo_summary("resnet18")
    shallow = visible_layers(s, 1)
    assert [x.name for x in shallow] == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
    assert len(summary_document(s, 1)["layers"]) == len(shallow)
    assert len(list(csv.DictReader(io.StringIO(summary_csv(s, 1))))) == len(shallow)
    lines = markdown(summary_view(s, 1)).splitlines()
    header = lines.index("| Layer | Type | Output shape | RF | Params | % params | MACs | % MACs | FLOPs |")
    rows = lines[header + 2 : lines.index("", header)]
    assert len(rows) == len(shallow)


def test_csv_keeps_exact_integers(zoo_summary):
    rows = list(csv.DictReader(io.StringIO(summary_csv(zoo_summary("vgg16")))))
    fc = next(r for r in rows if r["name"] == "classifier.0")
    assert (fc["params"], fc["macs"]) == (str(25088 * 4096 + 4096), str(25088 * 4096))


def test_markdown_escapes_pipes_in_cells(zoo_summary):
    s = dataclasses.replace(zoo_summary("lenet5"), source="a | b")
    assert "a \\| b" in markdown(summary_view(s))
