// Chinese and English: the server picks the language from Accept-Language (the first HTML is
// already in it), the page can switch, and the choice is remembered.
import { expect, test } from '@playwright/test';

test.describe('a browser that prefers Chinese', () => {
  test.use({ locale: 'zh-CN', extraHTTPHeaders: { 'Accept-Language': 'zh-CN,zh;q=0.9,en;q=0.5' } });

  test('gets Chinese in the first HTML, before any script runs', async ({ request }) => {
    const html = await (await request.get('/', { headers: { 'Accept-Language': 'zh-CN,zh;q=0.9' } })).text();
    expect(html).toMatch(/<html[^>]* lang="zh-CN"/);
    expect(html).toContain('<title>上传门户</title>');
    expect(html).toMatch(/<button type="submit"[^>]*>上传<\/button>/);
    expect(html).toContain('目标文件夹');
    expect(html).not.toContain('Destination folder');
  });

  test('sees a refused folder explained in Chinese', async ({ page }) => {
    await page.goto('/');
    const upload = page.getByRole('button', { name: '上传', exact: true });
    await expect(upload).toBeEnabled();
    await page.getByLabel('文件', { exact: true }).setInputFiles({ name: 'a.txt', mimeType: 'text/plain', buffer: Buffer.from('a') });
    await page.getByLabel('目标文件夹').fill('../etc');
    await upload.click();
    await expect(page.getByRole('alert')).toHaveText('目标文件夹不能包含“..”或“.”作为文件夹名。');
    await expect(page.getByRole('listitem').filter({ hasText: 'a.txt' }).getByText('排队中', { exact: true })).toBeVisible();
  });
});

test('the language can be switched in the page and is remembered', async ({ page, context }) => {
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Upload', exact: true })).toBeEnabled();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await page.getByRole('button', { name: '切换到中文' }).click();
  await expect(page.getByRole('button', { name: '上传', exact: true })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await expect(page).toHaveTitle('上传门户');
  const cookie = (await context.cookies()).find((c) => c.name === 'i18n_pref_locale');
  expect(cookie?.value).toBe('zh-CN');
  expect(cookie?.sameSite).toBe('Lax');
  expect(cookie!.expires - Date.now() / 1000).toBeGreaterThan(300 * 24 * 3600);
  // Remembered: the next visit is served in Chinese from the start.
  await page.reload();
  await expect(page.getByRole('button', { name: '上传', exact: true })).toBeEnabled();
  await page.getByRole('button', { name: 'Switch to English' }).click();
  await expect(page.getByRole('button', { name: 'Upload', exact: true })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('button', { name: 'Upload', exact: true })).toBeEnabled();
});
