// The browser app through nginx (the repository's deploy/nginx.conf, TLS) in front
// of two instances sharing one database: .ci/test starts the proxy and passes its
// URL in LATCHKEY_E2E_PROXY_URL, and the instances' addresses in
// LATCHKEY_E2E_PROXY_UPSTREAMS. nginx names the instance of each answer in
// X-Latchkey-Upstream.
import { expect, registerUser, signIn, test } from "./fixtures";

const proxyURL = process.env.LATCHKEY_E2E_PROXY_URL;
const upstreams = (process.env.LATCHKEY_E2E_PROXY_UPSTREAMS ?? "").split(" ").filter(Boolean);
const required = !!process.env.CI || process.env.LATCHKEY_E2E_PROXY_REQUIRED === "1";

test.describe("through nginx in front of two instances", () => {
  // Outside CI and .ci/test (no proxy started), there is nothing to test.
  test.skip(!proxyURL && !required, "no proxy: run through .ci/test");
  test.use({ baseURL: proxyURL, ignoreHTTPSErrors: true });

  test("signing in shows the profile and items, served by both instances", async ({ page, request }) => {
    expect(proxyURL, "LATCHKEY_E2E_PROXY_URL: the proxy was not started").toBeTruthy();
    expect(upstreams).toHaveLength(2);
    const servedBy = new Set<string>();
    page.on("response", (response) => {
      const upstream = response.headers()["x-latchkey-upstream"];
      if (upstream) servedBy.add(upstream);
    });

    const user = await registerUser(request, "proxy");
    await signIn(page, user.username, user.password);
    await expect(page.locator('dd[data-field="full_name"]')).toHaveText(user.fullName);

    await page.locator("#item-id").fill("lamp");
    await page.locator("#item-description").fill("Through the proxy");
    await page.getByRole("button", { name: "Add item" }).click();
    await expect(page.locator('li[data-item="lamp"]')).toContainText("Through the proxy");

    // A reload reads profile and items again, from whichever instance nginx picks.
    for (let i = 0; i < 3; i += 1) {
      await page.reload();
      await expect(page.locator('dd[data-field="username"]')).toHaveText(user.username);
      await expect(page.locator('li[data-item="lamp"]')).toContainText("Through the proxy");
    }
    expect([...servedBy].sort()).toEqual([...upstreams].sort());
  });
});
