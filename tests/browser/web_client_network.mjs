// Driver of tests/integration/test_web_client_network.py: Chromium on podium's own pages while the
// namespace blocks the browsers' UDP. Prints one JSON result line on stdout.
import { launchChromium, sleep, withTimeout } from './sfu_common.mjs';

const opts = JSON.parse(process.argv[2]);
const result = { console: [], timings: {} };
const cleanup = [];
const t0 = Date.now();
const mark = (what) => { result.timings[what] = Date.now() - t0; };

function watch(page, label) {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') {
      result.console.push(`[${label}] ${m.type()}: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => result.console.push(`[${label}] page error: ${e.message}`));
}

const message = (page) => page.evaluate(() => {
  const el = document.getElementById('message');
  return { kind: el.dataset.kind, text: el.textContent, hidden: el.hidden };
});

// The selected candidate pair's local candidate, as the pages' describeRoute() sees it.
const route = (page) => page.evaluate(async () => {
  const stats = await window.podium.pc.getStats();
  let pair = null;
  stats.forEach((r) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
  });
  const local = pair && stats.get(pair.localCandidateId);
  if (!local) return null;
  return local.candidateType === 'relay'
    ? { route: 'relay', protocol: String(local.relayProtocol).toLowerCase() }
    : { route: 'direct', protocol: String(local.protocol).toLowerCase() };
});

async function waitFor(page, fn, arg, ms, what) {
  await withTimeout(page.waitForFunction(fn, arg, { timeout: ms, polling: 200 }), ms + 1000, what);
}

async function main() {
  const browser = await launchChromium(opts, cleanup);

  // 1. Landing, closed rooms: the API key field is shown; keyboard only.
  const landing = await browser.newPage();
  watch(landing, 'landing');
  await landing.goto(`${opts.signaling}/`);
  await waitFor(landing, () => !document.getElementById('api-key-field').hidden, null, 5000,
    'API key field');
  const keyFieldShown = true;
  await landing.keyboard.press('Tab');
  const focused = await landing.evaluate(() => document.activeElement?.id);
  if (focused !== 'api-key') throw new Error(`Tab focused #${focused}, not #api-key`);
  await landing.keyboard.type(opts.apiKey);
  await landing.keyboard.press('Tab');
  const next = await landing.evaluate(() => document.activeElement?.id);
  if (next !== 'start') throw new Error(`Tab focused #${next}, not #start`);
  await landing.keyboard.press('Enter');
  await landing.waitForURL(/\/present\//, { timeout: 10000 });
  result.landing = { keyFieldShown, url: landing.url() };
  await landing.close();
  mark('landing');

  // 2. A room that does not exist.
  const missing = await browser.newPage();
  watch(missing, 'missing');
  await missing.goto(opts.missingUrl);
  await waitFor(missing, () => document.getElementById('message').dataset.kind === 'no-room',
    null, 10000, 'no-room message');
  result.missing = await message(missing);
  await missing.close();

  // 3. A guest before its presenter: connects through TURN/TCP, then waits.
  const guest = await browser.newPage();
  watch(guest, 'guest');
  await guest.goto(opts.guestUrl);
  await waitFor(guest, () => document.getElementById('message').dataset.kind === 'waiting',
    null, 30000, 'waiting message');
  result.waiting = await message(guest);
  mark('guest waiting');

  // 4. The presenter: automatic fallback to TURN over TCP, one photo, shown.
  const presenter = await browser.newPage();
  watch(presenter, 'presenter');
  await presenter.goto(opts.presenterUrl);
  await presenter.setInputFiles('#file', [opts.image]);
  await waitFor(presenter, () => document.querySelector('#thumbs li[data-state="stored"]'), null,
    40000, 'slide stored');
  mark('presenter stored');
  const current = await presenter.evaluate(() => window.podium.state.current);
  await waitFor(guest, (id) => document.getElementById('slide').dataset.id === id, current, 30000,
    'guest displays the slide');
  mark('guest displays');
  await waitFor(presenter, () => document.getElementById('connection').dataset.route === 'relay',
    null, 10000, 'presenter route label');
  const packets = () => guest.evaluate(async () => {
    let n = 0;
    (await window.podium.pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') n = r.packetsReceived;
    });
    return n;
  });
  const before = await packets();
  await sleep(2000);
  result.presenter = {
    current,
    route: await route(presenter),
    label: await presenter.evaluate(() => document.getElementById('connection').textContent),
  };
  result.guest = {
    ...(await message(guest)),
    slideId: await guest.evaluate(() => document.getElementById('slide').dataset.id),
    naturalWidth: await guest.evaluate(() => document.getElementById('slide').naturalWidth),
    packetsReceived: (await packets()) - before,
    route: await route(guest),
  };

  // 5. The presenter's session is ended on the server (DELETE, as an operator or a restart
  // would): the page makes a new WHIP session by itself, learns from the SFU's `deck` that the
  // room has its slide, does not upload it again, and goes on with a second photo.
  const first = await presenter.evaluate(() => window.podium.sessionUrl);
  const token = new URL(opts.presenterUrl).hash.match(/token=([^&]+)/)[1];
  const deleted = await presenter.evaluate(async ([url, t]) =>
    (await fetch(url, { method: 'DELETE', headers: { Authorization: `Bearer ${t}` } })).status,
  [first, token]);
  await waitFor(presenter, (url) => window.podium.reconnects >= 1 && window.podium.sessionUrl !== url
    && window.podium.state.connected, first, 30000, 'presenter reconnect');
  mark('presenter reconnected');
  await presenter.setInputFiles('#file', [opts.image2]);
  await waitFor(presenter, () => document.querySelectorAll('#thumbs li[data-state="stored"]').length === 2,
    null, 30000, 'second slide stored');
  await presenter.keyboard.press('ArrowRight');
  const second = await presenter.evaluate(() => window.podium.state.current);
  await waitFor(guest, (id) => document.getElementById('slide').dataset.id === id, second, 30000,
    'guest displays the second slide');
  mark('guest displays second');
  result.presenterReconnect = {
    deleted, first, second,
    sessionUrl: await presenter.evaluate(() => window.podium.sessionUrl),
    reconnects: await presenter.evaluate(() => window.podium.reconnects),
    guestSlide: await guest.evaluate(() => document.getElementById('slide').dataset.id),
  };
}

const deadline = setTimeout(() => {
  result.error = `timed out after ${opts.timeoutMs} ms`;
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(1);
}, opts.timeoutMs);

try {
  await main();
} catch (e) {
  result.error = String(e.stack || e);
}
for (const close of cleanup.reverse()) {
  await withTimeout(Promise.resolve(close()), 10000, 'close').catch(() => {});
}
clearTimeout(deadline);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(result.error ? 1 : 0);
