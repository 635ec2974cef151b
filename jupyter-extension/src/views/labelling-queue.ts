/**
 * The labelling queue of the labelling panel: one row at a time as a card, the label control
 * for the task's schema, and the keyboard shortcuts. Rows come from nextLabellingItems (which
 * reserves them for the current user), a few ahead of the card, so the next row shows as soon
 * as a label is stored. The rows seen in this panel stay in memory, so ← goes back to them and
 * labelling one again replaces the stored answer.
 */
import type { OuroClient } from "@ouro/client-sdk";
import { formatNumber } from "../chart";
import { describeError, isNotFound } from "../connection";
import { h, fill } from "../dom";
import { LabellingPanelNextDocument, LabellingPanelSkipDocument, LabellingPanelSubmitDocument, type LabellingPanelNextMutation, type LabelValueInput } from "../generated/graphql";

type Item = LabellingPanelNextMutation["nextLabellingItems"][number];
export type LabelValue = string | string[] | number;
type Answer = { value: LabelValue } | { skipped: true };
export interface LabelSchema {
  kind: "classes" | "multiLabel" | "numeric";
  classes: string[] | null;
  min: number | null;
  max: number | null;
}

export interface QueueHost {
  readonly client: OuroClient;
  readonly signal: AbortSignal;
  /** The panel's node: the keys are heard there, and it gets the focus back after a re-render. */
  readonly focusNode: HTMLElement;
  /** The task or the row is gone: the panel replaces its body. */
  notFound(err: unknown): void;
}

/** Rows kept ready beyond the card. */
const AHEAD = 3;
const BATCH = 10;

export const SHORTCUTS: [string, string][] = [
  ["1 – 9", "choose a class (classes: stores it and moves on; multi-label: toggles it)"],
  ["Enter", "submit (multi-label, number); on a row you already labelled, keep it and move on"],
  ["S or →", "skip the row (on a row you already labelled: keep the label and move on)"],
  ["←", "back to the previous row, to label it again"],
  ["Esc", "leave the number field, so the keys work again; close this help"],
  ["?", "show or hide this help"],
];

export class LabellingQueue {
  readonly node = h("div", { class: "ouro-lq", "data-ouro-queue": "" });
  private readonly items: Item[] = [];
  private readonly answers = new Map<string, Answer>();
  private pos = 0;
  /** The server had no more rows for us the last time we asked. */
  private exhausted = false;
  private fetching: Promise<void> | null = null;
  /** Actions run one after the other, in the order the keys were pressed. */
  private chain: Promise<void> = Promise.resolve();
  /** Bumped when an action fails: the keys pressed after it are dropped, not applied to the wrong row. */
  private epoch = 0;
  private draft = new Set<string>();
  private pending: LabelValue | null = null;
  private notice: { text: string; level: "error" | "info" } | null = null;
  private readonly help = h("div", { class: "ouro-lq-help", "data-ouro-help": "", hidden: true });

  constructor(private readonly host: QueueHost, private readonly taskId: string, private readonly schema: LabelSchema) {
    this.help.append(
      h("div", { class: "ouro-lq-help-box", role: "dialog", "aria-label": "Keyboard shortcuts" },
        h("h3", {}, "Keyboard shortcuts"),
        h("table", { class: "ouro-table" }, h("tbody", {}, ...SHORTCUTS.map(([k, what]) => h("tr", {}, h("td", {}, h("kbd", {}, k)), h("td", {}, what))))),
        h("p", { class: "ouro-hint" }, "The keys work while this panel has the focus (click it), not while you type in a field or work in a notebook."),
        h("button", { class: "jp-mod-styled", "data-ouro-action": "close-help", onclick: () => this.toggleHelp(false) }, "Close"),
      ),
    );
  }

  get current(): Item | null {
    return this.items[this.pos] ?? null;
  }

  /** The panel attaches the overlay itself (it covers the whole panel). */
  get helpNode(): HTMLElement {
    return this.help;
  }

