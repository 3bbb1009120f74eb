import type { FullConfig } from "@playwright/test";

const TIMEOUT_MS = 120_000;
const INTERVAL_MS = 500;

// Wait until the server answers any HTTP status at "/" (it may still be starting).
export default async function globalSetup(config: FullConfig): Promise<void> {
  const baseURL =
    (config.projects[0]?.use?.baseURL as string | undefined) ??
    process.env.LATCHKEY_BASE_URL ??
    "http://127.0.0.1:3000";
  const url = new URL("/", baseURL).toString();
  const deadline = Date.now() + TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { redirect: "manual" });
      console.log(`==> server ready: ${url} answered ${res.status}`);
      return;
    } catch (err) {
      lastError = err;
      await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
    }
  }
  throw new Error(
    `server at ${url} did not answer within ${TIMEOUT_MS / 1000} s: ${String(lastError)}`,
  );
}
