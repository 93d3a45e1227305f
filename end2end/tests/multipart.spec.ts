// Large files go up in parts: verified part by part, "finishing" while the bucket puts them
// together, resumed after a reload without sending again what the bucket holds (checked on the
// bucket's own log), aborted when cancelled.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { FaultPortal } from './fault-harness';
import { row, throttleUploads } from './portal';

test.beforeEach(({}, info) => {
  test.skip(info.project.name !== 'desktop-chromium' || process.env.PORTAL_TARGET === 's3',
    'one browser is enough; the embedded bucket only');
});

let portal: FaultPortal;

test.afterEach(async () => {
  await portal?.stop();
});

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A file on disk, so that picking it again after a reload gives the same file. */
function diskFile(name: string, size: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-parts-'));
  const file = path.join(dir, name);
  const data = randomBytes(size);
  fs.writeFileSync(file, data);
  return { file, data };
}

async function start(env: Record<string, string> = {}) {
  portal = new FaultPortal({
    sitePort: 3240,
    bucketPort: 9340,
    env: { PORTAL_MULTIPART_THRESHOLD: '1MiB', PORTAL_PART_SIZE: '256KiB', ...env },
  });
  await portal.start();
}

async function open(page: Page, folder: string) {
  await page.goto(portal.url);
  await expect(page.getByRole('button', { name: 'Upload' })).toBeEnabled();
  await page.getByLabel('Original name').check();
  await page.getByLabel('Destination folder').fill(folder);
}

/** Part numbers the bucket logged as stored, from log line `from` on. */
function partsStored(from = 0): number[] {
  // eslint-disable-next-line no-control-regex
  const text = portal.log.slice(from).join('').replace(/\x1b\[[0-9;]*m/g, '');
  return [...text.matchAll(/part stored.*? part=(\d+)/g)].map((m) => Number(m[1]));
}

function partsOnDisk(): number[] {
  const dir = path.join(portal.dataDir, 'portal-dev', 'multipart');
  const uploads = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  return uploads.flatMap((id) =>
    fs.readdirSync(path.join(dir, id)).filter((f) => /^\d+\.json$/.test(f)).map((f) => Number(f.slice(0, -5))));
}

test('a large file goes up in parts, each part verified', async ({ page }) => {
  await start();
  await open(page, 'uploads/parts');
  const { file, data } = diskFile('film.bin', 3 * 1024 * 1024 + 5);
  const puts: string[] = [];
  page.on('request', (r) => { if (r.method() === 'PUT') puts.push(r.url()); });
  // The bucket's answer to the completion is held back a moment: meanwhile the row says it is
  // finishing, with nothing left to cancel.
  await page.route('**/api/complete_multipart', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await route.continue();
  });
  await page.getByLabel('Files').setInputFiles(file);
  await page.getByRole('button', { name: 'Upload' }).click();
  const item = row(page, 'film.bin');
  await expect(item.getByText('finishing', { exact: true })).toBeVisible({ timeout: 60_000 });
  await expect(item.getByRole('button', { name: /cancel/i })).toHaveCount(0);
  await expect(item.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
  await expect(item.getByText('done', { exact: true })).toBeVisible({ timeout: 60_000 });
  await expect(item.getByText('verified', { exact: true })).toBeVisible();
  await expect(item.locator('.etag code')).toHaveText(/^"[0-9A-F]{32}-13"$/);
  expect(puts.length).toBe(13);
  expect(sha(portal.read('uploads/parts/film.bin'))).toBe(sha(data));
  expect(partsOnDisk()).toEqual([]);
});

test('a reload in the middle resumes: parts the bucket holds are not sent again', async ({ page }) => {
  await start({ PORTAL_PARALLEL_UPLOADS: '1' });
  await open(page, 'uploads/resume');
  const { file, data } = diskFile('long.bin', 4 * 1024 * 1024);
  const setRate = await throttleUploads(page, 384 * 1024);
  await page.getByLabel('Files').setInputFiles(file);
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect.poll(() => partsOnDisk().length, { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
  // The page goes away mid-upload (closing the tab, the phone killing the WebView).
  await page.reload();
  const before = partsOnDisk().sort((a, b) => a - b);
  const logAt = portal.log.length;
  expect(before.length).toBeGreaterThanOrEqual(4);
  expect(before.length).toBeLessThan(16);
  await setRate(-1);
  await expect(page.getByRole('button', { name: 'Upload' })).toBeEnabled();
  await page.getByLabel('Original name').check();
  await page.getByLabel('Destination folder').fill('uploads/resume');
  await page.getByLabel('Files').setInputFiles(file);
  await page.getByRole('button', { name: 'Upload' }).click();
  const item = row(page, 'long.bin');
  await expect(item.getByText('done', { exact: true })).toBeVisible({ timeout: 60_000 });
  await expect(item.getByText('verified', { exact: true })).toBeVisible();
  // The bucket's log after the reload: only the parts it did not hold.
  const after = partsStored(logAt).sort((a, b) => a - b);
  expect(after.filter((n) => before.includes(n))).toEqual([]);
  expect([...before, ...after].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  // Same key as before the reload (no "-1"): the upload was continued, not restarted.
  expect(portal.stored('uploads/resume')).toEqual(['long.bin']);
  expect(sha(portal.read('uploads/resume/long.bin'))).toBe(sha(data));
  expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('upload-portal.multipart.')))).toEqual([]);
});

test('cancelling a multipart upload aborts it: no parts, no object', async ({ page }) => {
  await start({ PORTAL_PARALLEL_UPLOADS: '1' });
  await open(page, 'uploads/cancelled');
  const { file } = diskFile('abandon.bin', 4 * 1024 * 1024);
  await throttleUploads(page, 384 * 1024);
  await page.getByLabel('Files').setInputFiles(file);
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect.poll(() => partsOnDisk().length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
  await row(page, 'abandon.bin').getByRole('button', { name: 'Cancel abandon.bin' }).click();
  await expect(row(page, 'abandon.bin').getByText('cancelled', { exact: true })).toBeVisible();
  await expect.poll(() => fs.readdirSync(path.join(portal.dataDir, 'portal-dev', 'multipart')).length, { timeout: 10_000 }).toBe(0);
  expect(portal.stored('uploads/cancelled')).toEqual([]);
  await expect.poll(() => portal.partials(), { timeout: 10_000 }).toEqual([]);
  expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('upload-portal.multipart.')))).toEqual([]);
});
