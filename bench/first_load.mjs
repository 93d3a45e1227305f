// Opens the portal in Debian's Chromium under DevTools' "Fast 3G" profile and reports, as JSON,
// the compressed bytes downloaded, the time until the Upload button is enabled (the island has
// woken) and, as a user sees it, "usable": until a file set on the picker shows up as a row (a
// different file every 250 ms until one shows: the same file twice fires no change event).
// Profiles: `desktop` (the machine's CPU) and `slow-phone` (4x CPU slowdown, WeChat on Android).
// Usage: node bench/first_load.mjs http://127.0.0.1:3300/ [runs] [desktop|slow-phone]
import { createRequire } from 'node:module';
const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('@playwright/test');

const url = process.argv[2];
const runs = Number(process.argv[3] ?? 3);
const profile = process.argv[4] ?? 'desktop';
const CPU_SLOWDOWN = { desktop: 1, 'slow-phone': 4 }[profile];
if (!CPU_SLOWDOWN) throw new Error(`unknown profile ${profile}`);
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
    userAgent:
      'Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) ' +
      'Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/5235 MMWEBSDK/20230805 MMWEBID/2651 ' +
      'MicroMessenger/8.0.42.2460(0x28002A3B) WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64',
  });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', FAST_3G);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
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
  // Usable: pick a file as soon as the picker is there, another every 250 ms, until one is a row.
  // Found by its id: once a file picked before the page woke is listed, its label says "Add
  // more files" (and it is in the reader's language).
  const picker = page.locator('#files');
  await picker.waitFor({ state: 'attached', timeout: 120_000 });
  const picked = page.getByRole('listitem').filter({ hasText: /pick-\d+\.txt/ });
  for (let n = 0; ; n++) {
    await picker.setInputFiles({ name: `pick-${n}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`file ${n}`) });
    if (await picked.first().waitFor({ timeout: 250 }).then(() => true, () => false)) break;
    if (Date.now() - started > 120_000) throw new Error('no picked file showed up within 120 s');
  }
  const usable = Date.now() - started;
  await page.waitForFunction(() => {
    const button = document.querySelector('.uploader:not(.fallback) button[type="submit"]');
    return button && !button.disabled;
  }, null, { timeout: 120_000, polling: 50 });
  const interactive = Date.now() - started;
  const firstContentfulPaint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null);
  results.push({ profile, usable_ms: usable, interactive_ms: interactive, first_contentful_paint_ms: firstContentfulPaint, bytes, by_type: byType });
  await context.close();
}
await browser.close();
console.log(JSON.stringify(results));
