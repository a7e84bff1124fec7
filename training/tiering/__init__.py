"""The tier classifier's dataset and training (weights ship in deployments/tiering/tier_weights.npz)."""
