// signaling/web/app/whip.js: the parts of the WHIP/WHEP client that need no browser: Link header
// parsing (RFC 8288, as podium's signaling writes it: docs/signaling.md), ICE server selection by
// transport, and the ICE-restart fragment (RFC 8840) in and out.
// Run: node --test tests/web/whip_test.mjs

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  iceFragment, iceTransportOf, parseIceServerLinks, selectIceServers, withIceCredentials,
} from '../../signaling/web/app/whip.js';

// What fetch() gives for three Link fields (joined with ", "), in podium's own format.
const LINK = [
  '<stun:127.0.0.1:3478>; rel="ice-server"',
  '<turn:127.0.0.1:3478?transport=udp>; rel="ice-server"; username="1795000000:whep-a"; '
    + 'credential="x+y/z=="; credential-type="password"',
  '<turn:127.0.0.1:3478?transport=tcp>; rel="ice-server"; username="1795000000:whep-a"; '
    + 'credential="x+y/z=="; credential-type="password"',
].join(', ');

test('Link fields become RTCIceServers', () => {
  assert.deepEqual(parseIceServerLinks(LINK), [
    { urls: 'stun:127.0.0.1:3478' },
    { urls: 'turn:127.0.0.1:3478?transport=udp', username: '1795000000:whep-a', credential: 'x+y/z==' },
    { urls: 'turn:127.0.0.1:3478?transport=tcp', username: '1795000000:whep-a', credential: 'x+y/z==' },
  ]);
});

test('quoted-pair escapes, token values, other relations and empty headers', () => {
  const header = '<turns:t.example:5349?transport=tcp>; rel=ice-server; username="a\\"b"; '
    + 'credential="c,d", <https://example.org/>; rel="next", <stun:s.example>;rel="ice-server"';
  assert.deepEqual(parseIceServerLinks(header), [
    { urls: 'turns:t.example:5349?transport=tcp', username: 'a"b', credential: 'c,d' },
    { urls: 'stun:s.example' },
  ]);
  assert.deepEqual(parseIceServerLinks(null), []);
  assert.deepEqual(parseIceServerLinks(''), []);
});

test('transport of an ICE server URL', () => {
  assert.equal(iceTransportOf('turn:h:3478'), 'udp');
  assert.equal(iceTransportOf('turn:h:3478?transport=udp'), 'udp');
  assert.equal(iceTransportOf('turn:h:3478?transport=TCP'), 'tcp');
  assert.equal(iceTransportOf('turns:h:5349'), 'tcp');
  assert.equal(iceTransportOf('stun:h'), 'udp');
});

test('selection by transport merges servers sharing a credential', () => {
  const all = parseIceServerLinks(LINK);
  assert.deepEqual(selectIceServers(all, ''), [
    { urls: ['stun:127.0.0.1:3478'] },
    {
      urls: ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp'],
      username: '1795000000:whep-a', credential: 'x+y/z==',
    },
  ]);
  assert.deepEqual(selectIceServers(all, 'tcp'), [{
    urls: ['turn:127.0.0.1:3478?transport=tcp'], username: '1795000000:whep-a', credential: 'x+y/z==',
  }]);
  assert.equal(selectIceServers(all, 'udp').flatMap((s) => s.urls).length, 2);
});

const OFFER = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:NEWU', 'a=ice-pwd:NEWPASSWORD',
  'a=mid:0', 'a=sendonly', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0', 'a=ice-ufrag:NEWU', 'a=ice-pwd:NEWPASSWORD', 'a=mid:1', '',
].join('\r\n');

test('the ICE restart fragment carries the new credentials and every mid', () => {
  assert.equal(iceFragment(OFFER), [
    'a=ice-ufrag:NEWU', 'a=ice-pwd:NEWPASSWORD',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:1', '',
  ].join('\r\n'));
  assert.throws(() => iceFragment('v=0\r\n'), /no ICE credentials/);
});

test("the SFU's restart answer replaces the credentials in every section", () => {
  const answer = OFFER.replaceAll('NEWU', 'OLDU').replaceAll('NEWPASSWORD', 'OLDPASSWORD');
  // What the SFU answers a restart with (sfu/src/transport/media_worker.cpp).
  const fragment = 'a=ice-lite\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n'
    + 'a=ice-ufrag:SFU2\r\na=ice-pwd:SFUPASSWORD2\r\na=candidate:1 1 udp 1 127.0.0.1 50000 typ host\r\n';
  const updated = withIceCredentials(answer, fragment);
  assert.equal(updated.match(/a=ice-ufrag:SFU2/g).length, 2);
  assert.equal(updated.match(/a=ice-pwd:SFUPASSWORD2/g).length, 2);
  assert.doesNotMatch(updated, /OLD/);
  assert.throws(() => withIceCredentials(answer, 'a=ice-lite\r\n'), /no credentials/);
});
