# Mailroom in a container: `docker build -t mailroom .` then see compose.yaml (with PostgreSQL)
# or: docker run -v mailroom-data:/data -p 25:2525 -p 993:1993 -p 465:1465 mailroom
#
# Build stage: compiles TypeScript and better-sqlite3 from source (no prebuilt binaries).
FROM node:20-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here; better-sqlite3 is rebuilt below.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
RUN npm rebuild better-sqlite3 --build-from-source \
 && npx tsc -p tsconfig.json \
 && npm prune --omit=dev \
 && rm -rf dist/test dist/bench

# Run stage: node and the built server only, as the unprivileged `node` user (uid 1000).
FROM node:20-slim
ENV NODE_ENV=production \
    MAILROOM_DATA=/data \
    MAILROOM_LOG_FORMAT=json \
    MAILROOM_IMAP=0.0.0.0:1143 \
    MAILROOM_IMAPS=0.0.0.0:1993 \
    MAILROOM_POP3=0.0.0.0:1110 \
    MAILROOM_POP3S=0.0.0.0:1995 \
    MAILROOM_SMTP=0.0.0.0:2525 \
    MAILROOM_SUBMISSION=0.0.0.0:1587 \
    MAILROOM_SUBMISSIONS=0.0.0.0:1465 \
    MAILROOM_LMTP=off \
    MAILROOM_HTTP=0.0.0.0:8080
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data && chmod 700 /data \
 && ln -s /app/dist/src/main.js /usr/local/bin/mailroom && chmod +x /app/dist/src/main.js
USER node
VOLUME /data
# Unprivileged ports inside; publish them on the standard ones (compose.yaml does):
# 1143→143 IMAP, 1993→993 IMAPS, 1110→110 POP3, 1995→995 POP3S, 2525→25 SMTP,
# 1587→587 submission, 1465→465 submissions, 8080 /healthz and /metrics.
EXPOSE 1143 1993 1110 1995 2525 1587 1465 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: graceful stop (sessions get BYE / 421), within compose's stop_grace_period.
STOPSIGNAL SIGTERM
CMD ["node", "/app/dist/src/main.js", "serve"]
