# One command to set up and run the bot, one to set up and run the tests.
#   make run    creates .venv, installs the project, builds the index if needed and starts
#               the Telegram bot (POLICYBOT_TELEGRAM_TOKEN set) or a local terminal chat
#               and the web page (it prints the address).
#   make test   creates .venv with the dev extras and runs the test suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch must come from this exact pin before sentence-transformers (see README).
TORCH_PIN := torch==2.13.0

.PHONY: run test eval bench docker-check setup setup-dev clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Apertium's Nynorsk→Bokmål pair, a Debian package: installed when we can (root with
# apt-get, as on CI and in Docker); otherwise Nynorsk falls back to a built-in word list
# and this says so.
$(VENV)/.system: | $(BIN)/python
	@if command -v apertium >/dev/null 2>&1 && apertium -l 2>/dev/null | grep -qw nno-nob; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installerer apertium-nno-nob (nynorsk → bokmål) …"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends apertium-nno-nob) >/dev/null 2>&1 \
	  || echo "Merk: kunne ikke installere apertium-nno-nob; nynorsk oversettes med en innebygd ordliste."; \
	else echo "Merk: apertium-nno-nob mangler (installer med: sudo apt-get install apertium-nno-nob); nynorsk oversettes med en innebygd ordliste."; fi
	@touch $@

# Debian's chromium and chromium-driver for the browser tests (tests/test_browser.py),
# and an emoji font so the screenshots show the buttons' 👍/👎/📖 as people see them:
# installed when we can (root with apt-get, as on CI); otherwise this says so, and the
# browser tests fail with the same advice (they never skip).
$(VENV)/.browser: | $(BIN)/python
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 \
	  && [ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installerer chromium og chromium-driver (nettlesertestene) …"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-noto-color-emoji) >/dev/null 2>&1 \
	  || echo "Merk: kunne ikke installere chromium og chromium-driver; nettlesertestene vil feile."; \
	else echo "Merk: chromium, chromium-driver eller fonts-noto-color-emoji mangler (installer med: sudo apt-get install chromium chromium-driver fonts-noto-color-emoji); uten chromium feiler nettlesertestene."; fi
	@touch $@

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	PYTHONWARNINGS=ignore $(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q $(TORCH_PIN)
	PYTHONWARNINGS=ignore $(BIN)/pip install -q -e '.[st,dev]'
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed $(VENV)/.system
setup-dev: $(VENV)/.installed-dev $(VENV)/.system $(VENV)/.browser

run: setup
	$(BIN)/policybot start

test: setup-dev
	$(BIN)/python -m pytest -q

# dev set (the decision cross-validated), then the held-out questions nothing is fitted on
eval: setup-dev
	$(BIN)/policybot eval tests/data/dev.jsonl --out docs/eval-latest.json
	$(BIN)/policybot eval tests/data/holdout.jsonl --no-cv --out docs/eval-holdout.json
	$(BIN)/policybot check --eval tests/data/claims.jsonl --out docs/check-claims.txt

bench: setup-dev
	$(BIN)/python benchmarks/bench_index.py
	$(BIN)/python benchmarks/bench_search.py
	$(BIN)/python benchmarks/bench_first_answer.py

# Builds the Docker image and runs it for real (minutes; needs root for the Docker engine).
docker-check: setup-dev
	$(BIN)/python tools/docker_check.py

clean:
	rm -rf $(VENV) .policybot
