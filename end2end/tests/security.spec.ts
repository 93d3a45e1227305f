// The stored-content findings of the security review, in a real browser: a page uploaded to
// the embedded bucket must not run script on the bucket's origin (it is the portal's host on
// another port), and a session cookie planted beside the portal's must not make an
// administrator's uploads run as someone else.
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { FaultPortal, usersFile } from './fault-harness';
import { row } from './portal';

test.beforeEach(({}, info) => {
  test.skip(info.project.name !== 'desktop-chromium' || process.env.PORTAL_TARGET === 's3',
    'one browser is enough; the embedded bucket only');
});

let portal: FaultPortal;

test.afterEach(async () => {
  await portal?.stop();
});

async function start() {
  const users = usersFile({ mallory: 'mallory-secret-1', root: { password: 'root-secret-1', root: 'uploads/', admin: true } });
  portal = new FaultPortal({
    sitePort: 3260,
    bucketPort: 9360,
    env: { PORTAL_ACCESS: 'users', PORTAL_USERS_FILE: users },
  });
  await portal.start();
}

/** Signs in through the API; returns the session token. */
async function signIn(request: APIRequestContext, name: string, password: string): Promise<string> {
  const response = await request.post(`${portal.url}/api/login`, { form: { name, password } });
  expect(response.status()).toBe(200);
  return /portal_session=([0-9a-f]{64})/.exec(response.headers()['set-cookie'])![1];
}

/** Mallory stores `body` under her own ticket, declared as `contentType`; the object's URL. */
async function store(request: APIRequestContext, token: string, name: string, contentType: string, body: string) {
  const headers = { cookie: `portal_session=${token}` };
  const signed = await request.post(`${portal.url}/api/sign_uploads`, {
    headers,
    data: { batch: { files: [{ name, size: Buffer.byteLength(body), content_type: contentType }], naming: 'random', folder: 'uploads/mallory/' } },
  });
  expect(signed.status()).toBe(200);
  const [ticket] = await signed.json();
  const multipart: Record<string, string | { name: string; mimeType: string; buffer: Buffer }> = {};
  for (const [field, value] of ticket.fields as [string, string][]) multipart[field] = value;
  multipart.file = { name, mimeType: contentType, buffer: Buffer.from(body) };
  const posted = await request.post(ticket.url, { multipart });
  expect(posted.status()).toBe(200);
  return ticket.object_url as string;
}

/** Dialogs the page opened (a script that ran would open one). */
function watchDialogs(page: Page): string[] {
  const opened: string[] = [];
  page.on('dialog', async (dialog) => {
    opened.push(dialog.message());
    await dialog.dismiss();
  });
  return opened;
}

test('an uploaded page cannot run on the bucket, nor swap the portal session', async ({ page, playwright }) => {
  await start();
  const api = await playwright.request.newContext();
  const mallory = await signIn(api, 'mallory', 'mallory-secret-1');
  // Her "page": it would plant her session for the portal's API and say so.
  const script = `<script>document.cookie = "portal_session=${mallory}; path=/api"; alert("ran on " + location.host)</script>`;
  const html = await store(api, mallory, 'invite.html', 'text/html', `<html><body>${script}</body></html>`);
  const svg = await store(api, mallory, 'logo.svg', 'image/svg+xml',
    `<svg xmlns="http://www.w3.org/2000/svg" onload="alert('svg ran')"><script>alert(document.domain)</script></svg>`);
  // Bytes of a page declared as an image: shown as an (unreadable) image, never sniffed.
  const disguised = await store(api, mallory, 'cat.png', 'image/png', `<html>${script}</html>`);

  // The administrator is signed in and follows her links.
  await page.goto(portal.url);
  await page.getByLabel('Name').fill('root');
  await page.getByLabel('Password').fill('root-secret-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByText('Signed in as root')).toBeVisible();
  const dialogs = watchDialogs(page);
  for (const url of [html, svg]) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.goto(url).catch(() => null)]);
    expect(download.url()).toBe(url);
  }
  const shown = await page.goto(disguised);
  expect(shown!.headers()['x-content-type-options']).toBe('nosniff');
  expect(shown!.headers()['content-security-policy']).toContain('sandbox');
  await page.waitForTimeout(500);
  expect(dialogs).toEqual([]);
  const planted = (await page.context().cookies()).filter((c) => c.name === 'portal_session');
  expect(planted).toHaveLength(1);

  // Had a page planted it anyway (an older bucket, another app on this host): the portal
  // refuses a request carrying two session cookies instead of running it as either.
  await page.context().addCookies([
    { name: 'portal_session', value: mallory, domain: '127.0.0.1', path: '/api', httpOnly: false, sameSite: 'Lax' },
  ]);
  await page.goto(portal.url);
  await page.getByLabel('Original name').check();
  await page.getByLabel('Destination folder').fill('uploads/root/');
  const secret = Buffer.from('board minutes\n');
  await page.getByLabel('Files').setInputFiles([{ name: 'minutes.txt', mimeType: 'text/plain', buffer: secret }]);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(page.getByRole('alert').first()).toContainText('Sign in first.');
  await expect(row(page, 'minutes.txt').getByText('done', { exact: true })).toHaveCount(0);
  expect(portal.stored('uploads/mallory')).not.toContain('minutes.txt');
  expect(portal.stored('uploads/root')).not.toContain('minutes.txt');
});
