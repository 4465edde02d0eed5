// Driver of tests/integration/test_web_client_a11y.py: axe-core (WCAG 2.x A and AA rules) on
// podium's own pages in Chromium, in the states people see them, at desktop and phone sizes.
// Prints one JSON result line on stdout.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { launchChromium, withTimeout } from './sfu_common.mjs';

const opts = JSON.parse(process.argv[2]);
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];
const result = { pages: [], console: [] };
const cleanup = [];

// axe is evaluated through the DevTools protocol, which the pages' Content-Security-Policy does
// not govern (a <script> tag would be refused, as it should be).
async function audit(page, name) {
  await page.evaluate(AXE);
  const report = await page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return {
      violations: r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
      })),
      passes: r.passes.length,
    };
  }, TAGS);
  result.pages.push({ name, ...report });
}

function watch(page, label) {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') result.console.push(`[${label}] ${m.text()}`);
  });
}

async function main() {
  const browser = await launchChromium(opts, cleanup);
  const landing = await browser.newPage();
  watch(landing, 'landing');
  await landing.goto(`${opts.signaling}/`);
  await audit(landing, 'landing');
  await landing.click('#start');
  await landing.waitForURL(/\/present\//, { timeout: 10000 });
  const presenter = landing;
  await presenter.setInputFiles('#file', opts.images);
  await presenter.waitForFunction(
    (n) => document.querySelectorAll('#thumbs li[data-state="stored"]').length === n,
    opts.images.length, { timeout: 30000 });
  const link = await presenter.inputValue('#guest-link');
  result.guestLink = link;

  for (const [name, viewport] of [['guest', { width: 1280, height: 720 }],
    ['guest-phone', { width: 390, height: 844 }]]) {
    const guest = await browser.newPage();
    await guest.setViewportSize(viewport);
    watch(guest, name);
    await guest.goto(link);
    await guest.waitForFunction(() => document.getElementById('slide').dataset.id, null,
      { timeout: 20000 });
    await audit(guest, `${name} (slide shown)`);
  }
  await presenter.waitForFunction(() => document.getElementById('guest-count').textContent === '2',
    null, { timeout: 10000 });
  await audit(presenter, 'presenter (slides stored, two guests)');
  await presenter.setViewportSize({ width: 390, height: 844 });
  await audit(presenter, 'presenter at phone size');
  const missing = await browser.newPage();
  await missing.goto(`${opts.signaling}/watch/no-such-room`);
  await missing.waitForFunction(() => document.getElementById('message').dataset.kind !== 'connecting',
    null, { timeout: 20000 });
  await audit(missing, 'guest, presenter not started');
}

try {
  await withTimeout(main(), opts.timeoutMs, 'a11y run');
} catch (e) {
  result.error = String(e.stack || e);
}
for (const close of cleanup.reverse()) {
  await withTimeout(Promise.resolve(close()), 10000, 'close').catch(() => {});
}
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(result.error ? 1 : 0));
