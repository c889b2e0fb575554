"""Peer benchmark: wgmfem's 2-D cross-section FEM against NGSolve on the same problems, and the
exact solver against the mpmath reference. Run ``python -m benchmarks.peers [--quick]``; NGSolve
is only imported by the worker processes (``pip install -e '.[bench]'``)."""
