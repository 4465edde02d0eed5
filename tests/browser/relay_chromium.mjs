// Headless Chromium relays WebRTC through a TURN server (Podium) with iceTransportPolicy 'relay'.
//
// Usage: node relay_chromium.mjs '{"turnUrl": "turn:127.0.0.1:PORT?transport=udp",
//                                  "username": "...", "credential": "...", ...}'
// Optional keys: chromium (default /usr/bin/chromium), minPackets (default 50), timeoutMs
// (default 30000, for everything in the page), message (default "hello through podium").
//
// One page with two RTCPeerConnections, pc1 and pc2, both restricted to relay candidates from the
// one TURN server. pc1 sends the fake microphone and opens a data channel; offer/answer and
// candidates are exchanged in the page. The script prints one JSON object on stdout (the last
// line) describing what happened: candidates gathered, the selected candidate pair of each side
// with its local/remote candidate stats, the data-channel message pc2 received and pc2's
// inbound-rtp audio packet count. It makes no judgement: the caller asserts. Diagnostics go to
// stderr. Exit code 0 when the page ran to the end (whatever it found), 2 on an error.
//
// The caller is expected to run this in a loopback-only network namespace. The page comes from
// Playwright's request interception (see main), so nothing is fetched from any network.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS } from './chromium_args.mjs';


const PAGE_URL = 'http://localhost/podium-relay-test.html';
const PAGE = '<!doctype html><html><head><meta charset="utf-8"><title>podium relay test</title>' +
  '</head><body>podium relay test</body></html>';

// Runs in the page. Returns a plain object (see the header comment).
async function relayInPage({ iceServers, minPackets, timeoutMs, message }) {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const log = [];
  const note = (what) => log.push(`${elapsed()}ms ${what}`);
  const deadline = (ms, what) => new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  const config = { iceServers, iceTransportPolicy: 'relay' };
  const pc1 = new RTCPeerConnection(config);
  const pc2 = new RTCPeerConnection(config);
  const result = { candidates: { pc1: [], pc2: [] }, log, states: {} };

  // Trickle candidates to the other side, queueing them until it has a remote description.
  const wire = (from, to, name) => {
    const pending = [];
    from.onicecandidate = (e) => {
      if (!e.candidate || !e.candidate.candidate) {
        note(`${name} gathering complete`);
        return;
      }
      result.candidates[name].push(e.candidate.candidate);
      if (to.remoteDescription) {
        to.addIceCandidate(e.candidate).catch((err) => note(`${name} addIceCandidate: ${err}`));
      } else {
        pending.push(e.candidate);
      }
    };
    from.onicecandidateerror = (e) =>
      note(`${name} icecandidateerror ${e.url} ${e.errorCode} ${e.errorText}`);
    from.oniceconnectionstatechange = () => note(`${name} ice ${from.iceConnectionState}`);
    from.onconnectionstatechange = () => note(`${name} connection ${from.connectionState}`);
    return async () => {
      for (const c of pending.splice(0)) await to.addIceCandidate(c);
    };
  };
  const flushTo2 = wire(pc1, pc2, 'pc1');
  const flushTo1 = wire(pc2, pc1, 'pc2');

  const work = (async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const [track] = stream.getAudioTracks();
    note(`microphone: ${track.label}`);
    pc1.addTrack(track, stream);
    const gotTrack = new Promise((resolve) => {
      pc2.ontrack = (e) => { note(`pc2 track ${e.track.kind}`); resolve(e.track.kind); };
    });
    const dc = pc1.createDataChannel('podium');
    dc.onopen = () => { note('pc1 data channel open'); dc.send(message); };
    const received = new Promise((resolve) => {
      pc2.ondatachannel = (e) => {
        note(`pc2 data channel ${e.channel.label}`);
        e.channel.onmessage = (m) => { note('pc2 message'); resolve(m.data); };
      };
    });

    await pc1.setLocalDescription(await pc1.createOffer());
    await pc2.setRemoteDescription(pc1.localDescription);
    await flushTo2();
    await pc2.setLocalDescription(await pc2.createAnswer());
    await pc1.setRemoteDescription(pc2.localDescription);
    await flushTo1();
    note('offer/answer done');

    result.trackKind = await gotTrack;
    result.message = await received;
    result.messageAtMs = elapsed();

    // Audio: wait until pc2 has received minPackets RTP packets.
    result.packetsReceived = 0;
    for (;;) {
      const stats = await pc2.getStats();
      for (const s of stats.values()) {
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          result.packetsReceived = s.packetsReceived;
          result.bytesReceived = s.bytesReceived;
          result.totalSamplesReceived = s.totalSamplesReceived;
        }
      }
      if (result.packetsReceived > minPackets) break;
      await sleep(100);
    }
    result.audioAtMs = elapsed();
  })();

  let error = null;
  try {
    await Promise.race([work, deadline(timeoutMs, 'the message and the audio')]);
  } catch (err) {
    error = String(err && err.stack || err);
  }

  // The selected candidate pair of each side, with its two candidates.
  const selected = async (pc) => {
    const stats = await pc.getStats();
    let pair = null;
    for (const s of stats.values()) {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
    }
    if (!pair) {
      for (const s of stats.values()) {
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
      }
    }
    if (!pair) return null;
    const pick = (c) => c && {
      candidateType: c.candidateType, protocol: c.protocol, relayProtocol: c.relayProtocol,
      address: c.address, port: c.port, url: c.url,
    };
    return {
      state: pair.state, nominated: pair.nominated,
      bytesSent: pair.bytesSent, bytesReceived: pair.bytesReceived,
      local: pick(stats.get(pair.localCandidateId)),
      remote: pick(stats.get(pair.remoteCandidateId)),
    };
  };
  result.selected = { pc1: await selected(pc1), pc2: await selected(pc2) };
  result.states = {
    pc1: { ice: pc1.iceConnectionState, connection: pc1.connectionState },
    pc2: { ice: pc2.iceConnectionState, connection: pc2.connectionState },
  };
  result.error = error;
  result.elapsedMs = elapsed();
  pc1.close();
  pc2.close();
  return result;
}

