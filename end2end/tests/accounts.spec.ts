// Running it in production: a portal with a users file. Signing in (and a wrong password),
// the signer keeping each user inside their root, the daily limit shown and enforced, "My
// uploads" with link, size and ETag from the ledger, signing out; the admin page with filters,
// the CSV export, and the storage check naming a CORS rule that hides the ETag. No page breaks
// its Content-Security-Policy.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { FaultPortal, usersFile } from './fault-harness';
import { row } from './portal';

test.beforeEach(({}, info) => {
  test.skip(info.project.name !== 'desktop-chromium' || process.env.PORTAL_TARGET === 's3',
    'one browser is enough; the embedded bucket only');
});

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex').toUpperCase();
let portal: FaultPortal;

test.afterEach(async () => {
  await portal?.stop();
});

async function start() {
  const users = usersFile({ alice: 'alice-secret-1', root: { password: 'root-secret-1', root: 'uploads/', admin: true } });
  portal = new FaultPortal({
    sitePort: 3250,
    bucketPort: 9350,
    env: { PORTAL_ACCESS: 'users', PORTAL_USERS_FILE: users, PORTAL_DAILY_BYTES: '1MB', PORTAL_SIGN_RATE: '60' },
  });
  await portal.start();
}

/** Console messages that report a Content-Security-Policy violation. */
function watchPolicy(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}

