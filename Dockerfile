# The self-hosted SMTP ingress image: `mailroom smtp` (see README). Build: docker build -t mailroom-smtp .
# Run it with MAILROOM_REPLY_KEY set (32+ random characters; SmtpIngress injects it from Secrets Manager):
# with the example config's public development key `mailroom smtp` refuses to start (exit 2).
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    MAILROOM_SMTP_HOST=0.0.0.0 \
    MAILROOM_SMTP_PORT=2525 \
    MAILROOM_CONFIG=/app/examples/mailroom.config.ts
WORKDIR /app
COPY package.json package-lock.json ./
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
 && npm ci --omit=dev --no-audit --no-fund \
 && apt-get purge -y python3 make g++ && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
COPY bin ./bin
COPY lib ./lib
COPY examples ./examples
# Unprivileged port; the load balancer's port 25 listener forwards here.
EXPOSE 2525
USER node
CMD ["node", "bin/mailroom.js", "smtp", "--data", "/tmp/mailroom"]
