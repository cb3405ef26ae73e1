# syntax=docker/dockerfile:1
# smm-assess: the API (`smm serve`), render workers (`smm worker`) and migrations
# (`smm migrate`) from one image. `docker compose up` runs them all; see README "Docker".
# tests/test_container.py replays this file's install steps, so keep them in RUN lines
# that name the virtualenv (/opt/venv) and the lock file.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtualenv with the locked dependencies and the project ------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY pyproject.toml requirements.lock ./
# The runtime dependencies (pyproject's, not the dev extras) at the lock's exact versions,
# in a layer of their own: it is rebuilt only when pyproject.toml or the lock changes.
RUN --mount=type=cache,target=/root/.cache/pip \
    python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > /tmp/requirements.txt \
    && /opt/venv/bin/pip install --constraint requirements.lock --requirement /tmp/requirements.txt
COPY README.md alembic.ini ./
COPY app ./app
# Editable, so the code stays at /app/app: the service finds migrations/, questionnaires/
# and report_templates/ beside its package (app.config.PROJECT_ROOT).
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/pip install --no-deps --constraint requirements.lock --editable . \
    && /opt/venv/bin/pip check

# --- runtime: Python, the libraries WeasyPrint renders with, the venv and the data -----
FROM ${PYTHON_IMAGE} AS runtime
# Pango, HarfBuzz's subsetter, a text font and an emoji font: the packages
# scripts/system-deps installs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
        fonts-noto-color-emoji \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin smm \
    && mkdir -p /var/lib/smm \
    && chown smm:smm /var/lib/smm
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
COPY migrations ./migrations
COPY questionnaires ./questionnaires
COPY report_templates ./report_templates
COPY examples ./examples
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SMM_HOST=0.0.0.0 \
    SMM_PORT=8000 \
    SMM_LOG_FORMAT=json \
    SMM_DATABASE_URL=sqlite:////var/lib/smm/smm.db \
    SMM_SECRET_KEY_FILE=/var/lib/smm/secret_key
# The code and data belong to root and are read-only to the service; only
# /var/lib/smm (SQLite, the generated secret key) is writable.
USER smm
VOLUME ["/var/lib/smm"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('SMM_PORT', '8000')}/healthz\", timeout=4)"]
CMD ["smm", "serve", "--host", "0.0.0.0"]
