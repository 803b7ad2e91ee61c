"""The formula makers: one rule, run with numbers it counts, run with symbols it says itself."""

import pytest
import torch

from archscope.analysis.formula import COUNT, EXPLAIN, FormulaError, number_text
from archscope.analysis.ops import aten, explain_call, rule_for
from tests.analysis.formula_text import evaluate


def conv_macs(f, c_in, c_out, k, g, h_out):
    return f("H_out", h_out) * f("W_out", h_out) * f("C_out", c_out) * f("k_h", k) * f("k_w", k) * f.exact(f("C_in", c_in), f("g", g))


def test_the_same_rule_counts_with_numbers_and_says_itself_with_symbols():
    counted = conv_macs(COUNT, 3, 96, 11, 1, 55)
    said = conv_macs(EXPLAIN, 3, 96, 11, 1, 55)
    assert counted == 55 * 55 * 96 * 11 * 11 * 3 == said.value
    assert said.text() == "H_out·W_out·C_out·k_h·k_w·(C_in/g)"
    assert said.numbers() == "55·55·96·11·11·(3/1)"
    assert said.bindings() == {"H_out": 55, "W_out": 55, "C_out": 96, "k_h": 11, "k_w": 11, "C_in": 3, "g": 1}


def test_sums_rounding_and_names_render_in_the_papers_notation():
    f = EXPLAIN
    length = f.floor(f("H", 227) + 2 * f("p", 0) - f("d", 1) * (f("k", 11) - 1) - 1, f("s", 4)) + 1
    assert length.text() == "⌊(H + 2·p − d·(k − 1) − 1)/s⌋ + 1"
    assert length.numbers() == "⌊(227 + 2·0 − 1·(11 − 1) − 1)/4⌋ + 1"
    assert length.value == 55
    assert f.ceil(f("a", 7), f("b", 2)).value == 4
    flops = 2 * f.named("MACs", 105_415_200) + f.elements("y", [1, 96, 55, 55])
    assert flops.text() == "2·MACs + |y|"
    assert flops.numbers() == "2·105,415,200 + 1·96·55·55"
    assert flops.value == 2 * 105_415_200 + 96 * 55 * 55


def test_a_division_printed_as_exact_must_be_exact_and_a_symbol_has_one_value():
    with pytest.raises(FormulaError):
        EXPLAIN.exact(EXPLAIN("C_in", 3), EXPLAIN("g", 2))
    with pytest.raises(FormulaError):
        (EXPLAIN("k", 3) * EXPLAIN("k", 5)).bindings()


def test_numbers_get_separators_from_ten_thousand():
    assert [number_text(n) for n in (55, 1234, 34944, -3)] == ["55", "1234", "34,944", "(−3)"]


def test_the_printed_text_evaluates_to_the_rows_own_count():
    x = torch.empty(2, 16, 9, 9, device="meta")
    w = torch.empty(32, 8, 3, 3, device="meta")
    args = (x, w, None, [2, 2], [1, 1], [1, 1], False, [0, 0], 2)
    out = aten.convolution.default(*args)
    rule = rule_for(aten.convolution.default)
    said = explain_call(rule, args, {}, out)
    cost = rule.cost(args, {}, out)
    assert said.macs.value == cost.macs == 2 * 5 * 5 * 32 * 3 * 3 * 8
    assert evaluate(said.macs.text(), said.macs.bindings()) == cost.macs
    assert evaluate(said.macs.numbers()) == cost.macs
    assert evaluate(said.flops.text(), said.flops.bindings()) == cost.flops == 2 * cost.macs  # no bias
