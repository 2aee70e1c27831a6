import assert from "node:assert/strict";
import test from "node:test";
import { optionsOf } from "./attributes.js";

test("a script tag's data attributes give the options of the JavaScript API", () => {
  const options = optionsOf({
    token: "t",
    url: "wss://presence.example/ws",
    logoutUrl: "/bye",
    warnAfter: "540",
    expireAfter: "600",
    passive: "",
    requireButton: "false",
    transport: "ping",
    logoutMethod: "post",
    csrfToken: "c",
    csrfField: "csrf",
    shareSocket: "",
    textTitle: "Still there?",
    textTitleCue: "",
  });
  assert.deepEqual(options, {
    token: "t",
    url: "wss://presence.example/ws",
    logoutUrl: "/bye",
    warnAfter: "540",
    expireAfter: "600",
    passive: true,
    requireButton: false,
    transport: "ping",
    logoutMethod: "post",
    csrfToken: "c",
    csrfField: "csrf",
    confirmUnload: false,
    shareSocket: true,
    css: true,
    dialog: true,
    texts: { title: "Still there?", titleCue: "" },
  });
});

test('data-css="none" and data-dialog="none" turn the stylesheet and the warning dialog off', () => {
  assert.equal(optionsOf({ css: "none" }).css, false);
  assert.equal(optionsOf({ dialog: "none" }).dialog, false);
  for (const value of ["", "true", "false", "yes"]) {
    assert.equal(optionsOf({ dialog: value }).dialog, true, value);
    assert.equal(optionsOf({ css: value }).css, true, value);
  }
});
