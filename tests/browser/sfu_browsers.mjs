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
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CHROMIUM_ARGS as BASE_CHROMIUM_ARGS } from './chromium_args.mjs';

const CHROMIUM_ARGS = [
  ...BASE_CHROMIUM_ARGS,
  // The guests' AudioContext and <audio> start without a user gesture.
  '--autoplay-policy=no-user-gesture-required',
];

const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.peerconnection.ice.loopback': true,
  'permissions.default.microphone': 1,
  // The guests' AudioContext and <audio> start without a user gesture.
  'media.autoplay.default': 0,
  'media.autoplay.block-webaudio': false,
};

// Where the pages live: any path of the signaling origin; this one is a 404, which is fine.
const PAGE_PATH = '/podium-browser-test';

// ---------------------------------------------------------------------------------------------
// Runs in every page (evaluated once after navigation): defines window.podium.
function installHelpers() {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const log = [];
  const note = (what) => log.push(`${elapsed()}ms ${what}`);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const state = { pc: null, location: null, analyser: null, peakMax: 0, loudFrames: 0, frames: 0 };

  // RFC 8288 Link header fields (fetch() joins repeated fields with ", ") -> ICE servers.
  const parseLinks = (header) => {
    const links = [];
    if (!header) return links;
    for (const part of header.split(/,\s*(?=<)/)) {
      const m = /^\s*<([^>]*)>(.*)$/.exec(part);
      if (!m) continue;
      const params = {};
      for (const p of m[2].matchAll(/;\s*([\w-]+)\s*=\s*(?:"([^"]*)"|([^;,\s]*))/g)) {
        params[p[1].toLowerCase()] = p[2] ?? p[3];
      }
      links.push({ uri: m[1], params });
    }
    return links;
  };
  const iceServersOf = (links) => links.filter((l) => l.params.rel === 'ice-server').map((l) => {
    const server = { urls: l.uri };
    if (l.params.username !== undefined) server.username = l.params.username;
    if (l.params.credential !== undefined) server.credential = l.params.credential;
    return server;
  });

  const watch = (pc, name) => {
    pc.oniceconnectionstatechange = () => note(`${name} ice ${pc.iceConnectionState}`);
    pc.onconnectionstatechange = () => note(`${name} connection ${pc.connectionState}`);
    pc.onicecandidateerror = (e) =>
      note(`${name} icecandidateerror ${e.url} ${e.errorCode} ${e.errorText}`);
  };

  const gathered = (pc, ms) => new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(timer); resolve(true); }
    });
  });

  // Offer (non-trickle: after gathering, at most gatherMs), POST, answer.
  const negotiate = async (pc, path, gatherMs) => {
    await pc.setLocalDescription(await pc.createOffer());
    const complete = await gathered(pc, gatherMs);
    const offer = pc.localDescription.sdp;
    note(`offer ready (gathering ${complete ? 'complete' : 'not complete'})`);
    const t0 = performance.now();
    const response = await fetch(path, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer,
    });
    const body = await response.text();
    const out = {
      status: response.status,
      location: response.headers.get('location'),
      etag: response.headers.get('etag'),
      linkHeader: response.headers.get('link'),
      postMs: Math.round(performance.now() - t0),
      offerCandidates: offer.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')),
      gatheringComplete: complete,
    };
    out.links = parseLinks(out.linkHeader);
    out.iceServers = iceServersOf(out.links);
    if (response.status !== 201) {
      out.error = `POST ${path}: ${response.status} ${body.slice(0, 300)}`;
      return out;
    }
    out.answerCandidates = body.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
    out.answerIceLite = /^a=ice-lite/m.test(body);
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    state.location = new URL(out.location, location.href).pathname;
    note(`answer set, session ${state.location}`);
    return out;
  };

  const analyse = (stream) => {
    // Chromium only feeds remote WebRTC audio into Web Audio while a media element plays it.
    // Not muted: Chromium applies the element's volume before it measures inbound-rtp
    // audioLevel/totalAudioEnergy, so a muted element reads as silence there. (Headless has no
    // loudspeaker to disturb.)
    const audio = new Audio();
    audio.srcObject = stream;
    audio.play().catch((e) => note(`audio.play: ${e}`));
    const ctx = new AudioContext();
    ctx.resume().catch(() => {});
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    ctx.createMediaStreamSource(stream).connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    state.analyser = { ctx, audio };
    setInterval(() => {
      analyser.getFloatTimeDomainData(buf);
      let peak = 0;
      for (const v of buf) peak = Math.max(peak, Math.abs(v));
      state.frames++;
      if (peak > 0.01) state.loudFrames++;
      state.peakMax = Math.max(state.peakMax, peak);
    }, 50);
  };

  window.podium = {
    log,
    async publish({ room }) {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const [track] = stream.getAudioTracks();
      note(`microphone: ${track.label}`);
      const pc = new RTCPeerConnection();
      state.pc = pc;
      watch(pc, 'presenter');
      pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      return negotiate(pc, `/whip/${room}`, 3000);
    },
    async play({ room, iceServers, relay }) {
      const config = relay ? { iceServers, iceTransportPolicy: 'relay' } : {};
      const pc = new RTCPeerConnection(config);
      state.pc = pc;
      watch(pc, 'guest');
      pc.ontrack = (e) => {
        note(`track ${e.track.kind}`);
        analyse(e.streams[0] || new MediaStream([e.track]));
      };
      pc.addTransceiver('audio', { direction: 'recvonly' });
      return negotiate(pc, `/whep/${room}`, relay ? 8000 : 3000);
    },
    // One getStats() snapshot: the audio RTP stats and the analyser so far.
    async sample() {
      const out = { t: elapsed(), peakMax: state.peakMax, loudFrames: state.loudFrames,
                    analyserFrames: state.frames, audioContext: state.analyser?.ctx.state,
                    ice: state.pc.iceConnectionState, connection: state.pc.connectionState };
      const stats = await state.pc.getStats();
      for (const s of stats.values()) {
        const kind = s.kind ?? s.mediaType;
        if (s.type === 'inbound-rtp' && kind === 'audio') {
          out.inbound = {
            packetsReceived: s.packetsReceived, bytesReceived: s.bytesReceived,
            packetsLost: s.packetsLost, jitter: s.jitter, audioLevel: s.audioLevel,
            totalAudioEnergy: s.totalAudioEnergy, totalSamplesDuration: s.totalSamplesDuration,
            totalSamplesReceived: s.totalSamplesReceived, concealedSamples: s.concealedSamples,
            codecId: s.codecId,
          };
          const codec = s.codecId && stats.get(s.codecId);
          if (codec) out.inbound.codec = codec.mimeType;
        }
        if (s.type === 'outbound-rtp' && kind === 'audio') {
          out.outbound = { packetsSent: s.packetsSent, bytesSent: s.bytesSent };
        }
      }
      return out;
    },
    // The selected candidate pair with both candidates.
    async selectedPair() {
      const stats = await state.pc.getStats();
      let pair = null;
      for (const s of stats.values()) {
        if (s.type === 'transport' && s.selectedCandidatePairId) {
          pair = stats.get(s.selectedCandidatePairId);
        }
      }
      if (!pair) {
        for (const s of stats.values()) {
          // Firefox: no selectedCandidatePairId, but a non-standard 'selected'.
          const chosen = s.selected || (s.nominated && s.state === 'succeeded');
          if (s.type === 'candidate-pair' && chosen) pair = s;
        }
      }
      if (!pair) return null;
      const pick = (c) => c && {
        candidateType: c.candidateType, protocol: c.protocol, relayProtocol: c.relayProtocol,
        address: c.address ?? c.ip, port: c.port, url: c.url,
      };
      return {
        state: pair.state, nominated: pair.nominated, bytesSent: pair.bytesSent,
        bytesReceived: pair.bytesReceived,
        local: pick(stats.get(pair.localCandidateId)),
        remote: pick(stats.get(pair.remoteCandidateId)),
      };
    },
    // DELETE the session, close everything.
    async end() {
      let status = null;
      if (state.location) {
        try {
          status = (await fetch(state.location, { method: 'DELETE' })).status;
        } catch (e) {
          status = String(e);
        }
      }
      if (state.pc) state.pc.close();
      if (state.analyser) {
        state.analyser.audio.srcObject = null;
        await state.analyser.ctx.close().catch(() => {});
      }
      note(`ended, DELETE ${status}`);
      return status;
    },
  };
  return { userAgent: navigator.userAgent, secure: window.isSecureContext };
}