async function main() {
  const opts = JSON.parse(process.argv[2] || '{}');
  for (const key of ['turnUrl', 'username', 'credential']) {
    if (!opts[key]) throw new Error(`missing option ${key}`);
  }
  const timeoutMs = opts.timeoutMs ?? 30000;
  const userDataDir = mkdtempSync(join(tmpdir(), 'podium-chromium-'));
  let context = null;
  // Whatever happens, close the browser within a bounded time and exit.
  const guard = setTimeout(() => {
    console.error(`relay_chromium: overall deadline passed, exiting`);
    process.exit(3);
  }, timeoutMs + 20000);
  try {
    const t0 = Date.now();
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: opts.chromium || '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 20000,
    });
    const launchMs = Date.now() - t0;
    const page = context.pages()[0] || await context.newPage();
    page.on('console', (m) => console.error(`page console: ${m.text()}`));
    page.on('pageerror', (e) => console.error(`page error: ${e}`));
    // getUserMedia needs a secure context, which neither about:blank (setContent) nor a data: URL
    // is. http://localhost is one, so the page is served from there by Playwright's request
    // interception: the request is fulfilled in the browser process and never reaches a socket.
    // Any other request is aborted.
    await context.route('**/*', (route) => {
      if (route.request().url() === PAGE_URL) {
        return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: PAGE });
      }
      console.error(`relay_chromium: aborting unexpected request ${route.request().url()}`);
      return route.abort();
    });
    await page.goto(PAGE_URL, { timeout: 10000 });
    if (!(await page.evaluate(() => window.isSecureContext))) {
      throw new Error(`${PAGE_URL} is not a secure context; getUserMedia would be missing`);
    }
    const result = await page.evaluate(relayInPage, {
      iceServers: [{ urls: opts.turnUrl, username: opts.username, credential: opts.credential }],
      minPackets: opts.minPackets ?? 50,
      timeoutMs,
      message: opts.message ?? 'hello through podium',
    });
    result.launchMs = launchMs;
    result.browserVersion = context.browser()?.version() ?? null;
    result.userAgent = await page.evaluate(() => navigator.userAgent);
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    if (context) await context.close().catch((e) => console.error(`close: ${e}`));
    rmSync(userDataDir, { recursive: true, force: true });
    clearTimeout(guard);
  }
}

main().then(
  () => process.exit(0),
  (err) => { console.error(`relay_chromium: ${err && err.stack || err}`); process.exit(2); },
);
