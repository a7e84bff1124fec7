"""The HTTP faces of the gateway: the OpenAI-compatible API, the admin API and the OpenAI wire models."""
