"""Turning records into views (views.py) and views into terminal tables, Markdown, CSV and HTML
(writers.py); plots and the report page. JSON is each record's ``to_dict()``. Never runs a model."""
