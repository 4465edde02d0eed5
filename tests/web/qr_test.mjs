// signaling/web/app/qr.js: structure checks and round trips through zbarimg (zbar-tools).
// Each symbol is written as a binary PGM (4x4 pixels a module, a 4-module white quiet zone) and
// decoded with `zbarimg --raw -q`; the decoded text must equal the input exactly.
// Run: node --test tests/web/qr_test.mjs

import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';

import { byteCapacity, qrMatrix, qrSvg } from '../../signaling/web/app/qr.js';

const SCALE = 4;
const BORDER = 4;
const LEVELS = ['L', 'M', 'Q', 'H'];
const DECODE_JOBS = 8;

const zbarMissing = (() => {
  try {
    execFileSync('zbarimg', ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'zbarimg is missing (Debian package zbar-tools)';
  }
})();

const dir = mkdtempSync(join(tmpdir(), 'podium-qr-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let imageCount = 0;

function writePgm({ size, modules }) {
  const width = (size + 2 * BORDER) * SCALE;
  const pixels = Buffer.alloc(width * width, 255);
  modules.forEach((row, y) => row.forEach((dark, x) => {
    if (!dark) return;
    for (let dy = 0; dy < SCALE; dy++) {
      const start = ((y + BORDER) * SCALE + dy) * width + (x + BORDER) * SCALE;
      pixels.fill(0, start, start + SCALE);
    }
  }));
  const file = join(dir, `qr-${imageCount++}.pgm`);
  writeFileSync(file, Buffer.concat([Buffer.from(`P5\n${width} ${width}\n255\n`), pixels]));
  return file;
}

async function decode(matrix) {
  const args = ['--raw', '-q', '--nodbus', '-Sdisable', '-Sqrcode.enable', writePgm(matrix)];
  const { stdout } = await promisify(execFile)('zbarimg', args, { maxBuffer: 1 << 20 });
  return stdout.endsWith('\n') ? stdout.slice(0, -1) : stdout;
}

async function assertRoundTrip(text, ecc = 'M') {
  const matrix = qrMatrix(text, ecc);
  let decoded;
  try {
    decoded = await decode(matrix);
  } catch (error) {
    assert.fail(`zbarimg could not read version ${matrix.version}-${ecc} ` +
                `(${Buffer.byteLength(text)} bytes): ${error.message}`);
  }
  assert.equal(decoded, text, `version ${matrix.version}-${ecc}`);
  return matrix;
}

async function inParallel(items, job) {
  const queue = [...items];
  const worker = async () => {
    while (queue.length) await job(queue.shift());
  };
  await Promise.all(Array.from({ length: DECODE_JOBS }, worker));
}

// Deterministic printable ASCII (no newlines, so zbarimg output lines stay unambiguous).
function pseudoText(length, seed = 1) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~:/?#=&%';
  let state = seed;
  let text = '';
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    text += alphabet[(state >>> 16) % alphabet.length];
  }
  return text;
}

const guestLink = 'http://host:8080/watch/AbCdEfGhI#token=' + pseudoText(200, 7)
  .replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 161);

function isFinderAt({ modules, size }, left, top) {
  for (let dy = -1; dy <= 7; dy++) {
    for (let dx = -1; dx <= 7; dx++) {
      const x = left + dx;
      const y = top + dy;
      if (x < 0 || y < 0 || x >= size || y >= size) continue;
      const ring = Math.max(Math.abs(dx - 3), Math.abs(dy - 3));
      if (modules[y][x] !== (ring !== 2 && ring !== 4)) return false;
    }
  }
  return true;
}

// The 15 format bits read back from the copy around the top-left finder (7.9.1).
function formatAround(modules) {
  const cells = [[8, 0], [8, 1], [8, 2], [8, 3], [8, 4], [8, 5], [8, 7], [8, 8], [7, 8],
                 [5, 8], [4, 8], [3, 8], [2, 8], [1, 8], [0, 8]];
  return cells.reduce((bits, [x, y], i) => bits | (modules[y][x] ? 1 << i : 0), 0) ^ 0x5412;
}

