"""Material accountancy statistics (METHODS.md 2.1-2.3): MUF and its covariance, CUMUF,
SITMUF, Page's test on SITMUF, GEMUF, and Page thresholds fixed before the data arrive.

Error model (METHODS.md 2.1): ``observed = true * (1 + S + R)``. A method has a relative
random standard deviation ``d_r`` (here ``r``; R is new for every measurement) and a
relative systematic one ``d_s`` (``s``; S is shared by every measurement of the method
within one calibration period, here the whole series). Variances use the measured values.

For balance periods i = 1..n (0-based in the arrays), with ``T[l, i]`` the sum and
``Q[l, i]`` the sum of squares of flow point l's measurements in period i, and ``C[l, k]``
inventory point l's inventory at boundary k = 0..n (boundary 0 opens period 1, so PB of the
first period is a measurement too):

- ``MUF_i = PB_i + X_i - Y_i - PE_i`` (inputs X, outputs Y, ``PB_i = C[k=i-1]``,
  ``PE_i = C[k=i]``);
- flow point: ``Cov_l(i, j) = [i=j] r^2 Q_i + s^2 T_i T_j`` (the sign of the flow appears
  twice and drops out);
- inventory point: ``K(a, b) = [a=b] r^2 C_a^2 + s^2 C_a C_b`` and ``Cov_l(i, j) = K(i, j) -
  K(i, j-1) - K(i-1, j) + K(i-1, j-1)``. On the diagonal this is ``r^2 (C_{i-1}^2 + C_i^2)
  + s^2 (C_{i-1} - C_i)^2``: the ``-2 C_{i-1} C_i s^2`` cancellation of PB and PE taken by
  the same method; off it, ``-r^2 C_i^2`` between consecutive periods;
- points are independent, except that S is shared by the points measured by the same
  method: those add ``s^2 (a_l a_m^T + a_m a_l^T)`` for each pair, with ``a`` a point's
  signed contribution to MUF (``+T`` for inputs, ``-T`` for outputs, ``C_{i-1} - C_i`` for
  inventories). With one method per point this term is absent.
- ``Sigma`` is the sum; ``sigma_MUF_i = sqrt(Sigma_ii)``; each point's diagonal is reported
  as its contribution (and each shared method's cross terms as that method's).

Sequential tests (METHODS.md 2.3): CUMUF (running sum of MUF); SITMUF ``z = L^{-1} muf``
with ``Sigma = L L^T`` (independent N(0, 1) under H0; ``z_i`` depends on periods 1..i only,
so it is computed forward and never revised); Page's test on SITMUF, ``P_0 = 0``, ``P_i =
max(0, P_{i-1} + z_i - k)``, alarm when ``P_i > h``; GEMUF ``muf^T Sigma^{-1} muf`` against
chi-square with n degrees of freedom.

A period no measurement bears on (``Sigma_ii = 0`` and ``MUF_i = 0``: e.g. a month without
transfers on a route) carries no information: its SITMUF is 0 and GEMUF counts one degree
of freedom fewer. Zero variance with a non-zero MUF, or a covariance that is not positive
definite, raises :class:`SingularCovariance`.

Thresholds (:func:`page_threshold`): under H0 SITMUF is iid N(0, 1), so the overall false
alarm probability of Page's test over n periods depends only on (n, k, h). It is computed
by the Nystroem method (Gauss-Legendre quadrature of the CUSUM's density on ``[0, h]`` plus
its atom at 0, propagated n steps), accurate to about 1e-9, and h is found by root finding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg, optimize
from scipy import stats as sps

from cwledger.accountancy.series import BalanceSeries, slots
from cwledger.errors import CwledgerError

__all__ = [
    "Array",
    "SingularCovariance",
    "flow_covariance",
    "inventory_covariance",
    "shared_method_covariance",
    "sitmuf",
    "SitmufForward",
    "sitmuf_forward",
    "page",
    "Gemuf",
    "gemuf",
    "page_false_alarm",
    "page_threshold",
    "PageTest",
    "page_pair",
    "PageAlarm",
    "Analysis",
    "analyse",
    "Layout",
    "layout",
    "point_totals",
    "muf_and_covariance",
]

Array = NDArray[np.float64]
Index = NDArray[np.intp]


class SingularCovariance(CwledgerError):
    """The covariance of the MUF series is not positive definite where it has to be."""

    code = "singular-covariance"
    status = 422
    problem = "singular-covariance"
    title = "The covariance is singular"

    def __init__(self, period: int | None, detail: str) -> None:
        self.period = period
        where = f"period {period} (0-based)" if period is not None else "covariance"
        super().__init__(f"{where}: {detail}")


def _floats(x: ArrayLike) -> Array:
    return np.asarray(x, dtype=np.float64)


# -- covariance of one point ----------------------------------------------------------


def flow_covariance(T: ArrayLike, Q: ArrayLike, r: float, s: float) -> Array:
    """A flow point's covariance of the MUF series: ``[i=j] r^2 Q_i + s^2 T_i T_j``.

    ``T`` and ``Q`` (shape ``(..., n)``) are the per-period sum and sum of squares of the
    point's measured values; ``r``, ``s`` its method's relative random and systematic
    standard deviations. Returns shape ``(..., n, n)``.
    """
    t, q = _floats(T), _floats(Q)
    cov = (s * s) * (t[..., :, None] * t[..., None, :])
    idx = np.arange(t.shape[-1])
    cov[..., idx, idx] += (r * r) * q
    return cov


def inventory_covariance(C: ArrayLike, r: float, s: float) -> Array:
    """An inventory point's covariance of the MUF series, from its inventories ``C``.

    ``C`` (shape ``(..., n + 1)``) holds the inventory at boundaries 0..n. With
    ``K(a, b) = [a=b] r^2 C_a^2 + s^2 C_a C_b``: ``Cov(i, j) = K(i, j) - K(i, j-1) -
    K(i-1, j) + K(i-1, j-1)`` (periods 1-based). Returns shape ``(..., n, n)``.
    """
    c = _floats(C)
    K = (s * s) * (c[..., :, None] * c[..., None, :])
    idx = np.arange(c.shape[-1])
    K[..., idx, idx] += (r * r) * c * c
    return K[..., 1:, 1:] - K[..., 1:, :-1] - K[..., :-1, 1:] + K[..., :-1, :-1]


def shared_method_covariance(a: ArrayLike, s: float) -> Array:
    """The cross terms of points measured by one method: ``s^2 sum_{l != m} a_l a_m^T``.

    ``a`` (shape ``(points, n)``) holds each point's signed contribution to MUF: ``+T``
    (inputs), ``-T`` (outputs), ``C_{i-1} - C_i`` (inventories). Equal to
    ``s^2 (A A^T - sum_l a_l a_l^T)`` with ``A = sum_l a_l``. Returns ``(n, n)``.
    """
    v = _floats(a)
    total = v.sum(axis=0)
    return (s * s) * (np.outer(total, total) - v.T @ v)


# -- SITMUF, Page, GEMUF ------------------------------------------------------------------


def _informative(sigma: Array, muf: Array) -> NDArray[np.bool_]:
    """Periods with a non-zero variance (in any matrix of the stack); the others must have
    MUF exactly 0."""
    n = sigma.shape[-1]
    diag = np.diagonal(sigma, axis1=-2, axis2=-1).reshape(-1, n)
    keep: NDArray[np.bool_] = np.any(diag != 0.0, axis=0)
    if not keep.all():
        bad = np.any(muf.reshape(-1, n)[:, ~keep] != 0.0, axis=0)
        if bad.any():
            period = int(np.flatnonzero(~keep)[np.argmax(bad)])
            raise SingularCovariance(period, "non-zero MUF with zero variance")
    return keep


def _check_shapes(muf: Array, sigma: Array) -> None:
    n = muf.shape[-1]
    if sigma.shape != (*muf.shape, n):
        raise ValueError(f"muf has shape {muf.shape}, so Sigma needs {(*muf.shape, n)}")


def _forward_substitution(L: Array, b: Array) -> Array:
    """``L^{-1} b`` for a stack of lower-triangular ``L``, one period at a time."""
    z = np.empty_like(b)
    for i in range(b.shape[-1]):
        dot = np.einsum("...j,...j->...", L[..., i, :i], z[..., :i])
        z[..., i] = (b[..., i] - dot) / L[..., i, i]
    return z


def sitmuf(muf: ArrayLike, sigma: ArrayLike) -> Array:
    """SITMUF by batch Cholesky: ``Sigma = L L^T``, ``z = L^{-1} muf``.

    ``muf`` has shape ``(..., n)`` and ``sigma`` ``(..., n, n)`` (a stack of series is
    handled at once). Periods of zero variance and zero MUF get 0. Raises
    SingularCovariance if Sigma is not positive definite on the other periods.
    """
    m, cov = _floats(muf), _floats(sigma)
    _check_shapes(m, cov)
    keep = _informative(cov, m)
    if not keep.all():
        cov = cov[..., keep, :][..., :, keep]
        m = m[..., keep]
    try:
        L = _floats(np.linalg.cholesky(cov))
    except np.linalg.LinAlgError as e:
        if cov.ndim == 2:
            sitmuf_forward(muf, sigma)  # raises, naming the period
        raise SingularCovariance(None, "not positive definite") from e
    z = np.zeros(_floats(muf).shape)
    z[..., keep] = _forward_substitution(L, m)
    return z


class SitmufForward:
    """SITMUF one period at a time: ``z_i`` from periods 1..i only, never revised.

    ``push(covariances, muf)`` takes period i's MUF and its row of the growing Sigma,
    ``Cov(MUF_i, MUF_j)`` for j = 1..i, extends the Cholesky factor by one row
    (``l = L_{i-1}^{-1} c``, ``d = sqrt(Sigma_ii - l.l)``) and returns
    ``z_i = (MUF_i - l.z_{1..i-1}) / d``. Equal to :func:`sitmuf` on the full series.
    """

    def __init__(self) -> None:
        self._L: Array = np.zeros((8, 8))
        self._zk: Array = np.zeros(8)
        self._kept: list[int] = []
        self._z: list[float] = []

    def push(self, covariances: ArrayLike, muf: float) -> float:
        """Period i's SITMUF (i 0-based: the number of periods pushed before), given
        ``Cov(MUF_i, MUF_j)`` for j = 0..i (i + 1 values, its variance last) and ``MUF_i``."""
        row = _floats(covariances)
        i = len(self._z)
        if row.shape != (i + 1,):
            raise ValueError(f"period {i} needs {i + 1} covariances, got shape {row.shape}")
        var = float(row[i])
        if var == 0.0:
            if muf != 0.0:
                raise SingularCovariance(i, "non-zero MUF with zero variance")
            self._z.append(0.0)
            return 0.0
        k = len(self._kept)
        if k == len(self._zk):
            self._grow()
        c = row[self._kept]
        lrow = linalg.solve_triangular(self._L[:k, :k], c, lower=True) if k else c
        d2 = var - float(lrow @ lrow)
        if not d2 > 0.0:
            raise SingularCovariance(i, "covariance not positive definite")
        d = math.sqrt(d2)
        z = (muf - float(lrow @ self._zk[:k])) / d
        self._L[k, :k] = lrow
        self._L[k, k] = d
        self._zk[k] = z
        self._kept.append(i)
        self._z.append(z)
        return z

    def _grow(self) -> None:
        size = 2 * len(self._zk)
        L, zk = np.zeros((size, size)), np.zeros(size)
        k = len(self._kept)
        L[:k, :k], zk[:k] = self._L[:k, :k], self._zk[:k]
        self._L, self._zk = L, zk

    @property
    def values(self) -> Array:
        """SITMUF of the periods pushed so far."""
        return np.array(self._z, dtype=np.float64)


def sitmuf_forward(muf: ArrayLike, sigma: ArrayLike) -> Array:
    """SITMUF of a whole series through :class:`SitmufForward`, period by period."""
    m, cov = _floats(muf), _floats(sigma)
    if m.ndim != 1:
        raise ValueError("sitmuf_forward takes one series; use sitmuf for a stack")
    _check_shapes(m, cov)
    fwd = SitmufForward()
    for i in range(m.shape[0]):
        fwd.push(cov[i, : i + 1], float(m[i]))
    return fwd.values


def page(z: ArrayLike, k: float) -> Array:
    """Page's statistic per period: ``P_0 = 0``, ``P_i = max(0, P_{i-1} + z_i - k)``.

    ``z`` has shape ``(..., n)`` (SITMUF); the result has the same shape. An alarm is
    ``P_i > h``.
    """
    x = _floats(z)
    out = np.empty_like(x)
    p = np.zeros(x.shape[:-1])
    for i in range(x.shape[-1]):
        p = np.maximum(0.0, p + x[..., i] - k)
        out[..., i] = p
    return out


class Gemuf(NamedTuple):
    """GEMUF ``muf^T Sigma^{-1} muf``, its degrees of freedom and chi-square p-value."""

    statistic: float
    dof: int
    p_value: float


def gemuf(muf: ArrayLike, sigma: ArrayLike) -> Gemuf:
    """GEMUF of one series against chi-square with n (informative periods) dof."""
    m, cov = _floats(muf), _floats(sigma)
    _check_shapes(m, cov)
    keep = _informative(cov, m)
    m, cov = m[keep], cov[keep][:, keep]
    dof = int(keep.sum())
    if dof == 0:
        return Gemuf(0.0, 0, 1.0)
    try:
        factor = linalg.cho_factor(cov, lower=True)
    except np.linalg.LinAlgError as e:
        raise SingularCovariance(None, "not positive definite") from e
    g = float(m @ linalg.cho_solve(factor, m))
    return Gemuf(g, dof, float(sps.chi2.sf(g, dof)))


# -- thresholds ---------------------------------------------------------------------------


def page_false_alarm(n: int, k: float, h: float, *, nodes: int | None = None) -> float:
    """P(``P_i > h`` for some i <= n) when ``z_1..z_n`` are iid N(0, 1).

    Nystroem method: the CUSUM after i steps without alarm is an atom ``p_i`` at 0 and a
    density ``f_i`` on ``(0, h]``; with ``phi``, ``Phi`` the standard normal density and
    distribution, ``p_i = p_{i-1} Phi(k) + int f_{i-1}(y) Phi(k - y) dy`` and ``f_i(x) =
    p_{i-1} phi(x + k) + int f_{i-1}(y) phi(x - y + k) dy``, integrated by Gauss-Legendre
    on ``[0, h]`` (``nodes`` points, by default enough for about 1e-9). The answer is
    ``1 - p_n - int f_n``.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not (math.isfinite(k) and math.isfinite(h) and h >= 0):
        raise ValueError(f"k must be finite and h finite and >= 0, got k={k}, h={h}")
    atom = float(sps.norm.cdf(k))
    if h == 0:
        return 1.0 - atom**n
    m = nodes or max(48, math.ceil(12 * h) + 24)
    x, w = np.polynomial.legendre.leggauss(m)
    y, w = h * (x + 1) / 2, w * h / 2
    kernel = sps.norm.pdf(y[:, None] - y[None, :] + k) * w[None, :]
    enter = sps.norm.pdf(y + k)
    leave = sps.norm.cdf(k - y) * w
    p, f = 1.0, np.zeros(m)
    for _ in range(n):
        p, f = p * atom + float(leave @ f), p * enter + kernel @ f
    return min(1.0, max(0.0, 1.0 - p - float(w @ f)))


