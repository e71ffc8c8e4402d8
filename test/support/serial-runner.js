// jest's own runner with isSerial set: the e2e project's files run one at a time whatever the
// machine's core count (each starts Redis servers, replicas and a gateway; two at once on a small
// machine turn timing assertions into flakes). maxWorkers is global, a runner is per project, so
// the unit project keeps the normal worker pool. jest runs one project's runner after the other's.
const TestRunner = require('jest-runner').default;

module.exports = class SerialRunner extends TestRunner {
  isSerial = true;
};
