import { expect, test } from '@playwright/test';
import { openPortal, row } from './portal';

test('the whole upload flow works from the keyboard', async ({ page }) => {
  test.skip(test.info().project.name !== 'desktop-chromium', 'keyboard flow on desktop');
  await openPortal(page);
  // A file dialog cannot be driven headless: pick the file, then use keys only.
  await page.getByLabel('Files').setInputFiles({ name: 'typed.txt', mimeType: 'text/plain', buffer: Buffer.from('keys') });
  await page.getByLabel('Files').focus();
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Or a whole folder')).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Random name')).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByLabel('Original name')).toBeChecked();
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Remove location from photos')).toBeFocused();
  await page.keyboard.press('Space');
  await expect(page.getByLabel('Remove location from photos')).toBeChecked();
  await page.keyboard.press('Tab');
  // "Photo size" is a native select: the arrow keys choose, as everywhere.
  await expect(page.getByLabel('Photo size')).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByLabel('Photo size')).toHaveValue('s');
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Destination folder')).toBeFocused();
  await page.keyboard.press('ControlOrMeta+a');
  // Typed after the root, which the field shows fixed before it.
  await page.keyboard.type(`keyboard-${Date.now()}`);
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Upload' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(row(page, 'typed.txt').getByText('done', { exact: true })).toBeVisible();
  await expect(row(page, 'typed.txt').getByRole('link')).toHaveText(/^uploads\/keyboard-\d+\/typed\.txt$/);
  // The outcome is announced politely.
  await expect(page.getByRole('status')).toHaveText('The file is uploaded.');
});
