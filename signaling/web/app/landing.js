// The landing page: creates a room (POST /api/rooms) and opens its presenter page.
const form = document.getElementById('create');
const status = document.getElementById('status');
const keyField = document.getElementById('api-key-field');
const keyInput = document.getElementById('api-key');
const start = document.getElementById('start');

// A server with closed rooms wants its API key: ask for it up front rather than after a 401.
fetch(new URL('api/client-config', location.href))
  .then((r) => (r.ok ? r.json() : {}))
  .then((config) => {
    if (config.open_rooms === false) keyField.hidden = false;
  })
  .catch(() => {});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  start.disabled = true;
  status.textContent = 'Creating a room…';
  try {
    const headers = {};
    if (keyInput.value) headers.Authorization = `Bearer ${keyInput.value.trim()}`;
    const response = await fetch(new URL('api/rooms', location.href), { method: 'POST', headers });
    if (response.status === 401) {
      keyField.hidden = false;
      keyInput.focus();
      status.textContent = keyInput.value
        ? 'That API key was refused.'
        : 'This server needs an API key to create rooms.';
      return;
    }
    if (response.status !== 201) {
      const body = await response.json().catch(() => ({}));
      status.textContent = `The room could not be created: ${body.error || response.status}.`;
      return;
    }
    const room = await response.json();
    // Built from this page's own address, so it works under whatever name the server is
    // reached by; tokens stay in the fragment, which is never sent to a server.
    const fragment = new URLSearchParams({ token: room.presenter_token, guest: room.guest_token });
    location.assign(
      new URL(`present/${encodeURIComponent(room.room)}#${fragment}`, location.href).href);
  } catch (e) {
    status.textContent = `The server could not be reached (${e.message}).`;
  } finally {
    start.disabled = false;
  }
});
