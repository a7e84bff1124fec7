"""Training of the semantic cache's answer verifier (weights ship in deployments/cache/verifier_weights.npz)."""
