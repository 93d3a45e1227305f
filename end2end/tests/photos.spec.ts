// Photos from phones (#16), the way people pick them: picked images show thumbnails, other files
// a badge of their type (an image that does not decode: IMG); an iPhone's HEIC arrives with no
// type (or application/octet-stream on Windows) and is stored as image/heic, decided by the
// server from its name; "Remove location from photos" takes the GPS data out of a real JPEG's
// EXIF without touching a byte of its pixels (unticked, the photo is stored as it was); "Photo
// size: Smaller" redraws a 12 MP photo at 2560 px upright, "Original" stores it as picked; a
// thousand files picked at once are listed without freezing the page, and the picker then adds to
// the list. Runs on the desktop and in WeChat on Android.
import { expect, test, type Page } from '@playwright/test';
import { FaultPortal } from './fault-harness';
import { jpeg, openPortal, row, scenarioFiles } from './portal';

const run = Date.now().toString(36);

/** `photo` with an EXIF segment as a phone writes one, right after its start: IFD0 (Make,
 * Orientation, the GPS pointer) and a GPS IFD (latitude 30°15'43.21" N, longitude 120°9'8.76" E,
 * altitude), little-endian. */
function withLocation(photo: Buffer): Buffer {
  const tiff = Buffer.alloc(122 + 7 * 8);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4);
  let at = 8;
  const entry = (tag: number, kind: number, count: number, value: (b: Buffer, at: number) => void) => {
    tiff.writeUInt16LE(tag, at);
    tiff.writeUInt16LE(kind, at + 2);
    tiff.writeUInt32LE(count, at + 4);
    value(tiff, at + 8);
    at += 12;
  };
  tiff.writeUInt16LE(3, at);
  at += 2;
  entry(0x010f, 2, 6, (b, i) => b.writeUInt32LE(50, i));
  entry(0x8825, 4, 1, (b, i) => b.writeUInt32LE(56, i));
  entry(0x0112, 3, 1, (b, i) => b.writeUInt16LE(1, i));
  at += 4;
  tiff.write('Apple\0', 50, 'latin1');
  at = 56;
  tiff.writeUInt16LE(5, at);
  at += 2;
  entry(1, 2, 2, (b, i) => b.write('N\0', i, 'latin1'));
  entry(2, 5, 3, (b, i) => b.writeUInt32LE(122, i));
  entry(3, 2, 2, (b, i) => b.write('E\0', i, 'latin1'));
  entry(4, 5, 3, (b, i) => b.writeUInt32LE(146, i));
  entry(6, 5, 1, (b, i) => b.writeUInt32LE(170, i));
  [[30, 1], [15, 1], [4321, 100], [120, 1], [9, 1], [876, 100], [42, 1]].forEach(([n, d], k) => {
    tiff.writeUInt32LE(n, 122 + 8 * k);
    tiff.writeUInt32LE(d, 126 + 8 * k);
  });
  const app1 = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(app1.length + 2, 2);
  return Buffer.concat([photo.subarray(0, 2), head, app1, photo.subarray(2)]);
}

/** The tags of IFD0 of the EXIF segment `withLocation` put at the start of `photo`. */
function ifd0Tags(photo: Buffer): number[] {
  const tiff = photo.subarray(12);
  const ifd0 = tiff.readUInt32LE(4);
  return Array.from({ length: tiff.readUInt16LE(ifd0) }, (_, i) => tiff.readUInt16LE(ifd0 + 2 + 12 * i));
}

/** A stored object's bytes, read as a reader does (the portal's link redirects to the bucket). */
async function stored(page: Page, key: string) {
  const response = await page.request.get(`/object?key=${encodeURIComponent(key)}`);
  expect(response.status()).toBe(200);
  return { type: response.headers()['content-type'], body: await response.body() };
}

