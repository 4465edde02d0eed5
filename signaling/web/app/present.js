// The presenter page: publishes the microphone over WHIP and the photos over the `slides` data
// channel (docs/protocol.md), each photo uploaded once whatever the number of guests.
import { SlideUploader } from './slides.js';
import { ACCEPTED_TYPES, prepareImage } from './images.js';
import { qrSvg } from './qr.js';
import {
  HttpError, WhipSession, describeRoute, fragmentParams, pageOptions, roomFromPath, routeLabel,
  serverRoot,
} from './whip.js';

const $ = (id) => document.getElementById(id);
const room = roomFromPath();
const fragment = fragmentParams();
const token = fragment.get('token') || '';
const guestToken = fragment.get('guest') || '';
const options = pageOptions();
const root = serverRoot();

const state = { connected: false, guests: 0, slides: [], current: null };
window.podium = { pc: null, state, sessionUrl: null, reconnects: 0 };

let maxEdge = 2560;
let micStream = null;
let micTrack = null;
let analyser = null;
let session = null;
let pc = null;
let uploader = null;
let reconnectTimer = null;
let attempt = 0;
let leaving = false;

function setStatus(text) {
  $('status').textContent = text;
}

function randomId() {
  // crypto.getRandomValues works outside secure contexts too (randomUUID does not).
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---- Sharing ------------------------------------------------------------------------------

function setUpSharing() {
  $('room-name').textContent = room;
  document.title = `Presenting ${room} · Podium`;
  const link = new URL(`watch/${encodeURIComponent(room)}`, root);
  if (guestToken) link.hash = new URLSearchParams({ token: guestToken }).toString();
  $('guest-link').value = link.href;
  try {
    $('qr').innerHTML = qrSvg(link.href, { title: 'QR code of the guest link' });
  } catch (e) {
    $('qr').textContent = `No QR code: ${e.message}`;
  }
  $('copy-link').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(link.href);
    } catch {
      $('guest-link').select(); // the clipboard API needs a secure context: let the user copy
      setStatus('Press Ctrl+C (⌘C) to copy the selected link.');
      return;
    }
    setStatus('Guest link copied.');
  });
}

// ---- Slides -------------------------------------------------------------------------------

function slideById(id) {
  return state.slides.find((s) => s.id === id);
}

function renderSlide(slide) {
  let li = document.querySelector(`#thumbs li[data-id="${slide.id}"]`);
  if (!li) {
    li = document.createElement('li');
    li.className = 'thumb';
    li.dataset.id = slide.id;
    const button = document.createElement('button');
    button.type = 'button';
    const img = document.createElement('img');
    img.alt = '';
    const name = document.createElement('span');
    name.className = 'name';
    const progress = document.createElement('progress');
    progress.max = 1;
    progress.value = 0;
    const delivery = document.createElement('span');
    delivery.className = 'delivery';
    button.append(img, name, progress, delivery);
    button.addEventListener('click', () => show(state.slides.indexOf(slide)));
    li.append(button);
    $('thumbs').append(li);
  }
  const index = state.slides.indexOf(slide);
  li.dataset.index = String(index);
  li.dataset.state = slide.state;
  li.setAttribute('aria-current', String(state.current === slide.id));
  const [button] = li.children;
  const [img, name, progress, delivery] = button.children;
  if (slide.thumbUrl && img.src !== slide.thumbUrl) img.src = slide.thumbUrl;
  name.textContent = `${index + 1}. ${slide.name}`;
  progress.value = slide.size ? Math.min(1, slide.sent / slide.size) : 0;
  progress.setAttribute('aria-label', `Upload of slide ${index + 1}`);
  progress.hidden = slide.state === 'stored';
  if (slide.state === 'failed') {
    delivery.textContent = slide.error || 'failed';
  } else if (slide.state === 'preparing') {
    delivery.textContent = 'preparing…';
  } else if (slide.state === 'uploading') {
    delivery.textContent = `uploading ${Math.round((100 * slide.sent) / (slide.size || 1))}%`;
  } else {
    const of = Math.max(state.guests, slide.delivered);
    delivery.textContent = `delivered to ${slide.delivered}/${of}`;
  }
  button.setAttribute('aria-label', `Slide ${index + 1}: ${slide.name}, ${delivery.textContent}`);
}

function renderAll() {
  for (const slide of state.slides) renderSlide(slide);
  const i = state.slides.findIndex((s) => s.id === state.current);
  $('position').textContent = state.slides.length === 0
    ? 'No slides yet'
    : `Slide ${i + 1} of ${state.slides.length}`;
  $('prev').disabled = i <= 0;
  $('next').disabled = i < 0 || i >= state.slides.length - 1;
  const current = slideById(state.current);
  const img = $('current');
  if (current) {
    if (img.src !== current.url) img.src = current.url;
    img.alt = `Slide ${i + 1}: ${current.name}`;
    img.hidden = false;
    $('stage-empty').hidden = true;
  }
  $('guest-count').textContent = String(state.guests);
}

