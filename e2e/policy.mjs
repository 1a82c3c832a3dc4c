// Browser test of the console's replay and rule outcomes pages, driven by
// web/console's TestBrowserPolicyPages, which starts the console with a
// stored-report fixture and scripted holds and passes through the
// environment:
//   CONSOLE_URL, CONSOLE_USER, CONSOLE_PASSWORD, CONSOLE_CODE
//   CANDIDATE        a candidate policy (YAML) to paste
//   EXPECT_CHANGED   messages that change action over the last 7 days
//   EXPECT_NEW_PER_DAY  held per day with the candidate ("2.0")
//   OUTCOME_RULE, OUTCOME_WEEK, EXPECT_CATCH  a row of the outcomes table
//   ARTIFACTS, USER_DATA_DIR
import { launch, check, env, step, collectErrors, signIn, screenshot } from './chromium.mjs';
import path from 'node:path';

const base = env('CONSOLE_URL');
const shots = env('ARTIFACTS');

const context = await launch(env('USER_DATA_DIR'), { viewport: { width: 1360, height: 900 }, locale: 'en-US' });
const page = context.pages()[0] || await context.newPage();
// A CSP violation (inline style or script) is a console error.
// The refused candidate's page comes with 422 on purpose.
const consoleErrors = collectErrors(page, (text) => text.includes('status of 422'));
try {
  page.setDefaultTimeout(15000);
  const shot = (name) => screenshot(page, { path: path.join(shots, name), fullPage: true });

  step('sign in');
  await signIn(page, base, 'replay');

  step('dashboard: shadow and live');
  await page.goto(base);
  await page.waitForSelector('#shadow-vs-live');
  const tryRow = await page.textContent('#shadow-vs-live tr[data-rule="try"] td.shadow-n');
  check(tryRow.trim() !== '0', `shadow matches of "try": ${tryRow}`);
  await shot('01-dashboard-shadow.png');

  step('replay a candidate');
  await page.goto(base + 'replay');
  await page.fill('#replay-policy', env('CANDIDATE'));
  await page.selectOption('#replay-days', '7');
  await shot('02-replay-form.png');
  await Promise.all([page.waitForSelector('#replay-result'), page.click('#replay-run')]);
  const changed = (await page.textContent('#replay-changed')).trim();
  check(changed === env('EXPECT_CHANGED'), `changed ${changed}, want ${env('EXPECT_CHANGED')}`);
  const perDay = (await page.textContent('#replay-new-per-day')).trim();
  check(perDay === env('EXPECT_NEW_PER_DAY'), `held per day ${perDay}, want ${env('EXPECT_NEW_PER_DAY')}`);
  check(await page.locator('#replay-result svg.chart rect').count() > 0, 'no bars in the per-day plot');
  const rows = await page.locator('#replay-changes tbody tr').count();
  check(rows >= 1, 'no change rows');
  await shot('03-replay-result.png');

  step('a candidate that does not load');
  await page.fill('#replay-policy', 'rules:\n  - name: x\n    when: nope(\n');
  await Promise.all([page.waitForSelector('#replay-problem'), page.click('#replay-run')]);
  check((await page.textContent('#replay-problem')).includes('candidate.yaml:3'), 'problem without its line');

  step('rule outcomes');
  await page.goto(base + 'outcomes');
  await page.selectOption('#outcomes-weeks', '4');
  await Promise.all([page.waitForURL(/weeks=4/), page.click('#outcomes-form button')]);
  const sel = `#outcomes-table tr[data-rule="${env('OUTCOME_RULE')}"][data-week="${env('OUTCOME_WEEK')}"] td.catch`;
  const catchRate = (await page.textContent(sel)).trim();
  check(catchRate === env('EXPECT_CATCH'), `catch rate ${catchRate}, want ${env('EXPECT_CATCH')}`);
  check(await page.locator('svg.chart polyline').count() > 0, 'no trend line');
  await shot('04-outcomes.png');

  check(consoleErrors.length === 0, `console errors: ${consoleErrors.join(' | ')}`);
  console.log('ok');
} finally {
  await context.close();
}