test('version 1 symbol structure', () => {
  const matrix = qrMatrix('hello');
  assert.equal(matrix.version, 1);
  assert.equal(matrix.size, 21);
  assert.equal(matrix.modules.length, 21);
  for (const row of matrix.modules) {
    assert.equal(row.length, 21);
    assert.ok(row.every((module) => typeof module === 'boolean'));
  }
  assert.ok(isFinderAt(matrix, 0, 0), 'top-left finder');
  assert.ok(isFinderAt(matrix, 14, 0), 'top-right finder');
  assert.ok(isFinderAt(matrix, 0, 14), 'bottom-left finder');
  for (let i = 8; i <= 12; i++) {
    assert.equal(matrix.modules[6][i], i % 2 === 0, `horizontal timing at ${i}`);
    assert.equal(matrix.modules[i][6], i % 2 === 0, `vertical timing at ${i}`);
  }
  assert.equal(matrix.modules[13][8], true, 'dark module');
  assert.equal(formatAround(matrix.modules) >> 10, matrix.mask, 'mask in the format information');
  assert.equal(formatAround(matrix.modules) >> 13, 0b00, 'level M in the format information');
  assert.equal(formatAround(qrMatrix('hello', 'H').modules) >> 13, 0b10, 'level H');
});

test('alignment patterns and sizes of larger versions', () => {
  const matrix = qrMatrix(pseudoText(byteCapacity(7, 'M')), 'M');
  assert.equal(matrix.version, 7);
  assert.equal(matrix.size, 45);
  for (const [cx, cy] of [[22, 22], [6, 22], [22, 6], [38, 22], [22, 38], [38, 38]]) {
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) {
        const ring = Math.max(Math.abs(dx), Math.abs(dy));
        assert.equal(matrix.modules[cy + dy][cx + dx], ring !== 1, `alignment at ${cx},${cy}`);
      }
    }
  }
  assert.equal(qrMatrix(pseudoText(byteCapacity(40, 'H')), 'H').size, 177);
});

test('capacities match ISO/IEC 18004 Table 7 (byte mode)', () => {
  const expected = {
    L: [17, 32, 53, 78, 106, 134, 154, 192, 230, 271],
    M: [14, 26, 42, 62, 84, 106, 122, 152, 180, 213],
    Q: [11, 20, 32, 46, 60, 74, 86, 108, 130, 151],
    H: [7, 14, 24, 34, 44, 58, 64, 84, 98, 119],
  };
  const version40 = { L: 2953, M: 2331, Q: 1663, H: 1273 };
  for (const ecc of LEVELS) {
    expected[ecc].forEach((bytes, i) => {
      assert.equal(byteCapacity(i + 1, ecc), bytes, `${i + 1}-${ecc}`);
    });
    assert.equal(byteCapacity(40, ecc), version40[ecc], `40-${ecc}`);
  }
});

test('the smallest version that fits is chosen', () => {
  const cases = [[14, 1], [15, 2], [106, 6], [107, 7], [180, 9], [181, 10], [2331, 40]];
  for (const [length, version] of cases) {
    assert.equal(qrMatrix('a'.repeat(length)).version, version, `${length} bytes`);
  }
  assert.equal(qrMatrix('a'.repeat(17), 'L').version, 1);
  assert.equal(qrMatrix('a'.repeat(8), 'H').version, 2);
  assert.equal(qrMatrix('é'.repeat(7)).version, 1, '14 UTF-8 bytes');
  assert.equal(qrMatrix('é'.repeat(8)).version, 2, '16 UTF-8 bytes');
  assert.equal(qrMatrix(guestLink).version, 10, `${guestLink.length}-byte guest link`);
});

