// Upload requests, the way people use them: a user creates one on /requests; its page shows a
// link and a QR code (decoded here: it is the link); someone with no account opens the link in
// WeChat on Android, gives a name and a note, and sends three files; the creator's page shows
// them arrive without a reload; the CSV has them with the sender; the objects lie in the
// request's folder; its webhook hears of each file and once of the batch. A closed request's
// link says so and signs nothing.
// "Continue on phone": the desktop shows a code, a phone scans it and sends; the desktop's own
// list shows those files arrive.
import * as http from 'node:http';
import { expect, test, type Page } from '@playwright/test';
import jsQR from 'jsqr';
import { FaultPortal, usersFile } from './fault-harness';
import { parseCsv } from './portal';

test.beforeEach(({}, info) => {
  test.skip(info.project.name !== 'desktop-chromium' || process.env.PORTAL_TARGET === 's3',
    'the sender gets a WeChat context of their own; the embedded bucket only');
});

const WECHAT_ANDROID =
  'Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) ' +
  'Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/5235 MMWEBSDK/20230805 MMWEBID/2651 ' +
  'MicroMessenger/8.0.42.2460(0x28002A3B) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64';

let portal: FaultPortal;

test.afterEach(async () => {
  await portal?.stop();
});

/** The QR code on the page (an inline SVG, or an image of one), drawn on a canvas and decoded. */
async function decodeQr(page: Page): Promise<string | undefined> {
  const image = await page.getByRole('img', { name: 'QR code' }).evaluate(async (holder) => {
    const size = 400;
    let picture = holder as HTMLImageElement;
    if (holder.tagName !== 'IMG') {
      const svg = holder.querySelector('svg')!;
      picture = new Image();
      picture.src = 'data:image/svg+xml;base64,' + btoa(new XMLSerializer().serializeToString(svg));
    }
    await picture.decode();
    const canvas = document.createElement('canvas');
    canvas.width = size;
    canvas.height = size;
    const context = canvas.getContext('2d')!;
    context.fillStyle = '#fff';
    context.fillRect(0, 0, size, size);
    context.drawImage(picture, 0, 0, size, size);
    return Array.from(context.getImageData(0, 0, size, size).data);
  });
  return jsQR(new Uint8ClampedArray(image), 400, 400)?.data;
}

