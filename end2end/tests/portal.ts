// Shared facts and helpers for the end-to-end tests: where the bucket keeps its files, and
// test files made in memory.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, type APIRequestContext, type Locator, type Page } from '@playwright/test';

export const dataDir = process.env.PORTAL_DATA_DIR ?? path.resolve(__dirname, '../../data');
export const bucket = process.env.PORTAL_BUCKET ?? 'portal-dev';
export const objectsDir = path.join(dataDir, bucket, 'objects');

export function objectFile(key: string): string {
  return path.join(objectsDir, ...key.split('/'));
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function md5Hex(data: Buffer): string {
  return createHash('md5').update(data).digest('hex').toUpperCase();
}

/** One row of the ledger's CSV export. */
export interface LedgerRow {
  key: string;
  user: string;
  etag: string;
  stored_size: string;
  completed_by: string;
}

/** Splits RFC 4180 CSV into rows of cells (quoted cells may hold commas, quotes, newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let cell = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; }
    else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

/** The portal's ledger of stored uploads, read as an administrator reads it: the CSV export
 * (open mode on loopback: the page's visitor is the administrator). */
export async function ledger(request: APIRequestContext): Promise<LedgerRow[]> {
  const response = await request.get('/admin/uploads.csv?user=&key_prefix=&state=completed&page=1');
  expect(response.status()).toBe(200);
  const [header, ...rows] = parseCsv(await response.text());
  return rows.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i]])) as unknown as LedgerRow);
}

/** Every stored file, relative to the objects folder. */
export function storedKeys(): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), rel);
      else out.push(rel);
    }
  };
  walk(objectsDir, '');
  return out.sort();
}

// A real 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

export interface TestFile {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

/** The four files of the first-release scenario: Chinese name, empty, ≥ 5 MB, an image. */
export function scenarioFiles(): TestFile[] {
  return [
    { name: '旅行照片 说明.txt', mimeType: 'text/plain', buffer: Buffer.from('去杭州看西湖 — notes from the trip\n') },
    { name: 'empty.dat', mimeType: 'application/octet-stream', buffer: Buffer.alloc(0) },
    { name: 'Big Video.MP4', mimeType: 'video/mp4', buffer: randomBytes(6 * 1024 * 1024 + 123) },
    { name: 'pixel.png', mimeType: 'image/png', buffer: PNG },
  ];
}

export async function openPortal(page: Page) {
  await page.goto('/');
  // The button is enabled once the WASM has hydrated the page.
  await expect(page.getByRole('button', { name: 'Upload' })).toBeEnabled();
}

export function row(page: Page, name: string): Locator {
  return page.getByRole('listitem').filter({ hasText: name });
}

/** Limits the page's upload bandwidth (bytes/s; -1 lifts the limit) through Chromium's
 * network emulation, so progress can be watched on loopback. Returns a setter for later. */
export async function throttleUploads(page: Page, bytesPerSecond: number) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const set = (rate: number) =>
    cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: rate });
  await set(bytesPerSecond);
  return set;
}

/** A real JPEG, drawn and encoded by Chromium (no metadata of its own). */
export async function jpeg(page: Page): Promise<Buffer> {
  const base64 = await page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 48;
    const context = canvas.getContext('2d')!;
    context.fillStyle = '#3a7';
    context.fillRect(0, 0, 64, 48);
    context.fillStyle = '#c33';
    context.fillRect(8, 8, 20, 20);
    const blob = await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b!), 'image/jpeg', 0.9));
    return btoa(String.fromCharCode(...new Uint8Array(await blob.arrayBuffer())));
  });
  return Buffer.from(base64, 'base64');
}
