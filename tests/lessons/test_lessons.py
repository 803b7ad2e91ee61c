"""Each lesson's figures, against arithmetic written out here from the papers' layer sizes."""

import subprocess
import sys

import pytest

from archscope.lessons import classic as L
from archscope.lessons import LessonSet, lesson, work_through
from archscope.errors import ArchscopeError

C = 256
POSITIONS = 56 * 56


def test_lesson_1_the_5x5_branch():
    f = L.one_by_one_reduction().figures
    assert f["naive_macs"] == 14 * 14 * 48 * 5 * 5 * 480 == 112_896_000
    assert f["reduced_macs"] == 14 * 14 * 16 * 480 + 14 * 14 * 48 * 5 * 5 * 16 == 5_268_480
    assert f["naive_weights"] == 5 * 5 * 480 * 48
    assert f["reduced_weights"] == 480 * 16 + 5 * 5 * 16 * 48
    assert f["naive_params"] == f["naive_weights"] + 48
    assert f["reduced_params"] == f["reduced_weights"] + 16 + 48


def test_lesson_2_naive_and_reduced_inception():
    f = L.naive_vs_reduced().figures
    module_3a = 192 * 64 + 192 * 96 + 9 * 96 * 128 + 192 * 16 + 25 * 16 * 32 + 192 * 32  # Table 1, 3a
    assert f["module_reduced_macs"] == 28 * 28 * module_3a
    assert f["module_naive_macs"] == 28 * 28 * (192 * 64 + 9 * 192 * 128 + 25 * 192 * 32)
    assert (f["module_naive_out_channels"], f["module_reduced_out_channels"]) == (192 + 64 + 128 + 32, 64 + 128 + 32 + 32)
    assert (f["network_naive_final_channels"], f["network_reduced_final_channels"]) == (4944, 1024)
    assert f["network_naive_macs"] > 7 * f["network_reduced_macs"]


def test_lesson_3_stacked_3x3():
    f = L.stacked_3x3().figures
    assert (f["conv7x7_weights"], f["conv3x3_x3_weights"]) == (49 * C * C, 27 * C * C)
    assert (f["conv5x5_weights"], f["conv3x3_x2_weights"]) == (25 * C * C, 18 * C * C)
    assert f["conv3x3_x3_macs"] == 27 * C * C * POSITIONS
    assert f["conv7x7_receptive_field"] == f["conv3x3_x3_receptive_field"] == 7
    assert f["conv5x5_receptive_field"] == f["conv3x3_x2_receptive_field"] == 5
    assert (f["conv7x7_nonlinearities"], f["conv3x3_x3_nonlinearities"]) == (1, 3)


def test_lesson_4_fc_head_vs_gap():
    lesson = L.fc_vs_gap()
    f = lesson.figures
    assert f["fc_weights"] == 7 * 7 * 1024 * 1024 == 51_380_224
    assert f["gap_weights"] == 0
    fc_params = 25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    assert f["vgg16_fc_params"] == fc_params
    assert f["vgg16_fc_macs"] == 25088 * 4096 + 4096 * 4096 + 4096 * 1000
    assert 0.89 < fc_params / f["vgg16_params"] < 0.90
    assert f["vgg16_fc_macs"] / f["vgg16_macs"] < 0.01
    assert "85% of the computation" in lesson.finding


def test_lesson_5_bottleneck_is_the_papers_own_pairing():
    """Fig. 5: a 64-d basic block beside a 256-d bottleneck, at conv2_x's 56x56."""
    f = L.bottleneck().figures
    assert f["basic_64d_macs"] == 2 * 9 * 64 * 64 * POSITIONS
    assert f["basic_64d_params"] == 2 * 9 * 64 * 64 + 2 * 2 * 64
    assert f["bottleneck_256d_macs"] == (C * 64 + 9 * 64 * 64 + 64 * C) * POSITIONS
    assert f["bottleneck_256d_params"] == C * 64 + 9 * 64 * 64 + 64 * C + 2 * (64 + 64 + C)
    assert f["basic_256d_macs"] == 2 * 9 * C * C * POSITIONS
    # "Similar time complexity": within 10% of each other.
    assert abs(f["basic_64d_macs"] - f["bottleneck_256d_macs"]) / f["basic_64d_macs"] < 0.1


def test_lesson_6_alexnet_split():
    f = L.alexnet_split().figures
    grouped_weights = 256 * 48 * 25 + 384 * 192 * 9 + 256 * 192 * 9
    grouped_macs = 27 * 27 * 256 * 48 * 25 + 13 * 13 * 384 * 192 * 9 + 13 * 13 * 256 * 192 * 9
    assert f["one_gpu_params"] - f["two_gpu_params"] == grouped_weights
    assert f["one_gpu_macs"] - f["two_gpu_macs"] == grouped_macs
    assert f["two_gpu_params"] == 60_965_224


def test_lesson_7_factorised_7x7():
    f = L.factorised_7x7().figures
    assert (f["conv7x7_weights"], f["factorized_weights"]) == (49 * C * C, 14 * C * C)
    assert f["factorized_macs"] == 14 * C * C * POSITIONS
    assert f["conv7x7_receptive_field"] == f["factorized_receptive_field"] == 7