test('picked images show a thumbnail, other files a badge of their type', async ({ page }) => {
  await openPortal(page);
  const photo = await jpeg(page);
  const png = scenarioFiles().find((f) => f.name === 'pixel.png')!;
  await page.getByLabel('Files').setInputFiles([
    { name: 'beach.jpg', mimeType: 'image/jpeg', buffer: photo },
    png,
    { name: 'menu.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') },
    { name: 'IMG_0003.HEIC', mimeType: '', buffer: Buffer.from('heic') },
  ]);
  for (const name of ['beach.jpg', 'pixel.png']) {
    const thumb = row(page, name).locator('img.thumb');
    await expect(thumb).toHaveAttribute('src', /^blob:/);
    // Decoded from the picked file itself.
    await expect.poll(() => thumb.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
  }
  await expect(row(page, 'menu.pdf').locator('img')).toHaveCount(0);
  await expect(row(page, 'menu.pdf').locator('.thumb')).toHaveText('PDF');
  await expect(row(page, 'IMG_0003.HEIC').locator('img')).toHaveCount(0);
  await expect(row(page, 'IMG_0003.HEIC').locator('.thumb')).toHaveText('HEIC');
});

test('a picked image that does not decode shows a badge, not a broken image', async ({ page }) => {
  await openPortal(page);
  await page.getByLabel('Files').setInputFiles([
    { name: 'scan.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not a JPEG at all') },
    { name: 'beach.jpg', mimeType: 'image/jpeg', buffer: await jpeg(page) },
  ]);
  const broken = row(page, 'scan.jpg').locator('img.thumb');
  const photo = row(page, 'beach.jpg').locator('img.thumb');
  await broken.scrollIntoViewIfNeeded();
  await expect
    .poll(() => broken.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 0))
    .toBe(true);
  await expect.poll(() => photo.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  // Decoded and drawn before the pictures are taken (its decoding is asynchronous).
  await photo.evaluate((img: HTMLImageElement) => img.decode());
  expect(await broken.evaluate((img) => getComputedStyle(img, '::after').content)).toBe('"IMG"');
  // What each thumbnail looks like with the badge's drawing turned off: the broken-image icon
  // for the one, the photo for the other.
  const shown = { broken: await broken.screenshot(), photo: await photo.screenshot() };
  // (The page's own style sheet, through the CSSOM: its CSP refuses a style element.)
  const badges = (on: boolean) =>
    page.evaluate((on) => {
      const sheet = [...document.styleSheets].find((s) => s.href?.includes('/pkg/'));
      if (!sheet) throw new Error("the page's own style sheet (/pkg/) is not loaded");
      if (on) sheet.deleteRule(sheet.cssRules.length - 1);
      else sheet.insertRule('img.thumb::after { display: none !important; }', sheet.cssRules.length);
    }, on);
  await badges(false);
  expect(await broken.screenshot()).not.toEqual(shown.broken);
  expect(await photo.screenshot()).toEqual(shown.photo);
  await badges(true);
  expect(await broken.screenshot()).toEqual(shown.broken);
});

test('a HEIC photo picked without a type is stored as image/heic', async ({ page }, info) => {
  await openPortal(page);
  await page.getByLabel('Original name').check();
  await page.getByLabel('Destination folder').fill(`uploads/e2e-photos-${run}-${info.project.name}/`);
  // Not a real HEIC: the type is decided from the name, and the bytes are stored as they are.
  const photos = [
    { name: 'IMG_0001.HEIC', mimeType: '', buffer: Buffer.from('heic bytes, as an iPhone sends them') },
    { name: 'IMG_0002.heic', mimeType: 'application/octet-stream', buffer: Buffer.from('heic from Windows') },
  ];
  await page.getByLabel('Files').setInputFiles(photos);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  for (const { name, buffer } of photos) {
    const item = row(page, name);
    await expect(item.getByText('done', { exact: true })).toBeVisible();
    const key = (await item.getByRole('link').textContent())!.trim();
    const object = await stored(page, key);
    expect(object.type).toBe('image/heic');
    expect(object.body).toEqual(buffer);
  }
});

