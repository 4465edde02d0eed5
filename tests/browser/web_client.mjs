// The web client of `podium serve` (signaling/web: index.html, present.html, watch.html) driven
// like a person would, in headless Chromium (playwright-core) and Firefox ESR (puppeteer-core).
//
// Usage: node web_client.mjs '{"signaling": "http://127.0.0.1:PORT",
//                              "slides": ["/tmp/x/1.jpg", "/tmp/x/2.png", "/tmp/x/3.webp"],
//                              "shotsDir": "...", "cropsDir": "...", "maxEdge": 1280}'
// Optional keys: chromium, firefox (executables), holdMs (default 20000: how long to wait for
// each stdin command), timeoutMs (default 170000: the whole script).
//
// What it does (the page contract is docs of the web client; numbers are the caller's to judge):
//  1. landing: a Chromium page opens `/`, screenshot landing.png, Tab until button#start has the
//     focus, Enter; it must land on /present/{room}#token=...&guest=...
//  2. presenter: the same page goes to /present/{room}?max_edge=N#... (the downscaling
//     option), waits for window.podium.state.connected, turns the microphone on if it is off.
//  3. guests: a Chromium guest (1280x720, no autoplay allowance: button#play must appear and is
//     clicked) and a Firefox guest (autoplay allowed by prefs; #play clicked if shown anyway)
//     open the value of input#guest-link.
//  4. upload: setInputFiles on input#file with the three slides; waits for every li.thumb to be
//     data-state=stored and "delivered to 2/2"; makes slide #1 current (it should already be),
//     both guests show it (element crops of the letterboxed picture, saved for the caller);
//     ArrowRight once -> slide #2 (pressed again, at most twice, if that was not enough: counted);
//     both guests show it (crops); screenshots presenter.png and guest.png.
//  5. audio: each guest's inbound-rtp audio packetsReceived now and 2 s later, and whether
//     #speaking was data-speaking=true at some point (a MutationObserver records every change
//     of #message, #speaking, img#slide, #play).
//  6. late guest: a Chromium page at 390x844 joins, shows slide #2 (crop), its #play is clicked,
//     guest-phone.png, the picture's box against the viewport.
//  7. cut: the Chromium guest's selected local UDP port goes to the caller as
//     {"phase": "cut", "port": P}; the caller drops that port with nftables and says "cut-done";
//     then up to 40 s for window.podium.reconnects >= 1, a new sessionUrl, #message back to
//     data-kind "" after "reconnecting", and slide #2 on screen again (crop). ArrowRight on the
//     presenter -> slide #3: the reconnected guest (crop) and the others show it.
//  8. relay over TCP: a Chromium and a Firefox guest open the guest URL with
//     ?policy=relay&transport=tcp: #play clicked if shown, slide #3 (crops), audio packets, the
//     selected pair; then
//     {"phase": "relay"} so the caller reads podium's /metrics, which answers "relay-done".
//  9. everything is closed; {"phase": "closed", ...} with every measurement and, per page, the
//     console errors and warnings and page errors seen.
//
// Times are Date.now() values. Diagnostics go to stderr. Exit code 0 when it ran to the end
// (even if a step failed: result.error says which), 2 on an error outside the pages, 3 when the
// overall deadline passed.
import { pathToFileURL } from 'node:url';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  emit, launchChromium, launchFirefox, nextCommand, sleep, withTimeout, collectLogsAndClose,
} from './sfu_common.mjs';

// launchChromium adds --autoplay-policy=no-user-gesture-required for the SFU tests; Chromium
// keeps the last value of a repeated switch, so this puts back the policy of a real browser with
// a fresh profile: audible playback needs a user activation on the page. That is what makes the
// guest page show its "Click to hear the presenter" button.
const CHROMIUM_AUTOPLAY_LIKE_A_USER = ['--autoplay-policy=document-user-activation-required'];

const LANDING_VIEWPORT = { width: 1280, height: 720 };
const GUEST_VIEWPORT = { width: 1280, height: 720 };
const PHONE_VIEWPORT = { width: 390, height: 844 };

// ---------------------------------------------------------------------------------------------
// Page side (each function is serialised into the page: no closures).

