// `cidrpool dashboard` in a real browser (Debian's chromium, headless, via playwright-core),
// against a store filled through the real CLI, on the embedded store and on a real etcd. Every
// view's numbers are compared with what `ipam show --show-blocks` and `ipam check` print for the
// same store; an `ipam assign` made while the page is open must appear within 2 s; screenshots of
// every view go to dist/test-artifacts/dashboard/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { createSandbox, DATASTORES, REPO_ROOT, type Sandbox } from '../cli/support.js';
import {
  parseCheck,
  parseShowBlocks,
  startDashboardProcess,
  type DashboardProcess,
} from './support.js';

const ARTIFACTS = join(REPO_ROOT, 'dist', 'test-artifacts', 'dashboard');
const digits = (text: string | null): string => (text ?? '').replace(/[,\s]/g, '');

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
  await page
    .locator('[data-testid="live-state"]', { hasText: 'Live' })
    .waitFor({ timeout: 10_000 });
  await page.locator('main h1').first().waitFor();
}

let browser: Browser;
before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

for (const datastore of DATASTORES) {
  describe(`cidrpool dashboard on the ${datastore.name}`, () => {
    const tag = datastore.name.startsWith('etcd') ? 'etcd' : 'embedded';
    let stop: () => Promise<void>;
    let sb: Sandbox;
    let dashboard: DashboardProcess | undefined;
    let page: Page;
    let ips: { frontendIp: string; leakedIp: string };
    let shown: ReturnType<typeof parseShowBlocks>;
    let checked: ReturnType<typeof parseCheck>;

    before(async () => {
      const opened = await datastore.open();
      sb = opened.sb;
      stop = opened.stop;
      ips = await fillStore(sb);
      shown = parseShowBlocks(await sb.ok(['ipam', 'show', '--show-blocks']));
      checked = parseCheck(await sb.ok(['ipam', 'check']));
      dashboard = await startDashboardProcess(sb);
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
    });
    after(async () => {
      await page?.close();
      await dashboard?.stop();
      sb?.cleanup();
      await stop?.();
    });

    it('Pools: addresses and blocks per pool equal ipam show --show-blocks', async () => {
      await show(page, dashboard!.url, 'pools');
      const pools = shown.filter((r) => r.grouping === 'IP Pool');
      assert.equal(pools.length, 3);
      for (const [i, pool] of pools.entries()) {
        const row = page
          .locator('tr[data-pool]')
          .filter({ has: page.locator(`[data-field="cidr"]`, { hasText: pool.cidr }) });
        assert.equal(await row.count(), 1, `one row for ${pool.cidr}`);
        assert.equal(
          digits(await row.locator('[data-field="in-use"]').textContent()),
          String(pool.inUse),
          pool.cidr,
        );
        const capacity = Number(
          digits(await row.locator('[data-field="capacity"]').getAttribute('title')),
        );
        assert.ok(
          Math.abs(capacity / Number(pool.total) - 1) < 1e-4,
          `${pool.cidr}: ${capacity} vs ${pool.total}`,
        );
        const start = shown.indexOf(pool);
        const end: number = i + 1 < pools.length ? shown.indexOf(pools[i + 1]!) : shown.length;
        assert.equal(
          digits(await row.locator('[data-field="blocks"]').textContent()),
          String(end - start - 1),
        );
      }
      await shoot(page, `${tag}-pools`);
    });

    it('Block map: every claimed block reads as ipam show counts it, and lists its addresses', async () => {
      await show(page, dashboard!.url, 'map/10-1-0-0-16');
      const canvas = page.locator('[data-testid="block-map"]');
      await page.locator('canvas[data-painted]').waitFor();
      const blocks = shown
        .slice(shown.findIndex((r) => r.cidr === '10.1.0.0/16') + 1)
        .filter((r, i, all) => all.slice(0, i + 1).every((x) => x.grouping === 'Block'));
      assert.ok(blocks.length >= 2);
      await canvas.focus();
      // The cursor starts on the first block; n jumps to the next claimed one.
      const seen = new Map<string, string>();
      for (let i = 0; i <= blocks.length; i++) {
        if (i > 0) await page.keyboard.press('n');
        const text = (await page.locator('#map-cursor').textContent()) ?? '';
        const m = /Cursor: (\S+): (.*)$/.exec(text);
        assert.ok(m, text);
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
      const box = (await page.locator('.map-cursor').boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const tooltip = await page.locator('[data-testid="map-tooltip"]').textContent();
      const cursorText = (await page.locator('#map-cursor').textContent())!.replace('Cursor: ', '');
      assert.equal(tooltip, cursorText);
      const last = /^(\S+):/.exec(cursorText)![1]!;
      await canvas.focus();
      await page.keyboard.press('Enter');
      const rows = page.locator('[data-testid="block-addresses"] tbody tr');
      await rows.first().waitFor();
      assert.equal(await rows.count(), blocks.find((b) => b.cidr === last)!.inUse);
      await shoot(page, `${tag}-block-map`);
    });

    it('Nodes: blocks and addresses per node equal ipam check', async () => {
      await show(page, dashboard!.url, 'nodes');
      for (const [node, allocations] of checked.nodeAllocations) {
        const row = page.locator(`tr[data-node="${node}"]`);
        assert.equal(
          digits(await row.locator('[data-field="addresses"]').textContent()),
          String(allocations),
          node,
        );
        const blocks = [...checked.blockAffinity.values()].filter(
          (a) => a === `host:${node}`,
        ).length;
        assert.equal(
          digits(await row.locator('[data-field="blocks"]').textContent()),
          String(blocks),
          node,
        );
      }
      // Sortable: by name ascending puts node-1 first.
      await page.getByRole('button', { name: /^Node/ }).click();
      const sort = await page.locator('th[aria-sort="ascending"]').textContent();
      assert.match(sort ?? '', /Node/);
      assert.equal(await page.locator('tbody tr').first().getAttribute('data-node'), 'node-1');
      await shoot(page, `${tag}-nodes`);
    });

    it('Search: a pod leads to its address, block and pool', async () => {
      await show(page, dashboard!.url, 'search?q=frontend-1');
      const row = page.locator('[data-testid="search-table"] tbody tr', {
        hasText: ips.frontendIp,
      });
      await row.waitFor();
      assert.match((await row.textContent()) ?? '', /shop\/frontend-1.*node-1.*10-1-0-0-16/);
      await shoot(page, `${tag}-search`);
    });

    it('Problems: the count equals ipam check, with the command that fixes each', async () => {
      await show(page, dashboard!.url, 'problems');
      assert.ok(checked.problems >= 1);
      assert.match(
        (await page.locator('[data-testid="problem-count"]').textContent()) ?? '',
        new RegExp(`found ${checked.problems} problem`),
      );
      const leak = page.locator('li[data-kind="leaked-ip"]', { hasText: ips.leakedIp });
      assert.match(
        (await leak.textContent()) ?? '',
        new RegExp(`cidrpool ipam release --ip=${ips.leakedIp.replace(/\./g, '\\.')}`),
      );
      await shoot(page, `${tag}-problems`);
    });

    it('Forecast: a rate and its basis for every pool', async () => {
      await show(page, dashboard!.url, 'forecast');
      const rows = page.locator('[data-testid="forecast-table"] tbody tr');
      assert.equal(await rows.count(), 3);
      const first = await rows.first().textContent();
      assert.match(first ?? '', /allocated in the last 24 h/);
      await shoot(page, `${tag}-forecast`);
    });

    it('Live: an ipam assign made while the page is open appears within 2 s', async () => {
      await show(page, dashboard!.url, 'pools');
      const cell = page.locator('tr[data-pool="default-ipv4-ippool"] [data-field="in-use"]');
      const before = Number(digits(await cell.textContent()));
      await assignPod(sb, 'node-1', 'shop/live-1', ['--pool', 'default-ipv4-ippool']);
      // Locators, not page functions: the page's CSP forbids evaluating strings.
      await cell.filter({ hasText: new RegExp(`^${before + 1}$`) }).waitFor({ timeout: 2000 });
    });
  });
}

describe('cidrpool dashboard access', () => {
  let sb: Sandbox;
  let dashboard: DashboardProcess | undefined;
  const token = 'cp14-test-token-0123456789abcdef';
  before(async () => {
    sb = createSandbox();
    await sb.ok(['create', '-f', join(REPO_ROOT, 'examples', 'pools.yaml')]);
    dashboard = await startDashboardProcess(sb, ['--token-file', sb.write('token', `${token}\n`)]);
  });
  after(async () => {
    await dashboard?.stop();
    sb?.cleanup();
  });

  it('refuses a missing or wrong bearer token, and the page says which', async () => {
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

    const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    try {
      await page.goto(dashboard!.url);
      await page.getByRole('heading', { name: 'This dashboard needs an access token' }).waitFor();
      await page.getByLabel('Access token').fill('not-the-token-at-all');
      await page.getByRole('button', { name: 'Open the dashboard' }).click();
      await page.getByRole('heading', { name: 'The access token was refused' }).waitFor();
      await shoot(page, 'token-refused');
      await page.getByLabel('Access token').fill(token);
      await page.getByRole('button', { name: 'Open the dashboard' }).click();
      await page.locator('[data-testid="pools-table"]').waitFor();
    } finally {
      await page.close();
    }
  });

  it('will not listen on a non-loopback address without --token-file', async () => {
    const res = await sb.run(['dashboard', '--listen', '0.0.0.0:0']);
    assert.equal(res.code, 1);
    assert.match(res.stderr + res.stdout, /0\.0\.0\.0:0 is not a loopback address.*--token-file/);
  });
});
