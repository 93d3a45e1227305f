import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { md5Hex, objectFile, openPortal, ledger, row, scenarioFiles, sha256, storedKeys, throttleUploads } from './portal';

const run = Date.now().toString(36);
// The same tests run against the embedded bucket and, with PORTAL_TARGET=s3, against Garage,
// where the bytes are checked through the links (its disk is not ours to read).
const onEmbeddedBucket = (process.env.PORTAL_TARGET ?? 'local') === 'local';

for (const mode of ['Random name', 'Original name'] as const) {
  test(`uploads four files with "${mode}" into a nested folder`, async ({ page }) => {
    const files = scenarioFiles();
    await openPortal(page);

    // Record every value each progress bar takes, to see it move while bytes go out.
    await page.evaluate(() => {
      const seen: Record<string, number[]> = {};
      (window as any).progressSeen = seen;
      new MutationObserver((records) => {
        for (const r of records) {
          const el = r.target as Element;
          const label = el.getAttribute('aria-label') ?? '';
          (seen[label] ??= []).push(Number(el.getAttribute('aria-valuenow')));
        }
      }).observe(document.body, { attributes: true, subtree: true, attributeFilter: ['aria-valuenow'] });
    });
    // Slow the upload link down so progress is observable on loopback.
    await throttleUploads(page, 8 * 1024 * 1024);

    await page.getByLabel(mode).check();
    const folder = `uploads/e2e-${run}-${test.info().project.name}/${mode === 'Random name' ? 'random' : 'original'}//nested/deeper`;
    await page.getByLabel('Destination folder').fill(folder);
    await page.getByLabel('Files').setInputFiles(files);
    for (const file of files) {
      await expect(row(page, file.name).getByText('queued', { exact: true })).toBeVisible();
    }
    await page.getByRole('button', { name: 'Upload' }).click();

    const expectedFolder = folder.replace('//', '/') + '/';
    const stored: { key: string; file: (typeof files)[number] }[] = [];
    for (const file of files) {
      const item = row(page, file.name);
      await expect(item.getByText('done', { exact: true })).toBeVisible({ timeout: 60_000 });
      await expect(item.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
      const link = item.getByRole('link');
      const key = (await link.textContent())!.trim();
      expect(key.startsWith(expectedFolder)).toBe(true);
      stored.push({ key, file });
      const name = key.slice(expectedFolder.length);
      if (mode === 'Random name') {
        const ext = file.name.split('.').pop()!.toLowerCase();
        expect(name).toMatch(new RegExp(`^[0-9a-f]{32}\\.${ext}$`));
      } else {
        expect(name).toBe(file.name);
      }
      // The bytes on the embedded bucket's disk are the original bytes...
      if (onEmbeddedBucket) expect(sha256(fs.readFileSync(objectFile(key)))).toBe(sha256(file.buffer));
      // ...and so are the bytes the link serves.
      const served = await page.request.get((await link.getAttribute('href'))!);
      expect(served.status()).toBe(200);
      expect(sha256(await served.body())).toBe(sha256(file.buffer));
      await expect(item.locator('.etag code')).toHaveText(/^"[0-9A-Fa-f]{32}"$/);
      // The page's own MD5 of the file equals the ETag the bucket answered.
      await expect(item.getByText('verified', { exact: true })).toBeVisible();
      if (process.env.OSS_CALLBACK_URL) {
        // The portal verified the bucket's callback and its reply reached this row.
        await expect(item.getByText('Recorded by the portal.')).toBeVisible();
      }
    }

    // Each upload is in the portal's ledger once, completed with the size and ETag the bucket
    // stored: by the bucket's signed callback when callbacks are on, else by the portal's HEAD.
    const records = await ledger(page.request);
    for (const { key, file } of stored) {
      const matching = records.filter((r) => r.key === key);
      expect(matching).toHaveLength(1);
      expect(Number(matching[0].stored_size)).toBe(file.buffer.length);
      expect(matching[0].etag.toUpperCase()).toBe(md5Hex(file.buffer));
      expect(matching[0].completed_by).toBe(process.env.OSS_CALLBACK_URL ? 'callback' : 'head');
    }

    const seen = (await page.evaluate(() => (window as any).progressSeen)) as Record<string, number[]>;
    const big = seen['Big Video.MP4 progress'] ?? [];
    expect(big.some((v) => v > 0 && v < 100), `intermediate progress values: ${big}`).toBe(true);
    expect(big.at(-1)).toBe(100);
    await page.screenshot({ path: `test-results/uploaded-${mode === 'Random name' ? 'random' : 'original'}.png`, fullPage: true });
  });
}

test('a bad folder shows a readable error and uploads nothing', async ({ page }) => {
  test.skip(!onEmbeddedBucket, 'counts files on the embedded bucket\'s disk');
  await openPortal(page);
  const before = storedKeys();
  await page.getByLabel('Destination folder').fill('../etc');
  await page.getByLabel('Files').setInputFiles([{ name: 'passwd', mimeType: 'text/plain', buffer: Buffer.from('x') }]);
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page.getByRole('alert')).toHaveText(
    'The destination folder must not contain ".." or "." as a folder name.',
  );
  await expect(row(page, 'passwd').getByText('queued', { exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Upload' })).toBeEnabled();
  expect(storedKeys()).toEqual(before);
});

test('three photos all named image.jpg keep distinct names', async ({ page }) => {
  await openPortal(page);
  await page.getByLabel('Original name').check();
  const phone = `uploads/e2e-${run}-${test.info().project.name}/phone`;
  await page.getByLabel('Destination folder').fill(phone);
  // Different photos (different sizes), one name, as iOS gives them.
  const photos = ['1', '22', '333'].map((i) => ({ name: 'image.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(`photo ${i}`) }));
  await page.getByLabel('Files').setInputFiles(photos);
  await page.getByRole('button', { name: 'Upload' }).click();
  const links = page.getByRole('listitem').getByRole('link');
  await expect(links).toHaveCount(3, { timeout: 30_000 });
  const keys = (await links.allTextContents()).map((k) => k.trim()).sort();
  expect(keys).toEqual([`${phone}/image-1.jpg`, `${phone}/image-2.jpg`, `${phone}/image.jpg`]);
  const hrefs = await links.evaluateAll((all) => all.map((a) => (a as HTMLAnchorElement).href));
  const contents = (await Promise.all(hrefs.map(async (href) => (await page.request.get(href)).text()))).sort();
  expect(contents).toEqual(['photo 1', 'photo 22', 'photo 333']);
});

test('what the bucket says it stored, when it differs from the file, fails the row as a mismatch', async ({ page }) => {
  test.skip(test.info().project.name !== 'desktop-chromium', 'desktop only');
  // Between the bucket and the page, change what the bucket answers it stored. The page checks
  // the CRC-64 OSS (and the embedded bucket) answers; where that header is hidden (a CORS rule
  // not exposing it) or absent (S3 stores), the file's MD5 against the ETag.
  type Headers = Record<string, string>;
  const crc = 'x-oss-hash-crc64ecma';
  const without = (headers: Headers, name: string) => Object.fromEntries(Object.entries(headers).filter(([n]) => n !== name));
  const wrongEtag = (headers: Headers) => ({ ...headers, etag: '"00000000000000000000000000000000"' });
  const cases: { name: string; tamper: (h: Headers) => Headers; shown: RegExp }[] = process.env.PORTAL_TARGET === 's3'
    ? [{ name: 'tampered.txt', tamper: wrongEtag, shown: /^Mismatch: the bucket stored different bytes \(ETag "0{32}"\)/ }]
    : [
      { name: 'tampered-crc.txt', tamper: (h) => ({ ...h, [crc]: '1' }), shown: /^Mismatch: the bucket stored different bytes \(CRC-64 1\)/ },
      { name: 'tampered-etag.txt', tamper: (h) => wrongEtag(without(h, crc)), shown: /^Mismatch: the bucket stored different bytes \(ETag "0{32}"\)/ },
      // The header hidden, nothing else changed: the MD5 read afterwards verifies the file.
      { name: 'hidden-crc.txt', tamper: (h) => without(h, crc), shown: /^verified$/ },
    ];
  for (const { name, tamper, shown } of cases) {
    await openPortal(page);
    const portalOrigin = new URL(page.url()).origin;
    await page.unrouteAll();
    await page.route('**/*', async (route) => {
      const request = route.request();
      if (request.method() !== 'POST' || request.url().startsWith(portalOrigin)) return route.continue();
      const response = await route.fetch();
      await route.fulfill({ response, headers: tamper(response.headers()) });
    });
    await page.getByLabel('Files').setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(`original bytes of ${name}`) });
    await page.getByRole('button', { name: 'Upload' }).click();
    const item = row(page, name);
    await expect(item.getByText(shown.source === '^verified$' ? 'done' : 'failed', { exact: true })).toBeVisible();
    await expect(item.getByText(shown)).toBeVisible();
  }
});

test('a large file is hashed as it goes up, never far ahead of the POST, and verified', async ({ page }) => {
  test.skip(test.info().project.name !== 'desktop-chromium', 'desktop only');
  // Where the page starts reading each slice of the file, against how far the POST has gone
  // at that moment: a hash racing ahead would read the whole file in the first moments.
  await page.addInitScript(() => {
    const seen = { sent: 0, ahead: [] as number[] };
    (window as any).hashSeen = seen;
    const slice = Blob.prototype.slice;
    Blob.prototype.slice = function (this: Blob, start?: number, end?: number, type?: string) {
      if (typeof start === 'number' && start > 0) seen.ahead.push(start - seen.sent);
      return slice.call(this, start, end, type);
    };
    const send = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
      this.upload.addEventListener('progress', (e) => { seen.sent = Math.max(seen.sent, e.loaded); });
      return send.call(this, body);
    };
  });
  await openPortal(page);
  await throttleUploads(page, 16 << 20);
  const file = { name: 'long take.mp4', mimeType: 'video/mp4', buffer: randomBytes(24 << 20) };
  await page.getByLabel('Files').setInputFiles(file);
  await page.getByRole('button', { name: 'Upload' }).click();
  const item = row(page, file.name);
  await expect(item.getByText('done', { exact: true })).toBeVisible({ timeout: 60_000 });
  await expect(item.getByText('verified', { exact: true })).toBeVisible();
  const ahead: number[] = await page.evaluate(() => (window as any).hashSeen.ahead);
  // Slices of 4 MiB, each started at most one slice ahead of the bytes sent; this test sees the
  // POST's progress one event late (the page's own listener runs first), hence 8 MiB.
  expect(ahead.length).toBeGreaterThanOrEqual(5);
  expect(Math.max(...ahead)).toBeLessThanOrEqual(8 << 20);
  // ...and while the POST was going, not after it: a hash left until the end would start
  // every slice behind the bytes sent.
  expect(ahead.filter((bytes) => bytes > 0).length).toBeGreaterThanOrEqual(ahead.length / 2);
  if (onEmbeddedBucket) {
    const key = (await item.getByRole('link').textContent())!.trim();
    expect(sha256(fs.readFileSync(objectFile(key)))).toBe(sha256(file.buffer));
  }
});

test('the same file picked twice is listed once', async ({ page }) => {
  await openPortal(page);
  // A file on disk, so both picks see the same modification time, as a person's would.
  const file = require('node:path').join(require('node:os').tmpdir(), 'twice.txt');
  fs.writeFileSync(file, 'same bytes');
  await page.getByLabel('Files').setInputFiles(file);
  await page.getByLabel('Files').setInputFiles(file);
  await expect(page.getByRole('alert')).toHaveText('\u201ctwice.txt\u201d is already in the list.');
  await expect(page.getByRole('listitem').filter({ hasText: 'twice.txt' })).toHaveCount(1);
});

test('files dropped onto the uploader or pasted into the page are listed and uploaded', async ({ page }) => {
  await openPortal(page);
  const folder = `uploads/e2e-${run}-${test.info().project.name}/dropped`;
  await page.getByLabel('Original name').check();
  await page.getByLabel('Destination folder').fill(folder);
  // A drag from the file manager: the drop carries its files in a DataTransfer.
  const dropped = await page.evaluateHandle(() => {
    const data = new DataTransfer();
    data.items.add(new File(['dropped one'], 'dropped-1.txt', { type: 'text/plain' }));
    data.items.add(new File(['dropped two'], 'dropped-2.txt', { type: 'text/plain' }));
    return data;
  });
  const zone = page.locator('.drop-zone');
  await zone.dispatchEvent('dragenter', { dataTransfer: dropped });
  await expect(zone).toHaveClass(/\bover\b/);
  await zone.dispatchEvent('dragover', { dataTransfer: dropped });
  await zone.dispatchEvent('drop', { dataTransfer: dropped });
  await expect(zone).not.toHaveClass(/\bover\b/);
  // A screenshot pasted with Ctrl+V.
  await page.evaluate(() => {
    const data = new DataTransfer();
    data.items.add(new File(['pasted'], 'pasted.png', { type: 'image/png' }));
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
  });
  for (const name of ['dropped-1.txt', 'dropped-2.txt', 'pasted.png']) {
    await expect(row(page, name).getByText('queued', { exact: true })).toBeVisible();
  }
  await page.getByRole('button', { name: 'Upload' }).click();
  for (const name of ['dropped-1.txt', 'dropped-2.txt', 'pasted.png']) {
    await expect(row(page, name).getByText('done', { exact: true })).toBeVisible({ timeout: 30_000 });
  }
  if (process.env.PORTAL_TARGET !== 's3') {
    expect(fs.readFileSync(objectFile(`${folder}/dropped-2.txt`), 'utf8')).toBe('dropped two');
    expect(fs.readFileSync(objectFile(`${folder}/pasted.png`), 'utf8')).toBe('pasted');
  }
});
