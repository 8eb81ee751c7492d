"""The demo's selection section: the known truth is ranked first (Weibull draws; the
Poisson law of Rutherford & Geiger's counts), with standard errors printed."""

import re

from expfam.demo import selection_section


def test_selection_section_ranks_the_truth_first():
    text = selection_section(seed=3, n=2000)
    tables = re.findall(r"first 4:\n.*?\n-+.*?\n(\w+)\s", text)
    assert tables == ["weibull", "poisson"], text
    # every row carries its standard error and the paired difference to the best
    assert len(re.findall(r"\d\.\d{4} \+- \d\.\d{4}\s+\d\.\d{4} \+- \d\.\d{4}", text)) == 8
    p = float(re.search(r"p = (\d\.\d\d) \+-", text).group(1))
    assert 0.0 <= p <= 1.0
