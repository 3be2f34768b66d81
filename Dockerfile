# One image for the API and the worker (`npm run api`, `npm run worker`).
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
RUN useradd --system --home /var/lib/jarvis jarvis && mkdir -p /var/lib/jarvis && chown jarvis /var/lib/jarvis
USER jarvis
EXPOSE 3001
CMD ["npx", "tsx", "api/server.ts"]
