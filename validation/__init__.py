"""Validation of wgmfem against the figures and numbers of Adv. Mater. 2015, 27, 169 (Fig. 3).

Run ``python -m validation`` from the repository root; see ``validation/REPORT.md``.
"""
