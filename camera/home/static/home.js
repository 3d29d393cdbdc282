// The home page refreshes its own content every few seconds (no video: only the cards and the
// timeline, as the server renders them), and only while the tab is visible.
"use strict";

async function refreshHome(section) {
  try {
    const response = await fetch("/", { credentials: "same-origin" });
    if (!response.ok || response.redirected) return;
    const html = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = html.getElementById("home");
    if (fresh && !section.contains(document.activeElement)) section.replaceWith(fresh);
  } catch (error) {
    // The home page restarting: keep what is shown, try again at the next tick.
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const seconds = Number((document.getElementById("home") || {}).dataset?.refresh || 5);
  setInterval(() => {
    const section = document.getElementById("home");
    if (section && !document.hidden) refreshHome(section);
  }, seconds * 1000);
});
