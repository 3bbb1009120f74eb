import {
  JOHN,
  apiToken,
  expect,
  genuineTokenParts,
  hydrated,
  open,
  rawStoredToken,
  serverSecretKey,
  signIn,
  signJwt,
  jwtParts,
  storeToken,
  EXPIRES_KEY,
  fingerprintCookieHeader,
  storedRefreshToken,
  storedToken,
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

  test("sign out ends the session on the server: its tokens stop working for everyone", async ({ page, request }) => {
    await signIn(page, JOHN.username, JOHN.password);
    const access = await storedToken(page);
    const refresh = await storedRefreshToken(page);
    expect(access).not.toBeNull();
    expect(refresh).not.toBeNull();
    // The tokens are bound to this browser: sent as the browser sends them, with
    // its fingerprint cookie (which signing out clears from the browser).
    const Cookie = await fingerprintCookieHeader(page);
    const before = await request.get("/users/me/", { headers: { Authorization: `Bearer ${access}`, Cookie } });
    expect(before.status()).toBe(200);

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login\?reason=signedout$/);

    const after = await request.get("/users/me/", { headers: { Authorization: `Bearer ${access}`, Cookie } });
    expect(after.status()).toBe(401);
    const renewed = await request.post("/token", {
      form: { grant_type: "refresh_token", refresh_token: refresh! },
      headers: { Cookie },
    });
    expect(renewed.status()).toBe(400);
  });

  test("an access token about to expire is renewed silently, and the old one is spent", async ({ page, request }) => {
    await signIn(page, JOHN.username, JOHN.password);
    const first = await storedToken(page);
    const firstRefresh = await storedRefreshToken(page);
    // Pretend the access token expires now: the app renews it before using it.
    await page.evaluate((key) => localStorage.setItem(key, JSON.stringify(Date.now())), EXPIRES_KEY);
    await page.reload();
    await hydrated(page);
    await expect(page.locator('dd[data-field="username"]')).toHaveText(JOHN.username);
    await expect(page).toHaveURL(/\/profile$/);
    await expect.poll(() => storedToken(page)).not.toBe(first);
    const expiresAt = await page.evaluate((key) => JSON.parse(localStorage.getItem(key) ?? "0"), EXPIRES_KEY);
    expect(expiresAt).toBeGreaterThan(Date.now() + 5 * 60 * 1000);

    // The refresh token that was used is spent: presenting it again (with the
    // browser's cookie, as only this browser could) ends the session.
    const replay = await request.post("/token", {
      form: { grant_type: "refresh_token", refresh_token: firstRefresh! },
      headers: { Cookie: await fingerprintCookieHeader(page) },
    });
    expect(replay.status()).toBe(400);
    await page.reload();
    await expect(page).toHaveURL(LOGIN_FOR_PROFILE("expired"));
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

  test("an expired token sends the user to sign in again and is forgotten", async ({ page, request }) => {
    // A genuine token of a live session, re-signed with the server's key but expired.
    const { header, claims } = await genuineTokenParts(request, JOHN.username, JOHN.password);
    const expired = signJwt(
      { ...claims, exp: Math.floor(Date.now() / 1000) - 60 },
      serverSecretKey(),
      header,
    );
    await storeToken(page, expired);
    await open(page, "/profile");
    await expect(page).toHaveURL(LOGIN_FOR_PROFILE("expired"));
    await expect(page.locator(".notice")).toHaveText(EXPIRED_NOTICE);
    expect(await rawStoredToken(page)).toBeNull();
  });

  test("the same token, still valid, is accepted (the expired one failed only for its age)", async ({ page, request }) => {
    const { header, claims } = jwtParts(await apiToken(request, JOHN.username, JOHN.password));
    const valid = signJwt(
      { ...claims, exp: Math.floor(Date.now() / 1000) + 600 },
      serverSecretKey(),
      header,
    );
    await storeToken(page, valid);
    await open(page, "/profile");
    await expect(page.locator('dd[data-field="username"]')).toHaveText(JOHN.username);
    await expect(page).toHaveURL(/\/profile$/);
  });

  test("a token with a changed payload is refused like an expired one", async ({ page, request }) => {
    // A genuine token with a longer life under its original signature: the same
    // claims signed with the server's key are accepted, so only the signature fails.
    const genuine = await apiToken(request, JOHN.username, JOHN.password);
    const [header, , signature] = genuine.split(".");
    const { header: headerFields, claims } = jwtParts(genuine);
    const longer = { ...claims, exp: Number(claims.exp) + 3600 };
    const signed = signJwt(longer, serverSecretKey(), headerFields);
    const control = await request.get("/users/me/", { headers: { Authorization: `Bearer ${signed}` } });
    expect(control.status(), "the longer-lived claims, signed with the server's key").toBe(200);
    const tampered = Buffer.from(JSON.stringify(longer)).toString("base64url");
    await storeToken(page, `${header}.${tampered}.${signature}`);

    await open(page, "/profile");
    await expect(page).toHaveURL(LOGIN_FOR_PROFILE("expired"));
    await expect(page.locator(".notice")).toHaveText(EXPIRED_NOTICE);
    expect(await rawStoredToken(page)).toBeNull();
  });

  test("a token signed with another key is refused like an expired one", async ({ page, request }) => {
    // A genuine token of a live session, its header and claims kept: only the key differs.
    const { header, claims } = await genuineTokenParts(request, JOHN.username, JOHN.password);
    const forged = signJwt(claims, "an-entirely-different-signing-key-of-enough-length", header);
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
