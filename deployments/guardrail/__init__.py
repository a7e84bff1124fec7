"""Guardrail logic without Ray: PII and secret detection, reversible redaction, output checks,
prompt-injection scoring and the policy that ties them together. ``Guard`` is the facade a
deployment wraps; ``run_scan`` backs ``tollgate guard scan``."""

from deployments.guardrail.errors import GuardrailError, InjectionDetected, OutputBlocked, PiiBlocked
from deployments.guardrail.findings import PII_TYPES, SECRET_TYPES, EntityType, Finding
from deployments.guardrail.guard import Guard, GuardVerdict, InjectionVerdict
from deployments.guardrail.injection import InjectionDetector, InjectionResult
from deployments.guardrail.output import OutputScanner, OutputStream
from deployments.guardrail.policy import DestinationPolicy, GuardrailPolicy, InjectionPolicy, merge_policy
from deployments.guardrail.redaction import RedactionState, StreamRestorer, redact, restore
from deployments.guardrail.scan_cli import run_scan
from deployments.guardrail.scanner import Scanner, default_scanner

__all__ = [
    "PII_TYPES",
    "SECRET_TYPES",
    "DestinationPolicy",
    "EntityType",
    "Finding",
    "Guard",
    "GuardVerdict",
    "GuardrailError",
    "GuardrailPolicy",
    "InjectionDetected",
    "InjectionDetector",
    "InjectionPolicy",
    "InjectionResult",
    "InjectionVerdict",
    "OutputBlocked",
    "OutputScanner",
    "OutputStream",
    "PiiBlocked",
    "RedactionState",
    "Scanner",
    "StreamRestorer",
    "default_scanner",
    "merge_policy",
    "redact",
    "restore",
    "run_scan",
]
