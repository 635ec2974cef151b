// `jupyter labextension build .` without its package-manager step: recent jupyter_builder
// releases run `jlpm install` over the whole npm workspace, which re-downloads everything with
// yarn. The builder itself only needs JupyterLab's core package.json (its shared singletons),
// which ships in the installed jupyterlab Python package (python = the first on PATH, i.e.
// .venv's when run from scripts/python-env.sh).
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const python = process.env.PYTHON ?? "python";
let corePath;
try {
  corePath = execFileSync(python, ["-c", "import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), 'staging'))"], { encoding: "utf8" }).trim();
} catch {
  console.error(`cannot import jupyterlab with ${python}: run scripts/python-env.sh (or put a Python with jupyterlab first on PATH)`);
  process.exit(1);
}
const builder = createRequire(import.meta.url).resolve("@jupyterlab/builder/lib/build-labextension.js");
execFileSync(process.execPath, [builder, "--core-path", corePath, here], { stdio: "inherit", cwd: here });
