// Upload requests, the way people use them: a user creates one on /requests; its page shows a
// link and a QR code (decoded here: it is the link); someone with no account opens the link in
// WeChat on Android, gives a name and a note, and sends three files; the creator's page shows
// them arrive without a reload; the CSV has them with the sender; the objects lie in the
// request's folder. A closed request's link says so and signs nothing.
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

/** The QR code on the page, drawn on a canvas and decoded. */
async function decodeQr(page: Page): Promise<string | undefined> {
  const image = await page.getByRole('img', { name: 'QR code' }).evaluate(async (holder) => {
    const svg = holder.querySelector('svg')!;
    const size = 400;
    const picture = new Image();
    picture.src = 'data:image/svg+xml;base64,' + btoa(new XMLSerializer().serializeToString(svg));
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

test('a request collects files from a phone with no account, live on the creator\'s page', async ({ page, browser }) => {
  const users = usersFile({ alice: 'alice-secret-1' });
  portal = new FaultPortal({
    sitePort: 3270,
    bucketPort: 9370,
    env: { PORTAL_ACCESS: 'users', PORTAL_USERS_FILE: users },
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
});
