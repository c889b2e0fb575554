"""The six field components of skew modes (wgmfem.exact.skew_field) against independent checks:
the beta = 0 scalar profile (a different formulation), the continuity of the tangential
components at every interface, and the energy fractions that the field's quadrature gives
against those of the root's index derivatives (Hellmann-Feynman, no field involved)."""

from __future__ import annotations

import numpy as np
import pytest

import wgmfem


def _mode(pol, beta, cyl=None, m=600):
    cyl = cyl or wgmfem.Capillary()
    return wgmfem.find_modes(cyl, pol=pol, m=m, p=1, region="core", fsr=False, beta_per_um=beta)[0]


@pytest.mark.parametrize("pol", ["Ez", "Hz"])
def test_beta0_axial_component_is_the_scalar_profile(pol):
    md = wgmfem.find_modes(wgmfem.Capillary(), pol=pol, m=600, p=1, fsr=False)[0]
    r = np.linspace(20.0, 45.0, 801)
    f = md.field_components(r)
    axial = f.Ez if pol == "Ez" else f.Hz
    other = f.Hz if pol == "Ez" else f.Ez
    scalar = md.field(r)
    axial = axial / axial[np.argmax(np.abs(axial))]
    scalar = scalar / scalar[np.argmax(np.abs(scalar))]
    assert np.max(np.abs(axial - scalar)) < 1e-9
    assert np.max(np.abs(other)) < 1e-12  # beta = 0: the polarizations do not mix (rounding only)


@pytest.mark.parametrize("pol", ["Ez", "Hz"])
def test_tangential_components_are_continuous(pol):
    md = _mode(pol, 0.5)
    cyl = md.cylinder
    for radius in cyl.radii_um:
        f = md.field_components([radius * (1 - 1e-13), radius * (1 + 1e-13)])
        for name in ("Ez", "Hz", "Ephi", "Hphi"):
            values = getattr(f, name)
            assert abs(values[0] - values[1]) < 1e-9, (name, radius)
        # the normal D = n^2 E_r is continuous too
        n_in, n_out = cyl.index_at(radius * (1 - 1e-13)), cyl.index_at(radius * (1 + 1e-13))
        assert abs(n_in**2 * f.Er[0] - n_out**2 * f.Er[1]) < 1e-9


def _quadrature_fractions(md, outer_um):
    """Electric energy int n^2 |E|^2 r dr per region (Gauss-Legendre, panels of 0.1 um split at
    the interfaces; the outer medium up to ``outer_um``), normalized."""
    cyl = md.cylinder
    edges = [1e-9, *cyl.radii_um, outer_um]
    x, w = np.polynomial.legendre.leggauss(24)
    nodes, weights, region = [], [], []
    for j, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        cuts = np.linspace(a, b, int((b - a) / 0.1) + 2)
        for c0, c1 in zip(cuts[:-1], cuts[1:]):
            nodes.append(0.5 * (c1 - c0) * x + 0.5 * (c1 + c0))
            weights.append(0.5 * (c1 - c0) * w)
            region.append(np.full(x.size, j))
    r, wt, region = np.concatenate(nodes), np.concatenate(weights), np.concatenate(region)
    f = md.field_components(r)
    n2 = np.array([abs(complex(cyl.index_at(ri))) ** 2 for ri in r])
    density = wt * n2 * f.electric_intensity * r
    parts = np.array([density[region == j].sum() for j in range(cyl.n_layers + 1)])
    return parts / parts.sum()


@pytest.mark.parametrize("pol", ["Ez", "Hz"])
def test_energy_fractions_from_the_field_match_the_index_derivatives(pol):
    md = _mode(pol, 0.5)
    turning = md.m / md.k.real + 2 * np.pi / md.k.real  # the outer medium to its turning point + a wavelength
    fractions = _quadrature_fractions(md, turning)
    for name, value in zip(md.cylinder.region_names, fractions):
        assert value == pytest.approx(md.energy_fractions[name], abs=1e-7)
    # beta mixes the polarizations: the other axial component is no longer zero
    f = md.field_components(np.linspace(20, 39, 400))
    assert 0.01 < np.max(np.abs(f.Hz if pol == "Ez" else f.Ez)) < 1.0