  async start(): Promise<void> {
    await this.fetchMore();
    this.render();
  }

  toggleHelp(show = this.help.hidden): void {
    this.help.hidden = !show;
    this.host.focusNode.dataset.ouroHelpState = show ? "open" : "closed";
  }

  /** Keys from the panel. True when the key was ours (the caller then stops it). */
  handleKey(e: KeyboardEvent): boolean {
    if (e.ctrlKey || e.metaKey || e.altKey) return false;
    const target = e.target as HTMLElement;
    if (target.closest("input, textarea, select, [contenteditable='true']")) return false;
    if (target.tagName === "BUTTON" && (e.key === "Enter" || e.key === " ")) return false;
    if (e.key === "?") {
      this.toggleHelp();
      return true;
    }
    if (e.key === "Escape" && !this.help.hidden) {
      this.toggleHelp(false);
      return true;
    }
    const item = this.current;
    const classes = this.schema.classes ?? [];
    if (/^[1-9]$/.test(e.key)) {
      const chosen = classes[Number(e.key) - 1];
      if (this.schema.kind === "numeric") {
        // Typing a number starts in the number field (the digit goes there with the focus).
        this.focusNumber();
        return false;
      }
      if (!item || !chosen) return true;
      if (this.schema.kind === "classes") this.act(() => this.submit(chosen));
      else this.act(async () => this.toggle(chosen));
      return true;
    }
    if (e.key === "Enter") {
      if (!item) return false;
      if (this.schema.kind === "multiLabel") this.act(() => this.submit(classes.filter((c) => this.draft.has(c))));
      else if (this.schema.kind === "numeric") this.focusNumber();
      else if (this.answers.has(item.id)) this.act(async () => this.move(1));
      return true;
    }
    if (e.key === "s" || e.key === "S" || e.key === "ArrowRight") {
      if (item) this.act(() => (this.answers.has(item.id) ? this.move(1) : this.skip()));
      return true;
    }
    if (e.key === "ArrowLeft") {
      this.act(async () => this.move(-1));
      return true;
    }
    return false;
  }

  private act(action: () => Promise<void> | void): void {
    const epoch = this.epoch;
    this.chain = this.chain.then(async () => {
      if (epoch !== this.epoch || this.host.signal.aborted) return;
      await action();
    });
  }

  private toInput(value: LabelValue): LabelValueInput {
    if (this.schema.kind === "classes") return { class: value as string };
    if (this.schema.kind === "multiLabel") return { classes: value as string[] };
    return { number: value as number };
  }

  private async submit(value: LabelValue): Promise<void> {
    const item = this.current;
    if (!item) return;
    this.pending = value;
    this.render();
    try {
      await this.host.client.request(LabellingPanelSubmitDocument, { itemId: item.id, value: this.toInput(value) }, { signal: this.host.signal });
    } catch (err) {
      return this.refused(err, "Not saved");
    }
    this.answers.set(item.id, { value });
    await this.move(1);
  }

  private async skip(): Promise<void> {
    const item = this.current;
    if (!item) return;
    try {
      await this.host.client.request(LabellingPanelSkipDocument, { itemId: item.id }, { signal: this.host.signal });
    } catch (err) {
      return this.refused(err, "Not skipped");
    }
    this.answers.set(item.id, { skipped: true });
    await this.move(1);
  }

  /** The server said no: the card stays on the row, with the choice still shown, and says why. */
  private refused(err: unknown, what: string): void {
    this.epoch++;
    if (this.host.signal.aborted) return;
    if (isNotFound(err)) return this.host.notFound(err);
    this.notice = { text: `${what}: ${describeError(err, "This row")}. Your choice is kept on the card: try again, or press S to skip the row.`, level: "error" };
    this.render();
  }

  private toggle(chosen: string): void {
    if (this.draft.has(chosen)) this.draft.delete(chosen);
    else this.draft.add(chosen);
    this.render();
  }

