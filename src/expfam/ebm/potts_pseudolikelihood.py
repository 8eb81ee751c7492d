"""The pseudolikelihood of a Potts model and its gradient (Besag 1975).

With the full parameters ``h_i(a)``, ``J_ij(a, b)`` (:mod:`.potts`), the conditional of one
variable given the others is a softmax of its local energies

    ``e_ri(a) = h_i(a) + sum_{j != i} J_ij(a, x_rj)``,   ``P_ri(a) = exp(e_ri(a) - lse_a e_ri)``,

over its own states ``a < q_i``.  The mean negative log pseudolikelihood of weighted
samples is ``L = -(1/W) sum_r w_r sum_i (e_ri(x_ri) - lse_a e_ri(a))``.  With the residual
``R_ri(a) = [x_ri = a] - P_ri(a)`` (data minus conditional model: the seed's eq. 5 for
each conditional), ``dL/dh_i(a) = -(1/W) sum_r w_r R_ri(a)`` and, since ``J_ij`` enters the
conditionals of both ``i`` and ``j``,
``dL/dJ_ij(a, b) = -(1/W) sum_r w_r (R_ri(a) [x_rj = b] + [x_ri = a] R_rj(b))``.
The natural parameters of the lattice-gas gauge are entries of the full arrays
(:meth:`Potts.full_params` only places them), so their gradient is read off the same
positions.  Vectorised with NumPy over the samples, in blocks of rows (matrix products over
the one-hot encoding); repeated rows should be passed once with their summed weight.
"""

from __future__ import annotations

import numpy as np

from .potts import Potts

__all__ = ["potts_neg_log_pseudolikelihood"]

#: rows per block (bounds the ``(rows, n, q_max)`` temporaries)
BLOCK = 4096


def potts_neg_log_pseudolikelihood(eta, X, w, W, fixed):
    """``(L, grad L)`` of the mean negative log pseudolikelihood at the lattice-gas
    natural parameters ``eta``.

    Parameters
    ----------
    eta : ndarray, shape (k,)
    X : ndarray, shape (N, n)
        Integer-valued states (any numeric dtype), validated by the caller.
    w : ndarray, shape (N,), or None
        Sample weights.
    W : float
        The weight sum.
    fixed : dict
        The model's fixed parameters (``n``, ``q``, ``edges``).
    """
    q = np.asarray(fixed["q"], dtype=np.int64)
    n, qm = q.size, int(q.max())
    H, C = Potts.full_params(eta, fixed)
    # states beyond q_i never occur: -inf energy in the softmax
    invalid = np.arange(qm)[None, :] >= q[:, None]
    Xi = np.asarray(X).astype(np.int64)
    loss = 0.0
    gH = np.zeros((n, qm))
    gC = np.zeros((n * qm, n * qm))
    eye = np.eye(qm)
    # C as an (n q_max) x (n q_max) matrix with rows (i, a) and columns (j, b): the sums over
    # j and b become matrix products
    Cm = C.transpose(0, 2, 1, 3).reshape(n * qm, n * qm)
    for start in range(0, Xi.shape[0], BLOCK):
        x = Xi[start:start + BLOCK]
        wr = np.ones(x.shape[0]) if w is None else w[start:start + BLOCK]
        O = eye[x]  # one-hot, (r, n, qm)
        Of = O.reshape(x.shape[0], n * qm)
        E = H[None] + (Of @ Cm.T).reshape(x.shape[0], n, qm)  # C[i, i] = 0: no self term
        E = np.where(invalid[None], -np.inf, E)
        top = E.max(axis=2, keepdims=True)
        P = np.exp(E - top)
        Z = P.sum(axis=2, keepdims=True)
        P /= Z
        lse = top[..., 0] + np.log(Z[..., 0])
        e_obs = np.take_along_axis(E, x[..., None], axis=2)[..., 0]
        loss += float(wr @ (lse - e_obs).sum(axis=1))
        R = (O - P) * wr[:, None, None]
        gH -= R.sum(axis=0)
        G = R.reshape(x.shape[0], n * qm).T @ Of  # rows (i, a), columns (j, b)
        gC -= G + G.T
    gC = gC.reshape(n, qm, n, qm).transpose(0, 2, 1, 3)
    fo, po, k = Potts.layout(fixed)
    I, J = Potts.pairs(fixed)
    grad = np.empty(k)
    for i in range(n):
        grad[fo[i]:fo[i + 1]] = gH[i, 1:q[i]]
    for p, (i, j) in enumerate(zip(I.tolist(), J.tolist())):
        grad[po[p]:po[p + 1]] = gC[i, j, 1:q[i], 1:q[j]].ravel()
    return loss / W, grad / W
