/** Resolves after `ms`, or at once when any of the signals aborts (the caller then looks at why). */
export function delay(ms: number, ...signals: Array<AbortSignal | undefined>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      for (const s of signals) s?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, Math.max(0, ms));
    for (const s of signals) {
      if (s?.aborted) return done();
      s?.addEventListener('abort', done);
    }
  });
}
