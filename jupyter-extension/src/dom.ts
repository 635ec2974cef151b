/** Tiny DOM helpers: the panels are plain DOM inside Lumino widgets. */

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | EventListener | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(key.replace(/^on/, "").toLowerCase(), value);
    else if (key === "class") el.className = String(value);
    else if (key.startsWith("data-")) el.setAttribute(key, String(value));
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el: HTMLElement, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** A table from rows of cells; the header row is optional. */
export function table(headers: string[] | null, rows: Child[][], className = "ouro-table"): HTMLTableElement {
  const t = h("table", { class: className });
  if (headers) t.append(h("thead", {}, h("tr", {}, ...headers.map((c) => h("th", {}, c)))));
  t.append(h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))));
  return t;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function badge(status: string): HTMLElement {
  return h("span", { class: `ouro-badge ouro-status-${status}`, "data-ouro-status": status }, status);
}

/** replaceChildren that skips null/false (conditional parts). */
export function fill(el: HTMLElement, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}
