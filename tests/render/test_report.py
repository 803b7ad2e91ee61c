"""The report page: each layer's row opens onto how its figures are computed."""

import archscope
from archscope.render.report import report_html


def test_each_layer_row_of_the_page_has_a_collapsed_how_this_is_computed_row():
    report = archscope.build_report("lenet5", depth=2)
    page = report_html(report, pictures={})
    shown = [x for x in report.summary.layers if x.depth <= 2]
    assert page.count('<tr class="how">') == len(shown) == len(report.explanation.layers)
    assert page.count("<details><summary>how this is computed</summary>") == len(shown)
    # features.0 is Conv2d(1, 6, 5): its parameters worked out, the line breaks kept in the <pre>.
    assert "k_h·k_w·(C_in/g)·C_out + C_out = 5·5·(1/1)·6 + 6 = 156" in page
    assert "\n                 = ⌊(32 + 2·0 − 1·(5 − 1) − 1)/1⌋ + 1 = 28" in page


def test_the_reports_json_carries_the_explanation():
    data = archscope.build_report("lenet5").to_dict()
    assert data["explain"]["schema"] == "archscope.explain/1"
    assert [x["name"] for x in data["explain"]["layers"]] == [x.name for x in archscope.summarize("lenet5").layers]
