import { test, expect } from "@playwright/test";

test("home page hydrates without errors", async ({ page }) => {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));

  await page.goto("/");
  // The app sets data-hydrated on <body> once the wasm has mounted.
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });

  await expect(page).toHaveTitle(/latchkey/i);
  expect(errors).toEqual([]);
});
