import { expect, test } from '@playwright/test';
import { openPortal, row } from './portal';

test('WeChat on Android gets a camera control and a picker that always opens', async ({ page }) => {
  test.skip(test.info().project.name !== 'wechat-android', 'WeChat Android only');
  await openPortal(page);
  const camera = page.getByLabel('Take photo');
  await expect(camera).toBeVisible();
  await expect(camera).toHaveAttribute('capture', 'environment');
  await expect(camera).toHaveAttribute('accept', 'image/*');
  // No accept list on the main picker: a specific one can stop WeChat's picker from opening.
  expect(await page.getByLabel('Files').getAttribute('accept')).toBeNull();
  // A photo taken with the camera control joins the list like any picked file.
  await camera.setInputFiles({ name: 'image.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('camera bytes') });
  await expect(row(page, 'image.jpg').getByText('queued', { exact: true })).toBeVisible();
});

test('the page fits a phone: no sideways scroll, touch targets of 44 px', async ({ page }) => {
  test.skip(test.info().project.name !== 'wechat-android', 'phone viewport only');
  await openPortal(page);
  await page.getByLabel('Files').setInputFiles({
    name: '一个非常非常非常非常非常非常非常非常非常非常长的中文文件名称用来测试换行.jpg',
    mimeType: 'image/jpeg',
    buffer: Buffer.from('x'),
  });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  const controls = [
    page.getByRole('button', { name: 'Upload' }),
    page.getByLabel('Destination folder'),
    page.getByText('Random name'),
    page.getByText('Original name'),
    page.getByRole('button', { name: '切换到中文' }),
    page.getByRole('button', { name: /^Cancel 一个/ }),
  ];
  for (const control of controls) {
    const box = (await control.boundingBox())!;
    expect(box.height).toBeGreaterThanOrEqual(44);
  }
  await page.screenshot({ path: 'test-results/wechat-android.png', fullPage: true });
  // The smallest phones the issue names: 360×640, still no sideways scroll.
  await page.setViewportSize({ width: 360, height: 640 });
  const narrow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(narrow).toBeLessThanOrEqual(0);
  for (const control of controls) {
    const box = (await control.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(360);
  }
  await page.screenshot({ path: 'test-results/wechat-android-360.png', fullPage: true });
});

test('other browsers get no camera control', async ({ page }) => {
  test.skip(test.info().project.name === 'wechat-android', 'not WeChat');
  await openPortal(page);
  await expect(page.getByLabel('Take photo')).toHaveCount(0);
});
