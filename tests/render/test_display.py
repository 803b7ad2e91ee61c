"""print(summary) and a notebook's view of it: the render layer's tables, registered on the record."""

from archscope.render.views import summary_view
from archscope.render.writers import html, plain_text


def test_print_shows_the_table_the_summary_command_prints_and_a_notebook_its_html(zoo_summary):
    s = zoo_summary("lenet5")  # through archscope.summarize, the API, which loads the render layer
    assert str(s) == plain_text(summary_view(s), None)
    assert s._repr_html_() == html(summary_view(s))
    assert str(s).splitlines()[0] == "lenet5  input 1x1x32x32 -> output 1x10"
