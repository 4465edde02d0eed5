// QR code encoder (model 2, byte mode) written from ISO/IEC 18004:2015.
//
//   7.4.5          byte mode: mode indicator 0100, 8- or 16-bit character count (Tables 2, 3)
//   7.4.9, 7.4.10  terminator, bit stream to codewords, pad codewords 0xEC 0x11
//   7.5 / Table 9  error correction levels L M Q H and the block structure of each version
//   7.5.2          Reed-Solomon codewords over GF(256), polynomial x^8+x^4+x^3+x^2+1
//   7.6            interleaving the data and error correction codewords of the blocks
//   6.3.3-6.3.6    finder, separator, timing and alignment patterns (Annex E, Table E.1)
//   7.7.3          placement of codewords in 2-module columns from the bottom right
//   7.8            data masks (Table 10) and the penalty rules N1-N4 (7.8.3.1, Table 11)
//   7.9 / Annex C  format information, BCH (15,5) code, XOR mask 101010000010010
//   7.10 / Annex D version information (versions 7 and up), BCH (18,6) code
//
// qrMatrix(text, ecc) -> {size, modules, version, mask}; qrSvg(text, options) -> SVG markup.

const MIN_VERSION = 1;
const MAX_VERSION = 40;
const MODE_BYTE = 0b0100;
const MODE_BITS = 4;
const PAD_CODEWORDS = [0xec, 0x11];
const GF_PRIMITIVE = 0x11d;
const FORMAT_GENERATOR = 0x537; // x^10+x^8+x^5+x^4+x^2+x+1
const FORMAT_XOR = 0x5412;
const VERSION_GENERATOR = 0x1f25; // x^12+x^11+x^10+x^9+x^8+x^5+x^2+1
const FIRST_VERSION_WITH_INFO = 7;
const PENALTY_RUN = 3; // N1: a run of 5 same-colour modules, +1 per extra module
const PENALTY_BLOCK = 3; // N2: each 2x2 block of one colour
const PENALTY_FINDER_LIKE = 40; // N3: 1:1:3:1:1 with 4 light modules on one side
const PENALTY_BALANCE = 10; // N4: each 5 % the dark share is away from 50 %

// Format information bits of each level (Table 12) and its row in the tables below.
const ECC_LEVELS = {
  L: { row: 0, formatBits: 0b01 },
  M: { row: 1, formatBits: 0b00 },
  Q: { row: 2, formatBits: 0b11 },
  H: { row: 3, formatBits: 0b10 },
};

