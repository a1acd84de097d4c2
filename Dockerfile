# Two stages: the build stage compiles the TypeScript (npm run build → dist/); the final stage has only the production
# dependencies and the compiled JavaScript, run by plain `node` (no tsx, no TypeScript compiler, no dev dependencies).

FROM node:20-bookworm-slim AS build
WORKDIR /app
# npm workspaces (packages/client, packages/react, web): their sources are in place before `npm ci`, whose postinstall
# builds the reference web app into web/dist (scripts/build-web.mjs).
COPY package.json package-lock.json tsconfig.json tsconfig.build.json schema.graphql ./
COPY scripts ./scripts
COPY packages ./packages
COPY web ./web
RUN npm ci && npm run build:web
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATA_DIR=/app/data
WORKDIR /app

COPY package.json package-lock.json ./
COPY --from=build /app/packages/client/package.json ./packages/client/package.json
COPY --from=build /app/packages/react/package.json ./packages/react/package.json
COPY --from=build /app/web/package.json ./web/package.json
# --ignore-scripts: the postinstall would only rebuild the web app, which is copied from the build stage below.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# dist/ holds the SQL migrations too (the build copies them beside the compiled migrate.js). bin/tessera.mjs runs
# dist/ in production, for one-off commands: `docker compose exec app node bin/tessera.mjs users create --email …`.
# The reference web app (web/dist) is served at `/` (SERVE_WEB=false turns that off).
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY bin ./bin
RUN mkdir -p /app/data && chown -R node:node /app/data

USER node
EXPOSE 4000
# The readiness probe answers once the database is reachable and migrations are applied.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/cli.js", "serve"]
