// Real browsers on the slides data channel of Podium's SFU (docs/protocol.md).
//
// Usage: node sfu_slides.mjs '{"signaling": "http://127.0.0.1:PORT", "room": "demo",
//                              "guests": ["chromium", "chromium", "chromium", "firefox"],
//                              "lateGuest": "chromium",
//                              "slide": {"id": "s1", "size": 20971520, "seed": 42,
//                                        "mime": "image/jpeg", "name": "IMG_0042.jpg"}}'
// Optional keys: chromium, firefox (executables), chunkBytes (default 65536), highWater (default
// 4 MiB of bufferedAmount before the presenter waits for bufferedamountlow at lowWater, default
// 1 MiB), readyMs (default 20000), uploadMs (default 90000), lateMs (default 30000), holdMs
// (default 20000: how long to wait for each stdin command), timeoutMs (default 180000: the
// whole script).
//
// A Chromium presenter and the guests (one page each; one browser of each kind), with the page
// helpers of sfu_common.mjs plus installSlides below:
// 1. The presenter publishes its fake microphone over WHIP with a data channel "slides" in the
//    same offer. Each guest plays over WHEP; its offer carries a data channel "control" (a
//    browser writes an m=application section only once it has a data channel; the SFU
//    acknowledges and ignores other labels, docs/protocol.md) and the page waits for the SFU's
//    "slides" channel in pc.ondatachannel (binaryType arraybuffer).
//    Once every channel is open and the presenter was told {"type":"guests","count":N} with N
//    the number of guests (or readyMs passed), a line {"phase": "ready", ...} goes to stdout and
//    the script waits for "upload" on stdin (the caller reads podium's /metrics meanwhile).
// 2. The presenter generates the slide (xorshift32 bytes framed as a JPEG: SOI/APP0 at the start,
//    EOI at the end; slideBytes below, also run here in node for the source's SHA-256), sends
//    the slide header, the bytes in chunks of min(chunkBytes, pc.sctp.maxMessageSize) keeping
//    bufferedAmount under highWater, then {"type":"show"} right after the last chunk. Each guest
//    records what arrives in order (text messages, runs of binary messages), and when the
//    announced size is complete computes the SHA-256 of the bytes with crypto.subtle.digest.
//    When every guest has the hash and the show, and the presenter got
//    {"type":"delivered","guests":N,"of":N} (or uploadMs passed), {"phase": "uploaded", ...}
//    goes out; the script waits for "late".
// 3. A late Chromium guest joins and receives the current slide the same way: {"phase":
//    "late", ...}; the script waits for "close".
// 4. Each session is ended with DELETE (guests first), {"phase": "closed", ...} follows (after
//    an error at any step it comes directly, with "error"), and the browsers are closed.
//
// All times in the results are Date.now() values (one clock for every page and node). The
// script makes no judgement: the caller asserts. Diagnostics go to stderr. Exit code 0 when it
// ran to the end, 2 on an error outside the pages, 3 when the overall deadline passed.
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import {
  emit, evaluate, launchChromium, launchFirefox, nextCommand, openPage, sleep, withTimeout,
  endSessions, collectLogsAndClose,
} from './sfu_common.mjs';

