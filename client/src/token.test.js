import assert from "node:assert/strict";
import test from "node:test";
import { tokenWith } from "./testkit.js";
import { readClaims } from "./token.js";

test("readClaims reads the payload of a presence token", () => {
  const claims = { sid: "a.b:c-1", warn_after: 540, expire_after: 600, logout_url: "/accounts/logout/", uid: "Zoë" };
  assert.deepEqual(readClaims(tokenWith(claims)), claims);
});

test("readClaims returns {} for anything that is not a token", () => {
  for (const token of [undefined, "", "abc", "not base64 !", btoa("1|2"), btoa("1|" + btoa("{oops") + "|3")]) {
    assert.deepEqual(readClaims(token), {}, String(token));
  }
});
