// Masks and zones editor: polygons in relative 0..1 coordinates over the current picture.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const NAME = /^[A-Za-z0-9_-]{1,32}$/;

const state = {
  polygons: [],   // {kind: "mask"|"zone", name, points: [[x, y], ...], closed}
  selected: -1,
  drawing: -1,    // index of the polygon being drawn (open)
  drag: null,     // {index, vertex (or -1 for the whole polygon), start, original}
};

function load() {
  const data = JSON.parse(document.getElementById("areas").dataset.areas);
  for (const points of data.masks) state.polygons.push({ kind: "mask", name: "", points, closed: true });
  for (const [name, points] of Object.entries(data.zones)) {
    state.polygons.push({ kind: "zone", name, points, closed: true });
  }
}

function relative(event) {
  const svg = document.getElementById("drawing");
  const box = svg.getBoundingClientRect();
  const clamp = (v) => Math.min(1, Math.max(0, v));
  return [clamp((event.clientX - box.left) / box.width), clamp((event.clientY - box.top) / box.height)];
}

function round(value) { return Math.round(value * 10000) / 10000; }

function draw() {
  const svg = document.getElementById("drawing");
  svg.replaceChildren();
  state.polygons.forEach((polygon, index) => {
    const group = document.createElementNS(SVG, "g");
    group.setAttribute("class", `${polygon.kind}${index === state.selected ? " selected" : ""}`);
    const shape = document.createElementNS(SVG, polygon.closed ? "polygon" : "polyline");
    shape.setAttribute("points", polygon.points.map((p) => p.join(",")).join(" "));
    shape.setAttribute("vector-effect", "non-scaling-stroke");
    shape.dataset.index = index;
    shape.addEventListener("pointerdown", (event) => startDrag(event, index, -1));
    group.appendChild(shape);
    polygon.points.forEach((point, vertex) => {
      const handle = document.createElementNS(SVG, "circle");
      handle.setAttribute("cx", point[0]);
      handle.setAttribute("cy", point[1]);
      handle.setAttribute("r", 0.012);
      handle.setAttribute("class", "handle");
      handle.addEventListener("pointerdown", (event) => {
        if (index === state.drawing && vertex === 0 && polygon.points.length >= 3) {
          event.stopPropagation();
          finish();
          return;
        }
        startDrag(event, index, vertex);
      });
      group.appendChild(handle);
    });
    svg.appendChild(group);
  });
  list();
}

function list() {
  const items = document.getElementById("polygons");
  items.replaceChildren();
  state.polygons.forEach((polygon, index) => {
    const item = document.createElement("li");
    item.className = `${polygon.kind}${index === state.selected ? " selected" : ""}`;
    item.dataset.index = index;
    const title = document.createElement("span");
    title.textContent = polygon.kind === "mask" ? `mask ${state.polygons.slice(0, index).filter((p) => p.kind === "mask").length + 1}` : "zone ";
    item.appendChild(title);
    if (polygon.kind === "zone") {
      const name = document.createElement("input");
      name.value = polygon.name;
      name.placeholder = "name";
      name.setAttribute("aria-label", "zone name");
      name.className = "zone-name";
      name.addEventListener("input", () => { polygon.name = name.value.trim(); });
      item.appendChild(name);
    }
    const points = document.createElement("span");
    points.className = "note";
    points.textContent = ` ${polygon.points.length} corners${polygon.closed ? "" : " (drawing)"}`;
    item.appendChild(points);
    const error = document.createElement("div");
    error.className = "error field-error";
    item.appendChild(error);
    item.addEventListener("click", (event) => {
      if (event.target.tagName !== "INPUT") select(index);
    });
    items.appendChild(item);
  });
  document.getElementById("close-polygon").disabled = state.drawing < 0;
  document.getElementById("delete-polygon").disabled = state.selected < 0;
}

function select(index) { state.selected = index; draw(); }

function begin(kind) {
  if (state.drawing >= 0) finish();
  let name = "";
  if (kind === "zone") {
    const taken = new Set(state.polygons.map((p) => p.name));
    let n = 1;
    while (taken.has(`zone${n}`)) n += 1;
    name = `zone${n}`;
  }
  state.polygons.push({ kind, name, points: [], closed: false });
  state.drawing = state.polygons.length - 1;
  state.selected = state.drawing;
  draw();
}

function finish() {
  const polygon = state.polygons[state.drawing];
  if (polygon) {
    if (polygon.points.length < 3) state.polygons.splice(state.drawing, 1);
    else polygon.closed = true;
  }
  state.drawing = -1;
  state.selected = Math.min(state.selected, state.polygons.length - 1);
  draw();
}

