// The guest page: plays the presenter's voice over WHEP and shows the current slide from the
// `slides` data channel the SFU opens (docs/protocol.md). Reconnects on its own.
import { SlideReceiver } from './slides.js';
import {
  HttpError, WhipSession, fragmentParams, pageOptions, roomFromPath, serverRoot,
} from './whip.js';

const $ = (id) => document.getElementById(id);
const room = roomFromPath();
const token = fragmentParams().get('token') || '';
const options = pageOptions();
const root = serverRoot();

const MAX_KEPT_SLIDES = 40; // decoded slides kept for instant back-and-forth
const SPEAKING_LEVEL = 0.008; // RTCInboundRtpStreamStats.audioLevel, linear 0..1 (about -42 dBov)
const SPEAKING_HOLD_MS = 600;

const library = new Map(); // id -> {url, mime, size}, in insertion (upload) order
const podium = {
  pc: null, sessionUrl: null, reconnects: 0, current: null, presenter: false, audioPlaying: false,
};
window.podium = podium;

let session = null;
let pc = null;
let connectedOnce = false;
let retryTimer = null;
let attempt = 0;
let leaving = false;
let lastSpoke = 0;
let connectionLost = false; // the peer connection is `disconnected` (it may come back)

// ---- Messages -----------------------------------------------------------------------------

const MESSAGES = {
  connecting: 'Connecting…',
  'no-room': 'This presentation does not exist. Check the link you were given.',
  waiting: 'The presenter has not started yet. This page will follow as soon as they do.',
  reconnecting: 'Connection lost. Reconnecting…',
  denied: 'This link is not valid for this presentation (it may have expired).',
};

function setMessage(kind, text) {
  const el = $('message');
  el.dataset.kind = kind;
  el.textContent = kind ? text ?? MESSAGES[kind] : '';
  el.hidden = !kind;
}

// What to tell the guest now: connection problems first, then the presenter's absence.
function refreshMessage() {
  const kind = $('message').dataset.kind;
  if (kind === 'no-room' || kind === 'denied') return;
  if (!connectedOnce) return setMessage('connecting');
  if (retryTimer || !podium.sessionUrl || connectionLost) return setMessage('reconnecting');
  if (!podium.presenter && !podium.current) return setMessage('waiting');
  if (!podium.presenter) {
    return setMessage('waiting', 'The presenter is away. The last slide stays until they return.');
  }
  return setMessage('');
}

// ---- Slides -------------------------------------------------------------------------------

// Shows a received slide; it is decoded off-screen first, so the previous one stays up until
// the new one can be painted at once.
let displaying = 0;
async function display(id) {
  const entry = library.get(id);
  if (!entry) return;
  const serial = ++displaying;
  const decoded = new Image();
  decoded.src = entry.url;
  await decoded.decode().catch(() => {}); // a broken image is shown as such
  if (serial !== displaying) return; // a newer show came meanwhile
  const img = $('slide');
  img.src = entry.url;
  img.dataset.id = id;
  img.alt = 'The current slide';
  img.hidden = false;
  podium.current = id;
  refreshMessage();
}

function trimLibrary() {
  for (const [id, entry] of library) {
    if (library.size <= MAX_KEPT_SLIDES) break;
    if (id === podium.current) continue;
    URL.revokeObjectURL(entry.url);
    library.delete(id);
  }
}

let wanted = null; // the id of the last `show`, displayed once its bytes are in
const receiverEvents = {
  slide(id) {
    trimLibrary();
    if (id === wanted) display(id);
  },
  show(id, entry) {
    wanted = id;
    if (entry) display(id);
  },
  presenter(connected) {
    podium.presenter = connected;
    refreshMessage();
  },
};

// ---- Audio --------------------------------------------------------------------------------

async function play() {
  const audio = $('audio');
  // Firefox says in advance whether it would refuse (and then warns in the console if tried).
  if (navigator.getAutoplayPolicy && navigator.getAutoplayPolicy(audio) === 'disallowed') {
    showPlayButton();
    return;
  }
  try {
    await audio.play();
    podium.audioPlaying = true;
    $('play').hidden = true;
  } catch (e) {
    if (e.name === 'NotAllowedError') showPlayButton(); // autoplay blocked
  }
}

// One click or tap, on the button or anywhere on the page, starts the audio.
function showPlayButton() {
  const button = $('play');
  if (!button.hidden) return;
  button.hidden = false;
  button.focus();
}

async function startAudio() {
  try {
    await $('audio').play();
    podium.audioPlaying = true;
    $('play').hidden = true;
  } catch (e) {
    $('play').textContent = `Audio could not start (${e.message}). Try again`;
  }
}

