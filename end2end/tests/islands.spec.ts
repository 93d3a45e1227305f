// Light pages: the uploader is the one island of '/'; every other page is server-rendered HTML
// that loads no WASM and works without JavaScript; the language switch comes back to the page
// it was used on; what '/' downloads stays within its byte budget.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { FaultPortal, usersFile } from './fault-harness';
import { jpeg } from './portal';

/**
 * '/' as served (brotli): WASM + JS + CSS. A ratchet toward the 110 KB goal of issue #14: lower
 * it whenever a cut lands, never raise it without a reason in the commit. Raised once, for #16
 * (photos and phones), by the 8 KB that issue allows for all of it (199,638 B before it + 8,192);
 * lowered when #16 ended at 201,531 B, the island's words having become plain text.
 */
const HOME_BUDGET = 201_800;
/** A page without the uploader, as served (brotli): HTML + CSS. */
const PAGE_BUDGET = 15_000;

test.beforeEach(({}, info) => {
  test.skip(info.project.name !== 'desktop-chromium' || process.env.PORTAL_TARGET === 's3',
    'one browser is enough; the embedded bucket only');
});

let portal: FaultPortal | undefined;

test.afterEach(async () => {
  await portal?.stop();
  portal = undefined;
});

/** A portal with accounts: alice, and root who is an admin. */
async function start(): Promise<FaultPortal> {
  const users = usersFile({ alice: 'alice-secret-1', root: { password: 'root-secret-1', root: 'uploads/', admin: true } });
  portal = new FaultPortal({
    sitePort: 3260,
    bucketPort: 9360,
    env: { PORTAL_ACCESS: 'users', PORTAL_USERS_FILE: users },
  });
  await portal.start();
  return portal;
}

async function signIn(page: Page, url: string, name: string, password: string) {
  await page.goto(url);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The bytes a browser that accepts brotli receives for `url` (as sent, not decoded). */
function servedBytes(url: string, cookie = ''): Promise<{ bytes: number; encoding: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { 'Accept-Encoding': 'br', Accept: 'text/html,*/*', Cookie: cookie } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const raw = Buffer.concat(chunks);
          const encoding = String(response.headers['content-encoding'] ?? '');
          const body = encoding === 'br' ? zlib.brotliDecompressSync(raw).toString() : raw.toString();
          expect(response.statusCode, url).toBe(200);
          resolve({ bytes: raw.length, encoding, body });
        });
      })
      .on('error', reject);
  });
}

/** The page's own assets (stylesheet, module, WASM), as absolute URLs. */
function assets(html: string, base: string): string[] {
  return [...html.matchAll(/<link[^>]+href="(\/pkg\/[^"]+)"/g)].map((m) => new URL(m[1], base).href);
}

/** HTML + assets of a page, as served. */
async function pageWeight(url: string, cookie = '') {
  const page = await servedBytes(url, cookie);
  const parts: Record<string, number> = { html: page.bytes };
  for (const asset of assets(page.body, url)) {
    const served = await servedBytes(asset);
    expect(served.encoding, asset).toBe('br');
    parts[path.extname(asset).slice(1)] = served.bytes;
  }
  return parts;
}

test("'/' downloads the uploader within its byte budget", async ({ baseURL }) => {
  const parts = await pageWeight(`${baseURL}/`);
  console.log(`'/' as served (brotli): ${JSON.stringify(parts)}`);
  expect(Object.keys(parts).sort()).toEqual(['css', 'html', 'js', 'wasm']);
  expect(parts.wasm + parts.js + parts.css).toBeLessThanOrEqual(HOME_BUDGET);
});

test('pages other than the uploader load no WASM and stay small', async ({ page, context }) => {
  const { url } = await start();
  const scripts: string[] = [];
  page.on('request', (request) => {
    if (/\.(wasm|js)$/.test(new URL(request.url()).pathname)) scripts.push(request.url());
  });
  // Signed out, '/' is the sign-in form: no uploader, nothing to hydrate.
  await page.goto(url);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  expect(scripts).toEqual([]);
  const signInPage = await pageWeight(`${url}/`);
  console.log(`sign-in page as served (brotli): ${JSON.stringify(signInPage)}`);
  expect(signInPage.wasm).toBeUndefined();
  expect(signInPage.html + signInPage.css).toBeLessThanOrEqual(PAGE_BUDGET);

  await signIn(page, url, 'root', 'root-secret-1');
  await expect(page.getByRole('button', { name: 'Upload', exact: true })).toBeEnabled();
  expect(scripts.some((s) => s.endsWith('.wasm')), 'the uploader wakes up').toBe(true);
  const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  for (const [link, heading, address] of [
    ['My uploads', 'My uploads', '/uploads'],
    ['Admin', 'All uploads', '/admin'],
  ]) {
    scripts.length = 0;
    await page.getByRole('link', { name: link }).click();
    await expect(page.getByRole('heading', { name: heading })).toBeVisible();
    expect(scripts, address).toEqual([]);
    const weight = await pageWeight(`${url}${address}`, cookie);
    console.log(`${address} as served (brotli): ${JSON.stringify(weight)}`);
    expect(weight.wasm).toBeUndefined();
    expect(weight.html + weight.css).toBeLessThanOrEqual(PAGE_BUDGET);
  }
});