def page_threshold(n: int, k: float, alpha: float) -> float:
    """The h for which Page's test on n SITMUF values alarms with probability ``alpha``
    under H0 (overall, over the whole series), by root finding on
    :func:`page_false_alarm`. Depends on (n, k, alpha) only: fix it before the data
    arrive. Returns 0 if even h = 0 alarms less often than ``alpha``."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if page_false_alarm(n, k, 0.0) <= alpha:
        return 0.0
    hi = 1.0
    while page_false_alarm(n, k, hi) > alpha:
        hi *= 2.0
    root = optimize.brentq(lambda h: page_false_alarm(n, k, h) - alpha, 0.0, hi, xtol=1e-7)
    return float(root)


@dataclass(frozen=True)
class PageTest:
    """One (k, h) pair of Page's test on SITMUF."""

    k: float
    h: float
    name: str = ""


def page_pair(
    n: int, alpha: float, *, k_abrupt: float = 1.0, k_protracted: float = 0.25
) -> tuple[PageTest, PageTest]:
    """Two Page tests whose joint false-alarm probability over n periods is at most alpha.

    ``k ~ delta / 2`` for a loss of delta sigma per period (METHODS.md 2.3): the defaults
    aim at 2 sigma (abrupt) and 0.5 sigma (protracted). Each gets ``1 - sqrt(1 - alpha)``
    (Sidak); both statistics increase with every z_i, so their non-alarms are positively
    associated and the joint rate is at most alpha.
    """
    each = 1.0 - math.sqrt(1.0 - alpha)
    return (
        PageTest(k_abrupt, page_threshold(n, k_abrupt, each), "abrupt"),
        PageTest(k_protracted, page_threshold(n, k_protracted, each), "protracted"),
    )


