// Looks at a list of pages in the system Chromium, each at a desktop and a
// phone size, and checks what a reader sees: the page's language, texts
// that must (and must not) be shown, texts in a given order, no horizontal
// scrolling on a phone, and optional clicks with their effect. One
// screenshot per page and size goes to ARTIFACT_DIR.
//
// Usage: node pages.mjs SPEC.json ARTIFACT_DIR
// SPEC: {"pages": [{"name", "url", "lang", "expect": [], "absent": [],
//   "order": [], "click": [selector], "checked": [selector],
//   "enabled": [selector], "disabled": [selector]}]}
// Exit status 0 on success, 1 on a failed check, 2 on a timeout.
import { check, runInChromium, screenshot } from './chromium.mjs';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [specPath, artifacts] = process.argv.slice(2);
if (!specPath || !artifacts) {
  console.error('usage: node pages.mjs SPEC.json ARTIFACT_DIR');
  process.exit(1);
}
const spec = JSON.parse(readFileSync(specPath, 'utf8'));
mkdirSync(artifacts, { recursive: true });
const sizes = [['desktop', { width: 1100, height: 900 }], ['phone', { width: 390, height: 844 }]];
await runInChromium({ locale: 'en-US' }, async (context) => {
  context.setDefaultTimeout(15_000);
  const problems = [];
  for (const p of spec.pages) {
    for (const [size, viewport] of sizes) {
      const where = `${p.name} (${size})`;
      const page = await context.newPage();
      page.on('console', (m) => { if (m.type() === 'error') problems.push(`${where}: console: ${m.text()}`); });
      page.on('pageerror', (e) => problems.push(`${where}: page error: ${e.message}`));
      await page.setViewportSize(viewport);
      const res = await page.goto(p.url);
      check(res.status() === 200, `${where}: status ${res.status()}`);
      if (p.lang) {
        check(await page.getAttribute('html', 'lang') === p.lang, `${where}: html lang is not ${p.lang}`);
      }
      for (const sel of p.click ?? []) {
        await page.click(sel);
      }
      const text = await page.innerText('body');
      for (const t of p.expect ?? []) {
        check(text.includes(t), `${where}: page lacks ${JSON.stringify(t)}`);
      }
      for (const t of p.absent ?? []) {
        check(!text.includes(t), `${where}: page shows ${JSON.stringify(t)}`);
      }
      let at = -1;
      for (const t of p.order ?? []) {
        const i = text.indexOf(t, at + 1);
        check(i > at, `${where}: ${JSON.stringify(t)} out of order`);
        at = i;
      }
      for (const sel of p.checked ?? []) {
        const boxes = page.locator(sel);
        const n = await boxes.count();
        check(n > 0, `${where}: no ${sel}`);
        for (let i = 0; i < n; i++) {
          check(await boxes.nth(i).isChecked(), `${where}: ${sel} #${i} not checked`);
        }
      }
      for (const sel of p.enabled ?? []) {
        check(await page.locator(sel).first().isEnabled(), `${where}: ${sel} disabled`);
      }
      for (const sel of p.disabled ?? []) {
        check(await page.locator(sel).first().isDisabled(), `${where}: ${sel} enabled`);
      }
      if (size === 'phone') {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        check(overflow <= 0, `${where}: horizontal scrolling on a phone, overflow ${overflow}`);
      }
      await screenshot(page, { path: join(artifacts, `${p.name}-${size}.png`), fullPage: true });
      await page.close();
    }
  }
  check(problems.length === 0, 'no console errors or CSP violations: ' + problems.join('; '));
  console.log(`ok: ${spec.pages.length} pages at ${sizes.length} sizes, screenshots in ${artifacts}`);
}, 150_000);
