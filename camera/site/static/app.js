// Ronda's page: small progressive enhancements; every page works as plain HTML too.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function formatValue(value, format) {
  if (value === null || value === undefined) return "–";
  if (format === "percent") return (100 * value).toFixed(1);
  if (format === "bytes") {
    return value >= 1e9 ? (value / 1e9).toFixed(1) + " GB" : (value / 1e6).toFixed(1) + " MB";
  }
  if (format === "duration") {
    const s = Math.floor(value);
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
  }
  return String(value);
}

function lookup(data, path) {
  return path.split(".").reduce((node, key) => (node == null ? undefined : node[key]), data);
}

async function refreshHealth(section) {
  try {
    const response = await fetch("/api/health", { credentials: "same-origin" });
    if (!response.ok) return;
    const data = await response.json();
    for (const element of section.querySelectorAll("[data-field]")) {
      element.textContent = formatValue(lookup(data, element.dataset.field), element.dataset.format);
    }
  } catch (error) {
    // The camera restarting: keep the last numbers, try again at the next tick.
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const health = document.getElementById("health");
  if (health) {
    const seconds = Number(health.dataset.refresh || 5);
    refreshHealth(health);
    setInterval(() => { if (!document.hidden) refreshHealth(health); }, seconds * 1000);
  }
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  const live = document.getElementById("live");
  const overlay = document.getElementById("overlay");
  if (live && overlay) {
    const source = () => `/live.mjpg?overlay=${overlay.checked ? 1 : 0}`;
    overlay.addEventListener("change", () => { live.src = source(); });
    // A hidden tab stops the stream, so an unwatched page costs the camera nothing.
    document.addEventListener("visibilitychange", () => {
      live.src = document.hidden ? "" : source();
    });
  }
});