# -- the series as arrays ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Layout:
    """A balance series as arrays: built once, then evaluated for any measured values.

    Flow points are indexed ``f = 0..F-1``, inventory points ``v = 0..I-1``, methods
    ``0..nm-1``; ``values`` are the measured values in document order.
    """

    n: int
    methods: tuple[str, ...]
    r: Array  # (nm,) relative random standard deviation per method
    s: Array  # (nm,) relative systematic standard deviation per method
    points: tuple[str, ...]  # every point, in order of first appearance
    flow_points: tuple[str, ...]
    flow_sign: Array  # (F,) +1 input, -1 output
    flow_method: Index  # (F,)
    inventory_points: tuple[str, ...]
    inventory_method: Index  # (I,)
    values: Array  # (M,)
    method_of: Index  # (M,) method of each measurement
    flow_take: Index  # flow measurements, sorted by cell (f * n + period)
    flow_cells: Index  # the cells that hold at least one measurement
    flow_starts: Index  # where each of those cells starts in flow_take
    inventory_take: Index  # (I, n + 1) the measurement at each boundary


def layout(series: BalanceSeries) -> Layout:
    """The arrays of a validated series."""
    n = series.n
    methods = tuple(sorted(series.methods))
    method_index = {m: i for i, m in enumerate(methods)}
    points: dict[str, tuple[str, int]] = {}
    flows: list[str] = []
    inventories: list[str] = []
    flow_sign: list[float] = []
    flow_method: list[int] = []
    inventory_method: list[int] = []
    for m in series.measurements:
        if m.point in points:
            continue
        if m.kind == "inventory":
            points[m.point] = (m.kind, len(inventories))
            inventories.append(m.point)
            inventory_method.append(method_index[m.method])
        else:
            points[m.point] = (m.kind, len(flows))
            flows.append(m.point)
            flow_sign.append(1.0 if m.kind == "input" else -1.0)
            flow_method.append(method_index[m.method])
    where = slots(series)
    cells: list[int] = []
    flow_rows: list[int] = []
    take = np.zeros((len(inventories), n + 1), dtype=np.intp)
    for j, (m, slot) in enumerate(zip(series.measurements, where, strict=True)):
        idx = points[m.point][1]
        if m.kind == "inventory":
            take[idx, slot] = j
        else:
            flow_rows.append(j)
            cells.append(idx * n + slot)
    cell = np.array(cells, dtype=np.intp)
    order = np.argsort(cell, kind="stable")
    sorted_cells = cell[order]
    present, starts = np.unique(sorted_cells, return_index=True)
    r = np.array([series.methods[m].rsd_random for m in methods], dtype=np.float64)
    s = np.array([series.methods[m].rsd_systematic for m in methods], dtype=np.float64)
    return Layout(
        n=n,
        methods=methods,
        r=r,
        s=s,
        points=tuple(points),
        flow_points=tuple(flows),
        flow_sign=np.array(flow_sign, dtype=np.float64),
        flow_method=np.array(flow_method, dtype=np.intp),
        inventory_points=tuple(inventories),
        inventory_method=np.array(inventory_method, dtype=np.intp),
        values=np.array([m.value for m in series.measurements], dtype=np.float64),
        method_of=np.array([method_index[m.method] for m in series.measurements], dtype=np.intp),
        flow_take=np.array(flow_rows, dtype=np.intp)[order],
        flow_cells=present.astype(np.intp),
        flow_starts=starts.astype(np.intp),
        inventory_take=take,
    )


