// The step graph as SVG: nodes in layers (a node below every node it depends on), top to bottom.

import { h, svg } from "./dom.js";

const WIDTH = 168;
const HEIGHT = 40;
const GAP_X = 24;
const GAP_Y = 36;

function layers(nodes, edges) {
  const parents = new Map(nodes.map((node) => [node.name, []]));
  for (const [from, to] of edges) parents.get(to)?.push(from);
  const depth = new Map();
  const visiting = new Set();
  const depthOf = (name) => {
    if (depth.has(name)) return depth.get(name);
    if (visiting.has(name)) return 0; // a cycle: cut it
    visiting.add(name);
    const value = Math.max(-1, ...parents.get(name).map(depthOf)) + 1;
    visiting.delete(name);
    depth.set(name, value);
    return value;
  };
  const rows = [];
  for (const node of nodes) {
    const d = depthOf(node.name);
    (rows[d] ||= []).push(node);
  }
  return rows.filter(Boolean);
}

function shorten(text, max = 22) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function drawGraph(graph, onSelect, selected) {
  const nodes = graph.nodes || [];
  if (!nodes.length) return h("p", { class: "muted" }, "No steps are known for this run yet.");
  const rows = layers(nodes, graph.edges || []);
  const widest = Math.max(...rows.map((row) => row.length));
  const width = widest * (WIDTH + GAP_X) + GAP_X;
  const height = rows.length * (HEIGHT + GAP_Y) + GAP_Y;
  const position = new Map();
  rows.forEach((row, r) => {
    const offset = (width - row.length * (WIDTH + GAP_X) + GAP_X) / 2;
    row.forEach((node, i) => position.set(node.name, { x: offset + i * (WIDTH + GAP_X), y: GAP_Y / 2 + r * (HEIGHT + GAP_Y) }));
  });
  const edges = (graph.edges || []).filter(([a, b]) => position.has(a) && position.has(b)).map(([a, b]) => {
    const p = position.get(a);
    const q = position.get(b);
    const x1 = p.x + WIDTH / 2;
    const y1 = p.y + HEIGHT;
    const x2 = q.x + WIDTH / 2;
    const y2 = q.y;
    const mid = (y1 + y2) / 2;
    return svg("path", { d: `M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2 - 4}`, class: "edge", "marker-end": "url(#arrow)" });
  });
  const boxes = nodes.map((node) => {
    const { x, y } = position.get(node.name);
    const label = `Step ${node.name}: ${node.state}${node.jobs.length > 1 ? `, ${node.jobs.length} jobs` : ""}`;
    const group = svg("g", {
      class: `node state-${node.state}${selected === node.name ? " selected" : ""}`,
      transform: `translate(${x},${y})`, tabindex: "0", role: "button", "aria-label": label,
      "data-step": node.name,
    },
    svg("title", {}, label),
    svg("rect", { width: WIDTH, height: HEIGHT, rx: 8 }),
    svg("circle", { cx: 16, cy: HEIGHT / 2, r: 6, class: "dot" }),
    svg("text", { x: 30, y: HEIGHT / 2 + 5 }, shorten(node.name)));
    const choose = () => onSelect && onSelect(node);
    group.addEventListener("click", choose);
    group.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        choose();
      }
    });
    return group;
  });
  return h("div", { class: "graph-scroll" },
    svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "graph", role: "group", "aria-label": "Steps of the run" },
      svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 8, refY: 5, markerWidth: 8, markerHeight: 8, orient: "auto-start-reverse" },
        svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow" }))),
      edges, boxes),
    graph.truncated && h("p", { class: "muted" }, "Only the first steps are drawn."));
}
