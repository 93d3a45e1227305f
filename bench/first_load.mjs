// Opens the portal in Debian's Chromium under DevTools' "Fast 3G" profile and reports, as JSON,
// the compressed bytes downloaded until the page is interactive and the time it took.
// "Interactive" = the Upload button is enabled, which happens when the WASM has hydrated.
// Usage: node bench/first_load.mjs http://127.0.0.1:3300/ [runs]
import { createRequire } from 'node:module';
const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('@playwright/test');

const url = process.argv[2];
const runs = Number(process.argv[3] ?? 3);
// Chrome DevTools' Fast 3G: 562.5 ms latency, ~1.44 Mbit/s down, ~675 kbit/s up.
const FAST_3G = { offline: false, latency: 562.5, downloadThroughput: (1.6 * 1024 * 1024 / 8) * 0.9, uploadThroughput: (750 * 1024 / 8) * 0.9 };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const results = [];
for (let i = 0; i < runs; i++) {
  // A fresh context each run: an empty cache, like a first visit.
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
    userAgent: 'Mozilla/5.0 (Linux; Android 13; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0 Mobile Safari/537.36 MicroMessenger/8.0.42',
  });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', FAST_3G);
  let bytes = 0;
  const byType = {};
  const types = new Map();
  cdp.on('Network.responseReceived', (e) => types.set(e.requestId, e.type));
  cdp.on('Network.loadingFinished', (e) => {
    bytes += e.encodedDataLength;
    const type = types.get(e.requestId) ?? 'Other';
    byType[type] = (byType[type] ?? 0) + e.encodedDataLength;
  });
  const started = Date.now();
  await page.goto(url, { waitUntil: 'commit' });
  await page.locator('button[type="submit"]').first().waitFor();
  await page.waitForFunction(() => {
    const button = document.querySelector('.uploader:not(.fallback) button[type="submit"]');
    return button && !button.disabled;
  }, null, { timeout: 120_000, polling: 50 });
  const interactive = Date.now() - started;
  const firstContentfulPaint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null);
  results.push({ interactive_ms: interactive, first_contentful_paint_ms: firstContentfulPaint, bytes, by_type: byType });
  await context.close();
}
await browser.close();
console.log(JSON.stringify(results));
