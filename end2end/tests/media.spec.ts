// What people do with an upload afterwards: a video uploaded through the page plays and
// seeks in Chromium from its link (the bucket answers the player's ranged requests 206), and
// Delete in My uploads removes the object and shows the entry as deleted. The same spec runs
// on the embedded bucket and, with PORTAL_TARGET=s3, on Garage.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { objectFile, openPortal, row } from './portal';

const onEmbeddedBucket = (process.env.PORTAL_TARGET ?? 'local') === 'local';
// 10 s of VP8 at 160x120 (a moving bar), with cues, so a player can seek: 6.8 KB.
const clip = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'clip.webm'));
const run = Date.now().toString(36);

test.beforeEach(({}, info) => {
  test.skip(info.project.name !== 'desktop-chromium', 'one browser is enough');
});

/** Uploads the clip with its original name into a folder of its own; returns its key. */
async function uploadClip(page: Page, name: string): Promise<string> {
  await openPortal(page);
  await page.getByLabel('Original name').check();
  await page.getByLabel('Destination folder').fill(`uploads/e2e-media-${run}/`);
  await page.getByLabel('Files').setInputFiles([{ name, mimeType: 'video/webm', buffer: clip }]);
  await page.getByRole('button', { name: 'Upload' }).click();
  const item = row(page, name);
  await expect(item.getByText('done', { exact: true })).toBeVisible();
  return (await item.getByRole('link').textContent())!.trim();
}

/** The portal's link to the entry of `key` in My uploads. */
async function myUploadsLink(page: Page, key: string): Promise<string> {
  await page.goto('/uploads');
  const entry = page.getByRole('row').filter({ hasText: key });
  await expect(entry).toHaveCount(1);
  return new URL((await entry.getByRole('link').getAttribute('href'))!, page.url()).href;
}

test('a video uploaded through the page plays and seeks from its link', async ({ page }) => {
  const key = await uploadClip(page, `clip-${run}.webm`);
  const link = await myUploadsLink(page, key);
  expect(new URL(link).pathname).toBe('/object');

  // The player's requests to the bucket, with what they asked for and got.
  const ranged: { range: string; status: number; contentRange: string }[] = [];
  page.on('response', async (response) => {
    const range = (await response.request().allHeaders())['range'];
    if (range) ranged.push({ range, status: response.status(), contentRange: response.headers()['content-range'] ?? '' });
  });
  // Followed as a reader follows it: Chromium opens the video in its own player. (The object's
  // sandbox runs no script of the page's, so each step is one synchronous call, polled.)
  await page.goto(link);
  const video = <T>(read: (v: HTMLVideoElement) => T) =>
    page.evaluate(`(${read.toString()})(document.querySelector('video'))`) as Promise<T>;
  await expect.poll(() => video((v) => v.readyState)).toBeGreaterThanOrEqual(1);
  expect(await video((v) => v.error?.message ?? null)).toBeNull();
  expect(await video((v) => Math.round(v.duration))).toBe(10);
  expect(await video((v) => v.videoWidth)).toBe(160);
  await video((v) => {
    v.muted = true;
    v.play();
  });
  await expect.poll(() => video((v) => v.currentTime)).toBeGreaterThan(0);
  await video((v) => {
    v.pause();
    v.currentTime = 7;
  });
  await expect.poll(() => video((v) => !v.seeking && v.readyState >= 2 && Math.round(v.currentTime))).toBe(7);
  // Chromium asked for ranges, and the bucket answered each with its part.
  expect(ranged.length).toBeGreaterThan(0);
  for (const answer of ranged) {
    expect(answer.status, JSON.stringify(answer)).toBe(206);
    expect(answer.contentRange).toMatch(new RegExp(`^bytes \\d+-\\d+/${clip.length}$`));
  }
});

test('Delete in My uploads removes the object and shows the entry as deleted', async ({ page }) => {
  const name = `delete-me-${run}.webm`;
  const key = await uploadClip(page, name);
  const link = await myUploadsLink(page, key);
  expect((await page.request.get(link)).status()).toBe(200);
  if (onEmbeddedBucket) expect(fs.existsSync(objectFile(key))).toBe(true);

  const entry = page.getByRole('row').filter({ hasText: key });
  // Two clicks: the first only opens the question.
  await entry.getByText('Delete', { exact: true }).click();
  await entry.getByRole('button', { name: 'Delete for good' }).click();
  await expect(page).toHaveURL(/\/uploads/);
  const after = page.getByRole('row').filter({ hasText: key });
  await expect(after).toHaveAttribute('data-state', 'deleted');
  await expect(after.getByRole('link')).toHaveCount(0);
  await expect(after.getByRole('button', { name: 'Delete for good' })).toHaveCount(0);
  // The object is gone from the storage, and the portal's link with it.
  expect((await page.request.get(link, { maxRedirects: 0 })).status()).toBe(404);
  if (onEmbeddedBucket) expect(fs.existsSync(objectFile(key))).toBe(false);
});
