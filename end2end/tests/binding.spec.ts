// The browser app's tokens are bound to the browser that signed in (an HttpOnly
// fingerprint cookie): lifted out of LocalStorage, they are refused anywhere else.
// And tabs of one session renew one at a time (a Web Lock), so they never present
// one refresh token twice, which would end the session as a reuse.
import type { Page } from "@playwright/test";
import {
  EXPIRES_KEY,
  FINGERPRINT_COOKIE,
  JOHN,
  REFRESH_KEY,
  TOKEN_KEY,
  expect,
  hydrated,
  signIn,
  storedRefreshToken,
  storedToken,
  test,
} from "./fixtures";

const PROFILE_USERNAME = 'dd[data-field="username"]';

/** `GET /users/me/` with `token`, from the page itself (its cookies go along). */
async function meFromPage(page: Page, token: string): Promise<number> {
  return page.evaluate(async (bearer) => {
    const response = await fetch("/users/me/", { headers: { Authorization: `Bearer ${bearer}` } });
    return response.status;
  }, token);
}

/** Makes the stored access token due for renewal in every tab of the context. */
async function expireAccessToken(page: Page): Promise<void> {
  await page.evaluate((key) => localStorage.setItem(key, JSON.stringify(Date.now())), EXPIRES_KEY);
}

