# The self-hosted SMTP ingress image of this repository: `mailroom smtp`, compiled, with the example config
# (see README). Build: docker build -t mailroom-smtp .   (SmtpIngress generates its own context and
# Dockerfile of the same shape for your config: cdk/smtp-image.ts.)
# Run it with MAILROOM_REPLY_KEY set (32+ random characters; SmtpIngress injects it from Secrets Manager):
# with the example config's public development key `mailroom smtp` refuses to start (exit 2).

# Build stage: the TypeScript sources compiled to dist/ (npm run build), the example config bundled into
# one file whose `mailroom` imports resolve to this package, then the dev dependencies dropped.
FROM node:22-bookworm-slim AS build
WORKDIR /pkg
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY bin ./bin
COPY lib ./lib
COPY cdk ./cdk
COPY functions ./functions
COPY examples ./examples
RUN npm run build \
 && npx esbuild examples/mailroom.config.ts --bundle --platform=node --format=esm --target=node22 \
      --external:mailroom --external:'mailroom/*' --packages=external --outfile=mailroom.config.mjs \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf dist/cdk dist/functions

# Run stage: compiled JavaScript only (no sources, no TypeScript, no tsx, no compilers).
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    MAILROOM_SMTP_HOST=0.0.0.0 \
    MAILROOM_SMTP_PORT=2525 \
    MAILROOM_CONFIG=/app/mailroom.config.mjs
WORKDIR /app
COPY --from=build /pkg/package.json ./package.json
COPY --from=build /pkg/bin ./bin
COPY --from=build /pkg/dist ./dist
COPY --from=build /pkg/node_modules ./node_modules
# Inside the package: its `import … from 'mailroom'` resolves to this package (self-reference, exports).
COPY --from=build /pkg/mailroom.config.mjs ./mailroom.config.mjs
# Unprivileged port; the load balancer's port 25 listener forwards here.
EXPOSE 2525
USER node
CMD ["node", "bin/mailroom.js", "smtp", "--data", "/tmp/mailroom"]
