// The options of a script tag, from its data attributes: data-token,
// data-logout-url, data-text-title-cue and the rest, as the README's
// table of options lists them.

// optionsOf returns the options that the data attributes (a dataset)
// give. A boolean attribute is on when present, unless it says "false";
// data-css="none" and data-dialog="none" turn the client's stylesheet and
// warning dialog off.
export function optionsOf(data) {
  const flag = name => name in data && data[name] != "false";
  const options = { texts: {} }; // data-text-title-cue is texts.titleCue
  for (const key in data) if (/^text[A-Z]/.test(key)) options.texts[key[4].toLowerCase() + key.slice(5)] = data[key];
  for (const name of STRINGS) options[name] = data[name];
  for (const name of FLAGS) options[name] = flag(name);
  options.css = data.css != "none";
  options.dialog = data.dialog != "none";
  return options;
}

// The options that data attributes give as they are, and those that are
// on when present.
const STRINGS = ["token", "url", "logoutUrl", "warnAfter", "expireAfter", "transport", "logoutMethod", "csrfToken", "csrfField"];
const FLAGS = ["passive", "requireButton", "confirmUnload", "shareSocket"];
