# camgate broker image. Configure with CAMGATE_CONFIG (a TOML file, see config/camgate.example.toml) and
# CAMGATE_* environment variables; mount the inventory and MOU documents read-only. compose.yaml is the
# production shape (PostgreSQL + camgate); README "Container image" has a `docker run` example.
#
# Three stages: the console's hls.js from npm (package-lock.json, npm ci), the wheel (whose build refuses to run
# without that file, tools/camgate_build.py), and the runtime image with the wheel installed (no Node in it).

FROM node:20-bookworm-slim AS console
WORKDIR /src/broker/console
COPY broker/console/package.json broker/console/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
 && mkdir -p static/vendor \
 && cp node_modules/hls.js/dist/hls.min.mjs static/vendor/hls.mjs

FROM python:3.11-slim-bookworm AS wheel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY tools ./tools
COPY broker ./broker
COPY adapters ./adapters
COPY --from=console /src/broker/console/static/vendor ./broker/console/static/vendor
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/camgate --create-home camgate \
 && chmod 0700 /var/lib/camgate
COPY --from=wheel /wheels /tmp/wheels
RUN pip install /tmp/wheels/*.whl && rm -rf /tmp/wheels
WORKDIR /opt/camgate
COPY policies ./policies
COPY config ./config

# RTSP cameras: the gateway's ffmpeg never holds a camera's credentials, in its arguments or its environment; it
# reads the stream from the broker's credential relay on 127.0.0.1 (README "RTSP cameras: the gateway", Credentials).
USER camgate
ENV CAMGATE_DATA_DIR=/var/lib/camgate \
    CAMGATE_POLICY__MODEL=/opt/camgate/policies/model.conf \
    CAMGATE_SERVER__HOST=0.0.0.0
EXPOSE 8080
# GET /readyz on the port the broker is configured with (CAMGATE_SERVER__PORT or [server] port), not a fixed one.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s CMD ["python", "-m", "broker.cli.healthcheck"]
CMD ["camgate", "serve"]