// ---------------------------------------------------------------------------------------------
// Node side.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const withTimeout = (promise, ms, what) => Promise.race([
  promise,
  new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)),
]);

async function launchChromium(opts, cleanup) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'podium-chromium-'));
  cleanup.push(() => rmSync(userDataDir, { recursive: true, force: true }));
  const t0 = Date.now();
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: opts.chromium || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS,
    timeout: 20000,
  });
  cleanup.push(() => context.close());
  const first = context.pages()[0];
  let firstUsed = false;
  return {
    name: 'chromium', launchMs: Date.now() - t0, version: context.browser()?.version() ?? null,
    async newPage() {
      if (first && !firstUsed) { firstUsed = true; return first; }
      return context.newPage();
    },
  };
}

async function launchFirefox(opts, cleanup) {
  const t0 = Date.now();
  const browser = await puppeteer.launch({
    browser: 'firefox', executablePath: opts.firefox || '/usr/bin/firefox-esr', headless: true,
    extraPrefsFirefox: FIREFOX_PREFS, timeout: 20000, protocolTimeout: 20000,
  });
  cleanup.push(() => browser.close());
  const version = await browser.version();
  const first = (await browser.pages())[0];
  let firstUsed = false;
  return {
    name: 'firefox', launchMs: Date.now() - t0, version,
    async newPage() {
      if (first && !firstUsed) { firstUsed = true; return first; }
      return browser.newPage();
    },
  };
}