// Records every change of the attributes the test cares about, from the moment it is installed.
function installObservers() {
  if (window.__webTest) return true;
  const h = { message: [], speaking: [], slide: [], play: [], pc: [] };
  const rec = (list, v) => {
    const last = list[list.length - 1];
    if (!last || last.v !== v) list.push({ t: Date.now(), v });
  };
  const snap = () => {
    const m = document.getElementById('message');
    if (m) {
      rec(h.message, `${m.getAttribute('data-kind') ?? '(none)'}${m.hidden ? ' hidden' : ''}`);
    }
    const s = document.getElementById('speaking');
    if (s) rec(h.speaking, s.getAttribute('data-speaking') ?? '(none)');
    const img = document.getElementById('slide');
    if (img) rec(h.slide, img.getAttribute('data-id') ?? '(none)');
    const play = document.getElementById('play');
    if (play) {
      const shown = !play.hidden && getComputedStyle(play).display !== 'none' &&
        play.getClientRects().length > 0;
      rec(h.play, shown ? 'shown' : 'hidden');
    }
    const pc = window.podium?.pc;
    if (pc) rec(h.pc, `${window.podium.sessionUrl?.split('/').pop() ?? '-'} ${pc.connectionState}`);
  };
  new MutationObserver(snap).observe(document.documentElement, {
    subtree: true, childList: true, attributes: true,
    attributeFilter: ['data-kind', 'hidden', 'data-speaking', 'data-id', 'src', 'style', 'class'],
  });
  snap();
  setInterval(snap, 100);  // getComputedStyle changes that no attribute tells about
  window.__webTest = h;
  return true;
}

// The guest's view: img#slide and what it shows, the message, window.podium.
function guestView() {
  const img = document.getElementById('slide');
  const msg = document.getElementById('message');
  const play = document.getElementById('play');
  const speaking = document.getElementById('speaking');
  const pod = window.podium ?? null;
  const out = {
    url: location.href, vw: innerWidth, vh: innerHeight,
    userActivation: navigator.userActivation?.hasBeenActive ?? null,
    message: msg ? { kind: msg.getAttribute('data-kind'), hidden: msg.hidden,
                     text: msg.textContent.trim().slice(0, 200) } : null,
    play: play ? { hidden: play.hidden, display: getComputedStyle(play).display,
                   rects: play.getClientRects().length, text: play.textContent.trim() } : null,
    speaking: speaking ? { value: speaking.getAttribute('data-speaking'),
                           text: speaking.textContent.trim().slice(0, 100) } : null,
    podium: pod ? { hasPc: !!pod.pc, sessionUrl: pod.sessionUrl ?? null,
                    reconnects: pod.reconnects ?? null, current: pod.current ?? null,
                    presenter: pod.presenter ?? null, audioPlaying: pod.audioPlaying ?? null,
                    ice: pod.pc?.iceConnectionState ?? null,
                    connection: pod.pc?.connectionState ?? null } : null,
    history: window.__webTest ?? null,
    animations: document.getAnimations().filter((a) => a.playState === 'running').length,
  };
  if (img) {
    const r = img.getBoundingClientRect();
    const cs = getComputedStyle(img);
    out.img = { id: img.getAttribute('data-id'), complete: img.complete,
                nw: img.naturalWidth, nh: img.naturalHeight,
                rect: { x: r.x, y: r.y, width: r.width, height: r.height },
                objectFit: cs.objectFit, objectPosition: cs.objectPosition,
                opacity: cs.opacity, visibility: cs.visibility, display: cs.display,
                background: getComputedStyle(img).backgroundColor,
                bodyBackground: getComputedStyle(document.body).backgroundColor,
                srcScheme: (img.currentSrc || img.src || '').split(':')[0] };
    // The letterboxed picture inside the element (object-fit: contain, centred).
    if (img.naturalWidth > 0 && r.width > 0 && r.height > 0) {
      const scale = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight);
      const w = img.naturalWidth * scale, h = img.naturalHeight * scale;
      out.img.content = { x: r.x + (r.width - w) / 2, y: r.y + (r.height - h) / 2,
                          width: w, height: h };
    }
  }
  return out;
}

