# One image for every Synod process: replicas, gateway and the PBFT key job share the build
# (docker-compose.yml builds it once, as synod:latest). .dockerignore keeps the context small.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY examples ./examples
# The build's last step copies the fault lab's page next to the compiled gateway.
COPY scripts/copy-assets.js ./scripts/
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# An empty named volume mounted here takes this owner, so the non-root processes can write keys
# (and the key job the Redis containers' ACL files, in /redis-acl).
RUN mkdir /keys /redis-acl && chown node:node /keys /redis-acl
USER node
# 3000: the gateway's REST API; 8080: a replica's health and metrics (HTTP_PORT in compose).
EXPOSE 3000 8080
# Replicas run `node dist/apps/node/src/main.js`; the gateway and the key job override the command.
CMD ["node", "dist/apps/node/src/main.js"]