async function signIn(page: Page, name: string, password: string) {
  await page.goto(portal.url);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('a user signs in, uploads inside their root within the daily limit, and signs out', async ({ page }) => {
  await start();
  const violations = watchPolicy(page);
  await page.goto(portal.url);
  // No session: the sign-in form, no uploader, no signed form anywhere in the page.
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Upload', exact: true })).toHaveCount(0);
  expect(await page.content()).not.toContain('x-oss-signature');

  await signIn(page, 'alice', 'wrong password');
  await expect(page.getByRole('alert').filter({ hasText: 'The sign-in details are not right.' })).toBeVisible();
  await signIn(page, 'alice', 'alice-secret-1');
  await expect(page.getByText('Signed in as alice')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Upload', exact: true })).toBeEnabled();
  // Her root shows fixed before the folder field, which takes what follows it.
  await expect(page.locator('.folder-input .root')).toHaveText('uploads/alice/');
  await expect(page.getByLabel('Destination folder')).toHaveValue('');
  await expect(page.getByText('Your last 24 hours: 0 B of 1.0 MB.')).toBeVisible();
  const cookie = (await page.context().cookies()).find((c) => c.name === 'portal_session')!;
  expect(cookie.httpOnly).toBe(true);
  expect(cookie.sameSite).toBe('Lax');

  // Another user's folder, typed in full: read as a folder inside her own root, never root's.
  const data = Buffer.from('alice was here\n');
  await page.getByLabel('Original name').check();
  await page.getByLabel('Destination folder').fill('uploads/root/');
  await page.getByLabel('Files').setInputFiles([{ name: 'elsewhere.txt', mimeType: 'text/plain', buffer: data }]);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(row(page, 'elsewhere.txt').getByText('done', { exact: true })).toBeVisible();
  expect(portal.stored('uploads/root')).toEqual([]);
  expect(portal.stored('uploads/alice/uploads/root')).toEqual(['elsewhere.txt']);

  // A folder typed after her root (the picker now adds to the list): stored, verified, confirmed.
  await expect(page.getByText('Add more files')).toBeVisible();
  await page.getByLabel('Destination folder').fill('notes');
  await page.getByLabel('Files').setInputFiles([{ name: 'note.txt', mimeType: 'text/plain', buffer: data }]);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(row(page, 'note.txt').getByText('done', { exact: true })).toBeVisible();
  await expect(row(page, 'note.txt').getByText('verified', { exact: true })).toBeVisible();
  expect(portal.read('uploads/alice/notes/note.txt').equals(data)).toBe(true);
  // The folders she used are offered beside the field next time, newest first.
  await page.reload();
  await expect(page.locator('#recent-folders option')).toHaveCount(2);
  expect(await page.locator('#recent-folders option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value)))
    .toEqual(['notes/', 'uploads/root/']);
  expect(await page.getByLabel('Destination folder').getAttribute('list')).toBe('recent-folders');

  // Over the daily limit: refused with the figures.
  await page.getByLabel('Files').setInputFiles([
    { name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(1_000_000) },
  ]);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'This would go over your daily limit' })).toBeVisible();
  expect(portal.stored('uploads/alice/notes')).toEqual(['note.txt']);

  // My uploads: from the ledger, with the link, the size and the ETag the HEAD confirmed.
  await page.getByRole('link', { name: 'My uploads' }).click();
  await expect(page.getByRole('heading', { name: 'My uploads' })).toBeVisible();
  const entry = page.getByRole('row').filter({ hasText: 'uploads/alice/notes/note.txt' });
  await expect(entry).toHaveCount(1);
  await expect(entry.getByRole('cell').nth(1)).toHaveText('15 B');
  await expect(entry.locator('code')).toHaveText(md5(data));
  // The link is the portal's own route (`/object?key=`), which redirects to the object.
  const link = new URL((await entry.getByRole('link').getAttribute('href'))!, page.url());
  expect(link.pathname).toBe('/object');
  expect((await (await page.request.get(link.href)).body()).equals(data)).toBe(true);
  await expect(page.getByText('Page 1 of 1 (2 in all)')).toBeVisible();
  // Not an admin: no admin link, and the admin page refuses.
  await expect(page.getByRole('link', { name: 'Admin' })).toHaveCount(0);
  await page.goto(`${portal.url}/admin`);
  await expect(page.getByRole('alert').filter({ hasText: 'Only administrators can see this.' })).toBeVisible();

  // Signed out: the session ends, every page asks to sign in again.
  await page.goto(`${portal.url}/uploads`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.goto(`${portal.url}/uploads`);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  const signed = await page.request.post(`${portal.url}/api/sign_uploads`, {
    data: { batch: { files: [{ name: 'x.txt', size: 1, content_type: 'text/plain' }], naming: 'random', folder: 'uploads/alice/' } },
    headers: { cookie: `portal_session=${cookie.value}` },
  });
  expect(signed.status()).toBe(401);
  expect(violations).toEqual([]);
});

test('the admin page filters every upload, exports CSV and names a CORS rule that hides the ETag', async ({ page }) => {
  await start();
  const violations = watchPolicy(page);
  await signIn(page, 'alice', 'alice-secret-1');
  await expect(page.getByRole('button', { name: 'Upload', exact: true })).toBeEnabled();
  await page.getByLabel('Original name').check();
  await page.getByLabel('Files').setInputFiles([{ name: 'a,b.txt', mimeType: 'text/plain', buffer: Buffer.from('abc') }]);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(row(page, 'a,b.txt').getByText('done', { exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();

  await signIn(page, 'root', 'root-secret-1');
  await page.getByRole('link', { name: 'Admin' }).click();
  await expect(page.getByRole('heading', { name: 'All uploads' })).toBeVisible();
  const aliceRow = page.getByRole('row').filter({ hasText: 'uploads/alice/a,b.txt' });
  await expect(aliceRow.getByRole('cell', { name: 'alice', exact: true })).toBeVisible();
  await expect(aliceRow.getByText('stored')).toBeVisible();
  // Filtered to root's entries: alice's upload is not among them.
  await page.getByLabel('User').fill('root');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/user=root/);
  await expect(page.getByRole('row').filter({ hasText: 'uploads/alice/a,b.txt' })).toHaveCount(0);
  // Back to alice, stored only; the CSV carries the same selection.
  await page.getByLabel('User').fill('alice');
  await page.getByLabel('State').selectOption('completed');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page.getByText('Page 1 of 1 (1 in all)')).toBeVisible();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download CSV' }).click(),
  ]);
  const csv = fs.readFileSync((await download.path())!, 'utf8').trim().split('\r\n');
  expect(csv[0].split(',').slice(0, 4)).toEqual(['id', 'user', 'key', 'declared_size']);
  expect(csv).toHaveLength(2);
  expect(csv[1]).toContain(',alice,"uploads/alice/a,b.txt",3,text/plain,');
  expect(csv[1]).toContain(`,${md5(Buffer.from('abc'))},3,head,127.0.0.1,`);

  // The storage check: all fine...
  const cors = page.locator('.findings li[data-check="cors"]');
  await expect(cors).toHaveAttribute('data-ok', 'true');
  await expect(page.locator('.findings li[data-check="credentials"]')).toHaveAttribute('data-ok', 'true');
  await expect(page.locator('.findings li[data-check="clock"]')).toHaveAttribute('data-ok', 'true');
  // ...until the bucket's CORS rule forgets to expose the ETag (the operator's own rule file).
  await portal.kill();
  fs.writeFileSync(
    path.join(portal.dataDir, 'portal-dev', 'cors.xml'),
    `<CORSConfiguration><CORSRule><AllowedOrigin>${portal.url}</AllowedOrigin><AllowedMethod>POST</AllowedMethod>` +
      '<AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader></CORSRule></CORSConfiguration>',
  );
  await portal.start();
  await page.goto(`${portal.url}/admin`);
  await expect(cors).toHaveAttribute('data-ok', 'false');
  await expect(cors).toContainText(`the rule for ${portal.url} and POST does not expose the ETag header (add ExposeHeader ETag)`);
  expect(violations).toEqual([]);
});
