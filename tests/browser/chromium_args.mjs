// Flags headless Chromium needs for WebRTC tests on these machines (see
// ../shared/TESTING-NOTES.md): a fake microphone with no permission prompt, and host candidates
// on loopback (inside a loopback-only network namespace there is no other interface).
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];
