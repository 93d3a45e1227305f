// A batch survives a reload (#16): WeChat on Android kills the page behind the camera or the
// picker, or the reader closes it, in the middle of a batch. The page that opens again lists the
// batch (finished files done, with their keys; the rest "pick it again") and says how many did
// not finish; picking the files again sends exactly those, and never a finished one twice (the
// reader is told it is in the list already).
// Runs on the desktop and in WeChat on Android.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, test } from '@playwright/test';
import { openPortal, row } from './portal';

const run = Date.now().toString(36);

test('a reload in the middle of a batch, then the files picked again, sends exactly the missing ones', async ({ page }, info) => {
  await openPortal(page);
  const portal = new URL(page.url()).origin;
  const toBucket = (request: { method(): string; url(): string }) =>
    request.method() === 'POST' && new URL(request.url()).origin !== portal;
  const folder = `e2e-reload-${run}-${info.project.name}/`;
  await page.getByLabel('Destination folder').fill(folder);
  // Files on disk, as a gallery holds them: picked again, each has the same name, size and date.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-reload-'));
  const files = Array.from({ length: 10 }, (_, i) => {
    const name = `batch-${i}.txt`;
    const buffer = Buffer.from(`file ${i} of batch ${run}`);
    fs.writeFileSync(path.join(dir, name), buffer);
    return { name, buffer };
  });
  const paths = files.map(({ name }) => path.join(dir, name));
  // The bucket takes the first three files; the others hang, as on a dead mobile network,
  // until the page goes away.
  let let_through = 3;
  await page.route((url) => url.origin !== portal, async (route) => {
    if (!toBucket(route.request()) || let_through-- > 0) {
      await route.continue();
    }
  });
  await page.getByLabel('Files').setInputFiles(paths);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(page.locator('li.upload[data-state="done"]')).toHaveCount(3);

  // The page is killed and opened again. The hanging POSTs die with it: the routes are lifted
  // only then (lifted before, they let the held POSTs go on, and some of them finished).
  await page.reload();
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await expect(page.getByRole('button', { name: 'Upload', exact: true })).toBeEnabled();
  await expect(page.getByRole('status')).toHaveText('7 of 10 files not finished: pick them again to continue.');
  await expect(page.locator('li.upload')).toHaveCount(10);
  await expect(page.locator('li.upload[data-state="done"]')).toHaveCount(3);
  await expect(page.locator('li.upload[data-state="missing"]')).toHaveCount(7);
  await expect(page.locator('li.upload[data-state="missing"]').first()).toContainText('pick it again');
  await expect(page.getByLabel('Destination folder')).toHaveValue(folder);
  const finished = await page.locator('li.upload[data-state="done"] .name').allTextContents();

  // All ten picked again (a reader does not remember which finished): the seven go up, the
  // three stored are not sent twice, and nothing is listed twice.
  const posts: string[] = [];
  page.on('request', (request) => {
    if (toBucket(request)) posts.push(request.url());
  });
  await page.getByLabel('Files').setInputFiles(paths);
  await expect(page.locator('li.upload')).toHaveCount(10);
  await expect(page.getByRole('status')).toHaveText('7 files waiting to upload.');
  // The reader hears which were stored already.
  for (const name of finished) {
    await expect(page.getByRole('alert')).toContainText(`“${name}” is already in the list.`);
  }
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(page.locator('li.upload[data-state="done"]')).toHaveCount(10);
  expect(posts).toHaveLength(7);
  const keys = new Set<string>();
  for (const { name, buffer } of files) {
    const key = (await row(page, name).getByRole('link').textContent())!.trim();
    expect(key).toContain(folder);
    keys.add(key);
    const stored = await page.request.get(`/object?key=${encodeURIComponent(key)}`);
    expect(stored.status()).toBe(200);
    expect((await stored.body()).equals(buffer), name).toBe(true);
  }
  expect(keys.size).toBe(10);
  expect(finished).toHaveLength(3);
  // Every file stored: the journal is gone, and the next visit starts afresh.
  expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('upload-portal.batch.')))).toEqual([]);
  await page.reload();
  await expect(page.getByRole('button', { name: 'Upload', exact: true })).toBeEnabled();
  await expect(page.locator('li.upload')).toHaveCount(0);
});
