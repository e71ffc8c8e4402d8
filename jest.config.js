// Two projects: fast unit/simulation tests beside the code, on jest's worker pool, and end-to-end
// tests on real Redis and real processes in test/, one file at a time (test/support/serial-runner.js:
// jest's maxWorkers is global, so the e2e project gets a serial runner instead).
const moduleNameMapper = {
  '^@app/(consensus|storage|bus|wire|history|logging|config|client)$': '<rootDir>/libs/$1/src',
  '^@app/(consensus|storage|bus|wire|history|logging|config|client)/(.*)$': '<rootDir>/libs/$1/src/$2',
};
const transform = { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] };
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts', '<rootDir>/tools/**/*.spec.ts'],
      // SYNOD_MUTANT=<name> switches a mutant of libs/consensus/src/mutants.ts on (npm run mutants).
      setupFiles: ['<rootDir>/tools/mutants/jest-setup.ts'],
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
      runner: '<rootDir>/test/support/serial-runner.js',
      moduleNameMapper,
      transform,
    },
  ],
};