// Table 9, per version 1-40: error correction codewords per block, and the number of blocks.
const ECC_CODEWORDS_PER_BLOCK = [
  [7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
    28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  [10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
    26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
  [13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
    28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  [17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
    30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
];
const ECC_BLOCK_COUNT = [
  [1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
    8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
  [1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
    17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
  [1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
    23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
  [1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
    25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
];

// Table 10: a module at (row i, column j) is inverted when the mask condition holds.
const MASKS = [
  (i, j) => (i + j) % 2 === 0,
  (i) => i % 2 === 0,
  (i, j) => j % 3 === 0,
  (i, j) => (i + j) % 3 === 0,
  (i, j) => (Math.floor(i / 2) + Math.floor(j / 3)) % 2 === 0,
  (i, j) => ((i * j) % 2) + ((i * j) % 3) === 0,
  (i, j) => (((i * j) % 2) + ((i * j) % 3)) % 2 === 0,
  (i, j) => (((i + j) % 2) + ((i * j) % 3)) % 2 === 0,
];

// ---- GF(256) and Reed-Solomon (7.5.2) ----

const GF_EXP = new Uint8Array(510);
const GF_LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++) {
  GF_EXP[i] = GF_EXP[i + 255] = x;
  GF_LOG[x] = i;
  x = x & 0x80 ? (x << 1) ^ GF_PRIMITIVE : x << 1;
}

function gfMultiply(a, b) {
  return a === 0 || b === 0 ? 0 : GF_EXP[GF_LOG[a] + GF_LOG[b]];
}

const generatorCache = new Map();

// g(x) = (x - a^0)(x - a^1)...(x - a^(degree-1)), coefficients from x^degree down to x^0.
function rsGenerator(degree) {
  if (!generatorCache.has(degree)) {
    let poly = [1];
    for (let i = 0; i < degree; i++) {
      const next = new Array(poly.length + 1).fill(0);
      poly.forEach((coefficient, j) => {
        next[j] ^= coefficient;
        next[j + 1] ^= gfMultiply(coefficient, GF_EXP[i]);
      });
      poly = next;
    }
    generatorCache.set(degree, poly);
  }
  return generatorCache.get(degree);
}

// The remainder of data(x) * x^degree divided by g(x): the error correction codewords.
function rsRemainder(data, degree) {
  const generator = rsGenerator(degree);
  const remainder = new Array(degree).fill(0);
  for (const codeword of data) {
    const factor = codeword ^ remainder.shift();
    remainder.push(0);
    for (let i = 0; i < degree; i++) remainder[i] ^= gfMultiply(generator[i + 1], factor);
  }
  return remainder;
}

// ---- Function patterns (6.3) ----

function alignmentCentres(version) {
  if (version === 1) return [];
  const size = symbolSize(version);
  const count = Math.floor(version / 7) + 2;
  // Table E.1 spaces the centres evenly from the last one back, by an even step (32 is special).
  const step = version === 32 ? 26 : Math.ceil((size - 13) / (2 * count - 2)) * 2;
  const centres = [6];
  for (let c = size - 7; centres.length < count; c -= step) centres.splice(1, 0, c);
  return centres;
}

function symbolSize(version) {
  return 17 + 4 * version;
}

class Grid {
  constructor(version) {
    this.version = version;
    this.size = symbolSize(version);
    this.dark = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
    this.reserved = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
  }

  setFunction(x, y, dark) {
    this.dark[y][x] = dark;
    this.reserved[y][x] = true;
  }

  // Draws everything but the data: the free modules are then exactly the data region.
  drawFunctionPatterns() {
    const { size } = this;
    for (let i = 0; i < size; i++) {
      this.setFunction(6, i, i % 2 === 0);
      this.setFunction(i, 6, i % 2 === 0);
    }
    // Finder pattern (7x7, dark ring, light ring, 3x3 core) with its light separator.
    for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]]) {
      this.drawSquares(cx, cy, 4, (distance) => distance !== 2 && distance !== 4);
    }
    const centres = alignmentCentres(this.version);
    const last = centres.length - 1;
    centres.forEach((cx, i) => centres.forEach((cy, j) => {
      const onFinder = (i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0);
      if (!onFinder) this.drawSquares(cx, cy, 2, (distance) => distance !== 1);
    }));
    this.drawFormatInformation(0); // reserves the areas; redrawn with the chosen mask
    this.drawVersionInformation();
  }

  drawSquares(cx, cy, radius, isDark) {
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++) {
        const x = cx + dx;
        const y = cy + dy;
        if (x >= 0 && x < this.size && y >= 0 && y < this.size) {
          this.setFunction(x, y, isDark(Math.max(Math.abs(dx), Math.abs(dy))));
        }
      }
    }
  }

  // 7.9.1: both copies of the 15 format bits, bit 14 the most significant; plus the dark module.
  drawFormatInformation(bits) {
    const { size } = this;
    const bit = (i) => ((bits >> i) & 1) === 1;
    for (let i = 0; i <= 5; i++) this.setFunction(8, i, bit(i));
    this.setFunction(8, 7, bit(6));
    this.setFunction(8, 8, bit(7));
    this.setFunction(7, 8, bit(8));
    for (let i = 9; i < 15; i++) this.setFunction(14 - i, 8, bit(i));
    for (let i = 0; i < 8; i++) this.setFunction(size - 1 - i, 8, bit(i));
    for (let i = 8; i < 15; i++) this.setFunction(8, size - 15 + i, bit(i));
    this.setFunction(8, size - 8, true);
  }

  // 7.10: two 6x3 blocks of the 18 version bits beside the top-right and bottom-left finders.
  drawVersionInformation() {
    if (this.version < FIRST_VERSION_WITH_INFO) return;
    const bits = bchCode(this.version, VERSION_GENERATOR, 12);
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >> i) & 1) === 1;
      const along = Math.floor(i / 3);
      const across = this.size - 11 + (i % 3);
      this.setFunction(across, along, dark);
      this.setFunction(along, across, dark);
    }
  }

  // 7.7.3: upward and downward in 2-module columns from the right, skipping the timing column.
  placeCodewords(codewords) {
    const { size } = this;
    const totalBits = codewords.length * 8;
    let index = 0;
    let upward = true;
    for (let right = size - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      for (let step = 0; step < size; step++) {
        const y = upward ? size - 1 - step : step;
        for (const x of [right, right - 1]) {
          if (this.reserved[y][x]) continue;
          // Remainder bits after the last codeword stay 0 (light before masking).
          const bit = index < totalBits ? (codewords[index >> 3] >> (7 - (index & 7))) & 1 : 0;
          this.dark[y][x] = bit === 1;
          index++;
        }
      }
      upward = !upward;
    }
  }

  applyMask(mask) {
    const condition = MASKS[mask];
    for (let y = 0; y < this.size; y++) {
      for (let x = 0; x < this.size; x++) {
        if (!this.reserved[y][x] && condition(y, x)) this.dark[y][x] = !this.dark[y][x];
      }
    }
  }

  dataModuleCount() {
    return this.reserved.flat().filter((reserved) => !reserved).length;
  }
}

