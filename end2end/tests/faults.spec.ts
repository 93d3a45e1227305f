// The upload engine against real faults: a connection cut mid-body, policies that expire while
// files wait or in flight, cancelling, going offline, and the server killed mid-batch. Each
// test runs a portal of its own (release binary, embedded bucket) behind a cutting TCP proxy.
import { createHash, randomBytes } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { CuttingProxy, FaultPortal } from './fault-harness';
import { row, throttleUploads } from './portal';

test.beforeEach(({}, info) => {
  test.skip(info.project.name !== 'desktop-chromium' || process.env.PORTAL_TARGET === 's3',
    'one browser is enough; the embedded bucket only');
});

const SITE = 3230;
const BUCKET = 9330;
const PROXY = 9331;

let portal: FaultPortal;
let proxy: CuttingProxy;

async function startPortal(env: Record<string, string> = {}) {
  proxy = new CuttingProxy(PROXY, BUCKET);
  await proxy.start();
  portal = new FaultPortal({ sitePort: SITE, bucketPort: BUCKET, bucketUrl: `http://127.0.0.1:${PROXY}/`, env });
  await portal.start();
}

test.afterEach(async () => {
  await portal?.stop();
  await proxy?.stop();
});

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function file(name: string, size: number) {
  return { name, mimeType: 'application/octet-stream', buffer: randomBytes(size) };
}

async function open(page: Page, folder: string) {
  await page.goto(portal.url);
  await expect(page.getByRole('button', { name: 'Upload' })).toBeEnabled();
  await page.getByLabel('Original name').check();
  await page.getByLabel('Destination folder').fill(folder);
}

/** Counts the page's signing requests and its POSTs to the bucket (through the proxy). */
function watchRequests(page: Page) {
  const seen = { signs: 0, posts: 0, refusedExpired: 0 };
  page.on('request', (request) => {
    if (request.url().includes('/api/sign_uploads')) seen.signs += 1;
    if (request.method() === 'POST' && request.url().startsWith(`http://127.0.0.1:${PROXY}/`)) seen.posts += 1;
  });
  page.on('response', async (response) => {
    if (response.url().startsWith(`http://127.0.0.1:${PROXY}/`) && response.status() === 403) {
      if ((await response.text()).includes('Policy expired')) seen.refusedExpired += 1;
    }
  });
  return seen;
}

/** Records every state the file's row goes through (its data-state attribute). */
async function recordStates(page: Page, name: string) {
  await page.evaluate((name) => {
    const states: string[] = [];
    (window as any).__states = { ...(window as any).__states, [name]: states };
    const watch = () => {
      const item = [...document.querySelectorAll('li.upload')].find((li) => li.querySelector('.name')?.textContent === name);
      if (!item) return false;
      states.push(item.getAttribute('data-state')!);
      new MutationObserver(() => {
        const state = item.getAttribute('data-state')!;
        if (states[states.length - 1] !== state) states.push(state);
      }).observe(item, { attributes: true, attributeFilter: ['data-state'] });
      return true;
    };
    if (!watch()) {
      const list = new MutationObserver(() => watch() && list.disconnect());
      list.observe(document.body, { childList: true, subtree: true });
    }
  }, name);
  return async () => page.evaluate((name) => (window as any).__states[name] as string[], name);
}

async function expectStored(folder: string, files: { name: string; buffer: Buffer }[]) {
  expect(portal.stored(folder)).toEqual(files.map((f) => f.name).sort());
  for (const f of files) expect(sha(portal.read(`${folder}/${f.name}`))).toBe(sha(f.buffer));
  await expect.poll(() => portal.partials(), { timeout: 10_000 }).toEqual([]);
}

