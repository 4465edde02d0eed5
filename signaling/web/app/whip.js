// WHIP / WHEP client (RFC 9725) for Podium's pages: one RTCPeerConnection, one session resource.
//
// The SFU is ICE-lite (RFC 8445 section 2.5): it answers connectivity checks from wherever they
// come, so the offer is sent at once, without waiting for candidates. The ICE servers arrive with
// the answer, as Link header fields (RFC 9725 section 4.4); they are applied with an ICE restart
// (section 4.3.3: PATCH with If-Match: "*") when the page asks for relay-only, or when the
// direct path has not connected after a few seconds (UDP blocked on the guest's network).

export class HttpError extends Error {
  constructor(status, text) {
    super(`HTTP ${status}${text ? `: ${text.trim()}` : ''}`);
    this.status = status;
  }
}

// Link: <turn:host:3478?transport=udp>; rel="ice-server"; username="u"; credential="c"; ...
// Several fields may be folded into one value, separated by commas.
export function parseIceServerLinks(header) {
  const servers = [];
  if (!header) return servers;
  const link = /<([^>]*)>((?:\s*;\s*[A-Za-z*-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^;,]*))*)/g;
  const param = /;\s*([A-Za-z*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,]*))/g;
  for (const match of header.matchAll(link)) {
    const params = {};
    for (const p of match[2].matchAll(param)) {
      params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3].trim();
    }
    if (params.rel !== 'ice-server') continue;
    const server = { urls: match[1] };
    if (params.username !== undefined) server.username = params.username;
    if (params.credential !== undefined) server.credential = params.credential;
    servers.push(server);
  }
  return servers;
}

// The transport of an ICE server URL (RFC 7064, 7065): turn:/stun: default to UDP, turns:/stuns:
// to TCP (TLS).
export function iceTransportOf(url) {
  const m = /[?&]transport=(udp|tcp)/i.exec(url);
  if (m) return m[1].toLowerCase();
  return /^(turns|stuns):/i.test(url) ? 'tcp' : 'udp';
}

// Keeps the servers of one transport ('udp' | 'tcp'; anything else keeps all), and merges those
// sharing a credential into one RTCIceServer with several urls.
export function selectIceServers(servers, transport) {
  const merged = new Map();
  for (const s of servers) {
    if ((transport === 'udp' || transport === 'tcp') && iceTransportOf(s.urls) !== transport) {
      continue;
    }
    const key = `${s.username ?? ''}\n${s.credential ?? ''}`;
    if (!merged.has(key)) {
      const server = { urls: [] };
      if (s.username !== undefined) server.username = s.username;
      if (s.credential !== undefined) server.credential = s.credential;
      merged.set(key, server);
    }
    merged.get(key).urls.push(s.urls);
  }
  return [...merged.values()];
}

// RFC 8840 section 9: the ICE credentials of a local description, as a trickle-ice-sdpfrag.
export function iceFragment(sdp) {
  const lines = sdp.split(/\r?\n/);
  const out = [];
  const ufrag = lines.find((l) => l.startsWith('a=ice-ufrag:'));
  const pwd = lines.find((l) => l.startsWith('a=ice-pwd:'));
  if (!ufrag || !pwd) throw new Error('the offer has no ICE credentials');
  out.push(ufrag, pwd);
  let inSection = false;
  for (const l of lines) {
    if (l.startsWith('m=')) {
      out.push(l);
      inSection = true;
    } else if (inSection && l.startsWith('a=mid:')) {
      out.push(l);
    }
  }
  return `${out.join('\r\n')}\r\n`;
}

// The answer with the SFU's new credentials from an ICE restart's fragment.
export function withIceCredentials(sdp, fragment) {
  const ufrag = /^a=ice-ufrag:(.+)$/m.exec(fragment);
  const pwd = /^a=ice-pwd:(.+)$/m.exec(fragment);
  if (!ufrag || !pwd) throw new Error('the ICE restart answer has no credentials');
  return sdp
    .replace(/^a=ice-ufrag:.*$/gm, `a=ice-ufrag:${ufrag[1].trim()}`)
    .replace(/^a=ice-pwd:.*$/gm, `a=ice-pwd:${pwd[1].trim()}`);
}

export class WhipSession {
  // endpoint: absolute URL of /whip/{room} or /whep/{room}; token: room token or ''.
  // options.policy: 'relay' for relay-only; options.transport: 'udp' | 'tcp' filters ICE servers;
  // options.fallbackMs: how long the direct path may take before TURN is tried.
  constructor(endpoint, token, options = {}) {
    this.endpoint = endpoint;
    this.token = token;
    this.policy = options.policy === 'relay' ? 'relay' : 'all';
    this.transport = options.transport;
    this.fallbackMs = options.fallbackMs ?? 3000;
    this.url = null;
    this.iceServers = [];
    this.relayTried = false;
    this.restarting = false; // an ICE restart through TURN is under way
    this.fallbackTimer = null;
    this.closed = false;
  }

  headers(extra = {}) {
    const h = { ...extra };
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    return h;
  }

