"""Small public-domain real data sets shipped with expfam.

- ``rutherford_geiger()``: alpha-particle counts per 7.5 s interval, Rutherford & Geiger,
  Philosophical Magazine 20 (1910) 698-707: 2608 intervals (public domain, published 1910).
- ``horse_kicks()``: deaths by horse kick per Prussian army corps and year, Bortkiewicz,
  *Das Gesetz der kleinen Zahlen* (1898): 200 corps-years (public domain, published 1898).
- ``old_faithful()``: eruption durations and waiting times of the Old Faithful geyser,
  Azzalini & Bowman, Applied Statistics 39 (1990) 357-365, as in R's ``datasets::faithful``:
  272 eruptions (returns the two columns, not frequencies).

Each returns ``(values, frequencies)``: the distinct counts and how often each occurred,
ready for ``expfam.fit(family, values, weights=frequencies)``.
"""

from __future__ import annotations

from importlib import resources

import numpy as np


def _load(name: str) -> tuple[np.ndarray, np.ndarray]:
    text = resources.files(__name__).joinpath(name).read_text()
    rows = [line.split(",") for line in text.splitlines() if line and not line.startswith("#")]
    data = np.array([[float(v) for v in row] for row in rows[1:]])
    return data[:, 0], data[:, 1]


def rutherford_geiger() -> tuple[np.ndarray, np.ndarray]:
    """Alpha-particle counts per 7.5 s interval (Rutherford & Geiger, 1910).

    Returns
    -------
    counts : ndarray
        0, 1, ..., 14 particles.
    intervals : ndarray
        Number of intervals with that count (2608 in all).
    """
    return _load("rutherford_geiger_1910.csv")


def horse_kicks() -> tuple[np.ndarray, np.ndarray]:
    """Deaths by horse kick per army corps and year (Bortkiewicz, 1898).

    Returns
    -------
    deaths : ndarray
        0, ..., 4 deaths.
    corps_years : ndarray
        Number of corps-years with that many deaths (200 in all).
    """
    return _load("bortkiewicz_1898.csv")


def old_faithful() -> tuple[np.ndarray, np.ndarray]:
    """Old Faithful geyser eruptions (Azzalini & Bowman, Applied Statistics 39 (1990)
    357-365; R's ``datasets::faithful``), 272 rows.

    Returns
    -------
    eruptions : ndarray
        Eruption duration in minutes.
    waiting : ndarray
        Waiting time to the next eruption in minutes.
    """
    return _load("old_faithful.csv")
