// The dialog: the one place that touches what the person sees. It renders
// the view that the state machine decided (page, dialog, covered, ended or
// gone) and the countdown; it decides nothing itself.
//
// Accessibility: a modal alertdialog named by its title and described by
// its text; focus moves to "Stay signed in", Tab cycles between the two
// buttons and cannot leave, Escape means "Stay signed in", and focus goes
// back where it was. Screen readers hear the countdown in coarse steps.
// Before an absolute end, which nothing puts off, the text says when it
// comes and the one button is "OK".
//
// An application may show a warning of its own (the dialog option false):
// then the warning leaves the page as it is but for the class on <html>
// and the title cue, while the cover and the ended screen still hide the
// content, since a page must never stay on screen past its session's end.

import { announcement, countdown } from "./timeline.js";

const html = document.documentElement;

const CLASSES = { dialog: "presence-warning", covered: "presence-checking", ended: "presence-expired" };

// element makes an element with the class presence-<name>, in parent.
function element(tag, name, parent, text) {
  const node = document.createElement(tag);
  if (name) node.className = "presence-" + name;
  if (text) node.textContent = text;
  if (parent) parent.append(node);
  return node;
}

function attributes(node, values) {
  for (const name in values) node.setAttribute(name, values[name]);
  return node;
}

// formatUnit says "3 minutes" in the page's language. Its formats are
// made once, when the dialog is built: the first can take a tenth of a
// second, which would hold back the warning's first frame.
const formats = {};
function formatUnit(value, unit) {
  try {
    return (formats[unit] ||= new Intl.NumberFormat(html.lang || [], { style: "unit", unit, unitDisplay: "long" })).format(value);
  } catch {
    return value + " " + unit + (value == 1 ? "" : "s");
  }
}

// createDialog builds the dialog once, detached; it joins the page the
// first time it shows. id makes the ids of its title and text unique;
// onStay and onLogout run when the person chooses. drawn is false where
// the application draws the warning itself.
export function createDialog(texts, id, listen, onStay, onLogout, drawn) {
  formatUnit(0, "minute");
  formatUnit(0, "second");
  const root = element("div", "root");
  const dialog = attributes(element("div", "dialog", root), {
    role: "alertdialog",
    "aria-modal": "true",
    "aria-labelledby": id + "-t",
    "aria-describedby": id + "-b",
  });
  element("h2", "title", dialog, texts.title).id = id + "-t";
  const body = element("p", "body", dialog);
  const timeLeft = element("span", "countdown");
  body.id = id + "-b";
  const idleBody = texts.body.split("{time}").flatMap((text, i) => (i ? [timeLeft, text] : [text]));
  body.append(...idleBody);
  const actions = element("div", "actions", dialog);
  const stay = element("button", "stay", actions, texts.stay);
  const leave = element("button", "logout", actions, texts.logout);
  const live = attributes(element("div", "live", dialog), { "aria-live": "assertive", "aria-atomic": "true" });
  const ended = attributes(element("p", "ended", root, texts.ended), { role: "status" });
  const covered = attributes(element("p", "covered", root, texts.covered), { role: "status" });
  const cue = texts.titleCue;
  let shown = "page", focusBefore, lastSaid, endShown;

  // showEnd sets the dialog for the idle warning (endAt false) or for the
  // absolute end at endAt, a Date.now() instant, said as a time of day in
  // the browser's language (the page's may not be one it knows).
  function showEnd(endAt) {
    if (endShown === endAt) return;
    endShown = endAt;
    stay.textContent = endAt ? texts.ok : texts.stay;
    leave.hidden = !!endAt;
    body.replaceChildren(...(endAt ? [texts.ends.replace("{end}", new Date(endAt).toLocaleTimeString([], { timeStyle: "short" }))] : idleBody));
  }

  root.hidden = true;
  stay.type = leave.type = "button";
  stay.onclick = onStay;
  leave.onclick = onLogout;
  dialog.onkeydown = e => {
    if (e.key == "Escape") onStay();
    else if (e.key == "Tab") (document.activeElement == stay ? leave : stay).focus();
    else return;
    e.preventDefault();
  };
  // Keep focus in the dialog while it shows.
  listen(document, "focusin", e => drawn && shown == "dialog" && !dialog.contains(e.target) && stay.focus(), true);

  const attach = () => root.isConnected || (document.body || html).append(root);
  const untitle = () => cue && document.title.startsWith(cue) && (document.title = document.title.slice(cue.length));

  function tell(msLeft) {
    const text = formatUnit(...countdown(msLeft));
    if (timeLeft.textContent != text) timeLeft.textContent = text;
    const step = announcement(Math.ceil(Math.max(0, msLeft) / 1e3), lastSaid);
    if (step) {
      lastSaid = step;
      live.textContent = body.textContent;
    }
  }

  function show(view, msLeft) {
    const before = shown;
    const focus = document.activeElement;
    shown = view;
    // Where focus was on the page, to give it back when the page shows
    // again, even after a cover hid everything in between.
    if (before == "page") focusBefore = focus;
    if (before == "dialog") untitle();
    for (const name in CLASSES) html.classList.toggle(CLASSES[name], name == view);
    if (view == "gone") return root.remove();
    if (view == "dialog" && !document.title.startsWith(cue)) document.title = cue + document.title;
    root.hidden = view == "page" || (view == "dialog" && !drawn);
    dialog.hidden = view != "dialog";
    ended.hidden = view != "ended";
    covered.hidden = view != "covered";
    if (view == "page") {
      if ((dialog.contains(focus) || !focus || focus == document.body) && focusBefore && focusBefore.focus) focusBefore.focus();
      return;
    }
    if (root.hidden) return; // the application shows its own warning
    attach();
    if (view == "dialog") {
      lastSaid = Math.ceil(msLeft / 1e3);
      live.textContent = "";
      stay.focus();
    }
  }

  return {
    root,
    // contains reports whether node is part of the dialog, or of the
    // application's own, marked with data-presence-dialog.
    contains: node => dialog.contains(node) || !!(node.closest && node.closest("[data-presence-dialog]")),
    // render shows view, with msLeft on the countdown; endAt, when not
    // false, is the absolute end the warning is for.
    render(view, msLeft, endAt) {
      showEnd(endAt);
      if (view != shown) show(view, msLeft);
      if (view == "dialog" && drawn) tell(msLeft);
    },
  };
}
