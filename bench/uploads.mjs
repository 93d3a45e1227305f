// Uploads through the portal in headless Chromium and prints JSON figures:
//   node bench/uploads.mjs <portal url> upload <file>...   time from "Upload" to every row done,
//                                                          and the page's peak RSS (renderer)
//   node bench/uploads.mjs <portal url> md5 <MiB>           the page's MD5 throughput (WASM) and
//                                                          the longest main-thread stall meanwhile
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('@playwright/test');

const [url, mode, ...rest] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});

/** Peak RSS (KiB) of Chromium's renderer processes, sampled while `work` runs. */
async function withRendererPeak(work) {
  let peak = 0;
  const sample = () => {
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (!cmd.includes('--type=renderer')) continue;
        const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
        peak = Math.max(peak, rss);
      } catch { /* gone */ }
    }
  };
  const timer = setInterval(sample, 100);
  try {
    const result = await work();
    sample();
    return { ...result, renderer_peak_rss_kib: peak };
  } finally {
    clearInterval(timer);
  }
}

const page = await browser.newPage();
await page.goto(url);
await page.locator('.uploader:not(.fallback) button[type="submit"]:not([disabled])').waitFor();
let out;
if (mode === 'upload') {
  await page.getByLabel('Files').setInputFiles(rest);
  out = await withRendererPeak(async () => {
    const started = Date.now();
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.waitForFunction((n) => document.querySelectorAll('li.upload[data-state="done"]').length === n,
      rest.length, { timeout: 1_800_000, polling: 100 });
    const seconds = (Date.now() - started) / 1000;
    const failed = await page.locator('li.upload[data-state="failed"]').count();
    const verified = await page.locator('li.upload .verified').count();
    return { seconds, files: rest.length, failed, verified };
  });
} else if (mode === 'md5') {
  const mib = Number(rest[0] ?? 256);
  const js = await page.evaluate(() => [...document.querySelectorAll('link[rel="modulepreload"]')].map((l) => l.href)[0]);
  out = await page.evaluate(async ({ js, mib }) => {
    const mod = await import(js);
    const chunk = new Uint8Array(1 << 20);
    crypto.getRandomValues(chunk.subarray(0, 65536));
    const blob = new Blob(Array.from({ length: mib }, () => chunk));
    let last = performance.now();
    let stall = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      stall = Math.max(stall, now - last);
      last = now;
    }, 10);
    const started = performance.now();
    const md5 = await mod.md5_hex_of(blob);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(tick);
    return { mib, seconds, mib_per_s: mib / seconds, longest_stall_ms: stall, md5 };
  }, { js, mib });
}
await browser.close();
console.log(JSON.stringify(out));
