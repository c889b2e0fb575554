"""Modes of a dispersive and/or absorbing stack, found self-consistently.

The census works on real, wavelength-independent indices. For a :class:`MaterialStack`
each mode is then *followed*: the stack is evaluated at the mode's own wavelength,
the mode is re-found in a narrow, independently counted box around the first-order
prediction dk/k = -sum_j Gamma_j dn_j / n_j (the root nearest the prediction: in a
core/wall hybrid the labels may change on the way), and this repeats until the
wavelength no longer moves (|dk/k| < 1e-14, typically 3-4 rounds). Absorption or gain
(complex indices) is added last: the absorbing stack itself is censused in a narrow box
around the mode and the root paired with it is kept (:func:`absorb`), giving Q_total;
Q_rad is the lossless counterpart's and 1/Q_abs = 1/Q_total - 1/Q_rad.
"""

from __future__ import annotations

from .exact.census import find_roots
from .exact.track import track_roots
from .geometry import LayeredCylinder, MaterialStack
from .mode import Mode
from .units import wavelength_nm_from_k

FOLLOW_TOL = 1e-14
MAX_ROUNDS = 12
TRACK_JUMP = 1e-4  # a tracked root further than this (relative) from the prediction is not trusted


class RefineError(RuntimeError):
    """A mode could not be followed to self-consistency (the message says which)."""


def real_part(cyl: LayeredCylinder) -> LayeredCylinder:
    return cyl.real_part()


def wavelength_nm(k: complex) -> float:
    return wavelength_nm_from_k(k.real)


def follow(stack: MaterialStack, md: Mode) -> Mode:
    """``md`` (found on some fixed-index cylinder) carried to self-consistency in ``stack``.

    Fast path: each round re-finds the root by Newton's method (:mod:`wgmfem.exact.track`)
    from the first-order prediction, and the rounds are accelerated by a secant on the
    self-consistency k_out(k) - k = 0; the converged root is then found again in a narrow
    census box (argument-principle counted) whose nearest root must be the same one. If it is
    not, or an iteration fails, every round is a census box (:func:`_follow_by_census`).
    """
    fast = _follow_tracked(stack, md)
    if fast is not None:
        return fast
    return _follow_by_census(stack, md)


def _first_order_shift(k: float, fractions: dict, new: LayeredCylinder, old: LayeredCylinder) -> float:
    """dk = -k sum_j Gamma_j dn_j / n_j (1/um)."""
    return -k * sum(
        fractions.get(name, 0.0) * (n_new - n_old) / n_old for name, n_new, n_old in zip(new.names, new.indices, old.indices)
    )


def _follow_tracked(stack: MaterialStack, md: Mode) -> Mode | None:
    k, fractions = md.k.real, md.energy_fractions
    old = real_part(md.cylinder)
    previous: tuple[float, float] | None = None  # (k_in, k_out - k_in) of the last round
    for rounds in range(1, MAX_ROUNDS + 1):  # noqa: B007 - the count is returned after the loop
        cyl = real_part(stack.at(wavelength_nm(k)))
        k_pred = k + _first_order_shift(k, fractions, cyl, old)
        tracked = track_roots(cyl, md.pol, [md.m], [k_pred])
        if not tracked.converged[0] or abs(tracked.k[0].real / k_pred - 1) > TRACK_JUMP:
            return None
        k_out = float(tracked.k[0].real)
        step = k_out - k
        if abs(step) < FOLLOW_TOL * k:
            k = k_out
            break
        # secant on g(k) = k_out(k) - k: the plain iteration converges only linearly
        k_next = k_out
        if previous is not None and step != previous[1]:
            k_next = k - step * (k - previous[0]) / (step - previous[1])
        previous = (k, step)
        fractions = dict(zip(cyl.region_names, tracked.fractions[:, 0]))
        old, k = cyl, k_next
    else:
        return None
    cyl = real_part(stack.at(wavelength_nm(k)))
    half = 1e-7 * k
    res = find_roots(cyl, md.pol, [md.m], [k - half], [k + half], q_min=2.0)
    if not res.roots:
        return None
    root = min(res.roots, key=lambda r: abs(r.k.real - k))
    if abs(root.k.real - k) > 1e-12 * k:
        return None
    return _mode_from_root(md, root, res.checks[0], stack.at(wavelength_nm(root.k)), rounds, stack)


def _follow_by_census(stack: MaterialStack, md: Mode) -> Mode:
    """``md`` carried to self-consistency with a census box in every round."""
    k, fractions, rounds = md.k.real, md.energy_fractions, 0
    old = real_part(md.cylinder)
    root = check = None
    for rounds in range(1, MAX_ROUNDS + 1):  # noqa: B007 - the count is returned after the loop
        cyl = real_part(stack.at(wavelength_nm(k)))
        shift = _first_order_shift(k, fractions, cyl, old)
        k_pred = k + shift
        half = max(20 * abs(shift), 1e-7 * k)
        root = check = None
        for _ in range(4):
            res = find_roots(cyl, md.pol, [md.m], [k_pred - half], [k_pred + half], q_min=2.0)
            if res.roots:  # continuity: the root nearest the prediction (labels may change in a hybrid)
                root = min(res.roots, key=lambda r: abs(r.k.real - k_pred))
                check = res.checks[0]
                break
            half *= 10
        if root is None:
            raise RefineError(f"{md.label()}: lost while following the dispersion near {wavelength_nm(k_pred):.4f} nm")
        assert root.fractions is not None  # find_roots labels its roots
        moved = abs(root.k.real - k) / k
        k, fractions, old = root.k.real, dict(zip(cyl.region_names, root.fractions)), cyl
        if moved < FOLLOW_TOL:
            break
    full = stack.at(wavelength_nm(k))
    return _mode_from_root(md, root, check, full, rounds, stack)


