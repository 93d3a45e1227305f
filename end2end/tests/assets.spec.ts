// What a phone downloads: asset names carry their content's hash and are cached for a year,
// served precompressed; pages are revalidated and signed tickets are never cached.
import { expect, test } from '@playwright/test';

test('hashed assets are precompressed and cached for a year; tickets are never cached', async ({ request }) => {
  test.skip(test.info().project.name !== 'desktop-chromium', 'the same bytes for every browser');
  const page = await request.get('/');
  expect(page.headers()['cache-control']).toBe('no-cache');
  const html = await page.text();
  const assets = [...new Set([...html.matchAll(/(?:href|src)="(\/pkg\/[^"]+)"/g)].map((m) => m[1]))];
  for (const kind of ['css', 'js', 'wasm']) {
    expect(assets.some((a) => new RegExp(`^/pkg/upload-portal\\.[A-Za-z0-9_-]{16,}\\.${kind}$`).test(a)), `${kind} in ${assets}`).toBe(true);
  }
  for (const asset of assets) {
    const response = await request.get(asset, { headers: { 'Accept-Encoding': 'br, gzip' } });
    expect(response.status(), asset).toBe(200);
    expect(response.headers()['content-encoding'], asset).toBe('br');
    expect(response.headers()['cache-control'], asset).toBe('public, max-age=31536000, immutable');
  }
  const signed = await request.post('/api/sign_uploads', {
    data: { batch: { files: [{ name: 'a.txt', size: 1, content_type: 'text/plain' }], naming: 'random', folder: 'uploads/' } },
  });
  expect(signed.status()).toBe(200);
  expect(signed.headers()['cache-control']).toBe('no-store');
});
