"""Accuracy of entropy, logpdf and KL against mpmath (correctness issue, item 5).

Each ``cases_*.py`` module here covers a group of families with a function
``checks()`` that yields :class:`Check` rows: expfam's float64 value beside mpmath's
value computed at 60 digits *from the natural parameters the expfam object holds*
(``d.natural``, exact floats), so that what is measured is the function, not the
rounding of a parameter conversion.  ``tests/test_precision.py`` asserts the floor on
every row; ``benchmarks/bench_precision.py`` prints the table of worst errors.
"""
