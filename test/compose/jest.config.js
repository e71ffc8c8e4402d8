// The compose end-to-end test on its own (.ci/compose-e2e.sh): it tests the image that
// docker-compose.yml builds, so it skips the e2e project's host build (test/support/global-setup.js).
const { join } = require('node:path');
module.exports = {
  rootDir: join(__dirname, '..', '..'),
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/compose/*.e2e-spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
};
