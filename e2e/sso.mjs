// Browser test of console single sign-on, driven by web/console's
// TestBrowserSSO, which starts the console and a real OpenID Provider on
// loopback ports and passes everything through the environment:
//   CONSOLE_URL     base URL of the console, ending in /console/
//   USER_OK         a provider user in a group mapped to reviewer
//   USER_REFUSED    a provider user in no mapped group
//   IDP_PASSWORD    both users' password at the provider
//   ARTIFACTS       directory for screenshots
//   USER_DATA_DIR   a fresh Chromium profile directory
import { launch, check, watchdog, env, step, screenshot } from './chromium.mjs';
import path from 'node:path';

const base = env('CONSOLE_URL');
const shots = env('ARTIFACTS');
const timer = watchdog();

const context = await launch(env('USER_DATA_DIR'), { viewport: { width: 1280, height: 860 }, locale: 'en-US' });
const consoleErrors = [];
const page = context.pages()[0] || await context.newPage();
try {
  page.setDefaultTimeout(15000);
  // A CSP violation (e.g. form-action blocking the redirect to the
  // provider) shows up as a console error. "Failed to load resource" is
  // the provider's missing favicon and the refusal page's own 403.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const shot = (name) => screenshot(page, { path: path.join(shots, name), fullPage: true });

  // signInAtProvider presses the console's SSO button and signs user in on
  // the provider's own login page.
  const signInAtProvider = async (user, shotName) => {
    await Promise.all([page.waitForURL(/\/login\/username\?authRequestID=/), page.click('#sso')]);
    check(!page.url().startsWith(base), `still on the console: ${page.url()}`);
    await page.fill('#username', user);
    await page.fill('#password', env('IDP_PASSWORD'));
    if (shotName) await shot(shotName);
    await page.click('button[type=submit]');
  };

  step('sign-in page offers SSO');
  await page.goto(base + 'queue');
  check(page.url().includes('/console/login'), `not sent to sign-in: ${page.url()}`);
  check(await page.isVisible('#sso'), 'no "Sign in with SSO" button');
  check(await page.isVisible('#login-form'), 'local sign-in (break-glass) not offered');
  await shot('01-login-sso.png');

  step('sign in at the provider as a reviewer');
  await signInAtProvider(env('USER_OK'), '02-provider-login.png');
  await page.waitForURL(base + 'queue');
  const who = await page.textContent('.who');
  check(who.includes(env('USER_OK')), `signed in as ${who}`);
  check(await page.isVisible('.who .role-reviewer'), 'role is not reviewer');
  await shot('03-signed-in-reviewer.png');

  step('sign out');
  await Promise.all([page.waitForURL(/\/console\/login/), page.click('#signout')]);

  step('a user without a mapped group is refused');
  await signInAtProvider(env('USER_REFUSED'));
  await page.waitForSelector('#sso-refused');
  const text = await page.textContent('main');
  check(text.includes('Sign-in refused') && text.includes('no group that has a role'), `refusal page: ${text}`);
  check(!(await page.isVisible('.who')), 'refused user appears signed in');
  await shot('04-refused.png');
  await Promise.all([page.waitForURL(/\/console\/login/), page.click('#back-to-login')]);
  await page.goto(base + 'queue');
  check(page.url().includes('/console/login'), 'refused user reached the queue');

  check(consoleErrors.length === 0, `browser errors: ${consoleErrors.join('; ')}`);
  console.log('ok');
} finally {
  await context.close();
  clearTimeout(timer);
}