  private async move(step: 1 | -1): Promise<void> {
    const to = this.pos + step;
    if (to < 0) {
      this.notice = { text: "This is the first row labelled in this panel.", level: "info" };
      return this.render();
    }
    this.pos = Math.min(to, this.items.length);
    this.pending = null;
    this.notice = null;
    this.draft = new Set(this.previousClasses());
    if (this.pos >= this.items.length && !this.exhausted) await this.fetchMore();
    this.render();
    // Keep a few rows ready behind the card.
    if (this.items.length - this.pos <= AHEAD && !this.exhausted) void this.fetchMore().then(() => this.pos >= this.items.length - 1 && this.render());
  }

  private previousClasses(): string[] {
    const answer = this.current ? this.answers.get(this.current.id) : undefined;
    return answer && "value" in answer && Array.isArray(answer.value) ? answer.value : [];
  }

  private fetchMore(): Promise<void> {
    this.fetching ??= (async () => {
      try {
        const { nextLabellingItems } = await this.host.client.request(LabellingPanelNextDocument, { taskId: this.taskId, limit: BATCH }, { signal: this.host.signal });
        // Our unanswered reservations come back first: those we hold already are not added twice.
        const known = new Set(this.items.map((i) => i.id));
        const fresh = nextLabellingItems.filter((i) => !known.has(i.id));
        this.items.push(...fresh);
        this.exhausted = fresh.length === 0;
      } catch (err) {
        if (this.host.signal.aborted) return;
        if (isNotFound(err)) return this.host.notFound(err);
        this.notice = { text: `Could not load more rows: ${describeError(err, "This labelling task")}`, level: "error" };
        this.exhausted = true;
      } finally {
        this.fetching = null;
      }
    })();
    return this.fetching;
  }

  /** "Check again" at the end of the queue: rows others held may have come free. */
  private async again(): Promise<void> {
    this.exhausted = false;
    this.notice = null;
    await this.fetchMore();
    this.render();
  }

  render(): void {
    if (this.host.signal.aborted) return;
    const panel = this.host.focusNode;
    const hadFocus = panel.contains(document.activeElement);
    const item = this.current;
    const notice = this.notice ? h("div", { class: this.notice.level === "error" ? "ouro-error" : "ouro-empty", "data-ouro-notice": this.notice.level }, this.notice.text) : null;
    if (!item) {
      const labelled = [...this.answers.values()].filter((a) => "value" in a).length;
      fill(
        this.node,
        notice,
        h(
          "div",
          { class: "ouro-lq-done", "data-ouro-queue-state": "done" },
          h("strong", {}, "Nothing left to label for you."),
          h("div", { class: "ouro-meta" }, `${labelled} row(s) labelled in this panel. ${this.items.length ? "← goes back to them." : ""}`),
          h("button", { class: "jp-mod-styled", "data-ouro-action": "check-again", onclick: () => this.act(() => this.again()) }, "Check again"),
        ),
      );
    } else {
      const answer = this.answers.get(item.id);
      const given = this.pending ?? (answer && "value" in answer ? answer.value : null);
      const state = answer ? ("skipped" in answer ? "You skipped this row. Label it now, or press → to move on." : "You labelled this row. Choose again to change the label, or press → to keep it.") : null;
      fill(
        this.node,
        h(
          "div",
          { class: "ouro-lq-card", "data-ouro-item": item.id, "data-ouro-row": item.rowIndex ?? item.requestId ?? "", "data-ouro-state": answer ? ("skipped" in answer ? "skipped" : "labelled") : this.pending !== null ? "pending" : "open" },
          h(
            "div",
            { class: "ouro-lq-where" },
            h("span", {}, item.rowIndex !== null ? `Row ${formatNumber(item.rowIndex)}` : `Request ${item.requestId}`),
            h("span", {}, `queue #${item.position + 1}`),
            item.score !== null ? h("span", {}, `score ${formatNumber(item.score)}`) : null,
            h("span", {}, `${this.pos + 1} of ${this.items.length} fetched`),
          ),
          h("dl", { class: "ouro-lq-fields" }, ...Object.entries(item.values).flatMap(([k, v]) => [h("dt", {}, k), h("dd", { class: v === null ? "ouro-lq-null" : "" }, showValue(v))])),
          item.prediction !== null && item.prediction !== undefined ? h("div", { class: "ouro-lq-hint" }, "Prediction: ", showValue(item.prediction)) : null,
        ),
        state ? h("div", { class: "ouro-meta", "data-ouro-answered": "" }, state) : null,
        notice,
        this.controls(given),
      );
    }
    if (hadFocus && !panel.contains(document.activeElement)) panel.focus({ preventScroll: true });
  }