function startDrag(event, index, vertex) {
  if (state.drawing >= 0) return;  // clicks add corners while drawing
  event.stopPropagation();
  event.preventDefault();
  state.selected = index;
  state.drag = {
    index, vertex, start: relative(event),
    original: state.polygons[index].points.map((p) => [...p]),
  };
  draw();
}

function moveDrag(event) {
  const drag = state.drag;
  if (!drag) return;
  const [x, y] = relative(event);
  const polygon = state.polygons[drag.index];
  if (drag.vertex >= 0) {
    polygon.points[drag.vertex] = [round(x), round(y)];
  } else {
    // Move the whole polygon, kept inside the picture.
    const xs = drag.original.map((p) => p[0]), ys = drag.original.map((p) => p[1]);
    const dx = Math.min(1 - Math.max(...xs), Math.max(-Math.min(...xs), x - drag.start[0]));
    const dy = Math.min(1 - Math.max(...ys), Math.max(-Math.min(...ys), y - drag.start[1]));
    polygon.points = drag.original.map((p) => [round(p[0] + dx), round(p[1] + dy)]);
  }
  draw();
}

function addPoint(event) {
  if (state.drawing < 0 || state.drag) return;
  const [x, y] = relative(event);
  state.polygons[state.drawing].points.push([round(x), round(y)]);
  draw();
}

function showErrors(errors) {
  const general = [];
  for (const error of errors) {
    const index = fieldIndex(error.path);
    const item = index === null ? null : document.querySelector(`#polygons li[data-index="${index}"] .field-error`);
    if (item) item.textContent = error.message;
    else general.push(error.message);
  }
  document.getElementById("form-error").textContent = general.join("\n");
}

function fieldIndex(path) {
  // motion.masks.N... or zones.NAME...: the polygon the config model complains about.
  let match = /^motion\.masks\.(\d+)/.exec(path);
  if (match) {
    const masks = state.polygons.map((p, i) => [p, i]).filter(([p]) => p.kind === "mask");
    return masks[Number(match[1])] ? masks[Number(match[1])][1] : null;
  }
  match = /^zones\.([^.]+)/.exec(path);
  if (match) {
    const index = state.polygons.findIndex((p) => p.kind === "zone" && p.name === match[1]);
    return index >= 0 ? index : null;
  }
  return null;
}

async function save() {
  if (state.drawing >= 0) finish();
  document.getElementById("form-error").textContent = "";
  document.getElementById("saved").textContent = "";
  const zones = {};
  const errors = [];
  state.polygons.forEach((polygon) => {
    if (polygon.kind !== "zone") return;
    if (!NAME.test(polygon.name)) {
      errors.push({ path: `zones.${polygon.name}`, message: "a zone name is 1-32 letters, digits, - or _" });
    } else if (polygon.name in zones) {
      errors.push({ path: `zones.${polygon.name}`, message: `two zones are called ${polygon.name}` });
    }
    zones[polygon.name] = polygon.points;
  });
  draw();
  if (errors.length) { showErrors(errors); return; }
  const body = {
    masks: state.polygons.filter((p) => p.kind === "mask").map((p) => p.points),
    zones,
  };
  const response = await fetch("/masks", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: JSON.stringify(body),
  });
  let result = {};
  try { result = await response.json(); } catch (error) { result = {}; }
  if (response.ok && result.ok) {
    document.getElementById("saved").textContent = result.applied ? "Saved and applied." : "Saved.";
  } else {
    showErrors(result.errors || [{ path: "", message: `saving failed (${response.status})` }]);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  load();
  const svg = document.getElementById("drawing");
  svg.addEventListener("click", addPoint);
  window.addEventListener("pointermove", moveDrag);
  window.addEventListener("pointerup", () => { state.drag = null; });
  document.getElementById("new-mask").addEventListener("click", () => begin("mask"));
  document.getElementById("new-zone").addEventListener("click", () => begin("zone"));
  document.getElementById("close-polygon").addEventListener("click", finish);
  document.getElementById("delete-polygon").addEventListener("click", () => {
    if (state.selected < 0) return;
    state.polygons.splice(state.selected, 1);
    state.selected = -1;
    state.drawing = -1;
    draw();
  });
  document.getElementById("save").addEventListener("click", save);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && state.drawing >= 0) finish();
    if (event.key === "Escape" && state.drawing >= 0) { state.polygons.splice(state.drawing, 1); state.drawing = -1; draw(); }
  });
  draw();
});
