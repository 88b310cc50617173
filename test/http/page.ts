// Reading the dashboard page the same way in every browser (test/helpers/browser.ts). Only
// puppeteer's element handles and $$eval are used: both browsers implement them alike, and the
// page's CSP (no eval) does not apply to them. Waits poll with a bound, never sleep blindly.
import type { Page } from 'puppeteer-core';
import { pollFor } from '../helpers/poll.js';

export { pollFor };

/** The text of every element matching `selector`, in document order. */
export const texts = (page: Page, selector: string): Promise<string[]> =>
  page.$$eval(selector, (els) => els.map((e) => e.textContent ?? ''));

/** The text of the first element matching `selector` (undefined when there is none). */
export async function textOf(page: Page, selector: string): Promise<string | undefined> {
  return (await texts(page, selector))[0];
}

/** An attribute of the first element matching `selector`. */
export async function attrOf(
  page: Page,
  selector: string,
  name: string,
): Promise<string | undefined> {
  const values = await page.$$eval(selector, (els, n) => els.map((e) => e.getAttribute(n)), name);
  return values[0] ?? undefined;
}

/** Waits until an element matching `selector` has text matching `pattern`; returns that text. */
export function waitForText(
  page: Page,
  selector: string,
  pattern: RegExp | string,
  timeoutMs = 10_000,
): Promise<string> {
  const matches = (t: string): boolean =>
    typeof pattern === 'string' ? t.includes(pattern) : pattern.test(t);
  return pollFor(
    `${selector} with text ${String(pattern)}`,
    async () => (await texts(page, selector)).find(matches),
    timeoutMs,
  );
}

/** Waits until `selector` matches at least one element; returns how many it matches. */
export const waitForSelector = (
  page: Page,
  selector: string,
  timeoutMs = 10_000,
): Promise<number> =>
  pollFor(
    selector,
    async () => {
      const n = (await page.$$(selector)).length;
      return n > 0 ? n : undefined;
    },
    timeoutMs,
  );

/** Click the first `selector` element whose text contains `text`. Throws when there is none. */
export async function clickText(page: Page, selector: string, text: string): Promise<void> {
  for (const el of await page.$$(selector)) {
    if (((await el.evaluate((e) => e.textContent)) ?? '').includes(text)) {
      await el.click();
      return;
    }
  }
  throw new Error(`no ${selector} with text ${text}`);
}
