// Browser test of the security console, driven by web/console's
// TestBrowserConsole, which starts the server, seeds held messages and
// passes everything through the environment:
//   CONSOLE_URL       base URL of the console, ending in /console/
//   CONSOLE_USER, CONSOLE_PASSWORD, CONSOLE_CODE (a TOTP code the Go test computed)
//   RELEASE_SUBJECT, REJECT_SUBJECT, REJECT_REASON, FILTER_DOMAIN
//   ARTIFACTS         directory for screenshots
//   DOWNLOADS         directory for the exported audit log
//   USER_DATA_DIR     a fresh Chromium profile directory
import { launch, env, step, screenshot } from './chromium.mjs';
import path from 'node:path';

const base = env('CONSOLE_URL');
const shots = env('ARTIFACTS');

const context = await launch(env('USER_DATA_DIR'), {
  acceptDownloads: true,
  viewport: { width: 1360, height: 900 },
  locale: 'en-US',
});
const consoleErrors = [];
const page = context.pages()[0] || await context.newPage();
try {
  page.setDefaultTimeout(15000);
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const shot = (name) => screenshot(page, { path: path.join(shots, name), fullPage: true });

  step('sign in');
  await page.goto(base + 'queue');
  if (!page.url().includes('/console/login')) throw new Error(`not sent to sign-in: ${page.url()}`);
  await page.fill('#user', env('CONSOLE_USER'));
  await page.fill('#password', env('CONSOLE_PASSWORD'));
  await shot('01-login.png');
  await Promise.all([page.waitForURL(/\/console\/totp$/), page.click('#login-form button[type=submit]')]);
  await page.fill('#code', env('CONSOLE_CODE'));
  await shot('02-totp.png');
  await Promise.all([page.waitForURL(/\/console\/queue$/), page.click('#totp-form button[type=submit]')]);

  step('dashboard');
  await page.goto(base);
  await page.waitForSelector('svg.chart');
  await shot('03-dashboard.png');

  step('queue and filter');
  await page.goto(base + 'queue');
  const all = await page.locator('#queue-table tbody tr').count();
  if (!(await page.textContent('#queue-table')).includes(env('ZONE'))) throw new Error(`queue times without the zone ${env('ZONE')}`);
  await shot('04-queue.png');
  await page.fill('#f-domain', env('FILTER_DOMAIN'));
  await Promise.all([page.waitForURL(/domain=/), page.click('#apply-filter')]);
  const filtered = await page.locator('#queue-table td.subject').count();
  if (filtered < 1 || filtered >= all) throw new Error(`filter: ${filtered} of ${all} rows`);
  await shot('05-queue-filtered.png');

  step('open and release');
  await Promise.all([page.waitForURL(/\/console\/msg\//), page.click(`text=${env('RELEASE_SUBJECT')}`)]);
  await page.waitForSelector('#release-form');
  const frame = page.frameLocator('#mail-html');
  const frameText = await frame.locator('body').textContent();
  if (!frameText.includes('顧客一覧')) throw new Error(`sanitised HTML frame: ${frameText}`);
  await shot('06-message.png');
  await screenshot(page.locator('#mail-html'), { path: path.join(shots, '06b-message-html.png') });
  await page.check('input[name=mode][value=bcc]');
  await page.fill('#release-note', 'internal: ticket 42');
  await Promise.all([page.waitForURL(/\/release$/), page.click('#release-btn')]);
  // A release asks for confirmation and says what it will do.
  const effects = await page.textContent('#confirm-effects');
  if (!/Bcc/.test(effects) || !effects.includes('ticket 42')) throw new Error(`release confirmation: ${effects}`);
  await shot('06c-release-confirm.png');
  await Promise.all([page.waitForURL(/done=released/), page.click('#confirm-btn')]);
  const state = await page.textContent('#msg-state');
  if (!/Released/.test(state)) throw new Error(`state after release: ${state}`);
  await shot('07-released.png');

  step('reject another');
  await page.goto(base + 'queue');
  await Promise.all([page.waitForURL(/\/console\/msg\//), page.click(`text=${env('REJECT_SUBJECT')}`)]);
  await page.fill('#reject-reason', env('REJECT_REASON'));
  await Promise.all([page.waitForURL(/done=rejected/), page.click('#reject-btn')]);
  await shot('08-rejected.png');

  step('bulk confirmation');
  await page.goto(base + 'queue');
  await page.check('#select-all');
  await page.selectOption('#bulk-op', 'release_bcc');
  await Promise.all([page.waitForURL(/\/console\/bulk$/), page.click('#bulk-submit')]);
  await page.waitForSelector('#confirm-form');
  await shot('09-bulk-confirm.png');

  step('audit log and export');
  await page.goto(base + 'audit');
  await page.click('#verify-btn');
  await page.waitForSelector('#verify-result');
  await shot('10-audit.png');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  await download.saveAs(path.join(env('DOWNLOADS'), 'audit.csv'));

  step('policy');
  await page.goto(base + 'policy');
  await page.setInputFiles('#test-form input[name=eml]', env('TEST_EML'));
  await Promise.all([page.waitForURL(/\/console\/policy\/test$/), page.click('#test-form button[type=submit]')]);
  const verdict = await page.textContent('#test-result');
  if (!verdict.includes('hold_review')) throw new Error(`test verdict: ${verdict}`);
  if ((await page.content()).includes(env('RAW_VALUE'))) throw new Error('raw detector value shown');
  await shot('11-policy.png');

  step('Japanese');
  await Promise.all([page.waitForURL(/\/console\/policy$/), page.click('button[name=lang][value=ja]')]);
  await page.goto(base + 'queue?state=');
  await shot('12-queue-ja.png');
  await page.goto(base);
  await page.waitForSelector('svg.chart');
  await shot('13-dashboard-ja.png');

  step('Japanese at phone size');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(base + 'queue?state=held');
  if (await page.getAttribute('html', 'lang') !== 'ja') throw new Error('console not in Japanese after the switch');
  await shot('14-queue-ja-phone.png');
  await Promise.all([page.waitForURL(/\/console\/msg\//), page.locator('#queue-table td.subject a').first().click()]);
  const msgText = await page.textContent('body');
  for (const want of ['内部メモ', '送信者へのメッセージ', env('ZONE')]) {
    if (!msgText.includes(want)) throw new Error(`Japanese message page lacks ${want}`);
  }
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) throw new Error(`message page scrolls sideways on a phone: ${overflow}px`);
  await shot('15-message-ja-phone.png');

  // The held mail's remote image (a tracking pixel) must be blocked by the
  // frame's CSP; any other console error is a failure.
  const pixel = (m) => m.includes('track.example') && m.includes('Content Security Policy');
  if (!consoleErrors.some(pixel)) throw new Error('the remote image in the mail was not blocked');
  const other = consoleErrors.filter((m) => !pixel(m));
  if (other.length) throw new Error(`browser console errors: ${other.join(' | ')}`);
  console.log('ok');
} catch (err) {
  await screenshot(page, { path: path.join(shots, 'failure.png'), fullPage: true }).catch(() => {});
  console.log(`failed at ${page.url()}`);
  throw err;
} finally {
  await context.close();
}
