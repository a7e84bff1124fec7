"""``tollgate``: the operator's command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from tollgate_core.config import GatewayConfig, load_serve_config, parse_gateway_config
from tollgate_core.errors import ConfigError

__all__ = ["main"]

APP_IMPORT_PATH = "serve_app.app:build_app"
KNOWN_DEPLOYMENTS = frozenset(
    {"Ingress", "Router", "Guardrail", "SemanticCache", "TierClassifier", "OpenAIProxy", "AnthropicProxy",
     "BedrockProxy", "LocalLLM", "Judge"}
)


_NO_TARGET = "no target of its provider kind in the catalog, or routing.proxy_placement: ingress"
_NOT_CREATED = {
    "Guardrail": "guardrails.enabled is false, or guardrails.placement: ingress",
    "SemanticCache": "cache.enabled is false",
    "TierClassifier": "no tiering policy is configured, or tiering.enabled is false",
    "Judge": "judges.enabled is false, or every judge is inline with placement: ingress",
}


def check_config(path: str) -> list[str]:
    """Validate a Serve config file (Ray's schema) and every Tollgate application in it.

    Returns a short summary per application; raises :class:`ConfigError` on the first problem.
    """
    from pydantic import ValidationError as V2ValidationError
    from ray.serve.schema import ServeDeploySchema

    from serve_app.app import deployment_names

    data = load_serve_config(path)
    try:
        ServeDeploySchema.parse_obj(data)
    except Exception as exc:  # Ray's schema raises pydantic (v1-compat or v2) validation errors
        raise ConfigError(f"{path}: not a valid Ray Serve config:\n{exc}") from exc
    summaries = []
    for i, app in enumerate(data.get("applications") or []):
        if app.get("import_path") != APP_IMPORT_PATH:
            summaries.append(f"application {app.get('name', i)}: not Tollgate ({app.get('import_path')}), skipped")
            continue
        try:
            config = parse_gateway_config(app.get("args") or {})
        except ConfigError as exc:
            raise ConfigError(f"{path}: applications[{i}] ({app.get('name')}): {exc.message}") from exc
        except V2ValidationError as exc:  # pragma: no cover - parse_gateway_config wraps these
            raise ConfigError(str(exc)) from exc
        created = deployment_names(config)
        for dep in app.get("deployments") or []:
            if dep.get("name") not in KNOWN_DEPLOYMENTS:
                raise ConfigError(
                    f"{path}: applications[{i}].deployments: unknown deployment {dep.get('name')!r}; "
                    f"Tollgate's are {', '.join(sorted(KNOWN_DEPLOYMENTS))}"
                )
            if dep.get("name") not in created:
                # Serve refuses options for a deployment the application does not create.
                raise ConfigError(
                    f"{path}: applications[{i}].deployments: {dep.get('name')} is not created by this config "
                    f"({_NOT_CREATED.get(dep.get('name'), _NO_TARGET)}); remove its entry or change the config"
                )
        targets = sum(len(m.targets) for m in config.models.values())
        summaries.append(
            f"application {app.get('name', i)}: OK (profile {config.profile}, {len(config.models)} models, "
            f"{targets} targets, local tier {'on' if config.local_llm and config.local_llm.enabled else 'off'})"
        )
    return summaries


def _cmd_config_check(args: argparse.Namespace) -> int:
    try:
        for line in check_config(args.file):
            print(line)
    except ConfigError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


def _cmd_fake_providers(args: argparse.Namespace) -> int:
    """The fakes are test support: they ship in the source tree beside ``serve_app``, not in the wheel."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "fake_providers" / "server.py").is_file() and str(checkout) not in sys.path:
        sys.path.append(str(checkout))
    try:
        from fake_providers.server import main as serve_fakes
    except ImportError:
        print("tollgate: the fake providers are test support and are not installed with the product; run this "
              "from a checkout of the repository (python -m fake_providers)", file=sys.stderr)
        return 2
    serve_fakes(args.port)
    return 0


def _local_args(path: str) -> dict[str, Any]:
    data = load_serve_config(path)
    for app in data.get("applications") or []:
        if app.get("import_path") == APP_IMPORT_PATH:
            return dict(app.get("args") or {})
    raise ConfigError(f"{path} has no Tollgate application")


def _cmd_prepare_model(args: argparse.Namespace) -> int:
    from deployments.local_llm.model_prep import prepare_smollm2

    try:
        config = parse_gateway_config(_local_args(args.config))
    except ConfigError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    if config.local_llm is None or not config.local_llm.enabled:
        print("the config has no local tier; nothing to prepare")
        return 0
    if config.local_llm.model_source is not None:
        print(f"local_llm.model_source is set ({config.local_llm.model_source}); nothing to prepare")
        return 0
    dest = Path(config.local_llm.resolved_model_source(config.server.resolved_data_dir()))
    print(prepare_smollm2(dest, force=args.force))
    return 0


def _cmd_master_key(args: argparse.Namespace) -> int:
    from serve_app.pipeline.auth import resolve_master_key

    try:
        config = parse_gateway_config(_local_args(args.config))
        print(resolve_master_key(config, announce=False))
    except ConfigError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


def _over_json_lines(args: argparse.Namespace, run: Callable[[TextIO, GatewayConfig], int]) -> int:
    """``run`` over ``--file`` (standard input by default) with the config of ``--config``; a config or file
    problem is one line on stderr and exit status 1."""
    try:
        config = parse_gateway_config(_local_args(args.config))
    except ConfigError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    if args.file in (None, "-"):
        return run(sys.stdin, config)
    try:
        with open(args.file, encoding="utf-8") as fh:
            return run(fh, config)
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1


def _cmd_guard_scan(args: argparse.Namespace) -> int:
    from deployments.guardrail.scan_cli import run_scan
    from deployments.guardrail.service import GuardrailService

    def scan(source: TextIO, config: GatewayConfig) -> int:
        rails = config.guardrails
        service = GuardrailService(rails.policy, rails.teams, rails.keys, preload_injection=False)
        if args.policy not in service.names:
            print(f"error: no guardrail policy {args.policy!r} in {args.config}; the config has "
                  f"{', '.join(service.names)} (team:ORG/TEAM and key:KEY_ID come from guardrails.teams and "
                  "guardrails.keys)", file=sys.stderr)
            return 1
        return run_scan(source, sys.stdout, guard=service.guard(args.policy))

    return _over_json_lines(args, scan)


def _cmd_judge_scan(args: argparse.Namespace) -> int:
    from deployments.judges.scan_cli import run_judge_scan
    from tollgate_core.judge_policy import JUDGE_NAMES, resolve_rules

    def scan(source: TextIO, config: GatewayConfig) -> int:
        policy = {n: r for n, r in config.judges.policy.items() if r.get("mode", "inline") != "off"}
        names = [n.strip() for n in args.judges.split(",") if n.strip()] if args.judges else list(policy)
        unknown = [n for n in names if n not in JUDGE_NAMES]
        if unknown or not names:
            print(f"error: unknown judge {', '.join(unknown) or '(none given, none in the config)'}; the judges are "
                  f"{', '.join(JUDGE_NAMES)}", file=sys.stderr)
            return 2
        # A judge the config does not configure runs as an inline block judge with its defaults.
        chosen = {n: policy.get(n, {"mode": "inline", "action": "block"}) for n in names}
        if args.confidential and "prompt_leak" in chosen:
            leak = chosen["prompt_leak"]
            chosen["prompt_leak"] = {**leak, "confidential": [*leak.get("confidential", ()), *args.confidential]}
        try:
            rules = resolve_rules(chosen)
        except ValueError as exc:  # e.g. denied_topics named without topics in the config
            print(f"error: judges: {exc}", file=sys.stderr)
            return 2
        return run_judge_scan(source, sys.stdout, rules)

    return _over_json_lines(args, scan)


def _cmd_cache_probe(args: argparse.Namespace) -> int:
    from deployments.cache.probe_cli import run_probe

    return _over_json_lines(args, lambda source, config: run_probe(source, sys.stdout, config.cache, args.model))


_DEFAULT_TIER_THRESHOLD = 0.5  # a config without tiering policies: the model's own operating point


def _cmd_route_classify(args: argparse.Namespace) -> int:
    from deployments.tiering.classify_cli import run_classify

    def run(source: TextIO, config: GatewayConfig) -> int:
        policies = config.tiering.policies
        name = args.policy or ("auto" if "auto" in policies else next(iter(policies), None))
        if name is not None and name not in policies:
            print(f"error: no policy {name!r} in tiering.policies of {args.config}", file=sys.stderr)
            return 1
        threshold = policies[name].threshold if name is not None else _DEFAULT_TIER_THRESHOLD
        return run_classify(source, sys.stdout, threshold, explain=args.explain)

    return _over_json_lines(args, run)


def _cmd_kuberay(args: argparse.Namespace) -> int:
    from serve_app.cli.kuberay import render

    sys.stdout.write(render(Path(args.config), args.image))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from serve_app.cli.supervise import supervise

    return supervise(args.config, grace_s=args.grace)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tollgate", description="Tollgate LLM gateway")
    sub = parser.add_subparsers(dest="command", required=True)

    config = sub.add_parser("config", help="work with config files").add_subparsers(dest="config_cmd", required=True)
    check = config.add_parser("check", help="validate a Serve config file without starting anything")
    check.add_argument("file")
    check.set_defaults(func=_cmd_config_check)

    run = sub.add_parser("run", help="serve run CONFIG, and on Ctrl-C or SIGTERM stop every process it started "
                         "(Ray, replicas, vLLM's engine, HAProxy) and free its ports")
    run.add_argument("config", nargs="?", default="configs/local.yaml")
    run.add_argument("--grace", type=float, default=8.0,
                     help="seconds Serve may drain before what is left is terminated (default 8)")
    run.set_defaults(func=_cmd_run)

    from serve_app.cli.kuberay import IMAGE

    kuberay = sub.add_parser("kuberay", help="print the KubeRay RayService manifest whose serveConfigV2 is CONFIG")
    kuberay.add_argument("--config", default="configs/prod.yaml")
    kuberay.add_argument("--image", default=IMAGE, help=f"the container image of every Ray pod (default {IMAGE})")
    kuberay.set_defaults(func=_cmd_kuberay)

    fakes = sub.add_parser("fake-providers", help="serve fake OpenAI/Azure/Anthropic/Bedrock APIs on 127.0.0.1")
    fakes.add_argument("--port", type=int, default=9100)
    fakes.set_defaults(func=_cmd_fake_providers)

    prep = sub.add_parser("prepare-model", help="convert the local tier's GGUF model to a Hugging Face folder")
    prep.add_argument("--config", default="configs/local.yaml")
    prep.add_argument("--force", action="store_true")
    prep.set_defaults(func=_cmd_prepare_model)

    guard = sub.add_parser("guard", help="the guardrail's detectors").add_subparsers(dest="guard_cmd", required=True)
    scan = guard.add_parser(
        "scan", help='JSON lines {"id", "text"} or {"id", "messages"} in; findings, redaction and the injection '
        'decision out, one line each'
    )
    scan.add_argument("--file", help="read this file instead of standard input")
    scan.add_argument("--config", default="configs/local.yaml", help="the Serve config whose guardrail policy applies")
    scan.add_argument("--policy", default="default",
                      help="the guardrail policy to apply: default, team:ORG/TEAM or key:KEY_ID (from the config)")
    scan.set_defaults(func=_cmd_guard_scan)

    judge = sub.add_parser("judge", help="evaluation judges of answers").add_subparsers(dest="judge_cmd",
                                                                                         required=True)
    judge_scan = judge.add_parser(
        "scan", help='JSON lines {"id", "messages", "answer", "context"?} in; each judge\'s verdict and the action '
        "out, one line each"
    )
    judge_scan.add_argument("--file", help="read this file instead of standard input")
    judge_scan.add_argument("--config", default="configs/local.yaml", help="the Serve config (checked, as elsewhere)")
    judge_scan.add_argument("--judges", help="comma-separated judges to run (default: those of the config's "
                            "judges.policy; one it does not configure runs inline with action block)")
    judge_scan.add_argument("--confidential", action="append",
                            help="a value the answer must never contain (repeatable; prompt_leak)")
    judge_scan.set_defaults(func=_cmd_judge_scan)
    from serve_app.audit.cli import add_judge_report_command

    add_judge_report_command(judge)

    from serve_app.audit.cli import add_audit_commands
    from serve_app.cli.admin import add_admin_commands, add_cache_admin_commands

    cache = sub.add_parser("cache", help="the response cache").add_subparsers(dest="cache_cmd", required=True)
    probe = cache.add_parser(
        "probe", help='JSON lines {"seed", "query"} in; {"hit", "similarity"} out: would the query hit the seed?'
    )
    probe.add_argument("--file", help="read this file instead of standard input")
    probe.add_argument("--config", default="configs/local.yaml", help="the Serve config whose cache settings apply")
    probe.add_argument("--model", default="probe", help="the requested model both requests name")
    probe.set_defaults(func=_cmd_cache_probe)
    add_cache_admin_commands(cache)

    route = sub.add_parser("route", help="model tiering").add_subparsers(dest="route_cmd", required=True)
    classify = route.add_parser(
        "classify", help='JSON lines {"text"} in; {"tier", "score"} out, as the TierClassifier deployment decides'
    )
    classify.add_argument("--file", help="read this file instead of standard input")
    classify.add_argument("--config", default="configs/local.yaml", help="the Serve config whose policies apply")
    classify.add_argument("--policy", help="the policy whose threshold applies (default: auto)")
    classify.add_argument("--explain", action="store_true", help="also print the features that drove each score")
    classify.set_defaults(func=_cmd_route_classify)

    add_admin_commands(sub)
    add_audit_commands(sub)

    key = sub.add_parser("master-key", help="print the local profile's master key (generating it if needed)")
    key.add_argument("--config", default="configs/local.yaml")
    key.set_defaults(func=_cmd_master_key)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        # The reader went away (`tollgate … | head`). Python's documented recipe: point stdout at devnull so
        # the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
