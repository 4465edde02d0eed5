// Shared by the SFU browser drivers (sfu_browsers.mjs, sfu_slides.mjs): the browsers' flags and
// prefs, the page helpers (window.podium: publish over WHIP, play over WHEP, getStats samples,
// DELETE), launching Chromium (playwright-core) and Firefox ESR (puppeteer-core), opening a
// participant's page, and reading commands from stdin. See sfu_browsers.mjs for what the pages do.
//
// Extension point for other drivers: before publish()/play() create their offer they call
// window.podium.beforeOffer(pc, role) when a later page.evaluate() has set it (role is
// 'presenter' or 'guest'), e.g. to add a data channel.

import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CHROMIUM_ARGS as BASE_CHROMIUM_ARGS } from './chromium_args.mjs';

export const CHROMIUM_ARGS = [
  ...BASE_CHROMIUM_ARGS,
  // The guests' AudioContext and <audio> start without a user gesture.
  '--autoplay-policy=no-user-gesture-required',
];

export const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.peerconnection.ice.loopback': true,
  'permissions.default.microphone': 1,
  // The guests' AudioContext and <audio> start without a user gesture.
  'media.autoplay.default': 0,
  'media.autoplay.block-webaudio': false,
};

// Where the pages live: any path of the signaling origin; this one is a 404, which is fine.
export const PAGE_PATH = '/podium-browser-test';

// ---------------------------------------------------------------------------------------------
// Runs in every page (evaluated once after navigation): defines window.podium.
export function installHelpers() {
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
      window.podium.beforeOffer?.(pc, 'presenter');
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
      window.podium.beforeOffer?.(pc, 'guest');
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

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
export const withTimeout = (promise, ms, what) => Promise.race([
  promise,
  new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)),
]);

export async function launchChromium(opts, cleanup) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'podium-chromium-'));
  cleanup.push(() => rmSync(userDataDir, { recursive: true, force: true }));
  const t0 = Date.now();
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: opts.chromium || '/usr/bin/chromium', headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.extraChromiumArgs ?? [])],
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

export async function launchFirefox(opts, cleanup) {
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
export async function openPage(browser, opts, label) {
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

// page.evaluate on a participant, bounded in time.
export const evaluate = (p, fn, arg, ms, what) =>
  withTimeout(p.page.evaluate(fn, arg), ms, `${p.label} ${what}`);

// Resolves with the next stdin line (e.g. "close"), "eof", or "timeout" after ms.
let stdinLines = null;
export function nextCommand(ms) {
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

// DELETE every page's WHIP/WHEP session; the status (or error) per page label.
export async function endSessions(pages) {
  const deletes = {};
  for (const p of pages) {
    deletes[p.label] = await evaluate(p, () => window.podium.end(), undefined, 5000, 'DELETE')
      .catch((e) => String(e));
  }
  return deletes;
}

// The pages' logs into result.logs, then every cleanup step in reverse, each bounded.
export async function collectLogsAndClose(result, pages, cleanup) {
  result.logs = {};
  for (const p of pages) {
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
