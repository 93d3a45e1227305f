// "Photo size: Smaller" on phone-sized photos, in headless Chromium at 4× CPU slowdown (DevTools'
// preset for a mid-range phone), and prints JSON figures:
//   node bench/photos.mjs <portal url>
// The page makes the photos first, at full speed: gradients with sensor-like noise, encoded at
// quality 0.92 as a camera app does. 12 MP landscape, 12 MP portrait (stored landscape with EXIF
// orientation 6), 9 MP 16:9, 8 MP, and 2 MP (under the edge: sent as it is). Then they are
// picked, "Smaller" is chosen and Upload pressed under the slowdown. For each photo: the bytes
// picked, the bytes stored, and how long its row said "making smaller" (timed in the page).
import { createRequire } from 'node:module';
const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('@playwright/test');

const [url] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const page = await browser.newPage();
await page.goto(url);
await page.locator('.uploader:not(.fallback) button[type="submit"]:not([disabled])').waitFor();

const PHOTOS = [
  ['12mp-landscape.jpg', 4032, 3024, false],
  ['12mp-portrait.jpg', 4032, 3024, true],
  ['9mp-wide.jpg', 4000, 2250, false],
  ['8mp.jpg', 3264, 2448, false],
  ['2mp.jpg', 1600, 1200, false],
];

/** A JPEG of `width` × `height` made in the page, as base64. */
const makePhoto = (width, height) => page.evaluate(async ([width, height]) => {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  const image = context.createImageData(width, height);
  const data = image.data;
  let seed = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const noise = (seed >> 16) % 24 - 12;
      const i = 4 * (y * width + x);
      data[i] = 40 + (180 * x) / width + noise;
      data[i + 1] = 90 + (120 * y) / height + noise;
      data[i + 2] = 160 - (100 * (x + y)) / (width + height) + noise;
      data[i + 3] = 255;
    }
  }
  context.putImageData(image, 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}, [width, height]);

/** `photo` with EXIF orientation 6 (show turned clockwise), as a phone held upright writes it. */
function upright(photo) {
  const tiff = Buffer.alloc(26);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4);
  tiff.writeUInt16BE(1, 8);
  tiff.writeUInt16BE(0x0112, 10);
  tiff.writeUInt16BE(3, 12);
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt16BE(6, 18);
  const app1 = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(app1.length + 2, 2);
  return Buffer.concat([photo.subarray(0, 2), head, app1, photo.subarray(2)]);
}

const files = [];
for (const [name, width, height, turned] of PHOTOS) {
  const photo = Buffer.from(await makePhoto(width, height), 'base64');
  files.push({ name, mimeType: 'image/jpeg', buffer: turned ? upright(photo) : photo });
}

await page.getByLabel('Original name').check();
await page.getByLabel('Destination folder').fill(`bench-photos-${Date.now().toString(36)}/`);
await page.getByLabel('Photo size').selectOption('s');
await page.getByLabel('Files').setInputFiles(files);
// Each row's time in "making smaller", from the row's own state changes.
await page.evaluate(() => {
  window.shrinking = {};
  new MutationObserver((changes) => {
    const now = performance.now();
    for (const change of changes) {
      const item = change.target;
      const name = item.querySelector('.name')?.textContent;
      if (item.dataset.state === 'shrinking') window.shrinking[name] = { from: now };
      else if (window.shrinking[name] && !window.shrinking[name].to) window.shrinking[name].to = now;
    }
  }).observe(document.querySelector('ul.uploads') ?? document.body, {
    subtree: true, attributes: true, attributeFilter: ['data-state'],
  });
});
const cdp = await page.context().newCDPSession(page);
await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
const started = Date.now();
await page.getByRole('button', { name: 'Upload', exact: true }).click();
await page.waitForFunction((n) => document.querySelectorAll('li.upload[data-state="done"]').length === n,
  files.length, { timeout: 600_000, polling: 200 });
const seconds = (Date.now() - started) / 1000;
await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
const times = await page.evaluate(() => window.shrinking);
const photos = [];
for (const { name, buffer } of files) {
  const key = (await page.locator('li.upload', { hasText: name }).getByRole('link').textContent()).trim();
  const stored = await page.request.get(new URL(`/object?key=${encodeURIComponent(key)}`, url).href);
  const body = await stored.body();
  const size = await page.evaluate(async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes]), { imageOrientation: 'from-image' });
    return `${bitmap.width}×${bitmap.height}`;
  }, body.toString('base64'));
  const time = times[name];
  photos.push({
    name,
    picked_bytes: buffer.length,
    stored_bytes: body.length,
    stored_size: size,
    shrinking_ms: time?.to ? Math.round(time.to - time.from) : null,
  });
}
await browser.close();
console.log(JSON.stringify({ seconds, photos }));
