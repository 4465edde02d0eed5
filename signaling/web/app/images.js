// Preparing a photo for upload: decoded with its EXIF orientation applied, downscaled in the
// browser when its longest edge is above the limit, and a small thumbnail for the strip.

export const ACCEPTED_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'];

const THUMBNAIL_EDGE = 240;

function fit(width, height, maxEdge) {
  const longest = Math.max(width, height);
  if (longest <= maxEdge) return { width, height };
  const scale = maxEdge / longest;
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

function canvasOf(width, height) {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

async function encode(canvas, type, quality) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type, quality });
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('encoding failed'))), type,
      quality);
  });
}

// Draws `bitmap` at width x height. A large reduction goes in halving steps, which keeps fine
// detail from aliasing where a single bilinear pass would skip source pixels.
function draw(bitmap, width, height) {
  let source = bitmap;
  let w = bitmap.width;
  let h = bitmap.height;
  while (w / 2 >= width && h / 2 >= height) {
    w = Math.round(w / 2);
    h = Math.round(h / 2);
    const step = canvasOf(w, h);
    const ctx = step.getContext('2d');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(source, 0, 0, w, h);
    source = step;
  }
  const canvas = canvasOf(width, height);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, 0, 0, width, height);
  return canvas;
}

// -> {blob, mime, width, height, thumbnail (Blob), resized (bool)}. Throws for a file that is not
// an accepted image or cannot be decoded.
export async function prepareImage(file, maxEdge) {
  if (!ACCEPTED_TYPES.includes(file.type)) {
    throw new Error(`${file.name}: not a JPEG, PNG, WebP or GIF image`);
  }
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  try {
    const { width, height } = fit(bitmap.width, bitmap.height, maxEdge);
    const resized = width !== bitmap.width || height !== bitmap.height;
    // Small enough: the file goes as it is (a GIF keeps its animation; browsers display a JPEG
    // with its EXIF orientation). Larger: re-encoded upright, without EXIF.
    let blob = file;
    if (resized) {
      const type = file.type === 'image/jpeg' ? 'image/jpeg' : 'image/webp';
      blob = await encode(draw(bitmap, width, height), type, 0.9);
    }
    const thumb = fit(bitmap.width, bitmap.height, THUMBNAIL_EDGE);
    const thumbnail = await encode(draw(bitmap, thumb.width, thumb.height), 'image/jpeg', 0.8);
    return { blob, mime: blob.type || file.type, width, height, thumbnail, resized };
  } finally {
    bitmap.close();
  }
}
