/** One HTTP exchange as the chaos clients see it: a status, or why there was none. */
export interface Reply {
  /** 0 when no answer came (client timeout or dropped connection). */
  status: number;
  body: any;
  /** Set when status is 0. */
  error?: 'timeout' | 'connection';
}

export async function request(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; timeoutMs: number },
): Promise<Reply> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(base + path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    const text = await res.text();
    let body: any = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the text for the report */
    }
    return { status: res.status, body };
  } catch (err) {
    const name = (err as Error)?.name;
    return { status: 0, body: null, error: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'connection' };
  }
}
