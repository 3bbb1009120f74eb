import { expect, hydrated, test } from "./fixtures";

test("the start page hydrates without errors", async ({ page }) => {
  await page.goto("/");
  // The app sets data-hydrated on <body> once the wasm has mounted.
  await hydrated(page);
  await expect(page).toHaveTitle(/latchkey/i);
});
