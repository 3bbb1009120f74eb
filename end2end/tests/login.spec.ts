import {
  ALICE_DISABLED,
  JOHN,
  expect,
  open,
  rawStoredToken,
  registerUser,
  submitLogin,
  test,
} from "./fixtures";

const INCORRECT = "Incorrect username or password.";

test.describe("signing in", () => {
  test("the right password shows the profile with name, email and granted scopes", async ({ page }) => {
    await open(page, "/login");
    await expect(page).toHaveTitle("Sign in · latchkey");
    await submitLogin(page, JOHN.username, JOHN.password);

    await expect(page).toHaveURL(/\/profile$/);
    await expect(page).toHaveTitle("Your profile · latchkey");
    await expect(page.getByRole("heading", { level: 1, name: JOHN.fullName })).toBeVisible();
    await expect(page.locator('dd[data-field="username"]')).toHaveText(JOHN.username);
    await expect(page.locator('dd[data-field="full_name"]')).toHaveText(JOHN.fullName);
    await expect(page.locator('dd[data-field="email"]')).toHaveText(JOHN.email);
    await expect(page.locator('dd[data-field="scopes"]')).toHaveText("me, items");
    // gloo-storage keeps the token as a JSON string.
    expect(await rawStoredToken(page)).toMatch(/^"[\w-]+\.[\w-]+\.[\w-]+"$/);
  });

  test("a wrong password and an unknown user get the same answer", async ({ page }) => {
    await open(page, "/login");
    const error = page.locator("#login-error");
    await expect(error).toBeEmpty();
    const answer = async (username: string) => {
      const response = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/login");
      await submitLogin(page, username, "not-the-password");
      const r = await response;
      await expect(error).toHaveText(INCORRECT);
      return { status: r.status(), body: await r.text() };
    };

    const wrongPassword = await answer(JOHN.username);
    const unknownUser = await answer("nobody-by-this-name");
    expect(wrongPassword.status).toBe(401);
    expect(unknownUser).toEqual(wrongPassword);
    await expect(page.getByRole("alert")).toHaveText(INCORRECT);
    await expect(page).toHaveURL(/\/login$/);
    expect(await rawStoredToken(page)).toBeNull();
  });

  test("after repeated wrong passwords the account is blocked for a while, and the page says so", async ({ page, request }) => {
    const user = await registerUser(request, "throttled");
    await open(page, "/login");
    const error = page.locator("#login-error");
    for (let attempt = 1; attempt <= 5; attempt++) {
      const response = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/login");
      await submitLogin(page, user.username, `wrong-${attempt}`);
      expect((await response).status(), `attempt ${attempt}`).toBe(401);
      await expect(error).toHaveText(INCORRECT);
    }
    // Now even the right password is refused until the block ends.
    const response = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/login");
    await submitLogin(page, user.username, user.password);
    expect((await response).status()).toBe(429);
    await expect(error).toHaveText(/^Too many login attempts\. Try again in \d+ seconds\.$/);
    await expect(page).toHaveURL(/\/login$/);
    expect(await rawStoredToken(page)).toBeNull();
  });

  test("a disabled account is told so, even with the right password", async ({ page }) => {
    await open(page, "/login");
    await submitLogin(page, ALICE_DISABLED.username, ALICE_DISABLED.password);
    await expect(page.locator("#login-error")).toHaveText(/^This account is disabled/);
    await expect(page).toHaveURL(/\/login$/);
    expect(await rawStoredToken(page)).toBeNull();
  });

  test("the button says it is signing in and cannot be pressed twice meanwhile", async ({ page }) => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    await page.route("**/api/login**", async (route) => {
      calls += 1;
      await released;
      await route.continue();
    });

    await open(page, "/login");
    await submitLogin(page, JOHN.username, JOHN.password);
    const pending = page.getByRole("button", { name: "Signing in…" });
    await expect(pending).toBeDisabled();
    await expect(pending).toHaveAttribute("aria-busy", "true");
    await pending.click({ force: true });

    release();
    await expect(page).toHaveURL(/\/profile$/);
    await expect(page.locator('dd[data-field="username"]')).toHaveText(JOHN.username);
    expect(calls).toBe(1);
  });

  test("works with the keyboard alone", async ({ page }) => {
    await open(page, "/login");
    await page.getByLabel("Username").focus();
    await page.keyboard.type(JOHN.username);
    await page.keyboard.press("Tab");
    await expect(page.getByLabel("Password")).toBeFocused();
    await page.keyboard.type(JOHN.password);
    await page.keyboard.press("Enter");

    await expect(page).toHaveURL(/\/profile$/);
    await expect(page.locator('dd[data-field="full_name"]')).toHaveText(JOHN.fullName);
  });

  test("says so when the server cannot be reached", async ({ page, consoleGuard }) => {
    consoleGuard.allowAbortedLoad(/\/api\/login/);
    await page.route("**/api/login**", (route) => route.abort());

    await open(page, "/login");
    await submitLogin(page, JOHN.username, JOHN.password);
    await expect(page.locator("#login-error")).toHaveText(/^Cannot reach the server/);
    await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
    await expect(page).toHaveURL(/\/login$/);
    expect(await rawStoredToken(page)).toBeNull();
  });
});