// The presenter's view.
function presenterView() {
  const q = (s) => document.querySelector(s);
  const thumbs = [...document.querySelectorAll('ol#thumbs li.thumb')].map((li) => ({
    id: li.getAttribute('data-id'), index: li.getAttribute('data-index'),
    state: li.getAttribute('data-state'), current: li.getAttribute('aria-current'),
    delivery: li.querySelector('.delivery')?.textContent.trim() ?? null,
    hasImg: !!li.querySelector('img'), hasProgress: !!li.querySelector('progress'),
  }));
  const conn = q('#connection');
  const cur = q('#stage img#current');
  const st = window.podium?.state ?? null;
  return {
    url: location.href, thumbs,
    guestCount: q('#guest-count')?.textContent.trim() ?? null,
    connection: conn ? { text: conn.textContent.trim(), route: conn.getAttribute('data-route'),
                         protocol: conn.getAttribute('data-protocol') } : null,
    mic: q('button#mic')?.getAttribute('aria-pressed') ?? null,
    micLevel: q('meter#mic-level')?.value ?? null,
    guestLink: q('input#guest-link')?.value ?? null,
    guestLinkReadonly: q('input#guest-link')?.readOnly ?? null,
    qrSvg: !!q('#qr svg'), copyButton: !!q('button#copy-link'), drop: !!q('#drop'),
    status: q('#status')?.textContent.trim().slice(0, 200) ?? null,
    current: cur ? { nw: cur.naturalWidth, nh: cur.naturalHeight, complete: cur.complete } : null,
    state: st ? JSON.parse(JSON.stringify({ connected: st.connected, guests: st.guests,
                                            slides: st.slides, current: st.current })) : null,
    hasPc: !!window.podium?.pc,
    activeElement: document.activeElement ? `${document.activeElement.tagName}#` +
      `${document.activeElement.id}` : null,
  };
}

