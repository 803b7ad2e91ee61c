"""The profile's table says when its times are not the model's alone (fake reports, no timing)."""

from archscope.render.profile_text import profile_view
from archscope.render.writers import plain_text
from tests.bench.fake_reports import layer, machine, report


def test_disagreeing_twins_and_a_busy_machine_are_each_one_warning():
    blocks = [layer("layer3.1", 2.0, 1.9, 2.2), layer("layer3.2", 9.1, 8.5, 9.8)]
    text = " ".join(plain_text(profile_view(report(blocks, where=machine(load=5.0))), None).split())
    assert "layer3.1 and layer3.2 (Bottleneck) do the same work but took 2.00 and 9.10 ms" in text
    assert "18.0% and 82.0% of the time" in text and "beyond their spread" in text
    assert "load average 5 on 2 CPUs" in text  # bench's own check, shared


def test_a_steady_run_on_a_quiet_machine_gets_no_warning():
    blocks = [layer("layer3.1", 2.0, 1.9, 2.2), layer("layer3.2", 2.1, 1.9, 2.3)]
    text = plain_text(profile_view(report(blocks)), None)
    assert "same work" not in text and "busy" not in text


def test_at_80_columns_the_columns_left_out_are_named():
    from archscope.render.writers import terminal

    blocks = [layer(f"layer3.{i}", 2.0, 1.9, 2.2) for i in range(3)]
    text = " ".join(terminal(profile_view(report(blocks)), 80).plain.split())
    left = text.split("Left out to fit the terminal: ", 1)[1].split(";", 1)[0].split(", ")
    headers = [c.header for c in profile_view(report(blocks)).tables()[0].columns]
    assert left and set(left) <= set(headers) and "Type" in left
    assert "a wider terminal or -f csv shows them" in text
    assert "Left out" not in plain_text(profile_view(report(blocks)), None)
