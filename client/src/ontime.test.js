// Without presence, a tab's own deadlines come on time: the tick is a
// second apart, so a timer set for the next one shows the warning and the
// cover at their instants, not up to a second later.

import assert from "node:assert/strict";
import test from "node:test";
import { Tab } from "./testkit.js";

// killed is a tab whose presence went away without a close frame, 1 s
// after the page's load and its state frame.
const killed = () => new Tab().open().after(1e3, { type: "closed", code: 1006, wasOpen: true });

test("without presence the warning and the cover come on time, by a timer, not a second later by the tick", () => {
  const tab = killed().ticks(1e3); // the first tick without contact sets the timer
  assert.equal(tab.timer("deadline"), 58e3, "the warning's instant: 60 s after the last activity, 2 s ago");
  tab.after(58e3, { type: "timer", name: "deadline" });
  assert.equal(tab.state.status, "warned");
  assert.equal(tab.timer("deadline"), 60e3, "the end's instant");
  tab.after(20e3, { type: "activity" });
  assert.equal(tab.state.status, "alone");
  assert.equal(tab.timer("deadline"), 60e3, "activity puts the warning off: 60 s from now");
  tab.after(60e3, { type: "timer", name: "deadline" });
  assert.equal(tab.state.status, "warned");
  tab.after(60e3, { type: "timer", name: "deadline" });
  assert.equal(tab.state.view, "covered");
});
