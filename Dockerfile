# Policybot: the Telegram bot with its index built in.
#   docker build -t policybot .
#   docker build -t policybot --build-arg ST_MODEL=intfloat/multilingual-e5-base .   (bakes in a larger model)
#   docker run -e POLICYBOT_TELEGRAM_TOKEN=... policybot
# See docs/operations.md ("Docker"); `make docker-check` builds and runs it for real.

FROM python:3.11-slim AS build
ARG ST_MODEL=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HOME=/opt/hf POLICYBOT_DATA_DIR=/data
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY retrieval retrieval
COPY index index
COPY corpus corpus
# The same install as the README: the project into a venv; with ST_MODEL, torch pinned to
# 2.13.0 first and then the optional sentence-transformers extra.
RUN if [ -n "$ST_MODEL" ]; then \
        pip install --no-cache-dir torch==2.13.0 && pip install --no-cache-dir ".[st,postgres]"; \
    else \
        pip install --no-cache-dir ".[postgres]"; \
    fi
# Build the index now, so a new container answers at once. With ST_MODEL the model is
# fetched here, at build time, and baked into the image.
RUN mkdir -p /opt/hf /data && \
    if [ -n "$ST_MODEL" ]; then export POLICYBOT_EMBEDDING_MODEL="st:$ST_MODEL"; fi && \
    policybot index build && policybot index verify && rm -f /data/index/embed-cache.sqlite /data/salt

FROM python:3.11-slim
ARG ST_MODEL=""
# Apertium's Nynorsk→Bokmål pair: Nynorsk questions are translated before searching.
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends apertium-nno-nob \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 policybot
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/hf /opt/hf
COPY --from=build --chown=policybot:policybot /data /data
ENV PATH=/opt/venv/bin:$PATH \
    HF_HOME=/opt/hf \
    HF_HUB_OFFLINE=1 \
    POLICYBOT_DATA_DIR=/data \
    POLICYBOT_EMBEDDING_MODEL=${ST_MODEL:+st:${ST_MODEL}} \
    POLICYBOT_HEALTH_PORT=8080 \
    POLICYBOT_WEBHOOK_LISTEN=0.0.0.0 \
    POLICYBOT_WEBHOOK_PORT=8443
USER policybot
WORKDIR /home/policybot
VOLUME /data
EXPOSE 8080 8443
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["policybot", "health"]
CMD ["policybot", "start"]
