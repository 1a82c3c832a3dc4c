// Shared by the browser tests: launch Debian's Chromium (never a browser
// downloaded by a test tool) in headless mode with the flags this closed
// network needs, plus small helpers every script uses.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';

// Without the background-networking flags Chromium keeps trying hosts this
// machine cannot reach.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// launch starts a persistent context in userDataDir; options are passed on
// (viewport, locale, acceptDownloads, ...).
export function launch(userDataDir, options = {}) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    ...options,
  });
}

// check throws unless cond holds.
export function check(cond, msg) {
  if (!cond) {
    throw new Error('check failed: ' + msg);
  }
}

// watchdog ends the process with status 2 if the script hangs.
export function watchdog(ms = 90_000) {
  return setTimeout(() => {
    console.error('timeout');
    process.exit(2);
  }, ms);
}

// runInChromium is a script's frame: a watchdog of watchdogMs, Chromium
// launched with options in a fresh profile, fn(context), then the context
// closed and the profile removed whatever happened. It ends the process:
// status 0, or 1 with the error printed.
export async function runInChromium(options, fn, watchdogMs = 90_000) {
  const timer = watchdog(watchdogMs);
  const userDataDir = mkdtempSync(join(tmpdir(), 'sendguard-chromium-'));
  let context;
  let failed = false;
  try {
    context = await launch(userDataDir, options);
    await fn(context);
  } catch (e) {
    failed = true;
    console.error(e && e.stack ? e.stack : String(e));
  } finally {
    if (context) {
      await context.close().catch(() => {});
    }
    rmSync(userDataDir, { recursive: true, force: true });
    clearTimeout(timer);
  }
  process.exit(failed ? 1 : 0);
}

// Headless Chromium now and then answers a capture with "Protocol error
// (Page.captureScreenshot): Unable to capture screenshot" on a page that is
// fine; the next capture works. Only that error is retried: anything else
// (a closed page, a missing element, a timeout) is the test's business.
const CAPTURE_ERROR = /Unable to capture screenshot|Protocol error \(Page\.captureScreenshot\)/;

// SCREENSHOT_ATTEMPTS bounds the captures screenshot tries.
export const SCREENSHOT_ATTEMPTS = 3;

// isCaptureError reports whether e is Chromium's transient capture error.
export function isCaptureError(e) {
  return e instanceof Error && CAPTURE_ERROR.test(e.message);
}

// screenshot is target.screenshot(opts) for a Page or a Locator, retrying
// Chromium's capture error up to SCREENSHOT_ATTEMPTS captures in all. When
// every attempt fails it still throws: the screenshots are artifacts the
// README and CI keep, and a page that cannot be captured at all is broken.
export async function screenshot(target, opts = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await target.screenshot(opts);
    } catch (e) {
      if (!isCaptureError(e) || attempt >= SCREENSHOT_ATTEMPTS) throw e;
      console.log(`screenshot ${opts.path ?? ''}: capture ${attempt} of ${SCREENSHOT_ATTEMPTS} failed, retrying: ${e.message.split('\n')[0]}`);
      await settle(target, 200 * attempt);
    }
  }
}

// settle waits ms, then for the page to paint a frame, at most a second:
// rAF may never fire on a page in the background.
async function settle(target, ms) {
  await new Promise((r) => setTimeout(r, ms));
  const page = typeof target.page === 'function' ? target.page() : target;
  // A failure here (a closed page) shows in the next capture's own error.
  const frame = page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r()))).catch(() => {});
  let timer;
  await Promise.race([frame, new Promise((r) => { timer = setTimeout(r, 1000); })]);
  clearTimeout(timer);
}

// env returns a required environment variable (the Go test passes every
// input this way).
export function env(k) {
  const v = process.env[k];
  if (!v) throw new Error(`missing ${k}`);
  return v;
}

// step logs a step; the Go test shows the log when a script fails.
export function step(msg) {
  console.log(`step: ${msg}`);
}

// collectErrors records the page's console errors (a CSP violation is one)
// and uncaught exceptions, except console errors that ignore(text) accepts
// as expected; it returns the list it fills.
export function collectErrors(page, ignore = () => false) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error' && !ignore(m.text())) errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

// signIn signs in to the console with password and TOTP code (from
// CONSOLE_USER, CONSOLE_PASSWORD, CONSOLE_CODE) starting from the page
// landing (e.g. 'queue'), and waits to be back on it.
export async function signIn(page, base, landing) {
  await page.goto(base + landing);
  check(page.url().includes('/console/login'), `not sent to sign-in: ${page.url()}`);
  await page.fill('#user', env('CONSOLE_USER'));
  await page.fill('#password', env('CONSOLE_PASSWORD'));
  await Promise.all([page.waitForURL(/\/console\/totp$/), page.click('#login-form button[type=submit]')]);
  await page.fill('#code', env('CONSOLE_CODE'));
  await Promise.all([page.waitForURL(new RegExp(`/console/${landing}$`)), page.click('#totp-form button[type=submit]')]);
}
