// Leaving the page once the session ended.

// leave tells the page's expire listeners, then, unless one called
// preventDefault, goes to the redirect URL, by POST where the application
// logs out by POST only (Django 5), or reloads. departing runs just
// before it goes, since the browser asks beforeunload at once. A page that never heard from presence (reload false) does not reload:
// a page born expired with no logout URL cannot loop.
export function leave({ reason, redirectUrl, reload }, options, emit, container, departing) {
  const event = {
    reason,
    redirectUrl,
    defaultPrevented: false,
    preventDefault() {
      event.defaultPrevented = true;
    },
  };
  emit("expire", event);
  const url = event.redirectUrl; // a listener may change it
  if (event.defaultPrevented || (!url && !reload)) return;
  departing();
  if (!url) location.reload();
  else if (/^post$/i.test(options.logoutMethod)) {
    const form = document.createElement("form");
    form.method = "post";
    form.action = url;
    if (options.csrfToken) {
      const field = form.appendChild(document.createElement("input"));
      field.type = "hidden";
      field.name = options.csrfField || "csrfmiddlewaretoken";
      field.value = options.csrfToken;
    }
    container.append(form);
    form.submit();
  } else location.replace(url);
}