def point_totals(lay: Layout, values: Array) -> tuple[Array, Array, Array]:
    """``T`` and ``Q`` of the flow points (``(..., F, n)``) and ``C`` of the inventory points
    (``(..., I, n + 1)``) for measured ``values`` of shape ``(..., M)``."""
    batch = values.shape[:-1]
    F, n = len(lay.flow_points), lay.n
    T = np.zeros((*batch, F * n))
    Q = np.zeros((*batch, F * n))
    if lay.flow_take.size:
        x = values[..., lay.flow_take]
        T[..., lay.flow_cells] = np.add.reduceat(x, lay.flow_starts, axis=-1)
        Q[..., lay.flow_cells] = np.add.reduceat(x * x, lay.flow_starts, axis=-1)
    C = values[..., lay.inventory_take]
    return T.reshape(*batch, F, n), Q.reshape(*batch, F, n), C


def muf_and_covariance(lay: Layout, values: Array) -> tuple[Array, Array]:
    """MUF (``(..., n)``) and Sigma (``(..., n, n)``) for measured ``values`` ``(..., M)``.

    The same Sigma as the sum of the per-point covariances and shared-method terms, built
    for a stack at once: ``Sigma = A diag(s^2) A^T + random``, with ``A[:, m]`` the summed
    signed contributions of the points of method m and the random part diagonal (flows,
    ``r^2 (C_{i-1}^2 + C_i^2)``) plus ``-r^2 C_i^2`` next to it (inventories).
    """
    T, Q, C = point_totals(lay, values)
    a_flow = lay.flow_sign[:, None] * T
    a_inv = C[..., :-1] - C[..., 1:]
    muf = a_flow.sum(axis=-2) + a_inv.sum(axis=-2)
    nm = len(lay.methods)
    flow_onehot = np.eye(nm)[lay.flow_method] * lay.s  # (F, nm), scaled by s
    inv_onehot = np.eye(nm)[lay.inventory_method] * lay.s
    A = np.swapaxes(a_flow, -1, -2) @ flow_onehot + np.swapaxes(a_inv, -1, -2) @ inv_onehot
    sigma = A @ np.swapaxes(A, -1, -2)
    r_flow = lay.r[lay.flow_method][:, None] ** 2
    r_inv = lay.r[lay.inventory_method][:, None] ** 2
    c2 = C * C
    diag = (r_flow * Q).sum(axis=-2) + (r_inv * (c2[..., :-1] + c2[..., 1:])).sum(axis=-2)
    off = (r_inv * c2[..., 1:-1]).sum(axis=-2)
    idx = np.arange(lay.n)
    sigma[..., idx, idx] += diag
    sigma[..., idx[:-1], idx[1:]] -= off
    sigma[..., idx[1:], idx[:-1]] -= off
    return muf, sigma


