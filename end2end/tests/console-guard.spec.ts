import { type Allowances, isConsoleProblem } from "./fixtures";
import { expect, test } from "@playwright/test";

// The guard every other test relies on: check that it lets through only what the
// tests provoke on purpose.
test.describe("the console guard", () => {
  const none: Allowances = { failedLoads: [], abortedLoads: [] };
  const origin = "http://127.0.0.1:3000";
  const failed = (status: string) =>
    `Failed to load resource: the server responded with a status of ${status}`;

  test("tolerates a 4xx answer to a server function only", () => {
    const line = (text: string, path: string) => ({ type: "error", text, url: origin + path });
    expect(isConsoleProblem(line(failed("401 (Unauthorized)"), "/api/login"), none)).toBe(false);
    expect(isConsoleProblem(line(failed("409 (Conflict)"), "/api/add_item"), none)).toBe(false);
    expect(isConsoleProblem(line(failed("500 (Internal Server Error)"), "/api/login"), none)).toBe(true);
    expect(isConsoleProblem(line(failed("404 (Not Found)"), "/pkg/latchkey.css"), none)).toBe(true);
    expect(isConsoleProblem(line(failed("404 (Not Found)"), "/nowhere"), none)).toBe(true);
    expect(
      isConsoleProblem(line(failed("404 (Not Found)"), "/nowhere"), {
        ...none,
        failedLoads: [/\/nowhere$/],
      }),
    ).toBe(false);
  });

  test("tolerates an aborted request only where the test aborts it", () => {
    const aborted = { type: "error", text: "Failed to load resource: net::ERR_FAILED", url: `${origin}/api/login` };
    expect(isConsoleProblem(aborted, none)).toBe(true);
    expect(isConsoleProblem(aborted, { ...none, abortedLoads: [/\/api\/login/] })).toBe(false);
  });

  test("reports every other error and warning, hydration warnings included", () => {
    const url = `${origin}/pkg/latchkey.js`;
    expect(isConsoleProblem({ type: "warning", text: "hydration error: expected <p>", url }, none)).toBe(true);
    expect(isConsoleProblem({ type: "error", text: "panicked at src/app/mod.rs", url }, none)).toBe(true);
    expect(isConsoleProblem({ type: "warning", text: failed("401 (Unauthorized)"), url }, none)).toBe(true);
    expect(isConsoleProblem({ type: "log", text: "hello", url }, none)).toBe(false);
  });
});