// A participant: its page, with window.podium installed.
async function openPage(browser, opts, label) {
  const page = await browser.newPage();
  page.on('console', (m) => console.error(`[${label}] console: ${m.text()}`));
  page.on('pageerror', (e) => console.error(`[${label}] page error: ${e}`));
  await page.goto(opts.signaling + PAGE_PATH, { timeout: 10000 });
  const info = await page.evaluate(installHelpers);
  if (!info.secure) {
    throw new Error(`${label}: ${opts.signaling}${PAGE_PATH} is not a secure context`);
  }
  return { page, label, browser: browser.name, userAgent: info.userAgent };
}

// What the poll loop waits for; the caller asserts the same things on the reported numbers.
function guestDone(g, minPackets) {
  const first = g.firstPackets, last = g.lastSample?.inbound?.packetsReceived ?? 0;
  if (!(last >= minPackets && first !== undefined && last > first)) return false;
  if (g.audioLevelMax !== undefined) return g.audioLevelMax > 0;
  if ((g.lastSample.inbound.totalAudioEnergy ?? 0) > 0) return true;
  return g.lastSample.peakMax > 0.01;
}

// page.evaluate on a participant, bounded in time.
const evaluate = (p, fn, arg, ms, what) =>
  withTimeout(p.page.evaluate(fn, arg), ms, `${p.label} ${what}`);

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
    result.deletes = {};
    for (const p of [...guests, presenter]) {
      result.deletes[p.label] = await evaluate(p, () => window.podium.end(), undefined, 5000,
                                               'DELETE').catch((e) => String(e));
    }
  } catch (err) {
    result.error = String(err && err.stack || err);
  } finally {
    result.logs = {};
    for (const p of everyone) {
      result.logs[p.label] = await evaluate(p, () => window.podium.log, undefined, 3000, 'log')
        .catch((e) => [String(e)]);
    }
    for (const close of cleanup.reverse()) {
      try {
        await withTimeout(Promise.resolve(close()), 10000, 'browser close');
      } catch (e) {
        result.cleanupErrors.push(String(e));
      }
    }
  }
}

// Resolves with the first stdin line ("close") or "timeout" after ms.
let stdinLines = null;
function waitForClose(ms) {
  if (!stdinLines) {
    stdinLines = [];
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (l) => stdinLines.push(l.trim()));
    rl.on('close', () => stdinLines.push('eof'));
  }
  return new Promise((resolve) => {
    const t0 = Date.now();
    const tick = () => {
      if (stdinLines.length) return resolve(stdinLines.shift());
      if (Date.now() - t0 > ms) return resolve('timeout');
      setTimeout(tick, 50);
    };
    tick();
  });
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
