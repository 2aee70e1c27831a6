// The options of a script tag, from its data attributes: data-token,
// data-logout-url, data-text-title-cue and the rest, as the README's
// table of options lists them.

// optionsOf returns the options that the data attributes (a dataset)
// give. A boolean attribute is on when present, unless it says "false";
// data-css="none" and data-dialog="none" turn the client's stylesheet and
// warning dialog off.
export function optionsOf(data) {
  const flag = name => name in data && data[name] != "false";
  const texts = {}; // data-text-title-cue is texts.titleCue
  for (const key in data) if (/^text[A-Z]/.test(key)) texts[key[4].toLowerCase() + key.slice(5)] = data[key];
  return {
    token: data.token,
    url: data.url,
    logoutUrl: data.logoutUrl,
    warnAfter: data.warnAfter,
    expireAfter: data.expireAfter,
    passive: flag("passive"),
    requireButton: flag("requireButton"),
    transport: data.transport,
    logoutMethod: data.logoutMethod,
    csrfToken: data.csrfToken,
    csrfField: data.csrfField,
    confirmUnload: flag("confirmUnload"),
    css: data.css != "none",
    dialog: data.dialog != "none",
    texts,
  };
}