def absorb(md: Mode, full: LayeredCylinder, stack: MaterialStack | None = None) -> Mode:
    """The resonance of the absorbing/gain stack ``full`` that continues the lossless mode ``md``.

    A narrow box around ``md`` is censused on ``full`` itself (:func:`find_roots` counts the
    lossy roots and pairs each with its lossless counterpart); the root paired with ``md`` is
    kept. With ``stack`` the indices follow the lossy resonance's own wavelength until it no
    longer moves. Q_rad is the lossless counterpart's (with the dispersion factor).
    """
    if full.is_lossless:
        return md
    root, check = _lossy_counterpart(full, md.pol, md.m, md.k, md.label())
    rounds = 0
    if stack is not None:
        for rounds in range(1, MAX_ROUNDS + 1):  # noqa: B007 - the count is returned after the loop
            moved_to = stack.at(wavelength_nm(root.k))
            if moved_to.indices == full.indices:
                break
            full = moved_to
            new, check = _lossy_counterpart(full, md.pol, md.m, root.lossless_k, md.label())
            moved = abs(new.k.real - root.k.real) / root.k.real
            root = new
            if moved < FOLLOW_TOL:
                break
    names = full.region_names
    fractions = {name: float(f) for name, f in zip(names, root.fractions)}
    verification = dict(
        _census_record(md, root, check),
        q_floor=check.q_floor,
        q_floor_total=check.q_floor_total,
        lossless_partner=root.pairing,
        lossless_wavelength_nm=wavelength_nm(root.lossless_k),
    )
    if stack is not None:
        verification["absorption"] = f"lossy census at the indices of the lossy resonance's wavelength ({rounds} rounds)"
        verification["indices_at_resonance"] = {name: complex(n).real for name, n in zip(full.names, full.indices)}
    labels = dict(pol=md.pol, m=md.m, p=root.p, region=names[root.region_index], energy_fractions=fractions,
                  engine=md.engine, verification=verification, nodes=root.nodes, sibling=root.sibling)
    lossless = Mode(k=root.lossless_k, cylinder=real_part(full), **labels)
    return Mode(k=root.k, cylinder=full, q_rad=lossless.Q_resonance, **labels)


def _lossy_counterpart(full: LayeredCylinder, pol: str, m: int, k_lossless: complex, label: str):
    """(root, box check) of the lossy resonance of ``full`` paired with the lossless one at ``k_lossless``."""
    k = k_lossless.real
    half = max(1e-6, 0.1 * max(full.loss_rates())) * k
    res = find_roots(full, pol, [m], [k - half], [k + half], q_min=2.0)
    paired = [(abs(r.lossless_k - k_lossless), r) for r in res.roots if r.lossless_k is not None]
    if not paired:
        raise RefineError(f"{label}: no resonance of the absorbing/gain stack continues it near {wavelength_nm(k_lossless):.4f} nm")
    gap, root = min(paired, key=lambda pair: pair[0])
    if gap > 1e-6 * k:
        raise RefineError(f"{label}: its lossless counterpart was not found again near {wavelength_nm(k_lossless):.4f} nm")
    return root, res.checks[0]


def _census_record(md: Mode, root, check) -> dict:
    """``md``'s verification record updated with how ``root`` was found and counted."""
    return dict(
        md.verification,
        method=root.method,
        residual=root.residual,
        census_ok=check.ok,
        census_count=check.note or f"argument principle: {check.expected} in box, {check.found} found",
    )


def _mode_from_root(md: Mode, root, check, full: LayeredCylinder, rounds: int, stack: MaterialStack) -> Mode:
    names = full.region_names
    lam = wavelength_nm(root.k)
    slopes = {
        name: (complex(mat.index(lam + 0.01)).real - complex(mat.index(lam - 0.01)).real) / 0.02
        for name, mat in zip(stack.names, stack.materials)
    }
    fractions = {name: float(f) for name, f in zip(names, root.fractions)}
    verification = dict(
        _census_record(md, root, check),
        dispersion=f"self-consistent: indices at the resonance wavelength ({rounds} rounds)",
        indices_at_resonance={name: complex(n).real for name, n in zip(full.names, full.indices)},
        dn_dlambda_per_nm=slopes,
    )
    lossless = Mode(pol=md.pol, m=md.m, p=root.p, region=names[root.region_index], k=root.k, cylinder=real_part(full),
                    energy_fractions=fractions, engine=md.engine, verification=verification, nodes=root.nodes,
                    sibling=root.sibling)
    return absorb(lossless, full, stack)


def refine_modes(stack: MaterialStack, modes: list[Mode], window_nm=None) -> list[Mode]:
    """Follow every mode to self-consistency; keep those inside ``window_nm`` afterwards."""
    out = [follow(stack, md) for md in modes]
    if window_nm is not None:
        lo, hi = window_nm
        out = [md for md in out if lo <= md.wavelength_nm <= hi]
    return _unique(out)


def _unique(modes: list[Mode]) -> list[Mode]:
    kept: list[Mode] = []
    for md in modes:
        if any(o.pol == md.pol and o.m == md.m and abs(o.k - md.k) <= 1e-10 * abs(md.k) for o in kept):
            continue
        kept.append(md)
    return kept
