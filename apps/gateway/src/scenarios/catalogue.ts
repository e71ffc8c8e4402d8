import type { Scenario } from './scenario';

/**
 * The scenarios, with fixed timings documented in their descriptions; a run may go faster
 * (`speed` divides every offset), which is how the tests run a one-minute scenario in seconds.
 * Each ends with a heal-all the runner adds itself (and runs on cancel too), so no scenario leaves
 * damage behind; the steps that undo their own faults only make the picture readable on the way.
 */
export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'kill-leader',
    title: 'Kill the leader every 10 s for a minute',
    description:
      'Every 10 s the replica leading at that moment (Raft leader or PBFT primary) crashes, and comes back 5 s later: six elections or view changes in a minute, with one replica down half of the time.',
    protocols: ['raft', 'pbft'],
    requires: [],
    steps: [
      { at: 0, action: 'kill', target: 'leader', remember: 'victim', repeat: { every: 10_000, times: 6 } },
      { at: 5_000, action: 'revive', target: '$victim', repeat: { every: 10_000, times: 6 } },
    ],
    tailMs: 5_000,
  },
  {
    name: 'isolate-primary-byzantine',
    title: 'Isolate the primary, then turn a backup Byzantine',
    description:
      'The primary is cut off from its peers for 5 s (while requests are waiting — under writes — the backups change view and another replica becomes primary), then rejoins; a second later the backup with the lowest id starts equivocating for 10 s, then behaves again. With 4 replicas PBFT tolerates one fault at a time (f = 1), so the two faults come one after the other.',
    protocols: ['pbft'],
    requires: [],
    steps: [
      { at: 0, action: 'isolate', target: 'primary', remember: 'old' },
      { at: 5_000, action: 'heal', target: '$old' },
      { at: 6_000, action: 'byzantine', target: 'backup', behavior: 'equivocate', remember: 'liar' },
      { at: 16_000, action: 'byzantine', target: '$liar', behavior: 'none' },
    ],
    tailMs: 2_000,
  },
  {
    name: 'rolling-restart',
    title: 'Rolling restart: each replica down for 4 s, in turn',
    description:
      'Every 8 s the next replica by id crashes and is revived 4 s later, until each has been restarted once, as an operator upgrading the cluster would. The leader takes its turn like the others.',
    protocols: ['raft', 'pbft'],
    requires: [],
    steps: [
      { at: 0, action: 'kill', target: 'each', repeat: { every: 8_000, times: 'members' } },
      { at: 4_000, action: 'revive', target: 'each', repeat: { every: 8_000, times: 'members' } },
    ],
    tailMs: 4_000,
  },
  {
    name: 'partition-leader',
    title: "Partition: cut the leader's links to half the cluster for 10 s",
    description:
      'The links between the leader (or primary) and half of the other replicas are cut for 10 s, then healed: the cut-off replicas stop hearing the leader while it still reaches the rest, the case that pre-vote and check-quorum (Raft) and view-change timers (PBFT) exist for.',
    protocols: ['raft', 'pbft'],
    requires: [],
    steps: [
      { at: 0, action: 'cut-link', target: 'leader', peer: 'half', remember: 'leader', rememberPeers: 'cut' },
      { at: 10_000, action: 'heal-link', target: '$leader', peer: '$cut' },
    ],
    tailMs: 5_000,
  },
  {
    name: 'flap-follower',
    title: 'Flap a follower: isolate and heal it every 3 s',
    description:
      'A follower (or backup) is isolated for 3 s and healed for 3 s, five times over 30 s: it falls behind, campaigns or asks for a view change, and catches up again each time.',
    protocols: ['raft', 'pbft'],
    requires: [],
    steps: [
      { at: 0, action: 'isolate', target: 'follower', remember: 'flapper' },
      { at: 3_000, action: 'heal', target: '$flapper' },
      { at: 6_000, action: 'isolate', target: '$flapper', repeat: { every: 6_000, times: 4 } },
      { at: 9_000, action: 'heal', target: '$flapper', repeat: { every: 6_000, times: 4 } },
    ],
    tailMs: 3_000,
  },
  {
    name: 'storage-crash',
    title: "Storage crash: a follower's Redis is killed for 10 s",
    description:
      "A follower's own Redis (its log and its bus inbox) is SIGKILLed and restarted 10 s later; it replays its AOF and the replica catches up. Needs the launcher's supervisor (npm start).",
    protocols: ['raft', 'pbft'],
    requires: ['supervisor'],
    steps: [
      { at: 0, action: 'storage-kill', target: 'follower', remember: 'disk' },
      { at: 10_000, action: 'storage-restart', target: '$disk' },
    ],
    tailMs: 5_000,
  },
];
