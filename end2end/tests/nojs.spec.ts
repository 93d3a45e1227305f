import * as fs from 'node:fs';
import { expect, test } from '@playwright/test';
import { ledger, objectFile, sha256 } from './portal';

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the plain form uploads one file straight to the bucket', async ({ page }) => {
    await page.goto('/');
    // The multi-file uploader needs scripts; the plain form stands in for it.
    await expect(page.getByLabel('Files')).toBeHidden();
    // Showing the page signed nothing: the plain form asks for its ticket first.
    await page.getByRole('button', { name: 'Choose a file to upload' }).click();
    await expect(page).toHaveURL(/\/upload\/plain\?ticket=[0-9a-f]{32}$/);
    const data = Buffer.from(`sent without scripts ${Date.now()}`);
    await page.getByLabel('File to upload').setInputFiles({ name: '无脚本 upload.txt', mimeType: 'text/plain', buffer: data });
    await page.getByRole('button', { name: 'Send this file' }).click();
    // The bucket redirects to the portal's result page.
    await expect(page).toHaveURL(/\/uploaded\?/);
    await expect(page.getByRole('heading', { name: 'Uploaded' })).toBeVisible();
    const link = page.locator('.result a');
    const key = (await link.textContent())!.trim();
    expect(key).toMatch(/^uploads\/[0-9a-f]{12}-无脚本 upload\.txt$/);
    const served = await page.request.get((await link.getAttribute('href'))!);
    expect(sha256(await served.body())).toBe(sha256(data));
    // The result page had the portal check the object: the ledger holds it, with its size.
    const entry = (await ledger(page.request)).find((r) => r.key === key);
    expect(entry, `ledger entry for ${key}`).toBeDefined();
    expect(Number(entry!.stored_size)).toBe(data.length);
    expect(entry!.completed_by).toBe('head');
    if ((process.env.PORTAL_TARGET ?? 'local') === 'local') {
      expect(sha256(fs.readFileSync(objectFile(key)))).toBe(sha256(data));
    }
  });
});
