# Orderline: `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
# The pyenv shim for python3.10 exists even when 3.10 isn't the active version; find a real one.
PYTHON310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10; do \
	  $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
RASA_VENV := .venv-rasa
FLASK := $(VENV)/bin/flask --app app
RASA := $(RASA_VENV)/bin/rasa
CHROMIUM := /usr/bin/chromium
# The cluster test's load balancer and its PostgreSQL forward, from Debian.
HAPROXY := /usr/sbin/haproxy
SOCAT := /usr/bin/socat
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The domain is a directory (one file per concern); Rasa's commands default to domain.yml, so name it.
DOMAIN := domain
RASA_SOURCES := config.yml $(wildcard $(DOMAIN)/*.yml) $(shell find data -name '*.yml' 2>/dev/null)

export PYTHONDONTWRITEBYTECODE := 1
# Whatever make starts is on a developer's machine: development, with generated secrets and /try.
# Anything started another way (gunicorn, rq or python by hand, a container, a service manager)
# is production unless ORDERLINE_ENV says otherwise, and refuses to start without its secrets.
export ORDERLINE_ENV ?= development

.PHONY: help setup run test test-app test-rasa test-cluster lint-imports train seed db nlu-eval bench clean

help:
	@echo "make run       set up what is missing and start everything (app :5000, Rasa :5005, actions :5055)"
	@echo "make test      run every test"
	@echo "make test-cluster  Orderline on seven hosts (network namespaces, as root; tests/cluster)"
	@echo "make setup     create .venv (app) and .venv-rasa (Rasa)"
	@echo "make train     train the Rasa model into models/"
	@echo "make seed      load the demo orders"
	@echo "make nlu-eval  score the model on the external evaluation set"
	@echo "make bench     run the benchmarks (see docs/benchmarks.md)"

setup: $(VENV)/.ok $(RASA_VENV)/.ok $(CHROMIUM)

# Browser tests drive Debian's chromium through Playwright; no browser is ever downloaded.
$(CHROMIUM):
	@echo "installing Debian's chromium for the browser tests"
	$(SUDO) apt-get install -y -q chromium || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

$(HAPROXY) $(SOCAT):
	@echo "installing Debian's $(notdir $@) for the cluster test"
	$(SUDO) apt-get install -y -q $(notdir $@) || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q $(notdir $@); }

$(VENV)/.ok: requirements.txt requirements-dev.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(RASA_VENV)/.ok: requirements-rasa.txt
	@test -n "$(PYTHON310)" || { echo "Rasa 3.6 needs Python 3.10; install it (e.g. pyenv install 3.10) or set PYTHON310=/path/to/python3.10"; exit 1; }
	test -x $(RASA_VENV)/bin/python || $(PYTHON310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q --disable-pip-version-check "pip<24.1"
	$(RASA_VENV)/bin/pip install -q --disable-pip-version-check -r requirements-rasa.txt
	$(RASA_VENV)/bin/pip check
	touch $@

db: $(VENV)/.ok
	$(FLASK) db upgrade

seed: db
	$(FLASK) orders seed

# Retrain only when the assistant's sources changed since the newest model.
models/.trained: $(RASA_VENV)/.ok $(RASA_SOURCES)
	@echo "training the assistant (about 2-5 minutes on 2 cores)"
	$(RASA) train --quiet --domain $(DOMAIN) --out models --fixed-model-name orderline
	touch $@

train: $(RASA_VENV)/.ok
	$(RASA) train --domain $(DOMAIN) --out models --fixed-model-name orderline
	touch models/.trained

run: setup db models/.trained
	@$(FLASK) orders seed --if-empty
	@echo
	@echo "  Orderline is starting:"
	@echo "    try it     http://localhost:5000/try  (be a customer: WhatsApp, phone, courier events)"
	@echo "    app        http://localhost:5000/healthz  (API: http://localhost:5000/api/v1/orders/OL-100201)"
	@echo "    readiness  http://localhost:5000/readyz"
	@echo "    Rasa       http://localhost:5005/"
	@echo "    API token  $$($(FLASK) dev-token 2>/dev/null)"
	@echo
	API_TOKEN="$${API_TOKEN:-$$($(FLASK) dev-token 2>/dev/null)}" $(VENV)/bin/honcho start -f Procfile

test: setup models/.trained test-rasa test-app

# The assistant: its data, its actions (against a real order API) and its conversation stories.
# Rasa's validator warns about responses that only custom actions send; the action tests render those.
test-rasa: $(RASA_VENV)/.ok models/.trained
	$(RASA) data validate --domain $(DOMAIN) --quiet
	$(RASA_VENV)/bin/pytest -q tests/actions
	$(RASA_VENV)/bin/pytest -q tests/rasa_gate
	$(RASA) test core --stories tests/stories --model models/orderline.tar.gz --out results/stories \
	  --fail-on-prediction-errors --no-plot --quiet

# The app: every package, on SQLite and PostgreSQL, with real Redis, Rasa and browsers where needed.
test-app: $(VENV)/.ok models/.trained lint-imports
	$(VENV)/bin/pytest -q tests --ignore=tests/actions --ignore=tests/rasa_gate --ignore=tests/cluster

# Orderline on seven hosts, each a network namespace (needs root, like CI): lb (HAProxy), two web,
# two Rasa with their action servers, two workers; 200 WhatsApp conversations, rasa-a and worker-a
# killed midway. netns.sh makes the hosts and always removes them. See tests/cluster/conftest.py.
test-cluster: $(VENV)/.ok models/.trained $(HAPROXY) $(SOCAT)
	bash tests/cluster/netns.sh run -- $(VENV)/bin/pytest -q -s -p no:cacheprovider tests/cluster

# The layers of docs/architecture.md, checked: the core imports no adapter, adapters don't import each other.
lint-imports: $(VENV)/.ok
	$(VENV)/bin/lint-imports --no-cache

nlu-eval: models/.trained
	$(RASA_VENV)/bin/python tools/nlu_eval.py $(NLU_EVAL_ARGS)

bench: setup models/.trained
	$(VENV)/bin/python bench/orders_lookup.py
	$(VENV)/bin/python bench/notifications.py
	$(VENV)/bin/python bench/whatsapp_turn.py
	$(VENV)/bin/python bench/ivr_turns.py
	$(VENV)/bin/python bench/turn_growth.py

clean:
	rm -rf $(VENV) $(RASA_VENV) models/*.tar.gz models/.trained