test('text that does not fit version 40 throws', () => {
  assert.throws(() => qrMatrix('a'.repeat(2332)), /2332 bytes do not fit a version 40 symbol/);
  assert.throws(() => qrMatrix('a'.repeat(2954), 'L'), /at most 2953 bytes/);
  assert.throws(() => qrMatrix('a'.repeat(1274), 'H'), /version 40/);
  assert.throws(() => qrSvg('a'.repeat(2332)), /version 40/);
  assert.throws(() => qrMatrix('a', 'X'), /error correction level/);
  assert.throws(() => qrMatrix(42), TypeError);
  assert.throws(() => byteCapacity(41), RangeError);
});

test('SVG output', () => {
  const svg = qrSvg('hello', { title: 'Join <Podium> & "watch"' });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 29 29"/);
  assert.match(svg, /role="img"/);
  assert.match(svg, /shape-rendering="crispEdges"/);
  assert.match(svg, /<title>Join &lt;Podium&gt; &amp; &quot;watch&quot;<\/title>/);
  assert.match(svg, /<rect width="29" height="29" fill="#fff"\/>/);
  assert.equal(svg.match(/<path /g).length, 1);
  assert.match(qrSvg('hello', { border: 0 }), /viewBox="0 0 21 21"/);
  assert.match(qrSvg('hello'), /<title>QR code<\/title>/);
  assert.throws(() => qrSvg('hello', { border: -1 }), RangeError);

  // The path's dark modules are exactly the matrix's.
  const { size, modules } = qrMatrix('hello');
  const drawn = Array.from({ length: size }, () => new Array(size).fill(false));
  for (const [, x, y, width] of svg.matchAll(/M(\d+) (\d+)h(\d+)v1h-\3z/g)) {
    for (let i = 0; i < Number(width); i++) drawn[Number(y) - 4][Number(x) - 4 + i] = true;
  }
  assert.deepEqual(drawn, modules);
});

test('round trips through zbarimg', { skip: zbarMissing }, async () => {
  const texts = [
    ['short ASCII', 'hello', 'M'],
    ['guest link', guestLink, 'M'],
    ['non-ASCII UTF-8', 'Grüße aus Köln — 日本語のテキスト, emoji 🎤📊 ✓', 'M'],
    ['1000 bytes', pseudoText(1000, 3), 'M'],
    ['1000 bytes at level H', pseudoText(1000, 4), 'H'],
    ['guest link at level L', guestLink, 'L'],
    ['guest link at level Q', guestLink, 'Q'],
    ['guest link at level H', guestLink, 'H'],
    ['14 bytes (1-M full)', pseudoText(14), 'M'],
    ['15 bytes (2-M)', pseudoText(15), 'M'],
    ['180 bytes (9-M full)', pseudoText(180), 'M'],
    ['181 bytes (10-M, 16-bit count)', pseudoText(181), 'M'],
  ];
  await inParallel(texts, async ([, text, ecc]) => assertRoundTrip(text, ecc));
});

test('every version and level at full capacity round trips', { skip: zbarMissing }, async () => {
  const symbols = [];
  for (let version = 1; version <= 40; version++) {
    for (const ecc of LEVELS) symbols.push([version, ecc]);
  }
  const masks = new Set();
  await inParallel(symbols, async ([version, ecc]) => {
    const text = pseudoText(byteCapacity(version, ecc), version * 4 + LEVELS.indexOf(ecc));
    const matrix = await assertRoundTrip(text, ecc);
    assert.equal(matrix.version, version);
    masks.add(matrix.mask);
  });
  // With this data every one of the 8 masks is chosen somewhere, so zbar checked each pattern.
  assert.deepEqual([...masks].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('the SVG path decodes', { skip: zbarMissing }, async () => {
  const svg = qrSvg(guestLink, { border: 4 });
  const extent = Number(svg.match(/viewBox="0 0 (\d+) \1"/)[1]);
  const size = extent - 8;
  const modules = Array.from({ length: size }, () => new Array(size).fill(false));
  for (const [, x, y, width] of svg.matchAll(/M(\d+) (\d+)h(\d+)v1h-\3z/g)) {
    for (let i = 0; i < Number(width); i++) modules[Number(y) - 4][Number(x) - 4 + i] = true;
  }
  assert.equal(await decode({ size, modules }), guestLink);
});
