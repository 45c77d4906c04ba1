# Project Office+ API. Built and run by docker-compose.yml (with PostgreSQL 16); on its own:
#   docker build -t projoffice .
#   docker run -e PROJOFFICE_DATABASE_URL=postgresql://... -e PROJOFFICE_JWT_SECRET=... -p 8000:8000 projoffice
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PROJOFFICE_ENV=production

WORKDIR /srv/projoffice

# Dependencies first (pinned in pyproject.toml), so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself, installed in place (editable): `projoffice migrate` finds alembic.ini and
# alembic/ next to app/, and Swagger UI / ReDoc are served from app/static (no CDN).
COPY README.md alembic.ini ./
COPY alembic ./alembic
COPY app ./app
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /srv/projoffice projoffice \
    && mkdir -p var \
    && chown projoffice var

USER projoffice
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=4)"]

# Bring the schema up to date, then serve. `exec` hands signals (docker stop) to uvicorn.
CMD ["sh", "-c", "projoffice migrate && exec projoffice serve --host 0.0.0.0 --port 8000"]
