/**
 * A progress line on stderr every `everyMs` during a long phase (stdout stays the tool's result):
 * `[tool] <phase>: 15 s / 60 s, <what line() says>`. Returns the function that stops it.
 */
export function progressLines(tool: string, phase: string, totalS: number | null, line: () => string, everyMs = 5000): () => void {
  const started = Date.now();
  const timer = setInterval(() => {
    const elapsed = Math.round((Date.now() - started) / 1000);
    process.stderr.write(`[${tool}] ${phase}: ${elapsed} s${totalS === null ? '' : ` / ${totalS} s`}, ${line()}\n`);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
