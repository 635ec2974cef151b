import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { badInput, notFound } from "../../../platform/errors";

/**
 * Turns a path a client sent into the real path of a regular file inside one of `roots`, or
 * refuses. MLflow's artifact-path CVEs came in waves because each fix decoded or normalised
 * once more than the check did (..%2f, then %252e%252e%252f, then "#/../"). So nothing is
 * decoded or normalised here: a path is taken literally, and anything that would *mean*
 * something else to a URL parser, a shell or Windows is refused outright rather than cleaned.
 *
 * Order matters: the lexical checks run before the file system is touched, so a path
 * outside the roots cannot be used to learn whether some file exists.
 *
 * Limitation: the check and the caller's open are two steps. Someone who can write inside a
 * root could swap a directory for a symlink in between; roots should be writable only by
 * Ouro (uploads go to the content-addressed store, never into a root).
 */
export async function resolveAllowedPath(userPath: string, roots: string[]): Promise<string> {
  rejectSuspiciousText(userPath);
  const realRoots = await realRootsOf(roots);
  if (realRoots.length === 0) throw badInput("no data directories are configured, so no server path can be read");

  const candidates = path.isAbsolute(userPath)
    ? [path.resolve(userPath)]
    : roots.map((root) => path.resolve(root, userPath));
  // Lexically inside a root as configured or as it really is (a root may be a symlink).
  const lexicalRoots = [...roots.map((root) => path.resolve(root)), ...realRoots];
  const inside = candidates.filter((candidate) => lexicalRoots.some((root) => isInside(candidate, root)));
  if (inside.length === 0) throw outside(userPath);

  for (const candidate of inside) {
    let real: string;
    try {
      real = await realpath(candidate);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") continue;
      throw badInput(`path ${show(userPath)} cannot be read`, { path: userPath });
    }
    // Symlinks are followed by realpath; the result must still lie inside a (real) root.
    if (!realRoots.some((root) => isInside(real, root))) {
      throw badInput(`path ${show(userPath)} leads outside the allowed data directories (through a symbolic link)`, { path: userPath });
    }
    const info = await stat(real);
    if (info.isDirectory()) throw badInput(`path ${show(userPath)} is a directory, not a file`, { path: userPath });
    if (!info.isFile()) {
      throw badInput(`path ${show(userPath)} is not a regular file (a pipe, socket or device cannot be read as data)`, { path: userPath });
    }
    return real;
  }
  throw notFound("file", show(userPath));
}

/**
 * Characters and shapes refused before anything else. Each one has been the key to a real
 * traversal bypass somewhere:
 *  - NUL and other control characters: C strings end at NUL ("a.csv\0../../etc/passwd").
 *  - "%" followed by two hex digits: a path that some layer will URL-decode later.
 *  - backslash: a separator on Windows and in some zip and URL libraries.
 *  - ";" "?" "#": path parameters, queries and fragments to a URL parser (";/../", "?../").
 *  - a scheme ("file:", "s3:", "C:"): a URL or a drive, not a path.
 *  - "..": the parent directory, as any segment.
 */
function rejectSuspiciousText(userPath: string): void {
  if (typeof userPath !== "string" || userPath.length === 0) throw badInput("a path is required");
  if (userPath.length > 4096) throw badInput("path is longer than 4096 characters");
  const refuse = (why: string) => badInput(`path ${show(userPath)} is refused: ${why}`, { path: userPath });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(userPath)) throw refuse("it contains a NUL or control character");
  if (/%[0-9a-f]{2}/i.test(userPath)) throw refuse("it contains a percent-encoded sequence; give the literal file name");
  if (userPath.includes("\\")) throw refuse("it contains a backslash; use / between directories");
  if (/[;?#]/.test(userPath)) throw refuse("it contains ; ? or #, which change meaning when a path passes through a URL");
  if (/^[a-z][a-z0-9+.-]*:/i.test(userPath)) throw refuse("it is a URL or drive, not a path (use a URL source for URLs)");
  if (userPath.split("/").includes("..")) throw refuse("it contains a '..' segment");
}

/** `child` equals `parent` or is below it; "/data-evil" is not inside "/data". */
function isInside(child: string, parent: string): boolean {
  if (child === parent) return true;
  const withSep = parent.endsWith(path.sep) ? parent : parent + path.sep;
  return child.startsWith(withSep);
}

async function realRootsOf(roots: string[]): Promise<string[]> {
  const real: string[] = [];
  for (const root of roots) {
    // A relative root would depend on the working directory; that is a configuration bug.
    if (!path.isAbsolute(root)) throw new Error(`data root must be an absolute path: ${root}`);
    try {
      real.push(await realpath(root));
    } catch {
      // A root that does not exist (yet) allows nothing; the others still apply.
    }
  }
  return real;
}

const outside = (userPath: string) =>
  badInput(`path ${show(userPath)} is outside the allowed data directories`, { path: userPath });

/** The path as the user sent it, quoted, with invisible characters made visible. */
const show = (userPath: string) => JSON.stringify(userPath.length > 200 ? `${userPath.slice(0, 200)}…` : userPath);
