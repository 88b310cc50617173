// `cidrpool dashboard` in real browsers (Debian's chromium and firefox-esr, headless, one test body
// driven by puppeteer-core in each), against a store filled through the real CLI, on the embedded
// store and on a real etcd. Every view's numbers are compared with what `ipam show --show-blocks`
// and `ipam check` print for the same store; an `ipam assign` made while the page is open must
// appear within 2 s; screenshots of every view go to dist/test-artifacts/dashboard/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { BROWSERS, launchBrowser } from '../helpers/browser.js';
import { createSandbox, DATASTORES, REPO_ROOT, type Sandbox } from '../cli/support.js';
import { attrOf, clickText, pollFor, textOf, texts, waitForSelector, waitForText } from './page.js';
import {
  parseCheck,
  parseShowBlocks,
  startDashboardProcess,
  type DashboardProcess,
} from './support.js';

const ARTIFACTS = join(REPO_ROOT, 'dist', 'test-artifacts', 'dashboard');
const digits = (text: string | null | undefined): string => (text ?? '').replace(/[,\s]/g, '');

/** `cidrpool ipam assign` for pod `namespace/name`; returns its first address (without mask). */
async function assignPod(
  sb: Sandbox,
  node: string,
  pod: string,
  extra: readonly string[] = [],
): Promise<string> {
  const [namespace, name] = pod.split('/');
  const out = await sb.ok([
    'ipam',
    'assign',
    '--node',
    node,
    '--namespace',
    namespace!,
    '--pod',
    name!,
    ...extra,
  ]);
  return out.trim().split('\n')[0]!.split('/')[0]!;
}

/** The quickstart's store, plus one address assigned without a pod: a leak for `ipam check`. */
async function fillStore(sb: Sandbox): Promise<{ frontendIp: string; leakedIp: string }> {
  await sb.ok(['create', '-f', join(REPO_ROOT, 'examples', 'pools.yaml')]);
  await sb.ok(['create', '-f', join(REPO_ROOT, 'examples', 'nodes.yaml')]);
  await sb.ok(['apply', '-f', join(REPO_ROOT, 'examples', 'reservation.yaml')]);
  const frontendIp = await assignPod(sb, 'node-1', 'shop/frontend-1');
  await assignPod(sb, 'node-1', 'shop/frontend-2');
  await assignPod(sb, 'node-2', 'shop/backend-1', ['--ipv6', '1']);
  await assignPod(sb, 'node-2', 'legacy/billing-1', [
    '--namespace-annotation',
    'cni.projectcalico.org/ipv4pools=["default-ipv4-ippool"]',
  ]);
  const leaked = await sb.ok(['ipam', 'assign', '--node', 'node-2', '--pool', '10-1-0-0-16']);
  const ip = (out: string): string => out.trim().split('/')[0]!;
  return { frontendIp, leakedIp: ip(leaked) };
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function show(page: Page, url: string, hash: string): Promise<void> {
  await page.goto(`${url}#${hash}`);
  await waitForText(page, '[data-testid="live-state"]', 'Live');
  await waitForSelector(page, 'main h1');
  // The first `ipam check` runs after the first snapshot; the tab shows … until it ends.
  await waitForText(page, 'nav .count', /^\d+$/);
}

/** A new page at 1280x900 that fails the test on any page error. */
async function openPage(browser: Browser, width = 1280, height = 900): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  page.on('pageerror', (e) => assert.fail(`page error: ${(e as Error).message}`));
  return page;
}

