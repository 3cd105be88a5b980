# achtje in a container: `achtje run` as a non-root user, the SQLite file (if used) on a
# volume, /healthz as the health check. See docs/operating.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ACHTJE_DATABASE_URL=sqlite+aiosqlite:////data/achtje.db \
    ACHTJE_HTTP_HOST=0.0.0.0 \
    ACHTJE_HTTP_PORT=3000

RUN useradd --system --create-home --home-dir /home/achtje --uid 10001 achtje \
    && mkdir /data && chown achtje:achtje /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY scheduler ./scheduler
COPY content ./content
# pip writes every module's bytecode now: at run time the user may not, and
# PYTHONDONTWRITEBYTECODE says not to try. Without it (--no-compile) each start compiled
# some 1,300 modules from source: about 3x the CPU to ready (docs/performance.md).
RUN pip install . && rm -rf /app

WORKDIR /data
VOLUME ["/data"]
USER achtje
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('ACHTJE_HTTP_PORT', '3000'), timeout=4).status == 200 else 1)"]

CMD ["achtje", "run"]