  private controls(given: LabelValue | null): HTMLElement {
    const classes = this.schema.classes ?? [];
    if (this.schema.kind === "numeric") {
      const input = h("input", { type: "number", class: "ouro-lq-number", step: "any", min: this.schema.min ?? undefined, max: this.schema.max ?? undefined, placeholder: `${this.schema.min} … ${this.schema.max}`, "aria-label": "Label (a number)" });
      if (typeof given === "number") input.value = String(given);
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          e.stopPropagation();
          const n = input.value.trim() === "" ? NaN : Number(input.value);
          if (!Number.isFinite(n)) {
            this.notice = { text: "Type a number first.", level: "error" };
            this.render();
            this.focusNumber();
            return;
          }
          this.act(async () => {
            await this.submit(n);
            this.focusNumber();
          });
        } else if (e.key === "Escape") {
          e.preventDefault();
          this.host.focusNode.focus();
        }
      });
      return h("div", { class: "ouro-lq-controls" }, input, h("button", { class: "jp-mod-styled jp-mod-accept", "data-ouro-action": "submit", onclick: () => input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" })) }, "Submit ⏎"), this.navButtons());
    }
    const multi = this.schema.kind === "multiLabel";
    const chosen = (c: string) => (multi ? this.draft.has(c) : given === c);
    return h(
      "div",
      { class: "ouro-lq-controls" },
      h(
        "div",
        { class: "ouro-lq-classes", role: multi ? "group" : "radiogroup" },
        ...classes.map((c, i) =>
          h(
            "button",
            {
              class: `jp-mod-styled ouro-lq-class${chosen(c) ? " ouro-lq-chosen" : ""}`,
              "data-ouro-class": c,
              "aria-pressed": chosen(c) ? "true" : "false",
              title: i < 9 ? `Key ${i + 1}` : undefined,
              onclick: () => this.act(() => (multi ? this.toggle(c) : this.submit(c))),
            },
            i < 9 ? h("kbd", {}, String(i + 1)) : null,
            c,
          ),
        ),
      ),
      multi ? h("button", { class: "jp-mod-styled jp-mod-accept", "data-ouro-action": "submit", onclick: () => this.act(() => this.submit(classes.filter((c) => this.draft.has(c)))) }, "Submit ⏎") : null,
      this.navButtons(),
    );
  }

  private navButtons(): HTMLElement {
    return h(
      "div",
      { class: "ouro-lq-nav" },
      h("button", { class: "jp-mod-styled", "data-ouro-action": "back", disabled: this.pos === 0, onclick: () => this.act(() => this.move(-1)) }, "← Back"),
      h("button", { class: "jp-mod-styled", "data-ouro-action": "skip", onclick: () => this.act(() => (this.current && this.answers.has(this.current.id) ? this.move(1) : this.skip())) }, "Skip (S) →"),
      h("button", { class: "jp-mod-styled", "data-ouro-action": "help", title: "Keyboard shortcuts (?)", onclick: () => this.toggleHelp() }, "?"),
    );
  }

  private focusNumber(): void {
    this.node.querySelector<HTMLInputElement>(".ouro-lq-number")?.focus();
  }
}

function showValue(v: unknown): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}
