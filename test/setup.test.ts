/**
 * The set-up a newcomer runs (README Quickstart): `npm ci` then `npm test` builds once, `npm ci` runs no
 * dependency install script, and bench output stays out of git.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");
const pkg = JSON.parse(read("package.json"));

it("builds incrementally, so npm test right after npm ci (whose prepare built dist/) compiles nothing again", () => {
  // prepare (run by npm ci) and pretest (run by npm test) both call the build; tsc -b skips an up-to-date dist/.
  expect(pkg.scripts.prepare).toBe("npm run build");
  expect(pkg.scripts.pretest).toBe("npm run build");
  expect(pkg.scripts.test).toBe("vitest run");
  expect(pkg.scripts.build).toMatch(/^npm run build:wasm && tsc -b tsconfig\.build\.json && /);
  const build = JSON.parse(read("tsconfig.build.json"));
  expect(build.compilerOptions.incremental).toBe(true);
  // Inside dist/, so deleting dist/ forces a full build; never packed.
  expect(build.compilerOptions.tsBuildInfoFile).toBe("dist/.tsbuildinfo");
  expect(pkg.files).toContain("!dist/.tsbuildinfo");
  // The WASM step skips when its sources' hash is unchanged.
  expect(read("scripts/build-wasm.mjs")).toMatch(/is up to date/);
});

it("denies esbuild's install script on purpose and says why in the README", () => {
  const lock = JSON.parse(read("package-lock.json"));
  const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
    .filter(([, p]) => p.hasInstallScript)
    .map(([path]) => path.replace(/^.*node_modules\//, ""));
  // Every dependency with an install script has a decision in allowScripts (npm 11.16+ warns otherwise).
  expect(Object.keys(pkg.allowScripts).sort()).toEqual(withScripts.sort());
  expect(pkg.allowScripts).toEqual({ esbuild: false });
  // esbuild's binary comes from its per-platform optional dependency, installed without a script.
  const esbuild = lock.packages["node_modules/esbuild"];
  expect(Object.keys(esbuild.optionalDependencies)).toContain("@esbuild/linux-x64");
  expect(read("README.md")).toMatch(/"allowScripts": \{ "esbuild": false \}[\s\S]{0,200}esbuild/);
});

it("keeps bench results and packed tarballs out of git", () => {
  const ignored = read(".gitignore").split("\n");
  for (const entry of ["/results/", "/posenc-demo/", "/runs/", "*.tgz"]) expect(ignored).toContain(entry);
});
