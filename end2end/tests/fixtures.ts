// The `test` every spec uses: Playwright's, plus a guard that fails a test when the
// browser logged an error or a warning (hydration warnings included) or a script
// threw, and helpers for the session the app keeps in LocalStorage.
import { createHmac, randomBytes } from "node:crypto";
import {
  test as base,
  expect,
  type APIRequestContext,
  type ConsoleMessage,
  type Page,
} from "@playwright/test";

export { expect };

/** LocalStorage key of the access token (gloo-storage keeps it as a JSON string). */
export const TOKEN_KEY = "latchkey.access_token";
/** Where the browser app keeps the refresh token and the access token's expiry. */
export const REFRESH_KEY = "latchkey.refresh_token";
export const EXPIRES_KEY = "latchkey.access_expires_at";
/** The HttpOnly cookie that binds the browser app's tokens to this browser. */
export const FINGERPRINT_COOKIE = "__Host-latchkey-fingerprint";

/** Users seeded from end2end/fixtures/users.json. */
export const JOHN = {
  username: "johndoe",
  password: "secret",
  fullName: "John Doe",
  email: "johndoe@example.com",
} as const;
export const ALICE_DISABLED = { username: "alice", password: "secretalice" } as const;

// Chromium's own line for a response with an error status. Only a 4xx answer to a
// server-function call (`/api/...`) may be provoked by a test; a 5xx, or a 4xx for
// anything else (a page, a stylesheet, the wasm), is a failure.
const FAILED_4XX = /^Failed to load resource: the server responded with a status of 4\d\d( \([^)]*\))?$/;
// The line for a request that the test itself aborted with `page.route(...).abort()`.
const ABORTED = "Failed to load resource: net::ERR_FAILED";

type ConsoleGuard = {
  /** Also tolerate a 4xx "Failed to load resource" line for a URL matching `url`. */
  allowFailedLoad(url: RegExp): void;
  /** Tolerate the net::ERR_FAILED line of requests the test aborts, for URLs matching `url`. */
  allowAbortedLoad(url: RegExp): void;
};

function isServerFunction(url: string): boolean {
  try {
    return new URL(url).pathname.startsWith("/api/");
  } catch {
    return false;
  }
}

/** A line the browser logged: its console type, text and the URL it is about. */
export type ConsoleLine = { type: string; text: string; url: string };

/** What a test said it provokes on purpose. */
export type Allowances = { failedLoads: RegExp[]; abortedLoads: RegExp[] };

/**
 * Whether `line` is a problem: any console error or warning, except Chromium's
 * network line for a 4xx answer to a server function (or to a URL the test allowed)
 * and the net::ERR_FAILED line of a request the test aborted.
 */
export function isConsoleProblem(line: ConsoleLine, allowed: Allowances): boolean {
  if (line.type !== "error" && line.type !== "warning") return false;
  if (line.type === "error" && FAILED_4XX.test(line.text)) {
    return !(isServerFunction(line.url) || allowed.failedLoads.some((re) => re.test(line.url)));
  }
  if (line.type === "error" && line.text === ABORTED) {
    return !allowed.abortedLoads.some((re) => re.test(line.url));
  }
  return true;
}

export const test = base.extend<{ consoleGuard: ConsoleGuard }>({
  consoleGuard: [
    async ({ context }, use) => {
      const problems: string[] = [];
      const allowed: Allowances = { failedLoads: [], abortedLoads: [] };
      context.on("console", (msg: ConsoleMessage) => {
        const line = { type: msg.type(), text: msg.text(), url: msg.location().url };
        if (isConsoleProblem(line, allowed)) {
          problems.push(`console.${line.type}: ${line.text}${line.url ? ` (${line.url})` : ""}`);
        }
      });
      context.on("weberror", (error) => {
        problems.push(`page error: ${error.error().message}`);
      });
      await use({
        allowFailedLoad: (url) => allowed.failedLoads.push(url),
        allowAbortedLoad: (url) => allowed.abortedLoads.push(url),
      });
      expect(problems, "the browser logged errors or warnings").toEqual([]);
    },
    { auto: true },
  ],
});

/** Waits until the app has hydrated: before that the page has no event handlers. */
export async function hydrated(page: Page): Promise<void> {
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
}

/** Opens `path` and waits for hydration. */
export async function open(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await hydrated(page);
}

/** Fills in and sends the login form of the current (hydrated) page. */
export async function submitLogin(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Signs in through the login page and waits for the profile. */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await open(page, "/login");
  await submitLogin(page, username, password);
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.locator('dd[data-field="username"]')).toHaveText(username);
}

/** The raw LocalStorage value of the token (a JSON string, quotes included), or null. */
export async function rawStoredToken(page: Page): Promise<string | null> {
  return page.evaluate((key) => window.localStorage.getItem(key), TOKEN_KEY);
}

/** The token the browser keeps, or null. */
export async function storedToken(page: Page): Promise<string | null> {
  const raw = await rawStoredToken(page);
  return raw === null ? null : (JSON.parse(raw) as string);
}