$('play').addEventListener('click', startAudio);
document.addEventListener('pointerdown', (e) => {
  if (!$('play').hidden && e.target !== $('play')) startAudio();
});

// The presenter's level from the receiver's statistics (both browsers report audioLevel for
// inbound audio; the contributing source's level is the fallback).
setInterval(async () => {
  if (!pc) return;
  let level = null;
  const stats = await pc.getStats().catch(() => null);
  stats?.forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'audio' && typeof r.audioLevel === 'number') {
      level = r.audioLevel;
    }
  });
  if (level === null) {
    for (const receiver of pc.getReceivers()) {
      for (const source of receiver.getSynchronizationSources?.() ?? []) {
        if (typeof source.audioLevel === 'number') level = Math.max(level ?? 0, source.audioLevel);
      }
    }
  }
  const now = Date.now();
  if (level !== null && level > SPEAKING_LEVEL && podium.presenter) lastSpoke = now;
  const speaking = now - lastSpoke < SPEAKING_HOLD_MS;
  const el = $('speaking');
  if (el.dataset.speaking !== String(speaking)) {
    el.dataset.speaking = String(speaking);
    $('speaking-label').textContent = speaking ? 'Presenter is speaking' : 'Presenter is quiet';
  }
}, 200);

// ---- Connection ---------------------------------------------------------------------------

function scheduleReconnect() {
  if (leaving || retryTimer) return;
  podium.sessionUrl = null;
  const delay = attempt === 0 ? 250 : Math.min(10000, 1000 * 2 ** Math.min(attempt - 1, 4));
  attempt += 1;
  retryTimer = setTimeout(() => {
    retryTimer = null;
    connect(true);
  }, delay);
  refreshMessage();
}

async function connect(isRetry) {
  session?.close();
  pc?.close();
  pc = new RTCPeerConnection({ iceTransportPolicy: options.policy, bundlePolicy: 'max-bundle' });
  podium.pc = pc;
  const thisPc = pc;
  session = new WhipSession(new URL(`whep/${encodeURIComponent(room)}`, root).href, token, options);
  const thisSession = session;
  pc.addTransceiver('audio', { direction: 'recvonly' });
  // The offer needs an m=application section for the SFU's `slides` channel (docs/protocol.md).
  pc.createDataChannel('control');
  pc.addEventListener('track', (e) => {
    const audio = $('audio');
    audio.srcObject = e.streams[0] ?? new MediaStream([e.track]);
    play();
  });
  pc.addEventListener('datachannel', (e) => {
    if (e.channel.label !== 'slides') return;
    new SlideReceiver(e.channel, library, receiverEvents);
    e.channel.addEventListener('open', () => {
      attempt = 0;
      refreshMessage();
    });
    e.channel.addEventListener('close', () => {
      if (pc === thisPc) scheduleReconnect();
    });
  });
  let disconnectedTimer = null;
  pc.addEventListener('connectionstatechange', () => {
    if (pc !== thisPc) return;
    const s = thisPc.connectionState;
    clearTimeout(disconnectedTimer);
    connectionLost = s === 'disconnected';
    if (s === 'connected') {
      connectedOnce = true;
      refreshMessage();
    } else if (s === 'failed') {
      // A direct path that failed is retried through TURN before the session is given up.
      thisSession.recover().then((recovering) => {
        if (!recovering && pc === thisPc) scheduleReconnect();
      });
    } else if (s === 'disconnected') {
      refreshMessage(); // said at once; the new session comes after 3 s if it does not recover
      disconnectedTimer = setTimeout(() => {
        if (pc === thisPc) scheduleReconnect();
      }, 3000);
    }
  });
  try {
    await session.connect(pc);
    if (pc !== thisPc) return;
    podium.sessionUrl = session.url;
    if (isRetry) podium.reconnects += 1;
    refreshMessage();
  } catch (e) {
    if (pc !== thisPc) return;
    // A room that was there and is not now (closed rooms on a restarted server, before its
    // presenter is back) is retried; one that never was is said so.
    if (e instanceof HttpError && e.status === 404 && !connectedOnce) return setMessage('no-room');
    if (e instanceof HttpError && (e.status === 401 || e.status === 403)) {
      return setMessage('denied');
    }
    scheduleReconnect();
  }
}

addEventListener('pagehide', () => {
  leaving = true;
  session?.close();
});

async function main() {
  if (!room) return setMessage('no-room');
  document.title = `${room} · Podium`;
  // A room that does not exist (closed rooms only: open ones always do) is said before any
  // connection is tried.
  const response = await fetch(new URL(`api/rooms/${encodeURIComponent(room)}`, root))
    .catch(() => null);
  if (response && response.status === 404) return setMessage('no-room');
  connect(false);
}

main();
