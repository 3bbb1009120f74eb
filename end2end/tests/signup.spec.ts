import type { Page } from "@playwright/test";
import { JOHN, expect, open, strongPassword, submitLogin, test, uniqueName } from "./fixtures";

type Form = {
  username: string;
  password: string;
  confirmation?: string;
  email?: string;
  fullName?: string;
};

async function fillSignup(page: Page, form: Form): Promise<void> {
  await page.locator("#signup-username").fill(form.username);
  await page.locator("#signup-email").fill(form.email ?? "");
  await page.locator("#signup-full-name").fill(form.fullName ?? "");
  await page.locator("#signup-password").fill(form.password);
  await page.locator("#signup-confirmation").fill(form.confirmation ?? form.password);
}

/** Records the sign-up requests the page sends. */
function watchSignupRequests(page: Page): string[] {
  const sent: string[] = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/signup") sent.push(r.method());
  });
  return sent;
}

async function createAccount(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Create account" }).click();
}

test.describe("signing up", () => {
  test("a new account goes to the login page, prefilled, and can sign in at once", async ({ page }) => {
    const username = uniqueName("newcomer");
    const password = strongPassword();
    await open(page, "/signup");
    await expect(page).toHaveTitle("Create an account · latchkey");
    await fillSignup(page, {
      username,
      password,
      email: `${username}@example.com`,
      fullName: "New Comer",
    });
    await createAccount(page);

    await expect(page).toHaveURL(/\/login\?reason=registered&username=/);
    await expect(page.locator(".notice")).toHaveText(
      "Your account was created. Sign in with your new password.",
    );
    await expect(page.getByLabel("Username")).toHaveValue(username);

    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/profile$/);
    await expect(page.locator('dd[data-field="username"]')).toHaveText(username);
    await expect(page.locator('dd[data-field="full_name"]')).toHaveText("New Comer");
    await expect(page.locator('dd[data-field="email"]')).toHaveText(`${username}@example.com`);
    await expect(page.locator('dd[data-field="scopes"]')).toHaveText("me, items");
  });

  test("a username with URL characters is prefilled exactly on the login page", async ({ page }) => {
    const username = `${uniqueName("tom")}&jerry+co`;
    const password = strongPassword();
    await open(page, "/signup");
    await fillSignup(page, { username, password });
    await createAccount(page);

    await expect(page.locator(".notice")).toHaveText(/^Your account was created/);
    await expect(page.getByLabel("Username")).toHaveValue(username);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.locator('dd[data-field="username"]')).toHaveText(username);
  });

  test("a too-short password is refused before anything is sent", async ({ page }) => {
    const sent = watchSignupRequests(page);
    await open(page, "/signup");
    await fillSignup(page, { username: uniqueName("shorty"), password: "tiny1" });
    await createAccount(page);

    await expect(page.locator("#signup-password-error")).toHaveText(
      "Password must be at least 8 characters.",
    );
    await expect(page.locator("#signup-password")).toHaveAttribute("aria-invalid", "true");
    await expect(page.locator("#signup-confirmation-error")).toBeEmpty();
    await expect(page).toHaveURL(/\/signup$/);
    expect(sent).toEqual([]);
  });

  test("a confirmation that differs is refused before anything is sent", async ({ page }) => {
    const sent = watchSignupRequests(page);
    await open(page, "/signup");
    await fillSignup(page, {
      username: uniqueName("typo"),
      password: strongPassword(),
      confirmation: strongPassword(),
    });
    await createAccount(page);

    await expect(page.locator("#signup-confirmation-error")).toHaveText("The passwords do not match.");
    await expect(page.locator("#signup-confirmation")).toHaveAttribute("aria-invalid", "true");
    await expect(page.locator("#signup-password-error")).toBeEmpty();
    await expect(page).toHaveURL(/\/signup$/);
    expect(sent).toEqual([]);
  });

  for (const common of ["password123", "qwertyuiop"]) {
    test(`a common password (${common}) is refused by the server`, async ({ page }) => {
      const sent = watchSignupRequests(page);
      await open(page, "/signup");
      await fillSignup(page, { username: uniqueName("guessable"), password: common });
      const answer = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/signup");
      await createAccount(page);

      expect((await answer).status()).toBe(422);
      await expect(page.locator("#signup-password-error")).toContainText("common");
      await expect(page.locator("#signup-password")).toHaveAttribute("aria-invalid", "true");
      await expect(page).toHaveURL(/\/signup$/);
      expect(sent).toEqual(["POST"]);
    });
  }

  test("a taken username is refused by the server", async ({ page }) => {
    await open(page, "/signup");
    await fillSignup(page, { username: JOHN.username, password: strongPassword() });
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/signup");
    await createAccount(page);

    expect((await answer).status()).toBe(409);
    await expect(page.locator("#signup-username-error")).toHaveText(
      "That username is taken. Choose another.",
    );
    await expect(page.locator("#signup-username")).toHaveAttribute("aria-invalid", "true");
    await expect(page).toHaveURL(/\/signup$/);
  });

  test("the login page links to sign-up and back", async ({ page }) => {
    await open(page, "/login");
    await page.getByRole("link", { name: "Create an account" }).click();
    await expect(page).toHaveURL(/\/signup$/);
    await expect(page.getByRole("heading", { name: "Create an account" })).toBeVisible();
    await page.getByRole("link", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await submitLogin(page, JOHN.username, JOHN.password);
    await expect(page).toHaveURL(/\/profile$/);
  });
});
