// Time to a hydrated login form in headless Chromium, for .ci/bench: from the start
// of the navigation to the moment the app marks <body data-hydrated> (what the
// Playwright tests wait for), read from the page's own clock.
//
//   node .ci/hydration.mjs URL [LOADS]
//
// Prints "cold warm bytes": two medians in ms, cold for a first visit (a new
// browser context, empty cache, every load) and warm for a returning one (the same
// context, its files cached, after one visit that filled the cache); and what the
// browser downloaded on its first visit, every response body as it came (brotli),
// the files the app loads itself included, once the network is quiet.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "end2end", "package.json"));
const { chromium } = require("playwright-core");
const { launchOptions } = require("./chromium.js");

const url = process.argv[2];
const loads = Number(process.argv[3] ?? 10);
if (!url) {
  console.error("usage: node .ci/hydration.mjs URL [LOADS]");
  process.exit(2);
}

// Records performance.now() when the app sets data-hydrated on <body>.
const markHydration = () => {
  const seen = () => {
    if (document.body?.hasAttribute("data-hydrated")) {
      window.__hydratedAt ??= performance.now();
      return true;
    }
    return false;
  };
  new MutationObserver(seen).observe(document, { attributes: true, subtree: true, childList: true });
};

// Loads the page once: [ms to hydrated, response body bytes downloaded].
async function timeLoad(context) {
  const page = await context.newPage();
  const sizes = [];
  page.on("requestfinished", (request) => sizes.push(request.sizes()));
  await page.addInitScript(markHydration);
  await page.goto(url);
  await page.waitForFunction(() => window.__hydratedAt !== undefined);
  const ms = await page.evaluate(() => window.__hydratedAt);
  await page.waitForLoadState("networkidle");
  const bytes = (await Promise.all(sizes)).reduce((sum, s) => sum + s.responseBodySize, 0);
  await page.close();
  return [ms, bytes];
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const browser = await chromium.launch(launchOptions);
try {
  const cold = [];
  let firstBytes = 0;
  for (let i = 0; i < loads; i++) {
    const context = await browser.newContext();
    const [ms, bytes] = await timeLoad(context);
    cold.push(ms);
    firstBytes = Math.max(firstBytes, bytes);
    await context.close();
  }
  const context = await browser.newContext();
  await timeLoad(context);
  const warm = [];
  for (let i = 0; i < loads; i++) warm.push((await timeLoad(context))[0]);
  await context.close();
  console.log(`${median(cold).toFixed(0)} ${median(warm).toFixed(0)} ${firstBytes}`);
} finally {
  await browser.close();
}
