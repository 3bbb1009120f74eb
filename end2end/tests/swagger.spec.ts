import { expect, test } from "./fixtures";

// Swagger UI is served by latchkey itself and must work offline: Authorize with the
// OAuth2 password flow against /token, then "Try it out" on a protected route.
test("swagger ui authorizes against /token and calls /users/me/", async ({ page, baseURL }) => {
  const foreign: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.protocol.startsWith("http") && url.origin !== new URL(baseURL!).origin) {
      foreign.push(request.url());
    }
  });

  await page.goto("/docs");
  await expect(page).toHaveURL(/\/docs\/$/);
  await page.getByRole("button", { name: "Authorize" }).first().click();

  // The OAuth2 password flow (the dialog also offers HTTP Basic).
  const dialog = page.locator(".dialog-ux");
  await dialog.getByRole("textbox", { name: "username:" }).fill("johndoe");
  await dialog.getByRole("textbox", { name: "password:" }).fill("secret");
  await dialog.getByRole("button", { name: "Apply given OAuth2 credentials" }).click();
  await expect(dialog.getByRole("button", { name: "Remove authorization" }).first()).toBeVisible();
  await dialog.getByRole("button", { name: "Close" }).first().click();

  const operation = page.locator("#operations-users-read_users_me");
  await operation.locator(".opblock-summary").click();
  await operation.getByRole("button", { name: "Try it out" }).click();
  await operation.getByRole("button", { name: "Execute" }).click();

  const response = operation.locator(".live-responses-table .response").first();
  await expect(response.locator(".response-col_status")).toHaveText("200");
  await expect(response.locator(".response-col_description")).toContainText('"username": "johndoe"');
  expect(foreign).toEqual([]);
});
