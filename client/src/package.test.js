// client/package.json, the npm package of the built client: the files it
// names exist, and an application that installs it resolves the module,
// its declarations and the stylesheet to the built files.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import test from "node:test";
import { fileURLToPath } from "node:url";

const client = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(client, "package.json"), "utf8"));

// targets lists every file an exports map points at.
const targets = value => (typeof value == "string" ? [value] : Object.values(value).flatMap(targets));

test("package.json names built files that exist, and ships each one it points at", () => {
  assert.equal(pkg.type, "module");
  assert.equal(pkg.module, "./presence.mjs");
  assert.equal(pkg.types, "./presence.d.ts");
  assert.deepEqual(pkg.exports["."], { types: "./presence.d.ts", import: "./presence.mjs" });
  assert.ok(!pkg.private, "the package is meant to be publishable");
  for (const file of pkg.files) assert.ok(existsSync(join(client, file)), `files names ${file}, which does not exist`);
  for (const target of [pkg.module, pkg.types, ...targets(pkg.exports)]) {
    const file = target.replace(/^\.\//, "");
    assert.ok(existsSync(join(client, file)), `${target} does not exist`);
    assert.ok(file == "package.json" || pkg.files.includes(file), `${target} is not in files`);
  }
});

test("an application that installs the package resolves its exports to the built files", () => {
  const app = mkdtempSync(join(tmpdir(), "presence-package-"));
  try {
    const installed = join(app, "node_modules", pkg.name);
    mkdirSync(dirname(installed), { recursive: true });
    symlinkSync(client, installed, "dir");
    writeFileSync(join(app, "package.json"), '{"type": "module"}');
    writeFileSync(
      join(app, "resolve.js"),
      `for (const name of process.argv.slice(2)) console.log(import.meta.resolve(name));`,
    );
    const names = [pkg.name, pkg.name + "/presence.css", pkg.name + "/presence.js", pkg.name + "/package.json"];
    const resolved = execFileSync(process.execPath, ["resolve.js", ...names], { cwd: app, encoding: "utf8" }).trim().split("\n");
    assert.deepEqual(
      resolved.map(url => fileURLToPath(url)),
      ["presence.mjs", "presence.css", "presence.js", "package.json"].map(file => join(client, file)),
    );
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});
