import { JOHN, expect, hydrated, open, signIn, test } from "./fixtures";

test.describe("pages", () => {
  test("an unknown path shows Page not found with status 404", async ({ page, consoleGuard }) => {
    // Chromium reports the 404 of the document itself: that one is the point here.
    consoleGuard.allowFailedLoad(/\/no\/such\/page$/);
    const response = await page.goto("/no/such/page");
    expect(response?.status()).toBe(404);
    await hydrated(page);
    await expect(page.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
    await expect(page).toHaveTitle("Page not found · latchkey");

    // Its way out leads to the start page, which sends a visitor to sign in.
    await page.getByRole("link", { name: "Go to the start page" }).click();
    await expect(page).toHaveURL(/\/login$/);
  });

  test("each page has a title of its own", async ({ page }) => {
    await open(page, "/login");
    await expect(page).toHaveTitle("Sign in · latchkey");
    await open(page, "/signup");
    await expect(page).toHaveTitle("Create an account · latchkey");
    await signIn(page, JOHN.username, JOHN.password);
    await expect(page).toHaveTitle("Your profile · latchkey");
  });

  test("screenshots of the login and profile pages", async ({ page }, testInfo) => {
    await open(page, "/login");
    await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
    const login = testInfo.outputPath("login.png");
    await page.screenshot({ path: login, fullPage: true });
    await testInfo.attach("login page", { path: login, contentType: "image/png" });

    await signIn(page, JOHN.username, JOHN.password);
    await expect(page.getByRole("heading", { name: "Your items" })).toBeVisible();
    const profile = testInfo.outputPath("profile.png");
    await page.screenshot({ path: profile, fullPage: true });
    await testInfo.attach("profile page", { path: profile, contentType: "image/png" });
  });
});
