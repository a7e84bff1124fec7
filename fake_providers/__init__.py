"""Test support, not part of the installed product: fake OpenAI, Azure OpenAI, Anthropic and Bedrock APIs as a
real HTTP server on 127.0.0.1 (:mod:`fake_providers.server`), for the tests, the benchmarks and a no-key demo.

From a checkout: ``python -m fake_providers --port 9100`` or ``tollgate fake-providers --port 9100``.
"""