test.describe("tokens bound to the browser", () => {
  test("the fingerprint cookie is HttpOnly, Secure and SameSite=Strict, out of scripts' reach", async ({ page }) => {
    await signIn(page, JOHN.username, JOHN.password);
    const cookies = await page.context().cookies();
    const fingerprint = cookies.find((cookie) => cookie.name === FINGERPRINT_COOKIE);
    expect(fingerprint).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/" });
    expect(await page.evaluate(() => document.cookie)).not.toContain(FINGERPRINT_COOKIE);
  });

  test("a token lifted from storage is refused from another browser, while the page keeps working", async ({
    page,
    browser,
  }) => {
    await signIn(page, JOHN.username, JOHN.password);
    const access = (await storedToken(page))!;
    const refresh = (await storedRefreshToken(page))!;
    // Positive control: the same token, sent by the page that holds it.
    expect(await meFromPage(page, access)).toBe(200);

    // Another browser (or curl): the same token, without this browser's cookie.
    const elsewhere = await browser.newContext();
    try {
      const me = await elsewhere.request.get("/users/me/", { headers: { Authorization: `Bearer ${access}` } });
      expect(me.status()).toBe(401);
      expect(await me.json()).toEqual({ detail: "Could not validate credentials" });
      expect(me.headers()["www-authenticate"]).toBe('Bearer scope="me"');
      const renewed = await elsewhere.request.post("/token", {
        form: { grant_type: "refresh_token", refresh_token: refresh },
      });
      expect(renewed.status()).toBe(400);
      expect(await renewed.json()).toEqual({ detail: "Invalid or expired refresh token" });
    } finally {
      await elsewhere.close();
    }

    // The page goes on: its token still opens the profile, and the refresh token
    // the thief tried is unspent, so the page's own renewal works with it.
    expect(await meFromPage(page, access)).toBe(200);
    await expireAccessToken(page);
    await page.reload();
    await hydrated(page);
    await expect(page.locator(PROFILE_USERNAME)).toHaveText(JOHN.username);
    await expect.poll(() => storedRefreshToken(page)).not.toBe(refresh);
    await expect(page).toHaveURL(/\/profile$/);
    expect(await meFromPage(page, (await storedToken(page))!)).toBe(200);
  });

  test("two tabs of one session renewing at the same moment both stay signed in", async ({ page }) => {
    const context = page.context();
    await signIn(page, JOHN.username, JOHN.password);
    const second = await context.newPage();
    await second.goto("/profile");
    await hydrated(second);
    await expect(second.locator(PROFILE_USERNAME)).toHaveText(JOHN.username);

    // Every renewal is held for a moment before it reaches the server, so that
    // without a lock both tabs would send the same refresh token.
    let renewals = 0;
    await context.route("**/api/refresh", async (route) => {
      renewals += 1;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await route.continue();
    });
    const refresh = await storedRefreshToken(page);
    await expireAccessToken(page);
    await Promise.all([page.reload(), second.reload()]);
    for (const tab of [page, second]) {
      await hydrated(tab);
      await expect(tab.locator(PROFILE_USERNAME)).toHaveText(JOHN.username);
      await expect(tab).toHaveURL(/\/profile$/);
    }
    await expect.poll(() => storedRefreshToken(page)).not.toBe(refresh);
    expect(renewals, "one tab renewed, the other used its tokens").toBe(1);

    // The session is live: both tabs, reloaded, still show the profile.
    await context.unroute("**/api/refresh");
    for (const tab of [page, second]) {
      await tab.reload();
      await hydrated(tab);
      await expect(tab.locator(PROFILE_USERNAME)).toHaveText(JOHN.username);
      await expect(tab).toHaveURL(/\/profile$/);
      expect(await meFromPage(tab, (await storedToken(tab))!)).toBe(200);
    }
  });
  test("a tab that waited for another's renewal waits for its tokens to reach its storage", async ({ page }) => {
    // The other tab is played by the test, on a blank page of the site: it takes
    // the renewal lock, renews, lets the lock go, and only then, late, stores the
    // new tokens, as Chromium may hand one process's LocalStorage writes to another.
    const context = page.context();
    await signIn(page, JOHN.username, JOHN.password);
    const refresh = await storedRefreshToken(page);
    const blank = "/__e2e__/blank";
    await page.route(`**${blank}`, (route) =>
      route.fulfill({ contentType: "text/html", body: '<!doctype html><title>blank</title><link rel="icon" href="data:,">' }),
    );
    await page.goto(blank);

    const second = await context.newPage();
    let renewalsOfTheApp = 0;
    await second.route("**/api/refresh", async (route) => {
      renewalsOfTheApp += 1;
      await route.continue();
    });
    await second.goto("/profile");
    await hydrated(second);
    await expect(second.locator(PROFILE_USERNAME)).toHaveText(JOHN.username);

    await page.evaluate(
      ({ lock, refreshToken, keys }) => {
        const w = window as unknown as { held: Promise<void>; renewal: Promise<number> };
        let held: () => void;
        w.held = new Promise<void>((resolve) => (held = resolve));
        let renewed: (tokens: { access_token: string; refresh_token: string; expires_in: number }) => void;
        const tokens = new Promise<{ access_token: string; refresh_token: string; expires_in: number }>(
          (resolve) => (renewed = resolve),
        );
        w.renewal = navigator.locks
          .request(lock, async () => {
            held();
            // Until the app's tab waits for the lock.
            while (((await navigator.locks.query()).pending ?? []).length === 0) {
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
            const response = await fetch("/api/refresh", {
              method: "POST",
              headers: { "Content-Type": "application/x-www-form-urlencoded" },
              body: new URLSearchParams({ refresh_token: refreshToken }),
            });
            renewed(await response.json());
            return response.status;
          })
          .then(async (status) => {
            const fresh = await tokens;
            await new Promise((resolve) => setTimeout(resolve, 1_000));
            return { status, fresh };
          })
          .then(({ status, fresh }) => {
            // In the app's order: access token, refresh token, expiry.
            localStorage.setItem(keys.token, JSON.stringify(fresh.access_token));
            localStorage.setItem(keys.refresh, JSON.stringify(fresh.refresh_token));
            localStorage.setItem(keys.expires, JSON.stringify(Date.now() + fresh.expires_in * 1000));
            return status;
          });
        return w.held;
      },
      {
        lock: "latchkey-token-renewal",
        refreshToken: refresh!,
        keys: { token: TOKEN_KEY, refresh: REFRESH_KEY, expires: EXPIRES_KEY },
      },
    );
    // Due in the app's own tab, so that it asks for the lock as it hydrates.
    await expireAccessToken(second);
    await second.reload();
    await hydrated(second);
    expect(await page.evaluate(() => (window as unknown as { renewal: Promise<number> }).renewal)).toBe(200);

    await expect(second.locator(PROFILE_USERNAME)).toHaveText(JOHN.username);
    await expect(second).toHaveURL(/\/profile$/);
    expect(renewalsOfTheApp, "the app's tab used the other tab's tokens").toBe(0);
    const stored = await second.evaluate(
      ([tokenKey, refreshKey]) => [localStorage.getItem(tokenKey), localStorage.getItem(refreshKey)],
      [TOKEN_KEY, REFRESH_KEY] as const,
    );
    expect(JSON.parse(stored[1]!)).not.toBe(refresh);
    expect(await meFromPage(second, JSON.parse(stored[0]!))).toBe(200);
  });
});