for (const datastore of DATASTORES) {
  describe(`cidrpool dashboard on the ${datastore.name}`, () => {
    const store = datastore.name.startsWith('etcd') ? 'etcd' : 'embedded';
    let stop: () => Promise<void>;
    let sb: Sandbox;
    let dashboard: DashboardProcess | undefined;
    let ips: { frontendIp: string; leakedIp: string };
    let shown: ReturnType<typeof parseShowBlocks>;
    let checked: ReturnType<typeof parseCheck>;
    const browsers: Browser[] = [];
    const pages = new Map<string, Page>();

    before(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const opened = await datastore.open();
      sb = opened.sb;
      stop = opened.stop;
      ips = await fillStore(sb);
      shown = parseShowBlocks(await sb.ok(['ipam', 'show', '--show-blocks']));
      checked = parseCheck(await sb.ok(['ipam', 'check']));
      dashboard = await startDashboardProcess(sb);
      for (const kind of BROWSERS) {
        const browser = await launchBrowser(kind);
        browsers.push(browser);
        pages.set(kind.name, await openPage(browser));
      }
    });
    after(async () => {
      for (const browser of browsers) await browser.close();
      await dashboard?.stop();
      sb?.cleanup();
      await stop?.();
    });

    for (const kind of BROWSERS) {
      describe(`in ${kind.name}`, () => {
        const tag = `${store}-${kind.name}`;
        let page: Page;
        before(() => {
          page = pages.get(kind.name)!;
        });

        it('Pools: addresses and blocks per pool equal ipam show --show-blocks', async () => {
          await show(page, dashboard!.url, 'pools');
          const rows = await page.$$eval('tr[data-pool]', (trs) =>
            trs.map((tr) => {
              const field = (f: string) => tr.querySelector(`[data-field="${f}"]`);
              return {
                cidr: field('cidr')?.textContent ?? '',
                inUse: field('in-use')?.textContent ?? '',
                capacity: field('capacity')?.getAttribute('title') ?? '',
                blocks: field('blocks')?.textContent ?? '',
              };
            }),
          );
          const pools = shown.filter((r) => r.grouping === 'IP Pool');
          assert.equal(pools.length, 3);
          for (const [i, pool] of pools.entries()) {
            const matching = rows.filter((r) => r.cidr.includes(pool.cidr));
            assert.equal(matching.length, 1, `one row for ${pool.cidr}`);
            const row = matching[0]!;
            assert.equal(digits(row.inUse), String(pool.inUse), pool.cidr);
            const capacity = Number(digits(row.capacity));
            assert.ok(
              Math.abs(capacity / Number(pool.total) - 1) < 1e-4,
              `${pool.cidr}: ${capacity} vs ${pool.total}`,
            );
            const start = shown.indexOf(pool);
            const end: number = i + 1 < pools.length ? shown.indexOf(pools[i + 1]!) : shown.length;
            assert.equal(digits(row.blocks), String(end - start - 1));
          }
          await shoot(page, `${tag}-pools`);
        });

        it('Block map: every claimed block reads as ipam show counts it, and lists its addresses', async () => {
          await show(page, dashboard!.url, 'map/10-1-0-0-16');
          await waitForSelector(page, 'canvas[data-painted]');
          const blocks = shown
            .slice(shown.findIndex((r) => r.cidr === '10.1.0.0/16') + 1)
            .filter((r, i, all) => all.slice(0, i + 1).every((x) => x.grouping === 'Block'));
          assert.ok(blocks.length >= 2);
          await page.focus('[data-testid="block-map"]');
          // The cursor starts on the first block; n jumps to the next claimed one.
          const cursor = async (): Promise<string> =>
            (await textOf(page, '#map-cursor'))!.replace('Cursor: ', '');
          const seen = new Map<string, string>();
          for (let i = 0; i <= blocks.length; i++) {
            if (i > 0) {
              const was = await cursor();
              await page.keyboard.press('n');
              // The last claimed block stays put; any other press moves the cursor.
              if (i < blocks.length)
                await pollFor('the cursor to move', async () =>
                  (await cursor()) !== was ? true : undefined,
                );
            }
            const m = /^(\S+): (.*)$/.exec(await cursor());
            assert.ok(m);
            if (!m[2]!.startsWith('free')) seen.set(m[1]!, m[2]!);
          }
          for (const b of blocks) {
            const text = seen.get(b.cidr);
            assert.ok(text, `block ${b.cidr} reached with the keyboard`);
            const host = checked.blockAffinity.get(b.cidr)!.replace(/^host:/, '');
            assert.match(
              text,
              new RegExp(`^node ${host}; ${b.inUse} used, ${64 - b.inUse} free of ${b.total}`),
            );
          }
          // Hover over the cursor's block shows the same text; Enter lists its addresses.
          const box = (await (await page.$('.map-cursor'))!.boundingBox())!;
          await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
          const cursorText = await cursor();
          await waitForText(page, '[data-testid="map-tooltip"]', cursorText);
          const last = /^(\S+):/.exec(cursorText)![1]!;
          await page.focus('[data-testid="block-map"]');
          await page.keyboard.press('Enter');
          const rows = '[data-testid="block-addresses"] tbody tr';
          await waitForSelector(page, rows);
          assert.equal(
            (await texts(page, rows)).length,
            blocks.find((b) => b.cidr === last)!.inUse,
          );
          await shoot(page, `${tag}-block-map`);
        });

        it('Nodes: blocks and addresses per node equal ipam check', async () => {
          await show(page, dashboard!.url, 'nodes');
          for (const [node, allocations] of checked.nodeAllocations) {
            const row = `tr[data-node="${node}"]`;
            assert.equal(
              digits(await textOf(page, `${row} [data-field="addresses"]`)),
              String(allocations),
              node,
            );
            const blocks = [...checked.blockAffinity.values()].filter(
              (a) => a === `host:${node}`,
            ).length;
            assert.equal(
              digits(await textOf(page, `${row} [data-field="blocks"]`)),
              String(blocks),
              node,
            );
          }
          // Sortable: by name ascending puts node-1 first.
          await clickText(page, 'th button', 'Node');
          assert.match(await waitForText(page, 'th[aria-sort="ascending"]', 'Node'), /Node/);
          assert.equal(await attrOf(page, 'tbody tr', 'data-node'), 'node-1');
          await shoot(page, `${tag}-nodes`);
        });

        it('Search: a pod leads to its address, block and pool', async () => {
          await show(page, dashboard!.url, 'search?q=frontend-1');
          const row = await waitForText(
            page,
            '[data-testid="search-table"] tbody tr',
            ips.frontendIp,
          );
          assert.match(row, /shop\/frontend-1.*node-1.*10-1-0-0-16/);
          await shoot(page, `${tag}-search`);
        });

        it('Problems: the count equals ipam check, with the command that fixes each', async () => {
          await show(page, dashboard!.url, 'problems');
          assert.ok(checked.problems >= 1);
          await waitForText(
            page,
            '[data-testid="problem-count"]',
            new RegExp(`found ${checked.problems} problem`),
          );
          const leak = await waitForText(page, 'li[data-kind="leaked-ip"]', ips.leakedIp);
          assert.match(
            leak,
            new RegExp(`cidrpool ipam release --ip=${ips.leakedIp.replace(/\./g, '\\.')}`),
          );
          await shoot(page, `${tag}-problems`);
        });

        it('Forecast: a rate and its basis for every pool', async () => {
          await show(page, dashboard!.url, 'forecast');
          const rows = await texts(page, '[data-testid="forecast-table"] tbody tr');
          assert.equal(rows.length, 3);
          assert.match(rows[0]!, /allocated in the last 24 h/);
          await shoot(page, `${tag}-forecast`);
        });
      });
    }

    // Last: it changes the store the views above compare with the CLI's output.
    for (const kind of BROWSERS)
      it(`Live in ${kind.name}: an ipam assign made while the page is open appears within 2 s`, async () => {
        const page = pages.get(kind.name)!;
        await show(page, dashboard!.url, 'pools');
        const cell = 'tr[data-pool="default-ipv4-ippool"] [data-field="in-use"]';
        const before = Number(digits(await textOf(page, cell)));
        await assignPod(sb, 'node-1', `shop/live-${kind.name}`, ['--pool', 'default-ipv4-ippool']);
        await waitForText(page, cell, new RegExp(`^${before + 1}$`), 2000);
      });
  });
}

