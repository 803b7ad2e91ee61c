"""A paragraph written as a template over several indented lines reads as one line, filled."""

from archscope.text.prose import paragraph


def test_line_breaks_and_indentation_become_single_spaces_and_figures_are_formatted():
    text = paragraph(
        """The branch costs {macs:,}
        multiply-accumulates, {share:.1%} of the module.""",
        {"macs": 112_896_000},
        share=0.4567,
    )
    assert text == "The branch costs 112,896,000 multiply-accumulates, 45.7% of the module."


def test_a_value_keeps_its_own_spacing_so_an_empty_sentence_leaves_no_gap():
    template = "It ran.{busy} Then it stopped."
    assert paragraph(template, {"busy": ""}) == "It ran. Then it stopped."
    assert paragraph(template, {"busy": " The machine was busy."}) == "It ran. The machine was busy. Then it stopped."
