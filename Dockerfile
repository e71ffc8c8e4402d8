# One image for every Synod process: replicas, gateway and launcher share the build.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# An empty named volume mounted here takes this owner, so the non-root processes can write keys.
RUN mkdir /keys && chown node:node /keys
USER node
# Replicas run `node dist/apps/node/src/main.js`; the gateway overrides the command.
CMD ["node", "dist/apps/node/src/main.js"]
