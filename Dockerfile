# Tessera runs its TypeScript through tsx (a runtime dependency), so there is no build step and no dev dependencies.
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATA_DIR=/app/data
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY bin ./bin
COPY src ./src
COPY tsconfig.json ./
RUN mkdir -p /app/data && chown -R node:node /app/data

USER node
EXPOSE 4000
# The readiness probe answers once the database is reachable and migrations are applied.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "bin/tessera.mjs", "serve"]