test('"Remove location from photos" takes the GPS out of a JPEG and leaves its pixels', async ({ page }, info) => {
  await openPortal(page);
  const photo = withLocation(await jpeg(page));
  const app1End = 4 + photo.readUInt16BE(4);
  expect(ifd0Tags(photo)).toContain(0x8825);
  await page.getByLabel('Original name').check();
  await page.getByLabel('Destination folder').fill(`uploads/e2e-location-${run}-${info.project.name}/`);
  const box = page.getByLabel('Remove location from photos');
  await expect(box).not.toBeChecked();

  // Unticked: the photo is stored exactly as picked, location and all.
  await page.getByLabel('Files').setInputFiles([{ name: 'kept.jpg', mimeType: 'image/jpeg', buffer: photo }]);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(row(page, 'kept.jpg').getByText('done', { exact: true })).toBeVisible();
  const kept = await stored(page, (await row(page, 'kept.jpg').getByRole('link').textContent())!.trim());
  expect(kept.body.equals(photo)).toBe(true);

  // Ticked: the same photo goes up without its place; checked end to end as always.
  await box.check();
  await page.getByLabel('Files').setInputFiles([{ name: 'placeless.jpg', mimeType: 'image/jpeg', buffer: photo }]);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  const item = row(page, 'placeless.jpg');
  await expect(item.getByText('done', { exact: true })).toBeVisible();
  if ((process.env.PORTAL_TARGET ?? 'local') === 'local') {
    await expect(item.getByText('verified', { exact: true })).toBeVisible();
  }
  const placeless = (await stored(page, (await item.getByRole('link').textContent())!.trim())).body;
  expect(placeless.length).toBe(photo.length);
  // No GPS pointer in IFD0 any more, Make and Orientation still there; the coordinates' bytes
  // are gone from the segment, not only unlinked.
  expect(ifd0Tags(placeless)).toEqual([0x010f, 0x0112]);
  const latitude = Buffer.from([0xe1, 0x10, 0, 0, 100, 0, 0, 0]);
  expect(photo.subarray(0, app1End).includes(latitude)).toBe(true);
  expect(placeless.subarray(0, app1End).includes(latitude)).toBe(false);
  // Every byte after the EXIF segment (the tables and the scan: the pixels) is the same.
  expect(placeless.subarray(app1End).equals(photo.subarray(app1End))).toBe(true);
});

/** A 4032 × 3024 JPEG as a phone held upright writes it: the sensor's landscape pixels with a
 * red corner where the top left of the scene is, and EXIF Orientation 6 (turn 90° clockwise to
 * show), in an EXIF segment of IFD0 alone, big-endian. */
async function uprightPhoto(page: Page): Promise<Buffer> {
  const base64 = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(4032, 3024);
    const context = canvas.getContext('2d')!;
    const gradient = context.createLinearGradient(0, 0, 4032, 3024);
    gradient.addColorStop(0, '#1d5e8c');
    gradient.addColorStop(1, '#e6c36a');
    context.fillStyle = gradient;
    context.fillRect(0, 0, 4032, 3024);
    // Orientation 6 shows the stored pixels turned clockwise: the stored bottom-left corner
    // is the top left the viewer sees.
    context.fillStyle = '#ff0000';
    context.fillRect(0, 3024 - 600, 600, 600);
    const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.95 });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  });
  const photo = Buffer.from(base64, 'base64');
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

