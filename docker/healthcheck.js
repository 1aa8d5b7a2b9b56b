'use strict';
// Container healthcheck for the Sagaflow HTTP apps (node:20-bookworm-slim has no curl).
//   node docker/healthcheck.js PORT_VARIABLE DEFAULT_PORT
// Healthy = GET http://127.0.0.1:<port>/health answers 2xx within 3 s, where <port> is
// the app's own port variable (ADMIN_API_PORT, ORCHESTRATOR_PORT), so overriding the
// port in the environment cannot break the check.
const [portVariable, defaultPort] = process.argv.slice(2);
const port = process.env[portVariable] || defaultPort;

fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3000) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