// Background pages of one Chromium must not be throttled while they receive.
const EXTRA_CHROMIUM_ARGS = [
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

// The slide's bytes: deterministic, incompressible, framed as a JPEG. Runs in node and (as
// source text) in the presenter's page.
function slideBytes(size, seed) {
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, size >>> 2);
  let x = (seed >>> 0) || 1;
  const next = () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
  for (let i = 0; i < words.length; i++) words[i] = next();
  for (let i = words.length * 4; i < size; i++) out[i] = next() & 0xff;
  const soi = [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01,
               0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00];
  if (size >= soi.length + 2) {
    out.set(soi, 0);
    out[size - 2] = 0xff;
    out[size - 1] = 0xd9;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Runs in every page after sfu_common's installHelpers: window.podiumSlides, and the
// beforeOffer hook that adds the data channel (presenter) or waits for it (guest).
function installSlides() {
  const log = window.podium.log;
  const started = performance.now();
  const note = (what) => log.push(`${Math.round(performance.now() - started)}ms slides: ${what}`);
  const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0'))
    .join('');
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const CAP = 500;  // entries kept per list

  const s = {
    role: null, pc: null, channel: null, channelId: null, openedAt: null, closedAt: null,
    otherChannels: [], fromSfu: [], binaryFromSfu: 0,  // presenter
    events: [], slides: {}, current: null, shows: [], strayBytes: 0, maxMessage: 0,  // guest
    badText: [], errors: [],
  };
  const push = (list, item) => { if (list.length < CAP) list.push(item); };

  const onText = (data) => {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch (e) {
      push(s.badText, data.slice(0, 200));
      return;
    }
    const now = Date.now();
    if (s.role === 'presenter') {
      push(s.fromSfu, { t: now, ...msg });
      if (msg.type === 'error') note(`error from the SFU: ${data.slice(0, 200)}`);
      return;
    }
    // The SFU's presenter-state extension (docs/protocol.md) is not part of a slide's sequence.
    if (msg.type === 'presenter') { s.presenterConnected = msg.connected; return; }
    push(s.events, { t: now, type: msg.type, id: msg.id });
    if (msg.type === 'slide') {
      if (s.current && s.current.received < s.current.size) {
        note(`slide ${msg.id} announced before ${s.current.id} was complete`);
      }
      const slide = {
        id: msg.id, size: msg.size, mime: msg.mime, name: msg.name, headerAt: now,
        received: 0, messages: 0, firstByteAt: null, lastByteAt: null, sha256: null,
        hashedAt: null, parts: [], headers: (s.slides[msg.id]?.headers ?? 0) + 1,
      };
      s.slides[msg.id] = slide;
      s.current = slide;
    } else if (msg.type === 'show') {
      const slide = s.slides[msg.id];
      push(s.shows, { id: msg.id, at: now, receivedBefore: slide ? slide.received : null,
                      complete: !!slide && slide.received === slide.size });
    } else if (msg.type === 'error') {
      push(s.errors, msg);
      note(`error from the SFU: ${data.slice(0, 200)}`);
    }
  };

  const onBinary = (buf) => {
    const n = buf.byteLength, now = Date.now();
    if (s.role === 'presenter') { s.binaryFromSfu += n; return; }
    const last = s.events[s.events.length - 1];
    if (last && last.type === 'bytes') {
      last.bytes += n;
      last.messages++;
      last.lastAt = now;
    } else {
      push(s.events, { t: now, type: 'bytes', bytes: n, messages: 1, lastAt: now });
    }
    s.maxMessage = Math.max(s.maxMessage, n);
    const slide = s.current;
    if (!slide || slide.received >= slide.size) { s.strayBytes += n; return; }
    const take = Math.min(n, slide.size - slide.received);
    s.strayBytes += n - take;
    slide.parts.push(take < n ? buf.slice(0, take) : buf);
    slide.received += take;
    slide.messages++;
    if (slide.firstByteAt === null) slide.firstByteAt = now;
    if (slide.received === slide.size) {
      slide.lastByteAt = now;
      const all = new Uint8Array(slide.size);
      let offset = 0;
      for (const part of slide.parts) {
        all.set(new Uint8Array(part), offset);
        offset += part.byteLength;
      }
      slide.parts = null;
      crypto.subtle.digest('SHA-256', all).then((d) => {
        slide.sha256 = hex(d);
        slide.hashedAt = Date.now();
      }, (e) => note(`digest: ${e}`));
    }
  };

  const attach = (ch) => {
    s.channel = ch;
    ch.binaryType = 'arraybuffer';
    const opened = () => {
      if (s.openedAt !== null) return;
      s.openedAt = Date.now();
      s.channelId = ch.id;
      note(`open, id ${ch.id}`);
    };
    if (ch.readyState === 'open') opened();
    ch.onopen = opened;
    ch.onclose = () => { s.closedAt = Date.now(); note('closed'); };
    ch.onerror = (e) => note(`channel error: ${e.error?.message ?? e}`);
    ch.onmessage = (e) => (typeof e.data === 'string' ? onText(e.data) : onBinary(e.data));
  };

  window.podium.beforeOffer = (pc, role) => {
    s.role = role;
    s.pc = pc;
    if (role === 'presenter') {
      attach(pc.createDataChannel('slides'));
      return;
    }
    s.placeholder = pc.createDataChannel('control');  // for the m=application section
    pc.ondatachannel = ({ channel }) => {
      if (channel.label !== 'slides') { push(s.otherChannels, channel.label); return; }
      if (s.channel) note(`a second "slides" channel (id ${channel.id})`);
      attach(channel);
    };
  };

  // What the node side polls: everything but the bytes.
  s.status = () => {
    const slides = {};
    for (const [id, slide] of Object.entries(s.slides)) {
      const { parts, ...rest } = slide;
      slides[id] = rest;
    }
    const ch = s.channel;
    return {
      role: s.role, label: ch?.label ?? null, channelId: s.channelId, ordered: ch?.ordered,
      readyState: ch?.readyState ?? null, openedAt: s.openedAt, closedAt: s.closedAt,
      bufferedAmount: ch?.bufferedAmount ?? null, maxMessageSize: s.pc?.sctp?.maxMessageSize,
      otherChannels: s.otherChannels, fromSfu: s.fromSfu, binaryFromSfu: s.binaryFromSfu,
      events: s.events, slides, shows: s.shows, strayBytes: s.strayBytes,
      maxMessage: s.maxMessage, badText: s.badText, errors: s.errors,
    };
  };

  // Counters of the peer connection as the browser sees them, to compare with the SFU's.
  s.wire = async () => {
    const out = { at: Date.now() };
    if (!s.pc) return out;
    const pick = (r, keys) => Object.fromEntries(keys.filter((k) => r[k] !== undefined)
      .map((k) => [k, r[k]]));
    const traffic = ['bytesSent', 'bytesReceived', 'packetsSent', 'packetsReceived'];
    for (const r of (await s.pc.getStats()).values()) {
      if (r.type === 'transport') out.transport = pick(r, traffic);
      if (r.type === 'candidate-pair' && r.state === 'succeeded' && (r.nominated || r.selected)) {
        out.pair = pick(r, [...traffic, 'currentRoundTripTime', 'availableOutgoingBitrate']);
      }
      if (r.type === 'outbound-rtp') {
        out.rtpOut = pick(r, ['bytesSent', 'headerBytesSent', 'packetsSent']);
      }
      if (r.type === 'data-channel' && r.label === 'slides') {
        out.channel = pick(r, ['messagesSent', 'bytesSent', 'messagesReceived', 'bytesReceived']);
      }
    }
    return out;
  };

  // Presenter: generate, announce, send in chunks, show.
  s.upload = async ({ id, size, seed, mime, name, chunk, highWater, lowWater, timeoutMs }) => {
    const deadline = Date.now() + timeoutMs;
    const t0 = Date.now();
    const bytes = window.podiumSlideBytes(size, seed);
    const generatedMs = Date.now() - t0;
    const sha256 = hex(await crypto.subtle.digest('SHA-256', bytes));
    const ch = s.channel;
    if (!ch || ch.readyState !== 'open') {
      return { error: `slides channel not open (${ch?.readyState})`, sha256 };
    }
    const maxMessageSize = s.pc.sctp?.maxMessageSize ?? null;
    const chunkSize = Math.min(chunk, maxMessageSize || chunk);
    ch.bufferedAmountLowThreshold = lowWater;
    const low = () => new Promise((resolve) => {
      const done = () => {
        clearInterval(timer);
        ch.removeEventListener('bufferedamountlow', done);
        resolve();
      };
      ch.addEventListener('bufferedamountlow', done);
      const timer = setInterval(() => {
        if (ch.bufferedAmount <= lowWater || Date.now() > deadline || ch.readyState !== 'open') {
          done();
        }
      }, 50);
    });
    const out = { sha256, size, chunk: chunkSize, maxMessageSize, generatedMs, messages: 0,
                  waits: 0, maxBuffered: 0 };
    out.startedAt = Date.now();
    ch.send(JSON.stringify({ type: 'slide', id, size, mime, name }));
    for (let offset = 0; offset < size; offset += chunkSize) {
      if (ch.bufferedAmount > highWater) {
        out.waits++;
        await low();
        if (ch.readyState !== 'open') {
          throw new Error(`slides channel ${ch.readyState} after ${offset} bytes`);
        }
        if (Date.now() > deadline) {
          throw new Error(`upload: only ${offset} of ${size} bytes sent in ${timeoutMs} ms`);
        }
      }
      ch.send(bytes.subarray(offset, Math.min(size, offset + chunkSize)));
      out.messages++;
      out.maxBuffered = Math.max(out.maxBuffered, ch.bufferedAmount);
    }
    ch.send(JSON.stringify({ type: 'show', id }));
    out.sentAt = Date.now();
    while (ch.bufferedAmount > 0 && ch.readyState === 'open' && Date.now() < deadline) {
      await sleep(20);
    }
    out.drainedAt = ch.bufferedAmount === 0 ? Date.now() : null;
    note(`uploaded ${id}: ${out.messages} messages of ${chunkSize} bytes, ${out.waits} waits`);
    return out;
  };

  window.podiumSlides = s;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Node side.

const status = (p, ms = 5000) =>
  evaluate(p, () => window.podiumSlides.status(), undefined, ms, 'slides status');

// A guest has the slide when it has hashed all of its bytes and got its show.
const guestHas = (st, id) => !!st?.slides?.[id]?.sha256 && st.shows.some((x) => x.id === id);

const delivered = (st, id, n) => (st?.fromSfu ?? []).some(
  (m) => m.type === 'delivered' && m.id === id && m.guests === n && m.of === n);

// Opens a participant's page with both helper sets.
async function openSlidesPage(browser, opts, label) {
  const p = await openPage(browser, opts, label);
  await evaluate(p, installSlides, undefined, 5000, 'installSlides');
  return p;
}

// Polls `pages` (and the presenter) until done(statuses, presenterStatus) or `ms` passed.
async function pollUntil(pages, presenter, ms, done) {
  const t0 = Date.now();
  let statuses = [], pst = null, polls = 0;
  for (;;) {
    [pst, ...statuses] = await Promise.all([presenter, ...pages].map((p) => status(p)));
    polls++;
    const finished = done(statuses, pst);
    if (finished || Date.now() - t0 > ms) {
      return { statuses, presenter: pst, ms: Date.now() - t0, polls, done: finished };
    }
    await sleep(250);
  }
}

async function play(g, opts, iceServers) {
  const whep = await evaluate(g, (a) => window.podium.play(a),
                              { room: opts.room, iceServers, relay: false }, 20000, 'WHEP');
  if (whep.error) throw new Error(`${g.label}: ${whep.error}`);
  return whep;
}

async function run(opts, result) {
  const cleanup = [];
  const everyone = [];
  const slide = opts.slide;
  const n = opts.guests.length;
  result.cleanupErrors = [];
  try {
    const bytes = slideBytes(slide.size, slide.seed);
    result.source = { sha256: createHash('sha256').update(bytes).digest('hex'),
                      size: bytes.length };

    const kinds = new Set(['chromium', ...opts.guests, opts.lateGuest]);
    const launchers = { chromium: launchChromium, firefox: launchFirefox };
    const browsers = {};
    const launchOpts = { ...opts, extraChromiumArgs: EXTRA_CHROMIUM_ARGS };
    await Promise.all([...kinds].map(async (k) => {
      browsers[k] = await launchers[k](launchOpts, cleanup);
    }));
    result.browsers = {};
    for (const b of Object.values(browsers)) {
      result.browsers[b.name] = { version: b.version, launchMs: b.launchMs };
    }

    // 1. Connect everyone.
    const presenter = await openSlidesPage(browsers.chromium, opts, 'presenter');
    everyone.push(presenter);
    await withTimeout(presenter.page.evaluate(`window.podiumSlideBytes = ${slideBytes}; true`),
                      5000, 'presenter slideBytes');
    const guests = [];
    for (let i = 0; i < n; i++) {
      const g = await openSlidesPage(browsers[opts.guests[i]], opts, `guest${i}`);
      guests.push(g);
      everyone.push(g);
    }
    result.presenter = { browser: presenter.browser, userAgent: presenter.userAgent };
    result.presenter.whip = await evaluate(presenter, (a) => window.podium.publish(a),
                                           { room: opts.room }, 20000, 'WHIP');
    if (result.presenter.whip.error) throw new Error(result.presenter.whip.error);
    const iceServers = result.presenter.whip.iceServers;
    result.guests = guests.map((g) => ({
      label: g.label, browser: g.browser, userAgent: g.userAgent,
    }));
    await Promise.all(guests.map(async (g, i) => {
      result.guests[i].whep = await play(g, opts, iceServers);
    }));
    result.negotiatedAt = Date.now();
    const ready = await pollUntil(guests, presenter, opts.readyMs ?? 20000, (sts, pst) =>
      pst.openedAt !== null && sts.every((st) => st.openedAt !== null) &&
      pst.fromSfu.filter((m) => m.type === 'guests').at(-1)?.count === n);
    result.ready = { ...ready, at: Date.now() };
    result.presenter.wireBefore = await evaluate(presenter, () => window.podiumSlides.wire(),
                                                 undefined, 5000, 'getStats');
    emit({ phase: 'ready', ...result });
    if (!ready.done) {
      const missing = [];
      if (ready.presenter.openedAt === null) missing.push('the presenter\'s channel did not open');
      ready.statuses.forEach((st, i) => {
        if (st.openedAt === null) missing.push(`guest${i} got no open "slides" channel`);
      });
      const counts = ready.presenter.fromSfu.filter((m) => m.type === 'guests').map((m) => m.count);
      if (counts.at(-1) !== n) missing.push(`guests counts told to the presenter: [${counts}]`);
      throw new Error(`not ready after ${ready.ms} ms: ${missing.join('; ')}`);
    }
    result.uploadCommand = await nextCommand(opts.holdMs ?? 20000);
    if (result.uploadCommand !== 'upload') {
      throw new Error(`expected "upload", got ${result.uploadCommand}`);
    }

    // 2. Upload and show, with everyone receiving as it goes.
    const uploadMs = opts.uploadMs ?? 90000;
    const upload = evaluate(presenter, (a) => window.podiumSlides.upload(a), {
      ...slide, chunk: opts.chunkBytes ?? 65536, highWater: opts.highWater ?? (4 << 20),
      lowWater: opts.lowWater ?? (1 << 20), timeoutMs: uploadMs,
    }, uploadMs + 5000, 'upload').then((r) => ({ ok: r }), (e) => ({ error: String(e) }));
    let uploadResult = null;
    upload.then((r) => { uploadResult = r; });
    const fanout = await pollUntil(guests, presenter, uploadMs, (sts, pst) =>
      uploadResult !== null && sts.every((st) => guestHas(st, slide.id)) &&
      delivered(pst, slide.id, n));
    const up = await upload;
    if (up.error) throw new Error(up.error);
    result.upload = up.ok;
    result.presenter.wireAfter = await evaluate(presenter, () => window.podiumSlides.wire(),
                                                undefined, 5000, 'getStats');
    result.fanout = { ...fanout, at: Date.now() };
    emit({ phase: 'uploaded', ...result });
    if (!fanout.done) {
      const missing = fanout.statuses.map((st, i) => {
        const got = st.slides[slide.id];
        return guestHas(st, slide.id) ? null : `guest${i}: ${got ? got.received : 'no header'}` +
          ` bytes, hash ${got?.sha256 ? 'done' : 'none'}, shows [${st.shows.map((x) => x.id)}]`;
      }).filter((x) => x);
      const told = fanout.presenter.fromSfu.filter((m) => m.type === 'delivered')
        .map((m) => `${m.guests}/${m.of}`);
      throw new Error(`slide not everywhere after ${fanout.ms} ms: ${missing.join('; ')}; ` +
                      `delivered told to the presenter: [${told}]`);
    }
    result.lateCommand = await nextCommand(opts.holdMs ?? 20000);
    if (result.lateCommand !== 'late') {
      throw new Error(`expected "late", got ${result.lateCommand}`);
    }

    // 3. A late guest.
    const late = await openSlidesPage(browsers[opts.lateGuest], opts, 'late');
    everyone.push(late);
    guests.push(late);
    result.late = { label: late.label, browser: late.browser, userAgent: late.userAgent,
                    joinedAt: Date.now() };
    result.late.whep = await play(late, opts, iceServers);
    const lateMs = opts.lateMs ?? 30000;
    let lateDoneAt = null;
    const lateRun = await pollUntil([late], presenter, lateMs, ([st], pst) => {
      if (!guestHas(st, slide.id)) return false;
      lateDoneAt ??= Date.now();
      // Also wait a little for delivered (N+1)/(N+1), which the caller only reports.
      return delivered(pst, slide.id, n + 1) || Date.now() - lateDoneAt > 3000;
    });
    result.late.run = lateRun;
    emit({ phase: 'late', ...result });
    if (!lateRun.done) {
      const st = lateRun.statuses[0], got = st.slides[slide.id];
      throw new Error(`the late guest did not get the slide in ${lateRun.ms} ms: channel ` +
                      `${st.readyState}, ${got ? got.received : 'no header'} bytes, shows ` +
                      `[${st.shows.map((x) => x.id)}]`);
    }
    result.closeCommand = await nextCommand(opts.holdMs ?? 20000);

    // 4. Leave: guests first.
    result.presenter.audio = await evaluate(presenter, () => window.podium.sample(), undefined,
                                            5000, 'getStats').catch((e) => String(e));
    result.deletes = await endSessions([...guests, presenter]);
  } catch (err) {
    result.error = String(err && err.stack || err);
  } finally {
    await collectLogsAndClose(result, everyone, cleanup);
  }
}

async function main() {
  const opts = JSON.parse(process.argv[2] || '{}');
  for (const key of ['signaling', 'room', 'guests', 'lateGuest', 'slide']) {
    if (!opts[key]) throw new Error(`missing option ${key}`);
  }
  const timeoutMs = opts.timeoutMs ?? 180000;
  const guard = setTimeout(() => {
    console.error('sfu_slides: overall deadline passed, exiting');
    process.exit(3);
  }, timeoutMs);
  const result = { t0: Date.now(), error: null };
  await run(opts, result);
  result.elapsedMs = Date.now() - result.t0;
  emit({ phase: 'closed', ...result });
  clearTimeout(guard);
}

export { installSlides, slideBytes };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    () => process.exit(0),
    (err) => { console.error(`sfu_slides: ${err && err.stack || err}`); process.exit(2); },
  );
}
