// Real browsers as a presenter (WHIP) and guests (WHEP) of Podium's SFU.
//
// Usage: node sfu_browsers.mjs '{"signaling": "http://127.0.0.1:PORT", "room": "demo",
//                                "presenter": "chromium"|"firefox",
//                                "guests": [{"browser": "chromium"|"firefox", "relay": false},
//                                           ...]}'
// Optional keys: chromium (default /usr/bin/chromium), firefox (default /usr/bin/firefox-esr),
// minPackets (default 50), pollMs (default 15000: how long guests' stats are polled at most),
// holdMs (default 15000: how long to stay connected waiting for "close" on stdin), timeoutMs
// (default 60000: the whole script).
//
// Headless Chromium is driven by playwright-core, Firefox ESR by puppeteer-core (WebDriver BiDi),
// with the flags and prefs of /work/shared/TESTING-NOTES.md. One browser of each kind at most;
// every participant has its own page. Pages are loaded from the signaling origin (a 404 path:
// http://127.0.0.1 is a secure context, so getUserMedia exists, and WHIP/WHEP requests are
// same-origin), and they do their own HTTP with fetch(), as a web client would.
//
// 1. The presenter takes the fake microphone and publishes it: sendonly audio transceiver,
//    offer (after ICE gathering), POST /whip/{room}, answer.
// 2. Each guest plays: recvonly audio transceiver, offer, POST /whep/{room}, answer. The received
//    track goes to an <audio> element (not muted: Chromium's inbound-rtp audioLevel is measured
//    after the element's volume) and a Web Audio AnalyserNode whose peak is sampled every 50 ms
//    (decoded audio, independent of getStats). A guest with "relay": true has
//    iceTransportPolicy 'relay' and the iceServers of the Link header fields (RFC 9725 section
//    4.4) of the presenter's WHIP response, so its only path to the SFU is podium's TURN relay.
// 3. Every guest's inbound-rtp audio stats are polled until each has received minPackets with
//    the count still growing and audio that is not silence (audioLevel > 0 where the browser has
//    it, else totalAudioEnergy > 0, else the analyser's peak), until pollMs passed, or until a
//    guest's connection failed. (Firefox ESR on a machine without a sound device never starts
//    an AudioContext: it stays 'suspended' and its analyser reads 0. Its inbound-rtp has
//    audioLevel, which is what counts.)
// 4. A line {"phase": "connected", ...} goes to stdout (everything gathered, including each
//    side's selected candidate pair); the script then stays connected until a line "close" on
//    stdin (the caller reads podium's /metrics meanwhile) or holdMs.
// 5. Each session is ended with DELETE on its Location (guests first), the peer connections are
//    closed, and a line {"phase": "closed", ...} follows. Then the browsers are closed.
//
// The script makes no judgement: the caller asserts. Diagnostics go to stderr. Exit code 0 when
// it ran to the end (whatever it found; "error" says what went wrong in the pages), 2 on an
// error outside the pages, 3 when the overall deadline passed.
import {
  emit, evaluate, launchChromium, launchFirefox, nextCommand as waitForClose, openPage, sleep,
  withTimeout,
  endSessions, collectLogsAndClose,
} from './sfu_common.mjs';

// The page helpers (window.podium), the browsers' flags and launchers live in sfu_common.mjs.

// What the poll loop waits for; the caller asserts the same things on the reported numbers.
function guestDone(g, minPackets) {
  const first = g.firstPackets, last = g.lastSample?.inbound?.packetsReceived ?? 0;
  if (!(last >= minPackets && first !== undefined && last > first)) return false;
  if (g.audioLevelMax !== undefined) return g.audioLevelMax > 0;
  if ((g.lastSample.inbound.totalAudioEnergy ?? 0) > 0) return true;
  return g.lastSample.peakMax > 0.01;
}

