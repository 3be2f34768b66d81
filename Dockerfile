# One image for the API, the worker and the web app (`npm run api`, `npm run worker`, `npm run web`).
# The base image is pinned by digest: a rebuild gets the same bytes, and a re-pushed tag cannot change them.
# Bump it deliberately (docker buildx imagetools inspect node:20-bookworm-slim).
ARG NODE_IMAGE=node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0

# Dependencies from the lock file exactly (npm ci), with no install script run except those of the
# packages package.json allows (allowScripts): the image's npm may predate allowScripts.
FROM ${NODE_IMAGE} AS web
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild protobufjs @swc/core esbuild \
 && npm run db:generate
COPY . .
RUN npm run web:build

FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild protobufjs @swc/core \
 && npm install --no-save --ignore-scripts prisma@7.10.1 \
 && npm run db:generate

FROM ${NODE_IMAGE}
# The worker's actions run these tools.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ansible-core postgresql-client openssh-client ca-certificates curl git procps \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production JARVIS_DATA_DIR=/var/lib/jarvis
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=dependencies /app/db/generated ./db/generated
COPY . .
COPY --from=web /app/web/build ./web/build
# `jarvis` runs the API and the web app; the worker starts as root only to run each action's
# processes as `jarvis-action`, which can read neither the secret key nor the worker (see README, Security model).
RUN useradd --system --home /var/lib/jarvis jarvis \
 && useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin jarvis-action \
 && mkdir -p /var/lib/jarvis/artifacts && chown jarvis /var/lib/jarvis /var/lib/jarvis/artifacts && chmod 0700 /var/lib/jarvis /var/lib/jarvis/artifacts
USER jarvis
EXPOSE 3001 3000
CMD ["npx", "tsx", "api/server.ts"]
