// Runs after `npm install` / `npm ci`. Ouro runs on the Node 24 that the `node` devDependency
// puts in node_modules/.bin; when npm itself ran on an older Node, it skipped optional native
// packages that require Node >= 22 (polars' platform binary). Install them again with Node 24.
const { execFileSync } = require("node:child_process");
const path = require("node:path");

function polarsLoads() {
  try {
    execFileSync(path.join(__dirname, "..", "node_modules", ".bin", "node"), ["-e", "require('nodejs-polars')"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

if (process.env.OURO_SKIP_POSTINSTALL || polarsLoads()) process.exit(0);
console.log("ouro: installing native packages for Node 24 ...");
const bin = path.join(__dirname, "..", "node_modules", ".bin");
execFileSync("npm", ["install", "--no-save", "--ignore-scripts", "--no-audit", "--no-fund"], {
  stdio: "inherit",
  env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, OURO_SKIP_POSTINSTALL: "1" },
});
if (!polarsLoads()) {
  console.error("ouro: nodejs-polars still does not load; data features will not work on this platform");
  process.exitCode = 1;
}