function show(index) {
  const slide = state.slides[index];
  if (!slide || slide.state === 'failed' || slide.state === 'preparing') return;
  state.current = slide.id;
  uploader?.show(slide.id);
  renderAll();
}

function step(delta) {
  const i = state.slides.findIndex((s) => s.id === state.current);
  for (let j = i + delta; j >= 0 && j < state.slides.length; j += delta) {
    if (state.slides[j].state !== 'failed') {
      show(j);
      return;
    }
  }
}

async function addFiles(files) {
  const images = [...files].filter((f) => ACCEPTED_TYPES.includes(f.type));
  const refused = files.length - images.length;
  if (refused > 0) setStatus(`${refused} file(s) skipped: only JPEG, PNG, WebP and GIF are shown.`);
  const entries = images.map((file) => {
    const slide = {
      id: randomId(), name: file.name, state: 'preparing', size: 0, sent: 0, delivered: 0,
      blob: null, mime: file.type, url: '', thumbUrl: '',
    };
    state.slides.push(slide);
    return { file, slide };
  });
  renderAll();
  // One at a time, in order: uploads follow the strip, and only one photo is decoded at once.
  for (const { file, slide } of entries) {
    try {
      const prepared = await prepareImage(file, maxEdge);
      Object.assign(slide, {
        blob: prepared.blob, mime: prepared.mime, size: prepared.blob.size, state: 'uploading',
        url: URL.createObjectURL(prepared.blob), thumbUrl: URL.createObjectURL(prepared.thumbnail),
      });
      uploader?.add(uploadOf(slide));
      if (!state.current) show(state.slides.indexOf(slide));
    } catch (e) {
      slide.state = 'failed';
      slide.error = `could not be read (${e.message})`;
    }
    renderAll();
  }
}

function uploadOf(slide) {
  return { id: slide.id, blob: slide.blob, name: slide.name, mime: slide.mime };
}

function setUpSlideInput() {
  $('file').addEventListener('change', (e) => {
    addFiles(e.target.files);
    e.target.value = '';
  });
  const stage = $('stage');
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    stage.classList.add('dragging');
  });
  document.addEventListener('dragleave', (e) => {
    if (!e.relatedTarget) stage.classList.remove('dragging');
  });
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    stage.classList.remove('dragging');
    if (e.dataTransfer?.files?.length) addFiles(e.dataTransfer.files);
  });
  $('prev').addEventListener('click', () => step(-1));
  $('next').addEventListener('click', () => step(1));
  document.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement || e.altKey || e.ctrlKey || e.metaKey) return;
    // Presentation clickers send PageUp / PageDown.
    if (e.key === 'ArrowRight' || e.key === 'PageDown') {
      e.preventDefault();
      step(1);
    } else if (e.key === 'ArrowLeft' || e.key === 'PageUp') {
      e.preventDefault();
      step(-1);
    }
  });
}

// ---- Microphone ---------------------------------------------------------------------------

async function openMicrophone() {
  if (!navigator.mediaDevices?.getUserMedia) {
    setStatus('The microphone needs HTTPS (or localhost); slides still work.');
    return;
  }
  try {
    micStream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    [micTrack] = micStream.getAudioTracks();
  } catch (e) {
    setStatus(`No microphone (${e.message}); slides still work.`);
  }
  $('mic').disabled = !micTrack;
}

function setUpMicrophone() {
  const button = $('mic');
  button.addEventListener('click', () => {
    if (!micTrack) return;
    micTrack.enabled = !micTrack.enabled;
    button.setAttribute('aria-pressed', String(micTrack.enabled));
    button.textContent = micTrack.enabled ? 'Microphone on' : 'Microphone off';
  });
  // Firefox reports no level in its statistics: an analyser, started on the first gesture
  // (an AudioContext made earlier would start suspended, with a console warning).
  const startAnalyser = () => {
    if (analyser || !micStream) return;
    const context = new AudioContext();
    analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    context.createMediaStreamSource(micStream).connect(analyser);
  };
  for (const type of ['pointerdown', 'keydown']) {
    document.addEventListener(type, startAnalyser, { once: true, capture: true });
  }
  const samples = new Float32Array(1024);
  setInterval(async () => {
    let level = 0;
    if (micTrack?.enabled) {
      if (analyser) {
        analyser.getFloatTimeDomainData(samples);
        let peak = 0;
        for (const v of samples) peak = Math.max(peak, Math.abs(v));
        level = peak;
      } else if (pc) {
        const stats = await pc.getStats().catch(() => null);
        stats?.forEach((r) => {
          if (r.type === 'media-source' && r.kind === 'audio' && typeof r.audioLevel === 'number') {
            level = r.audioLevel;
          }
        });
      }
    }
    $('mic-level').value = Math.min(1, Math.sqrt(level));
  }, 100);
}