/** A browser without JavaScript. */
async function withoutScripts(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: false });
  return context.newPage();
}

test('without JavaScript: sign-in, My uploads, admin filters and the CSV', async ({ browser }) => {
  const { url } = await start();
  const page = await withoutScripts(browser);
  await signIn(page, url, 'alice', 'wrong password');
  await expect(page.getByRole('alert')).toHaveText('The sign-in details are not right.');
  // Back on the page it came from, with why, and never the password.
  expect(new URL(page.url()).pathname).toBe('/');
  expect(new URL(page.url()).searchParams.get('refused')).toBe('"BadLogin"');
  expect(page.url()).not.toContain('wrong');
  await signIn(page, url, 'alice', 'alice-secret-1');
  await expect(page.getByText('Signed in as alice')).toBeVisible();

  // One file through the plain form, then found on My uploads.
  await page.getByRole('button', { name: 'Choose a file to upload' }).click();
  await page.getByLabel('File to upload').setInputFiles({ name: 'plain.txt', mimeType: 'text/plain', buffer: Buffer.from('no scripts') });
  await page.getByRole('button', { name: 'Send this file' }).click();
  await expect(page.getByRole('heading', { name: 'Uploaded' })).toBeVisible();
  await page.goto(`${url}/`);
  await page.getByRole('link', { name: 'My uploads' }).click();
  const entry = page.getByRole('row').filter({ hasText: 'plain.txt' });
  await expect(entry).toHaveCount(1);
  await expect(entry).toContainText('uploads/alice/');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();

  // The admin's filters are a GET form; the CSV is a download.
  await signIn(page, url, 'root', 'root-secret-1');
  await page.getByRole('link', { name: 'Admin' }).click();
  await expect(page.getByRole('row').filter({ hasText: 'plain.txt' })).toHaveCount(1);
  await page.getByLabel('User').fill('root');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/user=root/);
  await expect(page.getByRole('row').filter({ hasText: 'plain.txt' })).toHaveCount(0);
  await page.getByLabel('User').fill('alice');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page.getByRole('row').filter({ hasText: 'plain.txt' })).toHaveCount(1);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download CSV' }).click(),
  ]);
  const csv = fs.readFileSync((await download.path())!, 'utf8').trim().split('\r\n');
  expect(csv).toHaveLength(2);
  expect(csv[1]).toContain(',alice,uploads/alice/');
  expect(csv[1]).toContain('-plain.txt,10,');
  expect(csv[1]).toContain(`,${createHash('md5').update('no scripts').digest('hex').toUpperCase()},10,head,`);
  await page.context().close();
});

test('the language switch comes back to the same page, both ways', async ({ page }) => {
  const { url } = await start();
  await signIn(page, url, 'alice', 'alice-secret-1');
  await expect(page.getByText('Signed in as alice')).toBeVisible();
  await page.goto(`${url}/uploads?page=1`);
  await expect(page.getByRole('heading', { name: 'My uploads' })).toBeVisible();
  await page.getByRole('button', { name: '切换到中文' }).click();
  await expect(page).toHaveURL(`${url}/uploads?page=1`);
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await expect(page.getByRole('heading', { name: '我的上传' })).toBeVisible();
  await page.getByRole('button', { name: 'Switch to English' }).click();
  await expect(page).toHaveURL(`${url}/uploads?page=1`);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('heading', { name: 'My uploads' })).toBeVisible();
});

/**
 * README's screenshots of '/', from this build: a desktop and a phone in WeChat, in English and
 * in Chinese, with two files stored and a third on its way.
 */