/** A webhook receiver on loopback: the JSON bodies it was sent. */
async function receiver(): Promise<{ url: string; bodies: any[]; close: () => void }> {
  const bodies: any[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      bodies.push(JSON.parse(body));
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook`, bodies, close: () => server.close() };
}

test('a request collects files from a phone with no account, live on the creator\'s page', async ({ page, browser }) => {
  const users = usersFile({ alice: 'alice-secret-1' });
  const hook = await receiver();
  portal = new FaultPortal({
    sitePort: 3270,
    bucketPort: 9370,
    env: { PORTAL_ACCESS: 'users', PORTAL_USERS_FILE: users, PORTAL_WEBHOOK_ALLOW_PRIVATE: 'true' },
  });
  await portal.start();

  // The creator signs in and creates a request.
  await page.goto(portal.url);
  await page.getByLabel('Name').fill('alice');
  await page.getByLabel('Password').fill('alice-secret-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Requests' }).click();
  await page.getByLabel('Title').fill('Trip photos');
  await page.getByLabel('Instructions').fill('Your best three, please.');
  await page.getByLabel('Destination folder').fill('trip');
  await page.getByLabel('Max files').fill('3');
  await page.getByLabel('Ask for a note').check();
  await page.getByLabel('Webhook URL').fill(hook.url);
  await page.getByRole('button', { name: 'Create request' }).click();
  await expect(page.getByRole('heading', { name: 'Trip photos' })).toBeVisible();
  const link = await page.getByLabel('Link to share').inputValue();
  expect(link).toMatch(new RegExp(`^${portal.url}/r/[A-Za-z0-9_-]{22}$`));
  expect(await decodeQr(page)).toBe(link);
  await expect(page.getByText('Nothing yet.')).toBeVisible();

  // Someone in WeChat on Android opens the link: no cookie, no account.
  const phone = await browser.newContext({
    userAgent: WECHAT_ANDROID,
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
  });
  const sender = await phone.newPage();
  await sender.goto(link);
  await expect(sender.getByRole('heading', { name: 'Trip photos' })).toBeVisible();
  await expect(sender.getByText('Your best three, please.')).toBeVisible();
  await expect(sender.getByText('At most 3 files in all.')).toBeVisible();
  await sender.getByLabel('Your name').fill('Li Lei');
  await sender.getByLabel('Note').fill('From the boat');
  await sender.getByRole('button', { name: 'Continue' }).click();
  await expect(sender.getByText('Sending as Li Lei.')).toBeVisible();
  // The request decides the folder and the naming: those controls are not shown.
  await expect(sender.getByLabel('Destination folder')).toBeHidden();
  const files = ['sea.txt', 'sun.txt', 'sand.txt'].map((name) => ({
    name,
    mimeType: 'text/plain',
    buffer: Buffer.from(`${name} from Li Lei\n`),
  }));
  await sender.getByLabel('Files').setInputFiles(files);
  await expect(sender.getByRole('button', { name: 'Upload', exact: true })).toBeEnabled();
  await sender.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(sender.getByText('All 3 files uploaded.')).toBeVisible();

  // The creator's page, never reloaded, shows them arrive with the sender and the note.
  const arrived = page.locator('tbody.live tr');
  await expect(arrived).toHaveCount(3);
  for (const { name } of files) {
    await expect(page.getByRole('link', { name })).toBeVisible();
  }
  await expect(arrived.first()).toContainText('Li Lei');
  await expect(arrived.first()).toContainText('From the boat');

  // The CSV has them, with who sent them; the objects are in the request's folder.
  const csv = await page.request.get(page.url() + '/uploads.csv');
  expect(csv.status()).toBe(200);
  const [header, ...rows] = parseCsv(await csv.text());
  const column = (name: string) => header.indexOf(name);
  expect(rows).toHaveLength(3);
  for (const row of rows) {
    expect(row[column('key')]).toMatch(/^uploads\/alice\/trip\//);
    expect(row[column('sender_name')]).toBe('Li Lei');
    expect(row[column('sender_note')]).toBe('From the boat');
  }
  expect(portal.stored('uploads/alice/trip/')).toHaveLength(3);
  // The webhook heard of each file, and once of the finished batch, from the sender's page.
  await expect.poll(() => hook.bodies.filter((b) => b.event === 'batch').length).toBe(1);
  const batch = hook.bodies.find((b) => b.event === 'batch');
  expect(batch.sender).toBe('Li Lei');
  expect(batch.note).toBe('From the boat');
  expect(batch.files).toBe(3);
  expect(batch.uploads.map((u: { file_name: string }) => u.file_name).sort()).toEqual(['sand.txt', 'sea.txt', 'sun.txt']);
  await expect.poll(() => hook.bodies.filter((b) => b.event === 'upload').length).toBe(3);

  // Full: a fourth file is refused, in words, and nothing more is stored.
  await sender.getByLabel('Files').setInputFiles([{ name: 'more.txt', mimeType: 'text/plain', buffer: Buffer.from('x') }]);
  await sender.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(sender.getByRole('alert').filter({ hasText: 'more files' })).toContainText('at most 0 more files');
  expect(portal.stored('uploads/alice/trip/')).toHaveLength(3);

  // Closed by its creator: the link says so.
  await page.getByText('Close request').click();
  await page.getByRole('button', { name: 'Close: take no more files' }).click();
  await expect(page.getByText('Closed', { exact: true })).toBeVisible();
  await sender.goto(link);
  await expect(sender.getByRole('alert')).toContainText('This request is closed');
  await phone.close();
  // The refused fourth file ended a batch with nothing new in it: no second batch message.
  expect(hook.bodies.filter((b) => b.event === 'batch')).toHaveLength(1);
  hook.close();
});

test('continue on phone: what the phone sends joins the desktop\'s list', async ({ page, browser }) => {
  const users = usersFile({ alice: 'alice-secret-1' });
  portal = new FaultPortal({
    sitePort: 3280,
    bucketPort: 9380,
    env: { PORTAL_ACCESS: 'users', PORTAL_USERS_FILE: users },
  });
  await portal.start();
  await page.goto(portal.url);
  await page.getByLabel('Name').fill('alice');
  await page.getByLabel('Password').fill('alice-secret-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The uploader awake: a choice made before the island wakes is drawn over by its own.
  await expect(page.getByRole('button', { name: 'Upload', exact: true })).toBeEnabled();
  await page.getByLabel('Original name').check();
  await page.getByLabel('Destination folder').fill('uploads/alice/desk/');

  // A file from the desktop itself, then the phone's code.
  await page.getByLabel('Files').setInputFiles([{ name: 'local.txt', mimeType: 'text/plain', buffer: Buffer.from('from the desk\n') }]);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(page.getByText('The file is uploaded.')).toBeVisible();
  await page.getByRole('button', { name: 'Continue on phone' }).click();
  const link = await decodeQr(page);
  expect(link).toMatch(new RegExp(`^${portal.url}/r/[A-Za-z0-9_-]{22}$`));

  // The phone scans it (WeChat on Android): nothing to fill in, the uploader is there.
  const phone = await browser.newContext({ userAgent: WECHAT_ANDROID, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const sender = await phone.newPage();
  await sender.goto(link!);
  await expect(sender.getByRole('button', { name: 'Continue on phone' })).toHaveCount(0);
  await sender.getByLabel('Files').setInputFiles(['IMG_0001.txt', 'IMG_0002.txt'].map((name) => ({
    name, mimeType: 'text/plain', buffer: Buffer.from(`${name} from the phone\n`),
  })));
  await sender.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(sender.getByText('All 2 files uploaded.')).toBeVisible();

  // The desktop's list, never reloaded, has them as finished rows beside its own.
  const rows = page.locator('li.upload');
  await expect(rows).toHaveCount(3);
  for (const name of ['IMG_0001.txt', 'IMG_0002.txt']) {
    const row = rows.filter({ hasText: name });
    await expect(row).toHaveAttribute('data-state', 'done');
    await expect(row).toContainText('From your phone');
    await expect(row.getByRole('link', { name: `uploads/alice/desk/${name}` })).toBeVisible();
  }
  expect(portal.stored('uploads/alice/desk/')).toHaveLength(3);

  // Stop: the code goes, and the link takes nothing more.
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByRole('img', { name: 'QR code' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Continue on phone' })).toBeVisible();
  await expect.poll(async () => {
    await sender.goto(link!);
    return sender.getByRole('alert').textContent();
  }).toContain('This request is closed');
  await phone.close();
});
