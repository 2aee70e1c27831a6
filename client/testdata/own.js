// own.js is an application that imports presence as an ES module and
// shows a warning of its own (the dialog option false), as one built on
// react-idle-timer would: onPrompt is warn, onActive is active, onIdle is
// expire. Its dialog counts down to the warn event's expiresAt, and its
// buttons call the handle's extend() and logout(). It records the
// handle's events in T, and on expire keeps the page (preventDefault),
// noting what the page showed then.
import { start } from "/presence.mjs";

const d = document.querySelector('script[src="/own.js"]').dataset;
const h = (T.handle = start({ ...JSON.parse(d.options || "{}"), dialog: false }));

const element = (tag, parent, text, id) => {
  const node = parent.appendChild(document.createElement(tag));
  if (text) node.textContent = text;
  if (id) node.id = id;
  return node;
};
// data-presence-dialog: working this dialog is not activity, as working
// presence's own is not.
const dialog = element("div", document.body, "", "own-dialog");
dialog.setAttribute("role", "alertdialog");
dialog.setAttribute("data-presence-dialog", "");
dialog.hidden = true;
const text = element("p", dialog, "Signed out in ");
const seconds = element("span", text, "", "own-countdown");
text.append(" s");
element("button", dialog, "Stay", "own-stay").onclick = () => h.extend();
element("button", dialog, "Log out", "own-logout").onclick = () => h.logout();

let ticking;
h.on("warn", e => {
  const tell = () => (seconds.textContent = Math.max(0, Math.ceil((e.expiresAt - Date.now()) / 1e3)));
  tell();
  clearInterval(ticking);
  ticking = setInterval(tell, 250);
  dialog.hidden = false;
});
h.on("active", () => {
  clearInterval(ticking);
  dialog.hidden = true;
});
h.on("expire", e => {
  e.preventDefault();
  clearInterval(ticking);
  T.atExpire = {
    classes: document.documentElement.className,
    contentHidden: getComputedStyle(document.getElementById("content")).display == "none",
    ownHidden: getComputedStyle(dialog).display == "none",
  };
});
for (const type of ["warn", "active", "expire", "state", "connection", "error"]) {
  h.on(type, e => T.events.push({ type, at: Date.now() - T.loaded, now: Date.now(), detail: JSON.parse(JSON.stringify(e)) }));
}
