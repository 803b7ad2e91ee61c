"""`archscope report` and `summary --plot`: one self-contained page, and the per-layer picture."""

import base64
import re

from typer.testing import CliRunner

from archscope.cli import app

PNG = b"\x89PNG\r\n\x1a\n"


def run(*args):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "120"})


def embedded_pngs(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)]


def test_html_report_is_one_file_with_tables_and_pictures(tmp_path):
    target = tmp_path / "googlenet.html"
    result = run("report", "googlenet", "-o", str(target), "--bench")
    assert result.exit_code == 0, result.output
    page = target.read_text()
    assert page.startswith("<!doctype html>") and "<h1>googlenet</h1>" in page
    assert "587 (channels 0-383)" in page  # inception 5b's parts
    assert "inception5b" in page and "Benchmark" in page and "Median ms" in page
    pictures = embedded_pngs(page)
    assert len(pictures) == 3 and all(p.startswith(PNG) for p in pictures)
    assert "src='http" not in page and 'src="http' not in page  # nothing fetched from elsewhere


def test_markdown_report(tmp_path):
    target = tmp_path / "resnet18.md"
    assert run("report", "resnet18", "-o", str(target)).exit_code == 0
    text = target.read_text()
    assert text.startswith("# resnet18") and "| Receptive field | 435 (stride 32, padding 217)" in text
    # Pictures are files beside it, linked: GitHub does not show data-URI images.
    assert embedded_pngs(text) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resnet18.growth.png", "resnet18.layers.png", "resnet18.md", "resnet18.svg"]
    for name in ("resnet18.layers.png", "resnet18.growth.png", "resnet18.svg"):
        assert f"]({name})" in text
    assert (tmp_path / "resnet18.layers.png").read_bytes().startswith(PNG)
    assert len(text) < 20_000


def test_report_needs_a_known_extension_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "report.pdf"
    result = run("report", "vgg16", "-o", str(target))
    assert result.exit_code == 2 and "name it report.html or report.md" in result.output
    assert list(tmp_path.iterdir()) == []


def test_summary_plot_writes_the_per_layer_chart(tmp_path):
    picture = tmp_path / "layers.png"
    result = run("summary", "vgg16", "--plot", str(picture))
    assert result.exit_code == 0 and picture.read_bytes().startswith(PNG)


def test_a_markdown_report_replaces_its_own_earlier_pictures_and_says_so(tmp_path):
    target = tmp_path / "r.md"
    assert run("report", "lenet5", "-o", str(target)).exit_code == 0
    again = run("report", "lenet5", "-o", str(target))
    assert again.exit_code == 0, again.output
    assert f"wrote {tmp_path / 'r.svg'} (replacing the earlier page's picture)" in again.output


def test_a_markdown_report_never_overwrites_a_file_the_user_did_not_name(tmp_path):
    mine = tmp_path / "r.svg"
    mine.write_text("my own drawing")
    result = run("report", "lenet5", "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "r.md does not show; move it, or name the report otherwise" in result.output and "r-2.md" in result.output
    assert mine.read_text() == "my own drawing"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.svg"]  # refused before the run: nothing written


def test_a_symbolic_link_beside_a_markdown_report_is_not_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("unrelated")
    (tmp_path / "r.growth.png").symlink_to(elsewhere)
    result = run("report", "lenet5", "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 2 and "it is a symbolic link" in result.output
    assert elsewhere.read_text() == "unrelated" and not (tmp_path / "r.md").exists()


def test_the_help_names_the_files_a_markdown_report_writes_beside_it():
    text = " ".join(run("report", "--help").output.split())
    assert "report.md: a page whose pictures are files beside it (report.svg, report.layers.png" in text
    assert "report.html: one self-contained page" in text