describe('cidrpool dashboard access', () => {
  let sb: Sandbox;
  let dashboard: DashboardProcess | undefined;
  const token = 'cp14-test-token-0123456789abcdef';
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    sb = createSandbox();
    await sb.ok(['create', '-f', join(REPO_ROOT, 'examples', 'pools.yaml')]);
    dashboard = await startDashboardProcess(sb, ['--token-file', sb.write('token', `${token}\n`)]);
  });
  after(async () => {
    await dashboard?.stop();
    sb?.cleanup();
  });

  it('refuses a missing or wrong bearer token', async () => {
    const api = `${dashboard!.url}api/snapshot`;
    const missing = await fetch(api);
    assert.equal(missing.status, 401);
    assert.equal(((await missing.json()) as { token: string }).token, 'missing');
    const wrong = await fetch(api, { headers: { Authorization: 'Bearer not-the-token-at-all' } });
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { token: string }).token, 'wrong');
    assert.equal((await fetch(api, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
    assert.equal(
      (await fetch(api, { method: 'POST', headers: { Authorization: `Bearer ${token}` } })).status,
      405,
    );
  });

  for (const kind of BROWSERS)
    it(`the page in ${kind.name} says when the token is missing or wrong`, async () => {
      const browser = await launchBrowser(kind);
      try {
        const page = await openPage(browser, 800, 600);
        await page.goto(dashboard!.url);
        await waitForText(page, 'h1', 'This dashboard needs an access token');
        await page.type('#token', 'not-the-token-at-all');
        await clickText(page, 'button', 'Open the dashboard');
        await waitForText(page, 'h1', 'The access token was refused');
        await shoot(page, `token-refused-${kind.name}`);
        await page.$eval('#token', (el) => ((el as unknown as { value: string }).value = ''));
        await page.type('#token', token);
        await clickText(page, 'button', 'Open the dashboard');
        await waitForSelector(page, '[data-testid="pools-table"]');
      } finally {
        await browser.close();
      }
    });

  it('will not listen on a non-loopback address without --token-file', async () => {
    const res = await sb.run(['dashboard', '--listen', '0.0.0.0:0']);
    assert.equal(res.code, 1);
    assert.match(res.stderr + res.stdout, /0\.0\.0\.0:0 is not a loopback address.*--token-file/);
  });
});
