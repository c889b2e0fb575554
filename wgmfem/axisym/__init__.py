"""Full-vector FEM of bodies of revolution on the (r, z) half-plane (fields ~ exp(i m phi))."""
