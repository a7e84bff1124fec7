"""Schemathesis hooks for tests/unit/test_openapi.py (loaded through SCHEMATHESIS_HOOKS): how to make a value of
the gateway's own string formats."""

from __future__ import annotations

import json

import schemathesis
from hypothesis import strategies as st

from serve_app.http.protocol import JSON_OBJECT_FORMAT

_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                     max_leaves=8)

# Tool-call arguments: a JSON object encoded as a string.
schemathesis.openapi.format(JSON_OBJECT_FORMAT, st.dictionaries(st.text(max_size=8), _JSON, max_size=4).map(json.dumps))