test('screenshots of the uploader for the README', async ({ browser, baseURL }) => {
  const phone = {
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    userAgent:
      'Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) ' +
      'Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 MicroMessenger/8.0.42.2460(0x28002A3B) WeChat/arm64',
  };
  const desktop = { viewport: { width: 1100, height: 760 } };
  const folder = path.resolve(__dirname, '../../docs/screenshots');
  fs.mkdirSync(folder, { recursive: true });
  for (const [device, options] of [['desktop', desktop], ['phone', phone]] as const) {
    for (const locale of ['en', 'zh-CN']) {
      const context = await browser.newContext({
        ...options,
        baseURL,
        locale,
        extraHTTPHeaders: { 'Accept-Language': locale },
      });
      const page = await context.newPage();
      await page.goto('/');
      const button = page.locator('.uploader:not(.fallback) button[type="submit"]');
      await expect(button).toBeEnabled();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
      // A photo the browser can draw as its thumbnail, padded to a photo's size (bytes after
      // its end are not read).
      const photo = await jpeg(page);
      await page.locator('#files').setInputFiles([
        { name: 'IMG_2041.jpg', mimeType: 'image/jpeg', buffer: Buffer.concat([photo, Buffer.alloc(180_000 - photo.length)]) },
        { name: 'report-2026.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(90_000, 2) },
        { name: 'holiday.mp4', mimeType: 'video/mp4', buffer: Buffer.alloc(8 << 20, 3) },
      ]);
      await button.click();
      await expect(page.locator('li.upload[data-state="done"]')).toHaveCount(2, { timeout: 30_000 });
      await expect(page.locator('li.upload[data-state="uploading"]')).toHaveCount(1);
      // The callback's word on each stored file is in the reader's language too.
      const recorded = locale === 'en' ? 'Recorded by the portal.' : '门户已记录。';
      await expect(page.getByText(recorded, { exact: true })).toHaveCount(2);
      const file = path.join(folder, `${device}-${locale}.png`);
      await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
      expect(fs.statSync(file).size).toBeGreaterThan(10_000);
      await context.close();
    }
  }
});

test('files picked before the uploader wakes join the list when it does', async ({ page }) => {
  // The WASM is held back until a file has been picked: a slow phone on a slow network.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/*.wasm', async (route) => {
    await held;
    await route.continue();
  });
  await page.goto('/');
  const upload = page.locator('.uploader:not(.fallback) button[type="submit"]');
  await expect(upload).toBeDisabled();
  await page.locator('#files').setInputFiles([
    { name: 'early-1.txt', mimeType: 'text/plain', buffer: Buffer.from('picked early 1') },
    { name: 'early-2.txt', mimeType: 'text/plain', buffer: Buffer.from('picked early 2') },
  ]);
  await expect(upload).toBeDisabled();
  release();
  await expect(page.getByRole('listitem').filter({ hasText: 'early-1.txt' })).toBeVisible();
  await expect(page.getByRole('listitem').filter({ hasText: 'early-2.txt' })).toBeVisible();
  await upload.click();
  await expect(page.locator('li.upload[data-state="done"]')).toHaveCount(2);
});

test('a release copied without its hash file refuses to start and names it', async () => {
  const folder = fs.mkdtempSync('/tmp/portal-deploy-');
  const binary = path.join(folder, 'upload-portal');
  fs.copyFileSync(path.resolve(__dirname, '../../target/release/upload-portal'), binary);
  fs.chmodSync(binary, 0o755);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LEPTOS_SITE_ROOT: path.resolve(__dirname, '../../target/site'),
    LEPTOS_SITE_ADDR: '127.0.0.1:3270',
    PORTAL_BUCKET_ADDR: '127.0.0.1:9370',
    PORTAL_DATA_DIR: path.join(folder, 'data'),
  };
  const run = spawnSync(binary, [], { env, encoding: 'utf8', timeout: 30_000 });
  expect(run.status).not.toBe(0);
  expect(run.stdout + run.stderr).toContain(`${path.join(folder, 'hash.txt')}: No such file or directory`);
  // With the hash file beside it, the same copy starts (and is stopped after 5 s by `timeout`).
  fs.copyFileSync(path.resolve(__dirname, '../../target/release/hash.txt'), path.join(folder, 'hash.txt'));
  const started = spawnSync('timeout', ['5', binary], { env, encoding: 'utf8', timeout: 30_000 });
  expect(started.status, started.stdout + started.stderr).toBe(124);
  fs.rmSync(folder, { recursive: true, force: true });
});
