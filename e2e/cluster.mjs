// Browser test of the security console of a node sharing its held queue
// on PostgreSQL, driven by cmd/sendguard's TestBrowserClusterConsole: the
// mail was held by node A; this is node B's console.
//   CONSOLE_URL       node B's console, ending in /console/
//   CONSOLE_USER, CONSOLE_PASSWORD, CONSOLE_CODE (a TOTP code the Go test computed)
//   HELD_SUBJECT, HELD_BODY   the mail node A holds
//   ARTIFACTS, USER_DATA_DIR
import { launch, env, step, signIn, collectErrors, screenshot } from './chromium.mjs';
import path from 'node:path';

const base = env('CONSOLE_URL');
const shots = env('ARTIFACTS');

const context = await launch(env('USER_DATA_DIR'), { viewport: { width: 1360, height: 900 }, locale: 'en-US' });
const page = context.pages()[0] || await context.newPage();
const consoleErrors = collectErrors(page);
try {
  page.setDefaultTimeout(15000);
  const shot = (name) => screenshot(page, { path: path.join(shots, name), fullPage: true });

  step('sign in on node B with the account added on node A');
  await signIn(page, base, 'queue');

  step('queue of node B lists the mail held on node A');
  const row = page.locator(`text=${env('HELD_SUBJECT')}`);
  await row.waitFor();
  if (await page.locator('#shared-down').count()) throw new Error('outage banner while PostgreSQL answers');
  await shot('01-queue-node-b.png');

  step('message page reads its body from the shared store');
  await Promise.all([page.waitForURL(/\/console\/msg\//), row.first().click()]);
  await page.waitForSelector('#release-form');
  const text = await page.textContent('main');
  if (!text.includes(env('HELD_BODY'))) throw new Error('the body held on node A is not shown on node B');
  await shot('02-message-node-b.png');

  step('release from node B');
  await Promise.all([page.waitForURL(/\/release$/), page.click('#release-btn')]);
  await Promise.all([page.waitForURL(/done=released/), page.click('#confirm-btn')]);
  const state = await page.textContent('#msg-state');
  if (!/Released/.test(state)) throw new Error(`state after release: ${state}`);
  await shot('03-released-node-b.png');

  if (consoleErrors.length) throw new Error(`browser console errors: ${consoleErrors.join(' | ')}`);
  console.log('ok');
} catch (err) {
  await screenshot(page, { path: path.join(shots, 'failure.png'), fullPage: true }).catch(() => {});
  console.log(`failed at ${page.url()}`);
  throw err;
} finally {
  await context.close();
}
