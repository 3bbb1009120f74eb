import { defineConfig, devices } from "@playwright/test";
import { launchOptions } from "./chromium";

const baseURL = process.env.LATCHKEY_BASE_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  testDir: "./tests",
  // `cargo leptos end-to-end` starts the server and this command at the same
  // time: wait for the server before running any test.
  globalSetup: "./global-setup.ts",
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  workers: 1,
  retries: 0,
  reporter: "list",
  use: {
    baseURL,
    screenshot: "only-on-failure",
    trace: "off",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        // Debian's Chromium: the machine has no internet (end2end/chromium.js).
        launchOptions,
      },
    },
  ],
});
