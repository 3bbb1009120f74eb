import {
  JOHN,
  apiToken,
  expect,
  hydrated,
  open,
  rawStoredToken,
  serverSecretKey,
  signIn,
  signJwt,
  storeToken,
  submitLogin,
  test,
} from "./fixtures";

const SIGN_IN_NOTICE = "Please sign in to continue.";
const EXPIRED_NOTICE = "Your session has expired or is no longer valid. Please sign in again.";
const SIGNED_OUT_NOTICE = "You have been signed out.";

/** The login page the profile sends a visitor to, asking to come back afterwards. */
const LOGIN_FOR_PROFILE = (reason: string) =>
  new RegExp(`/login\\?next=/profile&reason=${reason}$`);

test.describe("the session", () => {
  test("survives a reload of the profile", async ({ page }) => {
    await signIn(page, JOHN.username, JOHN.password);
    await page.reload();
    await hydrated(page);
    await expect(page).toHaveURL(/\/profile$/);
    await expect(page.locator('dd[data-field="username"]')).toHaveText(JOHN.username);
    await expect(page.locator('dd[data-field="email"]')).toHaveText(JOHN.email);
  });

  test("ends with sign out: the token is gone and the profile asks to sign in again", async ({ page }) => {
    await signIn(page, JOHN.username, JOHN.password);
    expect(await rawStoredToken(page)).not.toBeNull();

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login\?reason=signedout$/);
    await expect(page.locator(".notice")).toHaveText(SIGNED_OUT_NOTICE);
    expect(await rawStoredToken(page)).toBeNull();

    await open(page, "/profile");
    await expect(page).toHaveURL(LOGIN_FOR_PROFILE("signin"));
    await expect(page.locator(".notice")).toHaveText(SIGN_IN_NOTICE);
    expect(await rawStoredToken(page)).toBeNull();
  });

  test("the profile without a token asks to sign in, then comes back to the profile", async ({ page }) => {
    await open(page, "/profile");
    await expect(page).toHaveURL(LOGIN_FOR_PROFILE("signin"));
    await expect(page.locator(".notice")).toHaveText(SIGN_IN_NOTICE);
    await hydrated(page);

    await submitLogin(page, JOHN.username, JOHN.password);
    await expect(page).toHaveURL(/\/profile$/);
    await expect(page.locator('dd[data-field="full_name"]')).toHaveText(JOHN.fullName);
  });

  test("a next parameter pointing at another site lands on the profile instead", async ({ page, baseURL }) => {
    await open(page, "/login?next=//evil.example");
    await submitLogin(page, JOHN.username, JOHN.password);
    await expect(page).toHaveURL(new URL("/profile", baseURL).toString());
    await expect(page.locator('dd[data-field="username"]')).toHaveText(JOHN.username);
  });

  test("an expired token sends the user to sign in again and is forgotten", async ({ page }) => {
    const expired = signJwt(
      { sub: JOHN.username, scopes: ["me", "items"], exp: Math.floor(Date.now() / 1000) - 60 },
      serverSecretKey(),
    );
    await storeToken(page, expired);
    await open(page, "/profile");
    await expect(page).toHaveURL(LOGIN_FOR_PROFILE("expired"));
    await expect(page.locator(".notice")).toHaveText(EXPIRED_NOTICE);
    expect(await rawStoredToken(page)).toBeNull();
  });

  test("the same token, still valid, is accepted (the expired one failed only for its age)", async ({ page }) => {
    const valid = signJwt(
      { sub: JOHN.username, scopes: ["me", "items"], exp: Math.floor(Date.now() / 1000) + 600 },
      serverSecretKey(),
    );
    await storeToken(page, valid);
    await open(page, "/profile");
    await expect(page.locator('dd[data-field="username"]')).toHaveText(JOHN.username);
    await expect(page).toHaveURL(/\/profile$/);
  });

  test("a token with a changed payload is refused like an expired one", async ({ page, request }) => {
    const genuine = await apiToken(request, JOHN.username, JOHN.password);
    const [header, payload, signature] = genuine.split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    claims.sub = "alice";
    const tampered = Buffer.from(JSON.stringify(claims)).toString("base64url");
    await storeToken(page, `${header}.${tampered}.${signature}`);

    await open(page, "/profile");
    await expect(page).toHaveURL(LOGIN_FOR_PROFILE("expired"));
    await expect(page.locator(".notice")).toHaveText(EXPIRED_NOTICE);
    expect(await rawStoredToken(page)).toBeNull();
  });

  test("a token signed with another key is refused like an expired one", async ({ page }) => {
    const forged = signJwt(
      { sub: JOHN.username, scopes: ["me", "items"], exp: Math.floor(Date.now() / 1000) + 600 },
      "an-entirely-different-signing-key-of-enough-length",
    );
    await storeToken(page, forged);
    await open(page, "/profile");
    await expect(page).toHaveURL(LOGIN_FOR_PROFILE("expired"));
    await expect(page.locator(".notice")).toHaveText(EXPIRED_NOTICE);
    expect(await rawStoredToken(page)).toBeNull();
  });
});

test.describe("the start page", () => {
  test("sends a visitor without a session to the login page", async ({ page }) => {
    await page.goto("/");
    await expect(page).toHaveURL(/\/login$/);
    await hydrated(page);
    await expect(page).toHaveTitle("Sign in · latchkey");
  });

  test("sends a signed-in user to the profile", async ({ page }) => {
    await signIn(page, JOHN.username, JOHN.password);
    await open(page, "/");
    await expect(page).toHaveURL(/\/profile$/);
    await expect(page.locator('dd[data-field="username"]')).toHaveText(JOHN.username);
    await expect(page).toHaveTitle("Your profile · latchkey");
  });
});