/**
 * Puts `token` into the site's LocalStorage as the app stores it, without running the
 * app: from a blank page of the same origin that Playwright answers itself.
 */
export async function storeToken(page: Page, token: string): Promise<void> {
  const blank = "/__e2e__/blank";
  await page.route(`**${blank}`, (route) =>
    route.fulfill({
      contentType: "text/html",
      body: '<!doctype html><title>blank</title><link rel="icon" href="data:,">',
    }),
  );
  await page.goto(blank);
  await page.evaluate(
    ([key, value]) => window.localStorage.setItem(key, value),
    [TOKEN_KEY, JSON.stringify(token)] as const,
  );
  await page.unroute(`**${blank}`);
}

/** The refresh token the browser keeps, or null. */
export async function storedRefreshToken(page: Page): Promise<string | null> {
  return page.evaluate((key) => JSON.parse(localStorage.getItem(key) ?? "null"), REFRESH_KEY);
}

/**
 * The `Cookie` header that carries this page's fingerprint cookie, for a request
 * made outside the browser that must act as the browser itself (a positive control).
 */
export async function fingerprintCookieHeader(page: Page): Promise<string> {
  const cookies = await page.context().cookies();
  const fingerprint = cookies.find((cookie) => cookie.name === FINGERPRINT_COOKIE);
  expect(fingerprint, "the sign-in set the fingerprint cookie").toBeTruthy();
  return `${FINGERPRINT_COOKIE}=${fingerprint!.value}`;
}

/** A token from the JSON API's `POST /token` (OAuth2 password flow). */
export async function apiToken(
  request: APIRequestContext,
  username: string,
  password: string,
): Promise<string> {
  const response = await request.post("/token", { form: { username, password } });
  expect(response.status(), await response.text()).toBe(200);
  const body = (await response.json()) as { access_token: string; token_type: string };
  expect(body.token_type).toBe("bearer");
  return body.access_token;
}

/** A username no earlier run used (the data directory may be reused by hand). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
}

/** A password that passes every rule (long, unrelated words). */
export function strongPassword(): string {
  return `violet-harbor-lantern-${randomBytes(4).toString("hex")}`;
}

/** Creates a fresh active user through the JSON API's self-registration. */
export async function registerUser(
  request: APIRequestContext,
  prefix: string,
): Promise<{ username: string; password: string; fullName: string; email: string }> {
  const username = uniqueName(prefix);
  const user = {
    username,
    password: strongPassword(),
    fullName: `E2E ${prefix}`,
    email: `${username}@example.com`,
  };
  const response = await request.post("/users/", {
    data: {
      username: user.username,
      password: user.password,
      full_name: user.fullName,
      email: user.email,
    },
  });
  expect(response.status(), await response.text()).toBe(201);
  return user;
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

/**
 * An HS256 JWT over `payload`, signed with the UTF-8 bytes of `key` (as PyJWT does),
 * with `header` (default: PyJWT's).
 */
export function signJwt(
  payload: Record<string, unknown>,
  key: string,
  header: Record<string, unknown> = { alg: "HS256", typ: "JWT" },
): string {
  const encodedHeader = base64url(JSON.stringify(header));
  const body = base64url(JSON.stringify(payload));
  const signature = createHmac("sha256", Buffer.from(key, "utf8"))
    .update(`${encodedHeader}.${body}`)
    .digest("base64url");
  return `${encodedHeader}.${body}.${signature}`;
}

/** The header and claims of a JWT. */
export function jwtParts(token: string): {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
} {
  const [header, claims] = token
    .split(".")
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")));
  return { header, claims };
}

/**
 * The header and claims of an access token the server just issued to `username`,
 * once the same header and claims, signed again with the server's key, are seen
 * accepted by `/users/me/`. A token rebuilt from them that is then refused is
 * refused for what the test changed, never for how it was rebuilt (a wrong key,
 * a header or claim lost on the way).
 */
export async function genuineTokenParts(
  request: APIRequestContext,
  username: string,
  password: string,
): Promise<{ header: Record<string, unknown>; claims: Record<string, unknown> }> {
  const { header, claims } = jwtParts(await apiToken(request, username, password));
  const resigned = signJwt(claims, serverSecretKey(), header);
  const control = await request.get("/users/me/", { headers: { Authorization: `Bearer ${resigned}` } });
  expect(control.status(), "the issued token signed again unchanged is accepted").toBe(200);
  return { header, claims };
}

/** The tokens of a `POST /token` answer. */
export async function apiTokens(
  request: APIRequestContext,
  username: string,
  password: string,
): Promise<{ access_token: string; refresh_token: string; expires_in: number }> {
  const response = await request.post("/token", { form: { username, password } });
  expect(response.status(), await response.text()).toBe(200);
  return response.json();
}

/** The server's signing key, which `.ci/test` exports for these tests. */
export function serverSecretKey(): string {
  const key = process.env.LATCHKEY_SECRET_KEY;
  if (!key) {
    throw new Error(
      "LATCHKEY_SECRET_KEY is not set: export the key the server under test signs with",
    );
  }
  return key;
}
