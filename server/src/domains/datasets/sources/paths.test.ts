import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveAllowedPath } from "./paths";

// Layout (all under a fresh temp dir):
//   data/a.csv, data/sub/b.csv, data/fifo, data/escape.csv -> ../secret/secret.csv,
//   data/linkdir -> ../secret, data/inner-link.csv -> a.csv
//   data-evil/x.csv (sibling whose name starts with "data"), secret/secret.csv, other/c.csv
let base: string;
let root: string;

beforeAll(() => {
  base = realpathSync(mkdtempSync(path.join(os.tmpdir(), "ouro-paths-")));
  root = path.join(base, "data");
  mkdirSync(path.join(root, "sub"), { recursive: true });
  mkdirSync(path.join(base, "data-evil"));
  mkdirSync(path.join(base, "secret"));
  mkdirSync(path.join(base, "other"));
  writeFileSync(path.join(root, "a.csv"), "a\n1\n");
  writeFileSync(path.join(root, "sub", "b.csv"), "b\n2\n");
  writeFileSync(path.join(base, "data-evil", "x.csv"), "evil\n");
  writeFileSync(path.join(base, "secret", "secret.csv"), "password\nhunter2\n");
  writeFileSync(path.join(base, "other", "c.csv"), "c\n3\n");
  symlinkSync("../secret/secret.csv", path.join(root, "escape.csv"));
  symlinkSync("../secret", path.join(root, "linkdir"));
  symlinkSync("a.csv", path.join(root, "inner-link.csv"));
  symlinkSync(root, path.join(base, "data-link"));
  execFileSync("mkfifo", [path.join(root, "fifo")]);
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

const refused = (why: string) => expect.objectContaining({ code: "BAD_USER_INPUT", message: expect.stringContaining(why) });

describe("resolveAllowedPath refuses", () => {
  const attacks: Array<[attack: string, input: () => string, why: string]> = [
    ["a ../ segment", () => "../secret/secret.csv", "'..' segment"],
    ["a ../ segment after a real directory", () => "sub/../../secret/secret.csv", "'..' segment"],
    ["a trailing .. segment", () => "sub/..", "'..' segment"],
    ["percent-encoded slash (..%2f)", () => "..%2fsecret%2fsecret.csv", "percent-encoded"],
    ["percent-encoded dots (%2e%2e/)", () => "%2e%2e/secret/secret.csv", "percent-encoded"],
    ["double-encoded traversal (%252e%252e%252f)", () => "%252e%252e%252fsecret%252fsecret.csv", "percent-encoded"],
    ["overlong UTF-8 dot (%c0%ae)", () => "%c0%ae%c0%ae/secret/secret.csv", "percent-encoded"],
    ["backslash traversal (..\\)", () => "..\\secret\\secret.csv", "backslash"],
    ["a NUL byte truncation trick", () => "a.csv\u0000../../secret/secret.csv", "NUL"],
    ["a newline in the path", () => "a.csv\n", "control character"],
    ["a file:// URL", () => "file:///etc/passwd", "URL"],
    ["an http URL", () => "http://169.254.169.254/latest/meta-data", "URL"],
    ["a Windows drive", () => "C:/Windows/win.ini", "URL or drive"],
    ["an absolute path outside the roots (/etc/passwd)", () => "/etc/passwd", "outside the allowed"],
    ["a sibling directory sharing the root's prefix (/data-evil)", () => path.join(base, "data-evil", "x.csv"), "outside the allowed"],
    ["the parent of the root", () => base, "outside the allowed"],
    ["a ;/../ path-parameter trick", () => "a.csv;/../secret/secret.csv", "; ? or #"],
    ["a #/../ fragment trick", () => "#/../secret/secret.csv", "; ? or #"],
    ["a ?../ query trick", () => "?../secret/secret.csv", "; ? or #"],
    ["a symlinked file escaping the root", () => "escape.csv", "through a symbolic link"],
    ["a symlinked directory escaping the root", () => "linkdir/secret.csv", "through a symbolic link"],
    ["a directory", () => "sub", "is a directory"],
    ["the root itself", () => root, "is a directory"],
    ["a FIFO", () => "fifo", "not a regular file"],
  ];
  for (const [attack, input, why] of attacks) {
    it(attack, async () => {
      await expect(resolveAllowedPath(input(), [root])).rejects.toEqual(refused(why));
    });
  }

  it("a character device (/dev/null) even when /dev is a root", async () => {
    await expect(resolveAllowedPath("/dev/null", ["/dev"])).rejects.toEqual(refused("not a regular file"));
  });

  it("a missing file, as not found", async () => {
    await expect(resolveAllowedPath("missing.csv", [root])).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("fullwidth dots (．．/), which are ordinary characters: nothing escapes, the file is simply not there", async () => {
    await expect(resolveAllowedPath("\uff0e\uff0e/secret/secret.csv", [root])).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("everything when no root exists", async () => {
    await expect(resolveAllowedPath("a.csv", [path.join(base, "nope")])).rejects.toEqual(refused("no data directories"));
  });

  it("does not say whether a file outside the roots exists", async () => {
    const existing = resolveAllowedPath(path.join(base, "secret", "secret.csv"), [root]);
    const missing = resolveAllowedPath(path.join(base, "secret", "nothing.csv"), [root]);
    const [a, b] = await Promise.allSettled([existing, missing]);
    expect(a.status).toBe("rejected");
    expect((a as PromiseRejectedResult).reason.message.replace("secret.csv", "X")).toBe(
      (b as PromiseRejectedResult).reason.message.replace("nothing.csv", "X"),
    );
  });
});

describe("resolveAllowedPath accepts", () => {
  it("a relative name inside the root, returning its real path", async () => {
    expect(await resolveAllowedPath("a.csv", [root])).toBe(path.join(root, "a.csv"));
    expect(await resolveAllowedPath("./sub/b.csv", [root])).toBe(path.join(root, "sub", "b.csv"));
  });

  it("an absolute path inside the root", async () => {
    expect(await resolveAllowedPath(path.join(root, "sub", "b.csv"), [root])).toBe(path.join(root, "sub", "b.csv"));
  });

  it("a symlink that stays inside the root, returning the target", async () => {
    expect(await resolveAllowedPath("inner-link.csv", [root])).toBe(path.join(root, "a.csv"));
  });

  it("a root that is itself a symlink", async () => {
    const linkRoot = path.join(base, "data-link");
    expect(await resolveAllowedPath("a.csv", [linkRoot])).toBe(path.join(root, "a.csv"));
    expect(await resolveAllowedPath(path.join(linkRoot, "a.csv"), [linkRoot])).toBe(path.join(root, "a.csv"));
  });

  it("a relative name found in the second of two roots", async () => {
    expect(await resolveAllowedPath("c.csv", [root, path.join(base, "other")])).toBe(path.join(base, "other", "c.csv"));
  });

  it("a name with a lone percent sign or a dot-dot inside a word", async () => {
    writeFileSync(path.join(root, "100% sure..csv"), "x\n");
    expect(await resolveAllowedPath("100% sure..csv", [root])).toBe(path.join(root, "100% sure..csv"));
  });
});
