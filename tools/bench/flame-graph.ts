import { callTree, type CallNode, type CpuProfile } from './profile-summary';

/**
 * A flame graph of one V8 CPU profile as a standalone SVG (icicle layout: callers above callees),
 * for docs and for a browser without DevTools at hand. Each box is a call path; its width is the
 * share of the process's busy samples spent in it and below; its colour is its component (the
 * same names as the bench's per-process breakdown), and hovering shows function, file and share.
 */
const WIDTH = 1200;
const ROW = 16;
const TOP = 40;
/** Paths narrower than this share of the busy samples are not drawn (they would be specks). */
const MIN_SHARE = 0.002;
const MAX_DEPTH = 80;

const PALETTE = [
  '#f4a582',
  '#92c5de',
  '#b8e186',
  '#fdb863',
  '#c2a5cf',
  '#a6dba0',
  '#fee090',
  '#abd9e9',
  '#e7d4e8',
  '#fddbc7',
  '#d9f0d3',
  '#d1e5f0',
  '#cccccc',
  '#e6f598',
  '#fc8d59',
  '#99d594',
];

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function flameGraphSvg(p: CpuProfile, title: string): string {
  const tree = callTree(p);
  const total = tree?.count ?? 0;
  const colours = new Map<string, string>();
  const colour = (c: string) => {
    if (!colours.has(c)) colours.set(c, PALETTE[colours.size % PALETTE.length]);
    return colours.get(c)!;
  };
  const rects: string[] = [];
  let depthUsed = 0;
  const draw = (b: CallNode, x: number, depth: number) => {
    const w = (b.count / total) * WIDTH;
    if (b.count / total < MIN_SHARE || depth > MAX_DEPTH) return;
    depthUsed = Math.max(depthUsed, depth);
    const y = TOP + depth * ROW;
    const share = ((100 * b.count) / total).toFixed(1);
    const label = w > 60 ? `<text x="${(x + 3).toFixed(1)}" y="${y + 12}" clip-path="url(#c${rects.length})">${escape(b.name)}</text>` : '';
    const clip = w > 60 ? `<clipPath id="c${rects.length}"><rect x="${x.toFixed(1)}" y="${y}" width="${(w - 2).toFixed(1)}" height="${ROW}"/></clipPath>` : '';
    rects.push(
      `<g>${clip}<title>${escape(b.name)} — ${escape(b.component)}, ${share}% of busy</title><rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(w - 0.5, 0.5).toFixed(1)}" height="${ROW - 1}" fill="${colour(b.component)}"/>${label}</g>`,
    );
    let cx = x;
    for (const c of b.children) {
      draw(c, cx, depth + 1);
      cx += (c.count / total) * WIDTH;
    }
  };
  if (tree && total > 0) draw({ ...tree, name: `all busy samples (${total})` }, 0, 0);
  const legendY = TOP + (depthUsed + 2) * ROW;
  const legend = [...colours].map(
    ([name, fill], i) =>
      `<rect x="${(i % 4) * 300}" y="${legendY + Math.floor(i / 4) * ROW}" width="12" height="12" fill="${fill}"/><text x="${(i % 4) * 300 + 16}" y="${legendY + Math.floor(i / 4) * ROW + 11}">${escape(name)}</text>`,
  );
  const height = legendY + (Math.ceil(colours.size / 4) + 1) * ROW;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="monospace" font-size="11">`,
    `<text x="0" y="20" font-size="14">${escape(title)}</text>`,
    `<text x="0" y="34" fill="#555">${total} busy samples; width = share of them; hover for details (icicle layout: callers above callees)</text>`,
    `<g>`,
    ...rects,
    `</g>`,
    ...legend,
    `</svg>`,
  ].join('\n');
}