test('a connection cut in the middle of the body is retried and the stored bytes are equal', async ({ page }) => {
  await startPortal();
  await open(page, 'uploads/cut');
  const seen = watchRequests(page);
  const big = file('cut.bin', 3 << 20);
  // Twice: Chromium itself resends a request once when a connection it had opened ahead of
  // time breaks; the second cut reaches the page.
  proxy.cutAfter(1 << 20, 2);
  const states = await recordStates(page, 'cut.bin');
  await page.getByLabel('Files').setInputFiles(big);
  await page.getByRole('button', { name: 'Upload' }).click();
  const item = row(page, 'cut.bin');
  await expect(item.getByText('done', { exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(item.getByText('verified', { exact: true })).toBeVisible();
  expect(proxy.cuts).toBe(2);
  expect(await states()).toEqual(['queued', 'uploading', 'waiting', 'uploading', 'done']);
  expect(seen.posts).toBe(2);
  await expectStored('uploads/cut', [big]);
});

test('policies that expire are signed again, whether the page or the bucket notices', async ({ page }) => {
  await startPortal({ PORTAL_POLICY_TTL: '10', PORTAL_PARALLEL_UPLOADS: '1' });
  await open(page, 'uploads/ttl');
  const seen = watchRequests(page);
  // The bucket notices: the first POST is held back until its policy has expired.
  let held = false;
  await page.route(`http://127.0.0.1:${PROXY}/**`, async (route) => {
    if (route.request().method() === 'POST' && !held) {
      held = true;
      await new Promise((resolve) => setTimeout(resolve, 11_000));
    }
    await route.continue();
  });
  const late = file('late.bin', 1000);
  await page.getByLabel('Files').setInputFiles(late);
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(row(page, 'late.bin').getByText('done', { exact: true })).toBeVisible({ timeout: 30_000 });
  expect(seen.refusedExpired).toBe(1);
  expect(seen.signs).toBe(2);
  await page.unroute(`http://127.0.0.1:${PROXY}/**`);

  // The page notices: a slow queue, one file at a time; the last ones wait past their policy.
  const signsBefore = seen.signs;
  const setRate = await throttleUploads(page, 400 * 1024);
  const queue = [file('q1.bin', 2 << 20), file('q2.bin', 2 << 20), file('q3.bin', 2 << 20)];
  await page.getByLabel('Files').setInputFiles(queue);
  await page.getByRole('button', { name: 'Upload' }).click();
  for (const f of queue) {
    await expect(row(page, f.name).getByText('done', { exact: true })).toBeVisible({ timeout: 60_000 });
  }
  await setRate(-1);
  // One signing for the batch, and fresh ones for the files that waited.
  expect(seen.signs - signsBefore).toBeGreaterThanOrEqual(2);
  expect(seen.refusedExpired).toBe(1);
  await expectStored('uploads/ttl', [late, ...queue]);
});

test('cancelling stops the upload and stores nothing; Retry sends it again', async ({ page }) => {
  await startPortal();
  await open(page, 'uploads/cancel');
  const setRate = await throttleUploads(page, 256 * 1024);
  const files = [file('one.bin', 2 << 20), file('two.bin', 2 << 20), file('three.bin', 2 << 20)];
  await page.getByLabel('Files').setInputFiles(files);
  await page.getByRole('button', { name: 'Upload' }).click();
  const one = row(page, 'one.bin');
  await expect(one.getByText('uploading', { exact: true })).toBeVisible();
  await expect.poll(async () => Number(await one.getByRole('progressbar').getAttribute('aria-valuenow'))).toBeGreaterThan(5);
  await one.getByRole('button', { name: 'Cancel one.bin' }).click();
  await expect(one.getByText('cancelled', { exact: true })).toBeVisible();
  await expect(one.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '0');
  // Cancel all stops the rest.
  await page.getByRole('button', { name: 'Cancel all' }).click();
  for (const name of ['two.bin', 'three.bin']) {
    await expect(row(page, name).getByText('cancelled', { exact: true })).toBeVisible();
  }
  await expect(page.getByRole('status')).toHaveText('0 of 3 files uploaded, 3 cancelled.');
  // The bucket dropped what had arrived: nothing stored, nothing half-written.
  await expect.poll(() => portal.partials(), { timeout: 10_000 }).toEqual([]);
  expect(portal.stored('uploads/cancel')).toEqual([]);

  await setRate(-1);
  await one.getByRole('button', { name: 'Retry one.bin' }).click();
  await expect(one.getByText('done', { exact: true })).toBeVisible({ timeout: 30_000 });
  await expectStored('uploads/cancel', [files[0]]);
});

test('offline pauses the upload and online resumes it', async ({ page, context }) => {
  await startPortal();
  await open(page, 'uploads/offline');
  const setRate = await throttleUploads(page, 256 * 1024);
  const f = file('trip.bin', 2 << 20);
  await page.getByLabel('Files').setInputFiles(f);
  await page.getByRole('button', { name: 'Upload' }).click();
  const item = row(page, 'trip.bin');
  await expect(item.getByText('uploading', { exact: true })).toBeVisible();
  await context.setOffline(true);
  await expect(item.getByText('You are offline. The upload continues when the network is back.')).toBeVisible();
  await expect(item.getByText('waiting', { exact: true })).toBeVisible();
  await context.setOffline(false);
  await setRate(-1);
  await expect(item.getByText('done', { exact: true })).toBeVisible({ timeout: 30_000 });
  await expectStored('uploads/offline', [f]);
});

test('an upload that stalled while the page was hidden restarts when it is shown again', async ({ page }) => {
  await startPortal();
  await open(page, 'uploads/stall');
  const seen = watchRequests(page);
  // After 1 MiB nothing more gets through: the upload stalls.
  proxy.stallAfter(1 << 20);
  const f = file('stuck.bin', 24 << 20);
  await page.getByLabel('Files').setInputFiles(f);
  await page.getByRole('button', { name: 'Upload' }).click();
  const item = row(page, 'stuck.bin');
  await expect(item.getByText('uploading', { exact: true })).toBeVisible();
  await expect.poll(() => proxy.stalls).toBe(1);
  await page.waitForTimeout(7_000);
  // The phone comes back from another app.
  await page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  });
  await expect(item.getByText(/^The upload stopped moving\. Trying again in \d+ s \(attempt 2 of 6\)\.$/)).toBeVisible();
  await expect(item.getByText('done', { exact: true })).toBeVisible({ timeout: 30_000 });
  // The hash, which had waited for the stalled POST, went on and checked the second one.
  await expect(item.getByText('verified', { exact: true })).toBeVisible();
  expect(seen.posts).toBe(2);
  // The stalled request's partial file goes when its connection does.
  proxy.releaseStalled();
  await expectStored('uploads/stall', [f]);
});

test('the server killed during a batch: the queue recovers after the restart', async ({ page }) => {
  await startPortal({ PORTAL_PARALLEL_UPLOADS: '1' });
  await open(page, 'uploads/restart');
  const setRate = await throttleUploads(page, 512 * 1024);
  const files = [file('r1.bin', 2 << 20), file('r2.bin', 1 << 20), file('r3.bin', 1 << 20)];
  await page.getByLabel('Files').setInputFiles(files);
  await page.getByRole('button', { name: 'Upload' }).click();
  const first = row(page, 'r1.bin');
  await expect.poll(async () => Number(await first.getByRole('progressbar').getAttribute('aria-valuenow'))).toBeGreaterThan(10);
  await portal.kill();
  await expect(first.getByText('waiting', { exact: true })).toBeVisible();
  await page.waitForTimeout(1_500);
  await portal.start();
  await setRate(-1);
  for (const f of files) {
    const item = row(page, f.name);
    await expect(item.getByText('done', { exact: true })).toBeVisible({ timeout: 60_000 });
    await expect(item.getByText('verified', { exact: true })).toBeVisible();
  }
  await expectStored('uploads/restart', files);
});
