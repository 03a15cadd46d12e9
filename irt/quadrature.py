"""Fixed quadrature for the latent trait: an equally spaced grid on the standard normal.

Bock & Aitkin (1981) integrate the marginal likelihood over a fixed set of nodes; with a latent
N(μ, σ²) the nodes are moved, θ_q = μ + σ z_q, and the weights of the standard grid are kept.
"""

from __future__ import annotations

import numpy as np


def standard_normal_grid(n_nodes: int = 61, bound: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z: (Q,) equally spaced on [-bound, bound]; weights w: (Q,) ∝ φ(z), summing to one."""
    if n_nodes < 5:
        raise ValueError(f"need at least 5 quadrature nodes, got {n_nodes}")
    if bound <= 0:
        raise ValueError(f"the grid bound must be positive, got {bound}")
    z = np.linspace(-bound, bound, n_nodes)
    w = np.exp(-0.5 * z**2)
    return z, w / w.sum()
