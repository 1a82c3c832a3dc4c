// Checks chromium.mjs's screenshot helper in the system Chromium: it
// retries Chromium's transient capture error and writes the PNG, rethrows
// any other error at once, and still throws when every capture fails. The
// capture error is injected by failing the first calls of a real Page or
// Locator with the message CI saw; later calls capture for real.
//
// Usage: node screenshot-retry.mjs DIR
// Writes DIR/retried-page.png and DIR/retried-element.png; no other file.
// Exit status 0 on success, 1 on a failed check, 2 on a timeout.
import { check, runInChromium, screenshot, SCREENSHOT_ATTEMPTS } from './chromium.mjs';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node screenshot-retry.mjs DIR');
  process.exit(1);
}
mkdirSync(dir, { recursive: true });

// What Playwright threw in CI (e2e/pages.mjs, TestBrowserTour).
const CAPTURE = 'page.screenshot: Protocol error (Page.captureScreenshot): Unable to capture screenshot';

// flaky wraps a Page or Locator so that its first `failures` screenshot
// calls throw new Error(message); it counts every call.
function flaky(target, failures, message) {
  const calls = { n: 0 };
  const wrapped = new Proxy(target, {
    get(t, k) {
      if (k === 'screenshot') {
        return async (opts) => {
          calls.n++;
          if (calls.n <= failures) throw new Error(message);
          return t.screenshot(opts);
        };
      }
      const v = Reflect.get(t, k);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
  return [wrapped, calls];
}

// rejects returns the error fn throws, failing the check if it throws none.
async function rejects(fn, what) {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  check(false, `${what}: no error`);
}

function isPNG(path) {
  const b = readFileSync(path);
  return b.length > 100 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
}

await runInChromium({ viewport: { width: 640, height: 480 } }, async (context) => {
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? await context.newPage();
  await page.setContent('<h1 id="title">sendguard</h1><p style="height:1500px">tall page</p>');

  // The first capture fails as in CI: one retry, a real full-page PNG.
  let [target, calls] = flaky(page, 1, CAPTURE);
  const out = join(dir, 'retried-page.png');
  const buf = await screenshot(target, { path: out, fullPage: true });
  check(calls.n === 2, `page: ${calls.n} captures, want 2`);
  check(Buffer.isBuffer(buf) && buf.length > 100, 'page: the helper returns the image');
  check(existsSync(out) && isPNG(out), 'page: retried-page.png is a PNG');

  // A Locator, failing all but the last allowed capture.
  [target, calls] = flaky(page.locator('#title'), SCREENSHOT_ATTEMPTS - 1, CAPTURE);
  const el = join(dir, 'retried-element.png');
  await screenshot(target, { path: el });
  check(calls.n === SCREENSHOT_ATTEMPTS, `element: ${calls.n} captures, want ${SCREENSHOT_ATTEMPTS}`);
  check(existsSync(el) && isPNG(el), 'element: retried-element.png is a PNG');

  // Every capture fails: the capture error after the last attempt.
  [target, calls] = flaky(page, Infinity, CAPTURE);
  let err = await rejects(() => screenshot(target, { path: join(dir, 'exhausted.png') }), 'exhausted');
  check(err.message === CAPTURE, `exhausted: error ${err.message}`);
  check(calls.n === SCREENSHOT_ATTEMPTS, `exhausted: ${calls.n} captures, want ${SCREENSHOT_ATTEMPTS}`);

  // Any other error is rethrown at once: an injected one...
  const other = 'page.screenshot: Target page, context or browser has been closed';
  [target, calls] = flaky(page, 1, other);
  err = await rejects(() => screenshot(target, { path: join(dir, 'other.png') }), 'other');
  check(err.message === other && calls.n === 1, `other: ${calls.n} captures, error ${err.message}`);

  // ...and a real one from Chromium: an element that is not there.
  [target, calls] = flaky(page.locator('#missing'), 0, '');
  const started = Date.now();
  err = await rejects(() => screenshot(target, { path: join(dir, 'missing.png'), timeout: 500 }), 'missing');
  check(err.name === 'TimeoutError' && calls.n === 1, `missing: ${calls.n} captures, error ${err.name}: ${err.message}`);
  check(Date.now() - started < 3000, `missing: rethrown after ${Date.now() - started} ms`);

  for (const f of ['exhausted.png', 'other.png', 'missing.png']) {
    check(!existsSync(join(dir, f)), `${f} written by a failed capture`);
  }
  console.log(`ok: capture errors retried, others rethrown; PNGs in ${dir}`);
}, 30_000);
