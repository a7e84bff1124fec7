"""Model tiering: request features, the shipped Tier-1/Tier-2 classifier, its training, and the TierClassifier
deployment that scores a request from the semantic cache's embedding of it."""
