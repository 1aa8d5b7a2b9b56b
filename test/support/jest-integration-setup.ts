// Integration tests start processes and wait on real brokers: give them room (per-project
// `testTimeout` is not honoured by Jest 30, so it is set here).
jest.setTimeout(180_000);
