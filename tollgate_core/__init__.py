"""What the ingress application (``serve_app``) and the deployments (``deployments``) both need: the config
schema, errors, the state store, the model catalog, the caller's identity and metrics.

Dependencies point one way: ``serve_app`` and ``deployments`` import this package; it imports neither.
"""
