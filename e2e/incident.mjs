// Browser test of the incident kit, driven by cmd/sendguard's
// TestIncidentKitBrowser against the real gateway: a reviewer signs in,
// finds the delivered message in the sent-mail search, revokes its
// download links (the recipient's download page then refuses), sends the
// deletion requests (the recipient's confirm link, taken from the mail the
// sink received, works once), and opens the PPC draft, which must show the
// number of people. Everything comes through the environment:
//   CONSOLE_URL (ending in /console/), CONSOLE_USER, CONSOLE_PASSWORD,
//   CONSOLE_CODE (TOTP), RECIPIENT, LINK_URL (the recipient's download
//   link), CONFIRM_URL_SOURCE (answers the confirm link mailed to
//   RECIPIENT, 404 before), PEOPLE (the text the draft must show),
//   ARTIFACTS, USER_DATA_DIR.
import { check, launch, watchdog as startWatchdog, env, step, signIn, collectErrors, screenshot } from './chromium.mjs';
import path from 'node:path';

const base = env('CONSOLE_URL');
const shots = env('ARTIFACTS');
const watchdog = startWatchdog(120_000);

async function confirmURL() {
  for (let i = 0; i < 150; i++) {
    const res = await fetch(env('CONFIRM_URL_SOURCE'));
    if (res.ok) return (await res.text()).trim();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no deletion request reached the recipient');
}

const context = await launch(env('USER_DATA_DIR'), { viewport: { width: 1280, height: 900 }, locale: 'ja-JP' });
const page = context.pages()[0] || await context.newPage();
// 404 and 410 are the refusals this flow expects to see.
const problems = collectErrors(page, (text) => /status of (404|410) /.test(text));
let failed = false;
try {
  page.setDefaultTimeout(15000);
  const shot = (p, name) => screenshot(p, { path: path.join(shots, name), fullPage: true });

  step('sign in');
  await signIn(page, base, 'queue');

  step('find the sent message');
  await page.click('#nav-sent');
  await page.fill('#s-recipient', env('RECIPIENT'));
  await Promise.all([page.waitForURL(/recipient=/), page.click('#sent-search')]);
  check(await page.locator('#sent-table a.sent-link').count() === 1, 'one sent message for the recipient');
  await shot(page, '01-sent-search.png');
  await Promise.all([page.waitForURL(/\/console\/sent\/[^/?]+$/), page.click('#sent-table a.sent-link')]);
  check((await page.textContent('#people')).includes(env('PEOPLE')), 'incident page shows the people affected');
  await shot(page, '02-incident.png');

  step('the recipient can open the download page before the revoke');
  const recipient = await context.newPage();
  let res = await recipient.goto(env('LINK_URL'));
  check(res.status() === 200, `download page before revoke: ${res.status()}`);

  step('revoke every link');
  await Promise.all([page.waitForURL(/done=incident.revoked/), page.click('#revoke-links')]);
  check(/[1-9]/.test(await page.textContent('#incident-done')), 'links were revoked');
  res = await recipient.goto(env('LINK_URL'));
  check(res.status() === 410, `download page after revoke: ${res.status()}, want 410`);
  await shot(recipient, '03-download-refused.png');

  step('deletion request');
  await page.selectOption('#del-lang', 'ja');
  await Promise.all([page.waitForURL(/done=incident.requested/), page.click('#request-deletion')]);
  check(await page.locator('#requests tr.request').count() === 2, 'one request per original recipient');
  const confirm = await confirmURL();
  res = await recipient.goto(confirm);
  check(res.status() === 200, `confirm page: ${res.status()}`);
  const lead = await recipient.textContent('main');
  check(!lead.includes('@partner.test') || lead.split('@partner.test').length === 2, 'confirm page names only its recipient');
  await shot(recipient, '04-confirm.png');
  await recipient.click('#confirm');
  await recipient.waitForSelector('#done');
  await shot(recipient, '05-confirmed.png');
  res = await recipient.goto(confirm);
  check(res.status() === 404 && await recipient.locator('#invalid').count() === 1, 'the confirm link works once');
  await recipient.close();

  step('the console shows who confirmed');
  await page.reload();
  const confirmed = await page.locator('#requests tr.request td.confirmed').allTextContents();
  check(confirmed.filter((t) => t.trim() !== '—').length === 1, `one confirmation: ${confirmed}`);
  await shot(page, '06-incident-after.png');

  step('PPC draft');
  await Promise.all([page.waitForURL(/\/ppc$/), page.click('#ppc-draft')]);
  const people = await page.textContent('#f-people');
  check(people.includes(env('PEOPLE_DRAFT')), `draft people: ${people}`);
  check(await page.locator('.tofill').count() >= 3, 'fields to fill are marked');
  await shot(page, '07-ppc-draft.png');
  check(problems.length === 0, 'console errors: ' + problems.join('; '));
  console.log('ok');
} catch (e) {
  failed = true;
  console.error(e);
  await screenshot(page, { path: path.join(shots, 'failure.png'), fullPage: true }).catch(() => {});
} finally {
  clearTimeout(watchdog);
  await context.close();
}
process.exit(failed ? 1 : 0);
