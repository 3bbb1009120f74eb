import type { BrowserContext, CDPSession, Page } from "@playwright/test";
import { JOHN, expect, hydrated, submitLogin, test } from "./fixtures";

/** One request of a page load, as Chromium's network log shows it. */
type Load = { url: string; status: number; fromCache: boolean; encoding: string | undefined };

/**
 * Opens `path` in a new page of `context` and waits for hydration, recording every
 * request the load made and whether Chromium answered it from its cache (memory
 * or disk) or from the network.
 */
async function visit(context: BrowserContext, path: string): Promise<{ page: Page; loads: Load[] }> {
  const page = await context.newPage();
  const cdp: CDPSession = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  const loads = new Map<string, Load>();
  const servedFromCache = new Set<string>();
  cdp.on("Network.requestServedFromCache", ({ requestId }) => servedFromCache.add(requestId));
  cdp.on("Network.responseReceived", ({ requestId, response }) => {
    loads.set(requestId, {
      url: response.url,
      status: response.status,
      fromCache: Boolean(response.fromDiskCache || response.fromPrefetchCache || response.fromServiceWorker),
      encoding: Object.entries(response.headers).find(([name]) => name.toLowerCase() === "content-encoding")?.[1],
    });
  });
  await page.goto(path);
  await hydrated(page);
  await page.waitForLoadState("networkidle");
  await cdp.detach();
  const all = [...loads.entries()].map(([id, load]) => ({
    ...load,
    fromCache: load.fromCache || servedFromCache.has(id),
  }));
  return { page, loads: all };
}

const pathOf = (url: string) => new URL(url).pathname;
const isAsset = (load: Load) => pathOf(load.url).startsWith("/pkg/");

test.describe("caching", () => {
  test("a returning visit fetches only the page: its files come from the browser's cache", async ({ context }) => {
    const first = await visit(context, "/login");
    const assets = first.loads.filter(isAsset);
    // The stylesheet, the app's script and WebAssembly, and the loader of the
    // other pages' code (`cargo leptos --split`); none of that code itself.
    const names = assets.map((load) => pathOf(load.url).replace(/^\/pkg\//, "").replace(/\.[^.]+\./, ".*."));
    expect(names.sort()).toEqual(["__wasm_split.*.js", "latchkey.*.css", "latchkey.*.js", "latchkey.*.wasm"]);
    for (const asset of assets) {
      expect(asset.fromCache, `${asset.url} on a first visit`).toBe(false);
      expect(asset.status).toBe(200);
      expect(["br", "gzip"], `${asset.url} is sent compressed`).toContain(asset.encoding);
    }
    await first.page.close();

    const second = await visit(context, "/login");
    const fromNetwork = second.loads.filter((load) => !load.fromCache).map((load) => pathOf(load.url));
    expect(fromNetwork, "only the page itself comes from the network").toEqual(["/login"]);
    expect(second.loads.filter(isAsset).map((load) => load.url).sort()).toEqual(
      assets.map((load) => load.url).sort(),
    );

    // The page served from the network and its cached files make a live app.
    await submitLogin(second.page, JOHN.username, JOHN.password);
    await expect(second.page).toHaveURL(/\/profile$/);
    await expect(second.page.locator('dd[data-field="username"]')).toHaveText(JOHN.username);
  });
});
