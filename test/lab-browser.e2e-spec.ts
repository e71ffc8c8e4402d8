import type { Browser, Page } from 'puppeteer-core';
import { clusterForSuite, type TestCluster, waitFor } from './support/cluster';
import { attr, describeWithBrowser, launchBrowser, openLab, type OpenPage, screenshot, waitForText } from './support/browser';
import { Workload } from './support/workload';

/**
 * The fault lab (issue 15) in real headless Chromium against real clusters: faults are caused by
 * clicking the page's buttons, and what the page then shows (timeline, roles, links, drop counts)
 * is checked against the cluster. Screenshots of the states go to docs/screenshots/.
 *
 * The page's hooks: `g[data-node]` (data-role, data-alive, data-isolated, data-byzantine),
 * `[data-drops]`, `[data-link="a|b"]` (data-cut), `#timeline [data-kind][data-node][data-seq]`,
 * `#replicas tr[data-row] button[data-action][data-node]`, `select[data-byzantine-for]`,
 * `select#link-select` + `button[data-action=cut-link|heal-link]`, `dialog#confirm`, `#token`,
 * `#summary`, `#stream-status`, `window.synodLab`.
 */

const row = (id: string) => `#replicas tr[data-row="${id}"]`;
const button = (action: string, id: string) => `${row(id)} button[data-action="${action}"][data-node="${id}"]`;
const replica = (id: string) => `g[data-node="${id}"]`;
/** "disconnected" and "reconnecting" do not match. */
const CONNECTED = /(^|[^a-z])connected/i;

interface TimelineEntry {
  seq: number;
  kind: string;
  node: string | null;
  /** Date.now() in the page when the entry was first in the DOM (same machine clock as the test's). */
  seenAt: number;
}

/**
 * Records, in the page, when each timeline entry first appears in the DOM (a MutationObserver, so
 * to the millisecond, whatever the page re-renders). Entries already there are recorded too.
 */
