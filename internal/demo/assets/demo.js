// The demo's "Log out" link ends the session in every tab through
// presence, as an application's logout button would.
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("#logout");
  const presence = window.Presence && window.Presence.handle;
  if (link && presence) {
    event.preventDefault();
    presence.logout();
  }
});
