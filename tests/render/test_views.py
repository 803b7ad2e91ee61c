"""Every view at 80, 100 and 160 columns and piped: no number cut, no header cut, every row there."""

import re

import pytest

import archscope
from archscope.render.blocks import Column, Table, View
from archscope.render.views import compare_view, list_view, summary_view
from archscope.render.writers import csv_text, html, markdown, plain_text, table_lines
from archscope.zoo import ZooListing, list_entries

WIDTHS = [80, 100, 160, None]


def numbers(text: str) -> list[str]:
    """Every figure a person reads: 25.6 M, 3,857,973,248, 0.8%, x0.18."""
    return re.findall(r"\d[\d,.]*", text)


@pytest.fixture(scope="module")
def resnet50(zoo_summary):
    return zoo_summary("resnet50")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_summary_fits_its_width_and_every_number_of_the_full_table_is_whole(resnet50, width):
    view = summary_view(resnet50, depth=3)
    text = plain_text(view, width)
    lines = text.splitlines()
    if width is not None:
        assert max(len(line) for line in lines) <= width
    assert "…" not in text or width is not None
    full = plain_text(summary_view(resnet50, depth=3), None)
    # Every number printed at this width is one the unlimited table prints too (nothing cut mid-number).
    assert set(numbers(text)) <= set(numbers(full))
    assert "3,857,973,248" in text


def test_piped_output_is_never_cut_or_wrapped(resnet50):
    text = plain_text(summary_view(resnet50, depth=None), None)
    assert "…" not in text
    assert len([line for line in text.splitlines() if line.startswith(" ") or line[:1].isalpha()]) >= len(resnet50.layers)
    assert "layer4.2.conv3" in text


@pytest.mark.parametrize("width", [80, 100, 160])
def test_archscope_list_takes_a_few_lines_per_network(width):
    entries = list_entries()
    lines = plain_text(list_view(ZooListing(entries)), width).splitlines()
    assert max(len(line) for line in lines) <= width
    assert len(lines) <= 5 * len(entries) + 10


@pytest.mark.parametrize("width", [80, 100])
def test_five_models_compared_fit_by_stacking_pages_never_by_cutting(width):
    comparison = archscope.compare(["vgg16", "resnet50", "googlenet", "alexnet", "inception-v4"])
    text = plain_text(compare_view(comparison), width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text
    for s in comparison.summaries:
        assert s.model in text


def test_no_column_is_narrower_than_the_longest_word_of_its_header():
    table = Table([Column("Name", shrink=True), Column("Memory peak", numeric=True), Column("Notes", wrap=True)],
                  [["a-rather-long-layer-name", "1.5 MiB", "a long note that has to wrap somewhere"]])  # fmt: skip
    lines = table_lines(table, 30)
    assert all(len(line) <= 30 for line in lines)
    assert "1.5 MiB" in "\n".join(lines)
    assert "Memory" in lines[0] and "peak" in lines[1]


def test_columns_drop_by_rank_before_text_gets_cramped():
    table = Table(
        [Column("Name"), Column("Extra", drop=1), Column("Text", wrap=True)],
        [["x" * 10, "y" * 30, "words " * 20]],
    )
    assert "yyy" not in "\n".join(table_lines(table, 60))
    assert "yyy" in "\n".join(table_lines(table, None))


def test_markdown_csv_and_html_write_the_same_rows(resnet50):
    view = summary_view(resnet50, depth=1)
    md, csv, page = markdown(view), csv_text(view), html(view)
    for layer in ("conv1", "layer4", "fc"):
        assert f"| {layer} |" in md and f"\n{layer}," in csv and f">{layer}<" in page
    assert "\nconv1,Conv2d,1,true,1x3x224x224,1x64x112x112,9408,118013952," in csv  # exact integers, not "9.41 K"


def test_print_of_a_summary_is_its_table_and_a_notebook_gets_html(resnet50):
    assert str(resnet50).startswith("resnet50  input 1x3x224x224 -> output 1x1000")
    assert "<table>" in resnet50._repr_html_() and "3.86 G" in resnet50._repr_html_()


def test_a_hostile_view_stays_inert_in_every_writer():
    view = View("<script>x</script>\x1b[31m", [], [Table([Column("Layer")], [["=cmd|' /C calc'!A0\nnext"]])])
    assert "\x1b" not in plain_text(view, 80)
    assert "<script>" not in html(view) and "<script>" not in markdown(view)
    assert "\n'=cmd" in csv_text(view)


def test_csv_is_the_views_exact_data_one_writer_for_every_command():
    from typer.testing import CliRunner

    from archscope.cli import app
    from archscope.lessons import work_through
    from archscope.render.views import lessons_view, rf_view
    from archscope.render.writers import csv_text

    def cli(*args):
        return CliRunner().invoke(app, [*args, "-f", "csv"]).output

    comparison = archscope.compare(["lenet5", "alexnet"])
    assert cli("compare", "lenet5", "alexnet") == csv_text(compare_view(comparison))
    assert csv_text(compare_view(comparison)) == csv_text(compare_view(comparison, by_model_rows=True))
    rows = csv_text(compare_view(comparison)).splitlines()
    assert rows[1].split(",")[4] == str(comparison.baseline.totals.macs)  # exact, not "417 K"
    assert cli("rf", "vgg16") == csv_text(rf_view(archscope.receptive_fields("vgg16")))
    two = csv_text(lessons_view(work_through([1, 3]))).splitlines()
    assert two[0] == "lesson,id,figure,value" and two.count(two[0]) == 1  # one header, both lessons' rows
    assert {line.split(",")[0] for line in two[1:]} == {"1", "3"}