// ---- Connection ---------------------------------------------------------------------------

const uploaderEvents = {
  progress(id, sent) {
    const slide = slideById(id);
    if (slide && slide.state === 'uploading') {
      slide.sent = sent;
      renderSlide(slide);
    }
  },
  stored(id) {
    const slide = slideById(id);
    if (slide) {
      slide.state = 'stored';
      slide.sent = slide.size;
      renderSlide(slide);
    }
  },
  delivered(id, guests) {
    const slide = slideById(id);
    if (slide) {
      slide.delivered = guests;
      renderSlide(slide);
    }
  },
  guests(count) {
    state.guests = count;
    renderAll();
  },
  error(reason) {
    setStatus(`The server refused: ${reason}`);
  },
};

function scheduleReconnect(why) {
  if (leaving || reconnectTimer) return;
  state.connected = false;
  setConnection(null, `Reconnecting (${why})…`);
  const delay = Math.min(10000, 1000 * 2 ** Math.min(attempt, 4));
  attempt += 1;
  reconnectTimer = setTimeout(() => {
    reconnectTimer = null;
    connect();
  }, delay);
}

function setConnection(route, text) {
  const el = $('connection');
  el.textContent = text ?? routeLabel(route);
  el.dataset.route = route?.route ?? '';
  el.dataset.protocol = route?.protocol ?? '';
}

async function connect() {
  session?.close();
  pc?.close();
  pc = new RTCPeerConnection({ iceTransportPolicy: options.policy, bundlePolicy: 'max-bundle' });
  window.podium.pc = pc;
  const thisPc = pc;
  session = new WhipSession(new URL(`whip/${encodeURIComponent(room)}`, root).href, token, options);
  const thisSession = session;
  if (micTrack) {
    pc.addTransceiver(micTrack, { direction: 'sendonly', streams: [micStream] });
  } else {
    pc.addTransceiver('audio', { direction: 'sendonly' });
  }
  const channel = pc.createDataChannel('slides');
  uploader = new SlideUploader(channel, uploaderEvents);
  for (const slide of state.slides) {
    if (slide.blob) uploader.add(uploadOf(slide));
  }
  channel.addEventListener('open', () => {
    if (window.podium.sessionUrl && window.podium.sessionUrl !== session.url) {
      window.podium.reconnects += 1;
    }
    window.podium.sessionUrl = session.url;
    state.connected = true;
    attempt = 0;
    setStatus('');
    uploader.start();
    if (state.current) uploader.show(state.current);
  });
  channel.addEventListener('close', () => {
    if (pc === thisPc) scheduleReconnect('the slides channel closed');
  });
  let disconnectedTimer = null;
  pc.addEventListener('connectionstatechange', () => {
    if (pc !== thisPc) return;
    const s = thisPc.connectionState;
    clearTimeout(disconnectedTimer);
    if (s === 'failed') {
      // A direct path that failed is retried through TURN before the session is given up.
      thisSession.recover().then((recovering) => {
        if (!recovering && pc === thisPc) scheduleReconnect('the connection failed');
      });
    }
    if (s === 'disconnected') {
      disconnectedTimer = setTimeout(() => scheduleReconnect('the connection dropped'), 3000);
    }
  });
  setConnection(null, 'Connecting…');
  try {
    await session.connect(pc);
  } catch (e) {
    if (e instanceof HttpError && (e.status === 401 || e.status === 403 || e.status === 404)) {
      setConnection(null, 'Not connected');
      setStatus(`This presenter link does not work: ${e.message}. Start a new presentation.`);
      return;
    }
    scheduleReconnect(e.message);
  }
}

setInterval(async () => {
  if (!pc || !state.connected) return;
  const route = await describeRoute(pc).catch(() => null);
  if (route) setConnection(route);
}, 1000);

addEventListener('pagehide', () => {
  leaving = true;
  session?.close();
});

async function main() {
  setUpSharing();
  setUpSlideInput();
  setUpMicrophone();
  const q = new URLSearchParams(location.search);
  const edge = Number(q.get('max_edge'));
  if (Number.isInteger(edge) && edge >= 16) {
    maxEdge = edge;
  } else {
    const config = await fetch(new URL('api/client-config', root))
      .then((r) => (r.ok ? r.json() : {}))
      .catch(() => ({}));
    if (Number.isInteger(config.max_image_edge)) maxEdge = config.max_image_edge;
  }
  if (!room) {
    setStatus('No room in this address.');
    return;
  }
  await openMicrophone();
  renderAll();
  connect();
}

main();
