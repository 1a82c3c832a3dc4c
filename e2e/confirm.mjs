// Drives sendguard's confirm page in the system Chromium (never a
// downloaded browser): Send stays disabled until every box is ticked, then
// sends and shows the done page. Screenshots go to ARTIFACT_DIR.
//
// Usage: node confirm.mjs URL ARTIFACT_DIR
// Exit status 0 on success, 1 on a failed check, 2 on a timeout.
import { check, runInChromium, screenshot } from './chromium.mjs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [url, artifacts] = process.argv.slice(2);
if (!url || !artifacts) {
  console.error('usage: node confirm.mjs URL ARTIFACT_DIR');
  process.exit(1);
}
mkdirSync(artifacts, { recursive: true });

await runInChromium({
  viewport: { width: 960, height: 900 },
  locale: 'en-US',
}, async (context) => {
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('requestfailed', (r) => problems.push('request failed: ' + r.url()));

  const res = await page.goto(url);
  check(res.status() === 200, 'confirm page status ' + res.status());
  check(res.headers()['content-security-policy']?.includes("script-src 'self'"), 'CSP header');
  const send = page.locator('button[name=action][value=send]');
  const boxes = page.locator('input[type=checkbox][name=ack]');
  const n = await boxes.count();
  check(n >= 2, 'at least two boxes, found ' + n);
  check(await send.isDisabled(), 'Send disabled before any box is ticked');
  check(await page.locator('.domain.look').count() >= 1, 'look-alike domain highlighted');
  await screenshot(page, { path: join(artifacts, 'confirm-page.png'), fullPage: true });

  // The same page on a phone, in Japanese; a GET changes nothing.
  const phoneJa = await context.newPage();
  await phoneJa.setViewportSize({ width: 390, height: 844 });
  phoneJa.on('pageerror', (e) => problems.push('page error (phone): ' + e.message));
  await phoneJa.goto(url + '?lang=ja');
  check(await phoneJa.locator('button[value=send]').isDisabled(), 'Send disabled on the phone page');
  const overflow = await phoneJa.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, 'no horizontal scrolling on a phone, overflow ' + overflow);
  await screenshot(phoneJa, { path: join(artifacts, 'confirm-page-phone-ja.png'), fullPage: true });
  await phoneJa.close();

  for (let i = 0; i < n - 1; i++) {
    await boxes.nth(i).check();
    check(await send.isDisabled(), `Send still disabled with ${i + 1} of ${n} boxes ticked`);
  }
  // The label is clickable too: tick the last box through it.
  await page.locator('label.ack:not(.all)').nth(n - 1).click();
  check(await boxes.nth(n - 1).isChecked(), 'label ticks its box');
  check(await send.isEnabled(), 'Send enabled once every box is ticked');
  const hint = await page.locator('#ack-hint').textContent();
  check(/Everything is ticked/.test(hint), 'hint says ready: ' + hint);
  await screenshot(page, { path: join(artifacts, 'confirm-ticked.png'), fullPage: true });

  // Cancel is never gated.
  check(await page.locator('button[value=cancel]').isEnabled(), 'Cancel always enabled');

  await Promise.all([page.waitForURL(url), send.click()]);
  await page.waitForSelector('.result');
  const h1 = await page.locator('h1').textContent();
  check(/^Sent/.test(h1.trim()), 'done page heading: ' + h1);
  await screenshot(page, { path: join(artifacts, 'confirm-done.png'), fullPage: true });

  // A phone-sized look at the same link, now already decided, in Japanese.
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  const again = await phone.goto(url + '?lang=ja');
  check(again.status() === 409, 'reopened link status ' + again.status());
  check((await phone.locator('h1').textContent()).includes('すでに処理済み'), 'already-decided page in Japanese');
  await screenshot(phone, { path: join(artifacts, 'confirm-already-phone.png'), fullPage: true });

  check(problems.length === 0, 'no console errors or CSP violations: ' + problems.join('; '));
  console.log(`ok: ${n} boxes, sent, screenshots in ${artifacts}`);
});