async function run(opts, result) {
  const cleanup = [];
  const everyone = [];
  result.cleanupErrors = [];
  try {
    const kinds = new Set([opts.presenter, ...opts.guests.map((g) => g.browser)]);
    const launchers = { chromium: launchChromium, firefox: launchFirefox };
    const browsers = {};
    await Promise.all([...kinds].map(async (k) => {
      browsers[k] = await launchers[k](opts, cleanup);
    }));
    result.browsers = {};
    for (const b of Object.values(browsers)) {
      result.browsers[b.name] = { version: b.version, launchMs: b.launchMs };
    }

    const presenter = await openPage(browsers[opts.presenter], opts, 'presenter');
    everyone.push(presenter);
    const guests = [];
    for (let i = 0; i < opts.guests.length; i++) {
      const page = await openPage(browsers[opts.guests[i].browser], opts, `guest${i}`);
      guests.push({ ...page, relay: !!opts.guests[i].relay });
      everyone.push(page);
    }
    result.pagesAtMs = Date.now() - result.t0;

    // Publish, then play; relay-only guests get the ICE servers of the WHIP response.
    result.presenter = { browser: presenter.browser, userAgent: presenter.userAgent };
    result.presenter.whip = await evaluate(presenter, (a) => window.podium.publish(a),
                                           { room: opts.room }, 20000, 'WHIP');
    if (result.presenter.whip.error) throw new Error(result.presenter.whip.error);
    const iceServers = result.presenter.whip.iceServers;
    result.guests = guests.map((g) => ({
      browser: g.browser, relay: g.relay, userAgent: g.userAgent,
    }));
    await Promise.all(guests.map(async (g, i) => {
      result.guests[i].whep = await evaluate(g, (a) => window.podium.play(a),
                                             { room: opts.room, iceServers, relay: g.relay },
                                             20000, 'WHEP');
    }));
    for (const g of result.guests) if (g.whep.error) throw new Error(g.whep.error);
    result.negotiatedAtMs = Date.now() - result.t0;

    // Poll the guests' stats.
    const minPackets = opts.minPackets ?? 50;
    const pollStart = Date.now();
    const since = () => Date.now() - pollStart;
    const state = guests.map(() => ({ samples: 0 }));
    for (;;) {
      const samples = await Promise.all(
        guests.map((g) => evaluate(g, () => window.podium.sample(), undefined, 5000, 'getStats')));
      samples.forEach((s, i) => {
        const g = state[i];
        g.samples++;
        g.lastSample = s;
        const packets = s.inbound?.packetsReceived;
        if (packets > 0 && g.firstPackets === undefined) {
          g.firstPackets = packets;
          g.firstPacketsAtMs = since();
        }
        if (s.inbound && typeof s.inbound.audioLevel === 'number') {
          g.audioLevelMax = Math.max(g.audioLevelMax ?? 0, s.inbound.audioLevel);
        }
        if (g.doneAtMs === undefined && guestDone(g, minPackets)) g.doneAtMs = since();
      });
      if (state.every((g) => g.doneAtMs !== undefined)) break;
      if (since() > (opts.pollMs ?? 15000)) break;
      // A failed peer connection does not come back by itself (no ICE restart here).
      if (samples.some((s) => s.connection === 'failed')) break;
      await sleep(200);
    }
    result.pollMs = since();
    state.forEach((g, i) => Object.assign(result.guests[i], {
      firstPackets: g.firstPackets, firstPacketsAtMs: g.firstPacketsAtMs,
      doneAtMs: g.doneAtMs ?? null, audioLevelMax: g.audioLevelMax ?? null, samples: g.samples,
      last: g.lastSample,
    }));
    result.presenter.last = await evaluate(presenter, () => window.podium.sample(), undefined,
                                           5000, 'getStats');
    result.presenter.selected = await evaluate(presenter, () => window.podium.selectedPair(),
                                               undefined, 5000, 'getStats');
    for (let i = 0; i < guests.length; i++) {
      result.guests[i].selected = await evaluate(guests[i], () => window.podium.selectedPair(),
                                                 undefined, 5000, 'getStats');
    }

    // Connected: the caller reads /metrics, then says "close".
    emit({ phase: 'connected', ...result });
    const holdStart = Date.now();
    result.closeCommand = await waitForClose(opts.holdMs ?? 15000);
    result.heldMs = Date.now() - holdStart;

    // Guests leave first, then the presenter.
    result.deletes = await endSessions([...guests, presenter]);
  } catch (err) {
    result.error = String(err && err.stack || err);
  } finally {
    await collectLogsAndClose(result, everyone, cleanup);
  }
}

async function main() {
  const opts = JSON.parse(process.argv[2] || '{}');
  for (const key of ['signaling', 'room', 'presenter', 'guests']) {
    if (!opts[key]) throw new Error(`missing option ${key}`);
  }
  const timeoutMs = opts.timeoutMs ?? 60000;
  const guard = setTimeout(() => {
    console.error('sfu_browsers: overall deadline passed, exiting');
    process.exit(3);
  }, timeoutMs);
  const result = { t0: Date.now(), error: null };
  await run(opts, result);
  result.elapsedMs = Date.now() - result.t0;
  emit({ phase: 'closed', ...result });
  clearTimeout(guard);
}

main().then(
  () => process.exit(0),
  (err) => { console.error(`sfu_browsers: ${err && err.stack || err}`); process.exit(2); },
);
