"""Derive the polynomial of the compiled logarithm (``expfam._jit.flog``).

``log(1 + f) = 2s + s R(z)`` with ``s = f / (2 + f)``, ``z = s^2`` and
``R(z) = sum_{j>=1} 2 z^j / (2j + 1)``.  For ``1 + f`` in ``[sqrt(1/2), sqrt(2))``,
``|s| <= (sqrt 2 - 1) / (sqrt 2 + 1)``.  ``R(z) / z`` is replaced by its near-minimax
(Chebyshev) polynomial of degree 6 on that range, computed with mpmath at 50 digits;
the script prints the coefficients and the worst relative error of ``R`` on a fine grid.

Run: ``.venv/bin/python scripts/log_coefficients.py``.
"""

import mpmath as mp

mp.mp.dps = 50
S_MAX = (mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)
Z_MAX = S_MAX**2


def r_over_z(z):
    if z == 0:
        return mp.mpf(2) / 3
    s = mp.sqrt(z)
    return (mp.log((1 + s) / (1 - s)) - 2 * s) / (s * z)


def main():
    poly, err = mp.chebyfit(r_over_z, [0, Z_MAX], 7, error=True)
    coeffs = [float(c) for c in reversed(poly)]  # c1 (constant of R/z) first
    worst = max(abs(mp.polyval(poly, z) - r_over_z(z)) / r_over_z(z)
                for z in mp.linspace(0, Z_MAX, 2001))
    for j, c in enumerate(coeffs, 1):
        print(f"_L{j} = {c!r}")
    print(f"worst relative error of R: {float(worst):.2e}")


if __name__ == "__main__":
    main()