// A BCH codeword: value followed by the remainder of value * x^degree divided by the generator.
function bchCode(value, generator, degree) {
  let remainder = value << degree;
  for (let bit = 31 - Math.clz32(remainder); bit >= degree; bit--) {
    if ((remainder >> bit) & 1) remainder ^= generator << (bit - degree);
  }
  return (value << degree) | remainder;
}

function formatBits(ecc, mask) {
  return bchCode((ECC_LEVELS[ecc].formatBits << 3) | mask, FORMAT_GENERATOR, 10) ^ FORMAT_XOR;
}

// ---- Capacity and the data bit stream (7.4) ----

const totalCodewordCache = new Map();

function totalCodewords(version) {
  if (!totalCodewordCache.has(version)) {
    const symbol = new Grid(version);
    symbol.drawFunctionPatterns();
    totalCodewordCache.set(version, Math.floor(symbol.dataModuleCount() / 8));
  }
  return totalCodewordCache.get(version);
}

function blockLayout(version, ecc) {
  const { row } = ECC_LEVELS[ecc];
  const blocks = ECC_BLOCK_COUNT[row][version - 1];
  const eccPerBlock = ECC_CODEWORDS_PER_BLOCK[row][version - 1];
  const total = totalCodewords(version);
  return { blocks, eccPerBlock, total, dataCodewords: total - blocks * eccPerBlock };
}

function countBits(version) {
  return version <= 9 ? 8 : 16;
}

function checkEcc(ecc) {
  if (!Object.hasOwn(ECC_LEVELS, ecc)) {
    const shown = JSON.stringify(ecc);
    throw new Error(`QR code: unknown error correction level ${shown} (use L, M, Q or H)`);
  }
}

/** The most bytes a symbol of this version and error correction level holds in byte mode. */
export function byteCapacity(version, ecc = 'M') {
  checkEcc(ecc);
  if (!Number.isInteger(version) || version < MIN_VERSION || version > MAX_VERSION) {
    throw new RangeError(`QR code: version ${version} is not 1 to 40`);
  }
  const { dataCodewords } = blockLayout(version, ecc);
  const maxCount = 2 ** countBits(version) - 1;
  return Math.min(maxCount, Math.floor((dataCodewords * 8 - MODE_BITS - countBits(version)) / 8));
}

function chooseVersion(byteCount, ecc) {
  for (let version = MIN_VERSION; version <= MAX_VERSION; version++) {
    if (byteCount <= byteCapacity(version, ecc)) return version;
  }
  throw new Error(`QR code: ${byteCount} bytes do not fit a version 40 symbol at error ` +
                  `correction level ${ecc} (at most ${byteCapacity(MAX_VERSION, ecc)} bytes)`);
}

function dataCodewords(bytes, version, capacity) {
  const bits = [];
  const append = (value, length) => {
    for (let i = length - 1; i >= 0; i--) bits.push((value >> i) & 1);
  };
  append(MODE_BYTE, MODE_BITS);
  append(bytes.length, countBits(version));
  bytes.forEach((byte) => append(byte, 8));
  append(0, Math.min(4, capacity * 8 - bits.length)); // terminator
  append(0, (8 - (bits.length % 8)) % 8);
  const codewords = [];
  for (let i = 0; i < bits.length; i += 8) {
    codewords.push(bits.slice(i, i + 8).reduce((byte, bit) => (byte << 1) | bit, 0));
  }
  for (let i = 0; codewords.length < capacity; i++) codewords.push(PAD_CODEWORDS[i % 2]);
  return codewords;
}

