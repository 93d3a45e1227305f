import { randomBytes } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { openPortal, row, throttleUploads } from './portal';

test('leaving the page while an upload runs asks first', async ({ page }) => {
  test.skip(test.info().project.name !== 'desktop-chromium', 'desktop only');
  await openPortal(page);
  // Slow enough that the upload is still running when the page is closed.
  const setUploadRate = await throttleUploads(page, 512 * 1024);
  await page.getByLabel('Files').setInputFiles({ name: 'slow.bin', mimeType: 'application/octet-stream', buffer: randomBytes(4 << 20) });
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(row(page, 'slow.bin').getByText('uploading', { exact: true })).toBeVisible();
  // The batch's bytes, speed and time left show while it runs.
  await expect(page.locator('.totals')).toHaveText(/^[\d.]+ [KM]?B of 4\.2 MB \u00b7 [\d.]+ [KM]?B\/s \u00b7 about \d+ (s|min) left$/);
  // The language switch leaves the page too (a form post): it asks first, and staying keeps
  // the page as it is.
  const asked = page.waitForEvent('dialog');
  await page.getByRole('button', { name: '切换到中文' }).click({ noWaitAfter: true });
  const question = await asked;
  expect(question.type()).toBe('beforeunload');
  await question.dismiss();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(row(page, 'slow.bin').getByText('uploading', { exact: true })).toBeVisible();
  const dialog = page.waitForEvent('dialog');
  await page.close({ runBeforeUnload: true });
  const shown = await dialog;
  expect(shown.type()).toBe('beforeunload');
  await shown.dismiss();
  // Dismissed: the page stays and the upload finishes.
  await setUploadRate(-1);
  await expect(row(page, 'slow.bin').getByText('done', { exact: true })).toBeVisible({ timeout: 60_000 });
});
