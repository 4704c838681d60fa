// Headless Chromium for the page tests, driven by puppeteer-core: the
// browser is Debian's (CHROMIUM, default /usr/bin/chromium), never a download.
import puppeteer from 'puppeteer-core';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export async function launchBrowser() {
  const args = ['--no-first-run', '--no-default-browser-check', '--disable-gpu', '--disable-dev-shm-usage'];
  // Chromium's sandbox refuses to run as root (a CI container).
  if (process.getuid?.() === 0)
    args.push('--no-sandbox');
  return puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args,
    protocolTimeout: 30000,
  });
}

// A page of `url` that records the page's uncaught errors and unhandled
// rejections (a test asserts there were none). Console lines of failed
// requests are left out: refused requests and a node that is down are what
// some tests make happen.
export async function openPage(browser, url, { width = 1280, height = 900 } = {}) {
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  page.problems = [];
  page.on('pageerror', (err) => page.problems.push(err.message));
  const res = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
  if (!res.ok())
    throw new Error(`GET ${url}: HTTP ${res.status()}`);
  return page;
}

// Where screenshots go: TICKGATE_BUILD_DIR (the ctest entry sets it), else
// this checkout's build/.
export function buildDir() {
  return process.env.TICKGATE_BUILD_DIR ?? fileURLToPath(new URL('../../../build', import.meta.url));
}

export const screenshotPath = (name) => join(buildDir(), name);