// The audio and path of window.podium.pc (the page's current peer connection).
async function pcStats() {
  const pc = window.podium?.pc;
  if (!pc) return { error: 'no window.podium.pc' };
  const stats = await pc.getStats();
  const out = { t: Date.now(), ice: pc.iceConnectionState, connection: pc.connectionState,
                inbound: null, pair: null };
  let pair = null;
  for (const s of stats.values()) {
    const kind = s.kind ?? s.mediaType;
    if (s.type === 'inbound-rtp' && kind === 'audio') {
      out.inbound = { packetsReceived: s.packetsReceived, bytesReceived: s.bytesReceived,
                      packetsLost: s.packetsLost, audioLevel: s.audioLevel ?? null,
                      totalAudioEnergy: s.totalAudioEnergy ?? null };
    }
    if (s.type === 'transport' && s.selectedCandidatePairId) {
      pair = stats.get(s.selectedCandidatePairId);
    }
  }
  if (!pair) {
    for (const s of stats.values()) {
      // Firefox: no transport stats, a non-standard `selected` on the pair.
      if (s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded'))) {
        pair = s;
      }
    }
  }
  if (pair) {
    const pick = (c) => c && {
      candidateType: c.candidateType, protocol: c.protocol, relayProtocol: c.relayProtocol ?? null,
      address: c.address ?? c.ip, port: c.port, url: c.url ?? null,
    };
    out.pair = { state: pair.state, local: pick(stats.get(pair.localCandidateId)),
                 remote: pick(stats.get(pair.remoteCandidateId)) };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Node side.

const isChromium = (p) => p.browser === 'chromium';

// playwright's page.evaluate runs with userGesture: true (CDP), which gives the page a user
// activation: a guest page that the test merely looked at could then start its audio without
// the click the autoplay policy asks for. In Chromium the test's own reads go through CDP's
// Runtime.evaluate without a user gesture instead.
async function cdpEvaluate(p, fn, arg) {
  const expression = `(${fn.toString()})(${arg === undefined ? '' : JSON.stringify(arg)})`;
  const r = await p.cdp.send('Runtime.evaluate', {
    expression, returnByValue: true, awaitPromise: true, userGesture: false,
  });
  if (r.exceptionDetails) {
    throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
  }
  return r.result.value;
}

const ev = (p, fn, arg, ms = 5000, what = 'evaluate') =>
  withTimeout(p.cdp ? cdpEvaluate(p, fn, arg) : p.page.evaluate(fn, arg), ms,
              `${p.label} ${what}`);

// Polls `fn` in the page until `until(value)` holds or `ms` passed; evaluation errors (e.g.
// during a navigation) count as "not yet". Returns { ok, value, ms }.
async function poll(p, fn, arg, until, ms, interval = 150) {
  const t0 = Date.now();
  let value = null, error = null;
  for (;;) {
    try {
      value = await ev(p, fn, arg, 5000);
      error = null;
      if (until(value)) return { ok: true, value, ms: Date.now() - t0 };
    } catch (e) {
      error = String(e);
    }
    if (Date.now() - t0 > ms) return { ok: false, value, error, ms: Date.now() - t0 };
    await sleep(interval);
  }
}

async function setViewport(p, viewport) {
  if (isChromium(p)) await p.page.setViewportSize(viewport);
  else await p.page.setViewport(viewport);
}

// A page with its console errors and warnings, page errors, failed requests and the responses
// of the API, WHIP and WHEP recorded.
async function openPage(browser, label, result, viewport) {
  const page = await browser.newPage();
  const p = { page, label, browser: browser.name, console: [], responses: [], failed: [] };
  if (isChromium(p)) p.cdp = await page.context().newCDPSession(page);
  result.pages[label] = { browser: browser.name, console: p.console, responses: p.responses,
                          failedRequests: p.failed };
  page.on('console', (m) => {
    const type = m.type();
    const text = m.text();
    console.error(`[${label}] console.${type}: ${text}`);
    if (type === 'error' || type === 'warning' || type === 'warn' || type === 'assert') {
      let location = null;
      try { location = m.location(); } catch (e) { /* not every message has one */ }
      p.console.push({ type, text: text.slice(0, 1000), source: location?.url ?? null,
                       line: location?.lineNumber ?? null, page: page.url(), at: Date.now() });
    }
  });
  page.on('pageerror', (e) => {
    console.error(`[${label}] page error: ${e}`);
    p.console.push({ type: 'pageerror', text: String(e?.stack ?? e).slice(0, 1000),
                     page: page.url(), at: Date.now() });
  });
  page.on('requestfailed', (r) => {
    let why = null;
    try { why = r.failure()?.errorText ?? null; } catch (e) { /* no failure details */ }
    p.failed.push({ method: r.method(), url: r.url().slice(0, 200), why, at: Date.now() });
  });
  page.on('response', (r) => {
    const url = new URL(r.url());
    if (!/^\/(api|whip|whep)\//.test(url.pathname)) return;
    let method = null;
    try { method = r.request().method(); } catch (e) { /**/ }
    const headers = r.headers();
    p.responses.push({ method, path: url.pathname, status: r.status(),
                       link: headers.link ?? null, location: headers.location ?? null,
                       at: Date.now() });
  });
  if (viewport) await setViewport(p, viewport);
  return p;
}

async function goto(p, url) {
  await withTimeout(p.page.goto(url, { timeout: 15000 }), 20000, `${p.label} goto`);
  await ev(p, installObservers, undefined, 5000, 'installObservers');
}

// Waits until the guest shows slide `id`: img#slide has that data-id, is loaded, opaque, nothing
// animates; then crops the letterboxed picture (2 px inside its edges) into cropsDir/name.png.
async function showsSlide(p, id, name, opts, ms = 20000) {
  const r = await poll(p, guestView, undefined, (v) => v.img && v.img.id === id && v.img.complete &&
    v.img.nw > 0 && v.img.content && v.animations === 0 && v.img.opacity === '1' &&
    v.img.visibility === 'visible', ms);
  const out = { label: p.label, browser: p.browser, want: id, ok: r.ok, ms: r.ms, view: r.value,
                error: r.error ?? null };
  if (!r.ok) return out;
  await sleep(300);  // one more frame or two on screen
  const view = await ev(p, guestView, undefined, 5000, 'guestView');
  out.view = view;
  if (view.img.id !== id) { out.ok = false; out.error = `changed to ${view.img.id}`; return out; }
  const c = view.img.content, inset = 2;
  const clip = { x: Math.ceil(c.x + inset), y: Math.ceil(c.y + inset) };
  clip.width = Math.floor(c.x + c.width - inset) - clip.x;
  clip.height = Math.floor(c.y + c.height - inset) - clip.y;
  out.clip = clip;
  out.crop = join(opts.cropsDir, `${name}.png`);
  await withTimeout(p.page.screenshot({ path: out.crop, clip }), 15000, `${p.label} screenshot`);
  return out;
}

async function screenshot(p, opts, name, result) {
  const path = join(opts.shotsDir, name);
  await withTimeout(p.page.screenshot({ path }), 15000, `${p.label} screenshot ${name}`);
  result.screenshots[name] = path;
  return path;
}

// #play: wait up to `ms` for it to be shown; click it when it is (and `click`).
async function playPrompt(p, ms, click) {
  const shown = (v) => v.play && !v.play.hidden && v.play.display !== 'none' && v.play.rects > 0;
  const r = await poll(p, guestView, undefined, shown, ms);
  const out = { shown: r.ok, waitedMs: r.ms, before: r.value?.podium?.audioPlaying ?? null,
                userActivationBefore: r.value?.userActivation ?? null,
                text: r.value?.play?.text ?? null, clicked: false };
  if (r.ok && click) {
    await withTimeout(p.page.click('#play'), 5000, `${p.label} click #play`);
    out.clicked = true;
    const after = await poll(p, guestView, undefined,
                             (v) => v.podium?.audioPlaying === true && !shown(v), 5000);
    out.after = after.value?.podium?.audioPlaying ?? null;
    out.hiddenAfter = after.value ? !shown(after.value) : null;
    out.afterMs = after.ms;
  }
  return out;
}

// packetsReceived now and `ms` later.
async function audioGrowth(p, ms = 2000) {
  const a = await ev(p, pcStats, undefined, 5000, 'getStats');
  await sleep(ms);
  const b = await ev(p, pcStats, undefined, 5000, 'getStats');
  return { before: a.inbound?.packetsReceived ?? null, after: b.inbound?.packetsReceived ?? null,
           audioLevel: b.inbound?.audioLevel ?? null, seconds: (b.t - a.t) / 1000,
           pair: b.pair, ice: b.ice, connection: b.connection };
}

async function speakingSeen(p, ms) {
  const r = await poll(p, guestView, undefined,
                       (v) => (v.history?.speaking ?? []).some((x) => x.v === 'true'), ms, 200);
  const hist = r.value?.history?.speaking ?? [];
  return { seen: r.ok, waitedMs: r.ms, history: hist.slice(0, 40), label: r.value?.speaking?.text };
}

const thumbAt = (view, index) => view.thumbs.find((t) => t.index === String(index));
const currentIndex = (view) => {
  const t = view.thumbs.find((x) => x.current === 'true');
  return t ? Number(t.index) : null;
};

// Presses ArrowRight (focus out of any text field first, as a person clicking the page would)
// until slide `index` is the current one; at most `max` presses.
async function nextUntil(P, index, max, result) {
  const presses = [];
  for (let i = 0; i < max; i++) {
    await ev(P, () => {
      const a = document.activeElement;
      if (a && a !== document.body && a.matches('input, textarea, [contenteditable]')) a.blur();
    });
    await P.page.keyboard.press('ArrowRight');
    const r = await poll(P, presenterView, undefined, (v) => currentIndex(v) === index, 3000);
    presses.push({ after: currentIndex(r.value), ms: r.ms });
    if (r.ok) return { ok: true, presses, view: r.value };
  }
  return { ok: false, presses, view: await ev(P, presenterView) };
}

async function run(opts, result) {
  const cleanup = [];
  const pages = [];
  const steps = result.steps;
  mkdirSync(opts.shotsDir, { recursive: true });
  mkdirSync(opts.cropsDir, { recursive: true });
  const base = opts.signaling.replace(/\/$/, '');
  try {
    // The presenter's Chromium and the guests' Chromium are two browsers (two people): what
    // the presenter did with the keyboard must not count as a user activation for a guest.
    const chromiumArgs = { ...opts, extraChromiumArgs: CHROMIUM_AUTOPLAY_LIKE_A_USER };
    const [presenterChromium, chromium, firefox] = await Promise.all([
      launchChromium(chromiumArgs, cleanup),
      launchChromium(chromiumArgs, cleanup),
      launchFirefox(opts, cleanup),
    ]);
    result.browsers = { chromium: { version: chromium.version, launchMs: chromium.launchMs },
                        firefox: { version: firefox.version, launchMs: firefox.launchMs } };

    // 1. Landing page, keyboard only.
    const P = await openPage(presenterChromium, 'presenter', result, LANDING_VIEWPORT);
    pages.push(P);
    const t1 = Date.now();
    await goto(P, `${base}/`);
    const landing = steps.landing = { title: await P.page.title() };
    landing.start = await ev(P, () => {
      const b = document.querySelector('button#start');
      return b && { text: b.textContent.trim(), disabled: b.disabled };
    });
    await sleep(300);
    await screenshot(P, opts, 'landing.png', result);
    landing.tabs = [];
    for (let i = 0; i < 20; i++) {
      await P.page.keyboard.press('Tab');
      const focused = await ev(P, () => {
        const a = document.activeElement;
        return a ? `${a.tagName.toLowerCase()}${a.id ? '#' + a.id : ''}` : null;
      });
      landing.tabs.push(focused);
      if (focused === 'button#start') break;
    }
    if (landing.tabs.at(-1) !== 'button#start') {
      throw new Error(`button#start never got the focus: ${landing.tabs}`);
    }
    await Promise.all([
      P.page.waitForURL((u) => u.pathname.startsWith('/present/'), { timeout: 10000 }),
      P.page.keyboard.press('Enter'),
    ]);
    landing.landedOn = P.page.url();
    landing.ms = Date.now() - t1;
    const landed = new URL(landing.landedOn);
    const frag = new URLSearchParams(landed.hash.slice(1));
    const room = decodeURIComponent(landed.pathname.split('/')[2] ?? '');
    Object.assign(landing, { room, token: frag.get('token'), guest: frag.get('guest') });
    if (!room || !frag.get('token') || !frag.get('guest')) {
      throw new Error(`landed on ${landing.landedOn}: no room, token or guest`);
    }

    // 2. The presenter page with the downscaling option.
    const presenterUrl = `${base}/present/${encodeURIComponent(room)}?max_edge=${opts.maxEdge}` +
      landed.hash;
    await goto(P, presenterUrl);
    const pres = steps.presenter = { url: presenterUrl };
    let r = await poll(P, presenterView, undefined, (v) => v.state?.connected === true, 20000);
    pres.connected = { ok: r.ok, ms: r.ms, view: r.value };
    if (!r.ok) throw new Error(`presenter not connected after ${r.ms} ms`);
    if (r.value.mic !== 'true') {
      // Off at first: a person would switch it on.
      pres.micWasOff = r.value.mic;
      await withTimeout(P.page.click('button#mic'), 5000, 'click #mic');
      r = await poll(P, presenterView, undefined, (v) => v.mic === 'true', 5000);
      pres.micOn = r.ok;
    }
    const guestLink = r.value.guestLink;
    pres.guestLink = guestLink;
    if (!guestLink) throw new Error('input#guest-link is empty');

    // 3. Two guests.
    const G1 = await openPage(chromium, 'guest-chromium', result, GUEST_VIEWPORT);
    const G2 = await openPage(firefox, 'guest-firefox', result, GUEST_VIEWPORT);
    pages.push(G1, G2);
    await Promise.all([goto(G1, guestLink), goto(G2, guestLink)]);
    const joined = (v) => v.podium?.connection === 'connected';
    const [j1, j2] = await Promise.all([G1, G2].map((g) => poll(g, guestView, undefined, joined,
                                                                 20000)));
    steps.guestsJoined = { chromium: { ok: j1.ok, ms: j1.ms, view: j1.value },
                           firefox: { ok: j2.ok, ms: j2.ms, view: j2.value } };
    const [p1, p2] = await Promise.all([playPrompt(G1, 10000, true), playPrompt(G2, 3000, true)]);
    steps.autoplay = { chromium: p1, firefox: p2 };
    r = await poll(P, presenterView, undefined, (v) => v.guestCount === '2', 10000);
    steps.guestCount = { ok: r.ok, ms: r.ms, value: r.value.guestCount,
                         state: r.value.state?.guests };

    // 4. Upload the three slides.
    const up = steps.upload = { t0: Date.now(), seen: [] };
    await withTimeout(P.page.setInputFiles('input#file', opts.slides), 10000, 'setInputFiles');
    const seen = new Set();
    r = await poll(P, presenterView, undefined, (v) => {
      for (const t of v.thumbs) {
        const key = `${t.index}:${t.state}`;
        if (!seen.has(key)) { seen.add(key); up.seen.push({ key, at: Date.now() - up.t0 }); }
      }
      return v.thumbs.length === 3 && v.thumbs.every((t) => t.state === 'stored');
    }, 60000, 100);
    up.stored = { ok: r.ok, ms: r.ms };
    up.view = r.value;
    if (!r.ok) throw new Error(`slides not all stored after ${r.ms} ms`);
    const ids = [0, 1, 2].map((i) => thumbAt(r.value, i)?.id ?? null);
    up.ids = ids;
    r = await poll(P, presenterView, undefined, (v) => v.thumbs.every(
      (t) => /delivered to 2\s*\/\s*2/.test(t.delivery ?? '')), 20000);
    up.delivered = { ok: r.ok, ms: r.ms, thumbs: r.value.thumbs, slides: r.value.state?.slides };
    up.currentAfterUpload = currentIndex(r.value);

    // Slide #1 current (clicking its thumbnail only if the page did not make it current).
    const show = steps.show = {};
    if (currentIndex(r.value) !== 0) {
      show.clickedFirst = true;
      await withTimeout(P.page.click('ol#thumbs li.thumb[data-index="0"]'), 5000, 'click');
    }
    const crops = result.crops;
    const guestsShow = async (gs, index, tag, ms) => {
      const got = await Promise.all(gs.map((g) => showsSlide(g, ids[index], `${g.label}-${tag}`,
                                                              opts, ms)));
      for (const x of got) crops.push({ ...x, slide: index, tag });
      return got;
    };
    show.slide1 = await guestsShow([G1, G2], 0, 'slide1', 20000);
    show.next = await nextUntil(P, 1, 3, result);
    show.slide2 = await guestsShow([G1, G2], 1, 'slide2', 20000);
    r = await poll(P, presenterView, undefined, (v) => v.thumbs.every(
      (t) => /delivered to 2\s*\/\s*2/.test(t.delivery ?? '')) && v.guestCount === '2', 10000);
    show.presenterView = r.value;
    await sleep(300);
    await screenshot(P, opts, 'presenter.png', result);
    await screenshot(G1, opts, 'guest.png', result);

    // 5. Audio.
    steps.audio = {};
    for (const g of [G1, G2]) {
      steps.audio[g.label] = await audioGrowth(g).catch((e) => ({ error: String(e) }));
    }
    const [s1, s2] = await Promise.all([speakingSeen(G1, 10000), speakingSeen(G2, 10000)]);
    steps.audio[G1.label].speaking = s1;
    steps.audio[G2.label].speaking = s2;

    // 6. A late guest on a phone-sized screen.
    const L = await openPage(chromium, 'guest-late-phone', result, PHONE_VIEWPORT);
    pages.push(L);
    const tLate = Date.now();
    await goto(L, guestLink);
    const late = steps.late = {};
    [late.slide2] = await guestsShow([L], 1, 'slide2', 25000);
    late.ms = Date.now() - tLate;
    // Its audio too (so the screenshot shows the page as a listening guest sees it).
    late.play = await playPrompt(L, 5000, true);
    await sleep(300);
    await screenshot(L, opts, 'guest-phone.png', result);
    late.view = await ev(L, guestView);

    // 7. Cut the Chromium guest's media path.
    const cut = steps.cut = {};
    const before = await ev(G1, pcStats);
    const viewBefore = await ev(G1, guestView);
    cut.before = { pair: before.pair, sessionUrl: viewBefore.podium?.sessionUrl,
                   reconnects: viewBefore.podium?.reconnects };
    const port = before.pair?.local?.port;
    if (!port || before.pair?.local?.protocol !== 'udp') {
      throw new Error(`no selected UDP pair on the Chromium guest: ${JSON.stringify(before)}`);
    }
    cut.messageIndex = viewBefore.history?.message?.length ?? 0;
    emit({ phase: 'cut', port });
    cut.command = await nextCommand(opts.holdMs ?? 20000);
    if (cut.command !== 'cut-done') throw new Error(`expected "cut-done", got ${cut.command}`);
    cut.t0 = Date.now();
    r = await poll(G1, guestView, undefined, (v) => (v.podium?.reconnects ?? 0) >= 1 &&
      v.podium.sessionUrl && v.podium.sessionUrl !== cut.before.sessionUrl &&
      (v.message?.kind ?? '') === '' && v.podium.connection === 'connected', 40000, 200);
    cut.recovered = { ok: r.ok, ms: r.ms, view: r.value };
    [cut.slide2] = await guestsShow([G1], 1, 'reconnected-slide2', 15000);
    const afterStats = await ev(G1, pcStats);
    cut.after = { pair: afterStats.pair };
    cut.history = (await ev(G1, guestView)).history;
    // Slide #3 to everyone, the reconnected guest first.
    cut.next = await nextUntil(P, 2, 1, result);
    cut.slide3 = await guestsShow([G1, G2, L], 2, 'slide3', 20000);

    // 8. Relay over TCP.
    const relayUrl = (() => {
      const u = new URL(guestLink);
      u.searchParams.set('policy', 'relay');
      u.searchParams.set('transport', 'tcp');
      return u.href;
    })();
    const R1 = await openPage(chromium, 'guest-relay-tcp-chromium', result, GUEST_VIEWPORT);
    const R2 = await openPage(firefox, 'guest-relay-tcp-firefox', result, GUEST_VIEWPORT);
    pages.push(R1, R2);
    const relay = steps.relay = { url: relayUrl };
    await Promise.all([goto(R1, relayUrl), goto(R2, relayUrl)]);
    // Their audio on (the Chromium one asks for a click), and no prompt over the picture.
    const [rp1, rp2] = await Promise.all([playPrompt(R1, 8000, true), playPrompt(R2, 3000, true)]);
    relay.play = { chromium: rp1, firefox: rp2 };
    relay.slide3 = await guestsShow([R1, R2], 2, 'relay-slide3', 30000);
    relay.audio = {};
    for (const g of [R1, R2]) {
      relay.audio[g.label] = await audioGrowth(g).catch((e) => ({ error: String(e) }));
    }
    emit({ phase: 'relay' });
    relay.command = await nextCommand(opts.holdMs ?? 20000);

    // The end: what the presenter says now.
    steps.final = { presenter: await ev(P, presenterView),
                    guests: Object.fromEntries(await Promise.all(
                      [G1, G2, L, R1, R2].map(async (g) => [g.label, await ev(g, guestView)
                        .catch((e) => ({ error: String(e) }))]))) };
  } catch (err) {
    result.error = String(err && err.stack || err);
  } finally {
    await sleep(500);  // late console messages
    await collectLogsAndClose(result, pages, cleanup);
  }
}

async function main() {
  const opts = JSON.parse(process.argv[2] || '{}');
  for (const key of ['signaling', 'slides', 'shotsDir', 'cropsDir', 'maxEdge']) {
    if (!opts[key]) throw new Error(`missing option ${key}`);
  }
  const timeoutMs = opts.timeoutMs ?? 170000;
  const guard = setTimeout(() => {
    console.error('web_client: overall deadline passed, exiting');
    process.exit(3);
  }, timeoutMs);
  const result = { t0: Date.now(), error: null, steps: {}, pages: {}, crops: [],
                   screenshots: {}, cleanupErrors: [] };
  await run(opts, result);
  result.elapsedMs = Date.now() - result.t0;
  // Large (a few hundred KiB): wait until the pipe took all of it before process.exit().
  await new Promise((resolve) => {
    process.stdout.write(`${JSON.stringify({ phase: 'closed', ...result })}\n`, resolve);
  });
  clearTimeout(guard);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    () => process.exit(0),
    (err) => { console.error(`web_client: ${err && err.stack || err}`); process.exit(2); },
  );
}
