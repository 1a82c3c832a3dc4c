// Shared by the browser tests: launch Debian's Chromium (never a browser
// downloaded by a test tool) in headless mode with the flags this closed
// network needs, plus small helpers every script uses.
import { chromium } from 'playwright-core';

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