async function watchTimeline(page: Page): Promise<void> {
  await page.evaluate(() => {
    const g = globalThis as any;
    if (g.__labTimeline) return;
    const seen = new Map<number, { seq: number; kind: string; node: string | null; seenAt: number }>();
    g.__labTimeline = seen;
    const scan = () => {
      const now = Date.now();
      for (const el of g.document.querySelectorAll('#timeline [data-seq]')) {
        const seq = Number(el.getAttribute('data-seq'));
        if (!Number.isFinite(seq) || seen.has(seq)) continue;
        seen.set(seq, { seq, kind: el.getAttribute('data-kind') ?? '', node: el.getAttribute('data-node'), seenAt: now });
      }
    };
    scan();
    new g.MutationObserver(scan).observe(g.document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-seq', 'data-kind'] });
  });
}

async function timeline(page: Page): Promise<TimelineEntry[]> {
  const entries: TimelineEntry[] = await page.evaluate(() => [...(globalThis as any).__labTimeline.values()]);
  return entries.sort((a, b) => a.seq - b.seq);
}

/** The first recorded entry after `afterSeq` that `match` accepts, waited for. */
async function waitForEntry(page: Page, afterSeq: number, what: string, match: (e: TimelineEntry) => boolean, timeoutMs = 10_000): Promise<TimelineEntry> {
  try {
    return await waitFor(async () => (await timeline(page)).find((e) => e.seq > afterSeq && match(e)), timeoutMs, what);
  } catch (err) {
    const recent = (await timeline(page)).filter((e) => e.seq > afterSeq).map((e) => `${e.seq}:${e.kind}:${e.node ?? '-'}`);
    throw new Error(`${String(err)}; the timeline since seq ${afterSeq}: [${recent.join(', ')}]`, { cause: err });
  }
}

const lastSeq = async (page: Page) => (await timeline(page)).reduce((m, e) => Math.max(m, e.seq), 0);

/** Clicks an enabled, visible element (waits for both); with `confirm`, says yes to dialog#confirm when it opens. */
async function click(page: Page, selector: string, confirm = false): Promise<void> {
  await page.locator(selector).setTimeout(5000).click();
  if (confirm) await page.locator('dialog#confirm[open] button[data-confirm="yes"]').setTimeout(3000).click();
}

async function waitForAttr(page: Page, selector: string, name: string, want: (v: string | null) => boolean, what: string, timeoutMs = 5000): Promise<void> {
  try {
    await waitFor(async () => want(await attr(page, selector, name)), timeoutMs, what);
  } catch (err) {
    throw new Error(`${String(err)} (${selector} ${name}=${JSON.stringify(await attr(page, selector, name))})`, { cause: err });
  }
}

const isDisabled = (page: Page, selector: string) => page.$eval(selector, (el: any) => Boolean(el.disabled));
const dialogOpen = (page: Page) => page.evaluate(() => Boolean((globalThis as any).document.querySelector('dialog#confirm')?.open));

/** Every `[data-link]`: "a|b" -> data-cut. */
async function links(page: Page): Promise<Record<string, string | null>> {
  return page.evaluate(() => {
    const out: Record<string, string | null> = {};
    for (const el of (globalThis as any).document.querySelectorAll('[data-link]')) out[el.getAttribute('data-link')] = el.getAttribute('data-cut');
    return out;
  });
}

/** Waits until every link's data-cut is what `cut(a, b)` says; the links as they then are. */
async function waitForLinks(page: Page, cut: (a: string, b: string) => boolean, what: string, timeoutMs = 5000): Promise<Record<string, string | null>> {
  let last: Record<string, string | null> = {};
  try {
    return await waitFor(
      async () => {
        last = await links(page);
        const names = Object.keys(last);
        return names.length > 0 && names.every((l) => last[l] === String(cut(...(l.split('|') as [string, string])))) ? last : null;
      },
      timeoutMs,
      what,
    );
  } catch (err) {
    throw new Error(`${String(err)}: links ${JSON.stringify(last)}`, { cause: err });
  }
}

async function drops(page: Page, id: string): Promise<number> {
  const text = await page.$eval(`[data-drops="${id}"]`, (el: any) => String(el.textContent).trim());
  const n = Number(text);
  if (!Number.isInteger(n)) throw new Error(`[data-drops="${id}"] says ${JSON.stringify(text)}, not an integer`);
  return n;
}

describeWithBrowser('fault lab in a real browser (issue 15)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  describe('raft, 5 replicas', () => {
    const cluster = clusterForSuite(['--protocol', 'raft', '--nodes', '5']);
    let lab: OpenPage;
    let page: Page;
    let c: TestCluster;
    beforeAll(async () => {
      c = cluster();
      lab = await openLab(browser, c);
      page = lab.page;
      await watchTimeline(page);
    }, 30_000);
    afterAll(async () => {
      await page?.close();
    });

    it('kill the leader from the page: killed, then a new leader elected on the timeline, live (within 1 s of /v1/cluster)', async () => {
      const load = new Workload(c, 2, 4);
      load.start();
      try {
        const old = await c.waitForLeader();
        await waitForText(page, '#summary', new RegExp(`\\b${old}\\b`));
        await waitForAttr(page, replica(old), 'data-role', (v) => v === 'leader', `${old} drawn as leader`);
        await new Promise((r) => setTimeout(r, 1000)); // the write load under way
        const before = await lastSeq(page);

        // Poll /v1/cluster meanwhile: when did the gateway's API first name the new leader?
        let apiLeader: { id: string; at: number } | null = null;
        let polling = true;
        const poller = (async () => {
          while (polling && apiLeader === null) {
            const s = await c.clusterState().catch(() => null);
            if (s?.leader && s.leader !== old) apiLeader = { id: s.leader, at: Date.now() };
            else await new Promise((r) => setTimeout(r, 25));
          }
        })();

        const clickedAt = Date.now();
        await click(page, button('kill', old));
        try {
          const killed = await waitForEntry(page, before, `a killed event for ${old}`, (e) => e.kind === 'killed' && e.node === old);
          await waitFor(async () => apiLeader, 20_000, 'a new leader in /v1/cluster');
          const next = apiLeader!.id;
          const elected = await waitForEntry(page, before, `an elected event for ${next}`, (e) => e.kind === 'elected' && e.node === next, 5000);
          const firstElected = (await timeline(page)).find((e) => e.seq > before && e.kind === 'elected');
          console.log(
            `lab raft election: click -> killed on the timeline ${killed.seenAt - clickedAt} ms, killed -> elected ${elected.seenAt - killed.seenAt} ms; ` +
              `elected ${next} on the page ${elected.seenAt - apiLeader!.at} ms after /v1/cluster named it`,
          );
          expect(next).not.toBe(old);
          expect(firstElected?.node).not.toBe(old);
          expect(elected.seq).toBeGreaterThan(killed.seq); // killed, then elected
          expect(elected.seenAt - apiLeader!.at).toBeLessThanOrEqual(1000); // the page is live
          await waitForText(page, '#summary', new RegExp(`\\b${next}\\b`), 3000);
          await waitForAttr(page, replica(next), 'data-role', (v) => v === 'leader', `${next} drawn as leader`);
          await waitForAttr(page, replica(old), 'data-alive', (v) => v === 'false', `${old} drawn dead`);
          await screenshot(page, 'lab-raft-election');
        } finally {
          polling = false;
          await poller;
        }
      } finally {
        await load.stop();
      }
      expect(load.history.filter((o) => o.kind === 'put' && o.status === 'ok').length).toBeGreaterThan(0);
    }, 40_000);

    it('a dead replica: kill disabled, revive enabled; revive from the page', async () => {
      const dead = (await c.clusterState()).nodes.find((n: any) => !n.alive)?.id as string;
      expect(dead).toBeDefined();
      await waitForAttr(page, replica(dead), 'data-alive', (v) => v === 'false', `${dead} drawn dead`);
      await waitFor(
        async () => (await isDisabled(page, button('kill', dead))) && !(await isDisabled(page, button('revive', dead))),
        3000,
        'kill disabled, revive enabled',
      );
      const before = await lastSeq(page);
      await click(page, button('revive', dead));
      await waitForAttr(page, replica(dead), 'data-alive', (v) => v === 'true', `${dead} drawn alive again`, 15_000);
      await waitForEntry(page, before, `a revived event for ${dead}`, (e) => e.kind === 'revived' && e.node === dead);
      await waitFor(
        async () => !(await isDisabled(page, button('kill', dead))) && (await isDisabled(page, button('revive', dead))),
        3000,
        'kill enabled, revive disabled',
      );
      await c.waitForConvergence(20_000, [dead]);
    }, 40_000);

    it('hard kill and storage kill ask for confirmation; "no" does nothing', async () => {
      const s = await c.clusterState();
      const target = s.nodes.find((n: any) => n.alive && n.id !== s.leader).id as string;
      const admin: string[] = [];
      const onRequest = (r: { url(): string; method(): string }) => {
        if (r.url().includes('/v1/admin/')) admin.push(`${r.method()} ${r.url()}`);
      };
      page.on('request', onRequest);
      try {
        const before = await lastSeq(page);
        for (const action of ['hard-kill', 'storage-kill']) {
          await click(page, button(action, target));
          await waitFor(() => dialogOpen(page), 3000, `dialog#confirm open for ${action}`);
          expect(await page.$eval('dialog#confirm', (d: any) => String(d.textContent))).toContain(target);
          if (await page.$('dialog#confirm button[data-confirm="no"]')) await click(page, 'dialog#confirm button[data-confirm="no"]');
          else await page.keyboard.press('Escape');
          await waitFor(async () => !(await dialogOpen(page)), 3000, `dialog#confirm closed (${action})`);
        }
        await new Promise((r) => setTimeout(r, 1500));
        expect(admin).toEqual([]);
        expect(await attr(page, replica(target), 'data-alive')).toBe('true');
        expect((await c.clusterState()).nodes.find((n: any) => n.id === target).alive).toBe(true);
        expect((await timeline(page)).filter((e) => e.seq > before && (e.kind === 'killed' || e.kind === 'admin'))).toEqual([]);
      } finally {
        page.off('request', onRequest);
      }
    }, 20_000);

    it('isolate a follower from the page: every link touching it drawn cut; heal: drawn whole again', async () => {
      const s = await c.clusterState();
      const f = s.nodes.find((n: any) => n.alive && n.id !== s.leader).id as string;
      const touches = (a: string, b: string) => a === f || b === f;
      await waitForLinks(page, () => false, 'every link whole');
      const before = await lastSeq(page);
      await click(page, button('isolate', f));
      await waitForAttr(page, replica(f), 'data-isolated', (v) => v === 'true', `${f} drawn isolated`);
      const cut = await waitForLinks(page, touches, `the links of ${f} drawn cut, no other`);
      expect(Object.keys(cut).filter((l) => cut[l] === 'true')).toHaveLength(s.nodes.length - 1);
      await waitForEntry(page, before, `an isolated event for ${f}`, (e) => e.kind === 'isolated' && e.node === f);
      await screenshot(page, 'lab-raft-isolated');
      await click(page, button('heal', f));
      await waitForAttr(page, replica(f), 'data-isolated', (v) => v !== 'true', `${f} drawn healed`);
      await waitForLinks(page, () => false, 'every link whole again');
    }, 30_000);

    it('cut one link from the link selector: exactly that link drawn cut; heal it', async () => {
      const s = await c.clusterState();
      const [a, b] = s.nodes
        .filter((n: any) => n.alive)
        .map((n: any) => n.id as string)
        .sort()
        .slice(0, 2);
      const link = `${a}|${b}`;
      const before = await lastSeq(page);
      expect(await page.select('select#link-select', link)).toEqual([link]);
      await click(page, 'button[data-action="cut-link"]');
      await waitForLinks(page, (x, y) => `${x}|${y}` === link, `only ${link} drawn cut`);
      await waitForEntry(page, before, `a link-cut event`, (e) => e.kind === 'link-cut');
      await page.select('select#link-select', link);
      await click(page, 'button[data-action="heal-link"]');
      await waitForLinks(page, () => false, 'every link whole again');
    }, 30_000);

    it('the page reported no errors and rendered', async () => {
      lab.errors.assertNone();
      expect(await waitForText(page, '#stream-status', CONNECTED, 1000)).toMatch(CONNECTED);
      const renders = await page.evaluate(() => (globalThis as any).synodLab?.renders);
      expect(renders).toBeGreaterThan(0);
    });
  });

  describe('pbft, 4 replicas, admin token', () => {
    const TOKEN = 'lab-browser-token';
    const cluster = clusterForSuite(['--protocol', 'pbft'], { ADMIN_TOKEN: TOKEN });
    let lab: OpenPage;
    let page: Page;
    let c: TestCluster;
    beforeAll(async () => {
      c = cluster();
      lab = await openLab(browser, c);
      page = lab.page;
      await watchTimeline(page);
      await page.locator('#token').fill(TOKEN);
      await page.keyboard.press('Tab'); // a change event for pages that listen to it
    }, 30_000);
    afterAll(async () => {
      await page?.close();
    });

    it('a backup turned Byzantine from the page: writes still succeed, the honest replicas count its frames dropped', async () => {
      const primary = await c.waitForLeader();
      const ids: string[] = (await c.clusterState()).nodes.map((n: any) => n.id);
      const backup = ids.filter((id) => id !== primary).sort()[0];
      const honest = ids.filter((id) => id !== backup);
      // Forged identities and signatures that are not: every honest replica drops them (bad-signature).
      const behavior = 'forge';
      await waitForText(page, '#summary', new RegExp(`\\b${primary}\\b`));
      const dropsBefore = await Promise.all(honest.map((id) => drops(page, id)));
      const before = await lastSeq(page);

      const options: string[] = await page.$$eval(`select[data-byzantine-for="${backup}"] option`, (os: any[]) => os.map((o) => String(o.value)));
      expect(options).toContain(behavior);
      expect(options).toContain('none');
      await page.select(`select[data-byzantine-for="${backup}"]`, behavior);
      await click(page, button('byzantine', backup));
      await waitForAttr(page, replica(backup), 'data-byzantine', (v) => v === behavior, `${backup} drawn Byzantine (${behavior})`);
      await waitForEntry(page, before, `a byzantine event for ${backup}`, (e) => e.kind === 'byzantine' && e.node === backup);

      const load = new Workload(c, 2, 4);
      load.start();
      try {
        for (let i = 0; i < 5; i++) expect((await c.putUntilOk(`byz-${i}`, `v${i}`, 15_000)).status).toBe(200);
        const counted = await waitFor(
          async () => {
            const now = await Promise.all(honest.map((id) => drops(page, id)));
            return now.some((n, i) => n > dropsBefore[i]) ? now : null;
          },
          8000,
          'an honest replica counting dropped frames on the page',
        );
        console.log(
          `lab pbft byzantine (${behavior} on ${backup}): drops on the page ${honest.map((id, i) => `${id} ${dropsBefore[i]} -> ${counted[i]}`).join(', ')}`,
        );
        await new Promise((r) => setTimeout(r, 2000)); // a few seconds of the throughput chart in the picture
        await screenshot(page, 'lab-pbft-byzantine');
      } finally {
        await load.stop();
      }
      expect(load.history.filter((o) => o.kind === 'put' && o.status === 'ok').length).toBeGreaterThan(0);

      await page.select(`select[data-byzantine-for="${backup}"]`, 'none');
      await click(page, button('byzantine', backup));
      await waitForAttr(page, replica(backup), 'data-byzantine', (v) => v === 'none' || v === '' || v === 'false', `${backup} drawn honest again`);
      expect((await c.putUntilOk('byz-after', 'ok', 15_000)).status).toBe(200);
    }, 60_000);

    it('runs a scenario from the page: isolate the primary, then a Byzantine backup, each step on the timeline', async () => {
      const primary = await c.waitForLeader();
      const before = await lastSeq(page);
      // Clients writing meanwhile: backups suspect a primary only when requests they hold go unordered.
      const load = new Workload(c, 2, 4);
      load.start();
      try {
        const name = 'isolate-primary-byzantine';
        await page.waitForSelector(`select#scenario-select option[value="${name}"]`);
        expect(await page.select('select#scenario-select', name)).toEqual([name]);
        await click(page, 'button[data-action="run-scenario"]');
        await waitForEntry(page, before, 'a scenario event', (e) => e.kind === 'scenario');
        await waitForAttr(page, replica(primary), 'data-isolated', (v) => v === 'true', `the primary ${primary} drawn isolated`);
        await waitForEntry(page, before, `another primary elected`, (e) => e.kind === 'elected' && e.node !== primary, 15_000);
        await waitForAttr(page, replica(primary), 'data-isolated', (v) => v !== 'true', `${primary} drawn healed`, 10_000);
        const liar = await waitFor(
          async () => {
            for (const id of (await c.clusterState()).nodes.map((n: any) => n.id as string))
              if ((await attr(page, replica(id), 'data-byzantine')) === 'equivocate') return id;
            return null;
          },
          10_000,
          'a backup drawn Byzantine (equivocate)',
        );
        await screenshot(page, 'lab-pbft-scenario');
        await waitForText(page, '#scenario-run', /done/, 20_000);
        await waitForAttr(page, replica(liar), 'data-byzantine', (v) => v === 'none' || v === '' || v === 'false', `${liar} drawn honest again`);
      } finally {
        await load.stop();
      }
      expect((await c.putUntilOk('after-scenario', 'ok', 15_000)).status).toBe(200);
    }, 60_000);

    it('the page reported no errors', async () => {
      lab.errors.assertNone();
      expect(await waitForText(page, '#stream-status', CONNECTED, 1000)).toMatch(CONNECTED);
    });
  });
});
