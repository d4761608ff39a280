"""Integration methods of the ODERNN cell: explicit Butcher tableaus and multistep memories.

An n-t-ODERNN (reference/theory.md section 6.2, a project construction) composes its cell
from two classical pieces of numerical analysis:

- the **stages** ``n``: an explicit Runge-Kutta method, given by its Butcher tableau
  ``(a, b, c)``; stage ``i`` evaluates the vector field at ``h + Delta sum_{l<i} a_il K_l``
  and the step adds ``Delta sum_i b_i K_i``;
- the **memory** ``t``: the multistep part ``h_{k+1} = sum_{j=1}^t alpha_j h_{k+1-j} + ...``.

Public names: :class:`ButcherTableau`, :data:`TABLEAUS`, :data:`ALIASES`,
:func:`get_tableau`, :data:`MEMORIES`, :func:`multistep`, :data:`DEFAULT_DAMPING`.
"""

import dataclasses
import math
import numbers

from .errors import CompileError

#: Tolerance of the tableau consistency checks (sum(b) = 1, c_i = sum_j a_ij, order
#: conditions); tableaus typed as decimals (1/3 = 0.3333333333333333) pass.
TOL = 1e-9


def _real(value, field):
    """A finite real number (bools refused: True is not a coefficient)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise CompileError(f"{field} must be a real number, got {type(value).__name__} "
                           f"{value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise CompileError(f"{field} must be finite, got {value!r}")
    return value


def _vector(values, field):
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise CompileError(f"{field} must be a sequence of numbers, got "
                           f"{type(values).__name__} {values!r}")
    return tuple(_real(v, f"{field}[{i}]") for i, v in enumerate(values))


def _order_conditions(a, b, c):
    """The highest order p <= 4 whose Butcher order conditions the tableau satisfies."""
    s = len(b)

    def dot(u, v):
        return sum(x * y for x, y in zip(u, v))

    def amul(v):
        return [dot(a[i], v) for i in range(s)]

    c2 = [x * x for x in c]
    c3 = [x ** 3 for x in c]
    ac = amul(c)
    conditions = [
        [(sum(b), 1.0)],
        [(dot(b, c), 1 / 2)],
        [(dot(b, c2), 1 / 3), (dot(b, ac), 1 / 6)],
        [(dot(b, c3), 1 / 4), (dot(b, [x * y for x, y in zip(c, ac)]), 1 / 8),
         (dot(b, amul(c2)), 1 / 12), (dot(b, amul(ac)), 1 / 24)],
    ]
    order = 0
    for group in conditions:
        if all(abs(value - target) <= TOL for value, target in group):
            order += 1
        else:
            break
    return order


@dataclasses.dataclass(frozen=True)
class ButcherTableau:
    """An explicit Runge-Kutta method.

    Parameters
    ----------
    name : str
        Name shown in reports (``"rk4"``, ``"custom"``).
    a : tuple of tuple of float, shape (s, s)
        Stage coefficients; strictly lower triangular (explicit: stage i reads stages < i).
    b : tuple of float, length s
        Weights of the stages in the step; ``sum(b) = 1`` (consistency).
    c : tuple of float, length s
        Nodes; ``c_i = sum_j a_ij`` (the stage times of an autonomous field).
    order : int
        The method's order of accuracy; checked against the order conditions up to 4 and
        ``order <= s`` (an explicit s-stage method has order at most s).

    Attributes
    ----------
    stages : int
        ``s``, the number of stages (the ``n`` of an n-t-ODERNN).

    Raises
    ------
    CompileError
        Naming the field: wrong shapes, non-finite entries, an implicit ``a``, ``sum(b) != 1``,
        ``c`` inconsistent with ``a``, or an ``order`` the coefficients do not have.

    Notes
    -----
    Lists are accepted and stored as tuples so the tableau is hashable and immutable.
    """

    name: str
    a: tuple
    b: tuple
    c: tuple
    order: int

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise CompileError(f"name must be a non-empty string, got {self.name!r}")
        b = _vector(self.b, "b")
        s = len(b)
        if s == 0:
            raise CompileError("b must have at least one stage weight, got ()")
        if isinstance(self.a, (str, bytes)) or not hasattr(self.a, "__iter__"):
            raise CompileError(f"a must be an s x s nested sequence, got {self.a!r}")
        a = tuple(_vector(row, f"a[{i}]") for i, row in enumerate(self.a))
        if len(a) != s or any(len(row) != s for row in a):
            raise CompileError(f"a must be {s} x {s} (the number of stages in b), got rows "
                               f"of lengths {[len(row) for row in a]}")
        for i in range(s):
            for j in range(i, s):
                if a[i][j] != 0.0:
                    raise CompileError(
                        f"a must be strictly lower triangular (explicit method), got "
                        f"a[{i}][{j}] = {a[i][j]!r}; implicit methods cannot be lowered")
        c = _vector(self.c, "c")
        if len(c) != s:
            raise CompileError(f"c must have {s} entries (one per stage), got {len(c)}")
        if abs(sum(b) - 1.0) > TOL:
            raise CompileError(f"b must sum to 1 (consistency), got sum(b) = {sum(b)!r}")
        for i in range(s):
            if abs(c[i] - sum(a[i])) > TOL:
                raise CompileError(f"c[{i}] must equal sum_j a[{i}][j] = {sum(a[i])!r}, got "
                                   f"{c[i]!r}")
        order = self.order
        if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order < 1:
            raise CompileError(f"order must be a positive integer, got {order!r}")
        if order > s:
            raise CompileError(f"order must be <= the number of stages {s} for an explicit "
                               f"method, got {order}")
        achieved = _order_conditions(a, b, c)
        if min(order, 4) > achieved:
            raise CompileError(f"order {order} is not satisfied by the coefficients of "
                               f"{self.name!r} (they satisfy the order conditions up to "
                               f"{achieved})")
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "c", c)
        object.__setattr__(self, "order", int(order))

    @property
    def stages(self):
        """Number of stages s."""
        return len(self.b)

    def to_dict(self):
        """Plain data (lists of floats) for JSON/TOML; ``get_tableau(d)`` rebuilds it."""
        return {"name": self.name, "a": [list(row) for row in self.a], "b": list(self.b),
                "c": list(self.c), "order": self.order}


_TABLEAUS = (
    ButcherTableau("euler", ((0.0,),), (1.0,), (0.0,), 1),
    ButcherTableau("midpoint", ((0.0, 0.0), (0.5, 0.0)), (0.0, 1.0), (0.0, 0.5), 2),
    ButcherTableau("heun", ((0.0, 0.0), (1.0, 0.0)), (0.5, 0.5), (0.0, 1.0), 2),
    # Kutta's third-order method (1901).
    ButcherTableau("rk3", ((0.0, 0.0, 0.0), (0.5, 0.0, 0.0), (-1.0, 2.0, 0.0)),
                   (1 / 6, 2 / 3, 1 / 6), (0.0, 0.5, 1.0), 3),
    ButcherTableau("rk4", ((0.0, 0.0, 0.0, 0.0), (0.5, 0.0, 0.0, 0.0),
                           (0.0, 0.5, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0)),
                   (1 / 6, 1 / 3, 1 / 3, 1 / 6), (0.0, 0.5, 0.5, 1.0), 4),
)

#: The named explicit methods, by canonical name.
TABLEAUS = {t.name: t for t in _TABLEAUS}

#: Other accepted names (lower case) and the canonical name they mean.
ALIASES = {"rk1": "euler", "rk2": "midpoint", "classical": "rk4", "kutta3": "rk3"}


def get_tableau(method):
    """Resolve a method name, a tableau or a dict to a :class:`ButcherTableau`.

    Parameters
    ----------
    method : str, ButcherTableau or dict
        A name of :data:`TABLEAUS` or :data:`ALIASES` (case-insensitive), a tableau (returned
        as is) or a dict with keys ``a``, ``b``, ``c`` (optional: the row sums of ``a``),
        ``order`` (optional: the highest order, up to 4, the coefficients satisfy) and
        ``name`` (optional, ``"custom"``).

    Returns
    -------
    ButcherTableau

    Raises
    ------
    CompileError
        Unknown name, unknown dict keys or an invalid tableau.

    Examples
    --------
    >>> get_tableau("rk2").name
    'midpoint'
    >>> get_tableau({"a": [[0, 0], [1, 0]], "b": [0.5, 0.5]}).order
    2
    """
    if isinstance(method, ButcherTableau):
        return method
    if isinstance(method, str):
        key = method.strip().lower()
        key = ALIASES.get(key, key)
        if key not in TABLEAUS:
            allowed = sorted(TABLEAUS) + sorted(ALIASES)
            raise CompileError(f"method: unknown method {method!r}; allowed: "
                               f"{', '.join(allowed)}, or a ButcherTableau / dict")
        return TABLEAUS[key]
    if isinstance(method, dict):
        unknown = set(method) - {"name", "a", "b", "c", "order"}
        if unknown:
            raise CompileError(f"method: unknown tableau key(s) {sorted(unknown)}; allowed: "
                               f"name, a, b, c, order")
        for key in ("a", "b"):
            if key not in method:
                raise CompileError(f"method: a tableau dict needs {key!r}")
        a, b = method["a"], method["b"]
        c = method.get("c")
        if c is None:
            try:
                c = [sum(float(x) for x in row) for row in a]
            except (TypeError, ValueError):
                raise CompileError(f"method: a must be a nested sequence of numbers, got "
                                   f"{a!r}") from None
        order = method.get("order")
        if order is None:
            try:
                b_t = _vector(b, "b")
                a_t = tuple(_vector(row, f"a[{i}]") for i, row in enumerate(a))
                c_t = _vector(c, "c")
                order = _order_conditions(a_t, b_t, c_t) if len(a_t) == len(b_t) else 1
            except (TypeError, IndexError):
                order = 1
            order = max(1, min(order, len(b)))
        return ButcherTableau(method.get("name", "custom"), a, b, c, order)
    raise CompileError(f"method must be a name, a ButcherTableau or a dict, got "
                       f"{type(method).__name__} {method!r}")


# --------------------------------------------------------------------------------------
# Multistep memory

#: Damping factor r of the named "damped" memory (see :func:`multistep`).
DEFAULT_DAMPING = 0.9

#: Named memories.
MEMORIES = ("difference", "damped")


def _difference(t, r=1.0):
    # (zeta - r)^t = zeta^t - sum_j alpha_j zeta^(t-j) with alpha_j = (-1)^(j+1) C(t,j) r^j.
    return tuple(float((-1) ** (j + 1) * math.comb(t, j) * r ** j) for j in range(1, t + 1))


def multistep(memory, t, damping=DEFAULT_DAMPING):
    """Memory coefficients ``alpha_1 .. alpha_t`` of ``h_{k+1} = sum_j alpha_j h_{k+1-j} + ...``.

    Parameters
    ----------
    memory : str, sequence of float or dict
        ``"difference"``: the t-th backward difference of reference/theory.md section 6.2,
        ``alpha_j = (-1)^(j+1) C(t, j)``, characteristic polynomial
        ``rho(zeta) = (zeta - 1)^t`` (t = 1: ``alpha = (1,)``, the plain one-step update;
        t = 2: ``2 h_k - h_{k-1}``). For t >= 2 the root 1 is repeated, so it grows like
        ``k^(t-1)`` (not zero-stable).

        ``"damped"``: the same difference with every root moved from 1 to ``r = damping``,
        ``rho(zeta) = (zeta - r)^t``, i.e. ``alpha_j = (-1)^(j+1) C(t, j) r^j``. All roots lie
        strictly inside the unit circle for ``0 <= r < 1`` (a forget factor, as theory.md 6.3
        asks for long memories); t = 1 gives ``alpha = (r,)``, a leaky update.

        A sequence of t numbers: the coefficients themselves. A dict ``{"name": "damped",
        "damping": r}`` (or ``{"name": "difference"}``, ``{"coefficients": [...]}``).
    t : int
        The memory order (number of past states), t >= 1.
    damping : float
        ``r`` of the damped memory, ``0 <= r < 1``.

    Returns
    -------
    tuple of float
        ``(alpha_1, ..., alpha_t)``.

    Raises
    ------
    CompileError
        Naming ``memory``, ``order`` or ``damping``.

    Examples
    --------
    >>> multistep("difference", 2)
    (2.0, -1.0)
    >>> multistep("damped", 2, damping=0.5)
    (1.0, -0.25)
    """
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 1:
        raise CompileError(f"order must be a positive integer (the memory length t), got "
                           f"{t!r}")
    t = int(t)
    if isinstance(memory, dict):
        unknown = set(memory) - {"name", "damping", "coefficients"}
        if unknown:
            raise CompileError(f"memory: unknown key(s) {sorted(unknown)}; allowed: name, "
                               f"damping, coefficients")
        if "coefficients" in memory:
            if "name" in memory or "damping" in memory:
                raise CompileError("memory: give either 'coefficients' or 'name' (+ "
                                   "'damping'), not both")
            return multistep(memory["coefficients"], t)
        if "name" not in memory:
            raise CompileError("memory: a memory dict needs 'name' or 'coefficients'")
        if "damping" in memory and str(memory["name"]).strip().lower() != "damped":
            raise CompileError(f"memory: 'damping' applies to the 'damped' memory only, got "
                               f"name {memory['name']!r}")
        return multistep(memory["name"], t, memory.get("damping", damping))
    if isinstance(memory, str):
        key = memory.strip().lower()
        if key == "difference":
            return _difference(t)
        if key == "damped":
            r = _real(damping, "damping")
            if not 0.0 <= r < 1.0:
                raise CompileError(f"damping must be in [0, 1) (roots strictly inside the "
                                   f"unit circle), got {r!r}")
            return _difference(t, r)
        raise CompileError(f"memory: unknown memory {memory!r}; allowed: "
                           f"{', '.join(MEMORIES)}, or a sequence of {t} coefficients")
    alpha = _vector(memory, "memory")
    if len(alpha) != t:
        raise CompileError(f"memory must have order = {t} coefficients (alpha_1 .. alpha_t), "
                           f"got {len(alpha)}: {alpha!r}")
    return alpha
