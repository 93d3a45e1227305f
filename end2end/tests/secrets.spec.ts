import { expect, test } from '@playwright/test';

// The test run's secret, set by scripts/test.sh; the portal must never send it anywhere.
const secret = process.env.OSS_ACCESS_KEY_SECRET ?? '';

test('no configured secret appears in the HTML, JS, WASM, CSS or server-fn replies', async ({ page, request }) => {
  expect(secret.length, 'OSS_ACCESS_KEY_SECRET must be set for this test').toBeGreaterThan(8);
  const bodies: Record<string, Buffer> = {};
  // Bodies arrive asynchronously: keep every read, and wait for all of them before checking.
  const reads: Promise<void>[] = [];
  page.on('response', (response) => {
    reads.push(
      response
        .body()
        .then((body) => {
          bodies[response.url()] = body;
        })
        .catch(() => {
          // redirects and aborted responses have no body
        }),
    );
  });
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Upload' })).toBeEnabled();
  await Promise.all(reads);
  const urls = Object.keys(bodies);
  expect(urls.some((u) => u.endsWith('.wasm')), urls.join(' ')).toBe(true);
  expect(urls.some((u) => u.endsWith('.js')), urls.join(' ')).toBe(true);
  expect(urls.some((u) => u.endsWith('.css')), urls.join(' ')).toBe(true);

  const settings = await request.post('/api/portal_settings');
  expect(settings.ok()).toBe(true);
  bodies['portal_settings'] = await settings.body();
  const signed = await request.post('/api/sign_uploads', {
    data: { batch: { files: [{ name: 'a.txt', size: 1, content_type: 'text/plain' }], naming: 'random', folder: 'uploads/' } },
  });
  expect(signed.ok()).toBe(true);
  const reply = await signed.text();
  // The reply is a real signed ticket (policy and signature), just without the secret.
  expect(reply).toMatch(/"(x-oss-signature|Signature|x-amz-signature)","[^"]+"/);
  expect(reply).toContain('"policy"');
  bodies['sign_uploads'] = Buffer.from(reply);
  const refused = await request.post('/api/sign_uploads', {
    data: { batch: { files: [], naming: 'random', folder: '../x' } },
  });
  expect(refused.status()).toBe(400);
  bodies['sign_uploads refused'] = await refused.body();

  for (const [url, body] of Object.entries(bodies)) {
    expect(body.includes(Buffer.from(secret)), `secret found in ${url}`).toBe(false);
  }
});
