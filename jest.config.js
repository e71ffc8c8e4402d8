// Two projects: fast unit/simulation tests beside the code, and end-to-end tests on real
// Redis and real processes in test/ (run one file at a time: they share 2 cores).
const moduleNameMapper = {
  '^@app/(consensus|storage|bus|wire|history|logging|config)$': '<rootDir>/libs/$1/src',
  '^@app/(consensus|storage|bus|wire|history|logging|config)/(.*)$': '<rootDir>/libs/$1/src/$2',
};
const transform = { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] };
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts', '<rootDir>/tools/**/*.spec.ts'],
      moduleNameMapper,
      transform,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      // The compose suite tests the container image and needs an engine: .ci/compose-e2e.sh runs it.
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/compose/'],
      globalSetup: '<rootDir>/test/support/global-setup.js',
      moduleNameMapper,
      transform,
    },
  ],
};
