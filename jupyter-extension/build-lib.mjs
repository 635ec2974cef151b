// Compiles src/ into lib/index.js (one ES module) for `jupyter labextension build`. The SDK,
// graphql and uPlot are bundled in; @jupyterlab/* and @lumino/* stay imports, so the page's
// shared singletons are used. Also checks that the Python package has the same version, since
// the frontend/backend handshake compares the two.
import { copyFileSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { rolldown } from "rolldown";

const here = path.dirname(fileURLToPath(import.meta.url));
const { version } = JSON.parse(readFileSync(path.join(here, "package.json"), "utf8"));
const pyVersion = /__version__ = "([^"]+)"/.exec(readFileSync(path.join(here, "ouro_jupyter/_version.py"), "utf8"))?.[1];
if (pyVersion !== version) {
  console.error(`package.json says ${version} but ouro_jupyter/_version.py says ${pyVersion}: make them equal`);
  process.exit(1);
}

// uPlot's stylesheet, next to ours (style/base.css imports it); generated, not committed.
copyFileSync(createRequire(import.meta.url).resolve("uplot/dist/uPlot.min.css"), path.join(here, "style/uplot.css"));

const bundle = await rolldown({
  input: path.join(here, "src/index.ts"),
  platform: "browser",
  external: (id) => /^@(jupyterlab|lumino)\//.test(id),
  transform: { define: { "process.env.OURO_EXTENSION_VERSION": JSON.stringify(version), "process.env.NODE_ENV": '"production"' } },
  logLevel: "warn",
});
const { output } = await bundle.write({ file: path.join(here, "lib/index.js"), format: "esm", minify: true });
await bundle.close();
console.log(`lib/index.js: ${(output[0].code.length / 1024).toFixed(0)} KiB (frontend ${version})`);
