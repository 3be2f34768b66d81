# One image for the API, the worker and the web app (`npm run api`, `npm run worker`, `npm run web`).
FROM node:20-bookworm-slim AS web
WORKDIR /app
COPY . .
RUN npm install --no-audit --no-fund && npm run web:build

FROM node:20-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
RUN npm install --omit=dev --no-audit --no-fund && npm install --no-save prisma@7.10.1 && npm run db:generate

FROM node:20-bookworm-slim
# The worker's actions run these tools.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ansible-core postgresql-client openssh-client ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production JARVIS_DATA_DIR=/var/lib/jarvis
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=dependencies /app/db/generated ./db/generated
COPY . .
COPY --from=web /app/web/build ./web/build
RUN useradd --system --home /var/lib/jarvis jarvis && mkdir -p /var/lib/jarvis && chown jarvis /var/lib/jarvis
USER jarvis
EXPOSE 3001 3000
CMD ["npx", "tsx", "api/server.ts"]
