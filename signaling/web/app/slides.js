// Slide protocol v1 (docs/protocol.md) on the `slides` data channel: the presenter's uploader and
// the guest's receiver.

const CHUNK = 64 * 1024;
const HIGH_WATER = 1024 * 1024; // stop sending while this much waits in the channel
const LOW_WATER = 256 * 1024;
const DECK_WAIT_MS = 2000;

// A text message as an object, or null (protocol v1 messages are JSON objects).
function parseMessage(data) {
  try {
    const msg = JSON.parse(data);
    return msg !== null && typeof msg === 'object' ? msg : null;
  } catch {
    return null;
  }
}

// Presenter side. Uploads the queued slides one at a time, in order (a slide the presenter asks
// to show goes next), and shows a slide once the SFU has stored it.
// events: {progress(id, sentBytes), stored(id), delivered(id, guests, of), guests(n),
//          error(reason), deck(ids)}
export class SlideUploader {
  constructor(channel, events) {
    this.channel = channel;
    this.events = events;
    this.queue = []; // {id, blob, name, mime}
    this.stored = new Set();
    this.uploading = null;
    this.pendingShow = null;
    this.closed = false;
    this.deckReceived = false;
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = LOW_WATER;
    channel.addEventListener('message', (e) => this.onMessage(e.data));
    channel.addEventListener('close', () => {
      this.closed = true;
    });
  }

  onMessage(data) {
    const msg = typeof data === 'string' ? parseMessage(data) : null;
    if (!msg) return;
    switch (msg.type) {
      case 'deck':
        // What the room already stores (a reconnecting presenter): not uploaded again.
        for (const s of msg.slides || []) {
          this.stored.add(s.id);
          this.events.stored?.(s.id);
        }
        this.deckReceived = true;
        this.events.deck?.(msg);
        this.pump();
        break;
      case 'stored':
        this.stored.add(msg.id);
        this.events.stored?.(msg.id);
        break;
      case 'guests':
        this.events.guests?.(msg.count);
        break;
      case 'delivered':
        this.events.delivered?.(msg.id, msg.guests, msg.of);
        break;
      case 'error':
        this.events.error?.(msg.reason);
        break;
      default:
        break; // later extensions
    }
  }

  add(slide) {
    this.queue.push(slide);
    this.pump();
  }

  // Moves a queued slide to the front (the presenter wants it now).
  prioritize(id) {
    const i = this.queue.findIndex((s) => s.id === id);
    if (i > 0) this.queue.unshift(...this.queue.splice(i, 1));
  }

  // docs/protocol.md: a `show` may name the slide being uploaded (guests get it after the last
  // byte); one still queued is moved to the front and shown when its upload starts.
  show(id) {
    if (this.closed) return;
    if (!this.stored.has(id) && this.uploading?.id !== id) {
      this.pendingShow = id;
      this.prioritize(id);
      return;
    }
    this.pendingShow = null;
    this.channel.send(JSON.stringify({ type: 'show', id }));
  }

  async waitForRoom() {
    while (!this.closed && this.channel.bufferedAmount > HIGH_WATER) {
      await new Promise((resolve) => {
        const done = () => {
          this.channel.removeEventListener('bufferedamountlow', done);
          this.channel.removeEventListener('close', done);
          resolve();
        };
        this.channel.addEventListener('bufferedamountlow', done);
        this.channel.addEventListener('close', done);
      });
    }
  }

  // Uploads start once the SFU's `deck` has said what the room stores (a reconnecting presenter
  // skips those), or after DECK_WAIT_MS from an SFU that sends none.
  start() {
    setTimeout(() => {
      this.deckReceived = true;
      this.pump();
    }, DECK_WAIT_MS);
    this.pump();
  }

  async pump() {
    if (!this.deckReceived || this.uploading || this.closed) return;
    if (this.channel.readyState !== 'open') return;
    // Slides the room stores already are skipped; the first `deck` says which.
    while (!this.closed && this.queue.length > 0) {
      const slide = this.queue.shift();
      if (this.stored.has(slide.id)) continue;
      this.uploading = slide;
      try {
        await this.upload(slide);
      } catch (e) {
        if (!this.closed) this.events.error?.(String(e.message || e));
        if (this.closed) this.queue.unshift(slide);
      }
      this.uploading = null;
    }
  }

  async upload(slide) {
    const { id, blob, name, mime } = slide;
    this.channel.send(JSON.stringify({ type: 'slide', id, size: blob.size, mime, name }));
    if (this.pendingShow === id) this.show(id);
    const max = Math.min(CHUNK, this.channel.maxMessageSize || CHUNK);
    let sent = 0;
    while (sent < blob.size) {
      await this.waitForRoom();
      if (this.closed) throw new Error('the connection closed during the upload');
      const end = Math.min(blob.size, sent + 16 * max);
      const bytes = new Uint8Array(await blob.slice(sent, end).arrayBuffer());
      for (let at = 0; at < bytes.length; at += max) {
        this.channel.send(bytes.subarray(at, Math.min(bytes.length, at + max)));
      }
      sent = end;
      this.events.progress?.(id, Math.max(0, sent - this.channel.bufferedAmount));
    }
    // Progress keeps moving while the channel drains; `stored` completes it.
    while (!this.closed && this.channel.bufferedAmount > 0 && !this.stored.has(id)) {
      await new Promise((r) => setTimeout(r, 100));
      this.events.progress?.(id, Math.max(0, blob.size - this.channel.bufferedAmount));
    }
  }
}

// Guest side. Collects each slide's bytes; `show` makes a complete slide current.
// events: {slide(id, url), show(id, url), presenter(connected)}
export class SlideReceiver {
  constructor(channel, library, events) {
    this.library = library; // shared across reconnects: id -> {url, mime, size}
    this.events = events;
    this.incoming = null; // {id, size, mime, parts, received}
    this.current = null;
    channel.binaryType = 'arraybuffer';
    channel.addEventListener('message', (e) => this.onMessage(e.data));
  }

  onMessage(data) {
    if (typeof data !== 'string') {
      const slide = this.incoming;
      if (!slide) return;
      slide.parts.push(data);
      slide.received += data.byteLength;
      if (slide.received >= slide.size) this.complete(slide);
      return;
    }
    const msg = parseMessage(data);
    if (!msg) return;
    switch (msg.type) {
      case 'slide':
        this.incoming = { id: msg.id, size: msg.size, mime: msg.mime, parts: [], received: 0 };
        if (msg.size === 0) this.complete(this.incoming);
        break;
      case 'show':
        this.current = msg.id;
        this.events.show?.(msg.id, this.library.get(msg.id));
        break;
      case 'cancel':
        if (this.incoming && this.incoming.id === msg.id) this.incoming = null;
        break;
      case 'presenter':
        this.events.presenter?.(!!msg.connected);
        break;
      default:
        break;
    }
  }

  complete(slide) {
    this.incoming = null;
    // A slide received again (a new session after a reconnect) has the same bytes: the copy
    // already decoded is kept, and moves to the young end of the library.
    const existing = this.library.get(slide.id);
    this.library.delete(slide.id);
    if (existing && existing.size === slide.size) {
      this.library.set(slide.id, existing);
    } else {
      if (existing) URL.revokeObjectURL(existing.url);
      const blob = new Blob(slide.parts, { type: slide.mime });
      this.library.set(slide.id, { url: URL.createObjectURL(blob), mime: slide.mime, size: slide.size });
    }
    this.events.slide?.(slide.id, this.library.get(slide.id));
  }
}
