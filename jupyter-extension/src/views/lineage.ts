/**
 * A model version's lineage as a small left-to-right graph: what it came from (dataset
 * versions, recipes, the training run) and what uses it (deployments). The server's `lineage`
 * answers the whole connected component, which in a busy project reaches every sibling
 * model through the shared dataset; the view keeps only the ancestors and descendants of the
 * version, so the picture answers "where did this model come from, and where does it serve".
 */
import type { ModelVersionLineageQuery } from "../generated/graphql";

export type LineageGraph = ModelVersionLineageQuery["lineage"];
export type LineageNode = LineageGraph["nodes"][number];

const SVG = "http://www.w3.org/2000/svg";
const BOX_W = 146;
const BOX_H = 42;
const COL_GAP = 72;
const ROW_GAP = 14;
const PAD = 8;

const KIND_LABEL: Record<string, string> = {
  datasetVersion: "dataset version",
  recipe: "recipe",
  run: "run",
  modelVersion: "model version",
  deployment: "deployment",
  featureSet: "feature set",
  pipelineRun: "pipeline run",
};

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(typeof c === "string" ? document.createTextNode(c) : c);
  return el;
}

/** Ancestors and descendants of `focus` (and itself), with the edges between them. */
export function focusLineage(graph: LineageGraph, focus: string): { nodes: LineageNode[]; edges: LineageGraph["edges"] } {
  const walk = (next: (id: string) => string[]) => {
    const seen = new Set<string>();
    const queue = [focus];
    while (queue.length) {
      for (const id of next(queue.shift()!)) {
        if (seen.has(id) || id === focus) continue;
        seen.add(id);
        queue.push(id);
      }
    }
    return seen;
  };
  const up = walk((id) => graph.edges.filter((e) => e.to === id).map((e) => e.from));
  const down = walk((id) => graph.edges.filter((e) => e.from === id).map((e) => e.to));
  const keep = new Set([focus, ...up, ...down]);
  // An edge between two ancestors is kept (e.g. dataset → recipe → run), but not one from an
  // ancestor to a sibling branch: both ends must be in the focused set, and the edge must
  // point along the flow (ancestor → ancestor/focus, or focus/descendant → descendant).
  const edges = graph.edges.filter((e) => keep.has(e.from) && keep.has(e.to) && !(down.has(e.from) && up.has(e.to)) && !(up.has(e.from) && down.has(e.to)));
  return { nodes: graph.nodes.filter((n) => keep.has(n.id)), edges };
}

/** Layer = longest path from a source, so every edge points right. */
function layers(nodes: LineageNode[], edges: { from: string; to: string }[]): Map<string, number> {
  const layer = new Map(nodes.map((n) => [n.id, 0]));
  for (let pass = 0; pass < nodes.length; pass++) {
    let changed = false;
    for (const e of edges) {
      const want = (layer.get(e.from) ?? 0) + 1;
      if (layer.has(e.to) && want > layer.get(e.to)!) {
        layer.set(e.to, want);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return layer;
}

const shorten = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * The SVG drawing. Nodes with a view of their own (dataset versions, runs, model versions,
 * deployments, feature sets) are links: clicking or Enter calls `onOpen`.
 */
export function lineageGraphElement(graph: LineageGraph, focus: string, onOpen: (node: LineageNode) => void, openable: (kind: string) => boolean): SVGSVGElement {
  const { nodes, edges } = focusLineage(graph, focus);
  const layer = layers(nodes, edges);
  const columns = new Map<number, LineageNode[]>();
  for (const n of [...nodes].sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
    const l = layer.get(n.id) ?? 0;
    columns.set(l, [...(columns.get(l) ?? []), n]);
  }
  const rows = Math.max(1, ...[...columns.values()].map((c) => c.length));
  const cols = Math.max(1, ...[...columns.keys()].map((k) => k + 1));
  const height = PAD * 2 + rows * BOX_H + (rows - 1) * ROW_GAP;
  const width = PAD * 2 + cols * BOX_W + (cols - 1) * COL_GAP;
  const pos = new Map<string, { x: number; y: number }>();
  for (const [l, column] of columns) {
    // Centre short columns vertically.
    const offset = ((rows - column.length) * (BOX_H + ROW_GAP)) / 2;
    column.forEach((n, i) => pos.set(n.id, { x: PAD + l * (BOX_W + COL_GAP), y: PAD + offset + i * (BOX_H + ROW_GAP) }));
  }
  const root = svg("svg", { class: "ouro-lineage", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "lineage graph" });
  root.append(svg("defs", {}, svg("marker", { id: "ouro-arrow", viewBox: "0 0 8 8", refX: 8, refY: 4, markerWidth: 7, markerHeight: 7, orient: "auto" }, svg("path", { d: "M0,0 L8,4 L0,8 z", class: "ouro-lineage-arrowhead" }))));
  for (const e of edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (!a || !b) continue;
    const x1 = a.x + BOX_W;
    const y1 = a.y + BOX_H / 2;
    const x2 = b.x;
    const y2 = b.y + BOX_H / 2;
    const mid = (x1 + x2) / 2;
    root.append(
      svg(
        "g",
        { class: "ouro-lineage-edge", "data-ouro-relation": e.relation },
        svg("title", {}, e.relation),
        svg("path", { d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, "marker-end": "url(#ouro-arrow)" }),
        svg("text", { x: mid, y: (y1 + y2) / 2 - 3, "text-anchor": "middle" }, e.relation),
      ),
    );
  }
  for (const n of nodes) {
    const p = pos.get(n.id)!;
    const link = openable(n.kind) && n.id !== focus;
    const g = svg(
      "g",
      {
        class: `ouro-lineage-node ouro-lineage-${n.kind}${n.id === focus ? " ouro-lineage-focus" : ""}${link ? " ouro-lineage-link" : ""}`,
        transform: `translate(${p.x},${p.y})`,
        "data-ouro-lineage-kind": n.kind,
        "data-ouro-lineage-id": n.id,
      },
      svg("title", {}, `${KIND_LABEL[n.kind] ?? n.kind}: ${n.label}${link ? " (click to open)" : ""}`),
      svg("rect", { width: BOX_W, height: BOX_H, rx: 5 }),
      svg("text", { x: 8, y: 15, class: "ouro-lineage-kind" }, KIND_LABEL[n.kind] ?? n.kind),
      svg("text", { x: 8, y: 32, class: "ouro-lineage-label" }, shorten(n.label, 22)),
    );
    if (link) {
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "link");
      g.addEventListener("click", () => onOpen(n));
      g.addEventListener("keydown", (ev) => {
        if ((ev as KeyboardEvent).key === "Enter") onOpen(n);
      });
    }
    root.append(g);
  }
  return root;
}
