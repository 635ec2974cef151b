import { deployVersion, setAlias } from "../actions";
import { barChart, formatNumber } from "../chart";
import { describeError, type OuroConnection } from "../connection";
import { h, table, when, fill } from "../dom";
import { DatasetOfVersionDocument, ModelOfVersionDocument, ModelPanelDocument, ModelVersionLineageDocument, type ModelPanelQuery } from "../generated/graphql";
import { lineageGraphElement, type LineageNode } from "./lineage";
import { OuroPanel, type OuroItem } from "./panel";

type Model = ModelPanelQuery["model"];
type Version = Model["versions"][number];

/** Lineage kinds that open a view of their own. */
const OPENABLE = new Set(["datasetVersion", "run", "modelVersion", "deployment", "featureSet"]);

/**
 * A registered model: versions with their metrics, who holds which alias, alias moves, and the
 * lineage of the selected version (dataset version → recipe → run → model version → deployments),
 * whose nodes open their own views.
 */
export class ModelView extends OuroPanel {
  private model: Model | null = null;
  private selectedVersionId: string | null = null;
  private readonly lineageBox = h("div", { class: "ouro-lineage-box", "data-ouro-lineage": "" });
  private lineageRequest = 0;

  constructor(connection: OuroConnection, modelId: string, label: string, private readonly open: (item: OuroItem) => void) {
    super(connection, { kind: "model", id: modelId, label });
  }

  protected async load(): Promise<void> {
    const { model } = await this.client.request(ModelPanelDocument, { id: this.item.id }, { signal: this.signal });
    this.item.projectId = model.projectId;
    this.title.label = `Model ${model.name}`;
    this.model = model;
    if (!model.versions.some((v) => v.id === this.selectedVersionId)) this.selectedVersionId = model.versions[0]?.id ?? null;
    this.render(model);
    void this.showLineage();
  }

  /** Selects a version (from the table, or from a lineage node of this model) and draws its lineage. */
  selectVersion(versionId: string): void {
    if (!this.model?.versions.some((v) => v.id === versionId)) return;
    this.selectedVersionId = versionId;
    this.render(this.model);
    void this.showLineage();
  }

  private render(model: Model): void {
    const aliasesOf = (versionId: string) => model.aliases.filter((a) => a.modelVersionId === versionId).map((a) => a.alias);
    const metricKeys = [...new Set(model.versions.flatMap((v) => Object.keys(v.metrics)))].filter((k) => model.versions.some((v) => typeof v.metrics[k] === "number")).sort();
    fill(this.header, 
      h("div", { class: "ouro-title" }, h("span", { class: "ouro-kind" }, "Model"), h("strong", {}, model.name)),
      h("div", { class: "ouro-meta" }, model.description || `${model.versions.length} version(s)`),
    );
    const versionsTable = table(
      ["version", "aliases", "created", ...metricKeys, "", ""],
      model.versions.map((v) => [
        h("strong", {}, `v${v.version}`),
        aliasesOf(v.id).map((a) => `@${a}`).join(" ") || "–",
        when(v.createdAt),
        ...metricKeys.map((k) => formatNumber(v.metrics[k])),
        v.runId ? h("a", { href: "#", onclick: (e: Event) => (e.preventDefault(), this.open({ kind: "run", id: v.runId!, label: `run of v${v.version}`, projectId: model.projectId })) }, "run") : "–",
        h(
          "span",
          { class: "ouro-actions" },
          h("button", { class: "jp-mod-styled", "data-ouro-action": "lineage", title: "Show where this version came from and where it serves", onclick: () => this.selectVersion(v.id) }, "Lineage"),
          h("button", { class: "jp-mod-styled", "data-ouro-action": "alias", onclick: () => void this.alias(model, v) }, "Set alias…"),
          h("button", { class: "jp-mod-styled jp-mod-accept", "data-ouro-action": "deploy", onclick: () => void this.deploy(model, v) }, "Deploy…"),
        ),
      ]),
      "ouro-table ouro-versions",
    );
    // Rows carry their version id, and the selected one is marked.
    versionsTable.querySelectorAll("tbody tr").forEach((tr, i) => {
      const v = model.versions[i];
      tr.setAttribute("data-ouro-version-id", v.id);
      if (v.id === this.selectedVersionId) tr.classList.add("ouro-row-selected");
    });
    const selected = model.versions.find((v) => v.id === this.selectedVersionId);
    const first = metricKeys[0];
    fill(this.body, 
      h("h3", {}, "Versions"),
      model.versions.length ? versionsTable : h("div", { class: "ouro-empty" }, "No versions registered yet."),
      first && model.versions.length > 1
        ? h("div", { class: "ouro-version-bars" }, h("h3", {}, first), barChart([...model.versions].reverse().map((v) => ({ label: `v${v.version}`, count: Number(v.metrics[first]) || 0 })), `${first} per version, oldest first`))
        : null,
      selected ? h("h3", {}, `Lineage of v${selected.version}`) : null,
      selected ? h("div", { class: "ouro-meta" }, "Where this version came from and where it serves. Click a box to open it.") : null,
      selected ? this.lineageBox : null,
      h("h3", {}, "Alias history"),
      model.aliases.length ? table(["alias", "version", "since"], model.aliases.map((a) => [a.alias, `v${model.versions.find((v) => v.id === a.modelVersionId)?.version ?? "?"}`, when(a.createdAt)])) : h("div", { class: "ouro-empty" }, "No aliases yet."),
    );
  }

