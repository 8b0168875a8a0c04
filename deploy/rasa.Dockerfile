# The Rasa image: the Rasa server and the action server (Rasa 3.6 needs Python 3.10), each started
# through its gate (rasa_gate/, docs/security.md). The model is trained once, before the build
# (`make train` in CI), and shipped inside the image at /app/models; RASA_MODEL names it.
# Build from the repository root: docker build -f deploy/rasa.Dockerfile -t orderline/rasa:<version> .
FROM python:3.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements-rasa.txt ./
# The Makefile's pins: pip<24.1 resolves Rasa 3.6's metadata.
RUN python -m venv .venv-rasa && .venv-rasa/bin/pip install "pip<24.1" \
    && .venv-rasa/bin/pip install -r requirements-rasa.txt && .venv-rasa/bin/pip check

COPY config.yml credentials.yml endpoints.yml ./
COPY domain domain
COPY actions actions
COPY rasa_gate rasa_gate
COPY models/orderline.tar.gz models/orderline.tar.gz

RUN useradd --system --uid 10001 --home-dir /app orderline && chown orderline /app
USER orderline
EXPOSE 5005 5055
CMD [".venv-rasa/bin/python", "-m", "rasa_gate.serve", "--enable-api", "--port", "5005", "--model", "models", "--endpoints", "endpoints.yml"]
