// presence.d.ts against the client: every option the client reads, every
// event it emits, every error code it explains, every text and every
// method of the handle is declared, and nothing else is.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import test from "node:test";
import { optionsOf } from "./attributes.js";
import { TEXTS } from "./texts.js";

const read = name => readFileSync(new URL(name, import.meta.url), "utf8");
const types = read("../presence.d.ts");
const sources = readdirSync(new URL(".", import.meta.url))
  .filter(name => name.endsWith(".js") && !name.endsWith(".test.js") && name != "testkit.js")
  .map(name => read(name))
  .join("\n");

// What start.js adds to the options for the state machine: not options.
const INTERNAL = ["base", "origin"];

const all = (text, pattern) => [...text.matchAll(pattern)].map(m => m[1]);
const sorted = names => [...new Set(names)].sort();

// declared returns the members of an interface of presence.d.ts.
function declared(name) {
  const body = types.match(new RegExp(`export interface ${name}\\b[^{]*\\{([\\s\\S]*?)\\n\\}`));
  assert.ok(body, `presence.d.ts declares no interface ${name}`);
  return sorted(all(body[1], /^ {2}(?:readonly )?(\w+)\??[:(<]/gm));
}

test("every option the client reads is declared, and every declared option is read", () => {
  const reads = all(sources, /\boptions\.(\w+)/g).filter(name => !INTERNAL.includes(name));
  const fromAttributes = Object.keys(optionsOf({}));
  assert.deepEqual(declared("StartOptions"), sorted([...reads, ...fromAttributes]));
});

test("every event the client emits is declared, with a detail type", () => {
  const emitted = all(sources, /\bemit\((?:t, )?"(\w+)"/g);
  assert.deepEqual(declared("PresenceEvents"), sorted(emitted));
});

test("every error code the client explains is declared", () => {
  const fixes = sources.match(/const FIXES = \{([\s\S]*?)\n\};/);
  assert.ok(fixes, "refusal.js has no FIXES");
  const union = types.match(/export type ErrorCode =([\s\S]*?);/);
  assert.ok(union, "presence.d.ts declares no ErrorCode");
  assert.deepEqual(sorted(all(union[1], /"(\w+)"/g)), sorted(all(fixes[1], /^ {2}(\w+):/gm)));
});

test("every text is declared", () => {
  assert.deepEqual(declared("PresenceTexts"), sorted(Object.keys(TEXTS)));
});

test("the handle's methods are declared", () => {
  const handle = read("start.js").match(/const handle = \{([\s\S]*?)\n {2}\};/);
  assert.ok(handle, "start.js has no handle");
  assert.deepEqual(declared("PresenceHandle"), sorted(all(handle[1], /^ {4}(\w+)[:(]/gm)));
});

test("presence.mjs exports what presence.d.ts declares", () => {
  const bundle = read("../presence.mjs").match(/export\s*\{([^}]*)\}/);
  assert.ok(bundle, "presence.mjs exports nothing");
  const exported = bundle[1].split(",").map(name => name.trim().split(/\s+as\s+/).pop());
  assert.deepEqual(sorted(all(types, /^export function (\w+)/gm)), sorted(exported));
  assert.deepEqual(sorted(all(read("module.js"), /^export function (\w+)/gm)), sorted(exported));
});
