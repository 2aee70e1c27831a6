// The activity tracker: which DOM events mean the person is there.

const EVENTS = ["pointerdown", "pointermove", "keydown", "wheel", "scroll", "touchstart"];

// Keys that work the dialog; pressed in it, they are not activity.
const DIALOG_KEYS = /^(Tab|Enter| |Escape|Shift|Control|Alt|Meta)$/;

// trackActivity calls report for each sign of the person: anywhere on the
// page, in the capture phase and passively, so that no page script can
// hide it and scrolling stays smooth. Working the dialog is not a sign.
export function trackActivity(listen, inDialog, report) {
  let x, y; // where the pointer last was
  const onEvent = e => {
    if (e.type == "pointermove") {
      if (e.screenX == x && e.screenY == y) return; // a move the browser made up
      x = e.screenX;
      y = e.screenY;
    }
    const target = e.target;
    if (target && target.nodeType && inDialog(target) && (e.type != "keydown" || DIALOG_KEYS.test(e.key))) return;
    report();
  };
  for (const type of EVENTS) listen(window, type, onEvent, { capture: true, passive: true });
}

// guardUnload asks before the page unloads while a form has changes not
// submitted, unless the client itself is leaving (leaving()).
export function guardUnload(listen, leaving) {
  let dirty = false;
  const mark = e => e.target.form && (dirty = true);
  listen(document, "input", mark, true);
  listen(document, "change", mark, true);
  listen(document, "submit", () => (dirty = false), true);
  listen(window, "beforeunload", e => {
    if (dirty && !leaving()) {
      e.preventDefault();
      e.returnValue = "";
    }
  });
}