# -- the analysis of one series --------------------------------------------------------


def _floatlist(a: Array) -> list[float]:
    return [float(v) for v in a]


@dataclass(frozen=True, eq=False)
class PageAlarm:
    """Page's test with one (k, h) on the series: its statistic and first alarm (0-based)."""

    k: float
    h: float
    name: str
    statistic: Array
    first_alarm: int | None

    def to_json(self) -> dict[str, Any]:
        """As ``Analysis.to_json`` writes it."""
        return {
            "name": self.name,
            "k": self.k,
            "h": self.h,
            "first_alarm": self.first_alarm,
            "page": _floatlist(self.statistic),
        }


@dataclass(frozen=True, eq=False)
class Analysis:
    """MUF, sigma-MUF, CUMUF, Sigma, SITMUF, Page (for the series' k), GEMUF and the
    contribution of each point (and of each method shared by several points) to
    ``sigma_MUF^2``, period by period."""

    muf: Array
    sigma_muf: Array
    cumuf: Array
    covariance: Array
    sitmuf: Array
    page_k: float
    page: Array
    gemuf: float
    gemuf_dof: int
    gemuf_p: float
    contributions: dict[str, Array]
    shared_methods: dict[str, Array] = field(default_factory=dict)
    alarms: tuple[PageAlarm, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The analysis as a JSON object (lists of floats; periods in order)."""
        out: dict[str, Any] = {
            "muf": _floatlist(self.muf),
            "sigma_muf": _floatlist(self.sigma_muf),
            "cumuf": _floatlist(self.cumuf),
            "covariance": [_floatlist(row) for row in self.covariance],
            "sitmuf": _floatlist(self.sitmuf),
            "page": _floatlist(self.page),
            "contributions": {p: _floatlist(v) for p, v in self.contributions.items()},
            "gemuf": self.gemuf,
            "gemuf_p": self.gemuf_p,
            "gemuf_dof": self.gemuf_dof,
        }
        if self.shared_methods:
            out["shared_methods"] = {m: _floatlist(v) for m, v in self.shared_methods.items()}
        if self.alarms:
            out["alarms"] = [a.to_json() for a in self.alarms]
        return out


def _alarm(z: Array, test: PageTest) -> PageAlarm:
    statistic = page(z, test.k)
    over = np.flatnonzero(statistic > test.h)
    first = int(over[0]) if over.size else None
    return PageAlarm(test.k, test.h, test.name, statistic, first)


def analyse(
    series: BalanceSeries, h: Sequence[float] = (), tests: Sequence[PageTest] = ()
) -> Analysis:
    """Every statistic of one series, with Sigma from the measured values.

    ``h``: thresholds for Page's test with the series' ``page_k``; ``tests``: further
    (k, h) pairs (e.g. :func:`page_pair`). Each gives a :class:`PageAlarm`.
    """
    lay = layout(series)
    T, Q, C = point_totals(lay, lay.values)
    n = lay.n
    signed: dict[str, Array] = {}
    covs: dict[str, Array] = {}
    for f, point in enumerate(lay.flow_points):
        m = lay.flow_method[f]
        covs[point] = flow_covariance(T[f], Q[f], float(lay.r[m]), float(lay.s[m]))
        signed[point] = lay.flow_sign[f] * T[f]
    for v, point in enumerate(lay.inventory_points):
        m = lay.inventory_method[v]
        covs[point] = inventory_covariance(C[v], float(lay.r[m]), float(lay.s[m]))
        signed[point] = C[v, :-1] - C[v, 1:]
    covariance = np.zeros((n, n))
    for cov in covs.values():
        covariance += cov
    shared: dict[str, Array] = {}
    method_of_point = {p: lay.flow_method[f] for f, p in enumerate(lay.flow_points)}
    method_of_point |= {p: lay.inventory_method[v] for v, p in enumerate(lay.inventory_points)}
    for mi, method in enumerate(lay.methods):
        members = [p for p in lay.points if method_of_point[p] == mi]
        if len(members) > 1:
            cross = shared_method_covariance(np.stack([signed[p] for p in members]), lay.s[mi])
            covariance += cross
            shared[method] = np.diagonal(cross).copy()
    muf = np.zeros(n)
    for a in signed.values():
        muf += a
    z = sitmuf(muf, covariance)
    g = gemuf(muf, covariance)
    pairs = [PageTest(series.page_k, float(hh)) for hh in h] + list(tests)
    return Analysis(
        muf=muf,
        sigma_muf=np.sqrt(np.diagonal(covariance)),
        cumuf=np.cumsum(muf),
        covariance=covariance,
        sitmuf=z,
        page_k=series.page_k,
        page=page(z, series.page_k),
        gemuf=g.statistic,
        gemuf_dof=g.dof,
        gemuf_p=g.p_value,
        contributions={p: np.diagonal(covs[p]).copy() for p in lay.points},
        shared_methods=shared,
        alarms=tuple(_alarm(z, t) for t in pairs),
    )
