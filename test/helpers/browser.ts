// The real browsers the dashboard is tested in: Debian's chromium and firefox-esr, headless, both
// driven by puppeteer-core (Chromium over CDP, Firefox over WebDriver BiDi), so one test body runs
// in each. Nothing is downloaded: the system binaries are the only browsers. puppeteer-core gives
// each launch a fresh profile in the temp dir and removes it on close().
import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

export interface BrowserKind {
  readonly name: 'chromium' | 'firefox';
  readonly executablePath: string;
  /** The Debian package that provides it (scripts/setup.sh installs both). */
  readonly debianPackage: string;
}

export const CHROMIUM: BrowserKind = {
  name: 'chromium',
  executablePath: '/usr/bin/chromium',
  debianPackage: 'chromium',
};
export const FIREFOX: BrowserKind = {
  name: 'firefox',
  executablePath: '/usr/bin/firefox-esr',
  debianPackage: 'firefox-esr',
};
export const BROWSERS: readonly BrowserKind[] = [CHROMIUM, FIREFOX];

/** Chromium as root in a container: no sandbox, no GPU, nothing fetched in the background. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Firefox: no update checks, telemetry or remote settings (no network beyond loopback). */
const FIREFOX_PREFS = {
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
};

/** Launch `kind` headless; close() it when done. Throws when its binary is missing. */
export async function launchBrowser(kind: BrowserKind): Promise<Browser> {
  if (!existsSync(kind.executablePath))
    throw new Error(
      `${kind.executablePath} is missing: run scripts/setup.sh (it installs ${kind.debianPackage})`,
    );
  return kind.name === 'firefox'
    ? puppeteer.launch({
        browser: 'firefox',
        executablePath: kind.executablePath,
        headless: true,
        extraPrefsFirefox: FIREFOX_PREFS,
      })
    : puppeteer.launch({
        browser: 'chrome',
        executablePath: kind.executablePath,
        headless: true,
        args: CHROMIUM_ARGS,
      });
}
