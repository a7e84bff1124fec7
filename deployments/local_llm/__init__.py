"""The local tier: vLLM through Ray Serve LLM's ``LLMServer``."""
