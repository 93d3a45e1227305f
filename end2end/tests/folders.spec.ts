// Folders on the desktop (#16): a folder picked whole (`webkitdirectory`) or dropped on the page
// arrives with its structure under the destination folder, in both naming modes (random names
// keep the sub-folders); the server makes each folder name safe; empty folders and a file
// manager's clutter (`.DS_Store`, `Thumbs.db`, `._` files) are left out.
// Phones keep the plain picker.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { openPortal, row } from './portal';

const run = Date.now().toString(36);

/** The files of the tree, by their path inside it, and what each holds. */
const TREE: Record<string, string> = {
  'trip/a.txt': 'a',
  'trip/day 1/b.txt': 'b of day 1',
  'trip/day 1/c.txt': 'c',
  'trip/day 2/b.txt': 'b of day 2',
  'trip/x:y/d.txt': 'd',
};

/** A file manager's clutter, which the page leaves out of a folder. */
const CLUTTER = ['trip/.DS_Store', 'trip/day 1/Thumbs.db', 'trip/._a.txt'];

/** The tree on disk, with an empty folder and some clutter beside the files; returns the path
 * of `trip`. */
function treeOnDisk(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-tree-'));
  for (const [name, text] of [...Object.entries(TREE), ...CLUTTER.map((name) => [name, 'clutter'])]) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), `${text} (${run})`);
  }
  fs.mkdirSync(path.join(root, 'trip', 'empty', 'deeper'), { recursive: true });
  return path.join(root, 'trip');
}

/** Drops the folder `dir` on the uploader as a file manager does: Chromium's own drag and drop,
 * so the page walks a real directory entry. */
async function dropFolder(page: Page, dir: string) {
  const cdp = await page.context().newCDPSession(page);
  const box = (await page.locator('.drop-zone').boundingBox())!;
  const at = { x: box.x + box.width / 2, y: box.y + 10 };
  const data = { items: [], files: [dir], dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop'] as const) {
    await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
  }
}

/** Uploads what is listed (the tree's files, and nothing else) and checks each file's key, from
 * its path in the tree, and bytes. */
async function uploadAndCheck(page: Page, key: (name: string) => RegExp) {
  await expect(page.locator('li.upload')).toHaveCount(Object.keys(TREE).length);
  for (const name of CLUTTER) await expect(row(page, name)).toHaveCount(0);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(page.locator('li.upload[data-state="done"]')).toHaveCount(Object.keys(TREE).length);
  for (const [name, text] of Object.entries(TREE)) {
    const stored = (await row(page, name).getByRole('link').textContent())!.trim();
    expect(stored, name).toMatch(key(name));
    const object = await page.request.get(`/object?key=${encodeURIComponent(stored)}`);
    expect(object.status()).toBe(200);
    expect(await object.text()).toBe(`${text} (${run})`);
  }
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('a folder picked whole keeps its sub-folders under the destination folder', async ({ page }, info) => {
  test.skip(info.project.name !== 'desktop-chromium', 'phones pick files, not folders');
  await openPortal(page);
  const folder = `e2e-tree-${run}-${info.project.name}/`;
  await page.getByLabel('Destination folder').fill(folder);
  await page.getByLabel('Original name').check();
  await page.getByLabel('Or a whole folder').setInputFiles(treeOnDisk());
  // Listed by their paths in the folder; the empty folder gives nothing.
  for (const name of Object.keys(TREE)) {
    await expect(row(page, name)).toHaveCount(1);
  }
  // Original names: the path itself, each folder name made safe (`x:y` → `x_y`).
  await uploadAndCheck(page, (name) => new RegExp(`^uploads/${escaped(folder + name.replace('x:y', 'x_y'))}$`));
  // The folder field offers, first, where the files were sent, not the sub-folders they brought.
  await openPortal(page);
  const offered = await page.locator('#recent-folders option')
    .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
  expect(offered[0]).toBe(folder);
  expect(offered.filter((offer) => offer.startsWith(folder))).toEqual([folder]);
});

test('a folder dropped on the page arrives with its structure, under random names too', async ({ page }, info) => {
  test.skip(info.project.name !== 'desktop-chromium', 'phones pick files, not folders');
  await openPortal(page);
  const folder = `e2e-drop-${run}/`;
  await page.getByLabel('Destination folder').fill(folder);
  await dropFolder(page, treeOnDisk());
  // Random names keep the sub-folders: only the file's own name is replaced.
  await uploadAndCheck(page, (name) => {
    const dir = path.posix.dirname(name).replace('x:y', 'x_y');
    return new RegExp(`^uploads/${escaped(`${folder}${dir}/`)}[0-9a-f]{32}\\.txt$`);
  });
});

test('phones keep the plain picker', async ({ page }, info) => {
  test.skip(info.project.name === 'desktop-chromium', 'the phone projects');
  await openPortal(page);
  await expect(page.getByLabel('Files')).toHaveCount(1);
  await expect(page.locator('#tree')).toHaveCount(0);
});
