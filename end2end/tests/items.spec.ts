import type { APIRequestContext, Page } from "@playwright/test";
import {
  JOHN,
  apiToken,
  expect,
  hydrated,
  open,
  registerUser,
  signIn,
  storeToken,
  test,
  uniqueName,
} from "./fixtures";

// Every test works as a user of its own, created for it, so items never collide.
async function signInAsFreshUser(page: Page, request: APIRequestContext) {
  const user = await registerUser(request, "items");
  const token = await apiToken(request, user.username, user.password);
  await storeToken(page, token);
  await open(page, "/profile");
  await expect(page.locator('dd[data-field="username"]')).toHaveText(user.username);
  return { ...user, token };
}

async function addItem(page: Page, id: string, description = ""): Promise<void> {
  await page.locator("#item-id").fill(id);
  await page.locator("#item-description").fill(description);
  await page.getByRole("button", { name: "Add item" }).click();
}

test.describe("items on the profile", () => {
  test("items can be added one after another with the keyboard alone", async ({ page, request }) => {
    await signInAsFreshUser(page, request);
    await page.locator("#item-id").focus();
    for (const id of ["first", "second"]) {
      await page.keyboard.type(id);
      await page.keyboard.press("Tab");
      await page.keyboard.type(`the ${id} one`);
      await page.keyboard.press("Enter");
      await expect(page.locator(`li[data-item="${id}"]`)).toContainText(`the ${id} one`);
      // Ready for the next item: the focus is back in the empty id field.
      await expect(page.locator("#item-id")).toBeFocused();
      await expect(page.locator("#item-id")).toHaveValue("");
    }
  });

  test("an added item stays after a reload, and a deleted one stays gone", async ({ page, request }) => {
    await signInAsFreshUser(page, request);
    await expect(page.getByText("No items yet.")).toBeVisible();

    await addItem(page, "umbrella", "The red one, by the door");
    const item = page.locator('li[data-item="umbrella"]');
    await expect(item).toContainText("umbrella");
    await expect(item).toContainText("The red one, by the door");
    // The list is reloaded from the server; the status line outlives that.
    await expect(page.locator("#item-message")).toHaveText("Added umbrella.");
    // The form is cleared for the next item.
    await expect(page.locator("#item-id")).toHaveValue("");
    await expect(page.locator("#item-description")).toHaveValue("");

    await page.reload();
    await hydrated(page);
    await expect(item).toContainText("The red one, by the door");

    await page.getByRole("button", { name: "Delete umbrella" }).click();
    await expect(item).toHaveCount(0);
    await expect(page.getByText("No items yet.")).toBeVisible();
    await expect(page.locator("#item-message")).toHaveText("Item deleted.");

    await page.reload();
    await hydrated(page);
    await expect(page.getByText("No items yet.")).toBeVisible();
    await expect(item).toHaveCount(0);
  });

  test("adding an id that exists already says so and keeps one item", async ({ page, request }) => {
    await signInAsFreshUser(page, request);
    await addItem(page, "keys", "spare set");
    await expect(page.locator('li[data-item="keys"]')).toBeVisible();
    await expect(page.locator("#item-message")).toHaveText("Added keys.");

    await addItem(page, "keys", "another set");
    await expect(page.locator("#item-message")).toHaveText("You already have an item with that id.");
    await expect(page.locator('li[data-item="keys"]')).toHaveCount(1);
    await expect(page.locator('li[data-item="keys"]')).toContainText("spare set");
  });

  test("an empty item id is refused before anything is sent", async ({ page, request }) => {
    await signInAsFreshUser(page, request);
    const sent: string[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).pathname === "/api/add_item") sent.push(r.url());
    });

    // Empty: the browser's own required-field check stops the form.
    await addItem(page, "");
    expect(
      await page.locator("#item-id").evaluate((input: HTMLInputElement) => input.validity.valueMissing),
    ).toBe(true);
    // Only spaces: the app's check.
    await addItem(page, "   ", "nothing");
    await expect(page.locator("#item-message")).toHaveText("Enter an item id.");
    await expect(page.locator("ul.items li")).toHaveCount(0);
    expect(sent).toEqual([]);
  });

  test("items added through the JSON API show on the profile, and only for their owner", async ({ page, request }) => {
    const user = await signInAsFreshUser(page, request);
    const itemId = uniqueName("api-item");
    const created = await request.post("/users/me/items/", {
      headers: { Authorization: `Bearer ${user.token}` },
      data: { item_id: itemId, description: "made with the API" },
    });
    expect(created.status(), await created.text()).toBe(201);

    await page.reload();
    await hydrated(page);
    await expect(page.locator(`li[data-item="${itemId}"]`)).toContainText("made with the API");

    await signIn(page, JOHN.username, JOHN.password);
    await expect(page.getByRole("heading", { name: "Your items" })).toBeVisible();
    await expect(page.locator(`li[data-item="${itemId}"]`)).toHaveCount(0);
  });
});
