/** The example's settings, from the environment. */
export const settings = {
  endpoints: (process.env.SYNOD_ENDPOINTS ?? 'http://127.0.0.1:3000').split(',').filter(Boolean),
  token: process.env.SYNOD_TOKEN || undefined,
  instance: process.env.INSTANCE ?? `payments-${process.pid}`,
  group: process.env.GROUP ?? 'payments',
  /** Where the payments service keeps its records and counters. */
  prefix: process.env.KV_PREFIX ?? 'example/payments/',
  concurrency: Number(process.env.CONCURRENCY ?? 16),
  visibilityMs: Number(process.env.VISIBILITY_MS ?? 10_000),
};

export interface Order {
  id: string;
  customer: string;
  amount: number;
}

export interface Charge {
  orderId: string;
  amount: number;
}

export interface ChargeResult {
  orderId: string;
  status: 'charged' | 'already charged';
  /** The request message's id: one charge per request, however often it is delivered. */
  paymentId: string;
  by: string;
}