test('"Photo size: Smaller" redraws a 12 MP photo upright at 2560 px; "Original" keeps it as it is', async ({ page }, info) => {
  await openPortal(page);
  const photo = await uprightPhoto(page);
  await page.getByLabel('Original name').check();
  await page.getByLabel('Destination folder').fill(`uploads/e2e-size-${run}-${info.project.name}/`);
  const size = page.getByLabel('Photo size');
  await expect(size).toHaveValue('o');

  // Original: stored byte for byte.
  await page.getByLabel('Files').setInputFiles([{ name: 'as-shot.jpg', mimeType: 'image/jpeg', buffer: photo }]);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(row(page, 'as-shot.jpg').getByText('done', { exact: true })).toBeVisible();
  const original = await stored(page, (await row(page, 'as-shot.jpg').getByRole('link').textContent())!.trim());
  expect(original.body.equals(photo)).toBe(true);

  // Smaller: redrawn in the browser, signed and checked for the bytes that went up.
  await size.selectOption('s');
  await page.getByLabel('Files').setInputFiles([{ name: 'smaller.jpg', mimeType: 'image/jpeg', buffer: photo }]);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  const item = row(page, 'smaller.jpg');
  await expect(item.getByText('done', { exact: true })).toBeVisible();
  if ((process.env.PORTAL_TARGET ?? 'local') === 'local') {
    await expect(item.getByText('verified', { exact: true })).toBeVisible();
  }
  const smaller = await stored(page, (await item.getByRole('link').textContent())!.trim());
  expect(smaller.type).toBe('image/jpeg');
  expect(smaller.body.length).toBeLessThan(photo.length);
  // Decoded as any viewer decodes it (EXIF orientation honoured): portrait, 2560 px tall, and
  // the red corner at the top left, where the phone's owner saw it. Drawn upright, the stored
  // photo carries no orientation left to apply twice.
  const seen = await page.evaluate(async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }), { imageOrientation: 'from-image' });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d')!;
    context.drawImage(bitmap, 0, 0);
    const at = (x: number, y: number) => Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3));
    return { width: bitmap.width, height: bitmap.height, topLeft: at(40, 40), topRight: at(bitmap.width - 40, 40) };
  }, smaller.body.toString('base64'));
  expect([seen.width, seen.height]).toEqual([1920, 2560]);
  expect(seen.topLeft[0]).toBeGreaterThan(200);
  expect(seen.topLeft[1]).toBeLessThan(60);
  expect(seen.topRight[0]).toBeLessThan(200);
});

test('a thousand files picked at once are listed without a long task', async ({ page }, info) => {
  test.skip(process.env.PORTAL_TARGET === 's3', 'the page alone: the embedded bucket is enough');
  const portal = new FaultPortal({
    sitePort: 3290,
    bucketPort: 9390,
    env: { PORTAL_MAX_FILES: '1000' },
  });
  await portal.start();
  try {
    await page.goto(portal.url);
    await expect(page.getByRole('button', { name: 'Upload', exact: true })).toBeEnabled();
    // A thousand photos as a picker hands them over (made in the page first, so that only
    // what the page does with them is timed), Chromium's long-task observer, then the pick.
    await page.evaluate(() => {
      const picked = new DataTransfer();
      for (let i = 0; i < 1000; i++) {
        const name = `photo-${String(i).padStart(4, '0')}.jpg`;
        picked.items.add(new File([`photo ${i}`], name, { type: 'image/jpeg' }));
      }
      (window as any).picked = picked.files;
    });
    await page.evaluate(() => {
      (window as any).longTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) (window as any).longTasks.push(entry.duration);
      }).observe({ type: 'longtask' });
    });
    await page.evaluate(() => {
      const input = document.querySelector('#files') as HTMLInputElement;
      input.files = (window as any).picked;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await expect(page.locator('li.upload')).toHaveCount(1000);
    await expect(page.locator('.summary')).toHaveText('1000 files waiting to upload.');
    const tasks: number[] = await page.evaluate(() => (window as any).longTasks);
    info.annotations.push({ type: 'long tasks (ms)', description: tasks.map(Math.round).join(', ') || 'none' });
    expect(Math.max(0, ...tasks), `long tasks: ${tasks.map(Math.round).join(', ')} ms`).toBeLessThan(200);
    // Rounds: the picker now adds to the list, within the portal's limit of files at a time.
    await expect(page.getByText('Add more files')).toBeVisible();
    await page.getByLabel('Files').setInputFiles(['a', 'b', 'c'].map((n) => ({
      name: `one-more-${n}.jpg`, mimeType: 'image/jpeg', buffer: Buffer.from(`one more ${n}`),
    })));
    // Said once, however many files it turns away.
    await expect(page.getByRole('alert')).toHaveText('Upload at most 1000 files at a time.');
    await expect(page.locator('li.upload')).toHaveCount(1000);
  } finally {
    await portal.stop();
  }
});