  // Offers `pc` to the endpoint and applies the answer. Throws HttpError for an HTTP refusal.
  async connect(pc) {
    this.pc = pc;
    await pc.setLocalDescription(await pc.createOffer());
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers: this.headers({ 'Content-Type': 'application/sdp' }),
      body: pc.localDescription.sdp,
    });
    if (response.status !== 201) throw new HttpError(response.status, await response.text());
    this.url = new URL(response.headers.get('Location'), this.endpoint).href;
    this.iceServers = selectIceServers(
      parseIceServerLinks(response.headers.get('Link')),
      this.transport,
    );
    const answer = await response.text();
    if (this.closed) return;
    if (this.policy === 'relay') {
      // Relay only: this offer could gather nothing (no ICE servers yet), and applying its
      // answer would fail ICE at once. A second offer, with new ICE credentials and the ICE
      // servers, replaces it before any answer is applied (same sections, same mids), so the
      // restart through TURN is the first ICE generation that runs.
      await this.restartThroughRelay(answer);
      return;
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    this.fallbackTimer = setTimeout(() => {
      const s = pc.iceConnectionState;
      if (!this.closed && s !== 'connected' && s !== 'completed') this.recover();
    }, this.fallbackMs);
  }

  // The direct path failed or is too slow: restart ICE through TURN, once. Resolves true when
  // the restart is under way or done (the caller should wait rather than reconnect).
  async recover() {
    if (this.closed) return false;
    if (this.restarting) return true;
    if (this.relayTried || this.iceServers.length === 0) return false;
    try {
      await this.restartThroughRelay(null);
      return true;
    } catch {
      return false;
    }
  }

  // Applies the ICE servers from the Link headers and restarts ICE through them (RFC 9725
  // section 4.3.3). `answer` is the session's answer when no remote description is applied yet.
  async restartThroughRelay(answer) {
    this.relayTried = true;
    this.restarting = true;
    try {
      const pc = this.pc;
      pc.setConfiguration({
        ...pc.getConfiguration(),
        iceServers: this.iceServers,
        iceTransportPolicy: this.policy,
      });
      await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
      const response = await fetch(this.url, {
        method: 'PATCH',
        headers: this.headers({
          'Content-Type': 'application/trickle-ice-sdpfrag',
          'If-Match': '*',
        }),
        body: iceFragment(pc.localDescription.sdp),
      });
      // 200 with the SFU's new credentials; 204 if the SFU saw no new credentials (then the
      // answer's stand).
      if (response.status !== 200 && response.status !== 204) {
        throw new HttpError(response.status, await response.text());
      }
      const fragment = response.status === 200 ? await response.text() : '';
      if (this.closed) return;
      const base = answer ?? pc.remoteDescription.sdp;
      await pc.setRemoteDescription({
        type: 'answer',
        sdp: fragment ? withIceCredentials(base, fragment) : base,
      });
    } finally {
      this.restarting = false;
    }
  }

  // Ends the session resource (DELETE); works while the page unloads (keepalive).
  close() {
    this.closed = true;
    clearTimeout(this.fallbackTimer);
    if (!this.url) return;
    fetch(this.url, { method: 'DELETE', headers: this.headers(), keepalive: true }).catch(() => {});
    this.url = null;
  }
}

// Where the selected candidate pair goes: {route: 'direct'|'relay', protocol: 'udp'|'tcp'}, or
// null before one is selected.
export async function describeRoute(pc) {
  const stats = await pc.getStats();
  let pair = null;
  stats.forEach((r) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) {
      pair = stats.get(r.selectedCandidatePairId);
    }
  });
  if (!pair) {
    // Firefox has no selectedCandidatePairId: its pairs carry `selected`.
    stats.forEach((r) => {
      if (r.type === 'candidate-pair' && (r.selected || (r.nominated && r.state === 'succeeded'))) {
        pair = r;
      }
    });
  }
  if (!pair) return null;
  const local = stats.get(pair.localCandidateId);
  if (!local) return null;
  if (local.candidateType === 'relay') {
    const p = (local.relayProtocol || '').toLowerCase();
    return { route: 'relay', protocol: p === 'tcp' || p === 'tls' ? 'tcp' : 'udp' };
  }
  return { route: 'direct', protocol: (local.protocol || 'udp').toLowerCase() };
}

export function routeLabel(route) {
  if (!route) return 'Connecting…';
  const protocol = route.protocol.toUpperCase();
  return route.route === 'relay' ? `Via TURN · ${protocol}` : `Direct · ${protocol}`;
}

// The options every page takes from its own URL: ?policy=relay&transport=tcp.
export function pageOptions() {
  const q = new URLSearchParams(location.search);
  return {
    policy: q.get('policy') === 'relay' ? 'relay' : 'all',
    transport: q.get('transport') === 'tcp' || q.get('transport') === 'udp' ? q.get('transport') : '',
  };
}

// The room token from the page's fragment (#token=...&guest=...).
export function fragmentParams() {
  return new URLSearchParams(location.hash.replace(/^#/, ''));
}

// The room name from /present/{room} or /watch/{room}.
export function roomFromPath() {
  const parts = location.pathname.split('/').filter(Boolean);
  return decodeURIComponent(parts[parts.length - 1] || '');
}

// The server's root as the page sees it (works under any host name the server is reached by).
export function serverRoot() {
  return new URL('../', location.href);
}
