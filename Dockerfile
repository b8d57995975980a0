# camgate broker image. Configure with CAMGATE_CONFIG (a TOML file, see config/camgate.example.toml) and
# CAMGATE_* environment variables; mount the inventory and MOU documents read-only.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/camgate --create-home camgate

WORKDIR /opt/camgate
COPY pyproject.toml README.md ./
COPY broker ./broker
COPY adapters ./adapters
COPY policies ./policies
COPY config ./config
RUN pip install --no-cache-dir .

# RTSP cameras: the gateway's ffmpeg takes each camera's credentials in its arguments (ffmpeg has no other way), and
# local users can read other processes' arguments unless /proc is mounted hidepid=2. In this image only camgate's
# own processes run; on a shared host, mount /proc with hidepid=2 (README: RTSP cameras).
USER camgate
ENV CAMGATE_DATA_DIR=/var/lib/camgate \
    CAMGATE_POLICY__MODEL=/opt/camgate/policies/model.conf \
    CAMGATE_SERVER__HOST=0.0.0.0
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/readyz').status != 200)"
CMD ["camgate", "serve"]
