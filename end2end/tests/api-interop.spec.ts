import { JOHN, apiToken, expect, open, signIn, storedToken, storeToken, test } from "./fixtures";

test.describe("one token for the browser app and the JSON API", () => {
  test("the token the browser keeps works against /users/me/", async ({ page }) => {
    await signIn(page, JOHN.username, JOHN.password);
    const token = await storedToken(page);
    expect(token).toBeTruthy();

    const answer = await page.evaluate(async (bearer) => {
      const response = await fetch("/users/me/", { headers: { Authorization: `Bearer ${bearer}` } });
      return { status: response.status, body: await response.json() };
    }, token!);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      username: JOHN.username,
      full_name: JOHN.fullName,
      email: JOHN.email,
      disabled: false,
    });
  });

  test("a token from POST /token signs the browser in", async ({ page, request }) => {
    const token = await apiToken(request, JOHN.username, JOHN.password);
    await storeToken(page, token);
    await open(page, "/profile");
    await expect(page).toHaveURL(/\/profile$/);
    await expect(page.locator('dd[data-field="username"]')).toHaveText(JOHN.username);
    await expect(page.locator('dd[data-field="full_name"]')).toHaveText(JOHN.fullName);
    await expect(page.locator('dd[data-field="scopes"]')).toHaveText("me, items");
  });
});
