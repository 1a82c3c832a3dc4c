// Drives sendguard's download-link pages in the system Chromium (never a
// downloaded browser): open the link, ask for a code, type the code the Go
// test captured from the mail, download the file and check its bytes,
// then withdraw the link as the sender and see the clear page.
// Screenshots go to ARTIFACT_DIR.
//
// Usage: node link.mjs LINK_URL REVOKE_URL CODE_URL SHA256 ARTIFACT_DIR
// CODE_URL answers 200 with the last code mailed, 404 before any.
// Exit status 0 on success, 1 on a failed check, 2 on a timeout.
import { check, launch, watchdog as startWatchdog, screenshot } from './chromium.mjs';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [linkURL, revokeURL, codeURL, wantSHA, artifacts] = process.argv.slice(2);
if (!artifacts) {
  console.error('usage: node link.mjs LINK_URL REVOKE_URL CODE_URL SHA256 ARTIFACT_DIR');
  process.exit(1);
}
mkdirSync(artifacts, { recursive: true });

const watchdog = startWatchdog();

// fetchCode polls the Go test's endpoint until the mailed code is there.
async function fetchCode(previous) {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(codeURL);
    if (res.ok) {
      const code = (await res.text()).trim();
      if (code && code !== previous) {
        return code;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no code mailed');
}

const userDataDir = mkdtempSync(join(tmpdir(), 'sendguard-chromium-'));
const downloads = mkdtempSync(join(tmpdir(), 'sendguard-downloads-'));
let context;
let page;
let failed = false;
try {
  context = await launch(userDataDir, {
    viewport: { width: 960, height: 900 },
    locale: 'en-US',
    acceptDownloads: true,
    downloadsPath: downloads,
  });
  context.setDefaultTimeout(15_000);
  page = context.pages()[0] ?? await context.newPage();
  const problems = [];
  // Errors other than the statuses this flow expects (422 for a wrong
  // code, 410 for the withdrawn link) fail the test; CSP violations are
  // console errors too.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (410|422) /.test(m.text())) {
      problems.push('console: ' + m.text());
    }
  });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));

  const res = await page.goto(linkURL);
  check(res.status() === 200, 'link page status ' + res.status());
  check(res.headers()['content-security-policy']?.includes("default-src 'none'"), 'CSP header');
  check(await page.locator('a.dl').count() === 0, 'no download links before the code');
  const names = await page.locator('.fname').allTextContents();
  check(names.includes('見積書 <2026>.pdf'), 'file name shown escaped and intact: ' + names.join(', '));
  await screenshot(page, { path: join(artifacts, 'link-page.png'), fullPage: true });

  await Promise.all([page.waitForNavigation(), page.locator('#send-code').click()]);
  check(await page.locator('#sent').isVisible(), 'code-sent message shown');
  const code = await fetchCode('');
  check(/^\d{8}$/.test(code), 'code has 8 digits');
  await screenshot(page, { path: join(artifacts, 'link-code-form.png'), fullPage: true });

  // A wrong code first: refused with tries left, no download links.
  const wrong = code === '00000000' ? '11111111' : '00000000';
  await page.locator('#code').fill(wrong);
  await Promise.all([page.waitForNavigation(), page.locator('#verify').click()]);
  check((await page.locator('.alert').textContent()).includes('4 tries left'), 'wrong code refused with tries left');
  check(await page.locator('a.dl').count() === 0, 'no download links after a wrong code');

  await page.locator('#code').fill(code.slice(0, 4) + ' ' + code.slice(4));
  await Promise.all([page.waitForNavigation(), page.locator('#verify').click()]);
  check(await page.locator('#ready').isVisible(), 'verified page');
  check(await page.locator('a.dl').count() === 1, 'one download link');
  await screenshot(page, { path: join(artifacts, 'link-verified.png'), fullPage: true });

  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a.dl').first().click()]);
  // The Japanese name comes through filename*; Chromium itself replaces
  // the characters Windows forbids (< and >) with '_'.
  check(download.suggestedFilename() === '見積書 _2026_.pdf', 'download name ' + download.suggestedFilename());
  const saved = join(downloads, 'file.bin');
  await download.saveAs(saved);
  const got = createHash('sha256').update(readFileSync(saved)).digest('hex');
  check(got === wantSHA, 'downloaded bytes match: ' + got);

  // The sender sees the download and withdraws the link.
  const sender = await context.newPage();
  await sender.goto(revokeURL);
  check((await sender.locator('table.log').textContent()).includes('HeadlessChrome'), 'log shows the browser');
  await screenshot(sender, { path: join(artifacts, 'link-sender-log.png'), fullPage: true });
  await Promise.all([sender.waitForNavigation(), sender.locator('#revoke').click()]);
  check((await sender.locator('h1').textContent()).includes('withdrawn'), 'revoked page');
  await screenshot(sender, { path: join(artifacts, 'link-revoked-sender.png'), fullPage: true });

  // The recipient's link now serves nothing, in English and Japanese.
  const after = await page.goto(linkURL);
  check(after.status() === 410, 'revoked link status ' + after.status());
  check((await page.locator('h1').textContent()).includes('withdrawn'), 'clear page heading');
  await screenshot(page, { path: join(artifacts, 'link-revoked.png'), fullPage: true });
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  const ja = await phone.goto(linkURL + '?lang=ja');
  check(ja.status() === 410, 'revoked link (ja) status ' + ja.status());
  check((await phone.locator('h1').textContent()).includes('無効'), 'Japanese clear page');
  await screenshot(phone, { path: join(artifacts, 'link-revoked-ja-phone.png'), fullPage: true });

  check(problems.length === 0, 'no console errors or CSP violations: ' + problems.join('; '));
  console.log(`ok: code flow, download ${got.slice(0, 12)}…, revoked; screenshots in ${artifacts}`);
} catch (e) {
  failed = true;
  console.error(e && e.stack ? e.stack : String(e));
  if (page) {
    console.error('page at failure: ' + page.url() + '\n' + (await page.locator('main').textContent().catch(() => '')));
    await screenshot(page, { path: join(artifacts, 'link-failure.png'), fullPage: true }).catch(() => {});
  }
} finally {
  if (context) {
    await context.close().catch(() => {});
  }
  rmSync(userDataDir, { recursive: true, force: true });
  rmSync(downloads, { recursive: true, force: true });
  clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);