def test_lesson_8_plain_vs_residual():
    lesson = L.plain_vs_residual(seeds=(0,))
    f, m = lesson.figures, lesson.measurements
    assert f["plain_params"] == f["residual_params"] == 853_018
    assert f["plain_macs"] == f["residual_macs"]
    # One addition per element of each of the 27 block outputs: 9 blocks at 16x32x32, 32x16x16, 64x8x8.
    assert f["shortcut_flops"] == 9 * (16 * 32 * 32 + 32 * 16 * 16 + 64 * 8 * 8)
    # Measured: with batch norm, the plain network's first-layer gradient is far larger than its last
    # layer's, the residual network's is not.
    assert m["plain_first_to_last_ratio"] > 10 * m["residual_first_to_last_ratio"]


@pytest.mark.parametrize("key", ["3", 3, "stacked-3x3", " STACKED-3x3 "])
def test_lessons_are_found_by_number_or_id(key):
    assert lesson(key).id == "stacked-3x3"


@pytest.mark.slow  # times two modules until it can decide
def test_lesson_9_macs_are_not_time():
    lesson = L.macs_are_not_time(min_time=0.05)
    f, m = lesson.figures, lesson.measurements
    positions = 28 * 28  # module 3a, Table 1
    assert f["naive_macs"] == positions * (192 * 64 + 9 * 192 * 128 + 25 * 192 * 32)
    assert f["reduced_1x1_macs"] == positions * 192 * (64 + 96 + 16 + 32)
    assert f["reduced_3x3_5x5_macs"] == positions * (9 * 96 * 128 + 25 * 16 * 32)
    assert f["reduced_macs"] == f["reduced_1x1_macs"] + f["reduced_3x3_5x5_macs"]
    # The reductions cut the MACs but add traffic: each writes its output and the next layer reads it.
    assert f["reduced_bytes"] > f["naive_bytes"]
    assert m["mac_ratio"] == pytest.approx(f["naive_macs"] / f["reduced_macs"])
    # Measured: only the structure is held, never a time.
    assert m["naive_ms"] > 0 and m["reduced_ms"] > 0 and m["peak_flops"] > 0 and m["bandwidth_bytes_per_s"] > 0
    assert 0 <= m["reduced_no_mac_time_share"] <= 1 and 0 <= m["reduced_1x1_time_share"] <= 1
    assert m["reduced_no_mac_intensity"] < 1 < m["reduced_3x3_5x5_intensity"]
    assert "MaxPool2d" in lesson.finding or "ReLU" in lesson.finding


def test_an_unknown_lesson_lists_the_choices():
    with pytest.raises(ArchscopeError, match="choose 1-9"):
        lesson("10")


def test_every_figure_of_every_counted_lesson_has_a_label_a_student_can_read():
    from archscope.lessons import LESSONS
    from archscope.lessons.labels import LABELS

    for entry in LESSONS:
        labels = LABELS[entry.id]
        assert all(" " in label and "_" not in label for label in labels.values()), entry.id
        if not entry.measured:  # the measured ones take seconds; their keys are pinned by tests/lessons/test_speed.py
            assert set(entry.make().figures) <= set(labels), entry.id


def test_a_lesson_s_claim_is_the_one_line_its_registration_gives():
    from archscope.lessons import LESSONS

    entry = next(e for e in LESSONS if e.id == "stacked-3x3")
    assert entry.claim.startswith("A stack of three 3x3 layers has the receptive field of one 7x7 layer")
    assert "\n" not in entry.claim and "  " not in entry.claim
    assert lesson("stacked-3x3").statement == entry.claim


def test_the_lessons_keep_their_claims_when_python_strips_docstrings():
    from archscope.lessons import LESSONS

    # python -OO drops every docstring; a claim read from one would be gone, or registration would fail.
    script = "from archscope.lessons import LESSONS; print(sum(bool(e.claim) for e in LESSONS), len(LESSONS))"
    done = subprocess.run([sys.executable, "-OO", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with_claims, lessons = map(int, done.stdout.split())
    assert with_claims == lessons == len(LESSONS)


def test_the_lessons_table_shows_labels_not_keys():
    from typer.testing import CliRunner

    from archscope.cli import app

    out = CliRunner().invoke(app, ["lessons", "3"]).output
    assert "three stacked 3x3 convs: ReLUs" in out and "conv3x3_x3_nonlinearities" not in out


def test_archscope_lessons_lists_them_without_working_them_out(monkeypatch):
    from typer.testing import CliRunner

    from archscope.cli import app
    from archscope.lessons import LESSONS

    monkeypatch.setattr(type(LESSONS[0]), "__call__", lambda self: (_ for _ in ()).throw(AssertionError("ran")))
    out = CliRunner().invoke(app, ["lessons"]).output
    for entry in LESSONS:
        assert entry.id in out and entry.title[:30] in out


def test_working_through_several_lessons_gives_one_record_in_the_order_asked():
    heard = []
    worked = work_through(["bottleneck", 3], on_start=lambda entry: heard.append(entry.number))
    assert [x.number for x in worked.lessons] == heard == [5, 3]
    data = worked.to_dict()
    assert data["schema"] == LessonSet.SCHEMA == "archscope.lessons/1"
    assert data["lessons"][1]["figures"] == lesson(3).figures
