// Uploads through the portal in headless Chromium and prints JSON figures:
//   node bench/uploads.mjs <portal url> upload <file>...   time from "Upload" to every row done,
//                                                          the page's peak RSS (renderer) and the
//                                                          longest main-thread stall meanwhile
//   node bench/uploads.mjs <portal url> xhr <file>          Chromium alone: one signed form POST of
//                                                          the file by a bare XMLHttpRequest (no
//                                                          hashing, no engine), the browser's floor,
//                                                          and the longest main-thread stall
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

/** Starts timing the page's main thread: the longest gap between ticks of a 10 ms timer is how
 * long it was busy at once. */
const watchStalls = () => page.evaluate(() => {
  let last = performance.now();
  window.benchStall = 0;
  window.benchTick = setInterval(() => {
    const now = performance.now();
    window.benchStall = Math.max(window.benchStall, now - last);
    last = now;
  }, 10);
});
const longestStall = () => page.evaluate(() => { clearInterval(window.benchTick); return window.benchStall; });
await page.goto(url);
await page.locator('.uploader:not(.fallback) button[type="submit"]:not([disabled])').waitFor();
let out;
if (mode === 'upload') {
  await page.getByLabel('Files').setInputFiles(rest);
  out = await withRendererPeak(async () => {
    // Found before the clock starts: finding a button by its role and name walks the whole
    // page in the page's main thread (~250 ms with 200 rows), which is the tool's time.
    const upload = await page.getByRole('button', { name: 'Upload', exact: true }).elementHandle();
    await watchStalls();
    const started = Date.now();
    await upload.click();
    await page.waitForFunction((n) => document.querySelectorAll('li.upload[data-state="done"]').length === n,
      rest.length, { timeout: 1_800_000, polling: 100 });
    const seconds = (Date.now() - started) / 1000;
    const longest_stall_ms = await longestStall();
    const failed = await page.locator('li.upload[data-state="failed"]').count();
    const verified = await page.locator('li.upload .verified').count();
    return { seconds, files: rest.length, failed, verified, longest_stall_ms };
  });
} else {
  // A file input of our own (the page's picker moves what it is given into its list): the
  // bytes are a real file on disk, read as the page reads a picked file.
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.id = 'bench-file';
    document.body.append(input);
  });
  await page.locator('#bench-file').setInputFiles(rest[0]);
  if (mode === 'xhr') {
    await watchStalls();
    out = await page.evaluate(async () => {
      const file = document.querySelector('#bench-file').files[0];
      const signed = await fetch('/api/sign_uploads', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ batch: { files: [{ name: file.name, size: file.size, content_type: 'application/octet-stream' }],
          naming: 'random', folder: 'uploads/bench-xhr' } }),
      });
      const [ticket] = await signed.json();
      const form = new FormData();
      for (const [name, value] of ticket.fields) form.append(name, value);
      form.append('file', file);
      const started = performance.now();
      const status = await new Promise((resolve) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', ticket.url);
        xhr.onloadend = () => resolve(xhr.status);
        xhr.send(form);
      });
      return { seconds: (performance.now() - started) / 1000, status };
    });
    out.longest_stall_ms = await longestStall();
    if (out.status !== 200) throw new Error(`the bare POST answered ${out.status}`);
  }
}
await browser.close();
console.log(JSON.stringify(out));
