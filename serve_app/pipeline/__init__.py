"""The request path, free of HTTP and Ray: prelude (auth, limits, budget), guard, cache, tier, routed call, and
settlement with the audit record (:mod:`serve_app.pipeline.gateway` reads top to bottom)."""
