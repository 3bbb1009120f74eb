// How the tests and the bench's hydration timer launch Chromium: Debian's (the
// machine has no internet: never a downloaded browser), headless in a container.
module.exports = {
  launchOptions: {
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  },
};