// 7.6: split into blocks (the shorter ones first), add the RS codewords, interleave.
function interleave(data, { blocks, eccPerBlock, dataCodewords: dataCount }) {
  const shortLength = Math.floor(dataCount / blocks);
  const longBlocks = dataCount % blocks;
  const dataBlocks = [];
  for (let b = 0, offset = 0; b < blocks; b++) {
    const length = shortLength + (b >= blocks - longBlocks ? 1 : 0);
    dataBlocks.push(data.slice(offset, offset + length));
    offset += length;
  }
  const eccBlocks = dataBlocks.map((block) => rsRemainder(block, eccPerBlock));
  const result = [];
  for (let i = 0; i <= shortLength; i++) {
    for (const block of dataBlocks) if (i < block.length) result.push(block[i]);
  }
  for (let i = 0; i < eccPerBlock; i++) for (const block of eccBlocks) result.push(block[i]);
  return result;
}

// ---- Mask selection (7.8.3) ----

const FINDER_LIKE = [true, false, true, true, true, false, true];

function linePenalty(line) {
  let score = 0;
  for (let start = 0; start < line.length;) {
    let end = start;
    while (end < line.length && line[end] === line[start]) end++;
    if (end - start >= 5) score += PENALTY_RUN + (end - start - 5);
    start = end;
  }
  // 1:1:3:1:1 next to 4 light modules; the quiet zone around the symbol counts as light.
  const dark = (i) => i >= 0 && i < line.length && line[i];
  const light4 = (from) => !dark(from) && !dark(from + 1) && !dark(from + 2) && !dark(from + 3);
  for (let i = 0; i + FINDER_LIKE.length <= line.length; i++) {
    if (FINDER_LIKE.every((expected, k) => line[i + k] === expected) &&
        (light4(i - 4) || light4(i + FINDER_LIKE.length))) {
      score += PENALTY_FINDER_LIKE;
    }
  }
  return score;
}

function penalty(modules) {
  const size = modules.length;
  let score = 0;
  let dark = 0;
  for (let i = 0; i < size; i++) {
    score += linePenalty(modules[i]);
    score += linePenalty(modules.map((row) => row[i]));
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const colour = modules[y][x];
      if (colour) dark++;
      if (x + 1 < size && y + 1 < size && modules[y][x + 1] === colour &&
          modules[y + 1][x] === colour && modules[y + 1][x + 1] === colour) {
        score += PENALTY_BLOCK;
      }
    }
  }
  const deviation = Math.abs((dark * 100) / (size * size) - 50);
  return score + PENALTY_BALANCE * Math.floor(deviation / 5);
}

// ---- Public API ----

/**
 * Encodes text (as UTF-8, byte mode) in the smallest version that holds it.
 * @returns {{size: number, modules: boolean[][], version: number, mask: number}}
 *   modules[row][column], true = dark; no quiet zone.
 */
export function qrMatrix(text, ecc = 'M') {
  if (typeof text !== 'string') throw new TypeError('QR code: text must be a string');
  checkEcc(ecc);
  const bytes = [...new TextEncoder().encode(text)];
  const version = chooseVersion(bytes.length, ecc);
  const layout = blockLayout(version, ecc);
  const symbol = new Grid(version);
  symbol.drawFunctionPatterns();
  symbol.placeCodewords(interleave(dataCodewords(bytes, version, layout.dataCodewords), layout));

  let best = null;
  for (let mask = 0; mask < MASKS.length; mask++) {
    symbol.applyMask(mask);
    symbol.drawFormatInformation(formatBits(ecc, mask));
    const score = penalty(symbol.dark);
    if (best === null || score < best.score) {
      best = { score, mask, modules: symbol.dark.map((row) => row.slice()) };
    }
    symbol.applyMask(mask); // XOR again to undo
  }
  return { size: symbol.size, modules: best.modules, version, mask: best.mask };
}

function escapeXml(text) {
  const entities = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
  return String(text).replace(/[&<>"']/g, (c) => entities[c]);
}

/** An SVG image of the symbol: one path of dark modules on white, viewBox in module units. */
export function qrSvg(text, { ecc = 'M', border = 4, title = 'QR code' } = {}) {
  if (!Number.isInteger(border) || border < 0) {
    throw new RangeError('QR code: border must be a non-negative integer');
  }
  const { size, modules } = qrMatrix(text, ecc);
  const extent = size + 2 * border;
  const path = [];
  modules.forEach((row, y) => {
    for (let x = 0; x < size;) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < size && row[x]) x++;
      path.push(`M${start + border} ${y + border}h${x - start}v1h-${x - start}z`);
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${extent} ${extent}" ` +
    `role="img" shape-rendering="crispEdges"><title>${escapeXml(title)}</title>` +
    `<rect width="${extent}" height="${extent}" fill="#fff"/>` +
    `<path fill="#000" d="${path.join('')}"/></svg>`;
}