  private async showLineage(): Promise<void> {
    const versionId = this.selectedVersionId;
    if (!versionId) return;
    const request = ++this.lineageRequest;
    this.lineageBox.dataset.ouroLineage = "loading";
    fill(this.lineageBox, h("div", { class: "ouro-loading" }, "Loading lineage…"));
    try {
      const { lineage } = await this.client.request(ModelVersionLineageDocument, { id: versionId }, { signal: this.signal });
      if (request !== this.lineageRequest || this.isDisposed) return;
      fill(
        this.lineageBox,
        h("div", { class: "ouro-scroll" }, lineageGraphElement(lineage, versionId, (node) => void this.openNode(node), (kind) => OPENABLE.has(kind))),
        lineage.truncated ? h("div", { class: "ouro-meta" }, "The project's lineage graph is large: only part of it was loaded.") : null,
      );
      this.lineageBox.dataset.ouroLineage = versionId;
    } catch (err) {
      if (request !== this.lineageRequest || this.signal.aborted) return;
      fill(this.lineageBox, h("div", { class: "ouro-error", "data-ouro-error": "lineage" }, `Lineage could not be loaded: ${describeError(err, "This model version")}`));
      this.lineageBox.dataset.ouroLineage = "error";
    }
  }

  /** Lineage nodes name versions; their views show the dataset or model the version belongs to. */
  private async openNode(node: LineageNode): Promise<void> {
    const projectId = this.item.projectId;
    try {
      switch (node.kind) {
        case "datasetVersion": {
          const { datasetVersion } = await this.client.request(DatasetOfVersionDocument, { id: node.id });
          this.open({ kind: "dataset", id: datasetVersion.datasetId, label: node.label.replace(/ v\d+$/, ""), projectId });
          return;
        }
        case "modelVersion": {
          const { modelVersion } = await this.client.request(ModelOfVersionDocument, { id: node.id });
          if (modelVersion.modelId === this.item.id) this.selectVersion(modelVersion.id);
          else this.open({ kind: "model", id: modelVersion.modelId, label: node.label.replace(/ v\d+$/, ""), projectId });
          return;
        }
        case "run":
        case "deployment":
        case "featureSet":
          this.open({ kind: node.kind, id: node.id, label: node.label, projectId });
          return;
      }
    } catch (err) {
      this.setMessage(`Cannot open ${node.label}: ${describeError(err, node.label)}`, "error");
    }
  }

  private async deploy(model: Model, version: Version): Promise<void> {
    const deployment = await deployVersion(this.connection, model, version);
    if (deployment) this.open({ kind: "deployment", id: deployment.id, label: deployment.name, projectId: model.projectId });
  }

  private async alias(model: Model, version: Version): Promise<void> {
    if (await setAlias(this.connection, model.name, version)) await this.load().catch((err) => this.fail(err));
  }
}
